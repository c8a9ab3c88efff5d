/**
 * The static side of web mode: the built renderer (renderer/dist) served read-only, paths
 * confined to that directory, and the security headers every response carries (a strict
 * Content-Security-Policy: scripts, styles and connections to this origin only).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The Content-Security-Policy of web mode: nothing but this origin's scripts and styles, no inline
 * code, no eval, no frames, no plugins; connections to this origin (and its WebSocket) only;
 * images also from data: and blob: (chart exports, downloads).
 */
export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Sets the headers every web-mode response carries. */
export function securityHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(origin));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quicscope</title></head>
<body><h1>quicscope web mode</h1>
<p>The window is not built: run <code>npm run build:renderer</code> (vite) and reload.</p></body></html>
`;

/** Serves files of one directory. */
export class StaticFiles {
  private readonly root: string | null;

  constructor(dir: string) {
    this.root = StaticFiles.directory(dir);
  }

  private static directory(dir: string): string | null {
    try {
      const root = realpathSync(dir);
      return statSync(root).isDirectory() ? root : null;
    } catch {
      return null;
    }
  }

  /** Whether the directory exists. */
  get available(): boolean {
    return this.root !== null;
  }

  /** Answers a GET/HEAD of `pathname` (already without the query); false when nothing matched. */
  serve(pathname: string, res: ServerResponse, head: boolean): boolean {
    if (this.root === null) {
      if (pathname !== '/' && pathname !== '/index.html') return false;
      send(res, 200, 'text/html; charset=utf-8', Buffer.from(MISSING_BUILD), head);
      return true;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return false;
    }
    const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.some((s) => s === '..' || s.includes('\\') || s.includes('\0'))) return false;
    let file = join(this.root, ...segments);
    try {
      let real = realpathSync(file);
      if (statSync(real).isDirectory()) {
        file = join(real, 'index.html');
        real = realpathSync(file);
      }
      if (real !== this.root && !real.startsWith(this.root + sep)) return false;
      const body = readFileSync(real);
      send(res, 200, TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream', body, head);
      return true;
    } catch {
      return false;
    }
  }
}

/** Writes a whole response. */
export function send(res: ServerResponse, status: number, type: string, body: Buffer, head = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(body.length));
  res.end(head ? undefined : body);
}
