/**
 * Queueing delay under a bulk transfer, over the network simulator (virtual time, so the figures
 * are deterministic and independent of the machine's load): a server sends to a client through a
 * bottleneck with a large buffer (no loss), and we report the throughput and the RTT samples the
 * sender took during the transfer (median, p90, peak; min_rtt is the path's), with HyStart++
 * (RFC 9406) on and off. What fills the buffer is slow start overshooting and, without a cap of
 * its own, the receive window (core/stream/flow-control.ts autoTuneRtt).
 *
 *   npm run bench -- queue          or   node --import tsx bench/queue.ts
 */
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { connectionState } from '../core/connection/connection.ts';
import type { LinkConfig } from '../test/helpers/netsim.ts';
import { handshake, makePair, transfer, withLimits } from '../test/helpers/pair.ts';
import { createBench } from './harness.ts';
import type { Bench } from './harness.ts';

interface Path {
  name: string;
  link: Partial<LinkConfig>;
  bytes: number;
}

const PATHS: Path[] = [
  { name: '10Mbit_10ms_8MB_buffer', link: { bandwidth: 1.25e6, delay: 5, bufferBytes: 8e6 }, bytes: 5e6 },
  { name: '100Mbit_50ms_8MB_buffer', link: { bandwidth: 12.5e6, delay: 25, bufferBytes: 8e6 }, bytes: 20e6 },
  { name: '1Gbit_1ms_4MB_buffer', link: { bandwidth: 125e6, delay: 0.5, bufferBytes: 4e6 }, bytes: 20e6 },
];

interface Outcome {
  mbps: number;
  median: number;
  p90: number;
  peak: number;
  min: number;
  window: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function measurePath(path: Path, hyStart: boolean): Outcome {
  const sim = makePair({ seed: 9, traceEvents: 0, link: path.link, server: (c) => c.enableHyStart(hyStart) });
  handshake(sim, { maxTime: 120_000 });
  const recovery = connectionState(sim.server.c).recovery;
  const samples: number[] = [];
  let seen = -1;
  const streams = connectionState(sim.client.c).streams;
  let window = 0;
  sim.addApp(() => {
    for (const st of streams.values())
      if (st.recv !== null && st.recv.fc.window > window) window = st.recv.fc.window;
    const rtt = recovery.rtt as { samples?: number; latestRtt: number; minRtt: number };
    // One entry per RTT sample (trees without the sample counter: per change of latest_rtt).
    const tag = rtt.samples ?? rtt.latestRtt;
    if (tag !== seen) {
      seen = tag;
      samples.push(rtt.latestRtt);
    }
  });
  const r = transfer(
    sim,
    withLimits({ bytes: path.bytes, direction: 's2c', maxTime: 3_600_000, maxEvents: 50_000_000 }),
  );
  if (!r.intact) throw new Error(`${path.name}: transfer not intact`);
  samples.sort((a, b) => a - b);
  return {
    mbps: (path.bytes * 8) / (r.duration / 1000) / 1e6,
    median: percentile(samples, 50),
    p90: percentile(samples, 90),
    peak: samples[samples.length - 1],
    min: recovery.rtt.minRtt,
    window,
  };
}

/** Runs the queueing benchmarks (QUEUE_PATHS=10Mbit,1Gbit picks paths by name prefix). */
export function run(bench: Bench): void {
  const only = process.env.QUEUE_PATHS?.split(',') ?? null;
  for (const path of PATHS) {
    if (only !== null && !only.some((p) => path.name.startsWith(p))) continue;
    for (const hyStart of [true, false]) {
      const name = `${path.name}.${hyStart ? 'hystart' : 'no_hystart'}`;
      const t0 = performance.now();
      const o = measurePath(path, hyStart);
      const real = (performance.now() - t0) / 1000;
      bench.note(
        `queue.${name}: ${o.mbps.toFixed(1)} Mbit/s; sender RTT median ${o.median.toFixed(1)} ` +
          `p90 ${o.p90.toFixed(1)} peak ${o.peak.toFixed(1)} ms (min ${o.min.toFixed(1)}); ` +
          `client stream window up to ${(o.window / 1048576).toFixed(2)} MiB; ${real.toFixed(1)} s real`,
      );
    }
  }
}

// Standalone: node --import tsx bench/queue.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  run(
    createBench(
      'queue',
      (line) => process.stdout.write(line + '\n'),
      1,
      () => true,
    ),
  );
}
