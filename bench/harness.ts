/**
 * The benchmark harness: warm-up, a fixed number of timed iterations per round, the median
 * over a few rounds, and one line per figure in a fixed format:
 *   `crypto.node.protect_1rtt_1200B_aes128gcm      3.95 µs/op     253k pkt/s`
 */

import { hrtime } from 'node:process';

/** How one figure is measured. */
export interface MeasureOptions {
  /** Timed calls per round (fixed, so runs are comparable). */
  iterations: number;
  /** Untimed calls first, for the JIT and caches (default: iterations / 4). */
  warmup?: number;
  /** Rounds; the median round is reported (default: the harness's rounds). */
  rounds?: number;
  /** The unit of the rate column (default 'op/s'), e.g. 'pkt/s'. */
  rateUnit?: string;
}

/** One measured figure. */
export interface Measurement {
  readonly name: string;
  /** Median microseconds per call. */
  readonly usPerOp: number;
  /** Calls per second implied by the median. */
  readonly perSecond: number;
  /** Every round's µs/op, in run order. */
  readonly rounds: readonly number[];
}

/** What a benchmark group receives. */
export interface Bench {
  /** Times `fn` and prints its line; returns the figure. */
  measure(name: string, fn: (i: number) => void, opts: MeasureOptions): Measurement;
  /** Prints a free-form note line (prefixed with '#'). */
  note(text: string): void;
}

/** A benchmark group module: `bench/<group>.ts` exporting `run`. */
export interface BenchGroup {
  run(bench: Bench): void | Promise<void>;
}

const NAME_WIDTH = 48;

/** Formats a rate as 253k / 1.25M. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${Math.round(perSecond / 1e3)}k`;
  return perSecond.toFixed(1);
}

/** Formats µs/op with three significant figures. */
export function formatMicros(us: number): string {
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A harness that prints to `out`, with `defaultRounds` rounds and names filtered by `filter`. */
export function createBench(
  prefix: string,
  out: (line: string) => void,
  defaultRounds: number,
  filter: (fullName: string) => boolean,
): Bench {
  return {
    measure(name, fn, opts) {
      const full = `${prefix}.${name}`;
      const n = opts.iterations;
      const rounds = opts.rounds ?? defaultRounds;
      const empty: Measurement = { name: full, usPerOp: NaN, perSecond: NaN, rounds: [] };
      if (!filter(full)) return empty;
      const warm = opts.warmup ?? Math.max(1, n >> 2);
      for (let i = 0; i < warm; i++) fn(i);
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = hrtime.bigint();
        for (let i = 0; i < n; i++) fn(i);
        times.push(Number(hrtime.bigint() - t0) / 1000 / n);
      }
      const us = median(times);
      const perSecond = 1e6 / us;
      out(
        `${full.padEnd(NAME_WIDTH)} ${formatMicros(us).padStart(8)} µs/op ${formatRate(perSecond).padStart(8)} ${opts.rateUnit ?? 'op/s'}`,
      );
      return { name: full, usPerOp: us, perSecond, rounds: times };
    },
    note(text) {
      out(`# ${text}`);
    },
  };
}
