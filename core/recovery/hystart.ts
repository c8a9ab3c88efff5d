/**
 * HyStart++ (RFC 9406): leaves the initial slow start when the RTT grows, before the flight has
 * filled the bottleneck's buffer (on loopback and other paths without loss, slow start would
 * otherwise only stop at the receiver's flow-control limit, queueing a whole window).
 *
 * Rounds are counted in Application Data packet numbers: a round ends when a packet numbered at
 * least `windowEnd` (the largest sent when the round began) is acknowledged (§4.2, SND.NXT and
 * windowEnd become packet numbers). Each round keeps the minimum of its RTT samples (one per ACK
 * frame that produced one, RFC 9002 §5.1). After N_RTT_SAMPLE samples, a round minimum at least
 * RttThresh above the previous round's ends slow start and begins Conservative Slow Start (CSS):
 * growth divided by CSS_GROWTH_DIVISOR for CSS_ROUNDS rounds, then congestion avoidance with
 * ssthresh = cwnd. A round minimum below the CSS baseline in CSS means the exit was spurious: back
 * to slow start. A congestion event ends HyStart++ (the standard reduction applies), and it runs
 * only in the initial slow start, while ssthresh is still unset (§4.3).
 *
 * L (the cap on bytes one ACK may add, §4.2) is infinite: the connection paces (RFC 9002 §7.7),
 * as §4.3 recommends for paced senders.
 */

/** RFC 9406 §4.3 MIN_RTT_THRESH (ms): the smallest RTT increase that ends slow start. */
export const HYSTART_MIN_RTT_THRESH = 4;
/** RFC 9406 §4.3 MAX_RTT_THRESH (ms): the largest RTT increase slow start waits for. */
export const HYSTART_MAX_RTT_THRESH = 16;
/** RFC 9406 §4.3 MIN_RTT_DIVISOR: RttThresh is lastRoundMinRTT / 8 within the two bounds. */
export const HYSTART_MIN_RTT_DIVISOR = 8;
/** RFC 9406 §4.3 N_RTT_SAMPLE: RTT samples a round needs before its minimum is compared. */
export const HYSTART_N_RTT_SAMPLE = 8;
/** RFC 9406 §4.3 CSS_GROWTH_DIVISOR: Conservative Slow Start grows the window this much slower. */
export const HYSTART_CSS_GROWTH_DIVISOR = 4;
/** RFC 9406 §4.3 CSS_ROUNDS: the most rounds Conservative Slow Start lasts. */
export const HYSTART_CSS_ROUNDS = 5;

/**
 * Where HyStart++ is: 'slow_start' (watching the RTT), 'conservative_slow_start' (CSS), or 'off'
 * (disabled, or over for this connection: slow start, if it happens again, is RFC 9002's).
 */
export type HyStartPhase = 'slow_start' | 'conservative_slow_start' | 'off';

/** RFC 9406 §4.2 RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)). */
export function hyStartRttThresh(lastRoundMinRtt: number): number {
  return Math.max(
    HYSTART_MIN_RTT_THRESH,
    Math.min(lastRoundMinRtt / HYSTART_MIN_RTT_DIVISOR, HYSTART_MAX_RTT_THRESH),
  );
}

/** The HyStart++ state of one congestion controller (RFC 9406 §4.2); times in ms. */
export class HyStart {
  /** The current phase. */
  phase: HyStartPhase;
  /** §4.2 lastRoundMinRTT: the previous round's minimum RTT (Infinity: none). */
  lastRoundMinRtt = Infinity;
  /** §4.2 currentRoundMinRTT: this round's minimum RTT so far (Infinity: none). */
  currentRoundMinRtt = Infinity;
  /** §4.2 rttSampleCount: RTT samples taken in this round. */
  rttSampleCount = 0;
  /** §4.2 windowEnd: acknowledging this packet number ends the round; -1 while no round runs. */
  windowEnd = -1;
  /** §4.2 cssBaselineMinRtt: the round minimum that started CSS (Infinity outside CSS). */
  cssBaselineMinRtt = Infinity;
  /** Rounds that ended in CSS; the round CSS began in counts (§4.2). */
  cssRounds = 0;
  /** The largest Application Data packet number sent so far (-1: none). */
  largestSent = -1;
  private readonly enabled: boolean;
  /** CSS began in the current round (its baseline came from this round's first samples). */
  private cssEntryRound = false;

  /** `enabled` false: the phase stays 'off' and slow start is RFC 9002's. */
  constructor(enabled = true) {
    this.enabled = enabled;
    this.phase = enabled ? 'slow_start' : 'off';
  }

  /** Whether Conservative Slow Start is running. */
  get inCss(): boolean {
    return this.phase === 'conservative_slow_start';
  }

  /** An in-flight Application Data packet numbered `packetNumber` was sent. */
  onPacketSent(packetNumber: number): void {
    if (packetNumber > this.largestSent) this.largestSent = packetNumber;
  }

  /** The window increase for `bytes` newly acknowledged in slow start: all of it, or 1/4 in CSS (§4.2). */
  slowStartIncrease(bytes: number): number {
    return this.phase === 'conservative_slow_start' ? bytes / HYSTART_CSS_GROWTH_DIVISOR : bytes;
  }

  /**
   * One ACK frame processed in slow start (§4.2). `largestAcked`: the largest Application Data
   * packet number it newly acknowledged (-1: none); `rttSample`: the RTT sample it produced
   * (ms; NaN: none). Returns true when CSS has run CSS_ROUNDS rounds: the caller then enters
   * congestion avoidance with ssthresh = cwnd, and HyStart++ is over.
   */
  onAck(largestAcked: number, rttSample: number): boolean {
    if (this.phase === 'off') return false;
    if (this.windowEnd < 0) {
      if (this.largestSent < 0) return false;
      this.startRound();
    }
    if (!Number.isNaN(rttSample)) this.onRttSample(rttSample);
    if (largestAcked < this.windowEnd) return false;
    // The round ends: windowEnd was acknowledged.
    if (this.phase === 'conservative_slow_start' && ++this.cssRounds >= HYSTART_CSS_ROUNDS) {
      // §4.2: CSS_ROUNDS rounds of CSS without a spurious-exit signal: congestion avoidance.
      this.stop();
      return true;
    }
    this.startRound();
    return false;
  }

  /** Ends HyStart++ for the connection: a congestion event, or ssthresh set another way (§4.2, §4.3). */
  stop(): void {
    this.phase = 'off';
    this.cssBaselineMinRtt = Infinity;
    this.windowEnd = -1;
  }

  /** Back to the state of a new connection (a Retry, a new path); packet numbers keep growing. */
  reset(): void {
    this.phase = this.enabled ? 'slow_start' : 'off';
    this.lastRoundMinRtt = Infinity;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.windowEnd = -1;
    this.cssBaselineMinRtt = Infinity;
    this.cssRounds = 0;
    this.cssEntryRound = false;
  }

  /** §4.2: at the start of each round, the current minimum becomes the last one. */
  private startRound(): void {
    this.lastRoundMinRtt = this.currentRoundMinRtt;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.windowEnd = this.largestSent;
    this.cssEntryRound = false;
  }

  private onRttSample(rtt: number): void {
    if (rtt < this.currentRoundMinRtt) this.currentRoundMinRtt = rtt;
    this.rttSampleCount++;
    // §4.2: only a round with N_RTT_SAMPLE samples is judged.
    if (this.rttSampleCount < HYSTART_N_RTT_SAMPLE) return;
    const current = this.currentRoundMinRtt;
    const last = this.lastRoundMinRtt;
    // §4.2: a delay increase of RttThresh over the last round ends slow start.
    const increased = last !== Infinity && current >= last + hyStartRttThresh(last);
    if (this.phase === 'slow_start') {
      if (!increased) return;
      this.cssBaselineMinRtt = current;
      this.phase = 'conservative_slow_start';
      this.cssRounds = 0;
      this.cssEntryRound = true;
    } else if (current < this.cssBaselineMinRtt) {
      if (this.cssEntryRound && increased) {
        // A later sample of the round CSS began in, lower but still an increase: resuming slow
        // start here would only re-enter CSS at the next sample, so the baseline follows instead.
        this.cssBaselineMinRtt = current;
        return;
      }
      // §4.2: the round's minimum fell below the CSS baseline, the exit was spurious: slow start
      // again, HyStart++ included.
      this.cssBaselineMinRtt = Infinity;
      this.phase = 'slow_start';
      this.cssRounds = 0;
      this.cssEntryRound = false;
    }
  }
}
