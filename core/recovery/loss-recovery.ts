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
 *   then retransmit the frames of `lost`, release those of `newlyAcked` (and of `spuriouslyLost`,
 *   whose frames were queued again: what is still queued need not go out), and close with
 *   PROTOCOL_VIOLATION if `ackedUnsent` (RFC 9000 §13.1);
 * - the active path changes (RFC 9000 §9): `onPathChange(now)`; a new address validated (§9.4):
 *   `resetForNewPath(now)`; a probe sent on another path: `onPacketSent(packet, now, true)`;
 * - its timeout is at most `getLossDetectionTimer()`; when that passes, `onLossDetectionTimeout(now)`
 *   and send `probe.count` ack-eliciting packets in `probe.space` (RFC 9002 §6.2.4);
 * - keys discarded: `discardSpace(space, now)`; handshake confirmed: `setHandshakeConfirmed(now)`;
 *   server at / released from its anti-amplification limit: `setAmplificationBlocked(b, now)`.
 */
import type { AckRange } from '../wire/frame-types.ts';
import type { CongestionController } from './congestion.ts';
import type { AckResult, LossRecoveryOptions, LossTimerKind, TimeoutResult } from './loss-types.ts';
import { RecoveryReporter } from './metrics-report.ts';
import { Pacer } from './pacer.ts';
import { createCongestionController } from './registry.ts';
import { OTHER_PATH, Reordering, THRESHOLD_DECAY_RTTS, ofPath } from './reordering.ts';
import { RttEstimator } from './rtt.ts';
import { SentPacketStore, type SentPacket } from './sent-packets.ts';
import {
  DEFAULT_MAX_ACK_DELAY,
  MIN_MAX_DATAGRAM_SIZE,
  PacketNumberSpace,
  initialWindow,
  kGranularity,
  kInitialRtt,
  type RecoveryListener,
} from './types.ts';

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
  private readonly reporter = new RecoveryReporter();
  /** Paths, spurious losses and adaptive thresholds (RFC 9002 §6.1; see reordering.ts). */
  readonly reordering = new Reordering<T>();
  /** Reused lists of the packets of the active path (congestion control sees only those). */
  private readonly onPathAcked: SentPacket<T>[] = [];
  private readonly onPathLost: SentPacket<T>[] = [];

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
   * RFC 9000 §9.4: packets go out on another path from now on. Those sent before are judged
   * against their own path (reordering.ts) and "MUST NOT contribute to congestion control or RTT
   * estimation for the new path": their bytes leave bytes in flight now; their fate moves nothing.
   */
  onPathChange(now: number): void {
    const rtt = this.rtt;
    const pto = this.ptoPeriod(PacketNumberSpace.ApplicationData);
    const left = this.reordering.onPathChange(rtt.smoothedRtt, rtt.latestRtt, pto, now);
    this.cc.removeFromBytesInFlight(this.cc.bytesInFlight);
    // The loss timer covers the packets left behind: nothing of their path may come back.
    for (let space = 0; space < 3; space++)
      if (this.spaces[space].size > 0 && left.quietDeadline() < this.lossTime[space])
        this.lossTime[space] = left.quietDeadline();
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
  }

  /**
   * RFC 9000 §9.4: on confirming the peer's ownership of a new address (not a port-only change),
   * congestion control, RTT estimation and the loss thresholds start afresh (Appendices A.3, B.3),
   * keeping the new path's bytes in flight.
   */
  resetForNewPath(now: number): void {
    const inFlight = this.cc.bytesInFlight;
    this.cc.reset();
    this.cc.removeFromBytesInFlight(-inFlight);
    this.rtt.reset();
    this.pacer.reset();
    this.ptoCount = 0;
    this.reordering.resetThreshold();
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
  }

  /**
   * Records a sent packet (Appendix A.5), setting its timeSent to `now`. Packet numbers must grow
   * within a space (RangeError otherwise, or if the space was discarded). `otherPath`: a probe
   * sent on a path that is not the active one (RFC 9000 §8.2, §9.1).
   */
  onPacketSent(packet: SentPacket<T>, now: number, otherPath = false): void {
    const space = packet.space;
    if (this.discarded[space]) throw new RangeError(`packet number space ${space} was discarded`);
    packet.timeSent = now;
    packet.path = otherPath ? OTHER_PATH : this.reordering.pathId;
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
      spuriouslyLost: [],
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
    // RFC 9002 §6.1: packets declared lost that this ACK acknowledges were not lost. Losses are
    // remembered about as long as persistent congestion takes to establish.
    const reordering = this.reordering;
    const rtt = this.rtt;
    reordering.forgetLossesBefore(space, now - rtt.persistentCongestionDuration(this.maxAckDelay));
    const rttBasis = Math.max(rtt.smoothedRtt, rtt.latestRtt);
    reordering.detectSpurious(space, ranges, now, rttBasis, result.spuriouslyLost);
    if (acked.length === 0) {
      store.maybeCompact();
      if (result.spuriouslyLost.length > 0) this.afterEvent(now);
      return result;
    }
    reordering.onAcked(space, acked, now);
    const newest = acked[acked.length - 1];
    if (newest.timeSent > this.newestAckedSentTime[space]) this.newestAckedSentTime[space] = newest.timeSent;

    // RFC 9002 §5.1: a sample only if the largest acknowledged is newly acknowledged and at
    // least one newly acknowledged packet is ack-eliciting; RFC 9000 §9.4: only from a packet
    // sent on the active path.
    if (newest.packetNumber === largest && newest.path === reordering.pathId && includesAckEliciting(acked)) {
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
      this.cc.onPacketsLost(ofPath(lost, reordering.pathId, this.onPathLost), now);
      if (persistent) {
        // RFC 9002 §7.6.2: collapse the window; §5.2: min_rtt restarts at the next sample.
        this.cc.onPersistentCongestion(now);
        this.rtt.onPersistentCongestion();
        result.persistentCongestion = true;
      }
    }
    const ackedHere = ofPath(acked, reordering.pathId, this.onPathAcked);
    if (ackedHere.length > 0) this.cc.onPacketsAcked(ackedHere, now, this.rtt);
    this.onPathAcked.length = 0;
    this.onPathLost.length = 0;

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
      if (result.lost.length > 0)
        this.cc.onPacketsLost(ofPath(result.lost, this.reordering.pathId, this.onPathLost), now);
      this.onPathLost.length = 0;
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
    store.drain(dropped);
    // Appendix B.9: remove the unacknowledged in-flight bytes (of the active path: RFC 9000 §9.4,
    // the others left them at the path change).
    for (const p of dropped)
      if (p.inFlight && p.path === this.reordering.pathId) this.cc.removeFromBytesInFlight(p.size);
    this.reordering.discardSpace(space);
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
    this.reordering.reset();
    this.ptoCount = 0;
    this.setLossDetectionTimer(now);
    this.afterEvent(now);
    return dropped;
  }

  /**
   * RFC 9002 §6.1, Appendix A.10 DetectAndRemoveLostPackets: declares lost the outstanding
   * packets at or below the largest acknowledged that are the packet threshold behind the largest
   * acknowledged packet of their own path or older than their path's time threshold
   * (reordering.ts), and sets loss_time for the rest. With `checkPersistent`, returns whether
   * these losses establish persistent congestion (§7.6.2) on the active path.
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
    const reordering = this.reordering;
    // RFC 9002 §6.1: the thresholds adapt to spurious losses and decay without them (reordering.ts).
    reordering.decay(now, THRESHOLD_DECAY_RTTS * rtt.smoothedRtt);
    // RFC 9002 §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity).
    const timeThreshold = reordering.timeThreshold;
    const lossDelay = Math.max(timeThreshold * Math.max(rtt.latestRtt, rtt.smoothedRtt), kGranularity);
    const threshold = reordering.packetThresholdFor(this.cc.cwnd / this.cc.maxDatagramSize); // §6.1.1
    const pathId = reordering.pathId;
    const pathLargestAcked = reordering.current.largestAcked[space];
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
      // RFC 9000 §9.4: a packet is judged against the acknowledged packets and the RTT of its own
      // path (reordering.ts). `lossAt`: when the time threshold declares it lost.
      const pn = packet.packetNumber;
      let pathLargest = pathLargestAcked;
      let lossAt = packet.timeSent + lossDelay;
      if (packet.path === pathId) {
        // §6.1: only a packet sent before an acknowledged packet of its own path.
        if (pathLargest < pn) continue;
      } else {
        const other = reordering.path(packet.path);
        pathLargest = other === null ? -1 : other.largestAcked[space];
        if (other !== null) {
          lossAt = packet.timeSent + other.lossDelay();
          // Nothing later of its path acknowledged: given up once that path went quiet.
          if (pathLargest < pn) lossAt = Math.max(lossAt, other.quietDeadline());
        }
      }
      const byCount = pathLargest >= pn + threshold; // §6.1.1
      // Compared as the timer is computed (lossAt), so a timer that fired always declares its
      // packet lost: now - lossDelay can round below timeSent.
      if (byCount || lossAt <= now) {
        packet.lossTrigger = byCount ? 'reordering_threshold' : 'time_threshold';
        store.removeAt(i, true);
        lost.push(packet);
        reordering.onLost(packet, pathLargest, now);
        // §7.6.2, RFC 9000 §9.4: only losses on the active path count toward persistent congestion.
        if (
          pcEnabled &&
          packet.path === pathId &&
          packet.ackEliciting &&
          packet.timeSent > (firstSample as number)
        ) {
          if (Number.isNaN(runStart)) runStart = packet.timeSent;
          else if (
            !persistent &&
            packet.timeSent - runStart > pcDuration &&
            this.noAckInOtherSpaces(space, runStart, packet.timeSent)
          )
            persistent = true;
        }
      } else if (lossAt < lossTime) {
        lossTime = lossAt;
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

  /** Brings the pacer up to date and tells the listener what changed. */
  private afterEvent(now: number): void {
    this.pacer.setRate(this.cc.cwnd, this.rtt.smoothedRtt, now);
    const s = this.spaces;
    this.reporter.report(this.listener, this, s[0].inFlightCount + s[1].inFlightCount + s[2].inFlightCount);
  }
}

function includesAckEliciting(packets: readonly SentPacket<unknown>[]): boolean {
  for (let i = 0; i < packets.length; i++) if (packets[i].ackEliciting) return true;
  return false;
}
