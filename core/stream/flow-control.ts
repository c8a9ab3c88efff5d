/**
 * Data flow control (RFC 9000 §4.1, §4.2): one `RecvFlowControl` per receiving stream and one for
 * the connection; one `SendFlowControl` per sending stream and one for the connection. Numbers only:
 * the stream code decides when to call them; the StreamMap turns their signals into MAX_DATA,
 * MAX_STREAM_DATA, DATA_BLOCKED and STREAM_DATA_BLOCKED frames.
 */
import { QuicError, TransportError } from '../wire/errors.ts';

/** The RTT figures of a path that auto-tuning reads (core/recovery's RttEstimator has them). */
export interface PathRtt {
  /** RFC 9002 §5.2 min_rtt (ms). */
  readonly minRtt: number;
  /** RFC 9002 §5.3 smoothed_rtt (ms): the initial RTT before the first sample. */
  readonly smoothedRtt: number;
  /** Whether the path has an RTT sample yet. */
  readonly hasSample: boolean;
}

/** The smallest RTT auto-tuning believes (ms): RFC 9002's timer granularity, kGranularity. */
export const AUTO_TUNE_MIN_RTT = 1;

/**
 * The RTT that window auto-tuning judges against (RecvFlowControl.update): min_rtt once the path
 * has a sample (RFC 9002 §5.2), the smoothed RTT before (the initial RTT, RFC 9002 §6.2.2), and
 * never less than the 1 ms timer granularity (RFC 9002 §6.1.2 kGranularity: a shorter RTT, down to
 * a sample of 0 on loopback, says only that the path is faster than the clock can tell).
 *
 * Why not the smoothed RTT: a window larger than the path needs is what fills the queue (at the
 * bottleneck, or in a slow receiver's socket buffer), and that queue is in every later RTT
 * sample. A flow-limited sender keeps about one window in flight, so with a window W and a
 * throughput T the RTT becomes about W / T. An update is due every W / 2 bytes consumed, that is
 * every W / (2 T) ms, which is always less than 2 RTT = 2 W / T: judged against the smoothed RTT,
 * the window doubles at every update, whatever its size, until the cap (16 or 64 MiB), and the
 * RTT grows with it (60-140 ms measured on loopback).
 *
 * Judged against min_rtt, the round trip without the queue, the window doubles only while
 * W / (2 T) < 2 min_rtt, i.e. W < 4 T min_rtt = 4 BDP (the bandwidth-delay product), and stops
 * between 4 and 8 BDP: enough for full throughput, with margin for ACK delay and jitter, while
 * the queue it can hold stays a few min_rtt long. It still grows as fast as before while the
 * window is what limits the sender: the peer then sends W per RTT and an update comes every half
 * RTT. On a 50 ms, 100 Mbit/s path a 64 KiB window grows to the 625 kB BDP in about 4 doublings.
 * min_rtt never grows on its own (only persistent congestion resets it), so a path whose RTT
 * later grows keeps full throughput up to a fourfold increase.
 */
export function autoTuneRtt(rtt: PathRtt): number {
  const figure = rtt.hasSample ? Math.min(rtt.minRtt, rtt.smoothedRtt) : rtt.smoothedRtt;
  return Math.max(figure, AUTO_TUNE_MIN_RTT);
}

/**
 * Receive-side credit with window auto-tuning. The limit advertised to the peer is `max`; the peer
 * has used `received` of it (the highest offset received on a stream, or the sum of those over the
 * connection, §4.1); the application has `consumed` (read, or discarded after a reset or
 * STOP_SENDING). When less than half a window of advertised credit remains unconsumed, a new limit
 * `consumed + window` is due. If that happens within two RTTs of the previous update, the reader is
 * faster than the window allows and the window doubles, up to `maxWindow` (§4.2 "autotuning");
 * the RTT is the path's without its queue (autoTuneRtt).
 */
export class RecvFlowControl {
  /** The largest limit advertised so far (never decreases, §4.1). */
  max: number;
  /** Credit the peer has used. */
  received = 0;
  /** Credit the application has released. */
  consumed = 0;
  /** Current window size; grows by auto-tuning. */
  window: number;
  /** The largest the window may grow to. */
  readonly maxWindow: number;
  /** Time (ms) of the last limit update; -Infinity before the first. */
  private lastUpdate = -Infinity;

  constructor(window: number, maxWindow = window) {
    this.max = window;
    this.window = window;
    this.maxWindow = Math.max(window, maxWindow);
  }

  /** Credit the peer may still use. */
  get available(): number {
    return this.max - this.received;
  }

  /**
   * Records `n` more bytes of credit used by the peer. Going past `max` is a FLOW_CONTROL_ERROR
   * (§4.1), attributed to `frameType` and described as `what` ("stream 4", "connection").
   */
  receive(n: number, what: string, frameType: number): void {
    const received = this.received + n;
    if (received > this.max)
      throw new QuicError(
        TransportError.FLOW_CONTROL_ERROR, // RFC 9000 §4.1, §19.9, §19.10
        `${what}: ${received} bytes exceed the advertised limit ${this.max}`,
        frameType,
      );
    this.received = received;
  }

  /** Records `n` bytes read by (or discarded for) the application. */
  consume(n: number): void {
    this.consumed += n;
  }

  /** Whether a larger limit should be advertised: less than half a window of credit is left. */
  shouldUpdate(): boolean {
    const left = this.max - this.consumed;
    return left < this.window && left <= this.window / 2;
  }

  /**
   * Auto-tunes the window from `now` and `rtt` (ms; autoTuneRtt: min_rtt, not the smoothed RTT,
   * which the window's own queue inflates), raises `max`, and returns it.
   */
  update(now: number, rtt: number): number {
    // RFC 9000 §4.2: grow the window when the reader drains it within ~2 RTTs of the last update.
    if (now - this.lastUpdate < 2 * rtt) this.window = Math.min(this.window * 2, this.maxWindow);
    this.lastUpdate = now;
    const next = this.consumed + this.window;
    if (next > this.max) this.max = next;
    return this.max;
  }

  /** Grows the window to at least `w` (capped by `maxWindow`); used to keep the connection window ahead of stream windows. */
  ensureWindow(w: number): void {
    if (w > this.window) this.window = Math.min(w, this.maxWindow);
  }
}

/**
 * Send-side credit granted by the peer (initial transport parameter, then MAX_DATA or
 * MAX_STREAM_DATA). Tracks being blocked so that a DATA_BLOCKED / STREAM_DATA_BLOCKED is sent once
 * per limit (§4.1, §19.12, §19.13).
 */
export class SendFlowControl {
  /** The peer's limit. */
  max: number;
  /** Credit used so far. */
  used = 0;
  /** A blocked frame is due (see `pollBlocked`). */
  blockedPending = false;
  /** The limit at which blocking was last signalled, or -1. */
  private blockedAt = -1;

  constructor(max: number) {
    this.max = max;
  }

  /** Credit left. */
  get available(): number {
    return this.max - this.used;
  }

  /** Uses `n` bytes of credit; a RangeError if the caller oversteps (a bug, not a peer error). */
  consume(n: number): void {
    if (this.used + n > this.max) throw new RangeError(`flow control: ${n} bytes exceed the credit left`);
    this.used += n;
  }

  /** Applies a new limit from the peer; limits that do not increase are ignored (§4.1). Returns whether it grew. */
  onMax(max: number): boolean {
    if (max <= this.max) return false;
    this.max = max;
    this.blockedPending = false;
    return true;
  }

  /** Notes that the sender wanted to send more than the limit allows; a blocked frame becomes due once per limit. */
  markBlocked(): void {
    if (this.blockedAt === this.max) return;
    this.blockedAt = this.max;
    this.blockedPending = true;
  }

  /** Whether the sender is at its limit. */
  get blocked(): boolean {
    return this.used >= this.max;
  }

  /** The limit to put in a DATA_BLOCKED / STREAM_DATA_BLOCKED frame, if one is due (clears it). */
  pollBlocked(): number | null {
    if (!this.blockedPending) return null;
    this.blockedPending = false;
    return this.max;
  }

  /** A blocked frame carrying `limit` was lost: send it again if still blocked at that limit (§13.3). */
  onBlockedLost(limit: number): void {
    if (limit === this.max && this.blockedAt === limit && this.blocked) this.blockedPending = true;
  }
}
