/**
 * The real processes the end-to-end UI tests drive, all on loopback and each stopped by its PID:
 * quicscope's web mode (main/web/main.ts, which also starts the local server on request) and
 * Debian's ngtcp2 HTTP/3 server (gtlsserver) with a generated certificate and document root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Stops a child we started, by its PID (SIGTERM, then SIGKILL after a grace period). */
async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Web mode running in its own process. */
export interface WebMode {
  url: string;
  pid: number;
  /** Everything it printed on stderr (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `main/web/main.ts` (what `npm run web` runs) and waits for the URL it prints. */
export async function startWebMode(timeoutMs = 60_000): Promise<WebMode> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'main', 'web', 'main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`web mode printed no URL in ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web mode exited (${code}) before printing its URL: ${err}`));
    });
  });
  return { url, pid: child.pid as number, stderr: () => err, stop: () => stop(child) };
}

/** Whether Debian's ngtcp2 server and openssl are installed. */
export function ngtcp2Available(): boolean {
  return existsSync('/usr/sbin/gtlsserver') && spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
}

/** A running gtlsserver. */
export interface Ngtcp2Server {
  port: number;
  /** Its self-signed certificate (PEM file), the trust anchor to give the client. */
  certFile: string;
  /** The body of /page.html. */
  pageHtml: string;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Starts gtlsserver on 127.0.0.1 and a free UDP port, with a new P-256 certificate for localhost
 * and 127.0.0.1 and a document root holding page.html.
 */
export async function startNgtcp2(): Promise<Ngtcp2Server> {
  const dir = mkdtempSync(join(tmpdir(), 'quicscope-ngtcp2-'));
  const www = join(dir, 'www');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (gen.status !== 0) throw new Error(`openssl failed: ${gen.stderr}`);
  spawnSync('mkdir', ['-p', www]);
  const pageHtml =
    '<!doctype html><html><head><title>ngtcp2</title></head><body><h1>hello from ngtcp2</h1></body></html>\n';
  writeFileSync(join(www, 'page.html'), pageHtml);
  const port = await freeUdpPort();
  const child = spawn(
    '/usr/sbin/gtlsserver',
    ['-q', '-d', www, '127.0.0.1', String(port), keyFile, certFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // Wait (at most 5 s) until its UDP socket is bound.
  for (let i = 0; i < 50; i++) {
    const ss = spawnSync('ss', ['-Hlun', `sport = :${port}`], { encoding: 'utf8' });
    if (ss.stdout.trim() !== '') break;
    if (child.exitCode !== null) throw new Error(`gtlsserver exited: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    certFile,
    pageHtml,
    async stop() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
