/**
 * An in-memory TLS client ↔ server pair for handshake tests: no QUIC, the handshake bytes
 * of each level are shuttled between the two sessions flight by flight. A `tamper` hook sees
 * every handshake message in flight (one at a time) and may replace, drop or add bytes.
 *
 *   const pair = tlsPair({ server: { alpnProtocols: ['hq'] } });
 *   const result = drive(pair);            // { ok: true } or { ok: false, side, error }
 *   keysOf(pair.clientEvents)              // 'handshake/write' → secret, ...
 */
import assert from 'node:assert/strict';
import { nodeProvider } from '../../core/crypto/node.ts';
import type { CryptoProvider, KeyType } from '../../core/crypto/provider.ts';
import { QuicError } from '../../core/wire/errors.ts';
import { TlsAlert } from '../../core/tls/alerts.ts';
import { createClientSession, createServerSession } from '../../core/tls/index.ts';
import type {
  EncryptionLevel,
  TlsClientOptions,
  TlsEvent,
  TlsServerOptions,
  TlsSession,
} from '../../core/tls/index.ts';
import { TEST_NOW, testPki } from './certs.ts';

/** Which end of the pair. */
export type Side = 'client' | 'server';

/** One handshake message in flight, as the tamper hook sees it. */
export interface InFlight {
  readonly from: Side;
  readonly level: EncryptionLevel;
  /** The whole message (header included). */
  readonly data: Uint8Array;
  /** The index of this message among all messages `from` sent so far (0-based). */
  readonly index: number;
}

/** Bytes to deliver at a level (the tamper hook may move them to another level). */
export interface Delivery {
  readonly level: EncryptionLevel;
  readonly data: Uint8Array;
}

/**
 * Returns the bytes to deliver instead at the same level (possibly several messages, or
 * none), or a list of deliveries at levels of its choice.
 */
export type Tamper = (m: InFlight) => Uint8Array | null | readonly Delivery[];

/** The two sessions, every event each produced, and the virtual clock (ms). */
export interface TlsPair {
  client: TlsSession;
  server: TlsSession;
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  clientKeylog: string[];
  serverKeylog: string[];
  now: number;
  /** Every message sent so far, in order. */
  wire: InFlight[];
}

/** The outcome of `drive`. */
export type DriveResult = { ok: true } | { ok: false; side: Side; error: QuicError };

/** Options of `tlsPair`. */
export interface PairOptions {
  client?: Partial<TlsClientOptions>;
  server?: Partial<TlsServerOptions>;
  /** Provider of both sides unless overridden in client/server (default node). */
  provider?: CryptoProvider;
  /** The server's certificate key type (default ec-p256). */
  keyType?: KeyType;
  now?: number;
  clientTransportParameters?: Uint8Array;
  serverTransportParameters?: Uint8Array;
}

/** Stand-in transport parameters (opaque to TLS). */
export const CLIENT_TP = Uint8Array.from([0x01, 0x02, 0x75, 0x30]);
export const SERVER_TP = Uint8Array.from([0x01, 0x02, 0x27, 0x10, 0x0e, 0x01, 0x04]);

/** A client and server configured with the test PKI for `keyType`; options override. */
export function tlsPair(opts: PairOptions = {}): TlsPair {
  const keyType = opts.keyType ?? 'ec-p256';
  const serverProvider = opts.server?.provider ?? opts.provider ?? nodeProvider;
  const clientProvider = opts.client?.provider ?? opts.provider ?? nodeProvider;
  const pki = testPki(keyType, serverProvider);
  const clientKeylog: string[] = [];
  const serverKeylog: string[] = [];
  const client = createClientSession(
    {
      provider: clientProvider,
      alpnProtocols: ['h3'],
      serverName: 'localhost',
      trustAnchors: pki.roots,
      keylog: (l) => clientKeylog.push(l),
      ...opts.client,
    },
    opts.clientTransportParameters ?? CLIENT_TP,
  );
  const server = createServerSession(
    {
      provider: serverProvider,
      alpnProtocols: ['h3'],
      certificateChain: pki.chain,
      privateKey: pki.leaf.key,
      keylog: (l) => serverKeylog.push(l),
      ...opts.server,
    },
    opts.serverTransportParameters ?? SERVER_TP,
  );
  return {
    client,
    server,
    clientEvents: [],
    serverEvents: [],
    clientKeylog,
    serverKeylog,
    now: opts.now ?? TEST_NOW,
    wire: [],
  };
}

/** Splits a run of whole handshake messages (msg_type, uint24 length, body) into messages. */
export function splitMessages(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p + 4 <= data.length) {
    const len = (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    out.push(data.subarray(p, Math.min(data.length, p + 4 + len)));
    p += 4 + len;
  }
  if (p < data.length) out.push(data.subarray(p));
  return out;
}

function drain(session: TlsSession, log: TlsEvent[]): TlsEvent[] {
  const got: TlsEvent[] = [];
  for (let ev = session.poll(); ev !== null; ev = session.poll()) got.push(ev);
  log.push(...got);
  return got;
}

/**
 * Starts the client (if not started) and shuttles handshake data until both sides are
 * quiet or one throws. A QuicError is returned with the side that threw; any other throw
 * is a bug and propagates.
 */
export function drive(pair: TlsPair, tamper?: Tamper, start = true): DriveResult {
  const sent = { client: 0, server: 0 };
  const deliver = (from: Side, events: TlsEvent[]): DriveResult | null => {
    const to = from === 'client' ? pair.server : pair.client;
    for (const ev of events) {
      if (ev.kind !== 'handshake_data') continue;
      for (const data of splitMessages(ev.data)) {
        const m: InFlight = { from, level: ev.level, data, index: sent[from]++ };
        pair.wire.push(m);
        const out = tamper ? tamper(m) : data;
        const deliveries =
          out === null ? [] : out instanceof Uint8Array ? [{ level: ev.level, data: out }] : out;
        for (const d of deliveries) {
          if (d.data.length === 0) continue;
          try {
            to.receive(d.level, d.data, pair.now);
          } catch (e) {
            if (e instanceof QuicError)
              return { ok: false, side: from === 'client' ? 'server' : 'client', error: e };
            throw e;
          }
        }
      }
    }
    return null;
  };
  if (start) pair.client.start(pair.now);
  for (let round = 0; round < 20; round++) {
    const c = drain(pair.client, pair.clientEvents);
    const r1 = deliver('client', c);
    if (r1) return finish(pair, r1);
    const s = drain(pair.server, pair.serverEvents);
    const r2 = deliver('server', s);
    if (r2) return finish(pair, r2);
    if (c.length === 0 && s.length === 0) return { ok: true };
  }
  throw new Error('handshake did not settle in 20 rounds');
}

function finish(pair: TlsPair, r: DriveResult): DriveResult {
  drain(pair.client, pair.clientEvents);
  drain(pair.server, pair.serverEvents);
  return r;
}

/** Asserts that `r` is a failure on `side` with TLS alert `alert` (CRYPTO_ERROR 0x100 + alert). */
export function assertAlert(r: DriveResult, side: Side, alert: number, message?: RegExp): void {
  assert.equal(r.ok, false, 'the handshake should have failed');
  if (r.ok) return;
  assert.equal(r.side, side, `failed on ${r.side}: ${r.error.message}`);
  assert.ok(r.error instanceof TlsAlert, `not a TlsAlert: ${r.error.message}`);
  assert.equal(r.error.alert, alert, r.error.message);
  assert.equal(r.error.code, 0x100 + alert);
  if (message) assert.match(r.error.message, message);
}

/** Asserts that the handshake completed on both sides. */
export function assertComplete(pair: TlsPair, r: DriveResult): void {
  assert.ok(r.ok, r.ok ? '' : `${r.side} failed: ${r.error.message}`);
  assert.equal(pair.client.handshakeComplete, true, 'client not complete');
  assert.equal(pair.server.handshakeComplete, true, 'server not complete');
}

/** The 'keys' events of one side as 'level/direction' → secret (hex), in order. */
export function keysOf(events: readonly TlsEvent[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const ev of events) {
    if (ev.kind === 'keys') m.set(`${ev.level}/${ev.direction}`, Buffer.from(ev.secret).toString('hex'));
  }
  return m;
}

/** The 'message' events of one side as 'sent:type' / 'received:type', in order. */
export function messagesOf(events: readonly TlsEvent[]): string[] {
  const out: string[] = [];
  for (const ev of events) if (ev.kind === 'message') out.push(`${ev.direction}:${ev.type}`);
  return out;
}

/** The events of one kind. */
export function eventsOf<K extends TlsEvent['kind']>(
  events: readonly TlsEvent[],
  kind: K,
): Extract<TlsEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<TlsEvent, { kind: K }> => e.kind === kind);
}

/** The ticket the client received, or fails. */
export function ticketOf(pair: TlsPair): Extract<TlsEvent, { kind: 'ticket' }>['ticket'] {
  const t = eventsOf(pair.clientEvents, 'ticket');
  assert.equal(t.length, 1, 'expected one ticket');
  return t[0].ticket;
}
