/**
 * The chart series of a session: points appended as qlog recovery_metrics_updated events and stats
 * samples arrive, memory bounded per series (a long series is compacted with LTTB), handed to the
 * window downsampled with LTTB to at most MAX_SERIES_POINTS points, only when they changed.
 */
import { MAX_SERIES_POINTS } from '../ipc/contract.ts';
import type { SeriesName, SeriesPoint, SeriesUpdate } from '../ipc/contract.ts';
import { lttb } from './lttb.ts';

/** Most raw points kept per series; past it the series is compacted to half with LTTB. */
export const MAX_RAW_POINTS = 20_000;

/** Appends and downsamples the series of one session. */
export class SeriesStore {
  private readonly data = new Map<SeriesName, SeriesPoint[]>();
  private readonly changed = new Set<SeriesName>();

  constructor(
    private readonly maxRaw = MAX_RAW_POINTS,
    private readonly maxOut = MAX_SERIES_POINTS,
  ) {}

  /**
   * Adds a point at `time` (ms since session start, non-decreasing per series). A value equal to
   * the last one is skipped when `step` (a step function such as cwnd needs only its changes); a
   * point at the same time as the last one replaces it.
   */
  add(name: SeriesName, time: number, value: number, step = true): void {
    if (!Number.isFinite(value) || !Number.isFinite(time)) return;
    let arr = this.data.get(name);
    if (arr === undefined) this.data.set(name, (arr = []));
    const n = arr.length;
    if (n > 0) {
      const last = arr[n - 1];
      if (step && last[1] === value) return;
      if (time <= last[0]) {
        // Same instant (or a clock step back): the newest value wins.
        last[1] = value;
        this.changed.add(name);
        return;
      }
    }
    arr.push([time, value]);
    if (arr.length > this.maxRaw) this.data.set(name, lttb(arr, this.maxRaw >> 1));
    this.changed.add(name);
  }

  /** The last value of a series, or null. */
  last(name: SeriesName): number | null {
    const arr = this.data.get(name);
    return arr === undefined || arr.length === 0 ? null : arr[arr.length - 1][1];
  }

  /** Whether some series changed since the last `take`. */
  get dirty(): boolean {
    return this.changed.size > 0;
  }

  /** The changed series, whole and downsampled; resets the changed set. */
  take(): SeriesUpdate {
    const out: SeriesUpdate = {};
    for (const name of this.changed) {
      const arr = this.data.get(name) as SeriesPoint[];
      // A copy of the points: the window's copy must not change under it (Electron clones, but
      // the web transport serializes later).
      out[name] = lttb(arr, this.maxOut).map((p) => [p[0], p[1]] as SeriesPoint);
    }
    this.changed.clear();
    return out;
  }

  /** Every series, whole and downsampled (for a summary export). */
  all(): SeriesUpdate {
    const out: SeriesUpdate = {};
    for (const [name, arr] of this.data)
      out[name] = lttb(arr, this.maxOut).map((p) => [p[0], p[1]] as SeriesPoint);
    return out;
  }
}
