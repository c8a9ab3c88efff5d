import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RttEstimator } from '../../../core/recovery/rtt.ts';
import { PacketNumberSpace, kInitialRtt } from '../../../core/recovery/types.ts';

const { Initial, Handshake, ApplicationData } = PacketNumberSpace;

/** An estimator whose first sample was 100 ms: smoothed 100, rttvar 50, min 100. */
function seeded(): RttEstimator {
  const rtt = new RttEstimator();
  rtt.update(100, 0, true, 25, 1000);
  return rtt;
}

describe('RFC 9002 §5.3 initial RTT estimate', () => {
  it('starts at kInitialRtt = 333 ms with rttvar = kInitialRtt / 2 and no sample', () => {
    const rtt = new RttEstimator();
    assert.equal(kInitialRtt, 333);
    assert.equal(rtt.smoothedRtt, 333);
    assert.equal(rtt.rttVar, 166.5);
    assert.equal(rtt.minRtt, 0);
    assert.equal(rtt.latestRtt, 0);
    assert.equal(rtt.hasSample, false);
  });

  it('accepts a resumed connection’s RTT as the initial RTT (§6.2.2) and rejects a non-positive one', () => {
    const rtt = new RttEstimator(50);
    assert.equal(rtt.smoothedRtt, 50);
    assert.equal(rtt.rttVar, 25);
    assert.throws(() => new RttEstimator(0), RangeError);
  });
});

describe('RFC 9002 §5.2-5.3 RTT samples', () => {
  it('the first sample sets smoothed_rtt = latest_rtt, rttvar = latest_rtt / 2, min_rtt = latest_rtt, ignoring ack delay', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 20, true, 25, 1000);
    assert.equal(rtt.latestRtt, 100);
    assert.equal(rtt.smoothedRtt, 100);
    assert.equal(rtt.rttVar, 50);
    assert.equal(rtt.minRtt, 100);
    assert.equal(rtt.firstSampleTime, 1000);
  });

  it('subtracts the ack delay from later samples: adjusted 150 - 20 = 130', () => {
    const rtt = seeded();
    rtt.update(150, 20, true, 25, 2000);
    // rttvar = 3/4 * 50 + 1/4 * |100 - 130| = 45; smoothed = 7/8 * 100 + 1/8 * 130 = 103.75
    assert.equal(rtt.rttVar, 45);
    assert.equal(rtt.smoothedRtt, 103.75);
    assert.equal(rtt.latestRtt, 150);
    assert.equal(rtt.minRtt, 100);
  });

  it('after handshake confirmation, caps the ack delay at max_ack_delay (40 -> 25)', () => {
    const rtt = seeded();
    rtt.update(150, 40, true, 25, 2000);
    // adjusted = 150 - 25 = 125: rttvar = 37.5 + 6.25, smoothed = 87.5 + 15.625
    assert.equal(rtt.rttVar, 43.75);
    assert.equal(rtt.smoothedRtt, 103.125);
  });

  it('before handshake confirmation, uses the ack delay uncapped (40)', () => {
    const rtt = seeded();
    rtt.update(150, 40, false, 25, 2000);
    // adjusted = 150 - 40 = 110: rttvar = 37.5 + 2.5, smoothed = 87.5 + 13.75
    assert.equal(rtt.rttVar, 40);
    assert.equal(rtt.smoothedRtt, 101.25);
  });

  it('does not subtract the ack delay when the result would fall below min_rtt', () => {
    const rtt = seeded();
    rtt.update(110, 20, true, 25, 2000); // 110 < 100 + 20: adjusted stays 110
    assert.equal(rtt.smoothedRtt, 101.25);
    assert.equal(rtt.rttVar, 40);
  });

  it('min_rtt takes the raw sample, never the ack-delay-adjusted one', () => {
    const rtt = seeded();
    rtt.update(90, 5, true, 25, 2000);
    assert.equal(rtt.minRtt, 90);
    rtt.update(120, 0, true, 25, 3000);
    assert.equal(rtt.minRtt, 90);
  });

  it('after persistent congestion, min_rtt restarts at the next sample (§5.2)', () => {
    const rtt = seeded();
    rtt.onPersistentCongestion();
    rtt.update(150, 0, true, 25, 2000);
    assert.equal(rtt.minRtt, 150);
    rtt.update(200, 0, true, 25, 3000);
    assert.equal(rtt.minRtt, 150);
  });

  it('reset forgets every sample, optionally with a new initial RTT (§6.3 Retry, §9.4 new path)', () => {
    const rtt = seeded();
    rtt.reset(80);
    assert.equal(rtt.hasSample, false);
    assert.equal(rtt.smoothedRtt, 80);
    assert.equal(rtt.rttVar, 40);
    assert.equal(rtt.minRtt, 0);
    rtt.update(30, 10, true, 25, 5000);
    assert.equal(rtt.smoothedRtt, 30);
  });
});

describe('RFC 9002 §6.2.1 PTO period', () => {
  it('is smoothed_rtt + 4 * rttvar before any sample: 333 + 666 = 999 ms', () => {
    const rtt = new RttEstimator();
    assert.equal(rtt.pto(Initial, 25, false), 999);
    assert.equal(rtt.pto(Handshake, 25, true), 999);
  });

  it('adds max_ack_delay only for Application Data, once the handshake is confirmed', () => {
    const rtt = seeded(); // 100 + 4 * 50 = 300
    assert.equal(rtt.pto(Initial, 25, true), 300);
    assert.equal(rtt.pto(Handshake, 25, true), 300);
    assert.equal(rtt.pto(ApplicationData, 25, true), 325);
    assert.equal(rtt.pto(ApplicationData, 25, false), 300);
  });

  it('uses kGranularity when 4 * rttvar is smaller', () => {
    const rtt = new RttEstimator();
    rtt.update(0.1, 0, true, 25, 0);
    assert.equal(rtt.pto(Initial, 25, true), 1.1);
  });

  it('persistent congestion duration is (smoothed + max(4 rttvar, g) + max_ack_delay) * 3 in every space (§7.6.1)', () => {
    const rtt = seeded();
    assert.equal(rtt.persistentCongestionDuration(25), 975);
    assert.equal(rtt.persistentCongestionDuration(0), 900);
  });
});
