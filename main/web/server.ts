/**
 * Web mode: a loopback-only HTTP server (127.0.0.1) that serves the built window (renderer/dist)
 * and carries the contract over a WebSocket at /ws, for browsers where Electron is not available
 * and for the Playwright tests. Every request needs the random token printed in the URL
 * (`http://127.0.0.1:PORT/?token=…`): as the `token` query parameter, or the HttpOnly SameSite
 * cookie set when the page was loaded with it (so the page's own assets load). Without it: 403.
 * The Host header must name this server (DNS rebinding), and a WebSocket's Origin this origin
 * (cross-site WebSocket hijacking). A strict Content-Security-Policy goes on every response.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { CONTRACT_VERSION, WS_PATH } from '../ipc/contract.ts';
import type { ServerMessage, SessionBatch } from '../ipc/contract.ts';
import { Dispatcher, exportAsBytes } from '../ipc/dispatch.ts';
import { SessionManager } from '../session/manager.ts';
import { securityHeaders, send, StaticFiles } from './static.ts';

/** The built renderer, relative to this file. */
export const RENDERER_DIST = fileURLToPath(new URL('../../renderer/dist/', import.meta.url));

/** Options of `startWebServer`. */
export interface WebServerOptions {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** The access token (default: 32 random bytes, base64url). */
  token?: string;
  /** The directory served (default renderer/dist). */
  staticDir?: string;
  /** The session manager (default: a new one, shut down with the server). */
  manager?: SessionManager;
  appVersion?: string;
}

/** A WebSocket's send buffer above which batches are dropped for that window (it sees a seq gap). */
const MAX_BUFFERED = 32 * 1024 * 1024;
const COOKIE = 'quicscope_token';
const HOST = '127.0.0.1';

/** A running web-mode server. */
export class WebServer {
  private readonly clients = new Set<WebSocket>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly manager: SessionManager,
    private readonly ownsManager: boolean,
    readonly port: number,
    readonly token: string,
  ) {
    this.unsubscribe = manager.onBatch((batch) => this.broadcast(batch));
  }

  /** The URL to open, token included. */
  get url(): string {
    return `http://${HOST}:${this.port}/?token=${encodeURIComponent(this.token)}`;
  }

  /** The origin (scheme, host, port). */
  get origin(): string {
    return `http://${HOST}:${this.port}`;
  }

  /** @internal */
  addClient(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on('close', () => this.clients.delete(ws));
  }

  private broadcast(batch: SessionBatch): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify({ type: 'batch', batch } satisfies ServerMessage);
    for (const ws of this.clients) {
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED) continue;
      ws.send(text);
    }
  }

  /** Closes the WebSockets, the HTTP server and (if it made it) the session manager. */
  async close(): Promise<void> {
    this.unsubscribe();
    for (const ws of this.clients) ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    if (this.ownsManager) await this.manager.shutdown();
  }
}

/** Starts web mode; resolves once it listens. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  if (token.length < 16) throw new RangeError('the token must be at least 16 characters');
  const manager = options.manager ?? new SessionManager();
  const files = new StaticFiles(options.staticDir ?? RENDERER_DIST);
  const dispatcher = new Dispatcher(manager, {
    transport: 'web',
    appVersion: options.appVersion ?? '0.0.0',
    deliverExport: exportAsBytes,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  let server: WebServer | null = null;
  let port = 0;
  const origin = (): string => `http://${HOST}:${port}`;

  const http = createServer((req, res) => {
    securityHeaders(res, origin());
    const auth = authorize(req, token, port);
    if (auth === 'bad_host') return deny(res, 421, 'misdirected request');
    if (auth === 'denied') return deny(res, 403, 'forbidden: open the URL with its token');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return deny(res, 405, 'method not allowed');
    }
    const url = new URL(req.url ?? '/', origin());
    if (url.searchParams.get('token') === token) {
      // The page's assets and WebSocket come without the query: a cookie carries the token.
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (!files.serve(url.pathname, res, req.method === 'HEAD')) deny(res, 404, 'not found');
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', origin());
    const auth = authorize(req, token, port);
    const reqOrigin = req.headers.origin;
    const originOk =
      reqOrigin === undefined || reqOrigin === origin() || reqOrigin === `http://localhost:${port}`;
    if (url.pathname !== WS_PATH || auth !== 'ok' || !originOk) {
      const status = url.pathname !== WS_PATH ? '404 Not Found' : '403 Forbidden';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      server?.addClient(ws);
      ws.send(JSON.stringify({ type: 'hello', contractVersion: CONTRACT_VERSION } satisfies ServerMessage));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        void onMessage(ws, data.toString(), dispatcher);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, HOST, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  server = new WebServer(http, wss, manager, options.manager === undefined, port, token);
  return server;
}

/** Runs one invoke message and answers it. */
async function onMessage(ws: WebSocket, text: string, dispatcher: Dispatcher): Promise<void> {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof msg !== 'object' || msg === null) return;
  const m = msg as { type?: unknown; id?: unknown; method?: unknown; args?: unknown };
  if (m.type !== 'invoke' || typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return;
  const outcome = await dispatcher.dispatch(m.method, m.args);
  if (ws.readyState !== ws.OPEN) return;
  ws.send(JSON.stringify({ type: 'result', id: m.id, outcome } satisfies ServerMessage));
}

/** Checks the Host header and the token (query parameter or cookie). */
function authorize(req: IncomingMessage, token: string, port: number): 'ok' | 'denied' | 'bad_host' {
  const host = req.headers.host;
  if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) return 'bad_host';
  const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
  const given = url.searchParams.get('token') ?? cookie(req.headers.cookie, COOKIE);
  return given !== null && sameToken(given, token) ? 'ok' : 'denied';
}

function cookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Constant-time comparison (the token is a secret). */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function deny(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', Buffer.from(text + '\n'));
}
