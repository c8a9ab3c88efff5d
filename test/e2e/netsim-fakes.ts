/**
 * Trivial fake endpoints for the simulator's own tests (no QUIC): `Fake` sends what is put in its
 * outbox, records what it receives and fires scripted timers; `ToyStreams` carries one stream
 * chunk per datagram so the transfer driver can be tested without a real connection.
 */
import type { Address, SimConnection } from '../helpers/netsim.ts';
import type { StreamConnection } from '../helpers/netsim-transfer.ts';

export interface Received {
  bytes: Uint8Array;
  from: Address;
  to: Address;
  now: number;
}

/** A fake endpoint: sends what is put in its outbox, records what it receives, fires scripted timers. */
export class Fake implements SimConnection {
  outbox: { bytes: Uint8Array; to?: Address; at?: number }[] = [];
  inbox: Received[] = [];
  timers: number[] = [];
  fired: number[] = [];
  closed = false;
  onRecv: ((self: Fake, r: Received) => void) | null = null;
  onTimer: ((self: Fake, now: number) => void) | null = null;

  constructor(
    readonly local: Address,
    public peer: Address,
  ) {}

  recv(datagram: Uint8Array, info: { from: Address; to: Address }, now: number): number {
    const r = { bytes: datagram.slice(), from: info.from, to: info.to, now };
    this.inbox.push(r);
    this.onRecv?.(this, r);
    return datagram.length;
  }

  send(out: Uint8Array, now: number) {
    const m = this.outbox.shift();
    if (m === undefined) return null;
    out.set(m.bytes);
    return { length: m.bytes.length, from: this.local, to: m.to ?? this.peer, at: m.at ?? now };
  }

  timeout(): number | null {
    return this.timers.length > 0 ? this.timers[0] : null;
  }

  onTimeout(now: number): void {
    while (this.timers.length > 0 && this.timers[0] <= now) {
      this.timers.shift();
      this.fired.push(now);
      this.onTimer?.(this, now);
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  isEstablished(): boolean {
    return true;
  }
}

export const C: Address = { address: '10.0.0.1', port: 50_000 };
export const S: Address = { address: '10.0.0.2', port: 443 };

/** A datagram of `size` bytes whose first 4 bytes are `seq`. */
export function numbered(seq: number, size = 100): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, seq);
  return b;
}

export function seqOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(0);
}

// The transfer driver over a toy stream endpoint (FIFO lossless link only: it has no recovery).

/** A toy: each datagram carries one stream chunk: id (u32), fin (u8), data. Window-limited writes. */
export class ToyStreams extends Fake implements StreamConnection {
  private queue: { id: number; data: Uint8Array; fin: boolean }[] = [];
  private buffered = 0;
  private readonly recvd = new Map<number, { chunks: Uint8Array[]; fin: boolean }>();

  constructor(
    local: Address,
    peer: Address,
    private readonly window: number,
  ) {
    super(local, peer);
    this.onRecv = (_self, r) => {
      const id = new DataView(r.bytes.buffer).getUint32(0);
      const s = this.recvd.get(id) ?? { chunks: [], fin: false };
      s.chunks.push(r.bytes.subarray(5));
      s.fin ||= r.bytes[4] === 1;
      this.recvd.set(id, s);
    };
  }

  streamSend(id: number, data: Uint8Array, fin: boolean): number {
    if (data.length === 0) {
      if (fin) this.queue.push({ id, data, fin });
      return 0;
    }
    const n = Math.min(data.length, this.window - this.buffered);
    for (let off = 0; off < n; off += 1000) {
      const end = Math.min(n, off + 1000);
      this.queue.push({ id, data: data.subarray(off, end), fin: fin && n === data.length && end === n });
      this.buffered += end - off;
    }
    return n;
  }

  streamRecv(id: number, out: Uint8Array): { length: number; fin: boolean } | null {
    const s = this.recvd.get(id);
    if (s === undefined) return null;
    const c = s.chunks.shift();
    if (c === undefined) return null;
    out.set(c);
    return { length: c.length, fin: s.chunks.length === 0 && s.fin };
  }

  readable(): number[] {
    return [...this.recvd].filter(([, s]) => s.chunks.length > 0).map(([id]) => id);
  }

  override send(out: Uint8Array, now: number) {
    const m = this.queue.shift();
    if (m === undefined) return null;
    this.buffered -= m.data.length;
    new DataView(out.buffer).setUint32(0, m.id);
    out[4] = m.fin ? 1 : 0;
    out.set(m.data, 5);
    return { length: 5 + m.data.length, from: this.local, to: this.peer, at: now };
  }
}
