#!/usr/bin/env node
// Bundles the Electron main process and its preload (main/electron/*.ts, with main/ and core/)
// into out/electron/{main,preload}.cjs with esbuild: Electron runs neither TypeScript nor, for a
// sandboxed preload, ES modules. `electron` stays external (the Electron runtime provides it).
// Usage: node scripts/build-electron.mjs [outDir]
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds both bundles into `outDir` (default out/electron); resolves with the main bundle's path. */
export async function buildElectron(outDir = join(root, 'out', 'electron')) {
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    sourcemap: 'linked',
    logLevel: 'warning',
  };
  await build({
    ...common,
    entryPoints: [join(root, 'main/electron/main.ts')],
    outfile: join(outDir, 'main.cjs'),
  });
  await build({
    ...common,
    entryPoints: [join(root, 'main/electron/preload.ts')],
    outfile: join(outDir, 'preload.cjs'),
  });
  return join(outDir, 'main.cjs');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildElectron(process.argv[2]);
  console.log(`quicscope: Electron bundle in ${out}`);
}
