import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LossRecovery } from '../../../core/recovery/loss-recovery.ts';
import { PacketNumberSpace } from '../../../core/recovery/types.ts';
import { newRecovery, pns, ranges, send } from './helpers.ts';

const { Handshake, ApplicationData: App } = PacketNumberSpace;
const U = 1000; // one time unit of the RFC's example, in ms

/**
 * RFC 9002 §7.6.3, shifted by one unit so that an RTT sample exists before packet #1 (packet 0,
 * sent at 0 and acknowledged at 0.5). max_ack_delay is 0, and the estimator is set after the
 * acknowledgment of #1 so that smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay = 2
 * units once the final ACK (latest_rtt 0.2) is folded in: smoothed 1 -> 0.9, rttvar 0.1 -> 0.275.
 * `ackPacket` acknowledges that packet right after sending it.
 */
function example(options: { ackPacket?: number } = {}): { r: LossRecovery<number>; sendAt: number[] } {
  const r = newRecovery({ maxAckDelay: 0 });
  r.setHandshakeConfirmed(0);
  send(r, App, 0, 0);
  r.onAckReceived(App, ranges([0, 0]), 0, 0.5 * U, true);
  const sendAt = [0, 1, 2, 3, 4, 5, 6, 7, 9, 13].map((t) => t * U); // #1..#9 at example time + 1
  send(r, App, 1, sendAt[1]);
  send(r, App, 2, sendAt[2]);
  r.onAckReceived(App, ranges([1, 1]), 0, 2.2 * U, true); // t = 1.2: acknowledgment of #1
  r.rtt.smoothedRtt = 1 * U;
  r.rtt.rttVar = 0.1 * U;
  for (let pn = 3; pn <= 9; pn++) {
    send(r, App, pn, sendAt[pn]);
    if (pn === options.ackPacket) r.onAckReceived(App, ranges([1, 1], [pn, pn]), 0, sendAt[pn] + 1, true);
  }
  return { r, sendAt };
}

describe('RFC 9002 §7.6.3 persistent congestion example', () => {
  it('packets 2 to 8 are declared lost at t = 12.2 and persistent congestion is established', () => {
    const { r } = example();
    const cwndBefore = r.cwnd;
    assert.ok(cwndBefore > r.cc.minimumWindow);
    const res = r.onAckReceived(App, ranges([1, 1], [9, 9]), 0, 13.2 * U, true);
    assert.deepEqual(pns(res.lost), [2, 3, 4, 5, 6, 7, 8]);
    // The example's premise holds after the sample: PTO-ish sum 2 units, duration 6 < 8 - 1.
    assert.equal(r.rtt.smoothedRtt + 4 * r.rtt.rttVar, 2 * U);
    assert.equal(r.rtt.persistentCongestionDuration(0), 6 * U);
    assert.equal(res.persistentCongestion, true);
    // The window collapsed to kMinimumWindow; then, in Appendix A.7 order, the acknowledgment
    // of #9 (sent after the collapse) grew it in slow start by #9's 1200 bytes.
    assert.equal(r.cwnd, r.cc.minimumWindow + 1200);
    assert.equal(r.cc.state, 'slow_start');
  });

  it('is not established when a packet sent between the lost ones was acknowledged', () => {
    const { r } = example({ ackPacket: 5 });
    const res = r.onAckReceived(App, ranges([1, 1], [5, 5], [9, 9]), 0, 13.2 * U, true);
    assert.deepEqual(pns(res.lost), [6, 7, 8]);
    assert.equal(res.persistentCongestion, false);
    assert.ok(r.cwnd > r.cc.minimumWindow);
  });

  it('is not established when a packet sent between them was acknowledged in another space', () => {
    const { r } = example();
    send(r, Handshake, 0, 4.5 * U, 1200, false, true); // not ack-eliciting: no RTT sample
    r.onAckReceived(Handshake, ranges([0, 0]), 0, 4.6 * U, true);
    assert.equal(r.rtt.smoothedRtt, 1 * U);
    const res = r.onAckReceived(App, ranges([1, 1], [9, 9]), 0, 13.2 * U, true);
    assert.equal(res.lost.length, 7);
    assert.equal(res.persistentCongestion, false);
  });

  it('requires the period to exceed the duration, not just equal it', () => {
    // Same shape with #8 sent one unit earlier: period 8 - 2 = 6 units = the duration.
    const r = newRecovery({ maxAckDelay: 0 });
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    r.onAckReceived(App, ranges([0, 0]), 0, 0.5 * U, true);
    send(r, App, 1, 1 * U);
    send(r, App, 2, 2 * U);
    r.onAckReceived(App, ranges([1, 1]), 0, 2.2 * U, true);
    r.rtt.smoothedRtt = 1 * U;
    r.rtt.rttVar = 0.1 * U;
    for (let pn = 3; pn <= 8; pn++) send(r, App, pn, pn * U);
    send(r, App, 9, 13 * U);
    const res = r.onAckReceived(App, ranges([1, 1], [9, 9]), 0, 13.2 * U, true);
    assert.equal(res.lost.length, 7);
    assert.equal(res.persistentCongestion, false);
  });

  it('needs an RTT sample taken before the lost packets were sent', () => {
    const r = newRecovery({ maxAckDelay: 0 });
    r.setHandshakeConfirmed(0);
    for (let pn = 0; pn <= 8; pn++) send(r, App, pn, pn * U);
    send(r, App, 9, 12 * U);
    const res = r.onAckReceived(App, ranges([9, 9]), 0, 12.2 * U, true);
    assert.equal(res.lost.length, 9);
    assert.equal(res.persistentCongestion, false);
  });

  it('ignores packets that are not ack-eliciting as the ends of the period', () => {
    const r = newRecovery({ maxAckDelay: 0 });
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    r.onAckReceived(App, ranges([0, 0]), 0, 0.5 * U, true);
    send(r, App, 1, 1 * U, 1200, false, true); // PADDING only
    send(r, App, 2, 2 * U);
    r.rtt.smoothedRtt = 1 * U;
    r.rtt.rttVar = 0.1 * U;
    for (let pn = 3; pn <= 7; pn++) send(r, App, pn, pn * U);
    send(r, App, 8, 8 * U, 1200, false, true);
    send(r, App, 9, 13 * U);
    // Ack-eliciting lost packets span 2..7 units = 5 < 6: no persistent congestion, although
    // packets 1 (t=1) and 8 (t=8) were also lost.
    const res = r.onAckReceived(App, ranges([9, 9]), 0, 13.2 * U, true);
    assert.deepEqual(pns(res.lost), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(res.persistentCongestion, false);
  });

  it('after persistent congestion, min_rtt restarts at the next sample (§5.2)', () => {
    const { r } = example();
    r.onAckReceived(App, ranges([1, 1], [9, 9]), 0, 13.2 * U, true);
    send(r, App, 10, 15 * U);
    r.onAckReceived(App, ranges([1, 1], [9, 10]), 0, 15 * U + 700, true);
    assert.equal(r.rtt.minRtt, 700);
  });
});
