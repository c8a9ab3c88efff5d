/**
 * Pacing (RFC 9002 §7.7) as a leaky bucket: it fills at rate = N * cwnd / smoothed_rtt (N = 1.25)
 * up to a burst allowance (by default the initial window, as §7.7 suggests), and each paced packet
 * takes its size out. It has no timer of its own: the connection asks nextSendTime and makes that
 * part of its next deadline. Only in-flight packets are paced; ACK-only packets are not (§7.7).
 */
import { initialWindow } from './types.ts';

/** RFC 9002 §7.7: the pacing gain N ("small, but at least 1 (for example, 1.25)"). */
export const PACING_GAIN = 1.25;

/** A deterministic leaky-bucket pacer (RFC 9002 §7.7). Times in ms, sizes in bytes. */
export class Pacer {
  /** The fill rate in bytes per ms (Infinity: no pacing, e.g. before setRate or with a zero RTT). */
  rate = Infinity;
  /** The bucket size in bytes: the largest burst sent back to back. */
  capacity: number;
  private tokens: number;
  private lastRefill: number | null = null;

  /**
   * `maxDatagramSize` sizes the default burst: the initial window (10 packets of 1200 to 1472
   * bytes). `burstBytes` overrides it.
   */
  constructor(maxDatagramSize: number, burstBytes: number = initialWindow(maxDatagramSize)) {
    if (!(burstBytes > 0)) throw new RangeError(`burst must be positive, got ${burstBytes}`);
    this.capacity = burstBytes;
    this.tokens = burstBytes;
  }

  /**
   * RFC 9002 §7.7: rate = N * congestion_window / smoothed_rtt (bytes per ms). With `now`, the
   * bucket is first filled at the old rate up to `now`, so a new rate never applies to the past.
   */
  setRate(cwnd: number, smoothedRtt: number, now?: number): void {
    if (now !== undefined && this.lastRefill !== null && now > this.lastRefill) {
      this.tokens = this.tokensAt(now);
      this.lastRefill = now;
    }
    this.rate = smoothedRtt > 0 ? (PACING_GAIN * cwnd) / smoothedRtt : Infinity;
  }

  /** The pacing rate in bits per second, as qlog's pacing_rate (0 when unpaced). */
  get bitsPerSecond(): number {
    return Number.isFinite(this.rate) ? Math.round(this.rate * 8000) : 0;
  }

  /** Changes the burst allowance (e.g. after a new max datagram size); stored tokens are capped. */
  setCapacity(burstBytes: number): void {
    if (!(burstBytes > 0)) throw new RangeError(`burst must be positive, got ${burstBytes}`);
    this.capacity = burstBytes;
    if (this.tokens > burstBytes) this.tokens = burstBytes;
  }

  /**
   * The earliest time a packet of `size` bytes may be sent: `now` (or earlier) means at once.
   * Pure: asking does not consume anything.
   */
  nextSendTime(now: number, size: number): number {
    if (this.rate === Infinity) return now;
    const tokens = this.tokensAt(now);
    // A packet larger than the whole bucket waits only for a full bucket.
    const need = Math.min(size, this.capacity);
    if (tokens >= need) return now;
    return now + (need - tokens) / this.rate;
  }

  /** Takes a sent in-flight packet's bytes out of the bucket (it may go into debt, e.g. for probes). */
  onPacketSent(now: number, size: number): void {
    this.tokens = this.tokensAt(now) - size;
    this.lastRefill = now;
  }

  /** Refills the bucket and forgets the clock (e.g. after a Retry). */
  reset(): void {
    this.tokens = this.capacity;
    this.lastRefill = null;
  }

  private tokensAt(now: number): number {
    if (this.lastRefill === null || now <= this.lastRefill) return this.tokens;
    if (this.rate === Infinity) return this.capacity;
    return Math.min(this.capacity, this.tokens + (now - this.lastRefill) * this.rate);
  }
}
