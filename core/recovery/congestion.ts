/**
 * The congestion controller interface (RFC 9002 §7) and the window accounting every controller
 * shares: bytes in flight, the recovery period (§7.3.2), the application-limited rule (§7.8),
 * persistent congestion (§7.6), the initial and minimum windows (§7.2), and slow start with
 * HyStart++ (RFC 9406, hystart.ts). NewReno and CUBIC only supply how the window grows in
 * congestion avoidance and shrinks on a congestion event.
 */
import { HyStart } from './hystart.ts';
import type { RttEstimator } from './rtt.ts';
import {
  MIN_MAX_DATAGRAM_SIZE,
  PacketNumberSpace,
  initialWindow,
  minimumWindow,
  type CongestionState,
  type CongestionTrigger,
  type RecoveryListener,
} from './types.ts';

/** What a congestion controller needs to know about a packet (a SentPacket satisfies it). */
export interface CongestionPacket {
  readonly timeSent: number;
  readonly size: number;
  readonly inFlight: boolean;
  readonly pmtuProbe?: boolean;
  /** The packet number: HyStart++ counts rounds in Application Data packet numbers (RFC 9406 §4.2). */
  readonly packetNumber?: number;
  /** The packet number space (default Application Data when a packetNumber is given). */
  readonly space?: PacketNumberSpace;
}

/** Construction options of the built-in controllers. */
export interface CongestionControllerOptions {
  /** Run HyStart++ (RFC 9406) in the initial slow start (default true). */
  hyStart?: boolean;
}

/** The names createCongestionController accepts. */
export type CongestionControlAlgorithm = 'newreno' | 'cubic';

/**
 * A congestion controller (RFC 9002 §7), driven by LossRecovery (or directly by a test). Sizes
 * in bytes, times in ms. The connection asks `canSend` before sending an in-flight packet that is
 * not a PTO probe (RFC 9002 §7: probes are never blocked, §7.5).
 */
export interface CongestionController {
  /** The algorithm's name, as createCongestionController knows it. */
  readonly name: string;
  /** The congestion window (bytes). */
  readonly cwnd: number;
  /** The slow start threshold (bytes); Infinity until the first congestion event. */
  readonly ssthresh: number;
  /** Bytes of in-flight packets neither acknowledged, declared lost nor discarded. */
  readonly bytesInFlight: number;
  /** The state, in qlog's names. */
  readonly state: CongestionState;
  /** The current maximum datagram size (bytes). */
  readonly maxDatagramSize: number;
  /** RFC 9002 §7.2: 2 * max_datagram_size. */
  readonly minimumWindow: number;
  /** Receives congestion state changes; set it to trace them. */
  listener: RecoveryListener | null;
  /**
   * Records `bytes` more in flight (Appendix B.4). Call only for in-flight packets. `packetNumber`:
   * the packet's number if it is an Application Data packet, else -1 (HyStart++ rounds).
   */
  onPacketSent(bytes: number, now: number, packetNumber?: number): void;
  /**
   * Newly acknowledged packets of one ACK frame (Appendix B.5): shrinks bytes in flight and grows
   * the window. `rtt` has already taken this ACK's sample, if it produced one.
   */
  onPacketsAcked(packets: readonly CongestionPacket[], now: number, rtt: RttEstimator): void;
  /** Packets declared lost (Appendix B.8, without persistent congestion): may start a congestion event. */
  onPacketsLost(packets: readonly CongestionPacket[], now: number): void;
  /** A congestion event caused by a packet sent at `sentTime` (Appendix B.6); once per recovery period. */
  onCongestionEvent(sentTime: number, now: number, trigger?: CongestionTrigger): void;
  /** RFC 9002 §7.6.2: collapses the window to the minimum window. */
  onPersistentCongestion(now: number): void;
  /** Packets of a discarded space leave bytes in flight (Appendix B.9). */
  removeFromBytesInFlight(bytes: number): void;
  /**
   * RFC 9002 §7.8: the connection says whether the window is underutilized for want of data or
   * flow-control credit (true) or it stopped because the window or the pacer was full (false).
   * The window does not grow while this is true.
   */
  setAppLimited(limited: boolean): void;
  /** Whether the controller currently considers itself application limited. */
  isAppLimited(): boolean;
  /** Whether an in-flight packet of `bytes` may be sent now (RFC 9002 §7; §7.3.2 one packet on entering recovery). */
  canSend(bytes: number): boolean;
  /** How many more bytes the window allows in flight (0 when full). */
  availableWindow(): number;
  /** A new maximum datagram size (PMTUD, RFC 9002 §7.2): windows are recomputed. */
  setMaxDatagramSize(size: number): void;
  /** Back to the initial state, bytes in flight included (a Retry, RFC 9002 §6.3). */
  reset(): void;
}

/** The shared half of NewReno and CUBIC: everything but the growth and reduction rules. */
export abstract class WindowedController implements CongestionController {
  abstract readonly name: string;
  cwnd: number;
  ssthresh = Infinity;
  bytesInFlight = 0;
  state: CongestionState = 'slow_start';
  maxDatagramSize: number;
  listener: RecoveryListener | null = null;
  /** HyStart++ (RFC 9406) of the initial slow start. */
  readonly hystart: HyStart;
  /** Appendix B.2 congestion_recovery_start_time; -Infinity while no recovery period has begun. */
  protected recoveryStartTime = -Infinity;
  private inRecovery = false;
  private appLimited = false;
  /** RFC 9002 §7.3.2: one packet may be sent on entering recovery before the reduced window applies. */
  private recoverySendAllowance = 0;
  /** True until the window first changes: a new datagram size then resets it to the new initial window. */
  private windowUntouched = true;
  /** The RTT estimator and sample count last seen, to tell whether an ACK brought a new sample. */
  private lastRtt: RttEstimator | null = null;
  private lastRttSamples = 0;

  constructor(maxDatagramSize: number, options: CongestionControllerOptions = {}) {
    checkDatagramSize(maxDatagramSize);
    this.maxDatagramSize = maxDatagramSize;
    this.cwnd = initialWindow(maxDatagramSize);
    this.hystart = new HyStart(options.hyStart ?? true);
  }

  get minimumWindow(): number {
    return minimumWindow(this.maxDatagramSize);
  }

  onPacketSent(bytes: number, now: number, packetNumber = -1): void {
    this.beforeSend(now);
    this.bytesInFlight += bytes;
    if (packetNumber >= 0) this.hystart.onPacketSent(packetNumber);
    if (this.recoverySendAllowance > 0) this.recoverySendAllowance--;
  }

  onPacketsAcked(packets: readonly CongestionPacket[], now: number, rtt: RttEstimator): void {
    let largestAcked = -1;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      if (!packet.inFlight) continue;
      this.bytesInFlight -= packet.size;
      const pn = packet.packetNumber;
      if (pn !== undefined && pn > largestAcked && (packet.space ?? APPLICATION) === APPLICATION)
        largestAcked = pn;
      // RFC 9002 §7.3.2: the recovery period ends when a packet sent during it is acknowledged.
      if (packet.timeSent > this.recoveryStartTime) this.inRecovery = false;
      // RFC 9002 §7.8: no growth while the window is underutilized.
      if (this.appLimited) continue;
      // RFC 9002 §7.3.2, Appendix B.5: packets sent before the recovery period do not grow it.
      if (packet.timeSent <= this.recoveryStartTime) continue;
      this.windowUntouched = false;
      // RFC 9002 §7.3.1: slow start grows by the bytes acknowledged; RFC 9406 §4.2: a quarter of
      // them in Conservative Slow Start.
      if (this.cwnd < this.ssthresh) this.cwnd += this.hystart.slowStartIncrease(packet.size);
      else this.grow(packet, now, rtt);
    }
    const sampled = rtt !== this.lastRtt || rtt.samples !== this.lastRttSamples;
    this.lastRtt = rtt;
    this.lastRttSamples = rtt.samples;
    if (this.hystart.phase !== 'off') {
      // RFC 9406 §4.3: HyStart++ only in the initial slow start, while ssthresh is unset.
      if (this.ssthresh !== Infinity) this.hystart.stop();
      else if (this.hystart.onAck(largestAcked, sampled && rtt.samples > 0 ? rtt.latestRtt : NaN)) {
        // RFC 9406 §4.2: CSS_ROUNDS rounds of CSS are over: congestion avoidance from this window.
        this.ssthresh = this.cwnd;
        this.onSlowStartExit(now);
      }
    }
    this.afterAck(now);
    this.updateState('ack');
  }

  onPacketsLost(packets: readonly CongestionPacket[], now: number): void {
    let newestLost = -Infinity;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      if (!packet.inFlight) continue;
      this.bytesInFlight -= packet.size;
      // RFC 9000 §14.4: a lost PMTU probe is not a congestion signal.
      if (packet.pmtuProbe !== true && packet.timeSent > newestLost) newestLost = packet.timeSent;
    }
    // Appendix B.8: a congestion event if in-flight packets were lost.
    if (newestLost !== -Infinity) this.onCongestionEvent(newestLost, now, 'loss');
  }

  onCongestionEvent(sentTime: number, now: number, trigger: CongestionTrigger = 'loss'): void {
    // RFC 9002 §7.3.2, Appendix B.6: no reaction to a packet sent before the current recovery period.
    if (sentTime <= this.recoveryStartTime) return;
    this.recoveryStartTime = now;
    this.inRecovery = true;
    this.windowUntouched = false;
    // RFC 9406 §4.2: a congestion event in slow start or CSS ends HyStart++ (the usual reduction).
    this.hystart.stop();
    this.reduce(now);
    this.cwnd = Math.max(this.cwnd, this.minimumWindow);
    this.recoverySendAllowance = 1;
    this.updateState(trigger);
  }

  onPersistentCongestion(now: number): void {
    // RFC 9002 §7.6.2, Appendix B.8.
    this.cwnd = this.minimumWindow;
    this.recoveryStartTime = -Infinity;
    this.inRecovery = false;
    this.recoverySendAllowance = 0;
    this.windowUntouched = false;
    this.hystart.stop();
    this.onCollapse(now);
    this.updateState('persistent_congestion');
  }

  removeFromBytesInFlight(bytes: number): void {
    this.bytesInFlight -= bytes;
  }

  setAppLimited(limited: boolean): void {
    if (this.appLimited === limited) return;
    this.appLimited = limited;
    this.updateState('application_limited');
  }

  isAppLimited(): boolean {
    return this.appLimited;
  }

  canSend(bytes: number): boolean {
    return this.bytesInFlight + bytes <= this.cwnd || this.recoverySendAllowance > 0;
  }

  availableWindow(): number {
    return Math.max(0, this.cwnd - this.bytesInFlight);
  }

  setMaxDatagramSize(size: number): void {
    checkDatagramSize(size);
    this.maxDatagramSize = size;
    // RFC 9002 §7.2: recompute the initial window with the new size; keep at least the minimum.
    if (this.windowUntouched) this.cwnd = initialWindow(size);
    else this.cwnd = Math.max(this.cwnd, this.minimumWindow);
    this.updateState('max_datagram_size');
  }

  reset(): void {
    this.cwnd = initialWindow(this.maxDatagramSize);
    this.ssthresh = Infinity;
    this.bytesInFlight = 0;
    this.recoveryStartTime = -Infinity;
    this.inRecovery = false;
    this.appLimited = false;
    this.recoverySendAllowance = 0;
    this.windowUntouched = true;
    this.hystart.reset();
    this.lastRtt = null;
    this.lastRttSamples = 0;
    this.onCollapse(-Infinity);
    this.updateState('reset');
  }

  /**
   * Grows the window in congestion avoidance (cwnd >= ssthresh) for one newly acknowledged
   * in-flight packet sent outside recovery. Slow start is common to all (onPacketsAcked).
   */
  protected abstract grow(packet: CongestionPacket, now: number, rtt: RttEstimator): void;
  /** Sets ssthresh and cwnd on entering a recovery period (the caller then enforces the minimum). */
  protected abstract reduce(now: number): void;
  /** Called after cwnd collapsed (persistent congestion) or was reset; `now` is -Infinity on reset. */
  protected onCollapse(_now: number): void {}
  /** Called before every in-flight packet is counted (CUBIC uses it to detect idle periods). */
  protected beforeSend(_now: number): void {}
  /** Called once per onPacketsAcked, after the window grew. */
  protected afterAck(_now: number): void {}
  /** Called when HyStart++ ended slow start without loss (ssthresh = cwnd, RFC 9406 §4.2). */
  protected onSlowStartExit(_now: number): void {}

  private updateState(trigger: CongestionTrigger): void {
    let next: CongestionState;
    if (this.inRecovery) next = 'recovery';
    else if (this.appLimited) next = 'application_limited';
    else if (this.cwnd < this.ssthresh) next = this.hystart.inCss ? 'conservative_slow_start' : 'slow_start';
    else next = 'congestion_avoidance';
    if (next === this.state) return;
    const old = this.state;
    this.state = next;
    this.listener?.onCongestionStateUpdated?.(old, next, trigger);
  }
}

const APPLICATION = PacketNumberSpace.ApplicationData;

function checkDatagramSize(size: number): void {
  if (!Number.isInteger(size) || size < MIN_MAX_DATAGRAM_SIZE)
    throw new RangeError(`max datagram size must be an integer >= ${MIN_MAX_DATAGRAM_SIZE}, got ${size}`);
}
