/**
 * Loss detection and PTO (RFC 9002 §6, Appendix A) for one path, with its congestion controller,
 * RTT estimator and pacer. Sans-IO: the connection reports what it sent and what the peer
 * acknowledged, asks for the loss detection deadline, and calls back when it passes.
 *
 * How a connection drives it:
 * - every packet sent: `onPacketSent(new SentPacket(space, pn, size, ackEliciting, inFlight, frames), now)`;
 *   before sending an in-flight packet that is not a probe: `cc.canSend(size)` and
 *   `nextSendTime(now, size)` (pacing);
 * - every ACK frame: `onAckReceived(space, frame.ranges, ackDelayMs, now, handshakeConfirmed, ce)`,
 *   then retransmit the frames of `lost`, release those of `newlyAcked`, and close with
 *   PROTOCOL_VIOLATION if `ackedUnsent` (RFC 9000 §13.1);
 * - its timeout is at most `getLossDetectionTimer()`; when that passes, `onLossDetectionTimeout(now)`
 *   and send `probe.count` ack-eliciting packets in `probe.space` (RFC 9002 §6.2.4);
 * - keys discarded: `discardSpace(space, now)`; handshake confirmed: `setHandshakeConfirmed(now)`;
 *   server at / released from its anti-amplification limit: `setAmplificationBlocked(b, now)`.
 */
import type { AckRange } from '../wire/frame-types.ts';
import type { CongestionControlAlgorithm, CongestionController } from './congestion.ts';
import { Pacer } from './pacer.ts';
import { createCongestionController } from './registry.ts';
import { RttEstimator } from './rtt.ts';
import { SentPacketStore, type SentPacket } from './sent-packets.ts';
import {
  DEFAULT_MAX_ACK_DELAY,
  MIN_MAX_DATAGRAM_SIZE,
  PacketNumberSpace,
  diffMetrics,
  initialWindow,
  kGranularity,
  kInitialRtt,
  kPacketThreshold,
  kTimeThreshold,
  type RecoveryListener,
  type RecoveryMetrics,
} from './types.ts';

/** Construction options of LossRecovery. */
export interface LossRecoveryOptions {
  /** Servers always consider the peer's address validated (RFC 9002 Appendix A.8). */
  isServer: boolean;
  /** An algorithm name or a ready controller (default 'cubic'). */
  congestionControl?: CongestionControlAlgorithm | CongestionController;
  /** With an algorithm name: run HyStart++ (RFC 9406) in the initial slow start (default true). */
  hyStart?: boolean;
  /** Initial max datagram size in bytes (default 1200). */
  maxDatagramSize?: number;
  /** The RTT assumed before a sample (default kInitialRtt, 333 ms; RFC 9002 §6.2.2). */
  initialRtt?: number;
  /** The peer's max_ack_delay (ms, default 25); setPeerMaxAckDelay updates it. */
  maxAckDelay?: number;
  /** The pacer's burst allowance in bytes (default: the initial window). */
  pacingBurst?: number;
  /** Receives metrics and congestion state changes (qlog recovery events). */
  listener?: RecoveryListener;
}

/** What processing one ACK frame did (RFC 9002 Appendix A.7). */
export interface AckResult<T> {
  /** Packets this ACK newly acknowledged, ascending packet number. */
  newlyAcked: SentPacket<T>[];
  /** Packets declared lost (lossTrigger says why), ascending packet number. */
  lost: SentPacket<T>[];
  /** Whether the ACK produced an RTT sample (RFC 9002 §5.1). */
  rttSampled: boolean;
  /** Whether persistent congestion was established (RFC 9002 §7.6.2). */
  persistentCongestion: boolean;
  /**
   * The ACK acknowledges a packet number never sent in this space: the frame was ignored; the
   * connection SHOULD close with PROTOCOL_VIOLATION (RFC 9000 §13.1).
   */
  ackedUnsent: boolean;
}

/** A PTO's request: send `count` ack-eliciting packets in `space` (RFC 9002 §6.2.4, §6.2.2.1). */
export interface ProbeRequest {
  space: PacketNumberSpace;
  count: 1 | 2;
}

/** What a loss detection timeout did (RFC 9002 Appendix A.9). */
export interface TimeoutResult<T> {
  /** Packets declared lost by the time threshold. */
  lost: SentPacket<T>[];
  /** The probes to send now, or null (a time-threshold loss or a timer that was not due). */
  probe: ProbeRequest | null;
}

/** Which mode the loss detection timer is in (qlog timer_updated timer_type 'ack' / 'pto'). */
export type LossTimerKind = 'loss_time' | 'pto';

const NO_TIME = Infinity;

/** RFC 9002 Appendix A loss recovery for one path; `T` is the connection's per-packet payload. */
export class LossRecovery<T = unknown> {
  /** The path's RTT estimator (RFC 9002 §5). */
  readonly rtt: RttEstimator;
  /** The path's congestion controller (RFC 9002 §7). */
  readonly cc: CongestionController;
  /** The path's pacer (RFC 9002 §7.7); its rate follows cwnd and smoothed_rtt. */
  readonly pacer: Pacer;
  /** Whether this endpoint is the server. */
  readonly isServer: boolean;
  /** The peer's max_ack_delay (ms). */
  maxAckDelay: number;
  /** RFC 9002 Appendix A.3 pto_count: PTOs since the last acknowledgment that reset it. */
  ptoCount = 0;
  /** Receives metrics changes (congestion state changes go through `cc.listener`). */
  listener: RecoveryListener | null;

  private readonly spaces: SentPacketStore<T>[] = [
    new SentPacketStore(),
    new SentPacketStore(),
    new SentPacketStore(),
  ];
  private readonly largestAcked = [-1, -1, -1];
  private readonly lossTime = [NO_TIME, NO_TIME, NO_TIME];
  private readonly timeOfLastAckEliciting = [0, 0, 0];
  /** Send time of the newest packet acknowledged per space (ECN, persistent congestion). */
  private readonly newestAckedSentTime = [-Infinity, -Infinity, -Infinity];
  private readonly ecnCeCounters = [0, 0, 0];
  private readonly discarded = [false, false, false];
  private handshakeConfirmed = false;
  private hasHandshakeKeys = false;
  private receivedHandshakeAck = false;
  private amplificationBlocked = false;
  private timer: number | null = null;
  private timerKind: LossTimerKind = 'pto';
  private timerSpace: PacketNumberSpace = PacketNumberSpace.Initial;
  private ptoSpace: PacketNumberSpace = PacketNumberSpace.Initial;
  private ptoAntiDeadlock = false;
  private readonly current: RecoveryMetrics = blankMetrics();
  private readonly reported: RecoveryMetrics = blankMetrics();

  constructor(options: LossRecoveryOptions) {
    const size = options.maxDatagramSize ?? MIN_MAX_DATAGRAM_SIZE;
    this.isServer = options.isServer;
    this.rtt = new RttEstimator(options.initialRtt ?? kInitialRtt);
    const cc = options.congestionControl ?? 'cubic';
    this.cc =
      typeof cc === 'string' ? createCongestionController(cc, size, { hyStart: options.hyStart }) : cc;
    this.pacer = new Pacer(this.cc.maxDatagramSize, options.pacingBurst);
    this.maxAckDelay = options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY;
    this.listener = options.listener ?? null;
    if (this.listener !== null) this.cc.listener = this.listener;
    this.pacer.setRate(this.cc.cwnd, this.rtt.smoothedRtt);
  }

  /** Bytes in flight across all spaces (RFC 9002 Appendix B.2). */
  get bytesInFlight(): number {
    return this.cc.bytesInFlight;
  }

  /** The congestion window (bytes). */
  get cwnd(): number {
    return this.cc.cwnd;
  }

  /** The outstanding packets of `space` (read-only use: diagnostics, tests). */
  sentPackets(space: PacketNumberSpace): SentPacketStore<T> {
    return this.spaces[space];
  }

  /** The largest packet number acknowledged in `space`, or -1. */
  largestAckedPacket(space: PacketNumberSpace): number {
    return this.largestAcked[space];
  }

  /** Whether ack-eliciting packets are outstanding in `space`, or in any space if omitted. */
  hasAckElicitingInFlight(space?: PacketNumberSpace): boolean {
    if (space !== undefined) return this.spaces[space].ackElicitingCount > 0;
    return this.ackElicitingTotal() > 0;
  }

  /** The PTO period of `space` without backoff (RFC 9002 §6.2.1). */
  ptoPeriod(space: PacketNumberSpace): number {
    return this.rtt.pto(space, this.maxAckDelay, this.handshakeConfirmed);
  }

  /** The earliest time an in-flight packet of `size` bytes may leave, by the pacer (RFC 9002 §7.7). */
  nextSendTime(now: number, size: number): number {
    return this.pacer.nextSendTime(now, size);
  }

  /** The loss detection timer: an absolute time (ms) or null when it is not armed (Appendix A.8). */
  getLossDetectionTimer(): number | null {
    return this.timer;
  }

  /** The armed timer's mode and space (for qlog timer_updated), meaningful while the timer is set. */
  getLossDetectionTimerInfo(): { kind: LossTimerKind; space: PacketNumberSpace } {
    return { kind: this.timerKind, space: this.timerSpace };
  }

  /** Records the peer's max_ack_delay transport parameter (ms). */
  setPeerMaxAckDelay(ms: number): void {
    this.maxAckDelay = ms;
  }

  /** The handshake is confirmed (RFC 9001 §4.1.2): Application Data PTO may be armed, ack delays are capped. */
  setHandshakeConfirmed(now: number): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
  }

  /** Handshake keys are available: a client's anti-deadlock probe is then a Handshake packet (§6.2.2.1). */
  setHandshakeKeysAvailable(): void {
    this.hasHandshakeKeys = true;
  }

  /**
   * A server reports reaching (true) or leaving (false) its anti-amplification limit (RFC 9000 §8.1):
   * the PTO timer is not armed while it cannot send (RFC 9002 §6.2.2.1). After unblocking, if
   * the re-armed timer is already due, the connection calls onLossDetectionTimeout (Appendix A.6).
   */
  setAmplificationBlocked(blocked: boolean, now: number): void {
    if (this.amplificationBlocked === blocked) return;
    this.amplificationBlocked = blocked;
    this.setLossDetectionTimer(now);
  }

  /** A new maximum datagram size (PMTUD): windows and the pacing burst follow (RFC 9002 §7.2). */
  setMaxDatagramSize(size: number, now: number): void {
    this.cc.setMaxDatagramSize(size);
    this.pacer.setCapacity(initialWindow(size));
    this.afterEvent(now);
  }

  /**
   * Records a sent packet (Appendix A.5), setting its timeSent to `now`. Packet numbers must grow
   * within a space (RangeError otherwise, or if the space was discarded).
   */
  onPacketSent(packet: SentPacket<T>, now: number): void {
    const space = packet.space;
    if (this.discarded[space]) throw new RangeError(`packet number space ${space} was discarded`);
    packet.timeSent = now;
    this.spaces[space].push(packet);
    if (!packet.inFlight) return;
    if (packet.ackEliciting) this.timeOfLastAckEliciting[space] = now;
    const pn = space === PacketNumberSpace.ApplicationData ? packet.packetNumber : -1; // RFC 9406 §4.2 rounds
    this.cc.onPacketSent(packet.size, now, pn);
    this.pacer.onPacketSent(now, packet.size);
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
  }

  /**
   * Processes an ACK frame of `space` (Appendix A.7): `ranges` descending as decoded,
   * `ackDelayMs` the decoded ACK Delay in ms, `ecnCeCount` the ECN-CE count of an ACK_ECN frame
   * whose ECN validation succeeded (RFC 9000 §13.4.2), or -1.
   */
  onAckReceived(
    space: PacketNumberSpace,
    ranges: readonly AckRange[],
    ackDelayMs: number,
    now: number,
    handshakeConfirmed: boolean = this.handshakeConfirmed,
    ecnCeCount = -1,
  ): AckResult<T> {
    if (handshakeConfirmed) this.handshakeConfirmed = true;
    const result: AckResult<T> = {
      newlyAcked: [],
      lost: [],
      rttSampled: false,
      persistentCongestion: false,
      ackedUnsent: false,
    };
    if (ranges.length === 0 || this.discarded[space]) return result;
    const store = this.spaces[space];
    const largest = ranges[0].largest;
    // RFC 9000 §13.1: an acknowledgment of a packet never sent is ignored and reported.
    if (largest > store.largestSent) {
      result.ackedUnsent = true;
      return result;
    }
    // RFC 9002 Appendix A.8 PeerCompletedAddressValidation: a client learns it from a Handshake ACK.
    if (space === PacketNumberSpace.Handshake) this.receivedHandshakeAck = true;
    if (largest > this.largestAcked[space]) this.largestAcked[space] = largest;

    const acked = result.newlyAcked;
    store.removeAcked(ranges, acked);
    if (acked.length === 0) {
      store.maybeCompact();
      return result;
    }
    const newest = acked[acked.length - 1];
    if (newest.timeSent > this.newestAckedSentTime[space]) this.newestAckedSentTime[space] = newest.timeSent;

    // RFC 9002 §5.1: a sample only if the largest acknowledged is newly acknowledged and at
    // least one newly acknowledged packet is ack-eliciting.
    if (newest.packetNumber === largest && includesAckEliciting(acked)) {
      // RFC 9002 §5.3: the ack delay MAY be ignored for Initial packets (never delayed).
      const delay = space === PacketNumberSpace.Initial ? 0 : ackDelayMs;
      this.rtt.update(now - newest.timeSent, delay, this.handshakeConfirmed, this.maxAckDelay, now);
      result.rttSampled = true;
    }

    // RFC 9002 §7.1, Appendix B.7: a higher ECN-CE count is a congestion event.
    if (ecnCeCount > this.ecnCeCounters[space]) {
      this.ecnCeCounters[space] = ecnCeCount;
      const sentTime = newest.packetNumber === largest ? newest.timeSent : this.newestAckedSentTime[space];
      this.cc.onCongestionEvent(sentTime, now, 'ecn_ce');
    }

    const lost = result.lost;
    const persistent = this.detectAndRemoveLostPackets(space, now, lost, true);
    if (lost.length > 0) {
      this.cc.onPacketsLost(lost, now);
      if (persistent) {
        // RFC 9002 §7.6.2: collapse the window; §5.2: min_rtt restarts at the next sample.
        this.cc.onPersistentCongestion(now);
        this.rtt.onPersistentCongestion();
        result.persistentCongestion = true;
      }
    }
    this.cc.onPacketsAcked(acked, now, this.rtt);

    // RFC 9002 §6.2.1: a client unsure the server validated its address keeps the PTO backoff.
    if (this.peerCompletedAddressValidation()) this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
    return result;
  }

  /**
   * The loss detection timer fired (Appendix A.9). A call before the timer is due does nothing.
   * Returns the packets declared lost, or the probes to send; pto_count grows on a PTO.
   */
  onLossDetectionTimeout(now: number): TimeoutResult<T> {
    const result: TimeoutResult<T> = { lost: [], probe: null };
    if (this.timer === null || now < this.timer) return result;
    const lossSpace = this.earliestLossSpace();
    if (lossSpace !== -1) {
      // RFC 9002 §6.1.2: time threshold loss detection.
      this.detectAndRemoveLostPackets(lossSpace as PacketNumberSpace, now, result.lost, false);
      if (result.lost.length > 0) this.cc.onPacketsLost(result.lost, now);
      this.setLossDetectionTimer(now);
      this.afterEvent(now);
      return result;
    }
    this.ptoTimeAndSpace(now);
    // RFC 9002 §6.2.4: one or two ack-eliciting packets in the space whose PTO fired; §6.2.2.1:
    // the client's anti-deadlock probe is one Handshake packet (proving address ownership) or
    // one padded Initial (earning the server more amplification credit).
    result.probe = { space: this.ptoSpace, count: this.ptoAntiDeadlock ? 1 : 2 };
    this.ptoCount++;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
    return result;
  }

  /**
   * Keys of `space` were discarded (RFC 9002 §6.4, Appendix A.11): its packets leave bytes in
   * flight, its timers are reset and pto_count returns to 0. Returns the dropped packets.
   */
  discardSpace(space: PacketNumberSpace, now: number): SentPacket<T>[] {
    const dropped: SentPacket<T>[] = [];
    if (this.discarded[space]) return dropped;
    const store = this.spaces[space];
    // Appendix B.9: remove the unacknowledged in-flight bytes.
    this.cc.removeFromBytesInFlight(store.inFlightBytes);
    store.drain(dropped);
    this.discarded[space] = true;
    this.timeOfLastAckEliciting[space] = 0;
    this.lossTime[space] = NO_TIME;
    this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
    return dropped;
  }

  /**
   * RFC 9002 §6.3: a client that received a Retry resets congestion control and loss recovery;
   * packet numbers keep growing (RFC 9000 §17.2.5.3). `initialRtt` may be the RTT measured up to
   * the Retry. Returns every outstanding packet, whose frames the connection sends again.
   */
  resetForRetry(now: number, initialRtt?: number): SentPacket<T>[] {
    const dropped: SentPacket<T>[] = [];
    for (let space = 0; space < 3; space++) {
      this.spaces[space].drain(dropped);
      this.largestAcked[space] = -1;
      this.lossTime[space] = NO_TIME;
      this.timeOfLastAckEliciting[space] = 0;
      this.newestAckedSentTime[space] = -Infinity;
      this.ecnCeCounters[space] = 0;
    }
    this.cc.reset();
    this.rtt.reset(initialRtt);
    this.pacer.reset();
    this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
    return dropped;
  }

  /**
   * RFC 9002 §6.1, Appendix A.10 DetectAndRemoveLostPackets: declares lost the outstanding
   * packets at or below the largest acknowledged that are kPacketThreshold behind it or older
   * than the time threshold, and sets loss_time for the rest. With `checkPersistent`, returns
   * whether these losses establish persistent congestion (§7.6.2).
   */
  private detectAndRemoveLostPackets(
    space: PacketNumberSpace,
    now: number,
    lost: SentPacket<T>[],
    checkPersistent: boolean,
  ): boolean {
    this.lossTime[space] = NO_TIME;
    const largestAcked = this.largestAcked[space];
    if (largestAcked < 0) return false;
    const rtt = this.rtt;
    // RFC 9002 §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity).
    const lossDelay = Math.max(kTimeThreshold * Math.max(rtt.latestRtt, rtt.smoothedRtt), kGranularity);
    // RFC 9002 §7.6.2: only packets sent after the first RTT sample count.
    const firstSample = rtt.firstSampleTime;
    const pcEnabled = checkPersistent && firstSample !== null;
    const pcDuration = pcEnabled ? rtt.persistentCongestionDuration(this.maxAckDelay) : Infinity;
    let persistent = false;
    let runStart = NaN;
    let lossTime = NO_TIME;
    const store = this.spaces[space];
    // Only packets at or below the largest acknowledged can be lost: the walk starts at the
    // oldest outstanding packet and stops there.
    for (let i = store.headIndex; i < store.endIndex && store.numberAt(i) <= largestAcked; i++) {
      const packet = store.slotAt(i);
      if (packet === undefined) {
        // An acknowledged packet between two lost ones breaks a persistent congestion period.
        runStart = NaN;
        continue;
      }
      if (packet === null) continue;
      const byCount = largestAcked >= packet.packetNumber + kPacketThreshold; // §6.1.1
      // Compared as the timer is computed (timeSent + lossDelay), so a timer that fired always
      // declares its packet lost: now - lossDelay can round below timeSent.
      if (byCount || packet.timeSent + lossDelay <= now) {
        packet.lossTrigger = byCount ? 'reordering_threshold' : 'time_threshold';
        store.removeAt(i, true);
        lost.push(packet);
        if (pcEnabled && packet.ackEliciting && packet.timeSent > (firstSample as number)) {
          if (Number.isNaN(runStart)) runStart = packet.timeSent;
          else if (
            !persistent &&
            packet.timeSent - runStart > pcDuration &&
            this.noAckInOtherSpaces(space, runStart, packet.timeSent)
          )
            persistent = true;
        }
      } else {
        const t = packet.timeSent + lossDelay;
        if (t < lossTime) lossTime = t;
      }
    }
    this.lossTime[space] = lossTime;
    store.maybeCompact();
    return persistent;
  }

  /**
   * RFC 9002 §7.6.2: no packet sent between `from` and `to` was acknowledged in another space.
   * Each space remembers the send time of its newest acknowledged packet; one inside the period
   * breaks it. (An older acknowledged packet inside the period, followed by a newer one after it,
   * goes unseen: the check may then declare persistent congestion, as the RFC's per-space
   * simplification would.)
   */
  private noAckInOtherSpaces(space: PacketNumberSpace, from: number, to: number): boolean {
    for (let s = 0; s < 3; s++) {
      if (s === space) continue;
      const t = this.newestAckedSentTime[s];
      if (t > from && t < to) return false;
    }
    return true;
  }

  /** Appendix A.8 GetLossTimeAndSpace: the space with the earliest loss_time, or -1. */
  private earliestLossSpace(): number {
    let space = -1;
    let time = NO_TIME;
    for (let s = 0; s < 3; s++) {
      if (this.lossTime[s] < time) {
        time = this.lossTime[s];
        space = s;
      }
    }
    return space;
  }

  /**
   * Appendix A.8 GetPtoTimeAndSpace: the PTO deadline (Infinity if none), its space left in
   * this.ptoSpace. Backoff doubles the whole period, max_ack_delay included (RFC 9002 §6.2.1).
   */
  private ptoTimeAndSpace(now: number): number {
    const backoff = 2 ** this.ptoCount;
    let duration = this.rtt.ptoBase() * backoff;
    let timeout = Infinity;
    this.ptoSpace = PacketNumberSpace.Initial;
    this.ptoAntiDeadlock = false;
    for (let s = 0; s < 3; s++) {
      if (this.spaces[s].ackElicitingCount === 0) continue;
      if (s === PacketNumberSpace.ApplicationData) {
        // RFC 9002 §6.2.1: no Application Data PTO before the handshake is confirmed.
        if (!this.handshakeConfirmed) break;
        duration += this.maxAckDelay * backoff;
      }
      const t = this.timeOfLastAckEliciting[s] + duration;
      if (t < timeout) {
        timeout = t;
        this.ptoSpace = s as PacketNumberSpace;
      }
    }
    if (timeout === Infinity && !this.peerCompletedAddressValidation()) {
      // RFC 9002 §6.2.2.1: a client not yet sure the server validated its address keeps a PTO
      // armed from now even with nothing (or only Application Data, not yet armable) in flight.
      this.ptoAntiDeadlock = true;
      this.ptoSpace = this.hasHandshakeKeys ? PacketNumberSpace.Handshake : PacketNumberSpace.Initial;
      return now + duration;
    }
    return timeout;
  }

  /** Appendix A.8 PeerCompletedAddressValidation. */
  private peerCompletedAddressValidation(): boolean {
    return this.isServer || this.receivedHandshakeAck || this.handshakeConfirmed;
  }

  /** Appendix A.8 SetLossDetectionTimer. */
  private setLossDetectionTimer(now: number): void {
    const lossSpace = this.earliestLossSpace();
    if (lossSpace !== -1) {
      // RFC 9002 §6.1.2: time threshold loss detection; no PTO while it is set (§6.2.1).
      this.timer = this.lossTime[lossSpace];
      this.timerKind = 'loss_time';
      this.timerSpace = lossSpace as PacketNumberSpace;
      return;
    }
    // RFC 9002 §6.2.2.1: a server that cannot send arms no PTO.
    if (this.isServer && this.amplificationBlocked) {
      this.timer = null;
      return;
    }
    if (this.ackElicitingTotal() === 0 && this.peerCompletedAddressValidation()) {
      this.timer = null;
      return;
    }
    const timeout = this.ptoTimeAndSpace(now);
    this.timer = timeout === Infinity ? null : timeout;
    this.timerKind = 'pto';
    this.timerSpace = this.ptoSpace;
  }

  private ackElicitingTotal(): number {
    const s = this.spaces;
    return s[0].ackElicitingCount + s[1].ackElicitingCount + s[2].ackElicitingCount;
  }

  /** Brings the pacer up to date and tells the listener which metrics changed. */
  private afterEvent(now: number): void {
    const cc = this.cc;
    const rtt = this.rtt;
    this.pacer.setRate(cc.cwnd, rtt.smoothedRtt, now);
    const onMetrics = this.listener?.onMetricsUpdated;
    if (onMetrics === undefined) return;
    const m = this.current;
    const s = this.spaces;
    m.min_rtt = rtt.minRtt;
    m.smoothed_rtt = rtt.smoothedRtt;
    m.latest_rtt = rtt.latestRtt;
    m.rtt_variance = rtt.rttVar;
    m.pto_count = this.ptoCount;
    m.congestion_window = cc.cwnd;
    m.bytes_in_flight = cc.bytesInFlight;
    m.ssthresh = cc.ssthresh;
    m.packets_in_flight = s[0].inFlightCount + s[1].inFlightCount + s[2].inFlightCount;
    m.pacing_rate = this.pacer.bitsPerSecond;
    const changed = diffMetrics(m, this.reported);
    if (changed === 0) return;
    onMetrics.call(this.listener, m, changed);
  }
}

function includesAckEliciting(packets: readonly SentPacket<unknown>[]): boolean {
  for (let i = 0; i < packets.length; i++) if (packets[i].ackEliciting) return true;
  return false;
}

function blankMetrics(): RecoveryMetrics {
  return {
    min_rtt: NaN,
    smoothed_rtt: NaN,
    latest_rtt: NaN,
    rtt_variance: NaN,
    pto_count: NaN,
    congestion_window: NaN,
    bytes_in_flight: NaN,
    ssthresh: NaN,
    packets_in_flight: NaN,
    pacing_rate: NaN,
  };
}
