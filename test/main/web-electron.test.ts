// The Electron transport of the contract (main/electron), run without Electron: its bundles
// (scripts/build-electron.mjs) are loaded against a stand-in `electron` module that records what
// they ask for. Checks the window's lockdown (contextIsolation, no Node, sandbox, CSP, no
// navigation, no new windows, no permissions), that only the app's page reaches ipcMain, and
// that the preload exposes exactly the contract.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOutcome } from '../../main/ipc/contract.ts';

// The stand-in records into globalThis.__electronFake.
const FAKE = `
const state = (globalThis.__electronFake = {
  windows: [], ipc: {}, protocols: {}, schemes: null, sandbox: false, app: {}, permission: null,
  exposed: {}, rendererInvokes: [], rendererListeners: {},
});
class BrowserWindow {
  constructor(options) {
    this.options = options;
    this.webContents = { send() {}, isDestroyed: () => false, on() {}, setWindowOpenHandler() {} };
    state.windows.push(this);
  }
  loadURL(url) { this.url = url; return Promise.resolve(); }
  once() {}
  show() {}
  isDestroyed() { return false; }
  static getAllWindows() { return state.windows; }
  static getFocusedWindow() { return state.windows[0] ?? null; }
}
module.exports = {
  app: {
    whenReady: () => Promise.resolve(),
    enableSandbox() { state.sandbox = true; },
    getPath: () => state.userData,
    getVersion: () => '9.9.9',
    on(event, listener) { state.app[event] = listener; },
    quit() { state.quit = true; },
    exit() {},
  },
  BrowserWindow,
  ipcMain: { handle(channel, listener) { state.ipc[channel] = listener; } },
  dialog: { showSaveDialog: async () => ({ canceled: true }) },
  protocol: {
    registerSchemesAsPrivileged(schemes) { state.schemes = schemes; },
    handle(scheme, handler) { state.protocols[scheme] = handler; },
  },
  session: { defaultSession: { setPermissionRequestHandler(h) { state.permission = h; } } },
  contextBridge: { exposeInMainWorld(key, api) { state.exposed[key] = api; } },
  ipcRenderer: {
    invoke: async (...args) => { state.rendererInvokes.push(args); return state.nextOutcome; },
    on(channel, l) { state.rendererListeners[channel] = l; },
    removeListener(channel) { delete state.rendererListeners[channel]; },
  },
};
`;

interface FakeState {
  windows: { options: { webPreferences: Record<string, unknown> }; url: string }[];
  ipc: Record<string, (event: unknown, ...args: unknown[]) => Promise<RequestOutcome>>;
  protocols: Record<string, (req: { url: string; method: string }) => Promise<Response>>;
  schemes: { scheme: string; privileges: Record<string, boolean> }[] | null;
  sandbox: boolean;
  app: Record<string, (...args: unknown[]) => void>;
  permission: ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | null;
  exposed: Record<string, Record<string, (...args: unknown[]) => unknown>>;
  rendererInvokes: unknown[][];
  rendererListeners: Record<string, (event: unknown, batch: unknown) => void>;
  nextOutcome: RequestOutcome;
  userData: string;
  quit?: boolean;
}

const fake = (): FakeState => (globalThis as unknown as { __electronFake: FakeState }).__electronFake;

describe('the Electron shell (bundled, against a stand-in electron module)', () => {
  let dir: string;
  const savedRoot = process.env.QUICSCOPE_ROOT;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'quicscope-electron-'));
    const out = join(dir, 'out', 'electron');
    const r = spawnSync(process.execPath, ['scripts/build-electron.mjs', out], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    mkdirSync(join(dir, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'electron', 'index.js'), FAKE);
    mkdirSync(join(dir, 'renderer', 'dist'), { recursive: true });
    writeFileSync(join(dir, 'renderer', 'dist', 'index.html'), '<!doctype html><title>quicscope</title>');
    process.env.QUICSCOPE_ROOT = dir;
    const require = createRequire(import.meta.url);
    require(join(out, 'main.cjs'));
    fake().userData = join(dir, 'user-data');
  });

  after(async () => {
    fake().app['window-all-closed']?.();
    const deadline = Date.now() + 5000;
    while (!fake().quit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (savedRoot === undefined) delete process.env.QUICSCOPE_ROOT;
    else process.env.QUICSCOPE_ROOT = savedRoot;
    rmSync(dir, { recursive: true, force: true });
  });

  it('enables the sandbox for every renderer and registers its own secure scheme', async () => {
    await new Promise((r) => setImmediate(r));
    assert.equal(fake().sandbox, true);
    assert.deepEqual(
      fake().schemes?.map((s) => s.scheme),
      ['app'],
    );
    assert.equal(fake().schemes?.[0].privileges.secure, true);
  });

  it('opens one window: contextIsolation on, nodeIntegration off, sandbox on, the preload bundle', () => {
    const [win] = fake().windows;
    assert.ok(win);
    const p = win.options.webPreferences;
    assert.equal(p.contextIsolation, true);
    assert.equal(p.nodeIntegration, false);
    assert.equal(p.sandbox, true);
    assert.equal(p.webSecurity, true);
    assert.equal(p.webviewTag, false);
    assert.match(String(p.preload), /preload\.cjs$/);
    assert.ok(existsSync(String(p.preload)));
    assert.equal(win.url, 'app://quicscope/index.html');
  });

  it('serves the window with a strict CSP and nothing outside renderer/dist', async () => {
    const serve = fake().protocols.app;
    const page = await serve({ url: 'app://quicscope/index.html', method: 'GET' });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>quicscope<\/title>/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const out = await serve({ url: 'app://quicscope/%2e%2e/%2e%2e/package.json', method: 'GET' });
    assert.ok(out.status === 403 || out.status === 404);
    assert.equal((await serve({ url: 'app://elsewhere/index.html', method: 'GET' })).status, 404);
  });

  it('blocks navigation, redirects, webviews and new windows; refuses permissions', () => {
    const handlers: Record<string, (e: { preventDefault(): void }, url?: string) => void> = {};
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    fake().app['web-contents-created'](
      {},
      {
        on: (event: string, l: (e: { preventDefault(): void }) => void) => (handlers[event] = l),
        setWindowOpenHandler: (h: (d: { url: string }) => { action: string }) => (openHandler = h),
      },
    );
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false;
      handlers[event]({ preventDefault: () => (prevented = true) }, 'https://example.com/');
      assert.ok(prevented, event);
    }
    assert.deepEqual(
      (openHandler as unknown as (d: { url: string }) => { action: string })({ url: 'https://x' }),
      { action: 'deny' },
    );
    let granted: boolean | null = null;
    fake().permission?.({}, 'media', (g) => (granted = g));
    assert.equal(granted, false);
  });

  it('answers the contract on ipcMain for the app page only', async () => {
    const handle = fake().ipc['quicscope:invoke'];
    const ok = await handle({ senderFrame: { url: 'app://quicscope/index.html' } }, 'appInfo', {});
    assert.ok(ok.ok);
    assert.equal((ok.value as { transport: string }).transport, 'electron');
    assert.equal((ok.value as { appVersion: string }).appVersion, '9.9.9');
    const presets = await handle({ senderFrame: { url: 'app://quicscope/index.html' } }, 'listPresets', {});
    assert.ok(presets.ok);
    const foreign = await handle({ senderFrame: { url: 'https://evil.example/' } }, 'listPresets', {});
    assert.equal(foreign.ok, false);
    const none = await handle({ senderFrame: null }, 'listPresets', {});
    assert.equal(none.ok, false);
  });

  it('the preload exposes exactly invoke and onBatch, and turns failures into JSON errors', async () => {
    const require = createRequire(import.meta.url);
    require(join(dir, 'out', 'electron', 'preload.cjs'));
    const api = fake().exposed.quicscope;
    assert.deepEqual(Object.keys(api).sort(), ['invoke', 'onBatch']);
    fake().nextOutcome = { ok: true, value: [] };
    assert.deepEqual(await api.invoke('listPresets', {}), []);
    assert.deepEqual(fake().rendererInvokes.pop(), ['quicscope:invoke', 'listPresets', {}]);
    fake().nextOutcome = { ok: false, error: { kind: 'not_found', message: 'no session s9' } };
    await assert.rejects(api.invoke('closeSession', { sessionId: 's9' }) as Promise<unknown>, (e: Error) => {
      assert.deepEqual(JSON.parse(e.message), { kind: 'not_found', message: 'no session s9' });
      return true;
    });
    await assert.rejects(api.invoke('eval', {}) as Promise<unknown>, /bad_request/);
    const seen: unknown[] = [];
    const off = api.onBatch((b: unknown) => seen.push(b)) as () => void;
    fake().rendererListeners['quicscope:batch']({}, { sessionId: 's1' });
    assert.deepEqual(seen, [{ sessionId: 's1' }]);
    off();
    assert.equal(fake().rendererListeners['quicscope:batch'], undefined);
  });
});
