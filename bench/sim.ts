/**
 * The network simulator's cost: (1) its own overhead per datagram, with trivial endpoints that
 * only hand bytes over (send → link with loss and jitter → recv), and (2) a 10 MB transfer between
 * a real client and server over a 10 ms, 1%-loss path, as the e2e suite runs them, in MB/s of
 * real time (what decides how long `npm test` takes), with the simulator's share estimated from (1).
 *
 *   npm run bench -- sim          or   node --import tsx bench/sim.ts
 */
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { Sim } from '../test/helpers/netsim.ts';
import type { Address, SimConnection } from '../test/helpers/netsim.ts';
import { handshake, makePair, transfer, withLimits } from '../test/helpers/pair.ts';
import { createBench } from './harness.ts';
import type { Bench } from './harness.ts';

const DATAGRAMS = 20_000;

/** Sends `count` 1200-byte datagrams as fast as send() is called; receives and forgets. */
class Blaster implements SimConnection {
  private left: number;
  received = 0;

  constructor(
    count: number,
    private readonly local: Address,
    private readonly peer: Address,
  ) {
    this.left = count;
  }

  recv(datagram: Uint8Array): number {
    this.received++;
    return datagram.length;
  }

  send(out: Uint8Array, now: number) {
    if (this.left === 0) return null;
    this.left--;
    out[0] = this.left & 0xff;
    return { length: 1200, from: this.local, to: this.peer, at: now + (DATAGRAMS - this.left) * 0.01 };
  }

  timeout(): number | null {
    return null;
  }

  onTimeout(): void {}

  isClosed(): boolean {
    return false;
  }

  isEstablished(): boolean {
    return true;
  }
}

/** Runs the simulator benchmarks. */
export function run(bench: Bench): void {
  const c: Address = { address: '10.0.0.1', port: 1 };
  const s: Address = { address: '10.0.0.2', port: 2 };
  const overhead = bench.measure(
    'overhead_per_datagram',
    () => {
      const client = new Blaster(DATAGRAMS, c, s);
      const server = new Blaster(0, s, c);
      const sim = new Sim(client, server, {
        link: { loss: 0.01, jitter: 2 },
        sendBufferSize: 1500,
        clientAddress: c,
        serverAddress: s,
      });
      sim.runFor(DATAGRAMS * 0.01 + 50);
      if (server.received < DATAGRAMS * 0.97) throw new Error(`only ${server.received} datagrams arrived`);
    },
    { iterations: 1, warmup: 1, rateUnit: 'runs/s' },
  );
  bench.note(
    `simulator overhead: ${(overhead.usPerOp / DATAGRAMS).toFixed(2)} µs per datagram (send, link, event queue, recv)`,
  );

  const bytes = Number(process.env.SIM_MB ?? 10) * 1e6;
  let datagrams = 0;
  const t = bench.measure(
    `transfer_${bytes / 1e6}MB_10ms_1pct_loss`,
    () => {
      const sim = makePair({ seed: 1, traceEvents: 0, link: { loss: 0.01 } });
      handshake(sim);
      const r = transfer(
        sim,
        withLimits({ bytes, chunk: 256 * 1024, maxTime: 3_600_000, maxEvents: 20_000_000 }),
      );
      if (!r.intact) throw new Error('transfer not intact');
      datagrams = sim.c2s.counters.sent + sim.s2c.counters.sent;
    },
    { iterations: 1, warmup: 1, rounds: 3, rateUnit: 'runs/s' },
  );
  const seconds = t.usPerOp / 1e6;
  const simShare = ((overhead.usPerOp / DATAGRAMS) * datagrams) / t.usPerOp;
  bench.note(
    `${(bytes / 1e6 / seconds).toFixed(1)} MB/s real over the simulator; ${datagrams} datagrams; ` +
      `simulator share ≈ ${(simShare * 100).toFixed(0)}% (the rest: both connections and SHA-256)`,
  );
}

// Standalone: node --import tsx bench/sim.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  run(
    createBench(
      'sim',
      (line) => process.stdout.write(line + '\n'),
      3,
      () => true,
    ),
  );
  process.stdout.write(`# ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
