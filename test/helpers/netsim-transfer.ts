/**
 * Application drivers for the simulator: `handshake(sim)` and `transfer(sim, options)`, which
 * writes pseudo-random data on streams as flow control allows and reads it at the other end,
 * hashing both sides incrementally (SHA-256), so that a 50 MB transfer needs no 50 MB buffer.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Rng } from './netsim-link.ts';
import type { RunOptions, Side, Sim, SimConnection } from './netsim.ts';

/** What the transfer driver needs of a connection besides the sans-IO core. */
export interface StreamConnection extends SimConnection {
  streamSend(id: number, data: Uint8Array, fin: boolean): number;
  streamRecv(id: number, out: Uint8Array): { length: number; fin: boolean } | null;
  readable(): Iterable<number>;
}

/** The stream id of the `index`-th stream of a kind (RFC 9000 §2.1: two low bits = type). */
export function streamId(index: number, initiator: Side, uni: boolean): number {
  return index * 4 + (initiator === 'server' ? 1 : 0) + (uni ? 2 : 0);
}

/** Runs until both sides report the handshake complete; returns the virtual ms it took. */
export function handshake<C extends SimConnection>(
  sim: Sim<C>,
  options: Omit<RunOptions<C>, 'until'> = {},
): number {
  const start = sim.now;
  sim.run({
    maxTime: 60_000,
    ...options,
    what: options.what ?? 'the handshake',
    until: (s) =>
      s.client.conn !== null &&
      s.server.conn !== null &&
      s.client.conn.isEstablished() &&
      s.server.conn.isEstablished(),
  });
  return sim.now - start;
}

/** What to transfer. */
export interface TransferOptions<C extends StreamConnection = StreamConnection> {
  /** Bytes per stream. */
  bytes: number;
  /** Streams per sending side (default 1). */
  streams?: number;
  /** Who sends (default client to server); 'both' sends the same amount each way at once. */
  direction?: 'c2s' | 's2c' | 'both';
  /** Unidirectional streams (default bidirectional: the sender opens its own bidi streams). */
  uni?: boolean;
  /** Index of the first stream of its kind (default 0): a second transfer continues on new streams. */
  firstIndex?: number;
  /** Bytes per streamSend call (default 64 KiB). */
  chunk?: number;
  /** Seed of the data (default 1). */
  seed?: number;
  /** On a peer's bidi stream, send FIN back once everything is read, so the stream fully closes (default true). */
  finishReverse?: boolean;
  /** Keep running after the data is in until this holds (e.g. everything acknowledged). */
  thenUntil?: (sim: Sim<C>) => boolean;
  /** Classifies a throw from streamSend as "cannot open this stream yet" (stream limit); others fail. */
  isBlocked?: (error: unknown) => boolean;
  /** Whether our stream `id` is open: checked after an empty FIN, which a stream limit may refuse silently. */
  streamOpened?: (conn: C, id: number) => boolean;
  maxTime?: number;
  maxEvents?: number;
}

/** The outcome of one stream. */
export interface StreamResult {
  id: number;
  sender: Side;
  sent: number;
  received: number;
  sentHash: string;
  receivedHash: string;
  fin: boolean;
}

/** The outcome of a transfer. */
export interface TransferResult {
  streams: StreamResult[];
  /** Bytes read by the receivers, all streams. */
  received: number;
  /** Virtual ms from the start of the transfer to the last byte read. */
  duration: number;
  /** Whether every stream arrived complete with equal hashes. */
  intact: boolean;
}

interface Sender {
  readonly id: number;
  readonly side: Side;
  readonly total: number;
  readonly rng: Rng;
  readonly hash: Hash;
  written: number;
  pending: Uint8Array | null;
  /** The FIN was accepted (sent with the last bytes, or alone for an empty stream). */
  finished: boolean;
  sentHash: string;
}

interface Receiver {
  readonly id: number;
  readonly hash: Hash;
  received: number;
  fin: boolean;
  receivedHash: string;
}

const EMPTY = new Uint8Array(0);

/** Transfers data over streams and checks it; fails loudly (SimError) when it cannot complete. */
export function transfer<C extends StreamConnection>(
  sim: Sim<C>,
  options: TransferOptions<C>,
): TransferResult {
  const direction = options.direction ?? 'c2s';
  const uni = options.uni ?? false;
  const count = options.streams ?? 1;
  const first = options.firstIndex ?? 0;
  const chunk = options.chunk ?? 64 * 1024;
  const seed = options.seed ?? 1;
  const finishReverse = options.finishReverse ?? true;
  const sides: Side[] =
    direction === 'both' ? ['client', 'server'] : [direction === 'c2s' ? 'client' : 'server'];

  const senders: Sender[] = [];
  const receivers = new Map<number, Receiver>();
  for (const side of sides) {
    for (let i = first; i < first + count; i++) {
      const id = streamId(i, side, uni);
      senders.push({
        id,
        side,
        total: options.bytes,
        rng: new Rng((seed * 0x9e3779b1 + id * 0x85ebca6b) >>> 0),
        hash: createHash('sha256'),
        written: 0,
        pending: null,
        finished: false,
        sentHash: '',
      });
      receivers.set(id, { id, hash: createHash('sha256'), received: 0, fin: false, receivedHash: '' });
    }
  }
  const active: Record<Side, Sender[]> = {
    client: senders.filter((s) => s.side === 'client'),
    server: senders.filter((s) => s.side === 'server'),
  };
  const reverseFins: Record<Side, number[]> = { client: [], server: [] };
  let done = 0;
  const start = sim.now;
  let end = start;
  const readBuffer = new Uint8Array(64 * 1024);

  const write = (side: Side): void => {
    const conn = sim.endpoint(side).conn;
    const list = active[side];
    if (conn === null || conn.isClosed()) return;
    let k = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      let outcome: ReturnType<typeof writeStream>;
      try {
        outcome = writeStream(conn, s, chunk, options.isBlocked, options.streamOpened);
      } catch (e) {
        sim.fail(`the ${side}'s streamSend(${s.id}) threw ${String(e)}`, e);
      }
      if (!s.finished) list[k++] = s;
      // Streams open in order (RFC 9000 §2.1): when one cannot open yet, the later ones cannot either.
      if (outcome === 'limit') {
        for (i++; i < list.length; i++) list[k++] = list[i];
      }
    }
    list.length = k;
    const fins = reverseFins[side];
    while (fins.length > 0) {
      const id = fins[0];
      try {
        conn.streamSend(id, EMPTY, true);
      } catch (e) {
        sim.fail(`the ${side}'s streamSend(${id}, FIN) on the peer's stream threw ${String(e)}`, e);
      }
      fins.shift();
    }
  };

  const read = (side: Side): void => {
    const conn = sim.endpoint(side).conn;
    if (conn === null || conn.isClosed()) return;
    for (const id of [...conn.readable()]) {
      const r = receivers.get(id);
      if (r === undefined) continue; // not ours (e.g. another test's stream)
      for (;;) {
        let got: { length: number; fin: boolean } | null;
        try {
          got = conn.streamRecv(id, readBuffer);
        } catch (e) {
          sim.fail(`the ${side}'s streamRecv(${id}) threw ${String(e)}`, e);
        }
        if (got === null) break;
        if (got.length > 0) {
          if (r.fin) sim.fail(`the ${side} read ${got.length} bytes on stream ${id} after its FIN`);
          r.hash.update(readBuffer.subarray(0, got.length));
          r.received += got.length;
        }
        if (got.fin && !r.fin) {
          r.fin = true;
          r.receivedHash = r.hash.digest('hex');
          done++;
          end = sim.now;
          // A peer's bidi stream: close our half too, so the stream is done on both sides.
          if (!uni && finishReverse) reverseFins[side].push(id);
          break;
        }
        if (got.length === 0) break;
      }
    }
  };

  const remove = sim.addApp(() => {
    read('client');
    read('server');
    write('client');
    write('server');
  });
  try {
    sim.run({
      maxTime: options.maxTime,
      maxEvents: options.maxEvents,
      what: `the transfer (${done}/${receivers.size} streams complete)`,
      until: () =>
        done === receivers.size && reverseFins.client.length === 0 && reverseFins.server.length === 0,
    });
    if (options.thenUntil !== undefined) {
      sim.run({
        maxTime: options.maxTime,
        maxEvents: options.maxEvents,
        what: 'the condition after the transfer',
        until: options.thenUntil,
      });
    }
  } finally {
    remove();
  }

  const streams: StreamResult[] = senders.map((s) => {
    const r = receivers.get(s.id)!;
    return {
      id: s.id,
      sender: s.side,
      sent: s.written,
      received: r.received,
      sentHash: s.sentHash,
      receivedHash: r.receivedHash,
      fin: r.fin,
    };
  });
  let received = 0;
  for (const r of receivers.values()) received += r.received;
  const intact = streams.every((s) => s.fin && s.sent === s.received && s.sentHash === s.receivedHash);
  return { streams, received, duration: end - start, intact };
}

/** Writes as much of one stream as the connection takes; 'limit' when the stream cannot open yet. */
function writeStream<C extends StreamConnection>(
  conn: C,
  s: Sender,
  chunk: number,
  isBlocked: ((e: unknown) => boolean) | undefined,
  opened: ((conn: C, id: number) => boolean) | undefined,
): 'blocked' | 'limit' | 'done' {
  for (;;) {
    if (s.pending === null) {
      const left = s.total - s.written;
      if (left === 0) {
        // Empty stream, or the FIN did not fit with the last bytes: send it alone.
        const r = trySend(conn, s.id, EMPTY, true, isBlocked);
        if (r < 0 || (s.written === 0 && opened !== undefined && !opened(conn, s.id))) return 'limit';
        finish(s);
        return 'done';
      }
      s.pending = s.rng.fill(new Uint8Array(Math.min(chunk, left))); // fresh: the connection may keep it
    }
    const data = s.pending;
    const last = s.written + data.length === s.total;
    const accepted = trySend(conn, s.id, data, last, isBlocked);
    if (accepted < 0) return 'limit';
    if (accepted > data.length)
      throw new RangeError(`streamSend accepted ${accepted} of ${data.length} bytes`);
    if (accepted > 0) {
      s.hash.update(data.subarray(0, accepted));
      s.written += accepted;
    }
    if (accepted === data.length) {
      s.pending = null;
      if (last) {
        finish(s);
        return 'done';
      }
      continue;
    }
    s.pending = data.subarray(accepted);
    return 'blocked';
  }
}

function trySend(
  conn: StreamConnection,
  id: number,
  data: Uint8Array,
  fin: boolean,
  isBlocked: ((e: unknown) => boolean) | undefined,
): number {
  try {
    return conn.streamSend(id, data, fin);
  } catch (e) {
    if (isBlocked?.(e) === true) return -1;
    throw e;
  }
}

function finish(s: Sender): void {
  s.finished = true;
  s.sentHash = s.hash.digest('hex');
}

/** The SHA-256 of `n` bytes of the data `transfer` sends on stream `id` with `seed` (for spot checks). */
export function expectedHash(n: number, id: number, seed = 1, chunk = 64 * 1024): string {
  const rng = new Rng((seed * 0x9e3779b1 + id * 0x85ebca6b) >>> 0);
  const h = createHash('sha256');
  for (let done = 0; done < n;) {
    const part = rng.fill(new Uint8Array(Math.min(chunk, n - done)));
    h.update(part);
    done += part.length;
  }
  return h.digest('hex');
}
