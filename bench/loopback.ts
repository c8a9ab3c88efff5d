/**
 * Loopback benchmark over real UDP sockets, side by side in one run:
 *
 *   1. a 100 MiB download by `quicscope get` from `quicscope serve`,
 *   2. by `quicscope get` from the ngtcp2 server (gtlsserver),
 *   3. by the ngtcp2 client (gtlsclient) from the ngtcp2 server,
 *
 * each a few times (median): throughput, wall time, CPU seconds of the client and of the server,
 * and our ratios to ngtcp2. Our client's CPU includes starting Node and loading the TypeScript
 * (tsx); the same `get` of an empty body is measured too and subtracted ("net"). Then the latency
 * of a handshake + 1 KiB GET over 50 sequential connections from one client process (this one),
 * to `quicscope serve` and to gtlsserver, median and p90; and gtlsclient run 50 times (process
 * start included) for scale. ngtcp2 runs with --initial-rtt=1ms (see ../shared/peers/README.md).
 *
 *   npm run bench -- loopback
 *   LOOPBACK_MB=20 LOOPBACK_ROUNDS=3 LOOPBACK_PROFILE=/tmp/prof npm run bench -- loopback
 *
 * LOOPBACK_PROFILE=DIR runs our processes under `node --cpu-prof` and prints their top self-time
 * frames. Everything stays on 127.0.0.1; every child has a hard time limit and is killed by PID.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../core/connection/config.ts';
import { H3ClientConnection } from '../main/h3/client.ts';
import { selfSignedIdentity } from '../main/h3/certs.ts';
import { REPO, spawnChild, startGtlsServer, stopAll, which } from '../test/interop/peers.ts';
import type { Child, Workspace } from '../test/interop/peers.ts';
import type { Bench } from './harness.ts';

const MB = Number(process.env.LOOPBACK_MB ?? 100);
const ROUNDS = Math.max(1, Number(process.env.LOOPBACK_ROUNDS ?? 3));
const LATENCY_CONNECTIONS = 50;
const PROFILE = process.env.LOOPBACK_PROFILE ?? null;
const SIZE = MB * 1024 * 1024;
const TICK = 100; // USER_HZ of /proc/<pid>/stat on Linux

/** One measured download. */
interface Run {
  /** Process start to exit, seconds. */
  wall: number;
  /** The transfer alone (request sent → last byte), seconds, when the client reports it. */
  transfer: number | null;
  clientCpu: number;
  serverCpu: number;
  ok: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const mbit = (bytes: number, seconds: number): number => (bytes * 8) / seconds / 1e6;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/**
 * Runs `cmd args` to the end under `bash -c '...; times'` (bash's `times` prints the CPU its
 * children used, exactly, after they exit); returns wall seconds, CPU seconds and stdout.
 */
async function measured(
  cmd: string,
  args: string[],
  limitMs: number,
): Promise<{ wall: number; cpu: number; stdout: string; code: number | null }> {
  const t0 = performance.now();
  const child = spawnChild('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bash', cmd, ...args], limitMs);
  const code = await child.exited;
  const wall = (performance.now() - t0) / 1000;
  const lines = child.stderr.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  const cpu = m === null ? NaN : Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  return { wall, cpu, stdout: child.stdout, code };
}

/** `node [--cpu-prof] --import tsx main/cli/index.ts ...args`. */
function ourCommand(args: string[], profileTag: string): [string, string[]] {
  const prof = PROFILE === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE, profileTag)}`];
  return [process.execPath, [...prof, '--import', 'tsx', join(REPO, 'main', 'cli', 'index.ts'), ...args]];
}

/** Starts `quicscope serve` on port 0; resolves with the child and port. */
async function startOurServer(ws: Workspace): Promise<{ child: Child; port: number }> {
  const [cmd, args] = ourCommand(
    ['serve', '--listen', '127.0.0.1:0', '--cert', ws.certFile, '--key', ws.keyFile],
    'serve',
  );
  const child = spawnChild(cmd, args, 30 * 60_000);
  const end = Date.now() + 30_000;
  for (;;) {
    const m = /listening on udp 127\.0\.0\.1:(\d+)/.exec(child.stdout);
    if (m !== null) return { child, port: Number(m[1]) };
    if (child.proc.exitCode !== null || Date.now() > end) throw new Error(`quicscope serve: ${child.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One download by our CLI of `path` from `port`; the server's CPU is read around it. */
async function ourGet(port: number, path: string, serverPid: number): Promise<Run> {
  const before = cpuOf(serverPid);
  const [cmd, args] = ourCommand(['get', '-k', `https://127.0.0.1:${port}${path}`], 'get');
  const r = await measured(cmd, args, 10 * 60_000);
  const serverCpu = cpuOf(serverPid) - before;
  // "... 105 MB in 1.23 s (...)" from the summary line.
  const t = / in ([\d.]+) (µs|ms|s) \(/.exec(r.stdout);
  const scale: Record<string, number> = { µs: 1e-6, ms: 1e-3, s: 1 };
  const transfer = t === null ? null : Number(t[1]) * scale[t[2]];
  return { wall: r.wall, transfer, clientCpu: r.cpu, serverCpu, ok: r.code === 0 };
}

/** One download by gtlsclient (body discarded). */
async function ngtcp2Get(client: string, port: number, path: string, serverPid: number): Promise<Run> {
  const before = cpuOf(serverPid);
  const r = await measured(
    client,
    [
      '-q',
      '--exit-on-all-streams-close',
      '--initial-rtt=1ms',
      '127.0.0.1',
      String(port),
      `https://127.0.0.1:${port}${path}`,
    ],
    10 * 60_000,
  );
  return {
    wall: r.wall,
    transfer: null,
    clientCpu: r.cpu,
    serverCpu: cpuOf(serverPid) - before,
    ok: r.code === 0,
  };
}

/** Prints the median figures of a series of runs; returns the median throughput (Mbit/s). */
function report(bench: Bench, name: string, runs: Run[], baselineCpu: number | null): number {
  const ok = runs.filter((r) => r.ok);
  if (ok.length === 0) {
    bench.note(`${name}: FAILED (${runs.length} runs)`);
    return NaN;
  }
  const seconds = median(ok.map((r) => r.transfer ?? r.wall));
  const rate = mbit(SIZE, seconds);
  const client = median(ok.map((r) => r.clientCpu));
  const server = median(ok.map((r) => r.serverCpu));
  const net =
    baselineCpu === null ? '' : ` (net of start-up ${Math.max(0, client - baselineCpu).toFixed(2)} s)`;
  bench.note(
    `${name.padEnd(34)} ${rate.toFixed(0).padStart(6)} Mbit/s  ${seconds.toFixed(2)} s ` +
      `(wall ${median(ok.map((r) => r.wall)).toFixed(2)} s)  CPU client ${client.toFixed(2)} s${net}, ` +
      `server ${server.toFixed(2)} s  [${ok.length}/${runs.length} ok; min ${mbit(SIZE, Math.max(...ok.map((r) => r.transfer ?? r.wall))).toFixed(0)}, max ${mbit(SIZE, Math.min(...ok.map((r) => r.transfer ?? r.wall))).toFixed(0)}]`,
  );
  return rate;
}

/** Handshake + GET /1024 on `LATENCY_CONNECTIONS` sequential connections from this process (ms each). */
async function latency(port: number, ca: string): Promise<number[]> {
  const config = new Config();
  config.setCaCertificates(ca);
  const times: number[] = [];
  for (let i = -5; i < LATENCY_CONNECTIONS; i++) {
    const t0 = performance.now();
    const c = await H3ClientConnection.open({ host: '127.0.0.1', port, config, serverName: 'localhost' });
    const r = await c.request('/1024');
    const t = performance.now() - t0;
    await c.close();
    if (r.bodyLength !== 1024 || r.status !== 200)
      throw new Error(`GET /1024: ${r.status} ${r.error?.message}`);
    if (i >= 0) times.push(t); // the first 5 warm the JIT up
  }
  return times;
}

/** The top self-time frames of the CPU profiles in `dir`, as shares of the busy (non-idle) time. */
function topFrames(dir: string, n: number): string[] {
  const out: string[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return out;
  }
  const self = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    p.samples.forEach((id, i) => {
      const cf = byId.get(id)?.callFrame;
      if (cf === undefined) return;
      const dt = p.timeDeltas[i] ?? 0;
      if (cf.functionName === '(idle)') return;
      total += dt; // busy time only: the shares below are of the CPU the process used
      const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    });
  }
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, n))
    out.push(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
  return out;
}

/** The benchmark group. */
export async function run(bench: Bench): Promise<void> {
  const gtlsserver = which('gtlsserver');
  const gtlsclient = which('gtlsclient');
  if (gtlsserver === null || gtlsclient === null) {
    bench.note('loopback: ngtcp2 peers (gtlsserver, gtlsclient) not installed: skipped');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qs-bench-'));
  const id = selfSignedIdentity(Date.now());
  const ws: Workspace = {
    dir,
    www: dir,
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    files: new Map(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  writeFileSync(ws.certFile, id.certPem);
  writeFileSync(ws.keyFile, id.keyPem);
  const path = `/${SIZE}`;
  try {
    const ours = await startOurServer(ws);
    const theirs = await startGtlsServer(gtlsserver, ws, ['--max-dyn-length=2G'], 30 * 60_000);
    bench.note(
      `load average at start: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} (other work on the host skews every figure)`,
    );
    bench.note(
      `loopback: ${MB} MiB download (GET /${SIZE}), median of ${ROUNDS}; throughput over the transfer ` +
        `(ours: request → last byte, from the summary; ngtcp2 client: process wall time)`,
    );
    const base = await ourGet(ours.port, '/0', ours.child.pid);
    const a: Run[] = [];
    const b: Run[] = [];
    const c: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Interleaved, so that load from elsewhere hits each series alike.
      a.push(await ourGet(ours.port, path, ours.child.pid));
      b.push(await ourGet(theirs.port, path, theirs.child.pid));
      c.push(await ngtcp2Get(gtlsclient, theirs.port, path, theirs.child.pid));
    }
    bench.note(
      `quicscope get start-up + handshake + empty GET: CPU ${base.clientCpu.toFixed(2)} s, wall ${base.wall.toFixed(2)} s`,
    );
    const ra = report(bench, 'quicscope get ← quicscope serve', a, base.clientCpu);
    const rb = report(bench, 'quicscope get ← ngtcp2 server', b, base.clientCpu);
    const rc = report(bench, 'ngtcp2 client ← ngtcp2 server', c, null);
    const cpu = (runs: Run[], side: 'clientCpu' | 'serverCpu'): number =>
      median(runs.filter((r) => r.ok).map((r) => r[side]));
    bench.note(
      `ratios to ngtcp2↔ngtcp2: throughput ours↔ours ${(ra / rc).toFixed(3)}, ours←ngtcp2 ${(rb / rc).toFixed(3)}; ` +
        `client CPU (net) ${((cpu(b, 'clientCpu') - base.clientCpu) / cpu(c, 'clientCpu')).toFixed(1)}x, ` +
        `server CPU ours/ngtcp2 ${(cpu(a, 'serverCpu') / cpu(c, 'serverCpu')).toFixed(1)}x`,
    );

    for (const [name, port] of [
      ['quicscope serve', ours.port],
      ['ngtcp2 server', theirs.port],
    ] as const) {
      const t = await latency(port, id.certPem);
      bench.note(
        `handshake + 1 KiB GET, ${LATENCY_CONNECTIONS} sequential connections (one process) → ${name}: ` +
          `median ${median(t).toFixed(2)} ms, p90 ${percentile(t, 90).toFixed(2)} ms`,
      );
    }
    const ng: number[] = [];
    for (let i = 0; i < LATENCY_CONNECTIONS; i++)
      ng.push((await ngtcp2Get(gtlsclient, theirs.port, '/1024', theirs.child.pid)).wall * 1000);
    bench.note(
      `ngtcp2 client → ngtcp2 server, ${LATENCY_CONNECTIONS} runs, process start included: ` +
        `median ${median(ng).toFixed(2)} ms, p90 ${percentile(ng, 90).toFixed(2)} ms`,
    );
    bench.note(
      `load average at end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    await ours.child.stop();
    await theirs.child.stop();
    if (PROFILE !== null) {
      for (const tag of ['get', 'serve']) {
        bench.note(`top self-time frames of quicscope ${tag} (all runs, ${join(PROFILE, tag)}):`);
        for (const line of topFrames(join(PROFILE, tag), 15)) bench.note(`  ${line}`);
      }
    }
  } finally {
    await stopAll();
    ws.cleanup();
  }
}
