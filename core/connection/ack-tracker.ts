/**
 * What we received in one packet number space and when to acknowledge it (RFC 9000 §13.2):
 * the received packet numbers as descending ranges (bounded), duplicate detection (§12.3),
 * the ACK-sending rules of §13.2.1-§13.2.2 and the pruning of §13.2.4.
 */
import { varintLength } from '../wire/buffer.ts';
import type { AckFields, AckRange } from '../wire/frame-types.ts';

/** The most ranges kept; older ones are forgotten (their packets then count as duplicates). */
export const MAX_TRACKED_RANGES = 256;

/** RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet. */
const ACK_ELICITING_THRESHOLD = 2;

/** The received-packet state of one packet number space. */
export class AckTracker {
  /** Received packet numbers, descending, non-adjacent. */
  readonly ranges: AckRange[] = [];
  /** The largest packet number received (-1 before any). */
  largestReceived = -1;
  /** When the largest packet was received (for ACK Delay, RFC 9000 §13.2.5). */
  largestReceivedTime = 0;
  /** Packet numbers at or below this were forgotten: treated as already received. */
  private floor = -1;
  private largestAckEliciting = -1;
  /** Ack-eliciting packets received since the last ACK we sent. */
  private ackElicitingSinceAck = 0;
  /** An ACK must go out now (reordering, threshold, Initial/Handshake, §13.2.1). */
  ackImmediately = false;
  /** When a delayed ACK is due (max_ack_delay after the first unacknowledged ack-eliciting packet). */
  ackDeadline: number | null = null;
  /** Something arrived since the last ACK: an ACK would carry news. */
  ackPending = false;

  /** True when `pn` was already received or is too old to tell (RFC 9000 §12.3). */
  isDuplicate(pn: number): boolean {
    if (pn <= this.floor) return true;
    const r = this.ranges;
    // Most packets are new and above the largest: check that first.
    if (r.length === 0 || pn > r[0].largest) return false;
    let lo = 0;
    let hi = r.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const range = r[mid];
      if (pn > range.largest) hi = mid - 1;
      else if (pn < range.smallest) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /**
   * Records a packet that was processed. `immediate` is true in the Initial and Handshake
   * spaces (RFC 9000 §13.2.1: ack those without delay); `maxAckDelay` is ours, in ms.
   */
  onPacketReceived(
    pn: number,
    ackEliciting: boolean,
    now: number,
    maxAckDelay: number,
    immediate: boolean,
  ): void {
    const gapBelow = this.insert(pn);
    if (pn > this.largestReceived) {
      this.largestReceived = pn;
      this.largestReceivedTime = now;
    }
    this.ackPending = true;
    if (!ackEliciting) return;
    // RFC 9000 §13.2.1: without delay when the packet is out of order (below the largest
    // ack-eliciting one) or leaves a gap above it.
    const reordered =
      this.largestAckEliciting >= 0 &&
      (pn < this.largestAckEliciting || gapBelow > this.largestAckEliciting + 1);
    if (pn > this.largestAckEliciting) this.largestAckEliciting = pn;
    this.ackElicitingSinceAck++;
    if (immediate || reordered || this.ackElicitingSinceAck >= ACK_ELICITING_THRESHOLD) {
      this.ackImmediately = true;
    } else if (this.ackDeadline === null) {
      this.ackDeadline = now + maxAckDelay; // RFC 9000 §13.2.1: within max_ack_delay
    }
  }

  /** Inserts `pn`; returns the smallest packet number of the range now holding it. */
  private insert(pn: number): number {
    const r = this.ranges;
    if (r.length === 0) {
      r.push({ smallest: pn, largest: pn });
      return pn;
    }
    const top = r[0];
    if (pn === top.largest + 1) {
      top.largest = pn;
      return top.smallest;
    }
    if (pn > top.largest + 1) {
      r.unshift({ smallest: pn, largest: pn });
      this.bound();
      return pn;
    }
    // Out of order: find the first range whose smallest is <= pn + 1 (descending order).
    let i = 0;
    while (i < r.length && r[i].smallest > pn + 1) i++;
    if (i === r.length) {
      // Below every range.
      const last = r[r.length - 1];
      if (last.smallest === pn + 1) {
        last.smallest = pn;
        return pn;
      }
      r.push({ smallest: pn, largest: pn });
      this.bound();
      return pn;
    }
    const range = r[i];
    if (pn >= range.smallest && pn <= range.largest) return range.smallest;
    if (pn === range.smallest - 1) {
      range.smallest = pn;
      // May now touch the next (lower) range.
      const next = r[i + 1];
      if (next !== undefined && next.largest + 1 === pn) {
        range.smallest = next.smallest;
        r.splice(i + 1, 1);
      }
      return range.smallest;
    }
    if (pn === range.largest + 1) {
      range.largest = pn;
      const prev = r[i - 1];
      if (prev !== undefined && prev.smallest === pn + 1) {
        prev.smallest = range.smallest;
        r.splice(i, 1);
        return prev.smallest;
      }
      return range.smallest;
    }
    // Strictly between r[i - 1] and r[i].
    r.splice(i, 0, { smallest: pn, largest: pn });
    this.bound();
    return pn;
  }

  private bound(): void {
    while (this.ranges.length > MAX_TRACKED_RANGES) {
      const dropped = this.ranges.pop() as AckRange;
      this.floor = Math.max(this.floor, dropped.largest);
    }
  }

  /** Whether an ACK should be sent now (immediately, or its delay has expired). */
  ackDue(now: number): boolean {
    return this.ackImmediately || (this.ackDeadline !== null && now >= this.ackDeadline);
  }

  /**
   * The ACK frame fields for what we received, fitting in `room` bytes (the lowest ranges are
   * left out when they do not fit), or null when there is nothing to acknowledge or no room.
   * `ackDelayExponent` is ours (RFC 9000 §18.2); `delayed` is false in Initial/Handshake, where
   * the ACK Delay is sent as 0.
   */
  ackFrame(now: number, ackDelayExponent: number, room: number, delayed: boolean): AckFields | null {
    const r = this.ranges;
    if (r.length === 0) return null;
    // RFC 9000 §13.2.5: the delay since the largest was received, in µs scaled by the exponent.
    const delayUs = delayed ? Math.max(0, now - this.largestReceivedTime) * 1000 : 0;
    const ackDelay = Math.floor(delayUs / 2 ** ackDelayExponent);
    const largest = r[0].largest;
    let n = 1 + varintLength(largest) + varintLength(ackDelay) + 1 + varintLength(largest - r[0].smallest);
    if (n > room) return null;
    let count = 1;
    for (; count < r.length; count++) {
      const gap = r[count - 1].smallest - r[count].largest - 2;
      const add = varintLength(gap) + varintLength(r[count].largest - r[count].smallest);
      // The range count varint may grow from 1 to 2 bytes at 64 ranges.
      const countGrowth = count === 64 ? 1 : 0;
      if (n + add + countGrowth > room) break;
      n += add + countGrowth;
    }
    return { largestAcknowledged: largest, ackDelay, ranges: count === r.length ? r : r.slice(0, count) };
  }

  /** Call when an ACK frame for this space was sent. */
  onAckSent(): void {
    this.ackElicitingSinceAck = 0;
    this.ackImmediately = false;
    this.ackDeadline = null;
    this.ackPending = false;
  }

  /**
   * The peer acknowledged a packet of ours that carried an ACK whose Largest Acknowledged was
   * `largestAcked`: stop acknowledging packets at or below it (RFC 9000 §13.2.4). They stay
   * known as received (duplicates are still detected through `floor`).
   */
  onAckOfAck(largestAcked: number): void {
    const r = this.ranges;
    while (r.length > 0 && r[r.length - 1].largest <= largestAcked) {
      const dropped = r.pop() as AckRange;
      this.floor = Math.max(this.floor, dropped.largest);
    }
    if (r.length > 0 && r[r.length - 1].smallest <= largestAcked) {
      r[r.length - 1].smallest = largestAcked + 1;
      this.floor = Math.max(this.floor, largestAcked);
    }
  }
}
