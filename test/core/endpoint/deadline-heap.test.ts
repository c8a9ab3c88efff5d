import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineHeap } from '../../../core/endpoint/deadline-heap.ts';

interface Item {
  id: number;
  deadline: number;
  heapIndex: number;
}

function item(id: number): Item {
  return { id, deadline: 0, heapIndex: -1 };
}

describe('the endpoint deadline heap (one timer for every connection)', () => {
  it('pops due items in deadline order and leaves the rest', () => {
    const h = new DeadlineHeap<Item>();
    const [a, b, c] = [item(1), item(2), item(3)];
    h.schedule(a, 30);
    h.schedule(b, 10);
    h.schedule(c, 20);
    assert.equal(h.nextDeadline(), 10);
    assert.equal(h.popDue(25)?.id, 2);
    assert.equal(h.popDue(25)?.id, 3);
    assert.equal(h.popDue(25), null);
    assert.equal(h.size, 1);
    assert.equal(b.heapIndex, -1);
  });

  it('reschedules earlier and later, and clears with null', () => {
    const h = new DeadlineHeap<Item>();
    const items = [1, 2, 3, 4, 5].map(item);
    items.forEach((x, i) => h.schedule(x, 100 + i));
    h.schedule(items[4], 1);
    assert.equal(h.peek()?.id, 5);
    h.schedule(items[4], 1000);
    assert.equal(h.peek()?.id, 1);
    h.schedule(items[0], null);
    assert.equal(h.peek()?.id, 2);
    assert.equal(h.size, 4);
    h.remove(items[0]); // not in the heap: no-op
    assert.equal(h.size, 4);
  });

  it('matches a sorted-list model (property)', () => {
    const op = fc.record({
      id: fc.nat(15),
      kind: fc.constantFrom('set', 'clear', 'pop'),
      t: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const h = new DeadlineHeap<Item>();
        const items = Array.from({ length: 16 }, (_, i) => item(i));
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            h.schedule(items[o.id], o.t);
            model.set(o.id, o.t);
          } else if (o.kind === 'clear') {
            h.schedule(items[o.id], null);
            model.delete(o.id);
          } else {
            const popped = h.popDue(o.t);
            const min = Math.min(...model.values());
            if (model.size === 0 || min > o.t) assert.equal(popped, null);
            else {
              assert.ok(popped !== null);
              assert.equal(model.get(popped.id), min);
              model.delete(popped.id);
            }
          }
          assert.equal(h.size, model.size);
          assert.equal(h.nextDeadline(), model.size === 0 ? null : Math.min(...model.values()));
        }
      }),
    );
  });
});
