/**
 * Chart data from the contract's series: the window's copy of each series kept up to date from
 * batch deltas, merged rows for recharts, and the RTT variance band.
 */
import type { SeriesData, SeriesDelta, SeriesName, SeriesPoint, SeriesUpdate } from '../store/types.ts';

/**
 * The series after one batch's update: `reset` replaces a series, otherwise its points are appended
 * (a point not after the last one replaces its value: the same instant restated), the same rule
 * main/session/series.ts applies to its record of this copy. Unchanged series keep their arrays.
 */
export function applySeriesUpdate(series: SeriesData, update: SeriesUpdate): SeriesData {
  const names = Object.keys(update) as SeriesName[];
  if (names.length === 0) return series;
  const out: SeriesData = { ...series };
  for (const name of names) out[name] = applyDelta(series[name], update[name] as SeriesDelta);
  return out;
}

function applyDelta(prev: readonly SeriesPoint[] | undefined, d: SeriesDelta): SeriesPoint[] {
  if (d.reset || prev === undefined) return d.points.slice();
  const next = prev.slice();
  for (const p of d.points) {
    const n = next.length;
    if (n > 0 && p[0] <= next[n - 1][0]) next[n - 1] = [next[n - 1][0], p[1]];
    else next.push(p);
  }
  return next;
}

/** One chart row: time (ms) and any of the series' values at that time. */
export type ChartRow = { t: number } & Partial<Record<string, number | [number, number]>>;

/** Most rows of one chart: about one per two pixels of a chart's width (recharts' cost grows with rows). */
export const MAX_CHART_ROWS = 200;

/**
 * Merges series (each sorted by time and downsampled independently, so their times differ) into
 * chart rows. Up to `maxRows` distinct times the rows are the union of the points; beyond, time is
 * cut into `maxRows` equal buckets and each series contributes its largest value in a bucket (peaks
 * of cwnd or bytes in flight survive) and nothing where it has no point (lines connect across).
 */
export function mergeSeries(
  series: SeriesData,
  names: readonly SeriesName[],
  maxRows = MAX_CHART_ROWS,
): ChartRow[] {
  let t0 = Infinity;
  let t1 = -Infinity;
  let points = 0;
  for (const name of names) {
    const s = series[name];
    if (s === undefined || s.length === 0) continue;
    t0 = Math.min(t0, s[0][0]);
    t1 = Math.max(t1, s[s.length - 1][0]);
    points += s.length;
  }
  if (points === 0) return [];
  const rows = new Map<number, ChartRow>();
  if (points <= maxRows || t1 <= t0) {
    for (const name of names) {
      for (const [t, v] of series[name] ?? []) {
        let row = rows.get(t);
        if (row === undefined) rows.set(t, (row = { t }));
        const prev = row[name];
        if (typeof prev !== 'number' || v > prev) row[name] = v;
      }
    }
    return [...rows.values()].sort((a, b) => a.t - b.t);
  }
  const width = (t1 - t0) / maxRows;
  const bucketRows: (ChartRow | undefined)[] = new Array(maxRows + 1);
  for (const name of names) {
    for (const [t, v] of series[name] ?? []) {
      const b = Math.min(maxRows, Math.floor((t - t0) / width));
      let row = bucketRows[b];
      if (row === undefined) bucketRows[b] = row = { t: b === maxRows ? t1 : t0 + b * width };
      const prev = row[name];
      if (typeof prev !== 'number' || v > prev) row[name] = v;
    }
  }
  return bucketRows.filter((r): r is ChartRow => r !== undefined);
}

/** The value of a step series at time t (its last point at or before t), or undefined. */
export function valueAt(points: readonly SeriesPoint[], t: number): number | undefined {
  let lo = 0;
  let hi = points.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid][0] <= t) {
      found = points[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Adds `band: [smoothed - rttvar, smoothed + rttvar]` to each row that has a smoothed RTT
 * (RFC 9002 §5.3: rttvar is the mean deviation of the RTT samples).
 */
export function addVarianceBand(rows: ChartRow[], series: SeriesData): ChartRow[] {
  const variance = series.rtt_variance ?? [];
  for (const row of rows) {
    const s = row.rtt_smoothed;
    if (typeof s !== 'number') continue;
    const v = valueAt(variance, row.t);
    if (v !== undefined) row.band = [Math.max(0, s - v), s + v];
  }
  return rows;
}

/** Total points of the named series (for "has data" checks and labels). */
export function pointCount(series: SeriesData, names: readonly SeriesName[]): number {
  let n = 0;
  for (const name of names) n += series[name]?.length ?? 0;
  return n;
}

/** The last value of a series, or null. */
export function lastValue(series: SeriesData, name: SeriesName): number | null {
  const s = series[name];
  return s !== undefined && s.length > 0 ? s[s.length - 1][1] : null;
}

/**
 * Up to about `count` round tick values covering [lo, hi], starting at or below lo, at least
 * `minStep` apart (1 for counts). Cheap: no decimal maths.
 */
export function niceTicks(lo: number, hi: number, count = 5, minStep = 0): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi <= lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo));
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag);
  const first = Math.floor(lo / step);
  // Rounded to the step's own decimals (0.1 + 0.2 style noise would show in the labels).
  const decimals = Math.min(20, Math.max(0, 2 - Math.floor(Math.log10(step))));
  const ticks: number[] = [];
  for (let i = first; ticks.length < count + 2; i++) {
    const v = Number((i * step).toFixed(decimals));
    ticks.push(v);
    if (v >= hi) break;
  }
  return ticks;
}

/** The largest value of the named keys over the rows (band tuples count by their upper end). */
export function maxOf(rows: readonly ChartRow[], keys: readonly string[]): number {
  let m = 0;
  for (const row of rows) {
    for (const k of keys) {
      const v = row[k];
      const x = Array.isArray(v) ? v[1] : v;
      if (typeof x === 'number' && x > m) m = x;
    }
  }
  return m;
}

/** Ticks for a byte axis: round numbers of B, KiB, MiB or GiB (5 KiB, not 4.88 KiB). */
export function byteTicks(max: number, count = 5): number[] {
  let unit = 1;
  while (max / unit >= 1024 && unit < 1024 ** 3) unit *= 1024;
  return niceTicks(0, max / unit, count, unit === 1 ? 1 : 0).map((t) => t * unit);
}
