// Vite build of the window (renderer/ → renderer/dist). Vite compiles TSX itself (oxc, React's
// automatic JSX runtime), so no React plugin is needed. The output has no inline scripts or styles,
// so it runs under the strict Content-Security-Policy of Electron and of web mode.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: false,
    // One CSS file, no inline <style>; no modulepreload polyfill (an inline-free build).
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
});
