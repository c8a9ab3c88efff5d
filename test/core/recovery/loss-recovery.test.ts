import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PacketNumberSpace } from '../../../core/recovery/types.ts';
import { newRecovery, pns, ranges, send } from './helpers.ts';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

describe('RFC 9002 §6.1.1 packet threshold', () => {
  it('declares lost a packet kPacketThreshold (3) below the largest acknowledged, not one 2 below', () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 5; pn++) send(r, App, pn, pn);
    // latest_rtt = 1005 - 5 = 1000: the time threshold (1125 ms) declares nothing yet.
    const res = r.onAckReceived(App, ranges([5, 5]), 0, 1005, true);
    assert.deepEqual(pns(res.newlyAcked), [5]);
    assert.deepEqual(pns(res.lost), [0, 1, 2]);
    assert.ok(res.lost.every((p) => p.lossTrigger === 'reordering_threshold'));
    assert.deepEqual(pns(r.sentPackets(App).toArray()), [3, 4]);
    assert.equal(r.bytesInFlight, 2 * 1200);
  });
});

describe('RFC 9002 §6.1.2 time threshold', () => {
  it('arms the timer for the earliest packet at time_sent + 9/8 * max(smoothed_rtt, latest_rtt)', () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 5; pn++) send(r, App, pn, pn);
    r.onAckReceived(App, ranges([5, 5]), 0, 1005, true);
    // loss_delay = 9/8 * 1000 = 1125; packet 3 was sent at 3.
    assert.equal(r.getLossDetectionTimer(), 1128);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'loss_time', space: App });
  });

  it('declares each packet lost when its time threshold passes, re-arming for the next one', () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 5; pn++) send(r, App, pn, pn);
    r.onAckReceived(App, ranges([5, 5]), 0, 1005, true);
    assert.deepEqual(r.onLossDetectionTimeout(1127.5), { lost: [], probe: null }, 'not due yet');
    const first = r.onLossDetectionTimeout(1128);
    assert.deepEqual(pns(first.lost), [3]);
    assert.equal(first.lost[0].lossTrigger, 'time_threshold');
    assert.equal(first.probe, null);
    assert.equal(r.getLossDetectionTimer(), 1129);
    assert.deepEqual(pns(r.onLossDetectionTimeout(1129).lost), [4]);
    assert.equal(r.bytesInFlight, 0);
    assert.equal(r.getLossDetectionTimer(), null);
  });

  it('uses latest_rtt when it exceeds smoothed_rtt', () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    r.onAckReceived(App, ranges([0, 0]), 0, 100, true); // smoothed = latest = 100
    send(r, App, 1, 200);
    send(r, App, 2, 201);
    r.onAckReceived(App, ranges([2, 2]), 0, 601, true); // latest 400, smoothed 137.5
    assert.equal(r.rtt.latestRtt, 400);
    assert.equal(r.getLossDetectionTimer(), 200 + 450);
  });

  it('never uses a threshold below kGranularity (1 ms)', () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    send(r, App, 1, 0.05);
    r.onAckReceived(App, ranges([1, 1]), 0, 0.15, true); // RTT 0.1 ms
    assert.equal(r.getLossDetectionTimer(), 1);
  });
});

describe('RFC 9002 §5.1 when an ACK yields an RTT sample', () => {
  it('only when the largest acknowledged is newly acknowledged', () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    send(r, App, 1, 10);
    assert.equal(r.onAckReceived(App, ranges([1, 1]), 0, 100, true).rttSampled, true);
    const again = r.onAckReceived(App, ranges([0, 1]), 0, 200, true);
    assert.deepEqual(pns(again.newlyAcked), [0]);
    assert.equal(again.rttSampled, false);
    assert.equal(r.rtt.latestRtt, 90);
  });

  it('not when only non-ack-eliciting packets are newly acknowledged', () => {
    const r = newRecovery();
    send(r, App, 0, 0, 50, false, false);
    const res = r.onAckReceived(App, ranges([0, 0]), 0, 100, true);
    assert.deepEqual(pns(res.newlyAcked), [0]);
    assert.equal(res.rttSampled, false);
    assert.equal(r.rtt.hasSample, false);
  });

  it('ignores the ack delay of Initial ACKs (§5.3 MAY) but applies it in other spaces', () => {
    const r = newRecovery();
    send(r, Initial, 0, 0);
    r.onAckReceived(Initial, ranges([0, 0]), 0, 100, false);
    send(r, Initial, 1, 200);
    r.onAckReceived(Initial, ranges([1, 1]), 50, 350, false); // adjusted stays 150
    assert.equal(r.rtt.smoothedRtt, 0.875 * 100 + 0.125 * 150);
    send(r, Handshake, 0, 400);
    r.onAckReceived(Handshake, ranges([0, 0]), 50, 550, false); // adjusted 100
    assert.equal(r.rtt.smoothedRtt, 0.875 * 106.25 + 0.125 * 100);
  });
});

describe('RFC 9002 Appendix A.7 duplicate and spurious acknowledgments', () => {
  it('a repeated ACK changes nothing', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 5; pn++) send(r, App, pn, pn);
    r.onAckReceived(App, ranges([0, 4]), 0, 100, true);
    const snapshot = [r.bytesInFlight, r.cwnd, r.rtt.smoothedRtt, r.rtt.rttVar, r.getLossDetectionTimer()];
    const dup = r.onAckReceived(App, ranges([0, 4]), 0, 150, true);
    assert.deepEqual(dup, {
      newlyAcked: [],
      lost: [],
      spuriouslyLost: [],
      rttSampled: false,
      persistentCongestion: false,
      ackedUnsent: false,
    });
    assert.deepEqual(
      [r.bytesInFlight, r.cwnd, r.rtt.smoothedRtt, r.rtt.rttVar, r.getLossDetectionTimer()],
      snapshot,
    );
  });

  it('a late ACK of a packet already declared lost reports nothing again', () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 4; pn++) send(r, App, pn, pn);
    const res = r.onAckReceived(App, ranges([4, 4]), 0, 1004, true);
    assert.deepEqual(pns(res.lost), [0, 1]);
    const late = r.onAckReceived(App, ranges([0, 1], [4, 4]), 0, 1010, true);
    assert.deepEqual(late.newlyAcked, []);
    assert.deepEqual(late.lost, []);
    assert.equal(r.bytesInFlight, 2 * 1200);
    // RFC 9002 §6.1: reported once as spurious losses (their frames need not be resent).
    assert.deepEqual(pns(late.spuriouslyLost), [0, 1]);
    assert.equal(r.onAckReceived(App, ranges([0, 1], [4, 4]), 0, 1020, true).spuriouslyLost.length, 0);
    assert.equal(r.reordering.spuriousLosses, 2);
  });
});

describe('RFC 9000 §13.1 acknowledgment of a packet never sent', () => {
  it('is reported and ignored', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 3; pn++) send(r, App, pn, pn);
    const res = r.onAckReceived(App, ranges([0, 5]), 0, 100, true);
    assert.equal(res.ackedUnsent, true);
    assert.deepEqual(res.newlyAcked, []);
    assert.equal(r.bytesInFlight, 3 * 1200);
    assert.equal(r.largestAckedPacket(App), -1);
    assert.equal(r.rtt.hasSample, false);
  });

  it('in a space where nothing was sent', () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    assert.equal(r.onAckReceived(Handshake, ranges([0, 0]), 0, 100, true).ackedUnsent, true);
  });
});

describe('RFC 9000 §19.3.1 ACK ranges with many gaps', () => {
  it('acknowledges exactly the packets in 50 ranges and declares the holes 3 below the largest lost', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 100; pn++) send(r, App, pn, pn * 0.01);
    const even: [number, number][] = [];
    for (let pn = 0; pn < 100; pn += 2) even.push([pn, pn]);
    const res = r.onAckReceived(App, ranges(...even), 0, 500, true);
    assert.deepEqual(
      pns(res.newlyAcked),
      even.map(([pn]) => pn),
    );
    const expectedLost: number[] = [];
    for (let pn = 1; pn <= 95; pn += 2) expectedLost.push(pn);
    assert.deepEqual(pns(res.lost), expectedLost);
    assert.deepEqual(pns(r.sentPackets(App).toArray()), [97, 99]);
    assert.equal(r.bytesInFlight, 2 * 1200);
  });

  it('ranges older than every outstanding packet are skipped', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 10; pn++) send(r, App, pn, pn);
    r.onAckReceived(App, ranges([0, 5]), 0, 100, true);
    const res = r.onAckReceived(App, ranges([0, 1], [3, 5], [7, 7]), 0, 110, true);
    assert.deepEqual(pns(res.newlyAcked), [7]);
    assert.deepEqual(pns(res.lost), []);
  });
});

describe('RFC 9002 §6.4 discarding a packet number space', () => {
  it('removes its packets from bytes in flight and returns them', () => {
    const r = newRecovery();
    send(r, Initial, 0, 0, 1200);
    send(r, Initial, 1, 1, 1200);
    send(r, Handshake, 0, 2, 1000);
    send(r, Initial, 2, 3, 60, false, false);
    assert.equal(r.bytesInFlight, 3400);
    const dropped = r.discardSpace(Initial, 10);
    assert.deepEqual(pns(dropped), [0, 1, 2]);
    assert.equal(r.bytesInFlight, 1000);
    assert.equal(r.sentPackets(Initial).size, 0);
    assert.equal(r.hasAckElicitingInFlight(Initial), false);
  });

  it('resets pto_count and re-arms the timer for the remaining space', () => {
    const r = newRecovery();
    send(r, Initial, 0, 0);
    send(r, Handshake, 0, 100);
    assert.equal(r.getLossDetectionTimer(), 999);
    r.onLossDetectionTimeout(999);
    assert.equal(r.ptoCount, 1);
    r.discardSpace(Initial, 1000);
    assert.equal(r.ptoCount, 0);
    assert.equal(r.getLossDetectionTimer(), 100 + 999);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'pto', space: Handshake });
  });

  it('clears a pending time-threshold timer of that space', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 3; pn++) send(r, Initial, pn, pn);
    r.onAckReceived(Initial, ranges([2, 2]), 0, 1002, false);
    assert.equal(r.getLossDetectionTimerInfo().kind, 'loss_time');
    r.discardSpace(Initial, 1003);
    assert.equal(r.getLossDetectionTimer(), null);
  });

  it('ignores later ACKs of the space and refuses to send in it', () => {
    const r = newRecovery();
    send(r, Initial, 0, 0);
    r.discardSpace(Initial, 1);
    assert.deepEqual(r.onAckReceived(Initial, ranges([0, 0]), 0, 2, false).newlyAcked, []);
    assert.throws(() => send(r, Initial, 1, 3), RangeError);
  });
});

describe('RFC 9000 §12.3 packet numbers only grow', () => {
  it('a packet number that does not exceed the previous one is a RangeError', () => {
    const r = newRecovery();
    send(r, App, 5, 0);
    assert.throws(() => send(r, App, 5, 1), RangeError);
    assert.throws(() => send(r, App, 4, 1), RangeError);
    send(r, App, 7, 1); // a skipped number is fine
    send(r, Initial, 0, 1); // spaces are independent
  });
});

describe('RFC 9002 §7.1 / Appendix B.7 ECN-CE', () => {
  it('a higher CE count is a congestion event; the same count is not', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 4; pn++) send(r, App, pn, pn);
    const before = r.cwnd;
    r.onAckReceived(App, ranges([0, 1]), 0, 100, true, 1);
    assert.equal(r.cc.ssthresh, before / 2);
    assert.equal(r.cc.state, 'recovery');
    const cwnd = r.cwnd;
    r.onAckReceived(App, ranges([0, 2]), 0, 110, true, 1);
    assert.equal(r.cwnd, cwnd);
  });

  it('a CE increase for packets sent before the recovery period does not reduce again', () => {
    const r = newRecovery();
    for (let pn = 0; pn < 4; pn++) send(r, App, pn, pn);
    r.onAckReceived(App, ranges([0, 0]), 0, 100, true, 1);
    const cwnd = r.cwnd;
    r.onAckReceived(App, ranges([0, 1]), 0, 110, true, 2);
    assert.equal(r.cwnd, cwnd);
    send(r, App, 4, 120);
    r.onAckReceived(App, ranges([0, 1], [4, 4]), 0, 220, true, 3);
    assert.equal(r.cwnd, cwnd / 2);
  });
});

describe('RFC 9002 §6.3 Retry', () => {
  it('resets congestion control and loss recovery, returns the packets, keeps packet numbers growing', () => {
    const r = newRecovery({ isServer: false });
    send(r, Initial, 0, 0);
    send(r, Initial, 1, 1);
    const dropped = r.resetForRetry(150, 150);
    assert.deepEqual(pns(dropped), [0, 1]);
    assert.equal(r.bytesInFlight, 0);
    assert.equal(r.cwnd, 12000);
    assert.equal(r.rtt.smoothedRtt, 150);
    assert.equal(r.rtt.hasSample, false);
    assert.throws(() => send(r, Initial, 1, 160), RangeError); // RFC 9000 §17.2.5.3
    send(r, Initial, 2, 160);
    assert.equal(r.getLossDetectionTimer(), 160 + 150 + 4 * 75);
  });
});

describe('RFC 9002 §7.2 a new max datagram size', () => {
  it('recomputes the initial window and the pacing burst', () => {
    const r = newRecovery();
    r.setMaxDatagramSize(1452, 0);
    assert.equal(r.cwnd, 14520);
    assert.equal(r.cc.minimumWindow, 2904);
    assert.equal(r.pacer.capacity, 14520);
  });
});
