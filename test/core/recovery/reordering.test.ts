import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NewReno } from '../../../core/recovery/newreno.ts';
import {
  MAX_REMEMBERED_LOSSES,
  MAX_TIME_THRESHOLD,
  OTHER_PATH,
  THRESHOLD_DECAY_RTTS,
} from '../../../core/recovery/reordering.ts';
import { SentPacket } from '../../../core/recovery/sent-packets.ts';
import { kPacketThreshold, kTimeThreshold, PacketNumberSpace } from '../../../core/recovery/types.ts';
import type { LossThresholds } from '../../../core/recovery/types.ts';
import { newRecovery, pns, ranges, send } from './helpers.ts';

const App = PacketNumberSpace.ApplicationData;
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Packet 0 sent at 0 and acknowledged at 20 (smoothed_rtt 20, rttvar 10), packets 1..9 sent at
 * 21..29 on the first path, a path change at 30, packets 10..12 sent at 30..32 on the new path.
 * The old path's PTO is 20 + 4 * 10 + 25 = 85 ms.
 */
function migrated() {
  const r = newRecovery();
  send(r, App, 0, 0);
  r.onAckReceived(App, ranges([0, 0]), 0, 20, true);
  for (let pn = 1; pn <= 9; pn++) send(r, App, pn, 20 + pn);
  r.onPathChange(30);
  for (let pn = 10; pn <= 12; pn++) send(r, App, pn, 20 + pn);
  return r;
}

describe('RFC 9000 §9.4 loss detection across a path change (apparent reordering)', () => {
  it('ACKs of the new path overtaking the old path declare none of its packets lost', () => {
    const r = migrated();
    const first = r.onAckReceived(App, ranges([10, 12]), 0, 45, true);
    // Without paths, 12 >= pn + kPacketThreshold would declare 1..9 lost at once.
    assert.deepEqual(pns(first.lost), []);
    assert.equal(first.rttSampled, true);
    const late = r.onAckReceived(App, ranges([0, 12]), 0, 70, true);
    assert.deepEqual(pns(late.newlyAcked), range(1, 9));
    assert.deepEqual(late.lost, []);
    assert.equal(r.reordering.spuriousLosses, 0);
  });

  it('the old path still reveals its own losses by the packet threshold, without a congestion event', () => {
    const r = migrated();
    const cwnd = r.cwnd;
    r.onAckReceived(App, ranges([10, 12]), 0, 45, true);
    const res = r.onAckReceived(App, ranges([5, 12]), 0, 50, true);
    assert.deepEqual(pns(res.lost), [1, 2, 3, 4]);
    assert.ok(res.lost.every((p) => p.lossTrigger === 'reordering_threshold'));
    // "Packets sent on the old path MUST NOT contribute to congestion control ... for the new path".
    assert.equal(r.cc.ssthresh, Infinity);
    assert.notEqual(r.cc.state, 'recovery');
    assert.ok(r.cwnd >= cwnd);
  });

  it("the old path's bytes leave bytes in flight at the change; its acknowledgments do not grow the window", () => {
    const r = migrated();
    assert.equal(r.bytesInFlight, 3 * 1200, 'only the new path');
    const cwnd = r.cwnd;
    r.onAckReceived(App, ranges([1, 9]), 0, 40, true);
    assert.equal(r.cwnd, cwnd);
    assert.equal(r.bytesInFlight, 3 * 1200);
    r.onAckReceived(App, ranges([1, 12]), 0, 50, true);
    assert.equal(r.bytesInFlight, 0);
    assert.equal(r.cwnd, cwnd + 3 * 1200, 'slow start grows by the new path packets only');
  });

  it('a path left behind that goes quiet for its PTO: its packets are given up, as no congestion', () => {
    const r = migrated();
    r.onAckReceived(App, ranges([10, 12]), 0, 45, true);
    // Left at 30 with a PTO of 85 ms: the loss timer covers its packets.
    assert.equal(r.getLossDetectionTimer(), 30 + 85);
    assert.deepEqual(r.getLossDetectionTimerInfo(), { kind: 'loss_time', space: App });
    assert.deepEqual(r.onLossDetectionTimeout(114.9).lost, []);
    const gone = r.onLossDetectionTimeout(115);
    assert.deepEqual(pns(gone.lost), range(1, 9));
    assert.ok(gone.lost.every((p) => p.lossTrigger === 'time_threshold'));
    assert.equal(r.cc.ssthresh, Infinity);
    assert.equal(r.bytesInFlight, 0);
  });

  it('each acknowledgment from the old path postpones giving it up', () => {
    const r = migrated();
    r.onAckReceived(App, ranges([10, 12]), 0, 45, true);
    r.onAckReceived(App, ranges([1, 1], [10, 12]), 0, 100, true);
    // Heard of at 100; its latest_rtt (100 - 21 = 79) now sets its time threshold: 9/8 * 79 > 85.
    assert.equal(r.getLossDetectionTimer(), 100 + (9 / 8) * 79);
    assert.deepEqual(r.onLossDetectionTimeout(115).lost, []);
  });

  it('only the active path yields RTT samples (§9.4: old packets MUST NOT feed RTT estimation)', () => {
    const r = migrated();
    const res = r.onAckReceived(App, ranges([1, 9]), 0, 200, true);
    assert.deepEqual(pns(res.newlyAcked), range(1, 9));
    assert.equal(res.rttSampled, false);
    assert.equal(r.rtt.latestRtt, 20);
    assert.equal(r.rtt.smoothedRtt, 20);
  });

  it('resetForNewPath restarts the window and RTT, keeping only the new path in flight', () => {
    const r = migrated();
    (r.cc as NewReno).cwnd = 100_000;
    r.resetForNewPath(33);
    assert.equal(r.cwnd, 12_000);
    assert.equal(r.bytesInFlight, 3 * 1200);
    assert.equal(r.rtt.hasSample, false);
    r.onAckReceived(App, ranges([0, 12]), 0, 60, true);
    assert.equal(r.bytesInFlight, 0);
  });

  it("a probe's ACK on another path declares nothing lost and arms no time threshold (§8.2, §9.1)", () => {
    const r = newRecovery();
    send(r, App, 0, 0);
    r.onAckReceived(App, ranges([0, 0]), 0, 20, true);
    for (let pn = 1; pn <= 6; pn++) send(r, App, pn, 20 + pn);
    const probe = new SentPacket(App, 7, 1200, false, false, 7);
    r.onPacketSent(probe, 27, true);
    assert.equal(probe.path, OTHER_PATH);
    // The probe's path was quicker: its ACK overtakes the active path's packets.
    const res = r.onAckReceived(App, ranges([7, 7]), 0, 35, true);
    assert.deepEqual(res.lost, [], 'without paths, 1..4 would be lost (7 >= pn + 3)');
    assert.equal(r.getLossDetectionTimerInfo().kind, 'pto');
    assert.deepEqual(pns(r.onAckReceived(App, ranges([1, 7]), 0, 48, true).newlyAcked), range(1, 6));
  });
});

/** RTT 100 ms (one sample), then packets 1..30 sent at 100, a window of `cwnd` bytes. */
function reordered(cwnd: number, listener?: { onParametersUpdated(p: LossThresholds): void }) {
  const r = newRecovery({ listener });
  send(r, App, 0, 0);
  r.onAckReceived(App, ranges([0, 0]), 0, 100, true);
  (r.cc as NewReno).cwnd = cwnd;
  for (let pn = 1; pn <= 30; pn++) send(r, App, pn, 100);
  // 1..8 arrive after 9..30: declared lost by the packet threshold, then acknowledged.
  const lost = r.onAckReceived(App, ranges([9, 30]), 0, 200, true).lost;
  assert.deepEqual(pns(lost), range(1, 8));
  const late = r.onAckReceived(App, ranges([1, 30]), 0, 201, true);
  assert.deepEqual(pns(late.spuriouslyLost), range(1, 8));
  return r;
}

describe('RFC 9002 §6.1, §6.1.1 spurious losses raise the packet threshold', () => {
  it('to the reordering revealed (packet 1 came after 30), reported as recovery parameters', () => {
    const reports: LossThresholds[] = [];
    const r = reordered(960_000, { onParametersUpdated: (p) => reports.push({ ...p }) });
    assert.equal(r.reordering.spuriousLosses, 8);
    assert.equal(r.reordering.packetThreshold, 30);
    assert.deepEqual(reports, [{ reordering_threshold: 30, time_threshold: kTimeThreshold }]);
    // The next reordering of 25 packets declares nothing lost (with 3: 31..44 lost).
    for (let pn = 31; pn <= 70; pn++) send(r, App, pn, 300);
    const next = r.onAckReceived(App, ranges([45, 70]), 0, 400, true);
    assert.deepEqual(pns(next.lost), range(31, 40));
  });

  it('in use at most cwnd_packets * (time_threshold - 1): with 10 packets, still 3', () => {
    const r = reordered(12_000);
    assert.equal(r.reordering.packetThreshold, 30, 'remembered');
    for (let pn = 31; pn <= 40; pn++) send(r, App, pn, 300);
    const next = r.onAckReceived(App, ranges([38, 40]), 0, 400, true);
    assert.deepEqual(pns(next.lost), range(31, 37));
  });

  it('moves halfway back after 16 smoothed RTTs without a spurious loss', () => {
    const r = reordered(960_000);
    const due = 201 + THRESHOLD_DECAY_RTTS * r.rtt.smoothedRtt; // 16 x 100 ms after the last one
    send(r, App, 31, due - 101);
    r.onAckReceived(App, ranges([31, 31]), 0, due - 1, true);
    assert.equal(r.reordering.packetThreshold, 30);
    send(r, App, 32, due - 100);
    r.onAckReceived(App, ranges([32, 32]), 0, due, true);
    assert.equal(r.reordering.packetThreshold, kPacketThreshold + ((30 - kPacketThreshold) >> 1));
  });
});

describe('RFC 9002 §6.1, §6.1.2 spurious losses raise the time threshold', () => {
  /** RTT 100 ms; packets 1 and 2 sent at 100 and 101; 2 is acknowledged at 201. */
  function timed() {
    const r = newRecovery();
    send(r, App, 0, 0);
    r.onAckReceived(App, ranges([0, 0]), 0, 100, true);
    send(r, App, 1, 100);
    send(r, App, 2, 101);
    r.onAckReceived(App, ranges([2, 2]), 0, 201, true);
    assert.equal(r.getLossDetectionTimer(), 100 + 112.5);
    const lost = r.onLossDetectionTimeout(212.5).lost;
    assert.deepEqual(pns(lost), [1]);
    assert.equal(lost[0].lossTrigger, 'time_threshold');
    return r;
  }

  it('to the delay revealed in RTTs, rounded up to 1/8', () => {
    const r = timed();
    r.onAckReceived(App, ranges([1, 2]), 0, 260, true); // 160 ms after it was sent: 1.6 RTT
    assert.equal(r.reordering.timeThreshold, 1.625);
    send(r, App, 3, 300);
    send(r, App, 4, 301);
    r.onAckReceived(App, ranges([4, 4]), 0, 401, true);
    assert.equal(r.getLossDetectionTimer(), 300 + 1.625 * 100);
  });

  it('moves halfway back after 16 smoothed RTTs without a spurious loss', () => {
    const r = timed();
    r.onAckReceived(App, ranges([1, 2]), 0, 260, true);
    const due = 260 + THRESHOLD_DECAY_RTTS * r.rtt.smoothedRtt;
    send(r, App, 3, due - 100);
    r.onAckReceived(App, ranges([3, 3]), 0, due, true);
    assert.equal(r.reordering.timeThreshold, (1.625 + kTimeThreshold) / 2);
  });

  it(`at most ${MAX_TIME_THRESHOLD} RTTs`, () => {
    const r = timed();
    r.onAckReceived(App, ranges([1, 2]), 0, 700, true);
    assert.equal(r.reordering.timeThreshold, MAX_TIME_THRESHOLD);
  });
});

describe('RFC 9002 §6.1 remembering losses', () => {
  it(`at most ${MAX_REMEMBERED_LOSSES} per space, the newest kept`, () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 3002; pn++) send(r, App, pn, 0);
    assert.equal(r.onAckReceived(App, ranges([3002, 3002]), 0, 100, true).lost.length, 3000);
    const late = r.onAckReceived(App, ranges([0, 2999]), 0, 101, true).spuriouslyLost;
    assert.equal(late.length, MAX_REMEMBERED_LOSSES);
    assert.deepEqual(pns([late[0], late[late.length - 1]]), [3000 - MAX_REMEMBERED_LOSSES, 2999]);
  });

  it('for about the persistent congestion period: a later ACK is not taken for a spurious loss', () => {
    const r = newRecovery();
    for (let pn = 0; pn <= 4; pn++) send(r, App, pn, 0);
    r.onAckReceived(App, ranges([4, 4]), 0, 100, true); // 0 and 1 lost
    const period = r.rtt.persistentCongestionDuration(r.maxAckDelay);
    const late = r.onAckReceived(App, ranges([0, 1], [4, 4]), 0, 100 + period + 1, true);
    assert.deepEqual(late.spuriouslyLost, []);
    assert.equal(r.reordering.packetThreshold, kPacketThreshold);
  });
});

describe('RFC 9002 §6.1 without reordering nothing adapts', () => {
  it('in-order delivery with any losses: no spurious loss, thresholds at 3 and 9/8, only dropped packets lost', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 300 }),
        fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
        fc.integer({ min: 5, max: 200 }),
        (n, keep, rtt) => {
          const r = newRecovery();
          (r.cc as NewReno).cwnd = 1e9;
          const received: number[] = [];
          const lost = new Set<number>();
          for (let pn = 0; pn < n; pn++) {
            const now = pn;
            send(r, App, pn, now);
            // The ACK of every packet that arrives, one RTT later, covering all received so far.
            const arrived = pn - rtt;
            if (arrived >= 0 && (keep[arrived % keep.length] || arrived === 0)) received.push(arrived);
            if (arrived >= 0 && received[received.length - 1] === arrived) {
              const res = r.onAckReceived(App, toRanges(received), 0, now, true);
              for (const p of res.lost) lost.add(p.packetNumber);
              assert.equal(res.spuriouslyLost.length, 0);
            }
          }
          for (const pn of lost) assert.ok(!received.includes(pn), `packet ${pn} was received`);
          assert.equal(r.reordering.spuriousLosses, 0);
          assert.equal(r.reordering.packetThreshold, kPacketThreshold);
          assert.equal(r.reordering.timeThreshold, kTimeThreshold);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** Descending ACK ranges of an ascending list of packet numbers. */
function toRanges(received: readonly number[]) {
  const pairs: [number, number][] = [];
  for (const pn of received) {
    const last = pairs[pairs.length - 1];
    if (last !== undefined && last[1] === pn - 1) last[1] = pn;
    else pairs.push([pn, pn]);
  }
  return ranges(...pairs);
}
