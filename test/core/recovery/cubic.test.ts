import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CongestionPacket } from '../../../core/recovery/congestion.ts';
import { CUBIC_ALPHA, Cubic, cubicK, cubicWindow } from '../../../core/recovery/cubic.ts';
import { RttEstimator } from '../../../core/recovery/rtt.ts';

const MSS = 1200;

function close(actual: number, expected: number, tolerance = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected} ± ${tolerance}`);
}

function rttOf(ms: number): RttEstimator {
  const rtt = new RttEstimator();
  rtt.update(ms, 0, true, 25, 0);
  return rtt;
}

function sendMany(cc: Cubic, count: number, now: number, size = MSS): CongestionPacket[] {
  const out: CongestionPacket[] = [];
  for (let i = 0; i < count; i++) {
    cc.onPacketSent(size, now);
    out.push({ timeSent: now, size, inFlight: true });
  }
  return out;
}

/**
 * Slow start to 120000 bytes (100 segments), then a loss detected at t = 1000 ms of one of two
 * packets sent at 999; the other stays in flight (so later sends are not an idle restart).
 */
function afterLoss(fastConvergence = true): Cubic {
  const cc = new Cubic(MSS);
  cc.fastConvergence = fastConvergence;
  cc.onPacketsAcked(sendMany(cc, 90, 0), 100, rttOf(100));
  assert.equal(cc.cwnd, 120000);
  cc.onPacketsLost(sendMany(cc, 2, 999).slice(0, 1), 1000);
  return cc;
}

describe('RFC 9438 §4.2 the cubic window function', () => {
  it('K = cubic_root(W_max (1 - beta) / C): W_max 100 segments gives cbrt(75) = 4.2171633 s', () => {
    close(cubicK(120000, 84000, MSS), 4.2171633265087465, 1e-12);
    close(cubicK(100 * 1500, 70 * 1500, 1500), 4.2171633265087465, 1e-12);
  });

  it('W_cubic(t) = C (t - K)^3 + W_max: 70 segments at t = 0, W_max at K, +0.4 segment at K + 1', () => {
    const k = cubicK(120000, 84000, MSS);
    close(cubicWindow(0, k, 120000, MSS), 84000, 1e-6);
    close(cubicWindow(k, k, 120000, MSS), 120000, 1e-9);
    close(cubicWindow(k + 1, k, 120000, MSS), 120480, 1e-6);
    // 0.4 * (1 - 4.2171633)^3 = -13.3192430 segments -> 86.680757 segments.
    close(cubicWindow(1, k, 120000, MSS), 104016.9166, 1e-4);
    close(cubicWindow(1.1, k, 120000, MSS), 105461.48959, 1e-4);
  });

  it('alpha_cubic = 3 (1 - 0.7) / (1 + 0.7) = 0.5294', () => {
    close(CUBIC_ALPHA, 0.9 / 1.7, 1e-15);
  });
});

describe('RFC 9438 §4.6 multiplicative decrease', () => {
  it('a loss sets W_max = cwnd, ssthresh = cwnd = 0.7 * W_max and starts the epoch at the event', () => {
    const cc = afterLoss();
    assert.equal(cc.wMax, 120000);
    assert.equal(cc.cwndPrior, 120000);
    assert.equal(cc.ssthresh, 84000);
    assert.equal(cc.cwnd, 84000);
    assert.equal(cc.epochStart, 1000);
    close(cc.k, 4.2171633265087465, 1e-12);
    assert.equal(cc.state, 'recovery');
  });

  it('once per recovery period, never below the minimum window', () => {
    const cc = afterLoss();
    cc.onPacketsLost([{ timeSent: 999, size: 0, inFlight: true }], 1100);
    assert.equal(cc.cwnd, 84000);
    const small = new Cubic(MSS);
    for (let i = 0; i < 10; i++) small.onPacketsLost(sendMany(small, 1, i * 10 + 1), i * 10 + 5);
    assert.equal(small.cwnd, 2400);
  });
});

describe('RFC 9438 §4.4-4.5 concave and convex regions', () => {
  it('one ACK at t = 1 s with RTT 100 ms moves cwnd toward W_cubic(t + RTT)', () => {
    const cc = afterLoss();
    cc.onPacketsAcked(sendMany(cc, 1, 1001), 2000, rttOf(100));
    // target = W_cubic(1.1) = 105461.48959; cwnd += (target - 84000) * 1200 / 84000.
    close(cc.cwnd, 84000 + ((105461.48959145245 - 84000) * 1200) / 84000, 1e-6);
    close(cc.cwnd, 84306.5927, 1e-4);
    // W_est = 84000 + alpha * 1200 * 1200 / 84000 stayed below W_cubic(1).
    close(cc.wEst, 84009.0756302521, 1e-9);
    assert.equal(cc.state, 'congestion_avoidance');
  });

  it('the target is capped at 1.5 * cwnd', () => {
    const cc = afterLoss();
    // Far in the convex region (t = 20 s), W_cubic is huge: the step is (1.5 cwnd - cwnd) / cwnd.
    cc.onPacketsAcked(sendMany(cc, 1, 1001), 21000, rttOf(100));
    close(cc.cwnd, 84000 + 0.5 * 1200, 1e-9);
  });

  it('recovers from a loss: concave up to W_max around K, then convex', () => {
    const cc = afterLoss();
    const rtt = rttOf(100);
    // An ack clock: each 100 ms round trip acknowledges a window of packets sent one RTT earlier.
    let now = 1000;
    let inFlight = sendMany(cc, Math.floor(cc.cwnd / MSS), now + 0.5);
    const at = new Map<number, number>(); // round -> cwnd after it
    for (let round = 1; round <= 56; round++) {
      now += 100;
      cc.onPacketsAcked(inFlight, now, rtt);
      at.set(round, cc.cwnd);
      inFlight = sendMany(cc, Math.floor(cc.cwnd / MSS), now + 0.5);
    }
    const w = (round: number) => at.get(round) as number;
    assert.ok(w(1) > 84000);
    // Concave: growth slows as the window nears W_max (t from 0.5 s to 4 s).
    assert.ok(w(5) - w(4) > 1500, `early growth ${w(5) - w(4)}`);
    assert.ok(w(40) - w(39) < 20, `plateau growth ${w(40) - w(39)}`);
    for (let round = 1; round <= 42; round++) assert.ok(w(round) <= 120000, `round ${round}: ${w(round)}`);
    // Around K = 4.217 s the window sits at W_max.
    assert.ok(Math.abs(w(42) - 120000) < 120, `at K: ${w(42)}`);
    // Convex: growth speeds up again past W_max.
    assert.ok(w(56) - w(55) > 10 * (w(45) - w(44)), `convex ${w(56) - w(55)} vs ${w(45) - w(44)}`);
    assert.ok(w(56) > 120000);
  });
});

describe('RFC 9438 §4.3 Reno-friendly region', () => {
  it('with a short RTT, cwnd follows W_est when W_cubic(t) falls below it', () => {
    const cc = afterLoss();
    const rtt = rttOf(1);
    // A window of 70 packets acknowledged 1 ms into the epoch: W_est gains ~alpha segments.
    cc.onPacketsAcked(sendMany(cc, 70, 1000.5), 1001, rtt);
    assert.equal(cc.cwnd, cc.wEst);
    assert.ok(cc.wEst > cubicWindow(0.001, cc.k, cc.wMax, MSS));
    // ~84000 + 0.5294 * 1200 * (84000 / ~84300): between 84620 and 84640.
    assert.ok(cc.cwnd > 84620 && cc.cwnd < 84640, `${cc.cwnd}`);
  });

  it('alpha_cubic becomes 1 once W_est reaches cwnd_prior', () => {
    const cc = afterLoss();
    cc.cwndPrior = 84005; // so that the first ACK's W_est (84009.08) passes it
    const rtt = rttOf(1);
    cc.onPacketsAcked(sendMany(cc, 1, 1000.5), 1001, rtt);
    const west = cc.wEst;
    const cwnd = cc.cwnd;
    cc.onPacketsAcked(sendMany(cc, 1, 1000.5), 1001, rtt);
    close(cc.wEst, west + (1 * 1200 * 1200) / cwnd, 1e-9);
  });
});

describe('RFC 9438 §4.7 fast convergence', () => {
  it('a loss below the previous W_max sets W_max = cwnd (1 + beta) / 2', () => {
    const cc = afterLoss();
    cc.onPacketsLost(sendMany(cc, 1, 1001), 1100); // a new period, cwnd 84000 < W_max 120000
    assert.equal(cc.wMax, 71400);
    close(cc.ssthresh, 58800, 1e-9);
    close(cc.cwnd, 58800, 1e-9);
    close(cc.k, 2.971960976381565, 1e-12); // cbrt((71400 - 58800) / 1200 / 0.4)
  });

  it('without fast convergence, W_max is the window at the loss', () => {
    const cc = afterLoss(false);
    cc.onPacketsLost(sendMany(cc, 1, 1001), 1100);
    assert.equal(cc.wMax, 84000);
  });
});

describe('RFC 9438 §4.8 / RFC 9002 §7.6.2 persistent congestion and idle periods', () => {
  it('persistent congestion collapses to the minimum window; slow start resumes up to ssthresh', () => {
    const cc = afterLoss();
    cc.onPersistentCongestion(1500);
    assert.equal(cc.cwnd, 2400);
    assert.equal(cc.epochStart, null);
    assert.equal(cc.wMax, 120000);
    assert.equal(cc.state, 'slow_start');
    cc.onPacketsAcked(sendMany(cc, 2, 1501), 1600, rttOf(100));
    assert.equal(cc.cwnd, 4800);
  });

  it('an idle period does not advance the cubic epoch', () => {
    const cc = afterLoss();
    const sent = [{ timeSent: 999, size: MSS, inFlight: true }, ...sendMany(cc, 1, 1001)];
    cc.onPacketsAcked(sent, 1100, rttOf(100)); // everything acknowledged: idle from 1100
    assert.equal(cc.epochStart, 1000);
    assert.equal(cc.bytesInFlight, 0);
    cc.onPacketSent(MSS, 5100);
    assert.equal(cc.epochStart, 1000 + 4000);
  });

  it('reset forgets W_max and the epoch', () => {
    const cc = afterLoss();
    cc.reset();
    assert.deepEqual([cc.cwnd, cc.wMax, cc.epochStart, cc.ssthresh], [12000, 0, null, Infinity]);
  });

  it('leaving slow start without a loss starts the curve at the window (W_max = cwnd, K = 0)', () => {
    const cc = afterLoss();
    cc.onPersistentCongestion(1500);
    cc.reset();
    // Force congestion avoidance with no history: ssthresh below the window.
    cc.ssthresh = 12000;
    cc.onPacketsAcked(sendMany(cc, 1, 10), 20, rttOf(100));
    assert.equal(cc.epochStart, 20);
    assert.equal(cc.k, 0);
    assert.equal(cc.wMax, 12000);
  });
});
