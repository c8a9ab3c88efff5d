import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AckTracker, MAX_TRACKED_RANGES } from '../../../core/connection/ack-tracker.ts';
import { Reader, Writer } from '../../../core/wire/buffer.ts';
import { decodeFrame, writeAckFrame } from '../../../core/wire/frames.ts';

const MAX_ACK_DELAY = 25;

function receive(t: AckTracker, pns: number[], ackEliciting = true, now = 0, immediate = false): void {
  for (const pn of pns) t.onPacketReceived(pn, ackEliciting, now, MAX_ACK_DELAY, immediate);
}

describe('RFC 9000 §13.2 AckTracker ranges', () => {
  it('keeps descending, merged ranges for in-order and out-of-order packets', () => {
    const t = new AckTracker();
    receive(t, [0, 1, 2, 5, 6, 9, 4, 3]);
    assert.deepEqual(t.ranges, [
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
    assert.deepEqual(t.ranges, [
      { smallest: 8, largest: 8 },
      { smallest: 5, largest: 5 },
    ]);
    assert.equal(t.isDuplicate(1), true);
    t.onAckOfAck(8);
    assert.equal(t.ackFrame(0, 3, 100, true), null);
    assert.equal(t.isDuplicate(7), true);
  });
});
