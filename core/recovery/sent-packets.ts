/**
 * Sent packet records (RFC 9002 Appendix A.1.1) and the per-space store that holds them until they
 * are acknowledged, declared lost or discarded (Appendix A.1).
 *
 * The store is an array in packet-number order with a head index: packets are appended at the end
 * (packet numbers only grow, RFC 9000 §12.3), acknowledgments find their range by binary search,
 * and removal leaves a hole that the head skips and an occasional compaction squeezes out. With
 * thousands of packets in flight an ACK costs O(ranges * log n + packets it settles), not O(n).
 */
import type { AckRange } from '../wire/frame-types.ts';
import type { LossTrigger, PacketNumberSpace } from './types.ts';

/**
 * One sent packet (RFC 9002 Appendix A.1.1). `payload` is the connection's opaque record of what
 * the packet carried (frames to retransmit on loss, ranges to release on acknowledgment).
 */
export class SentPacket<T = unknown> {
  /** When the packet was sent (ms); set by LossRecovery.onPacketSent. */
  timeSent = 0;
  /** Why the packet was declared lost (qlog packet_lost trigger), or null while it is not. */
  lossTrigger: LossTrigger | null = null;
  /**
   * The network path it was sent on (RFC 9000 §9.4), set by LossRecovery.onPacketSent: the active
   * path's number, or OTHER_PATH (-1) for a probe sent on a path that is not the active one.
   */
  path = 0;

  constructor(
    /** The packet number space the packet was sent in. */
    readonly space: PacketNumberSpace,
    /** The full packet number. */
    readonly packetNumber: number,
    /** Bytes sent in the packet: QUIC header, payload and AEAD tag, no UDP or IP overhead. */
    readonly size: number,
    /** Whether the packet holds a frame other than ACK, PADDING and CONNECTION_CLOSE. */
    readonly ackEliciting: boolean,
    /** Whether the packet counts toward bytes in flight (ack-eliciting or PADDING, RFC 9002 §2). */
    readonly inFlight: boolean,
    /** The connection's opaque record of the packet's contents. */
    public payload: T,
    /** A PMTU probe: its loss is not a congestion signal (RFC 9000 §14.4). */
    readonly pmtuProbe = false,
  ) {}
}

/**
 * A slot: the packet while it is outstanding; `undefined` once acknowledged; `null` once declared
 * lost or discarded. The two kinds of hole stay distinct because persistent congestion (RFC 9002
 * §7.6.2) needs to know whether an acknowledged packet lies between two lost ones.
 */
type Slot<T> = SentPacket<T> | null | undefined;

/** The outstanding packets of one packet number space, in packet number order. */
export class SentPacketStore<T = unknown> {
  private slots: Slot<T>[] = [];
  private numbers: number[] = [];
  private head = 0;
  private live = 0;
  private holes = 0;
  /** The largest packet number ever added (-1 before the first). */
  largestSent = -1;
  /** Outstanding ack-eliciting packets. */
  ackElicitingCount = 0;
  /** Outstanding packets that count toward bytes in flight. */
  inFlightCount = 0;
  /** The sum of the sizes of outstanding in-flight packets. */
  inFlightBytes = 0;
  /** Diagnostics: slots examined so far (binary-search probes, walks, compaction moves). */
  visits = 0;

  /** The number of outstanding packets. */
  get size(): number {
    return this.live;
  }

  /** Appends a packet; its number must exceed every number added before (RangeError otherwise). */
  push(packet: SentPacket<T>): void {
    const pn = packet.packetNumber;
    if (!(pn > this.largestSent) || !Number.isSafeInteger(pn))
      throw new RangeError(`packet number ${pn} does not follow ${this.largestSent}`);
    this.largestSent = pn;
    this.slots.push(packet);
    this.numbers.push(pn);
    this.live++;
    if (packet.ackEliciting) this.ackElicitingCount++;
    if (packet.inFlight) {
      this.inFlightCount++;
      this.inFlightBytes += packet.size;
    }
  }

  /** The oldest outstanding packet, if any. */
  oldest(): SentPacket<T> | undefined {
    return this.live > 0 ? (this.slots[this.head] as SentPacket<T>) : undefined;
  }

  /** Index of the oldest outstanding packet: where walks start (see slotAt). */
  get headIndex(): number {
    return this.head;
  }

  /** One past the last slot index. */
  get endIndex(): number {
    return this.slots.length;
  }

  /** The packet number stored at slot `i` (for a hole: the first number of the hole). */
  numberAt(i: number): number {
    return this.numbers[i];
  }

  /** Slot `i`: the outstanding packet, `undefined` (acknowledged) or `null` (lost or discarded). */
  slotAt(i: number): SentPacket<T> | null | undefined {
    this.visits++;
    return this.slots[i];
  }

  /** The outstanding packet with number `pn`, if there is one. */
  get(pn: number): SentPacket<T> | undefined {
    const i = this.lowerBound(pn);
    const slot = i < this.slots.length && this.numbers[i] === pn ? this.slots[i] : undefined;
    return slot ?? undefined;
  }

  /** Index of the first slot at or after the head whose number is >= pn (binary search). */
  lowerBound(pn: number): number {
    let lo = this.head;
    let hi = this.slots.length;
    while (lo < hi) {
      this.visits++;
      const mid = (lo + hi) >>> 1;
      if (this.numbers[mid] < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Removes the outstanding packet at slot `i`, leaving a hole that records whether it was
   * acknowledged (`lost` false) or declared lost or discarded (`lost` true). Returns the packet.
   */
  removeAt(i: number, lost: boolean): SentPacket<T> {
    const packet = this.slots[i];
    if (!packet) throw new RangeError(`slot ${i} holds no outstanding packet`);
    this.slots[i] = lost ? null : undefined;
    this.live--;
    this.holes++;
    if (packet.ackEliciting) this.ackElicitingCount--;
    if (packet.inFlight) {
      this.inFlightCount--;
      this.inFlightBytes -= packet.size;
    }
    if (i === this.head) this.advanceHead();
    return packet;
  }

  /**
   * Removes every outstanding packet that `ranges` (descending, as in an ACK frame) acknowledges
   * and appends them to `out` in ascending packet number order. Already settled or unknown packet
   * numbers are skipped, so a duplicate ACK changes nothing.
   */
  removeAcked(ranges: readonly AckRange[], out: SentPacket<T>[]): void {
    for (let r = ranges.length - 1; r >= 0; r--) {
      if (this.live === 0) return;
      const { smallest, largest } = ranges[r];
      const len = this.slots.length;
      // A range wholly below the oldest outstanding packet settles nothing: O(1) to skip.
      if (largest < this.numbers[this.head]) continue;
      if (smallest > this.largestSent) return;
      let i = smallest <= this.numbers[this.head] ? this.head : this.lowerBound(smallest);
      for (; i < len && this.numbers[i] <= largest; i++) {
        this.visits++;
        const slot = this.slots[i];
        if (slot) out.push(this.removeAt(i, false));
      }
    }
  }

  /** Removes every outstanding packet (a discarded space, RFC 9002 §6.4) and appends them to `out`. */
  drain(out: SentPacket<T>[]): void {
    for (let i = this.head; i < this.slots.length; i++) {
      this.visits++;
      const slot = this.slots[i];
      if (slot) out.push(slot);
    }
    this.slots.length = 0;
    this.numbers.length = 0;
    this.head = 0;
    this.live = 0;
    this.holes = 0;
    this.ackElicitingCount = 0;
    this.inFlightCount = 0;
    this.inFlightBytes = 0;
  }

  /** The outstanding packets in packet number order (a copy; for diagnostics and tests). */
  toArray(): SentPacket<T>[] {
    const out: SentPacket<T>[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (slot) out.push(slot);
    }
    return out;
  }

  /**
   * Squeezes the holes out once they outnumber the outstanding packets two to one (amortized O(1)
   * per removal). A run of holes shrinks to one, still marking whether it holds an acknowledged
   * packet. Call it between walks, never during one: slot indexes change.
   */
  maybeCompact(): void {
    if (this.head + this.holes <= 2 * this.live + 64) return;
    const slots = this.slots;
    const numbers = this.numbers;
    let w = 0;
    let previousHole = false;
    for (let r = this.head; r < slots.length; r++) {
      this.visits++;
      const slot = slots[r];
      if (slot) {
        slots[w] = slot;
        numbers[w] = numbers[r];
        w++;
        previousHole = false;
      } else if (previousHole) {
        // An acknowledged packet anywhere in the run marks the whole run as acknowledged.
        if (slot === undefined) slots[w - 1] = undefined;
      } else {
        slots[w] = slot;
        numbers[w] = numbers[r];
        w++;
        previousHole = true;
      }
    }
    slots.length = w;
    numbers.length = w;
    this.head = 0;
    this.holes = w - this.live;
  }

  private advanceHead(): void {
    const slots = this.slots;
    while (this.head < slots.length && !slots[this.head]) {
      this.head++;
      this.holes--;
    }
    if (this.live === 0) {
      // Nothing outstanding: start over with empty arrays (this also drops every hole).
      slots.length = 0;
      this.numbers.length = 0;
      this.head = 0;
      this.holes = 0;
    }
  }
}
