/**
 * Matching datagrams to connections by Destination Connection ID (RFC 9000 §5.2): a map from
 * CID bytes to a value (a connection), looked up straight from the datagram without allocating.
 *
 * The key is a 53-bit number hashed from the CID bytes with a per-router seed (so a client that
 * picks its CIDs cannot aim them at one chain), and every hit is confirmed by comparing the
 * bytes, so collisions only cost a comparison. A hex-string key would cost one string per
 * datagram; a number key costs none.
 */

import { bytesEqual } from '../wire/buffer.ts';

interface Slot<T> {
  readonly cid: Uint8Array;
  value: T;
  next: Slot<T> | null;
}

/** A CID → value table with O(1) lookups that allocate nothing (RFC 9000 §5.2). */
export class CidRouter<T> {
  private readonly table = new Map<number, Slot<T>>();
  private count = 0;
  private readonly seed1: number;
  private readonly seed2: number;

  /**
   * `cidLength` is the length of the CIDs this endpoint issues (short headers do not carry it,
   * RFC 9000 §17.3.1); `seed` (4+ random bytes) keys the hash.
   */
  constructor(
    readonly cidLength: number,
    seed?: Uint8Array,
  ) {
    if (!Number.isInteger(cidLength) || cidLength < 0 || cidLength > 20)
      throw new RangeError('a connection ID length is 0..20');
    const s = seed ?? new Uint8Array(8);
    this.seed1 = ((s[0] << 24) | (s[1] << 16) | (s[2] << 8) | s[3]) ^ 0x9e3779b9;
    this.seed2 = ((s[4] << 24) | (s[5] << 16) | (s[6] << 8) | s[7]) ^ 0x85ebca6b;
  }

  /** How many CIDs are routed. */
  get size(): number {
    return this.count;
  }

  private hash(buf: Uint8Array, offset: number, length: number): number {
    let h1 = this.seed1 ^ length;
    let h2 = this.seed2;
    for (let i = offset, end = offset + length; i < end; i++) {
      const b = buf[i];
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Final avalanche (murmur3 fmix32) of each lane, then 32 + 21 bits into one safe integer.
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0xc2b2ae35);
    h1 ^= h1 >>> 16;
    h2 ^= h2 >>> 16;
    h2 = Math.imul(h2, 0x85ebca6b);
    h2 ^= h2 >>> 13;
    return (h1 >>> 0) * 0x20_0000 + (h2 >>> 11);
  }

  /** The value routed for the CID `buf[offset, offset + length)`, or undefined (no allocation). */
  lookup(buf: Uint8Array, offset: number, length: number): T | undefined {
    for (let s = this.table.get(this.hash(buf, offset, length)) ?? null; s !== null; s = s.next) {
      const cid = s.cid;
      if (cid.length !== length) continue;
      let i = 0;
      while (i < length && cid[i] === buf[offset + i]) i++;
      if (i === length) return s.value;
    }
    return undefined;
  }

  /** The value routed for `cid`, or undefined. */
  get(cid: Uint8Array): T | undefined {
    return this.lookup(cid, 0, cid.length);
  }

  /** Whether `cid` is routed. */
  has(cid: Uint8Array): boolean {
    return this.lookup(cid, 0, cid.length) !== undefined;
  }

  /**
   * Routes `cid` (copied) to `value`. Returns false, changing nothing, when `cid` already routes
   * to another value; true otherwise.
   */
  add(cid: Uint8Array, value: T): boolean {
    const key = this.hash(cid, 0, cid.length);
    const head = this.table.get(key);
    for (let s = head ?? null; s !== null; s = s.next) {
      if (bytesEqual(s.cid, cid)) return s.value === value;
    }
    this.table.set(key, { cid: cid.slice(), value, next: head ?? null });
    this.count++;
    return true;
  }

  /** Stops routing `cid` (only if it routes to `value`, when given); returns whether it did. */
  remove(cid: Uint8Array, value?: T): boolean {
    const key = this.hash(cid, 0, cid.length);
    let prev: Slot<T> | null = null;
    for (let s = this.table.get(key) ?? null; s !== null; prev = s, s = s.next) {
      if (!bytesEqual(s.cid, cid)) continue;
      if (value !== undefined && s.value !== value) return false;
      if (prev !== null) prev.next = s.next;
      else if (s.next !== null) this.table.set(key, s.next);
      else this.table.delete(key);
      this.count--;
      return true;
    }
    return false;
  }

  /** Every routed (cid, value) pair. */
  *entries(): IterableIterator<[Uint8Array, T]> {
    for (const head of this.table.values())
      for (let s: Slot<T> | null = head; s !== null; s = s.next) yield [s.cid, s.value];
  }
}
