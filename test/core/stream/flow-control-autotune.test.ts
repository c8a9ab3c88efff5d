// Receive-window auto-tuning (RFC 9000 §4.2) judged against min_rtt rather than the smoothed RTT,
// over a small model of a path: a sender that sends all the credit it has (no congestion control,
// the worst case) into a bottleneck with an unbounded FIFO, a one-way delay each way, and a reader
// that consumes everything at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_TUNE_MIN_RTT, RecvFlowControl, autoTuneRtt } from '../../../core/stream/flow-control.ts';
import { FrameType } from '../../../core/wire/frame-types.ts';

interface PathModel {
  /** One-way delay, ms. */
  oneWay: number;
  /** Bottleneck rate, bytes per ms. */
  rate: number;
  /** Initial and largest receive window, bytes. */
  window: number;
  maxWindow: number;
  /** The RTT figure auto-tuning is given: the model's (min_rtt, smoothed_rtt). */
  figure: (minRtt: number, smoothedRtt: number) => number;
  /** Virtual ms to run. */
  duration: number;
}

interface ModelResult {
  window: number;
  /** Bytes per ms delivered over the last quarter of the run. */
  lateRate: number;
  /** The largest RTT sample, ms. */
  peakRtt: number;
  /** When the window first reached `atLeast` (ms), or Infinity. */
  reachedAt: number;
}

const PACKET = 1200;
const TICK = 0.25;

function runModel(p: PathModel, atLeast: number): ModelResult {
  const fc = new RecvFlowControl(p.window, p.maxWindow);
  let peerMax = p.window;
  let sent = 0;
  let busyUntil = 0;
  const inFlight: { at: number; sentAt: number; bytes: number }[] = [];
  let head = 0;
  const limits: { at: number; max: number }[] = [];
  let minRtt = Infinity;
  let smoothed = 0;
  let peakRtt = 0;
  let lateBytes = 0;
  let reachedAt = Infinity;
  const lateFrom = p.duration * 0.75;
  for (let now = 0; now <= p.duration; now += TICK) {
    while (limits.length > 0 && limits[0].at <= now) peerMax = Math.max(peerMax, limits.shift()!.max);
    while (sent < peerMax) {
      const bytes = Math.min(PACKET, peerMax - sent);
      busyUntil = Math.max(now, busyUntil) + bytes / p.rate;
      inFlight.push({ at: busyUntil + p.oneWay, sentAt: now, bytes });
      sent += bytes;
    }
    while (head < inFlight.length && inFlight[head].at <= now) {
      const d = inFlight[head++];
      fc.receive(d.bytes, 'stream 0', FrameType.STREAM);
      fc.consume(d.bytes);
      if (now >= lateFrom) lateBytes += d.bytes;
      // Its acknowledgment returns after one more one-way delay: the RTT sample.
      const rtt = d.at - d.sentAt + p.oneWay;
      peakRtt = Math.max(peakRtt, rtt);
      minRtt = Math.min(minRtt, rtt);
      smoothed = smoothed === 0 ? rtt : 0.875 * smoothed + 0.125 * rtt;
    }
    if (fc.shouldUpdate()) {
      limits.push({ at: now + p.oneWay, max: fc.update(now, p.figure(minRtt, smoothed || 333)) });
      if (fc.window >= atLeast && reachedAt === Infinity) reachedAt = now;
    }
  }
  return { window: fc.window, lateRate: lateBytes / (p.duration - lateFrom), peakRtt, reachedAt };
}

const MIB = 1024 * 1024;
const minFigure = (min: number, smoothed: number) =>
  autoTuneRtt({ minRtt: min, smoothedRtt: smoothed, hasSample: min !== Infinity });
const smoothedFigure = (_min: number, smoothed: number) => smoothed;

describe('RFC 9000 §4.2 window auto-tuning against min_rtt', () => {
  it('autoTuneRtt is min_rtt once sampled, the smoothed (initial) RTT before, at least 1 ms', () => {
    assert.equal(autoTuneRtt({ minRtt: 0, smoothedRtt: 333, hasSample: false }), 333);
    assert.equal(autoTuneRtt({ minRtt: 12, smoothedRtt: 80, hasSample: true }), 12);
    assert.equal(autoTuneRtt({ minRtt: 30, smoothedRtt: 25, hasSample: true }), 25);
    assert.equal(autoTuneRtt({ minRtt: 0, smoothedRtt: 9, hasSample: true }), AUTO_TUNE_MIN_RTT);
    assert.equal(autoTuneRtt({ minRtt: 0.2, smoothedRtt: 0.4, hasSample: true }), 1);
  });

  // 50 ms RTT, 100 Mbit/s: BDP = 12 500 B/ms * 50 ms = 625 000 bytes.
  const longPath = { oneWay: 25, rate: 12_500, window: 64 * 1024, maxWindow: 16 * MIB, duration: 4000 };
  const BDP = 625_000;

  it('still grows a 64 KiB window past the BDP of a 50 ms, 100 Mbit/s path, to full throughput', () => {
    const r = runModel({ ...longPath, figure: minFigure }, BDP);
    assert.ok(r.reachedAt < 500, `window reached the BDP only at ${r.reachedAt} ms`);
    assert.ok(r.window >= BDP, `window ${r.window}`);
    assert.ok(r.lateRate > 0.97 * longPath.rate, `late rate ${r.lateRate} B/ms`);
    // It stops between 4 and 8 BDP: it does not run to the cap.
    assert.ok(r.window <= 8 * BDP, `window ${r.window}`);
  });

  it('judged against the smoothed RTT the window runs to the cap, and its queue with it', () => {
    const bySmoothed = runModel({ ...longPath, figure: smoothedFigure }, BDP);
    const byMin = runModel({ ...longPath, figure: minFigure }, BDP);
    assert.equal(bySmoothed.window, 16 * MIB, 'every update doubled the window');
    assert.ok(bySmoothed.lateRate > 0.97 * longPath.rate);
    assert.ok(byMin.window * 2 < bySmoothed.window, `${byMin.window} vs ${bySmoothed.window}`);
    assert.ok(
      byMin.peakRtt * 2 < bySmoothed.peakRtt,
      `peak RTT ${byMin.peakRtt} ms with min_rtt vs ${bySmoothed.peakRtt} ms with smoothed_rtt`,
    );
  });

  it('a window already past 4 BDP (1 MiB on a 1 ms, 50 MB/s path) does not grow', () => {
    const fast = { oneWay: 0.5, rate: 50_000, window: MIB, maxWindow: 16 * MIB, duration: 1000 };
    const byMin = runModel({ ...fast, figure: minFigure }, 2 * MIB);
    assert.equal(byMin.window, MIB);
    assert.ok(byMin.lateRate > 0.97 * fast.rate, `late rate ${byMin.lateRate} B/ms`);
    const bySmoothed = runModel({ ...fast, figure: smoothedFigure }, 2 * MIB);
    assert.equal(bySmoothed.window, 16 * MIB);
    assert.ok(bySmoothed.peakRtt > 10 * byMin.peakRtt, `${bySmoothed.peakRtt} vs ${byMin.peakRtt}`);
  });
});
