import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from '../../../core/stream/range-set.ts';

const SPAN = 64;

function contents(s: RangeSet): boolean[] {
  const bits = new Array<boolean>(SPAN).fill(false);
  for (let i = 0; i < s.count; i++) for (let x = s.start(i); x < s.end(i); x++) bits[x] = true;
  return bits;
}

function checkInvariants(s: RangeSet): void {
  for (let i = 0; i < s.count; i++) {
    assert.ok(s.start(i) < s.end(i), 'ranges are non-empty');
    if (i > 0) assert.ok(s.end(i - 1) < s.start(i), 'ranges are sorted, disjoint and not adjacent');
  }
}

const op = fc.record({
  add: fc.boolean(),
  a: fc.integer({ min: 0, max: SPAN }),
  b: fc.integer({ min: 0, max: SPAN }),
});

describe('RangeSet (acknowledged and lost byte ranges)', () => {
  it('matches a bitmap model under random adds and removes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const s = new RangeSet();
        const model = new Array<boolean>(SPAN).fill(false);
        for (const { add, a, b } of ops) {
          const lo = Math.min(a, b),
            hi = Math.max(a, b);
          if (add) {
            let fresh = 0;
            for (let x = lo; x < hi; x++) {
              if (!model[x]) fresh++;
              model[x] = true;
            }
            assert.equal(s.add(lo, hi), fresh, 'add returns the newly covered count');
          } else {
            for (let x = lo; x < hi; x++) model[x] = false;
            s.remove(lo, hi);
          }
          checkInvariants(s);
          assert.deepEqual(contents(s), model);
          assert.equal(s.totalLength, model.filter((x) => x).length);
          for (let x = 0; x < SPAN; x++) assert.equal(s.has(x), model[x]);
        }
      }),
    );
  });

  it('forEachGap visits exactly the missing sub-ranges, in order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.nat(SPAN), fc.nat(SPAN), (ops, a, b) => {
        const s = new RangeSet();
        for (const o of ops) if (o.add) s.add(Math.min(o.a, o.b), Math.max(o.a, o.b));
        const lo = Math.min(a, b),
          hi = Math.max(a, b);
        const seen = new Array<boolean>(SPAN).fill(false);
        let last = -1;
        s.forEachGap(lo, hi, (gs, ge) => {
          assert.ok(gs < ge && gs > last, 'gaps are non-empty, ordered and separate');
          last = ge;
          for (let x = gs; x < ge; x++) seen[x] = true;
        });
        const bits = contents(s);
        for (let x = 0; x < SPAN; x++) assert.equal(seen[x], x >= lo && x < hi && !bits[x]);
      }),
    );
  });

  it('shift and pop take the first and last ranges', () => {
    const s = new RangeSet();
    s.add(10, 20);
    s.add(0, 5);
    s.add(30, 31);
    assert.deepEqual(s.shift(), [0, 5]);
    assert.deepEqual(s.pop(), [30, 31]);
    assert.equal(s.count, 1);
    s.clear();
    assert.equal(s.empty, true);
    assert.equal(s.shift(), null);
    assert.equal(s.pop(), null);
  });
});
