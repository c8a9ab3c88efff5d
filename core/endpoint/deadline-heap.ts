/**
 * The endpoint's timer queue: a binary min-heap of items by deadline, so one timer serves every
 * connection (arm it for `nextDeadline()`). Intrusive: each item keeps its own heap position, so
 * rescheduling is O(log n) and allocates nothing.
 */

/** What the heap stores: the item's deadline and position (managed by the heap; start at -1). */
export interface Scheduled {
  /** The absolute deadline (ms), meaningful while the item is in the heap. */
  deadline: number;
  /** Position in the heap, -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

/** A min-heap of `Scheduled` items keyed by `deadline`. */
export class DeadlineHeap<T extends Scheduled> {
  private readonly items: T[] = [];

  /** Items in the heap. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest deadline, or null when empty. */
  nextDeadline(): number | null {
    return this.items.length > 0 ? this.items[0].deadline : null;
  }

  /** The item with the earliest deadline, or null. */
  peek(): T | null {
    return this.items.length > 0 ? this.items[0] : null;
  }

  /** Sets (or, with null, clears) `item`'s deadline. */
  schedule(item: T, deadline: number | null): void {
    if (deadline === null) {
      this.remove(item);
      return;
    }
    if (Number.isNaN(deadline)) throw new RangeError('deadline is NaN');
    const i = item.heapIndex;
    if (i < 0) {
      item.deadline = deadline;
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.up(item.heapIndex);
      return;
    }
    if (this.items[i] !== item) throw new RangeError('item belongs to another heap');
    const old = item.deadline;
    item.deadline = deadline;
    if (deadline < old) this.up(i);
    else if (deadline > old) this.down(i);
  }

  /** Removes and returns the earliest item if its deadline is at or before `now`; else null. */
  popDue(now: number): T | null {
    const top = this.items[0];
    if (top === undefined || top.deadline > now) return null;
    this.remove(top);
    return top;
  }

  /** Takes `item` out of the heap (no-op when it is not in it). */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const items = this.items;
    const last = items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent];
      if (p.deadline <= item.deadline) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1].deadline < items[child].deadline) child++;
      const c = items[child];
      if (c.deadline >= item.deadline) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
