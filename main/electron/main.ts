/**
 * The Electron main process of the desktop app. One window, locked down: contextIsolation on,
 * nodeIntegration off, sandbox on, a strict Content-Security-Policy on every page response (the
 * window is served from the privileged `app://quicscope/` scheme out of renderer/dist), all
 * navigation, redirects, new windows, webviews and permission requests refused. The preload
 * exposes only the contract; ipcMain runs it on the same SessionManager as web mode
 * (main/ipc/dispatch.ts). Exports go through a native save dialog; recent targets live in the
 * user-data folder. Started by `npm start` (scripts/start.mjs bundles this file with esbuild).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { IPC_CHANNELS } from '../ipc/contract.ts';
import type { ExportResult, RequestOutcome } from '../ipc/contract.ts';
import { Dispatcher } from '../ipc/dispatch.ts';
import type { ExportFile } from '../session/exports.ts';
import { SessionManager } from '../session/manager.ts';
import type { BrowserWindow, ElectronMain } from './electron-api.ts';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- see electron-api.ts
const electron = require('electron') as ElectronMain;
const { app, BrowserWindow: Window, ipcMain, dialog, protocol, session } = electron;

/** The repository (or packaged app) root: renderer/dist and the bundle live under it. */
const ROOT = process.env.QUICSCOPE_ROOT ?? join(__dirname, '..', '..');
const RENDERER = join(ROOT, 'renderer', 'dist');
const ORIGIN = 'app://quicscope';

/** The window's Content-Security-Policy: its own scripts and styles only; it talks to main over IPC only. */
export const ELECTRON_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Serves app://quicscope/<path> from renderer/dist, never outside it, with the CSP. */
async function serveApp(url: string): Promise<Response> {
  const u = new URL(url);
  const headers = { 'Content-Security-Policy': ELECTRON_CSP, 'X-Content-Type-Options': 'nosniff' };
  if (u.host !== 'quicscope') return new Response('not found', { status: 404, headers });
  const path = normalize(join(RENDERER, decodeURIComponent(u.pathname === '/' ? '/index.html' : u.pathname)));
  if (!path.startsWith(RENDERER + sep)) return new Response('forbidden', { status: 403, headers });
  try {
    const body = await readFile(path);
    return new Response(body, {
      status: 200,
      headers: {
        ...headers,
        'Content-Type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      },
    });
  } catch {
    return new Response('not found', { status: 404, headers });
  }
}

/** Saves an export where the user says (native dialog). */
async function saveExport(file: ExportFile): Promise<ExportResult> {
  const base = { fileName: file.fileName, mimeType: file.mimeType, size: file.data.length, bytes: null };
  const ext = extname(file.fileName).slice(1);
  const r = await dialog.showSaveDialog(Window.getFocusedWindow() ?? undefined, {
    title: 'Export',
    defaultPath: join(app.getPath('downloads'), file.fileName),
    filters: [{ name: ext.toUpperCase(), extensions: [ext] }],
  });
  if (r.canceled || r.filePath === undefined) return { ...base, savedPath: null, canceled: true };
  await writeFile(r.filePath, file.data);
  return { ...base, savedPath: r.filePath, canceled: false };
}

function createWindow(): BrowserWindow {
  const win = new Window({
    width: 1440,
    height: 920,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'quicscope',
    backgroundColor: '#0f1115',
    icon: join(ROOT, 'assets', 'icon.png'),
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${ORIGIN}/index.html`);
  return win;
}

// Before the app is ready: the window's scheme, and the sandbox for every renderer.
protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

// Every web contents: no navigation, no redirects, no new windows, no webviews.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

void app.whenReady().then(() => {
  protocol.handle('app', (request) => serveApp(request.url));
  // Camera, notifications, geolocation...: the window needs none.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  const manager = new SessionManager({ recentsFile: join(app.getPath('userData'), 'recent-targets.json') });
  const dispatcher = new Dispatcher(manager, {
    transport: 'electron',
    appVersion: app.getVersion(),
    deliverExport: saveExport,
  });
  manager.onBatch((batch) => {
    for (const w of Window.getAllWindows())
      if (!w.isDestroyed()) w.webContents.send(IPC_CHANNELS.batch, batch);
  });
  ipcMain.handle(IPC_CHANNELS.invoke, async (event, method, args): Promise<RequestOutcome> => {
    // Only our own page may call main.
    if (event.senderFrame === null || !event.senderFrame.url.startsWith(`${ORIGIN}/`))
      return {
        ok: false,
        error: { kind: 'bad_request', message: 'requests come from the quicscope window only' },
      };
    return dispatcher.dispatch(method, args);
  });
  createWindow();
  app.on('activate', () => {
    if (Window.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => {
    void manager.shutdown().finally(() => app.quit());
  });
});
