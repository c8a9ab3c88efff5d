import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CongestionPacket } from '../../../core/recovery/congestion.ts';
import { NewReno } from '../../../core/recovery/newreno.ts';
import {
  CONGESTION_CONTROL_ALGORITHMS,
  createCongestionController,
} from '../../../core/recovery/registry.ts';
import { RttEstimator } from '../../../core/recovery/rtt.ts';
import {
  initialWindow,
  minimumWindow,
  type CongestionState,
  type CongestionTrigger,
} from '../../../core/recovery/types.ts';

const MDS = 1200;
const rtt = new RttEstimator();

/** Sends `count` packets of `size` at `now` and returns their records. */
function sendMany(cc: NewReno, count: number, now: number, size = MDS): CongestionPacket[] {
  const out: CongestionPacket[] = [];
  for (let i = 0; i < count; i++) {
    cc.onPacketSent(size, now);
    out.push({ timeSent: now, size, inFlight: true });
  }
  return out;
}

/**
 * A controller in congestion avoidance: ssthresh 12000 after one loss from 24000, then one
 * packet sent in recovery acknowledged, which ends recovery and adds 1200 * 1200 / 12000.
 */
function inAvoidance(): NewReno {
  const cc = new NewReno(MDS);
  cc.onPacketsAcked(sendMany(cc, 10, 0), 100, rtt); // 24000
  const lost = sendMany(cc, 1, 100);
  cc.onPacketsLost(lost, 200); // recovery from 200: ssthresh = cwnd = 12000
  const probe = sendMany(cc, 1, 201);
  cc.onPacketsAcked(probe, 300, rtt); // a packet sent in recovery ends it
  return cc;
}

describe('RFC 9002 §7.2 initial and minimum congestion window', () => {
  it('initial window is min(10 * max_datagram_size, max(14720, 2 * max_datagram_size))', () => {
    assert.equal(initialWindow(1200), 12000);
    assert.equal(initialWindow(1452), 14520);
    assert.equal(initialWindow(1472), 14720);
    assert.equal(initialWindow(1500), 14720);
    assert.equal(initialWindow(9000), 18000);
    assert.equal(new NewReno(1200).cwnd, 12000);
  });

  it('minimum window is 2 * max_datagram_size', () => {
    assert.equal(minimumWindow(1200), 2400);
    assert.equal(new NewReno(1500).minimumWindow, 3000);
  });

  it('a new max datagram size recomputes the initial window while it is untouched', () => {
    const cc = new NewReno(1200);
    cc.setMaxDatagramSize(1452);
    assert.equal(cc.cwnd, 14520);
    assert.equal(cc.minimumWindow, 2904);
  });

  it('after the window moved, a new size only raises it to the new minimum', () => {
    const cc = new NewReno(1200);
    cc.onPacketsAcked(sendMany(cc, 2, 0), 100, rtt);
    assert.equal(cc.cwnd, 14400);
    cc.setMaxDatagramSize(1400);
    assert.equal(cc.cwnd, 14400);
    assert.throws(() => cc.setMaxDatagramSize(1199), RangeError);
  });
});

describe('RFC 9002 §7.3.1 slow start', () => {
  it('grows the window by the bytes acknowledged', () => {
    const cc = new NewReno(MDS);
    assert.equal(cc.state, 'slow_start');
    const sent = sendMany(cc, 10, 0);
    assert.equal(cc.bytesInFlight, 12000);
    cc.onPacketsAcked(sent.slice(0, 4), 100, rtt);
    assert.equal(cc.cwnd, 12000 + 4 * 1200);
    cc.onPacketsAcked([...sent.slice(4), ...sendMany(cc, 1, 50, 500)], 110, rtt);
    assert.equal(cc.cwnd, 24000 + 500);
    assert.equal(cc.bytesInFlight, 0);
  });

  it('packets that are not in flight change nothing', () => {
    const cc = new NewReno(MDS);
    cc.onPacketsAcked([{ timeSent: 0, size: 50, inFlight: false }], 10, rtt);
    assert.equal(cc.cwnd, 12000);
    assert.equal(cc.bytesInFlight, 0);
  });
});

describe('RFC 9002 §7.3.2 recovery period', () => {
  it('a loss sets ssthresh to half the window and reduces the window at once', () => {
    const cc = new NewReno(MDS);
    cc.onPacketsAcked(sendMany(cc, 10, 0), 100, rtt);
    const sent = sendMany(cc, 5, 100);
    cc.onPacketsLost(sent.slice(0, 1), 200);
    assert.equal(cc.ssthresh, 12000);
    assert.equal(cc.cwnd, 12000);
    assert.equal(cc.state, 'recovery');
    assert.equal(cc.bytesInFlight, 4 * 1200);
  });

  it('reduces only once per recovery period: later losses of earlier packets do nothing', () => {
    const cc = new NewReno(MDS);
    cc.onPacketsAcked(sendMany(cc, 10, 0), 100, rtt);
    const sent = sendMany(cc, 5, 100);
    cc.onPacketsLost(sent.slice(0, 1), 200);
    cc.onPacketsLost(sent.slice(1, 3), 250);
    assert.equal(cc.cwnd, 12000);
    // A packet sent after the period began starts a new one.
    const later = sendMany(cc, 1, 260);
    cc.onPacketsLost(later, 400);
    assert.equal(cc.cwnd, 6000);
    assert.equal(cc.ssthresh, 6000);
  });

  it('acknowledgments of packets sent before the period do not grow the window', () => {
    const cc = new NewReno(MDS);
    const sent = sendMany(cc, 10, 0);
    cc.onPacketsLost(sent.slice(0, 1), 100);
    cc.onPacketsAcked(sent.slice(1), 150, rtt);
    assert.equal(cc.cwnd, 6000);
    assert.equal(cc.state, 'recovery');
  });

  it('ends when a packet sent during the period is acknowledged', () => {
    const cc = inAvoidance();
    assert.equal(cc.state, 'congestion_avoidance');
  });

  it('allows one packet beyond the reduced window on entering recovery (Appendix B.6)', () => {
    const cc = new NewReno(MDS);
    const sent = sendMany(cc, 10, 0);
    cc.onPacketsLost(sent.slice(0, 1), 100); // cwnd 6000, 10800 in flight
    assert.equal(cc.canSend(1200), true);
    sendMany(cc, 1, 100);
    assert.equal(cc.canSend(1200), false);
    assert.equal(cc.availableWindow(), 0);
  });

  it('never goes below the minimum window', () => {
    const cc = new NewReno(MDS);
    for (let i = 0; i < 6; i++) cc.onPacketsLost(sendMany(cc, 1, i * 100 + 1), i * 100 + 50);
    assert.equal(cc.cwnd, 2400);
    assert.equal(cc.ssthresh, 1200);
  });

  it('a lost PMTU probe is not a congestion signal (RFC 9000 §14.4)', () => {
    const cc = new NewReno(MDS);
    cc.onPacketSent(1500, 0);
    cc.onPacketsLost([{ timeSent: 0, size: 1500, inFlight: true, pmtuProbe: true }], 100);
    assert.equal(cc.cwnd, 12000);
    assert.equal(cc.bytesInFlight, 0);
    assert.equal(cc.state, 'slow_start');
  });
});

describe('RFC 9002 §7.3.3 congestion avoidance', () => {
  it('adds max_datagram_size * acked / cwnd per packet: at most one datagram per window acknowledged', () => {
    const cc = inAvoidance();
    assert.equal(cc.ssthresh, 12000);
    assert.equal(cc.cwnd, 12120);
    cc.onPacketsAcked(sendMany(cc, 1, 300), 400, rtt);
    assert.equal(cc.cwnd, 12120 + (1200 * 1200) / 12120);
    // Acknowledging exactly one window of bytes (10 packets of cwnd / 10) grows it by at most
    // one datagram, and by at least 1200 * cwnd / (cwnd + 1200) since cwnd stays below that.
    const before = cc.cwnd;
    cc.onPacketsAcked(sendMany(cc, 10, 400, before / 10), 500, rtt);
    const growth = cc.cwnd - before;
    assert.ok(growth <= 1200, `grew ${growth}`);
    assert.ok(growth >= (1200 * before) / (before + 1200), `grew ${growth}`);
  });
});

describe('RFC 9002 §7.6.2 persistent congestion', () => {
  it('collapses the window to the minimum window and restarts slow start', () => {
    const cc = inAvoidance();
    cc.onPersistentCongestion(500);
    assert.equal(cc.cwnd, 2400);
    assert.equal(cc.ssthresh, 12000);
    assert.equal(cc.state, 'slow_start');
    // The recovery period is over: the next acknowledgment grows the window again.
    cc.onPacketsAcked(sendMany(cc, 1, 501), 600, rtt);
    assert.equal(cc.cwnd, 3600);
  });
});

describe('RFC 9002 §7.8 underutilizing the congestion window', () => {
  it('does not grow the window while application limited, in slow start or avoidance', () => {
    const cc = new NewReno(MDS);
    cc.setAppLimited(true);
    assert.equal(cc.isAppLimited(), true);
    assert.equal(cc.state, 'application_limited');
    cc.onPacketsAcked(sendMany(cc, 3, 0), 100, rtt);
    assert.equal(cc.cwnd, 12000);
    assert.equal(cc.bytesInFlight, 0);
    cc.setAppLimited(false);
    assert.equal(cc.state, 'slow_start');
    cc.onPacketsAcked(sendMany(cc, 1, 100), 200, rtt);
    assert.equal(cc.cwnd, 13200);

    const ca = inAvoidance();
    ca.setAppLimited(true);
    ca.onPacketsAcked(sendMany(ca, 5, 300), 400, rtt);
    assert.equal(ca.cwnd, 12120);
  });
});

describe('congestion_state_updated notifications', () => {
  it('reports each transition with its trigger', () => {
    const cc = new NewReno(MDS);
    const seen: [CongestionState, CongestionState, CongestionTrigger][] = [];
    cc.listener = { onCongestionStateUpdated: (o, n, t) => seen.push([o, n, t]) };
    const sent = sendMany(cc, 3, 0);
    cc.onPacketsLost(sent.slice(0, 1), 100);
    cc.onPacketsAcked(sendMany(cc, 1, 101), 200, rtt);
    cc.setAppLimited(true);
    cc.setAppLimited(false);
    cc.onPersistentCongestion(300);
    assert.deepEqual(seen, [
      ['slow_start', 'recovery', 'loss'],
      ['recovery', 'congestion_avoidance', 'ack'],
      ['congestion_avoidance', 'application_limited', 'application_limited'],
      ['application_limited', 'congestion_avoidance', 'application_limited'],
      ['congestion_avoidance', 'slow_start', 'persistent_congestion'],
    ]);
  });
});

describe('congestion controller registry', () => {
  it('creates each algorithm by name and rejects unknown names', () => {
    assert.deepEqual(CONGESTION_CONTROL_ALGORITHMS, ['newreno', 'cubic']);
    assert.equal(createCongestionController('newreno').name, 'newreno');
    assert.equal(createCongestionController('cubic', 1452).cwnd, 14520);
    assert.throws(() => createCongestionController('bbr' as 'cubic'), RangeError);
    assert.throws(() => createCongestionController('toString' as 'cubic'), RangeError);
  });

  it('reset returns to the initial state', () => {
    const cc = inAvoidance();
    cc.reset();
    assert.deepEqual([cc.cwnd, cc.ssthresh, cc.bytesInFlight, cc.state], [12000, Infinity, 0, 'slow_start']);
  });
});
