/**
 * The chart series of a session. Points arrive from qlog recovery_metrics_updated events and stats
 * samples; each series is kept twice:
 * - raw, for exports: every point, memory bounded (past MAX_RAW_POINTS, compacted with LTTB);
 * - the window's copy, which batches update by deltas: the points added since the previous update
 *   (thinned with LTTB to what the chart can show for that slice of time) are appended; when the
 *   copy passes MAX_WINDOW_SERIES_POINTS it is downsampled with LTTB to MAX_SERIES_POINTS and sent
 *   whole (`reset`). A snapshot sends every copy whole. The window applies the same append rule,
 *   so both copies stay identical without sending history again.
 */
import { MAX_SERIES_POINTS, MAX_WINDOW_SERIES_POINTS } from '../ipc/contract.ts';
import type { SeriesData, SeriesName, SeriesPoint, SeriesUpdate } from '../ipc/contract.ts';
import { lttb } from './lttb.ts';

/** Most raw points kept per series; past it the series is compacted to half with LTTB. */
export const MAX_RAW_POINTS = 20_000;

/** Fewest points a delta is thinned to (a short slice of a long session still shows its shape). */
export const MIN_DELTA_POINTS = 8;

/** Times and values are rounded to 1/1000 (µs for times and RTTs): finer digits only cost bytes. */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Appends `points` to `copy` in place: a point not after the copy's last one replaces its value
 * (the same instant restated). The window applies this same rule (renderer/src/lib/series.ts).
 */
export function appendPoints(copy: SeriesPoint[], points: readonly SeriesPoint[]): void {
  for (const p of points) {
    const n = copy.length;
    if (n > 0 && p[0] <= copy[n - 1][0]) copy[n - 1] = [copy[n - 1][0], p[1]];
    else copy.push([p[0], p[1]]);
  }
}

/** One series: raw points, the window's copy, and what was added since the last update. */
interface Series {
  raw: SeriesPoint[];
  view: SeriesPoint[];
  fresh: SeriesPoint[];
}

/** Appends, downsamples and hands out the series of one session. */
export class SeriesStore {
  private readonly data = new Map<SeriesName, Series>();
  private readonly changed = new Set<SeriesName>();

  constructor(
    private readonly maxRaw = MAX_RAW_POINTS,
    private readonly maxOut = MAX_SERIES_POINTS,
    private readonly maxView = MAX_WINDOW_SERIES_POINTS,
  ) {}

  /**
   * Adds a point at `time` (ms since session start, non-decreasing per series). A value equal to
   * the last one is skipped when `step` (a step function such as cwnd needs only its changes); a
   * point at the same time as the last one replaces it.
   */
  add(name: SeriesName, time: number, value: number, step = true): void {
    if (!Number.isFinite(value) || !Number.isFinite(time)) return;
    time = round3(time);
    value = round3(value);
    let s = this.data.get(name);
    if (s === undefined) this.data.set(name, (s = { raw: [], view: [], fresh: [] }));
    const raw = s.raw;
    const n = raw.length;
    if (n > 0) {
      const last = raw[n - 1];
      if (step && last[1] === value) return;
      if (time <= last[0]) {
        // Same instant (or a clock step back): the newest value wins, at the last point's time.
        last[1] = value;
        const f = s.fresh;
        if (f.length > 0 && f[f.length - 1][0] === last[0]) f[f.length - 1] = [last[0], value];
        else f.push([last[0], value]);
        this.changed.add(name);
        return;
      }
    }
    raw.push([time, value]);
    s.fresh.push([time, value]);
    if (raw.length > this.maxRaw) s.raw = lttb(raw, this.maxRaw >> 1);
    // Not taken for a long while (no window pace): keep the pending delta bounded too.
    if (s.fresh.length > this.maxRaw) s.fresh = lttb(s.fresh, this.maxRaw >> 1);
    this.changed.add(name);
  }

  /** The last value of a series, or null. */
  last(name: SeriesName): number | null {
    const raw = this.data.get(name)?.raw;
    return raw === undefined || raw.length === 0 ? null : raw[raw.length - 1][1];
  }

  /** Whether some series changed since the last `take`. */
  get dirty(): boolean {
    return this.changed.size > 0;
  }

  /** The deltas of the changed series (fresh copies of the points); resets the changed set. */
  take(): SeriesUpdate {
    const out: SeriesUpdate = {};
    for (const name of this.changed) {
      const s = this.data.get(name) as Series;
      const fresh = this.thin(s);
      s.fresh = [];
      appendPoints(s.view, fresh);
      if (s.view.length > this.maxView) {
        // Rewrite the history: the window replaces its copy.
        s.view = lttb(s.view, this.maxOut).slice();
        out[name] = { reset: true, points: s.view.map((p) => [p[0], p[1]] as SeriesPoint) };
      } else {
        out[name] = { reset: false, points: fresh };
      }
    }
    this.changed.clear();
    return out;
  }

  /**
   * The fresh points of `s`, thinned with LTTB to what the chart can show for their slice of time:
   * about 2 x MAX_SERIES_POINTS over the whole series' span, pro rata (at least MIN_DELTA_POINTS).
   */
  private thin(s: Series): SeriesPoint[] {
    const fresh = s.fresh;
    const n = fresh.length;
    if (n <= MIN_DELTA_POINTS) return fresh;
    const view = s.view;
    const t0 = view.length > 0 ? view[0][0] : fresh[0][0];
    const from = view.length > 0 ? view[view.length - 1][0] : t0;
    const t1 = fresh[n - 1][0];
    const span = Math.max(t1 - t0, 1e-3);
    const share = Math.ceil((2 * this.maxOut * (t1 - from)) / span);
    const keep = Math.min(this.maxOut, Math.max(MIN_DELTA_POINTS, share));
    return n <= keep ? fresh : lttb(fresh, keep);
  }

  /** Every series' window copy, whole (`reset`), as it stands after the last `take`. */
  snapshot(): SeriesUpdate {
    const out: SeriesUpdate = {};
    for (const [name, s] of this.data)
      if (s.view.length > 0)
        out[name] = { reset: true, points: s.view.map((p) => [p[0], p[1]] as SeriesPoint) };
    return out;
  }

  /** Every series from its raw points, downsampled to MAX_SERIES_POINTS (for a summary export). */
  all(): SeriesData {
    const out: SeriesData = {};
    for (const [name, s] of this.data)
      out[name] = lttb(s.raw, this.maxOut).map((p) => [p[0], p[1]] as SeriesPoint);
    return out;
  }
}
