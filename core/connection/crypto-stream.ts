/**
 * The CRYPTO stream of one encryption level (RFC 9000 §19.6, RFC 9001 §4.1.3): handshake bytes
 * to send (with retransmission of lost ranges) and received bytes reassembled in order for TLS,
 * with the buffering bound of RFC 9000 §7.5 (CRYPTO_BUFFER_EXCEEDED). CRYPTO data is not flow
 * controlled and is small (kilobytes), so it is kept in one growing buffer.
 */
import { QuicError, TransportError } from '../wire/errors.ts';
import { FrameType } from '../wire/frame-types.ts';

/** RFC 9000 §7.5: at least 4096 bytes must be buffered; we allow this much beyond the read point. */
export const MAX_CRYPTO_BUFFER = 64 * 1024;

/** A set of disjoint half-open ranges [start, end), sorted, merged on insert. */
export class RangeSet {
  /** Flat pairs: start0, end0, start1, end1... ascending. */
  readonly r: number[] = [];

  get empty(): boolean {
    return this.r.length === 0;
  }

  /** Adds [start, end). */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    // Find the first range whose end >= start (merge candidates begin there).
    let i = 0;
    while (i < r.length && r[i + 1] < start) i += 2;
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && r[j] <= e) {
      s = Math.min(s, r[j]);
      e = Math.max(e, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, s, e);
  }

  /** Removes [start, end). */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i];
      const b = r[i + 1];
      if (b <= start || a >= end) out.push(a, b);
      else {
        if (a < start) out.push(a, start);
        if (b > end) out.push(end, b);
      }
    }
    r.length = 0;
    r.push(...out);
  }

  /** Whether [start, end) is entirely in the set. */
  contains(start: number, end: number): boolean {
    const r = this.r;
    for (let i = 0; i < r.length; i += 2) if (r[i] <= start && r[i + 1] >= end) return true;
    return false;
  }

  /** The first range, or null. */
  first(): [number, number] | null {
    return this.r.length === 0 ? null : [this.r[0], this.r[1]];
  }

  clear(): void {
    this.r.length = 0;
  }
}

/** The sending half of a CRYPTO stream. */
export class CryptoSendBuffer {
  private buf = new Uint8Array(1024);
  /** Bytes queued so far (the next write's offset). */
  private end = 0;
  /** The next never-sent offset. */
  private sent = 0;
  private readonly lost = new RangeSet();
  private readonly acked = new RangeSet();

  /** Queues handshake bytes from TLS. */
  write(data: Uint8Array): void {
    if (this.end + data.length > this.buf.length) {
      let n = this.buf.length * 2;
      while (n < this.end + data.length) n *= 2;
      const b = new Uint8Array(n);
      b.set(this.buf.subarray(0, this.end));
      this.buf = b;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
  }

  /** Whether there is anything to send (new or lost bytes). */
  get hasData(): boolean {
    return !this.lost.empty || this.sent < this.end;
  }

  /** Bytes queued and not yet acknowledged (for PTO probes). */
  get hasUnacked(): boolean {
    return !this.acked.contains(0, this.end) && this.end > 0;
  }

  /** The next range to send, at most `max` bytes: lost bytes first, then new ones. */
  emit(max: number): { offset: number; data: Uint8Array } | null {
    if (max <= 0) return null;
    const l = this.lost.first();
    if (l !== null) {
      const start = l[0];
      const end = Math.min(l[1], start + max);
      this.lost.remove(start, end);
      return { offset: start, data: this.buf.subarray(start, end) };
    }
    if (this.sent < this.end) {
      const start = this.sent;
      const end = Math.min(this.end, start + max);
      this.sent = end;
      return { offset: start, data: this.buf.subarray(start, end) };
    }
    return null;
  }

  /** [offset, offset + length) was acknowledged. */
  onAck(offset: number, length: number): void {
    this.acked.add(offset, offset + length);
    this.lost.remove(offset, offset + length);
  }

  /** [offset, offset + length) was lost: queue what of it is not acknowledged. */
  onLost(offset: number, length: number): void {
    const end = offset + length;
    this.lost.add(offset, end);
    for (let i = 0; i < this.acked.r.length; i += 2) this.lost.remove(this.acked.r[i], this.acked.r[i + 1]);
  }

  /** Queues every sent byte not yet acknowledged for sending again (PTO probe, Retry, RFC 9002 §6.2.4). */
  requeueUnacked(): void {
    this.onLost(0, this.sent);
  }

  /** Forgets everything: a new connection attempt starts its CRYPTO stream at 0 (RFC 9368 §2.4). */
  reset(): void {
    this.end = 0;
    this.sent = 0;
    this.lost.clear();
    this.acked.clear();
  }
}

/** The receiving half of a CRYPTO stream: in-order delivery to TLS, bounded reassembly. */
export class CryptoRecvBuffer {
  /** The next offset TLS expects. */
  private readOffset = 0;
  /** Out-of-order chunks by offset (disjoint, all above readOffset). */
  private pending: { offset: number; data: Uint8Array }[] = [];

  /**
   * A CRYPTO frame's data; returns the bytes now deliverable in order (possibly several chunks),
   * or an empty array. Raises CRYPTO_BUFFER_EXCEEDED beyond the bound (RFC 9000 §7.5).
   */
  onData(offset: number, data: Uint8Array): Uint8Array[] {
    let end = offset + data.length;
    if (end <= this.readOffset) return [];
    // RFC 9000 §7.5: data too far beyond what was consumed.
    if (end - this.readOffset > MAX_CRYPTO_BUFFER)
      throw new QuicError(
        TransportError.CRYPTO_BUFFER_EXCEEDED,
        'too much out-of-order CRYPTO data',
        FrameType.CRYPTO,
      );
    if (offset < this.readOffset) {
      data = data.subarray(this.readOffset - offset);
      offset = this.readOffset;
    }
    const out: Uint8Array[] = [];
    if (offset === this.readOffset) {
      out.push(data);
      this.readOffset = end;
      // Drain pending chunks that now follow.
      while (this.pending.length > 0 && this.pending[0].offset <= this.readOffset) {
        const c = this.pending.shift() as { offset: number; data: Uint8Array };
        const cEnd = c.offset + c.data.length;
        if (cEnd > this.readOffset) {
          out.push(c.data.subarray(this.readOffset - c.offset));
          this.readOffset = cEnd;
        }
      }
      return out;
    }
    // Out of order: insert, trimmed against the chunks already held (copy: the packet buffer is
    // not ours to keep).
    const p = this.pending;
    let i = 0;
    while (i < p.length && p[i].offset + p[i].data.length <= offset) i++;
    while (offset < end) {
      const next = p[i];
      if (next !== undefined && next.offset <= offset) {
        // Overlaps an existing chunk: skip the covered part.
        const skip = next.offset + next.data.length - offset;
        offset += skip;
        data = data.subarray(skip);
        i++;
        continue;
      }
      const stop = next === undefined ? end : Math.min(end, next.offset);
      p.splice(i, 0, { offset, data: data.slice(0, stop - offset) });
      i++;
      data = data.subarray(stop - offset);
      offset = stop;
      end = offset + data.length;
    }
    return out;
  }

  /** Bytes held out of order. */
  get buffered(): number {
    let n = 0;
    for (const c of this.pending) n += c.data.length;
    return n;
  }
}
