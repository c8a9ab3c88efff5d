/**
 * Session tickets (RFC 8446 §4.6.1) for QUIC resumption and 0-RTT (RFC 9001 §4.6):
 *
 * - the server's ticket: stateless, the resumption state sealed with AES-256-GCM under a key
 *   derived from the server's 32-byte ticket key (so any server holding the key can resume);
 * - `ReplayFilter`: the per-process anti-replay store for 0-RTT (RFC 8446 §8.1, single-use
 *   tickets): a bounded set of ticket identifiers already used for early data;
 * - the client's `SessionTicket` as bytes (`encodeSessionTicket` / `decodeSessionTicket`),
 *   so a CLI can keep it in a session file.
 *
 * Both carry the QUIC version of the connection that issued the ticket: tickets are specific to
 * it (RFC 9369 §5), the server refuses one from another version and the client does not offer
 * one (version-negotiation.ts `ticketForVersion`).
 */
import type { CryptoProvider } from '../crypto/provider.ts';
import { Reader, Writer, toHex } from '../wire/buffer.ts';
import type { SessionTicket } from './session.ts';

/** RFC 8446 §4.6.1: ticket lifetimes are at most 7 days (604800 s). */
export const MAX_TICKET_LIFETIME = 604_800;

/** max_early_data_size in a QUIC NewSessionTicket: the only allowed value (RFC 9001 §4.6.1). */
export const QUIC_MAX_EARLY_DATA = 0xffffffff;

// ---------------------------------------------------------------------------------------
// Float64 fields (times in ms on the caller's clock may be fractional or before 1970).

function writeF64(w: Writer, v: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  w.bytes(b);
}

function readF64(r: Reader): number {
  const b = r.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0);
}

// ---------------------------------------------------------------------------------------
// The server's sealed ticket.

/** What a server seals into a ticket: everything needed to accept the PSK and 0-RTT later. */
export interface TicketState {
  readonly cipherSuite: number;
  /** The resumption PSK (RFC 8446 §4.6.1). */
  readonly psk: Uint8Array;
  /** The ALPN protocol of the original connection (0-RTT needs the same, RFC 8446 §4.2.10). */
  readonly alpn: string;
  /** When the ticket was issued, on the server's clock (ms). */
  readonly createdAt: number;
  /** Seconds. */
  readonly lifetime: number;
  readonly ageAdd: number;
  /** Whether the ticket allows 0-RTT (it was sent with max_early_data_size 0xffffffff). */
  readonly earlyData: boolean;
  /** The server's opaque application data (the QUIC layer's transport parameters). */
  readonly appData: Uint8Array;
  /**
   * The QUIC version of the connection that issued the ticket (RFC 9369 §5), filled in by the
   * QUIC layer (TlsServerOptions.quicVersion); 0 when the session is not bound to one.
   */
  readonly quicVersion: number;
}

/** Format 2 added the QUIC version; format 1 tickets no longer open (a full handshake follows). */
const TICKET_FORMAT = 2;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const derivedKeys = new WeakMap<Uint8Array, Uint8Array>();
const INFO = new TextEncoder().encode('quicscope session ticket v1');

/** The AES-256-GCM key for tickets: HKDF-Expand(ticketKey, info, 32) (cached per key array). */
function sealingKey(provider: CryptoProvider, ticketKey: Uint8Array): Uint8Array {
  let k = derivedKeys.get(ticketKey);
  if (k === undefined) {
    if (ticketKey.length < 32) throw new RangeError('the ticket key must be at least 32 bytes');
    k = provider.hkdfExpand('sha256', ticketKey, INFO, 32);
    derivedKeys.set(ticketKey, k);
  }
  return k;
}

function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function fromLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/**
 * Seals `state` into an opaque ticket: format(1) || nonce(12) || AES-256-GCM(state) || tag(16),
 * the format byte as AAD; state = suite(2) || created(8) || lifetime(4) || age_add(4) ||
 * early_data(1) || quic_version(4) || psk<1> || alpn<1> || app_data<2>. The random nonce makes each ticket unique; it is the ticket's
 * identifier for the replay filter.
 */
export function sealTicket(provider: CryptoProvider, ticketKey: Uint8Array, state: TicketState): Uint8Array {
  const alpn = latin1(state.alpn);
  const size = 2 + 8 + 4 + 4 + 1 + 4 + 1 + state.psk.length + 1 + alpn.length + 2 + state.appData.length;
  const w = new Writer(new Uint8Array(size));
  w.u16(state.cipherSuite);
  writeF64(w, state.createdAt);
  w.u32(state.lifetime).u32(state.ageAdd >>> 0);
  w.u8(state.earlyData ? 1 : 0);
  w.u32(state.quicVersion >>> 0);
  w.vector(1, state.psk).vector(1, alpn).vector(2, state.appData);
  const nonce = provider.randomBytes(NONCE_LENGTH);
  const aad = Uint8Array.of(TICKET_FORMAT);
  const sealed = provider.aead('aes-256-gcm', sealingKey(provider, ticketKey)).seal(nonce, aad, w.buf);
  const out = new Uint8Array(1 + NONCE_LENGTH + sealed.length);
  out[0] = TICKET_FORMAT;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_LENGTH);
  return out;
}

/** An opened ticket and its identifier (for the replay filter). */
export interface OpenedTicket {
  readonly state: TicketState;
  /** Unique per ticket: the hex of its nonce. */
  readonly id: string;
}

/**
 * Opens a ticket sealed by `sealTicket` under `ticketKey`; null when it is not one of ours
 * (another key, another format, tampered): the server then ignores the PSK (RFC 8446 §4.2.11).
 */
export function openTicket(
  provider: CryptoProvider,
  ticketKey: Uint8Array,
  ticket: Uint8Array,
): OpenedTicket | null {
  if (ticket.length < 1 + NONCE_LENGTH + TAG_LENGTH || ticket[0] !== TICKET_FORMAT) return null;
  const nonce = ticket.subarray(1, 1 + NONCE_LENGTH);
  const aead = provider.aead('aes-256-gcm', sealingKey(provider, ticketKey));
  const plain = aead.open(nonce, ticket.subarray(0, 1), ticket.subarray(1 + NONCE_LENGTH));
  if (plain === null) return null;
  try {
    const r = new Reader(plain);
    const cipherSuite = r.u16();
    const createdAt = readF64(r);
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const earlyData = r.u8() === 1;
    const quicVersion = r.u32();
    const psk = r.vector(1).slice();
    const alpn = fromLatin1(r.vector(1));
    const appData = r.vector(2).slice();
    if (!r.done) return null;
    return {
      state: { cipherSuite, psk, alpn, createdAt, lifetime, ageAdd, earlyData, appData, quicVersion },
      id: toHex(nonce),
    };
  } catch {
    return null; // authenticated but unreadable: a format we do not know; ignore the PSK
  }
}

let processTicketKey: Uint8Array | null = null;

/**
 * The ticket key used when a server is given none: random, made once per process, so
 * sessions of one process resume each other and nothing survives a restart.
 */
export function defaultTicketKey(provider: CryptoProvider): Uint8Array {
  if (processTicketKey === null) processTicketKey = provider.randomBytes(32);
  return processTicketKey;
}

// ---------------------------------------------------------------------------------------
// Anti-replay for 0-RTT (RFC 8446 §8.1: single-use tickets).

/** Options of a ReplayFilter. */
export interface ReplayFilterOptions {
  /** The most ticket identifiers remembered at once (default 100 000). */
  readonly capacity?: number;
}

/**
 * The anti-replay store for 0-RTT (RFC 8446 §8.1): each ticket may carry early data once.
 * It remembers the identifiers of tickets already used for 0-RTT until the ticket itself
 * expires (after which the ticket is refused anyway). It is bounded: when full of unexpired
 * entries it refuses new ones (0-RTT is then rejected, never accepted unsafely).
 *
 * It is per process: servers sharing a ticket key across processes or machines need a
 * shared store for the same guarantee. Share one filter between every server session of
 * a process (TlsServerOptions.replayFilter); sessions given none share `defaultReplayFilter`.
 */
export class ReplayFilter {
  readonly capacity: number;
  /** Identifier → expiry time (ms, caller's clock), in insertion order. */
  private readonly seen = new Map<string, number>();

  constructor(options: ReplayFilterOptions = {}) {
    const capacity = options.capacity ?? 100_000;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
  }

  /** How many identifiers are remembered. */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `id` (valid until `expiresAt`) and returns true if it had not been seen; returns
   * false for a replay, or when the store is full of unexpired identifiers.
   */
  checkAndRecord(id: string, expiresAt: number, now: number): boolean {
    const prior = this.seen.get(id);
    if (prior !== undefined) {
      if (prior > now) return false;
      this.seen.delete(id); // expired entry: the ticket has expired too, but be exact
    }
    if (this.seen.size >= this.capacity) {
      this.purge(now);
      if (this.seen.size >= this.capacity) return false;
    }
    this.seen.set(id, expiresAt);
    return true;
  }

  /** Forgets identifiers whose tickets have expired at `now`. */
  purge(now: number): void {
    for (const [id, exp] of this.seen) if (exp <= now) this.seen.delete(id);
  }

  /** Forgets everything. */
  clear(): void {
    this.seen.clear();
  }
}

/** The filter shared by server sessions that are given none (one per process). */
export const defaultReplayFilter = new ReplayFilter();

// ---------------------------------------------------------------------------------------
// The client's SessionTicket as bytes (for a --session-file).

const MAGIC = [0x51, 0x53, 0x54, 0x4b]; // "QSTK"
/** Format 2 appends the QUIC version (u32, 0 = unknown); format 1 is still read (version unknown). */
const SESSION_FORMAT = 2;

/**
 * Encodes a client's SessionTicket as bytes: "QSTK", format 2, then every field (the server
 * name and transport parameters with a presence flag, the QUIC version last, 0 when unknown).
 * The PSK is a secret: store it as one.
 */
export function encodeSessionTicket(t: SessionTicket): Uint8Array {
  const sni = t.serverName === null ? null : new TextEncoder().encode(t.serverName);
  const alpn = latin1(t.alpn);
  const tp = t.transportParameters;
  const size =
    5 +
    1 +
    (sni ? 2 + sni.length : 0) +
    1 +
    alpn.length +
    2 +
    1 +
    t.psk.length +
    2 +
    t.ticket.length +
    4 +
    4 +
    8 +
    4 +
    1 +
    (tp ? 2 + tp.length : 0) +
    4;
  const w = new Writer(new Uint8Array(size));
  for (const m of MAGIC) w.u8(m);
  w.u8(SESSION_FORMAT);
  if (sni) w.u8(1).vector(2, sni);
  else w.u8(0);
  w.vector(1, alpn).u16(t.cipherSuite).vector(1, t.psk).vector(2, t.ticket);
  w.u32(t.lifetime).u32(t.ageAdd >>> 0);
  writeF64(w, t.receivedAt);
  w.u32(t.maxEarlyData >>> 0);
  if (tp) w.u8(1).vector(2, tp);
  else w.u8(0);
  w.u32((t.quicVersion ?? 0) >>> 0);
  return w.buf;
}

/**
 * Decodes `encodeSessionTicket`'s bytes (format 2, or format 1 whose QUIC version is unknown:
 * `quicVersion` absent); a RangeError says why a file is not a ticket.
 */
export function decodeSessionTicket(bytes: Uint8Array): SessionTicket {
  const r = new Reader(bytes);
  try {
    for (const m of MAGIC) if (r.u8() !== m) throw new RangeError('not a quicscope session ticket');
    const format = r.u8();
    if (format !== 1 && format !== SESSION_FORMAT)
      throw new RangeError(`unknown session ticket format ${format}`);
    const serverName = r.u8() === 1 ? new TextDecoder().decode(r.vector(2)) : null;
    const alpn = fromLatin1(r.vector(1));
    const cipherSuite = r.u16();
    const psk = r.vector(1).slice();
    const ticket = r.vector(2).slice();
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const receivedAt = readF64(r);
    const maxEarlyData = r.u32();
    const transportParameters = r.u8() === 1 ? r.vector(2).slice() : undefined;
    const quicVersion = format === 1 ? 0 : r.u32();
    if (!r.done) throw new RangeError('trailing bytes after the session ticket');
    const t: SessionTicket = {
      serverName,
      alpn,
      cipherSuite,
      psk,
      ticket,
      lifetime,
      ageAdd,
      receivedAt,
      maxEarlyData,
    };
    if (transportParameters !== undefined) t.transportParameters = transportParameters;
    if (quicVersion !== 0) t.quicVersion = quicVersion;
    return t;
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw new RangeError(`truncated session ticket: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}
