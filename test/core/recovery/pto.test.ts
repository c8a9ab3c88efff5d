import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PacketNumberSpace } from '../../../core/recovery/types.ts';
import { newRecovery, ranges, send } from './helpers.ts';

const { Initial, Handshake, ApplicationData: App } = PacketNumberSpace;

describe('RFC 9002 §6.2.1 PTO timer', () => {
  it('is armed at time of the last ack-eliciting packet + PTO (with max_ack_delay in Application Data)', () => {
    const r = newRecovery();
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    send(r, App, 1, 10);
    // 333 + 4 * 166.5 + 25 from the last ack-eliciting packet.
    assert.equal(r.getLossDetectionTimer(), 10 + 1024);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'pto', space: App });
  });

  it('is not armed by packets that are not ack-eliciting', () => {
    const r = newRecovery();
    send(r, App, 0, 0, 40, false, false);
    send(r, Initial, 0, 0, 1200, false, true); // PADDING only: in flight, not ack-eliciting
    assert.equal(r.getLossDetectionTimer(), null);
    assert.equal(r.bytesInFlight, 1200);
  });

  it('is not armed for Application Data before the handshake is confirmed', () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    assert.equal(r.getLossDetectionTimer(), null);
    r.setHandshakeConfirmed(5);
    assert.equal(r.getLossDetectionTimer(), 1024);
  });

  it('uses the earlier of the Initial and Handshake deadlines', () => {
    const r = newRecovery();
    send(r, Handshake, 0, 0);
    send(r, Initial, 0, 50);
    assert.equal(r.getLossDetectionTimer(), 999);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'pto', space: Handshake });
  });

  it('a PTO does not declare packets lost; it asks for two probes in the space (§6.2.4)', () => {
    const r = newRecovery();
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    assert.deepEqual(r.onLossDetectionTimeout(1023.9), { lost: [], probe: null });
    assert.equal(r.ptoCount, 0);
    const fired = r.onLossDetectionTimeout(1024);
    assert.deepEqual(fired, { lost: [], probe: { space: App, count: 2 } });
    assert.equal(r.ptoCount, 1);
    assert.equal(r.sentPackets(App).size, 1);
    assert.equal(r.bytesInFlight, 1200);
  });

  it('backs off exponentially: each expiry doubles the period, including max_ack_delay', () => {
    const r = newRecovery();
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    r.onLossDetectionTimeout(1024);
    assert.equal(r.getLossDetectionTimer(), 2048);
    send(r, App, 1, 1024);
    send(r, App, 2, 1024);
    assert.equal(r.getLossDetectionTimer(), 1024 + 2048);
    r.onLossDetectionTimeout(3072);
    assert.equal(r.ptoCount, 2);
    assert.equal(r.getLossDetectionTimer(), 1024 + 4096);
  });

  it('resets the backoff when an acknowledgment arrives', () => {
    const r = newRecovery();
    r.setHandshakeConfirmed(0);
    send(r, App, 0, 0);
    r.onLossDetectionTimeout(1024);
    send(r, App, 1, 1024);
    send(r, App, 2, 1024);
    r.onLossDetectionTimeout(3072);
    assert.equal(r.ptoCount, 2);
    const res = r.onAckReceived(App, ranges([2, 2]), 0, 5200, true);
    assert.equal(r.ptoCount, 0);
    // latest_rtt = 4176: packet 0 (sent at 0) is past 9/8 of it, packet 1 is not.
    assert.deepEqual(
      res.lost.map((p) => p.packetNumber),
      [0],
    );
    assert.equal(r.getLossDetectionTimer(), 1024 + (9 / 8) * 4176);
  });

  it('a timer for time-threshold loss takes precedence over an earlier PTO (§6.2.1)', () => {
    const r = newRecovery();
    // Twenty 100 ms samples: smoothed_rtt 100, rttvar almost 0.
    for (let pn = 0; pn < 20; pn++) {
      send(r, Handshake, pn, pn * 200);
      r.onAckReceived(Handshake, ranges([pn, pn]), 0, pn * 200 + 100, false);
    }
    send(r, Handshake, 20, 5000);
    send(r, Handshake, 21, 5000);
    // latest_rtt 400: packet 20 is lost at 5000 + 9/8 * 400 = 5450, while its PTO would be
    // 5000 + 137.5 + 4 * ~75 = ~5437.5.
    r.onAckReceived(Handshake, ranges([21, 21]), 0, 5400, false);
    assert.ok(5000 + r.ptoPeriod(Handshake) < 5450);
    assert.equal(r.getLossDetectionTimer(), 5450);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'loss_time', space: Handshake });
  });

  it('is cancelled when nothing ack-eliciting is in flight and the peer validated the address', () => {
    const r = newRecovery();
    send(r, Initial, 0, 0);
    r.onAckReceived(Initial, ranges([0, 0]), 0, 100, false);
    assert.equal(r.getLossDetectionTimer(), null);
  });
});

describe('RFC 9002 §6.2.2.1 before address validation', () => {
  it('a client keeps a PTO armed with nothing in flight until its Handshake is acknowledged', () => {
    const r = newRecovery({ isServer: false });
    send(r, Initial, 0, 0);
    r.onAckReceived(Initial, ranges([0, 0]), 0, 100, false);
    // smoothed 100, rttvar 50: the anti-deadlock timer runs from now for 300 ms.
    assert.equal(r.getLossDetectionTimer(), 400);
    const fired = r.onLossDetectionTimeout(400);
    assert.deepEqual(fired, { lost: [], probe: { space: Initial, count: 1 } });
    assert.equal(r.ptoCount, 1);
    assert.equal(r.getLossDetectionTimer(), 400 + 600);
  });

  it('the anti-deadlock probe is a Handshake packet once Handshake keys exist', () => {
    const r = newRecovery({ isServer: false });
    send(r, Initial, 0, 0);
    r.onAckReceived(Initial, ranges([0, 0]), 0, 100, false);
    r.setHandshakeKeysAvailable();
    assert.deepEqual(r.onLossDetectionTimeout(400).probe, { space: Handshake, count: 1 });
  });

  it('a client does not reset the backoff on Initial ACKs, but does on a Handshake ACK', () => {
    const r = newRecovery({ isServer: false });
    send(r, Initial, 0, 0);
    r.onLossDetectionTimeout(999);
    assert.equal(r.ptoCount, 1);
    send(r, Initial, 1, 999);
    send(r, Handshake, 0, 999);
    r.onAckReceived(Initial, ranges([0, 1]), 0, 1100, false);
    assert.equal(r.ptoCount, 1);
    r.onAckReceived(Handshake, ranges([0, 0]), 0, 1150, false);
    assert.equal(r.ptoCount, 0);
    assert.equal(r.getLossDetectionTimer(), null);
  });

  it('a client with only 0-RTT packets in flight (not yet armable) still arms the anti-deadlock PTO', () => {
    const r = newRecovery({ isServer: false });
    send(r, Initial, 0, 0);
    send(r, App, 0, 1); // 0-RTT
    r.onAckReceived(Initial, ranges([0, 0]), 0, 100, false);
    assert.equal(r.getLossDetectionTimer(), 400);
    assert.deepEqual(r.onLossDetectionTimeout(400).probe, { space: Initial, count: 1 });
  });

  it('a server at its amplification limit arms no PTO; unblocking re-arms it, possibly in the past (Appendix A.6)', () => {
    const r = newRecovery({ isServer: true });
    send(r, Initial, 0, 0);
    r.setAmplificationBlocked(true, 0);
    assert.equal(r.getLossDetectionTimer(), null);
    assert.deepEqual(r.onLossDetectionTimeout(2000), { lost: [], probe: null });
    r.setAmplificationBlocked(false, 1500);
    assert.equal(r.getLossDetectionTimer(), 999);
    assert.deepEqual(r.onLossDetectionTimeout(1500).probe, { space: Initial, count: 2 });
  });
});

describe('RFC 9002 §7.5 probes and the congestion window', () => {
  it('probe packets are counted in flight even beyond the window', () => {
    const r = newRecovery();
    r.setHandshakeConfirmed(0);
    for (let pn = 0; pn < 10; pn++) send(r, App, pn, 0);
    assert.equal(r.cc.canSend(1200), false);
    r.onLossDetectionTimeout(1024);
    send(r, App, 10, 1024);
    send(r, App, 11, 1024);
    assert.equal(r.bytesInFlight, 12 * 1200);
    assert.equal(r.cc.availableWindow(), 0);
  });
});
