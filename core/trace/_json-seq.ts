/**
 * What the qlog (-14) and qvis (0.3) JSON-SEQ writers share: the record framing of RFC 7464 onto
 * a caller's sink, event times relative to a reference time, and the vantage point option.
 * Internal to core/trace (not re-exported).
 */
import type { VantagePoint } from './qlog-writer.ts';

/** RFC 7464 §2.1: the record separator that starts every JSON-SEQ record. */
export const RECORD_SEPARATOR = '\u001e';

/** Writes JSON-SEQ records (RS, one JSON text, LF), one sink call each, and times them. */
export class JsonSeqRecords {
  private readonly scale: number;

  /** `timePrecision`: decimal places kept of each relative time in ms (default 3: microseconds). */
  constructor(
    private readonly sink: (chunk: string) => void,
    private readonly referenceTime: number,
    timePrecision: number | undefined,
  ) {
    if (!Number.isFinite(referenceTime)) {
      throw new RangeError(`referenceTime must be a finite number: ${referenceTime}`);
    }
    this.scale = 10 ** (timePrecision ?? 3);
  }

  /** `timeMs` relative to the reference time, rounded to the precision. */
  relativeTime(timeMs: number): number {
    return Math.round((timeMs - this.referenceTime) * this.scale) / this.scale;
  }

  /** Writes `value` as one record. */
  write(value: unknown): void {
    this.sink(RECORD_SEPARATOR + JSON.stringify(value) + '\n');
  }
}

/** The VantagePoint of a writer's `vantagePoint` option: a bare type is named "quicscope". */
export function vantagePointOf(v: VantagePoint['type'] | VantagePoint): VantagePoint {
  return typeof v === 'string' ? { name: 'quicscope', type: v } : v;
}
