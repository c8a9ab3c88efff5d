// Web mode (main/web): loopback only, the token guards every request and the WebSocket, a strict
// Content-Security-Policy on every response, and the contract round trip over /ws.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebServer } from '../../main/web/server.ts';
import type { WebServer } from '../../main/web/server.ts';
import { contentSecurityPolicy } from '../../main/web/static.ts';
import { CONTRACT_VERSION } from '../../main/ipc/contract.ts';
import type { ServerMessage, SessionBatch } from '../../main/ipc/contract.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with it and its first message, or rejects with the HTTP status. */
function openWs(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; hello: ServerMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('message', (data) => resolve({ ws, hello: JSON.parse(data.toString()) as ServerMessage }));
  });
}

/** Sends an invoke and waits for its result. */
function invoke(
  ws: WebSocket,
  id: number,
  method: string,
  args: unknown,
): Promise<ServerMessage & { type: 'result' }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const msg = JSON.parse(data.toString()) as ServerMessage;
      if (msg.type === 'result' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'invoke', id, method, args }));
  });
}

describe('web mode: loopback HTTP + WebSocket guarded by a token', () => {
  let server: WebServer;
  let dir: string;
  const token = 'test-token-0123456789abcdef';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quicscope-web-'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>quicscope</title><script type="module" src="./assets/app.js"></script>',
    );
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("hi");');
    server = await startWebServer({ token, staticDir: dir });
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and prints a URL with the token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=test-token-0123456789abcdef$/);
  });

  it('refuses a request without the token (403), with the CSP header anyway', async () => {
    const r = await get(server.port, '/');
    assert.equal(r.status, 403);
    assert.ok(r.headers['content-security-policy']);
    assert.equal((await get(server.port, '/?token=wrong-token-0123456789abc')).status, 403);
    assert.equal((await get(server.port, '/assets/app.js')).status, 403);
  });

  it('serves the window with the token, a strict CSP and an HttpOnly SameSite cookie for its assets', async () => {
    const r = await get(server.port, `/?token=${token}`);
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>quicscope<\/title>/);
    const csp = r.headers['content-security-policy'] as string;
    assert.equal(csp, contentSecurityPolicy(server.origin));
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const cookie = String(r.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const asset = await get(server.port, '/assets/app.js', { cookie: cookie.split(';')[0] });
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
  });

  it('refuses a foreign Host header (DNS rebinding) and paths out of the directory', async () => {
    assert.equal((await get(server.port, `/?token=${token}`, { host: 'evil.example:80' })).status, 421);
    assert.equal((await get(server.port, `/../../etc/passwd?token=${token}`)).status, 404);
    assert.equal((await get(server.port, `/%2e%2e/%2e%2e/etc/passwd?token=${token}`)).status, 404);
  });

  it('refuses a WebSocket without the token or from another origin (403)', async () => {
    await assert.rejects(openWs(`ws://127.0.0.1:${server.port}/ws`), /HTTP 403/);
    await assert.rejects(
      openWs(`ws://127.0.0.1:${server.port}/ws?token=${token}`, { origin: 'https://evil.example' }),
      /HTTP 403/,
    );
  });

  it('round-trips requests over the WebSocket: hello, results, typed errors, batches', async () => {
    const { ws, hello } = await openWs(`ws://127.0.0.1:${server.port}/ws?token=${token}`, {
      origin: server.origin,
    });
    try {
      assert.deepEqual(hello, { type: 'hello', contractVersion: CONTRACT_VERSION });
      const info = await invoke(ws, 1, 'appInfo', {});
      assert.ok(info.outcome.ok);
      assert.equal((info.outcome.value as { transport: string }).transport, 'web');
      const presets = await invoke(ws, 2, 'listPresets', {});
      assert.ok(presets.outcome.ok && Array.isArray(presets.outcome.value));
      const bad = await invoke(ws, 3, 'openStream', { sessionId: 's999', direction: 'bidi' });
      assert.deepEqual(bad.outcome.ok ? null : bad.outcome.error.kind, 'not_found');
      const unknown = await invoke(ws, 4, 'rm -rf', {});
      assert.equal(unknown.outcome.ok ? null : unknown.outcome.error.kind, 'bad_request');

      // A session to the local server: its batches come over the same socket.
      const batches: SessionBatch[] = [];
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as ServerMessage;
        if (msg.type === 'batch') batches.push(msg.batch);
      });
      const open = await invoke(ws, 5, 'openSession', { options: { target: 'local' } });
      assert.ok(open.outcome.ok, JSON.stringify(open.outcome));
      const id = (open.outcome.value as { sessionId: string }).sessionId;
      const deadline = Date.now() + 8000;
      while (!batches.some((b) => b.sessionId === id && b.state === 'established')) {
        assert.ok(Date.now() < deadline, 'the session is established');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(batches.some((b) => b.qlog.some((e) => e.name === 'quic:packet_received')));
      const exported = await invoke(ws, 6, 'exportSession', { sessionId: id, kind: 'keylog' });
      assert.ok(exported.outcome.ok);
      const file = exported.outcome.value as { bytes: string; savedPath: string | null; fileName: string };
      assert.equal(file.savedPath, null);
      assert.match(Buffer.from(file.bytes, 'base64').toString('utf8'), /CLIENT_TRAFFIC_SECRET_0/);
      const closed = await invoke(ws, 7, 'closeSession', { sessionId: id });
      assert.ok(closed.outcome.ok);
    } finally {
      ws.close();
    }
  });
});
