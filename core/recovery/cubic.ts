/**
 * CUBIC congestion control (RFC 9438) on top of RFC 9002's window accounting and recovery period.
 *
 * Windows are kept in bytes; RFC 9438's formulas count segments, so they are applied with
 * segment = max_datagram_size and time in seconds:
 *   W_cubic(t) = C * (t - K)^3 + W_max                       (§4.2, eq. 1)
 *   K = cubic_root((W_max - cwnd_epoch) / C)                  (§4.2, eq. 2)
 *   W_est += alpha_cubic * segments_acked / cwnd              (§4.3, Reno-friendly estimate)
 * with C = 0.4, beta_cubic = 0.7, alpha_cubic = 3 (1 - beta) / (1 + beta), fast convergence (§4.7).
 *
 * Slow start is RFC 9002's with HyStart++ (RFC 9406, §4.10), in congestion.ts; when HyStart++ ends
 * it without loss, the congestion avoidance stage starts there with W_max = cwnd_prior = cwnd.
 *
 * Not implemented: undoing spurious congestion events (§4.9). ssthresh is set from cwnd rather
 * than flight size (§4.6 allows it because the window does not grow while application limited,
 * RFC 9002 §7.8).
 */
import { WindowedController, type CongestionPacket } from './congestion.ts';
import type { RttEstimator } from './rtt.ts';

/** RFC 9438 §5.1: the CUBIC scaling constant C (segments / s^3). */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: the multiplicative decrease factor beta_cubic. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: alpha_cubic = 3 (1 - beta_cubic) / (1 + beta_cubic), Reno-friendly additive increase. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 §4.2 eq. 2: K in seconds for windows in bytes of `segment` bytes each. */
export function cubicK(wMax: number, cwndEpoch: number, segment: number): number {
  return Math.cbrt((wMax - cwndEpoch) / segment / CUBIC_C);
}

/** RFC 9438 §4.2 eq. 1: W_cubic(t) in bytes, `t` and `k` in seconds. */
export function cubicWindow(t: number, k: number, wMax: number, segment: number): number {
  const d = t - k;
  return CUBIC_C * d * d * d * segment + wMax;
}

/** CUBIC (RFC 9438). */
export class Cubic extends WindowedController {
  readonly name = 'cubic';
  /** RFC 9438 §4.1.2 W_max: the window just before the last reduction (bytes); 0 before any. */
  wMax = 0;
  /** RFC 9438 §4.6 cwnd_prior: the window when the last congestion event was detected. */
  cwndPrior = 0;
  /** RFC 9438 §4.2 K (s) of the current congestion avoidance stage. */
  k = 0;
  /** RFC 9438 §4.3 W_est (bytes). */
  wEst = 0;
  /** RFC 9438 §4.2 t_epoch (ms): start of the current congestion avoidance stage, null outside one. */
  epochStart: number | null = null;
  /** Fast convergence (RFC 9438 §4.7), on by default. */
  fastConvergence = true;
  private alpha = CUBIC_ALPHA;
  private lastSendTime = -Infinity;
  private lastAckTime = -Infinity;

  protected grow(packet: CongestionPacket, now: number, rtt: RttEstimator): void {
    const mss = this.maxDatagramSize;
    if (this.epochStart === null) this.startEpoch(now);
    const epochStart = this.epochStart as number;
    const t = (now - epochStart) / 1000;
    // RFC 9438 §4.3: the Reno-friendly estimate; alpha becomes 1 once W_est reaches cwnd_prior.
    this.wEst += (this.alpha * mss * packet.size) / this.cwnd;
    if (this.alpha !== 1 && this.wEst >= this.cwndPrior) this.alpha = 1;
    const wCubic = cubicWindow(t, this.k, this.wMax, mss);
    if (wCubic < this.wEst) {
      // RFC 9438 §4.3: Reno-friendly region, cwnd follows W_est (never shrinking on an ACK).
      if (this.wEst > this.cwnd) this.cwnd = this.wEst;
      return;
    }
    // RFC 9438 §4.4, §4.5: concave and convex regions aim at W_cubic(t + RTT), kept within
    // [cwnd, 1.5 cwnd], and move (target - cwnd) / cwnd segments per segment acknowledged.
    const target = Math.min(
      Math.max(cubicWindow(t + rtt.smoothedRtt / 1000, this.k, this.wMax, mss), this.cwnd),
      1.5 * this.cwnd,
    );
    this.cwnd += ((target - this.cwnd) * packet.size) / this.cwnd;
  }

  protected reduce(now: number): void {
    const cwnd = this.cwnd;
    // RFC 9438 §4.7 fast convergence: a window that stopped below the last W_max releases bandwidth.
    if (this.fastConvergence && cwnd < this.wMax) this.wMax = (cwnd * (1 + CUBIC_BETA)) / 2;
    else this.wMax = cwnd;
    // RFC 9438 §4.6 multiplicative decrease.
    this.cwndPrior = cwnd;
    this.ssthresh = Math.max(cwnd * CUBIC_BETA, this.minimumWindow);
    this.cwnd = this.ssthresh;
    // RFC 9438 §4.2: the congestion avoidance stage that follows starts at the congestion event.
    this.startEpoch(now);
  }

  protected override onCollapse(now: number): void {
    // RFC 9438 §4.8: after a timeout-like collapse, slow start runs up to ssthresh and a new
    // congestion avoidance stage starts from there; W_max is kept. A reset forgets everything.
    this.epochStart = null;
    if (now === -Infinity) {
      this.wMax = 0;
      this.cwndPrior = 0;
      this.k = 0;
      this.wEst = 0;
      this.alpha = CUBIC_ALPHA;
      this.lastSendTime = -Infinity;
      this.lastAckTime = -Infinity;
    }
  }

  protected override beforeSend(now: number): void {
    // After an idle period (nothing in flight), the cubic curve resumes where it paused rather
    // than jumping ahead by the idle time (RFC 9438 §5.8: no growth while application limited).
    if (this.bytesInFlight === 0 && this.epochStart !== null) {
      const idleSince = Math.max(this.lastSendTime, this.lastAckTime);
      if (idleSince !== -Infinity && now > idleSince) this.epochStart += now - idleSince;
    }
    this.lastSendTime = now;
  }

  protected override afterAck(now: number): void {
    this.lastAckTime = now;
  }

  protected override onSlowStartExit(now: number): void {
    // RFC 9438 §4.10: HyStart++ left slow start without loss, so W_max is undefined: cwnd_prior =
    // cwnd, and the congestion avoidance stage starting now has W_max = cwnd and K = 0 (the
    // Reno-friendly alpha is then 1 at once, §4.3, since W_est starts at cwnd_prior).
    this.cwndPrior = this.cwnd;
    this.wMax = this.cwnd;
    this.startEpoch(now);
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    const cwndEpoch = this.cwnd;
    // With no W_max above the window (no loss yet, or the window passed it in slow start), the
    // curve starts in its convex region at the current window: W_max = cwnd_epoch, K = 0.
    if (this.wMax < cwndEpoch) this.wMax = cwndEpoch;
    this.k = cubicK(this.wMax, cwndEpoch, this.maxDatagramSize);
    this.wEst = cwndEpoch;
    this.alpha = this.wEst >= this.cwndPrior && this.cwndPrior > 0 ? 1 : CUBIC_ALPHA;
  }
}
