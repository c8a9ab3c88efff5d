/**
 * What we received in one packet number space and when to acknowledge it (RFC 9000 §13.2).
 *
 * Two range lists, both descending, non-adjacent and bounded by MAX_TRACKED_RANGES:
 * - `received`: every packet number processed, for duplicate detection (RFC 9000 §12.3). Only
 *   its overflow forgets anything, and what it forgets is then refused: packets at or below the
 *   duplicate floor count as duplicates (RFC 9000 §13.2.3, "a minimum packet number that
 *   increases as ranges are discarded").
 * - `ranges`: what the next ACK frame covers. An ACK of one of our ACK frames prunes it
 *   (RFC 9000 §13.2.4), but only where that ACK frame is known to have covered the packets:
 *   a late packet arriving in a gap below an already acknowledged ACK is processed, listed
 *   again and kept until an ACK frame sent after its arrival is acknowledged in turn.
 */
import { varintLength } from '../wire/buffer.ts';
import type { AckFields, AckRange } from '../wire/frame-types.ts';

/** The most ranges kept in each list; the lowest go first. */
export const MAX_TRACKED_RANGES = 256;

/** RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet. */
const ACK_ELICITING_THRESHOLD = 2;

/**
 * A range still to acknowledge. Its part at or below L may be forgotten when the peer acknowledges
 * an ACK frame of ours with Largest Acknowledged L >= `hold`: every packet number p in the range
 * was received before any ACK frame with a Largest Acknowledged >= max(p, hold) was built, and
 * was listed in it. `hold` is -1 for packets received in order (their own number is the bound).
 */
export interface AckEntry extends AckRange {
  hold: number;
}

/**
 * Adds `pn` to the descending, non-adjacent list `r`, merging neighbours; an entry that takes
 * `pn` raises its `hold` to `hold`. Returns the entry now holding `pn`.
 */
function insertRange(r: AckEntry[], pn: number, hold: number): AckEntry {
  const top = r[0];
  if (top === undefined || pn > top.largest + 1) {
    const e = { smallest: pn, largest: pn, hold };
    r.unshift(e);
    return e;
  }
  if (pn === top.largest + 1) {
    top.largest = pn;
    if (hold > top.hold) top.hold = hold;
    return top;
  }
  // Out of order: the first range whose smallest is <= pn + 1.
  let i = 0;
  while (i < r.length && r[i].smallest > pn + 1) i++;
  const e = r[i];
  if (e === undefined || pn > e.largest + 1) {
    // Strictly between r[i - 1] and r[i] (or below every range).
    const n = { smallest: pn, largest: pn, hold };
    r.splice(i, 0, n);
    return n;
  }
  if (hold > e.hold) e.hold = hold;
  if (pn >= e.smallest && pn <= e.largest) return e;
  if (pn === e.smallest - 1) {
    e.smallest = pn;
    // May now touch the next (lower) range.
    const next = r[i + 1];
    if (next !== undefined && next.largest + 1 === pn) {
      e.smallest = next.smallest;
      if (next.hold > e.hold) e.hold = next.hold;
      r.splice(i + 1, 1);
    }
    return e;
  }
  // pn === e.largest + 1: may now touch the previous (higher) range.
  e.largest = pn;
  const prev = r[i - 1];
  if (prev !== undefined && prev.smallest === pn + 1) {
    prev.smallest = e.smallest;
    if (e.hold > prev.hold) prev.hold = e.hold;
    r.splice(i, 1);
    return prev;
  }
  return e;
}

/** The received-packet state of one packet number space. */
export class AckTracker {
  /** What the next ACK frame acknowledges: descending, non-adjacent; the first holds the largest. */
  readonly ranges: AckEntry[] = [];
  /** Every packet number processed (above the duplicate floor), descending, non-adjacent. */
  private readonly received: AckEntry[] = [];
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

  /** Packet numbers at or below this are refused as duplicates (-1 while nothing was forgotten). */
  get duplicateFloor(): number {
    return this.floor;
  }

  /** The number of ranges kept to detect duplicates (bounded by MAX_TRACKED_RANGES). */
  get receivedRangeCount(): number {
    return this.received.length;
  }

  /** True when `pn` was already received or is too old to tell (RFC 9000 §12.3). */
  isDuplicate(pn: number): boolean {
    if (pn <= this.floor) return true;
    const r = this.received;
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
   * Records a packet that was processed (not a duplicate). `immediate` is true in the Initial and
   * Handshake spaces (RFC 9000 §13.2.1: ack those without delay); `maxAckDelay` is ours, in ms.
   */
  onPacketReceived(
    pn: number,
    ackEliciting: boolean,
    now: number,
    maxAckDelay: number,
    immediate: boolean,
  ): void {
    let gapBelow: number;
    const top = this.received[0];
    if (top !== undefined && pn === this.largestReceived + 1) {
      // The common case, in order: both lists' first range ends at the largest received.
      top.largest = pn;
      this.ranges[0].largest = pn;
      gapBelow = top.smallest;
    } else {
      gapBelow = this.insertOutOfOrder(pn);
    }
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

  /** Records `pn` after a gap or below the largest; returns the smallest of its received range. */
  private insertOutOfOrder(pn: number): number {
    const gapBelow = insertRange(this.received, pn, -1).smallest;
    // A late packet (below the largest) may fall under ACK frames already built without it:
    // only an ACK frame built after now, so with a Largest Acknowledged above today's largest,
    // proves that the peer saw it acknowledged (RFC 9000 §13.2.4).
    const late = pn < this.largestReceived;
    insertRange(this.ranges, pn, late ? this.largestReceived + 1 : -1);
    if (this.received.length > MAX_TRACKED_RANGES) {
      // RFC 9000 §13.2.3: forget the lowest received range and refuse its packets from now on.
      const dropped = this.received.pop() as AckEntry;
      if (dropped.largest > this.floor) this.floor = dropped.largest;
    }
    // RFC 9000 §13.2.3: stop acknowledging the lowest range (its packets stay known as received).
    if (this.ranges.length > MAX_TRACKED_RANGES) this.ranges.pop();
    return gapBelow;
  }

  /** Whether an ACK should be sent now (immediately, or its delay has expired). */
  ackDue(now: number): boolean {
    return this.ackImmediately || (this.ackDeadline !== null && now >= this.ackDeadline);
  }

  /**
   * The ACK frame fields for what we acknowledge, fitting in `room` bytes (the lowest ranges are
   * left out when they do not fit), or null when there is nothing to acknowledge or no room.
   * A non-null result is taken to be sent. `ackDelayExponent` is ours (RFC 9000 §18.2);
   * `delayed` is false in Initial/Handshake, where the ACK Delay is sent as 0.
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
    if (count === r.length) return { largestAcknowledged: largest, ackDelay, ranges: r };
    this.holdOmitted(count, largest);
    return { largestAcknowledged: largest, ackDelay, ranges: r.slice(0, count) };
  }

  /** RFC 9000 §13.2.3: ranges from `from` on were left out of an ACK frame; its ACK must not prune them. */
  private holdOmitted(from: number, largest: number): void {
    const r = this.ranges;
    for (let i = from; i < r.length; i++) if (r[i].hold <= largest) r[i].hold = largest + 1;
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
   * `largestAcked`: stop acknowledging the packets at or below it that this ACK covered
   * (RFC 9000 §13.2.4). They stay known as received, so duplicates are still detected, and
   * packets never received below it are still accepted. The largest received stays listed
   * (RFC 9000 §13.2.3: every ACK frame SHOULD include it).
   */
  onAckOfAck(largestAcked: number): void {
    const r = this.ranges;
    // Ranges wholly above largestAcked stay; pruning starts at the first that reaches it.
    let i = 0;
    while (i < r.length && r[i].smallest > largestAcked) i++;
    let w = i;
    for (; i < r.length; i++) {
      const e = r[i];
      if (e.hold > largestAcked) {
        r[w++] = e; // received after that ACK was built, or left out of it
      } else if (e.largest > largestAcked) {
        e.smallest = largestAcked + 1;
        r[w++] = e;
      } else if (i === 0) {
        // RFC 9000 §13.2.3: keep an ACK Range containing the largest received packet number.
        e.smallest = e.largest;
        e.hold = -1;
        w++;
      }
    }
    while (r.length > w) r.pop();
  }
}
