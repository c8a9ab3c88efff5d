/**
 * Out-of-order reassembly for a receiving stream (RFC 9000 §2.2): received bytes kept as disjoint
 * chunks ordered by offset, read from the front. Each received byte is copied once, when first
 * stored; duplicates and overlaps are trimmed against what is already held and never copied again.
 * In-order arrival appends in O(1); filling a hole is a binary search plus one array splice.
 */
import { QuicError, TransportError } from '../wire/errors.ts';

const EMPTY = new Uint8Array(0);

/** Ordered, non-overlapping received chunks from `readOffset` on. */
export class RecvBuffer {
  /** Everything below has been read (or discarded). */
  readOffset = 0;
  /** Bytes held. */
  bytes = 0;
  private offs: number[] = [];
  private bufs: Uint8Array[] = [];
  private head = 0;

  /** `maxFragments` bounds the number of chunks held (RFC 9000 §21.7 mitigation). */
  constructor(readonly maxFragments = Infinity) {}

  /** Number of chunks held. */
  get fragments(): number {
    return this.offs.length - this.head;
  }

  /** Offset just past the contiguous bytes available from `readOffset`. */
  get contiguousEnd(): number {
    let end = this.readOffset;
    for (let i = this.head; i < this.offs.length && this.offs[i] === end; i++) end += this.bufs[i].length;
    return end;
  }

  /** Whether bytes are ready to read at `readOffset`. */
  get readable(): boolean {
    return this.head < this.offs.length && this.offs[this.head] === this.readOffset;
  }

  /**
   * Stores the parts of `data` (at stream `offset`) that are neither below `readOffset` nor already
   * held, copying only those. Returns the number of new bytes stored. Too many fragments is a
   * PROTOCOL_VIOLATION attributed to `frameType`.
   */
  insert(offset: number, data: Uint8Array, frameType: number): number {
    const end = offset + data.length;
    let s = offset > this.readOffset ? offset : this.readOffset;
    if (s >= end) return 0;
    const offs = this.offs,
      bufs = this.bufs;
    let n = offs.length;
    if (this.head === n) {
      this.place(n, s, data.subarray(s - offset), frameType);
      return end - s;
    }
    const lastEnd = offs[n - 1] + bufs[n - 1].length;
    if (s >= lastEnd) {
      this.place(n, s, data.subarray(s - offset), frameType);
      return end - s;
    }
    // First chunk ending after s.
    let lo = this.head,
      hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offs[mid] + bufs[mid].length <= s) lo = mid + 1;
      else hi = mid;
    }
    let i = lo,
      added = 0;
    while (s < end) {
      if (i >= n) {
        this.place(i, s, data.subarray(s - offset), frameType);
        added += end - s;
        break;
      }
      const cs = offs[i];
      if (cs > s) {
        const e = cs < end ? cs : end;
        this.place(i, s, data.subarray(s - offset, e - offset), frameType);
        added += e - s;
        n++;
        i++;
        s = e;
        continue;
      }
      const ce = cs + bufs[i].length;
      if (ce > s) s = ce;
      i++;
    }
    return added;
  }

  /** Copies contiguous bytes from the front into `out` at `at`, up to `max`; returns the count. */
  readInto(out: Uint8Array, at: number, max: number): number {
    const offs = this.offs,
      bufs = this.bufs;
    let n = 0;
    while (n < max && this.head < offs.length && offs[this.head] === this.readOffset) {
      const c = bufs[this.head];
      const take = Math.min(c.length, max - n);
      if (take === c.length) {
        out.set(c, at + n);
        this.dropHead();
      } else {
        out.set(c.subarray(0, take), at + n);
        bufs[this.head] = c.subarray(take);
        offs[this.head] += take;
      }
      n += take;
      this.readOffset += take;
      this.bytes -= take;
    }
    this.compact();
    return n;
  }

  /** Removes and returns the front chunk (up to `max` bytes) if it starts at `readOffset`; no copy. */
  readChunk(max = Infinity): Uint8Array | null {
    if (!this.readable) return null;
    const c = this.bufs[this.head];
    let out: Uint8Array;
    if (c.length <= max) {
      out = c;
      this.dropHead();
    } else {
      out = c.subarray(0, max);
      this.bufs[this.head] = c.subarray(max);
      this.offs[this.head] += max;
    }
    this.readOffset += out.length;
    this.bytes -= out.length;
    this.compact();
    return out;
  }

  /** Drops everything held and moves `readOffset` to `to` (≥ the current one). */
  discard(to: number): void {
    this.offs = [];
    this.bufs = [];
    this.head = 0;
    this.bytes = 0;
    if (to > this.readOffset) this.readOffset = to;
  }

  private place(i: number, s: number, part: Uint8Array, frameType: number): void {
    if (this.offs.length - this.head >= this.maxFragments)
      throw new QuicError(
        TransportError.PROTOCOL_VIOLATION, // RFC 9000 §21.7: limit the size of tracking structures
        `more than ${this.maxFragments} out-of-order stream fragments`,
        frameType,
      );
    const copy = part.slice();
    if (i === this.offs.length) {
      this.offs.push(s);
      this.bufs.push(copy);
    } else {
      this.offs.splice(i, 0, s);
      this.bufs.splice(i, 0, copy);
    }
    this.bytes += copy.length;
  }

  private dropHead(): void {
    this.bufs[this.head] = EMPTY;
    this.head++;
  }

  private compact(): void {
    const h = this.head;
    if (h === this.offs.length) {
      if (h > 0) {
        this.offs.length = 0;
        this.bufs.length = 0;
        this.head = 0;
      }
    } else if (h > 32 && h * 2 > this.offs.length) {
      this.offs.splice(0, h);
      this.bufs.splice(0, h);
      this.head = 0;
    }
  }
}
