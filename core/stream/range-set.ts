/**
 * A set of byte offsets kept as sorted, disjoint, non-adjacent half-open ranges [start, end) in one
 * flat number array. Used by the send side for acknowledged and lost ranges. Insertion and removal
 * binary-search the ranges and splice; appending past the last range is O(1).
 */
export class RangeSet {
  /** [start0, end0, start1, end1, ...]. */
  private r: number[] = [];

  /** Number of ranges. */
  get count(): number {
    return this.r.length >> 1;
  }

  /** True when the set holds nothing. */
  get empty(): boolean {
    return this.r.length === 0;
  }

  /** Start of the `i`-th range (ascending). */
  start(i: number): number {
    return this.r[2 * i];
  }

  /** End (exclusive) of the `i`-th range. */
  end(i: number): number {
    return this.r[2 * i + 1];
  }

  /** Sum of the ranges' lengths. */
  get totalLength(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1] - this.r[i];
    return n;
  }

  /** Removes everything. */
  clear(): void {
    this.r.length = 0;
  }

  /** Index of the first range whose end is >= x (ranges ending exactly at x touch it). */
  private firstEndingAtOrAfter(x: number): number {
    const r = this.r;
    let lo = 0,
      hi = r.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[2 * mid + 1] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether offset `x` is in the set. */
  has(x: number): boolean {
    const i = this.firstEndingAtOrAfter(x + 1);
    return i < this.count && this.r[2 * i] <= x;
  }

  /** Adds [start, end); returns how many of those offsets were not in the set before. */
  add(start: number, end: number): number {
    if (start >= end) return 0;
    const r = this.r;
    const n = r.length;
    if (n === 0 || start > r[n - 1]) {
      r.push(start, end);
      return end - start;
    }
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    let s = start,
      e = end,
      covered = 0;
    while (2 * j < n && r[2 * j] <= end) {
      const rs = r[2 * j],
        re = r[2 * j + 1];
      const overlap = Math.min(end, re) - Math.max(start, rs);
      if (overlap > 0) covered += overlap;
      if (rs < s) s = rs;
      if (re > e) e = re;
      j++;
    }
    if (j === i) r.splice(2 * i, 0, s, e);
    else if (j === i + 1) {
      r[2 * i] = s;
      r[2 * i + 1] = e;
    } else r.splice(2 * i, 2 * (j - i), s, e);
    return end - start - covered;
  }

  /** Removes [start, end) from the set. */
  remove(start: number, end: number): void {
    if (start >= end) return;
    const r = this.r;
    let i = this.firstEndingAtOrAfter(start + 1);
    while (2 * i < r.length && r[2 * i] < end) {
      const rs = r[2 * i],
        re = r[2 * i + 1];
      if (rs < start && re > end) {
        r.splice(2 * i + 1, 0, start, end);
        return;
      }
      if (rs < start) {
        r[2 * i + 1] = start;
        i++;
      } else if (re > end) {
        r[2 * i] = end;
        return;
      } else r.splice(2 * i, 2);
    }
  }

  /** Removes and returns the first range as [start, end], or null. */
  shift(): [number, number] | null {
    if (this.r.length === 0) return null;
    const s = this.r[0],
      e = this.r[1];
    this.r.splice(0, 2);
    return [s, e];
  }

  /** Removes and returns the last range as [start, end], or null. */
  pop(): [number, number] | null {
    const r = this.r;
    if (r.length === 0) return null;
    const e = r.pop() as number;
    const s = r.pop() as number;
    return [s, e];
  }

  /** Calls `fn` for each maximal sub-range of [start, end) that is NOT in the set, in order. */
  forEachGap(start: number, end: number, fn: (start: number, end: number) => void): void {
    const r = this.r;
    let cur = start;
    for (let i = this.firstEndingAtOrAfter(start + 1); 2 * i < r.length && cur < end; i++) {
      const rs = r[2 * i],
        re = r[2 * i + 1];
      if (rs >= end) break;
      if (rs > cur) fn(cur, rs);
      if (re > cur) cur = re;
    }
    if (cur < end) fn(cur, end);
  }
}
