/**
 * Helpers of the interop tests: ngtcp2's example HTTP/3 peers (Debian gtlsserver / gtlsclient),
 * our CLI as a child process, a throw-away workspace (certificate, key, document root with known
 * hashes), free UDP ports, and child processes with a hard time limit that are killed by PID.
 * Everything stays on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseJsonSeq } from '../../core/trace/qlog-writer.ts';
import { selfSignedIdentity } from '../../main/h3/certs.ts';

/** The repository root (the tests run from it; the CLI path is relative to it). */
export const REPO = resolve(import.meta.dirname, '..', '..');

/** Finds an executable on PATH (and in the sbin directories, where Debian puts gtlsserver). */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** gtlsserver and gtlsclient, or why the interop tests must be skipped. */
export function ngtcp2(): { server: string; client: string } | { missing: string } {
  const server = which('gtlsserver');
  const client = which('gtlsclient');
  if (server === null || client === null)
    return {
      missing: `ngtcp2 example peers not installed (${[server === null ? 'gtlsserver' : '', client === null ? 'gtlsclient' : ''].filter(Boolean).join(', ')}; Debian packages ngtcp2-server, ngtcp2-client)`,
    };
  return { server, client };
}

/** A UDP port free on 127.0.0.1 right now (bound to :0, then released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => res());
  });
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Whether something listens on udp 127.0.0.1:`port` (from /proc/net/udp). */
export function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    return readFileSync('/proc/net/udp', 'utf8')
      .split('\n')
      .some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
  } catch {
    return false;
  }
}

/** A child process with a hard time limit; output is collected. */
export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null when killed) once the process ends. */
  readonly exited: Promise<number | null>;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) by its PID; resolves when it ended. */
  stop(graceMs?: number): Promise<number | null>;
}

const children = new Set<Child>();

/** Spawns `cmd args` with a hard limit of `limitMs` (SIGKILL by PID when it is reached). */
export function spawnChild(cmd: string, args: readonly string[], limitMs: number, cwd = REPO): Child {
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`cannot spawn ${cmd}`);
  const pid = proc.pid;
  const child: Child = {
    proc,
    pid,
    stdout: '',
    stderr: '',
    exited: new Promise((res) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), limitMs);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        children.delete(child);
        res(code);
      });
    }),
    async stop(graceMs = 3000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await child.exited;
      clearTimeout(t);
      return code;
    },
  };
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (child.stdout += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (child.stderr += d));
  children.add(child);
  return child;
}

/** Kills every child still running (by PID): for `after()` hooks. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(1000)));
}

/** Runs to the end; resolves with exit code and output. */
export async function run(
  cmd: string,
  args: readonly string[],
  limitMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawnChild(cmd, args, limitMs);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}

/** Arguments that run our CLI (`node --import tsx main/cli/index.ts ...`) with process.execPath. */
export function cli(...args: string[]): string[] {
  return ['--import', 'tsx', join(REPO, 'main', 'cli', 'index.ts'), ...args];
}

/** Runs `quicscope ...` to the end. */
export function runCli(
  args: string[],
  limitMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(process.execPath, cli(...args), limitMs);
}

/** Waits until `test()` holds (polling), or throws after `ms` with `what`. */
export async function waitFor(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `quicscope serve` on 127.0.0.1 (port 0) with `args`; resolves with its port once it listens. */
export async function startQuicscopeServer(
  args: string[],
  limitMs = 120_000,
): Promise<{ child: Child; port: number }> {
  const child = spawnChild(process.execPath, cli('serve', '--listen', '127.0.0.1:0', ...args), limitMs);
  let port = 0;
  await waitFor(
    () => {
      const m = /listening on udp 127\.0\.0\.1:(\d+)/.exec(child.stdout);
      if (m !== null) port = Number(m[1]);
      if (child.proc.exitCode !== null) throw new Error(`quicscope serve exited: ${child.stderr}`);
      return m !== null;
    },
    30_000,
    'quicscope serve to listen',
  );
  return { child, port };
}

/** A temporary directory with a certificate, a key, and a document root of random files. */
export interface Workspace {
  dir: string;
  www: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 (hex) and size of each file in www, by name. */
  files: Map<string, { sha256: string; size: number }>;
  cleanup(): void;
}

/** SHA-256 (hex) of bytes. */
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** SHA-256 (hex) and size of a file. */
export function fileDigest(path: string): { sha256: string; size: number } {
  const b = readFileSync(path);
  return { sha256: sha256(b), size: b.length };
}

/** Makes a workspace: `many` small files m<i>.bin, a 10 MiB 10M.bin, index.html. */
export function makeWorkspace(prefix: string, many = 60): Workspace {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const www = join(dir, 'www');
  mkdirSync(www);
  const id = selfSignedIdentity(Date.now());
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, id.certPem);
  writeFileSync(keyFile, id.keyPem);
  const files = new Map<string, { sha256: string; size: number }>();
  const add = (name: string, data: Uint8Array): void => {
    writeFileSync(join(www, name), data);
    files.set(name, { sha256: sha256(data), size: data.length });
  };
  add('index.html', Buffer.from('<!doctype html><title>quicscope interop</title><h1>hello h3</h1>\n'));
  add('10M.bin', randomBytes(10 * 1024 * 1024));
  for (let i = 0; i < many; i++) add(`m${i}.bin`, randomBytes(1000 + ((i * 7919) % 60000)));
  return { dir, www, certFile, keyFile, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts gtlsserver on a free port serving `ws.www` with `extra` options; resolves once it listens. */
export async function startGtlsServer(
  binary: string,
  ws: Workspace,
  extra: string[] = [],
  limitMs = 120_000,
): Promise<{ child: Child; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const child = spawnChild(
      binary,
      [
        '-q',
        '-d',
        ws.www,
        '--initial-rtt=1ms',
        '--max-dyn-length=200M',
        ...extra,
        '127.0.0.1',
        String(port),
        ws.keyFile,
        ws.certFile,
      ],
      limitMs,
    );
    try {
      await waitFor(
        () => {
          if (child.proc.exitCode !== null) throw new Error(`gtlsserver exited: ${child.stderr}`);
          return udpBound(port);
        },
        10_000,
        'gtlsserver to listen',
      );
      return { child, port };
    } catch (e) {
      await child.stop(500);
      if (attempt >= 2) throw e; // the port was taken in between: try another
    }
  }
}

// ---- helpers of the per-feature interop tests (features-*.test.ts) ----

/**
 * Starts `quicscope serve --listen <listen>` with `args` (e.g. on a port it had before, for a
 * restart); resolves with its port once it listens.
 */
export async function startQuicscopeServerAt(
  listen: string,
  args: string[],
  limitMs = 120_000,
): Promise<{ child: Child; port: number }> {
  const child = spawnChild(process.execPath, cli('serve', '--listen', listen, ...args), limitMs);
  let port = 0;
  await waitFor(
    () => {
      const m = /listening on udp [^\s]*:(\d+)/.exec(child.stdout);
      if (m !== null) port = Number(m[1]);
      if (child.proc.exitCode !== null) throw new Error(`quicscope serve exited: ${child.stderr}`);
      return m !== null;
    },
    30_000,
    'quicscope serve to listen',
  );
  return { child, port };
}

let gtlsRuns = 0;

/**
 * Runs gtlsclient against 127.0.0.1:`port` for `paths` (saved in a new directory under `ws.dir`).
 * With `quiet` false it logs every packet and frame, without payload hexdumps. gtlsclient exits 0
 * even when it fails: check the files.
 */
export async function runGtlsClient(
  binary: string,
  ws: Workspace,
  port: number,
  paths: string[],
  options: { extra?: string[]; quiet?: boolean; limitMs?: number } = {},
): Promise<{ dir: string; log: string; code: number | null }> {
  const dir = join(ws.dir, `gtls${gtlsRuns++}`);
  mkdirSync(dir);
  const args = [
    ...(options.quiet === false ? ['--no-quic-dump', '--no-http-dump'] : ['-q']),
    '--exit-on-all-streams-close',
    '--initial-rtt=1ms',
    `--download=${dir}`,
    ...(options.extra ?? []),
    '127.0.0.1',
    String(port),
    ...paths.map((x) => `https://127.0.0.1:${port}/${x}`),
  ];
  const r = await run(binary, args, options.limitMs ?? 60_000);
  return { dir, log: r.stdout + r.stderr, code: r.code };
}

/** The events of every qlog (.sqlog) in `dir`, file by file. */
export function qlogEvents(dir: string): { file: string; events: QlogRecord[] }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sqlog'))
    .map((f) => ({
      file: f,
      events: (parseJsonSeq(readFileSync(join(dir, f), 'utf8')) as QlogRecord[]).slice(1),
    }));
}

/** One qlog event record (the fields the tests look at). */
export interface QlogRecord {
  time: number;
  name: string;
  data: {
    header?: { packet_type?: string };
    frames?: { frame_type: string; stream_id?: number }[];
    trigger?: string;
    [k: string]: unknown;
  };
}

/**
 * The lines `quicscope serve -v` logged for the first connection that came up after offset `mark`
 * of its stdout: its "connected:" line and, once it drained, its "closed:" line.
 */
export async function serverConnectionLog(
  server: Child,
  mark: number,
  ms = 15_000,
): Promise<{ connected: string; closed: string }> {
  let connected = '';
  let closed = '';
  await waitFor(
    () => {
      const log = server.stdout.slice(mark);
      const c = /^(\S+) connected: .*$/m.exec(log);
      if (c === null) return false;
      connected = c[0];
      const peer = c[1].replace(/[.[\]]/g, '\\$&');
      const d = new RegExp(`^${peer} closed: .*$`, 'm').exec(log);
      if (d === null) return false;
      closed = d[0];
      return true;
    },
    ms,
    `a connection's "connected" and "closed" lines in the server log:\n${server.stdout.slice(mark)}`,
  );
  return { connected, closed };
}

/** The number after `label` in `text` (e.g. "key updates 3"), or NaN when absent. */
export function numberAfter(text: string, label: string): number {
  const m = new RegExp(`${label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} (\\d+)`).exec(text);
  return m === null ? NaN : Number(m[1]);
}
