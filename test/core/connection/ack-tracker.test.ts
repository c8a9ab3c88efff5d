import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AckTracker, MAX_TRACKED_RANGES } from '../../../core/connection/ack-tracker.ts';
import { Reader, Writer } from '../../../core/wire/buffer.ts';
import type { AckFields, AckRange } from '../../../core/wire/frame-types.ts';
import { decodeFrame, writeAckFrame } from '../../../core/wire/frames.ts';

const MAX_ACK_DELAY = 25;

function receive(t: AckTracker, pns: number[], ackEliciting = true, now = 0, immediate = false): void {
  for (const pn of pns) t.onPacketReceived(pn, ackEliciting, now, MAX_ACK_DELAY, immediate);
}

describe('RFC 9000 §13.2 AckTracker ranges', () => {
  it('keeps descending, merged ranges for in-order and out-of-order packets', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 5, 6, 9, 4, 3]);
    assert.deepEqual(spans(t.ranges), [
      { smallest: 9, largest: 9 },
      { smallest: 0, largest: 6 },
    ]);
    assert.equal(t.largestReceived, 9);
  });

  it('detects duplicates (RFC 9000 §12.3)', () => {
    const t = new AckTracker();
    receive(t, [1, 2, 7]);
    assert.equal(t.isDuplicate(2), true);
    assert.equal(t.isDuplicate(7), true);
    assert.equal(t.isDuplicate(3), false);
    assert.equal(t.isDuplicate(0), false);
    assert.equal(t.isDuplicate(8), false);
  });

  it('bounds the ranges kept and treats forgotten packets as duplicates', () => {
    const t = new AckTracker();
    for (let i = 0; i < MAX_TRACKED_RANGES + 10; i++) receive(t, [i * 2]);
    assert.equal(t.ranges.length, MAX_TRACKED_RANGES);
    assert.equal(t.isDuplicate(1), true); // below the floor: cannot tell, so dropped
  });

  it('property: ranges always describe exactly the received set', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 150 }), (pns) => {
        const t = new AckTracker();
        const seen = new Set<number>();
        for (const pn of pns) {
          if (t.isDuplicate(pn)) {
            assert.ok(seen.has(pn));
            continue;
          }
          assert.ok(!seen.has(pn));
          seen.add(pn);
          receive(t, [pn]);
        }
        const fromRanges = new Set<number>();
        for (let i = 0; i < t.ranges.length; i++) {
          const r = t.ranges[i];
          assert.ok(r.smallest <= r.largest);
          if (i > 0) assert.ok(t.ranges[i - 1].smallest > r.largest + 1, 'non-adjacent, descending');
          for (let p = r.smallest; p <= r.largest; p++) fromRanges.add(p);
        }
        assert.deepEqual(
          [...fromRanges].sort((a, b) => a - b),
          [...seen].sort((a, b) => a - b),
        );
      }),
    );
  });
});

describe('RFC 9000 §13.2.1-§13.2.2 sending ACK frames', () => {
  it('delays an ACK for one ack-eliciting packet by max_ack_delay', () => {
    const t = new AckTracker();
    receive(t, [0], true, 100);
    assert.equal(t.ackImmediately, false);
    assert.equal(t.ackDeadline, 125);
    assert.equal(t.ackDue(124), false);
    assert.equal(t.ackDue(125), true);
  });

  it('acknowledges at least every second ack-eliciting packet', () => {
    const t = new AckTracker();
    receive(t, [0, 1]);
    assert.equal(t.ackImmediately, true);
  });

  it('acknowledges immediately in the Initial and Handshake spaces', () => {
    const t = new AckTracker();
    receive(t, [0], true, 0, true);
    assert.equal(t.ackImmediately, true);
  });

  it('acknowledges immediately a packet below the largest ack-eliciting one', () => {
    const t = new AckTracker();
    receive(t, [5]);
    t.onAckSent();
    receive(t, [3]);
    assert.equal(t.ackImmediately, true);
  });

  it('acknowledges immediately when a gap appears', () => {
    const t = new AckTracker();
    receive(t, [0]);
    t.onAckSent();
    receive(t, [2]);
    assert.equal(t.ackImmediately, true);
  });

  it('does not ask for an ACK in response to non-ack-eliciting packets', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2], false);
    assert.equal(t.ackImmediately, false);
    assert.equal(t.ackDeadline, null);
    assert.equal(t.ackPending, true);
  });

  it('encodes ack delay with the ack_delay_exponent (RFC 9000 §13.2.5)', () => {
    const t = new AckTracker();
    receive(t, [0], true, 10);
    const ack = t.ackFrame(12, 3, 100, true);
    assert.ok(ack);
    assert.equal(ack.ackDelay, 250); // 2 ms = 2000 µs / 2^3
    assert.equal(t.ackFrame(12, 3, 100, false)?.ackDelay, 0);
  });

  it('leaves out the lowest ranges when the frame does not fit', () => {
    const t = new AckTracker();
    for (let i = 0; i < 100; i++) receive(t, [i * 3]);
    const full = t.ackFrame(0, 3, 10_000, true);
    assert.equal(full?.ranges.length, 100);
    const small = t.ackFrame(0, 3, 20, true);
    assert.ok(small);
    const w = new Writer(new Uint8Array(20));
    const n = writeAckFrame(w, small);
    assert.ok(n <= 20);
    const back = decodeFrame(new Reader(w.written()));
    assert.equal(back.type, 'ack');
    assert.equal(t.ackFrame(0, 3, 3, true), null);
  });

  it('stops acknowledging what the peer saw acknowledged (RFC 9000 §13.2.4)', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 4, 5, 8]);
    t.onAckOfAck(4);
    assert.deepEqual(spans(t.ranges), [
      { smallest: 8, largest: 8 },
      { smallest: 5, largest: 5 },
    ]);
    assert.equal(t.isDuplicate(1), true);
    t.onAckOfAck(8);
    // RFC 9000 §13.2.3: the largest received stays listed; 6 and 7 were never received.
    assert.deepEqual(spans(t.ranges), [{ smallest: 8, largest: 8 }]);
    assert.equal(t.isDuplicate(7), false);
  });
});

/** The ranges as plain {smallest, largest} pairs. */
function spans(ranges: readonly AckRange[]): AckRange[] {
  return ranges.map((r) => ({ smallest: r.smallest, largest: r.largest }));
}

/** The packet numbers the ranges cover. */
function covered(ranges: readonly AckRange[]): Set<number> {
  const out = new Set<number>();
  for (const r of ranges) for (let p = r.smallest; p <= r.largest; p++) out.add(p);
  return out;
}

/** Builds the next ACK frame as the packetizer does, and checks that it encodes and decodes. */
function sendAck(t: AckTracker, room = 1000): AckFields | null {
  const ack = t.ackFrame(0, 3, room, true);
  if (ack === null) return null;
  const w = new Writer(new Uint8Array(room));
  assert.ok(writeAckFrame(w, ack) <= room);
  const back = decodeFrame(new Reader(w.written()));
  assert.equal(back.type, 'ack');
  assert.deepEqual(back.type === 'ack' ? spans(back.ranges) : null, spans(ack.ranges));
  t.onAckSent();
  return { ...ack, ranges: spans(ack.ranges) };
}

describe('RFC 9000 §13.2.3-§13.2.4 late packets below an acknowledged ACK', () => {
  it('accepts a packet in a gap below an acknowledged ACK and acknowledges it next', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 3, 4, 6, 7, 8, 9]);
    const first = sendAck(t);
    assert.equal(first?.largestAcknowledged, 9);
    t.onAckOfAck(9); // the peer saw ACK [0-4, 6-9]
    assert.equal(t.isDuplicate(5), false, '5 was never received: it is new');
    receive(t, [5]);
    assert.equal(t.ackImmediately, true, 'out of order: acknowledged without delay (§13.2.1)');
    const next = sendAck(t);
    assert.deepEqual(next, {
      largestAcknowledged: 9,
      ackDelay: 0,
      ranges: [
        { smallest: 9, largest: 9 },
        { smallest: 5, largest: 5 },
      ],
    });
    assert.equal(t.isDuplicate(5), true);
  });

  it('still detects true duplicates below the acknowledged ACK (RFC 9000 §12.3)', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 4, 5, 8]);
    sendAck(t);
    t.onAckOfAck(8);
    for (const pn of [0, 1, 2, 4, 5, 8]) assert.equal(t.isDuplicate(pn), true, `pn ${pn}`);
    for (const pn of [3, 6, 7, 9]) assert.equal(t.isDuplicate(pn), false, `pn ${pn}`);
    assert.equal(t.duplicateFloor, -1, 'nothing forgotten');
  });

  it('keeps a late packet listed until an ACK built after its arrival is acknowledged', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 3, 4]);
    sendAck(t); // Largest Acknowledged 4, without 2
    receive(t, [2]); // arrives after that ACK was built, below its Largest Acknowledged
    t.onAckOfAck(4);
    // 2 joined 0-1 and 3-4 into one range, kept whole: the ACK of 4 did not cover 2.
    assert.deepEqual(spans(t.ranges), [{ smallest: 0, largest: 4 }]);
    sendAck(t); // Largest Acknowledged 4 again, now with 2: indistinguishable from the first
    t.onAckOfAck(4);
    assert.deepEqual(spans(t.ranges), [{ smallest: 0, largest: 4 }]);
    receive(t, [5]);
    sendAck(t); // Largest Acknowledged 5, built after 2 arrived
    t.onAckOfAck(5);
    assert.deepEqual(spans(t.ranges), [{ smallest: 5, largest: 5 }]);
  });

  it('prunes an in-order range by the Largest Acknowledged alone', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 5, 6, 7]);
    sendAck(t);
    receive(t, [8, 9]);
    t.onAckOfAck(7);
    assert.deepEqual(spans(t.ranges), [{ smallest: 8, largest: 9 }]);
  });

  it('does not prune ranges an ACK frame left out for lack of room', () => {
    const t = new AckTracker();
    for (let i = 0; i < 40; i++) receive(t, [i * 3]);
    const small = sendAck(t, 20);
    assert.ok(small !== null && small.ranges.length < 40);
    const lowestSent = small.ranges[small.ranges.length - 1].smallest;
    t.onAckOfAck(small.largestAcknowledged);
    assert.deepEqual(
      spans(t.ranges).slice(1),
      spans(t.ranges).filter((r) => r.largest < lowestSent),
      'only the omitted ranges remain below the largest',
    );
    assert.equal(t.ranges.length, 1 + (40 - small.ranges.length));
    // A full ACK with the same Largest Acknowledged cannot be told apart from the short one.
    const full = sendAck(t);
    t.onAckOfAck(full?.largestAcknowledged ?? -1);
    assert.equal(t.ranges.length, 1 + (40 - small.ranges.length));
    receive(t, [118]);
    const later = sendAck(t);
    assert.equal(later?.ranges.length, 1 + (40 - small.ranges.length));
    t.onAckOfAck(118);
    assert.deepEqual(spans(t.ranges), [{ smallest: 118, largest: 118 }]);
  });

  it('keeps the largest received packet in every ACK frame (RFC 9000 §13.2.3)', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 4]);
    sendAck(t);
    t.onAckOfAck(4);
    receive(t, [3]);
    const ack = sendAck(t);
    assert.equal(ack?.largestAcknowledged, 4);
    assert.deepEqual(ack?.ranges, [{ smallest: 3, largest: 4 }]);
  });

  it('property: never forgets a packet before an ACK of it was acknowledged; duplicates exact', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('recv' as const), pn: fc.integer({ min: 0, max: 150 }) }),
      fc.record({ k: fc.constant('ack' as const), room: fc.constantFrom(1000, 12, 20, 30) }),
      fc.record({ k: fc.constant('ackOfAck' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const t = new AckTracker();
        const received = new Set<number>();
        const seenByPeer = new Set<number>(); // acknowledged in an ACK frame the peer acknowledged
        const sent: AckFields[] = [];
        for (const o of ops) {
          if (o.k === 'recv') {
            assert.equal(t.isDuplicate(o.pn), received.has(o.pn), `isDuplicate(${o.pn})`);
            if (received.has(o.pn)) continue;
            received.add(o.pn);
            receive(t, [o.pn]);
          } else if (o.k === 'ack') {
            const ack = sendAck(t, o.room);
            if (ack !== null) {
              assert.equal(ack.largestAcknowledged, t.largestReceived, 'always the largest');
              sent.push(ack);
            }
          } else if (sent.length > 0) {
            const ack = sent[o.which % sent.length];
            t.onAckOfAck(ack.largestAcknowledged);
            for (const pn of covered(ack.ranges)) seenByPeer.add(pn);
          }
          const listed = covered(t.ranges);
          for (const pn of listed) assert.ok(received.has(pn), `acknowledges ${pn}, never received`);
          for (const pn of received)
            assert.ok(listed.has(pn) || seenByPeer.has(pn), `${pn} forgotten before the peer saw it acked`);
          for (let i = 1; i < t.ranges.length; i++)
            assert.ok(t.ranges[i - 1].smallest > t.ranges[i].largest + 1, 'descending, non-adjacent');
        }
        for (let pn = 0; pn <= 151; pn++) assert.equal(t.isDuplicate(pn), received.has(pn));
      }),
    );
  });

  it('property: duplicates are exact above the duplicate floor, whatever the pattern', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 1200 }).map((k) => 2 * k) },
      { weight: 1, arbitrary: fc.constant(-1) }, // an ACK, then its ACK-of-ACK
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 800 }), (ops) => {
        const t = new AckTracker();
        const received = new Set<number>();
        for (const pn of ops) {
          if (pn < 0) {
            const ack = sendAck(t);
            if (ack !== null) t.onAckOfAck(ack.largestAcknowledged);
          } else if (!t.isDuplicate(pn)) {
            assert.ok(!received.has(pn), `${pn} received twice`);
            received.add(pn);
            receive(t, [pn]);
          } else {
            assert.ok(received.has(pn) || pn <= t.duplicateFloor, `${pn} refused, never received`);
          }
        }
        assert.ok(t.receivedRangeCount <= MAX_TRACKED_RANGES);
        assert.ok(t.ranges.length <= MAX_TRACKED_RANGES);
        for (let pn = 0; pn <= 2402; pn++) {
          if (received.has(pn)) assert.equal(t.isDuplicate(pn), true, `received ${pn}`);
          else if (pn > t.duplicateFloor) assert.equal(t.isDuplicate(pn), false, `never received ${pn}`);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('stays bounded when every other packet number arrives (100k packets)', () => {
    const t = new AckTracker();
    for (let i = 0; i < 100_000; i++) {
      const pn = 2 * i;
      assert.equal(t.isDuplicate(pn), false);
      receive(t, [pn], true, i);
      if (i % 7 === 0) sendAck(t);
      if (i % 50 === 0) t.onAckOfAck(Math.max(0, pn - 300)); // an ACK built a while ago
    }
    assert.equal(t.receivedRangeCount, MAX_TRACKED_RANGES);
    assert.ok(t.ranges.length <= MAX_TRACKED_RANGES);
    const top = 2 * 99_999;
    assert.equal(t.duplicateFloor, top - 2 * MAX_TRACKED_RANGES);
    // Gaps the bounded state still covers are open; older ones are refused (RFC 9000 §13.2.3).
    assert.equal(t.isDuplicate(top - 1), false);
    assert.equal(t.isDuplicate(t.duplicateFloor + 1), false);
    assert.equal(t.isDuplicate(t.duplicateFloor - 1), true);
    assert.equal(t.isDuplicate(top), true);
  });
});
