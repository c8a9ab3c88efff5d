/**
 * RTT estimation (RFC 9002 §5, Appendix A.7 UpdateRtt): latest_rtt, min_rtt, smoothed_rtt and
 * rttvar for one network path, and the PTO and persistent-congestion durations built on them.
 */
import { PacketNumberSpace, kGranularity, kInitialRtt, kPersistentCongestionThreshold } from './types.ts';

/** The RTT estimator of one path (RFC 9002 §5). All values in ms. */
export class RttEstimator {
  /** RFC 9002 §5.1: the most recent RTT sample (0 before the first). */
  latestRtt = 0;
  /** RFC 9002 §5.3: exponentially weighted moving average of the adjusted samples. */
  smoothedRtt: number;
  /** RFC 9002 §5.3: mean deviation of the samples. */
  rttVar: number;
  /** RFC 9002 §5.2: the smallest sample seen, never adjusted for ack delay (0 before the first). */
  minRtt = 0;
  /** The time of the first sample (Appendix A.3 first_rtt_sample), or null while there is none. */
  firstSampleTime: number | null = null;
  /** Samples taken since the last reset (a consumer tells a new sample by this count changing). */
  samples = 0;
  private initialRtt: number;
  private resetMinRtt = false;

  /** `initialRtt`: kInitialRtt (333 ms), or a resumed connection's smoothed RTT (RFC 9002 §6.2.2). */
  constructor(initialRtt: number = kInitialRtt) {
    if (!(initialRtt > 0)) throw new RangeError(`initial RTT must be positive, got ${initialRtt}`);
    this.initialRtt = initialRtt;
    this.smoothedRtt = initialRtt;
    this.rttVar = initialRtt / 2;
  }

  /** Whether at least one RTT sample has been taken since the last reset. */
  get hasSample(): boolean {
    return this.firstSampleTime !== null;
  }

  /**
   * Takes an RTT sample (RFC 9002 §5.1-5.3, Appendix A.7 UpdateRtt). `latestRtt` is
   * ack_time - send time of the largest newly acknowledged packet; `ackDelay` the peer's decoded
   * ACK Delay (ms); `maxAckDelay` the peer's max_ack_delay transport parameter (ms).
   */
  update(
    latestRtt: number,
    ackDelay: number,
    handshakeConfirmed: boolean,
    maxAckDelay: number,
    now: number,
  ): void {
    const sample = Math.max(0, latestRtt);
    this.latestRtt = sample;
    this.samples++;
    if (this.firstSampleTime === null) {
      // RFC 9002 §5.3: the first sample resets the estimator, keeping no history.
      this.minRtt = sample;
      this.smoothedRtt = sample;
      this.rttVar = sample / 2;
      this.firstSampleTime = now;
      this.resetMinRtt = false;
      return;
    }
    // RFC 9002 §5.2: min_rtt ignores ack delay; after persistent congestion it restarts at the
    // newest sample.
    if (this.resetMinRtt) {
      this.minRtt = sample;
      this.resetMinRtt = false;
    } else if (sample < this.minRtt) {
      this.minRtt = sample;
    }
    // RFC 9002 §5.3: max_ack_delay caps the ack delay only once the handshake is confirmed.
    let delay = Math.max(0, ackDelay);
    if (handshakeConfirmed) delay = Math.min(delay, maxAckDelay);
    // RFC 9002 §5.3: never subtract the ack delay below min_rtt.
    let adjusted = sample;
    if (sample >= this.minRtt + delay) adjusted = sample - delay;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /** smoothed_rtt + max(4 * rttvar, kGranularity): the PTO without max_ack_delay (RFC 9002 §6.2.1). */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, kGranularity);
  }

  /**
   * The PTO period of `space` (RFC 9002 §6.2.1), without backoff: max_ack_delay is added only for
   * the Application Data space, and only once the handshake is confirmed (Initial and Handshake
   * ACKs are not delayed intentionally, RFC 9000 §13.2.1).
   */
  pto(space: PacketNumberSpace, maxAckDelay: number, handshakeConfirmed: boolean): number {
    const base = this.ptoBase();
    return space === PacketNumberSpace.ApplicationData && handshakeConfirmed ? base + maxAckDelay : base;
  }

  /**
   * RFC 9002 §7.6.1: (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) *
   * kPersistentCongestionThreshold, with max_ack_delay whatever the space.
   */
  persistentCongestionDuration(maxAckDelay: number): number {
    return (this.ptoBase() + maxAckDelay) * kPersistentCongestionThreshold;
  }

  /** RFC 9002 §5.2: after persistent congestion, the next sample replaces min_rtt. */
  onPersistentCongestion(): void {
    this.resetMinRtt = true;
  }

  /**
   * Forgets every sample (RFC 9002 §5.3: a new path, RFC 9000 §9.4; a Retry, RFC 9002 §6.3).
   * `initialRtt` optionally replaces the initial RTT (e.g. measured from a Retry, §6.3, or from
   * PATH_CHALLENGE/PATH_RESPONSE, §6.2.2).
   */
  reset(initialRtt: number = this.initialRtt): void {
    if (!(initialRtt > 0)) throw new RangeError(`initial RTT must be positive, got ${initialRtt}`);
    this.initialRtt = initialRtt;
    this.latestRtt = 0;
    this.smoothedRtt = initialRtt;
    this.rttVar = initialRtt / 2;
    this.minRtt = 0;
    this.firstSampleTime = null;
    this.samples = 0;
    this.resetMinRtt = false;
  }
}
