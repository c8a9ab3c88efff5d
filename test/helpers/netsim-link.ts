/**
 * The network simulator's building blocks: a seeded PRNG (mulberry32), a time-ordered event heap
 * (ties broken by insertion order, so every run is reproducible), and one direction of a link
 * (delay, jitter, bandwidth with a bounded queue, random and burst loss, reordering, duplication,
 * corruption, path MTU, scripted drops) with its counters.
 */
import { isSupportedVersion, longPacketType } from '../../core/wire/version.ts';
import type { PacketType } from '../../core/wire/version.ts';

/** A UDP address (the same shape as the connection's `Address`). */
export interface Address {
  address: string;
  port: number;
}

/** Whether two addresses are the same. */
export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.address === b.address;
}

/** "address:port" for diagnostics. */
export function formatAddress(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

// ---------------------------------------------------------------------------------------------

/** A small, fast, seeded PRNG (mulberry32): never Math.random, so runs replay from their seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p` (draws nothing when p <= 0, so a 0 setting leaves the stream alone). */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** Fills `out` with pseudo-random bytes. */
  fill(out: Uint8Array): Uint8Array {
    const n = out.length;
    let i = 0;
    if (out.byteOffset % 4 === 0) {
      const words = new Uint32Array(out.buffer, out.byteOffset, n >>> 2);
      for (let j = 0; j < words.length; j++) words[j] = this.u32();
      i = words.length * 4;
    }
    for (; i < n; i += 4) {
      const v = this.u32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** An independent generator seeded from this one. */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

// ---------------------------------------------------------------------------------------------

interface HeapEntry<T> {
  time: number;
  seq: number;
  value: T;
}

/** A binary min-heap by (time, insertion order). */
export class EventQueue<T> {
  private heap: HeapEntry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, value: T): void {
    const h = this.heap;
    const e = { time, seq: this.seq++, value };
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  /** Time of the earliest event, Infinity when empty. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0].time : Infinity;
  }

  pop(): { time: number; value: T } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as HeapEntry<T>;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before<T>(a: HeapEntry<T>, b: HeapEntry<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

// ---------------------------------------------------------------------------------------------

/** Which way a datagram travels. */
export type Direction = 'c2s' | 's2c';

/** A datagram as the network sees it (what scripted drop rules are given). */
export interface SimDatagram {
  readonly dir: Direction;
  /** 0-based, in the order send() produced them in this direction. */
  readonly index: number;
  /** 0-based index of the sender's send burst (one flush of send() until null) that produced it. */
  readonly flight: number;
  /** The bytes (the network's own copy; rules must not modify or keep them). */
  readonly bytes: Uint8Array;
  /** Source as the receiver will see it (after NAT rewriting) and destination. */
  readonly from: Address;
  readonly to: Address;
  /** Virtual time send() returned it, and the time it enters the link (max(now, at)). */
  readonly sentAt: number;
  readonly departAt: number;
}

/** A scripted drop: true drops the datagram. Rules may keep state (e.g. "only the first"). */
export type DropRule = (d: SimDatagram) => boolean;

/** Gilbert-Elliott burst loss: a two-state Markov chain evaluated per datagram. */
export interface GilbertElliott {
  /** Probability of moving good → bad. */
  p: number;
  /** Probability of moving bad → good. */
  r: number;
  /** Loss probability in the good state (default 0). */
  lossGood?: number;
  /** Loss probability in the bad state (default 1). */
  lossBad?: number;
}

/** One direction of a link. Every field has a neutral default (a perfect 10 ms pipe). */
export interface LinkConfig {
  /** One-way propagation delay, ms. */
  delay: number;
  /** Extra delay drawn uniformly from [0, jitter) ms; FIFO order is kept. */
  jitter: number;
  /** Bottleneck rate in bytes/s; 0 means unlimited (no queue). */
  bandwidth: number;
  /** Bottleneck queue size in bytes: a datagram that does not fit is tail-dropped. */
  bufferBytes: number;
  /** Independent random loss probability. */
  loss: number;
  /** Burst loss on top of `loss`. */
  burst: GilbertElliott | null;
  /** Probability that a datagram is held back by `reorderDelay` ms (and may overtake none). */
  reorder: number;
  reorderDelay: number;
  /** Probability that a datagram is delivered twice (the copy `duplicateDelay` ms later). */
  duplicate: number;
  duplicateDelay: number;
  /** Probability that a datagram has `corruptBits` random bits flipped (in a copy). */
  corrupt: number;
  corruptBits: number;
  /** Largest UDP payload the path carries; larger datagrams are dropped. */
  mtu: number;
}

/** The defaults of a link direction. */
export const DEFAULT_LINK: Readonly<LinkConfig> = Object.freeze({
  delay: 10,
  jitter: 0,
  bandwidth: 0,
  bufferBytes: 256 * 1024,
  loss: 0,
  burst: null,
  reorder: 0,
  reorderDelay: 15,
  duplicate: 0,
  duplicateDelay: 0,
  corrupt: 0,
  corruptBits: 1,
  mtu: 65527,
});

/** Why the network did not deliver a datagram. */
export type DropReason = 'mtu' | 'script' | 'queue' | 'loss' | 'burst' | 'unroutable' | 'closed';

/** Counters of one direction. */
export interface LinkCounters {
  /** Handed to the link by the sender's send(). */
  sent: number;
  sentBytes: number;
  /** Given to the receiver's recv() (duplicates included, injected datagrams not). */
  delivered: number;
  deliveredBytes: number;
  dropped: Record<DropReason, number>;
  duplicated: number;
  corrupted: number;
  reordered: number;
}

/** Fresh zero counters. */
export function newCounters(): LinkCounters {
  return {
    sent: 0,
    sentBytes: 0,
    delivered: 0,
    deliveredBytes: 0,
    dropped: { mtu: 0, script: 0, queue: 0, loss: 0, burst: 0, unroutable: 0, closed: 0 },
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
  };
}

/** Total of the drop counters. */
export function totalDropped(c: LinkCounters): number {
  let n = 0;
  for (const v of Object.values(c.dropped)) n += v;
  return n;
}

/** One direction of the simulated path. */
export class Link {
  config: LinkConfig;
  readonly counters: LinkCounters = newCounters();
  /** Scripted drops, evaluated in order for every datagram (all of them: rules may count). */
  readonly rules: DropRule[] = [];
  /** The time the bottleneck finishes serialising what is queued. */
  private busyUntil = -Infinity;
  /** Latest arrival scheduled in order (jitter never reorders). */
  private lastArrival = -Infinity;
  private bad = false;

  constructor(
    readonly dir: Direction,
    config: Partial<LinkConfig>,
    private readonly rng: Rng,
  ) {
    this.config = { ...DEFAULT_LINK, ...config };
  }

  /** Changes settings from now on (e.g. loss that starts mid-run). */
  configure(change: Partial<LinkConfig>): void {
    this.config = { ...this.config, ...change };
  }

  /** Adds a scripted drop rule. */
  addRule(rule: DropRule): void {
    this.rules.push(rule);
  }

  /**
   * Runs `d` through the link at its departure time. `arrive` is called for each copy that gets
   * through (0, 1 or 2 times) with its arrival time and bytes (the receiver may modify them).
   */
  admit(d: SimDatagram, arrive: (d: SimDatagram, time: number, bytes: Uint8Array) => void): void {
    const c = this.config;
    const k = this.counters;
    const t = d.departAt;
    const size = d.bytes.length;
    k.sent++;
    k.sentBytes += size;
    if (size > c.mtu) return void k.dropped.mtu++;
    let scripted = false;
    for (const rule of this.rules) if (rule(d)) scripted = true;
    if (scripted) return void k.dropped.script++;
    // The bottleneck: a FIFO served at `bandwidth`, holding at most `bufferBytes`.
    let leave = t;
    if (c.bandwidth > 0) {
      const backlog = this.busyUntil > t ? ((this.busyUntil - t) * c.bandwidth) / 1000 : 0;
      if (backlog + size > c.bufferBytes) return void k.dropped.queue++;
      leave = Math.max(t, this.busyUntil) + (size * 1000) / c.bandwidth;
      this.busyUntil = leave;
    }
    if (c.burst !== null) {
      const b = c.burst;
      this.bad = this.bad ? !this.rng.chance(b.r) : this.rng.chance(b.p);
      if (this.rng.chance(this.bad ? (b.lossBad ?? 1) : (b.lossGood ?? 0))) return void k.dropped.burst++;
    }
    if (this.rng.chance(c.loss)) return void k.dropped.loss++;
    let at = leave + c.delay + (c.jitter > 0 ? this.rng.next() * c.jitter : 0);
    if (this.rng.chance(c.reorder)) {
      k.reordered++;
      at += c.reorderDelay;
    } else {
      at = Math.max(at, this.lastArrival);
      this.lastArrival = at;
    }
    let bytes = d.bytes;
    if (this.rng.chance(c.corrupt)) {
      k.corrupted++;
      bytes = bytes.slice();
      for (let i = 0; i < c.corruptBits && bytes.length > 0; i++) {
        bytes[this.rng.int(bytes.length)] ^= 1 << this.rng.int(8);
      }
    }
    const duplicate = this.rng.chance(c.duplicate);
    arrive(d, at, duplicate ? bytes.slice() : bytes);
    if (duplicate) {
      k.duplicated++;
      arrive(d, at + c.duplicateDelay, bytes);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Looking into datagrams (what a middlebox can see: long header types are not protected).

/**
 * The packet types coalesced in a datagram, as far as the headers can be read ([] for garbage).
 * A walk over the long headers' Length fields (RFC 9000 §12.2, §17.2) that never throws: this
 * runs on every datagram, garbage included.
 */
export function packetTypes(datagram: Uint8Array): PacketType[] {
  const types: PacketType[] = [];
  const end = datagram.length;
  let p = 0;
  while (p < end) {
    const first = datagram[p];
    if ((first & 0x80) === 0) {
      if ((first & 0x40) !== 0) types.push('1rtt'); // a short header runs to the end
      break;
    }
    if (p + 7 > end) break;
    const version =
      ((datagram[p + 1] << 24) | (datagram[p + 2] << 16) | (datagram[p + 3] << 8) | datagram[p + 4]) >>> 0;
    if (version === 0) {
      types.push('version_negotiation');
      break;
    }
    if (!isSupportedVersion(version) || (first & 0x40) === 0) break;
    const type = longPacketType(version, (first >> 4) & 3);
    if (type === null) break;
    let q = p + 5;
    const dcil = datagram[q++];
    q += dcil;
    if (dcil > 20 || q >= end) break;
    const scil = datagram[q++];
    q += scil;
    if (scil > 20 || q > end) break;
    if (type === 'retry') {
      types.push(type);
      break;
    }
    if (type === 'initial') {
      const token = varintAt(datagram, q);
      if (token === null) break;
      q += token.size + token.value;
    }
    const length = varintAt(datagram, q);
    if (length === null || q + length.size + length.value > end) break;
    types.push(type);
    p = q + length.size + length.value;
  }
  return types;
}

function varintAt(b: Uint8Array, p: number): { value: number; size: number } | null {
  if (p >= b.length) return null;
  const size = 1 << (b[p] >> 6);
  if (p + size > b.length) return null;
  let value = b[p] & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + b[p + i];
  return { value, size };
}

/** Whether the datagram carries a packet of `type`. */
export function hasPacketType(datagram: Uint8Array, type: PacketType): boolean {
  return packetTypes(datagram).includes(type);
}

// ---------------------------------------------------------------------------------------------
// Scripted drop rules.

/** Drops the datagrams with these 0-based indices (in this direction). */
export function dropIndices(...indices: number[]): DropRule {
  const set = new Set(indices);
  return (d) => set.has(d.index);
}

/** Drops every datagram from index `n` on (e.g. `dropFrom(1)`: all but the first). */
export function dropFrom(n: number): DropRule {
  return (d) => d.index >= n;
}

/** Drops every datagram of the sender's flight (send burst) `flight` (0: its first flight). */
export function dropFlight(flight: number): DropRule {
  return (d) => d.flight === flight;
}

/** Drops the first `count` datagrams that carry a packet of `type` (e.g. the client's first Initial). */
export function dropFirstOfType(type: PacketType, count = 1): DropRule {
  let left = count;
  return (d) => {
    if (left > 0 && hasPacketType(d.bytes, type)) {
      left--;
      return true;
    }
    return false;
  };
}

/** Drops the first `count` datagrams that satisfy `predicate` (evaluated only while some are left). */
export function dropFirstMatching(predicate: (d: SimDatagram) => boolean, count = 1): DropRule {
  let left = count;
  return (d) => {
    if (left > 0 && predicate(d)) {
      left--;
      return true;
    }
    return false;
  };
}

/** Drops every datagram while `predicate()` holds (e.g. a blackout window in virtual time). */
export function dropWhile(predicate: (d: SimDatagram) => boolean): DropRule {
  return predicate;
}
