/**
 * The QUIC connection: a sans-IO state machine with a quiche-like API. Datagrams go in through
 * `recv`, come out of `send`, and time moves through `timeout` / `onTimeout`; nothing here opens
 * a socket, reads a clock or sets a timer. Bad input from the peer never throws out of recv,
 * send or onTimeout: it closes the connection with the RFC error code.
 */
import { isBidirectional, isLocallyInitiated, streamIndex, streamTypeOf } from '../stream/stream-id.ts';
import { DEFAULT_SEND_BUFFER } from '../stream/send-stream.ts';
import { StreamResetError, StreamStoppedError } from '../stream/state.ts';
import type { CertificateVerdict, SessionTicket } from '../tls/session.ts';
import { hex } from '../trace/format.ts';
import { MAX_VARINT } from '../wire/buffer.ts';
import type { TransportParameters } from '../wire/transport-params.ts';
import type { CidEvent } from './cid.ts';
import { closeLocally, closeOnError, enterClosed, onIdleTimeout } from './close.ts';
import type { Config } from './config.ts';
import { dgramMaxWritableLen, dgramRecv, dgramSend } from './datagram.ts';
import { onLossDetectionTimeout } from './delivery.ts';
import { installInitialKeys, startClientTls } from './handshake.ts';
import { buildDatagram, MIN_INITIAL_DATAGRAM } from './packetizer.ts';
import { startMigration } from './migration.ts';
import { onPathTimeout, pathTimer } from './path.ts';
import { recvDatagram } from './receiver.ts';
import { ConnState } from './state.ts';
import { buildStats } from './stats.ts';
import { streamStatsOf } from './stream-stats.ts';
import type { StreamStats } from './stream-stats.ts';
export type { RecvPartStats, SendPartStats, StreamStats } from './stream-stats.ts';
import type { Address, ConnectionErrorInfo, ConnectionStats, RecvInfo, SendInfo, TlsInfo } from './types.ts';
import { initClientVersion, ticketForVersion } from './version-negotiation.ts';

/** Why a stream call was refused (a caller's mistake or the stream's state). */
export type StreamErrorKind =
  | 'invalid_stream'
  | 'wrong_direction'
  | 'not_open'
  | 'stream_closed'
  | 'stopped'
  | 'reset'
  | 'connection_closed';

/** A stream call the application made that cannot be honoured (not a peer error). */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    readonly streamId: number,
    readonly kind: StreamErrorKind,
    message: string,
    /** The application error code for 'stopped' (peer's STOP_SENDING) and 'reset' (peer's RESET_STREAM). */
    readonly code: number | null = null,
  ) {
    super(message);
  }
}

/** Options of `connect` beyond the Config (per connection). */
export interface ConnectOptions {
  /** A ticket from an earlier connection's `sessionTicket()`, to resume (and 0-RTT if enabled). */
  sessionTicket?: SessionTicket | null;
  /** A NEW_TOKEN token from an earlier connection, sent in Initial packets (RFC 9000 §8.1.3). */
  token?: Uint8Array | null;
  /** Length of the random DCID of the first Initial (8..20; default 16). */
  initialDcidLength?: number;
}

/** Options of `accept` beyond the Config (per connection). */
export interface AcceptOptions {
  /**
   * The endpoint validated the client's address before the connection existed, with a NEW_TOKEN
   * token (the Acceptor's `addressValidated`): the 3x anti-amplification limit is lifted at once
   * (RFC 9000 §8.1, §8.1.3). A Retry (non-null `odcid`) validates it anyway.
   */
  addressValidated?: boolean;
}

const INTERNALS = new WeakMap<Connection, ConnState>();

/** The internal state of `conn` (for tests and tools in this repository; not a stable API). */
export function connectionState(conn: Connection): ConnState {
  return INTERNALS.get(conn) as ConnState;
}

function checkCid(cid: Uint8Array, what: string): void {
  if (!(cid instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (cid.length > 20) throw new RangeError(`${what} longer than 20 bytes`);
}

function checkAddress(a: Address, what: string): void {
  if (a === null || typeof a !== 'object' || typeof a.address !== 'string' || !Number.isInteger(a.port))
    throw new TypeError(`${what} must be { address: string, port: number }`);
}

/** Starts a client connection (RFC 9000 §7): the first send() returns the Initial with the ClientHello. */
export function connect(
  serverName: string | null,
  scid: Uint8Array,
  local: Address,
  peer: Address,
  config: Config,
  now: number,
  options: ConnectOptions = {},
): Connection {
  checkCid(scid, 'scid');
  checkAddress(local, 'local');
  checkAddress(peer, 'peer');
  const dcidLength = options.initialDcidLength ?? 16;
  if (!Number.isInteger(dcidLength) || dcidLength < 8 || dcidLength > 20)
    throw new RangeError('initialDcidLength must be 8..20'); // RFC 9000 §7.2
  const dcid = config.provider().randomBytes(dcidLength);
  const s = new ConnState(config, false, scid.slice(), dcid, local, peer, now, null);
  s.now = now;
  if (options.token) s.token = options.token.slice();
  // RFC 9368: the first flight's version (maybe one we do not speak, to provoke VN).
  initClientVersion(s);
  installInitialKeys(s, dcid);
  const conn = new Connection(s);
  traceStarted(s, now);
  startClientTls(s, serverName, ticketForVersion(s, options.sessionTicket ?? null), now);
  if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
  return conn;
}

/**
 * Accepts a server connection for a client's first Initial (which the caller then passes to
 * `recv`). `odcid` is the client's original DCID when the endpoint did Retry (then the Initial's
 * DCID was our Retry SCID), null otherwise.
 */
export function accept(
  scid: Uint8Array,
  odcid: Uint8Array | null,
  local: Address,
  peer: Address,
  config: Config,
  now: number,
  options: AcceptOptions = {},
): Connection {
  checkCid(scid, 'scid');
  if (odcid !== null) checkCid(odcid, 'odcid');
  checkAddress(local, 'local');
  checkAddress(peer, 'peer');
  if (config.certificateChain.length === 0 || config.privateKey(config.provider()) === null)
    throw new RangeError('a server Config needs setCertificateChain() and setPrivateKey()');
  const s = new ConnState(
    config,
    true,
    scid.slice(),
    new Uint8Array(0),
    local,
    peer,
    now,
    odcid?.slice() ?? null,
  );
  s.now = now;
  const conn = new Connection(s);
  traceStarted(s, now);
  if (options.addressValidated === true && !s.addressValidated) {
    // RFC 9000 §8.1.3: a valid NEW_TOKEN token validated the address: no amplification limit.
    s.addressValidated = true;
    if (s.trace) s.tracer.event(now, 'quic:connection_state_updated', { new: 'peer_validated' });
  }
  if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
  return conn;
}

function endpoint(a: Address, cid: Uint8Array) {
  const ids = cid.length > 0 ? [hex(cid)] : [];
  return a.address.includes(':')
    ? { ip_v6: a.address, port_v6: a.port, connection_ids: ids }
    : { ip_v4: a.address, port_v4: a.port, connection_ids: ids };
}

function traceStarted(s: ConnState, now: number): void {
  if (!s.trace) return;
  s.tracer.event(now, 'quic:connection_started', {
    local: endpoint(s.local, s.localCids.currentScid),
    remote: endpoint(s.peer, s.peerCids.dcid),
  });
  s.tracer.event(now, 'quic:connection_state_updated', { new: 'attempted' });
}

/** One QUIC connection (client or server). Create with `connect` or `accept`. */
export class Connection {
  private readonly s: ConnState;

  /** @internal Use `connect` or `accept`. */
  constructor(s: ConnState) {
    this.s = s;
    INTERNALS.set(this, s);
  }

  /** Whether this is the server side. */
  get isServer(): boolean {
    return this.s.isServer;
  }

  /**
   * Processes one received datagram; returns the bytes consumed (all of them). Header protection
   * is removed in place, so `datagram` is modified. Never throws for bad input.
   */
  recv(datagram: Uint8Array, info: RecvInfo, now: number): number {
    const s = this.s;
    s.now = now;
    // A subclass (Node's Buffer) may make slice() a view: the core's copies must be copies.
    const data =
      datagram.constructor === Uint8Array
        ? datagram
        : new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    try {
      return recvDatagram(s, data, info, now);
    } catch (e) {
      closeOnError(s, e, now);
      return datagram.length;
    }
  }

  /**
   * Writes the next datagram into `out` (at least 1200 bytes) and says where and when to send it;
   * null when there is nothing to send now.
   */
  send(out: Uint8Array, now: number): SendInfo | null {
    if (!(out instanceof Uint8Array) || out.length < MIN_INITIAL_DATAGRAM)
      throw new RangeError(`send buffer must hold at least ${MIN_INITIAL_DATAGRAM} bytes`);
    const s = this.s;
    s.now = now;
    try {
      return buildDatagram(s, out, now);
    } catch (e) {
      closeOnError(s, e, now);
      try {
        return buildDatagram(s, out, now);
      } catch {
        enterClosed(s, now);
        return null;
      }
    }
  }

  /** The absolute time (ms) of the next timer, or null when none is armed. */
  timeout(): number | null {
    const s = this.s;
    const p = s.phase;
    if (p.kind === 'closed') return null;
    if (p.kind === 'closing' || p.kind === 'draining') return p.until;
    let t = Infinity;
    const loss = s.recovery.getLossDetectionTimer();
    if (loss !== null) t = loss;
    if (s.idleDeadline !== null && s.idleDeadline < t) t = s.idleDeadline;
    for (const sp of s.spaces) {
      const d = sp.acks.ackDeadline;
      if (!sp.discarded && sp.acks.ackPending && d !== null && d < t) t = d;
    }
    const prev = s.oneRtt?.previousDiscardAt ?? null;
    if (prev !== null && prev < t) t = prev;
    const path = pathTimer(s);
    if (path !== null && path < t) t = path;
    const zeroRtt = s.zeroRttDiscardAt;
    if (zeroRtt !== null && zeroRtt < t) t = zeroRtt;
    return t === Infinity ? null : t;
  }

  /** Runs the timers due at `now` (loss detection, PTO, idle, closing/draining, key discard). */
  onTimeout(now: number): void {
    const s = this.s;
    s.now = now;
    try {
      const p = s.phase;
      if (p.kind === 'closed') return;
      if (p.kind === 'closing' || p.kind === 'draining') {
        if (now >= p.until) enterClosed(s, now);
        return;
      }
      if (s.idleDeadline !== null && now >= s.idleDeadline) {
        onIdleTimeout(s, now);
        return;
      }
      onLossDetectionTimeout(s, now);
      onPathTimeout(s, now);
      if (s.zeroRttDiscardAt !== null && now >= s.zeroRttDiscardAt) {
        s.zeroRttDiscardAt = null;
        s.zeroRttRead = null;
        if (s.trace)
          s.tracer.event(now, 'quic:key_discarded', { key_type: 'client_0rtt_secret', trigger: 'tls' });
      }
      // RFC 9000 §13.2.1: max_ack_delay is up: the ACK goes out with the next send().
      for (const sp of s.spaces) {
        const d = sp.acks.ackDeadline;
        if (d !== null && now >= d) {
          sp.acks.ackDeadline = null;
          sp.acks.ackImmediately = true;
        }
      }
      if (s.oneRtt !== null && s.oneRtt.onTimeout(now) && s.trace) {
        for (const side of ['client', 'server'] as const)
          s.tracer.event(now, 'quic:key_discarded', {
            key_type: `${side}_1rtt_secret`,
            key_phase: s.oneRtt.generation - 1,
          });
      }
    } catch (e) {
      closeOnError(s, e, now);
    }
  }

  // ---- streams ----

  private checkStreamId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id > MAX_VARINT)
      throw new StreamError(id, 'invalid_stream', `invalid stream ID ${id}`);
  }

  private streamFor(id: number, op: 'write' | 'read'): boolean {
    const s = this.s;
    this.checkStreamId(id);
    if (s.isClosingOrGone) throw new StreamError(id, 'connection_closed', 'the connection is closed');
    const role = s.isServer ? 'server' : 'client';
    const local = isLocallyInitiated(id, role);
    if (!isBidirectional(id) && local === (op === 'read'))
      throw new StreamError(
        id,
        'wrong_direction',
        `stream ${id} is ${local ? 'send' : 'receive'}-only for us`,
      );
    if (s.streams.get(id) !== undefined) return true;
    const type = streamTypeOf(id);
    if (local) {
      const next = s.streams.nextLocalId(type);
      if (op === 'write' && id === next) return false; // opened implicitly by the write
      if (id >= next) throw new StreamError(id, 'not_open', `stream ${id} is not open (next is ${next})`);
      throw new StreamError(id, 'stream_closed', `stream ${id} is closed`);
    }
    // A peer stream exists once the peer opened it (and is forgotten once finished).
    if (streamIndex(id) >= s.peerStreamsSeen[type === 'bidirectional' ? 0 : 1])
      throw new StreamError(id, 'not_open', `the peer has not opened stream ${id}`);
    throw new StreamError(id, 'stream_closed', `stream ${id} is closed`);
  }

  /**
   * Writes `data` to stream `id` (opening it when it is our next stream of its kind); returns the
   * bytes accepted, fewer (or 0) when flow control or the send buffer limits it. `fin` ends the
   * stream if all of `data` was accepted.
   */
  streamSend(id: number, data: Uint8Array, fin = false): number {
    const s = this.s;
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    if (!this.streamFor(id, 'write')) {
      if (s.streams.open(streamTypeOf(id)) === null) return 0; // peer's MAX_STREAMS: STREAMS_BLOCKED is due
    }
    try {
      return s.streams.write(id, data, fin);
    } catch (e) {
      if (e instanceof StreamStoppedError)
        throw new StreamError(id, 'stopped', e.message, e.byPeer ? e.errorCode : null);
      if (e instanceof RangeError) throw new StreamError(id, 'stream_closed', e.message);
      throw e;
    }
  }

  /** Reads from stream `id` into `out`; null when nothing is readable now. Throws StreamError('reset') after a RESET_STREAM. */
  streamRecv(id: number, out: Uint8Array): { length: number; fin: boolean } | null {
    const s = this.s;
    this.streamFor(id, 'read');
    try {
      return s.streams.read(id, out);
    } catch (e) {
      if (e instanceof StreamResetError) throw new StreamError(id, 'reset', e.message, e.errorCode);
      throw e;
    }
  }

  /** Stops reading ('read': STOP_SENDING) or abandons sending ('write': RESET_STREAM) with `code` (RFC 9000 §3.5). */
  streamShutdown(id: number, direction: 'read' | 'write', code: number): void {
    if (!Number.isInteger(code) || code < 0 || code > MAX_VARINT)
      throw new RangeError(`invalid error code ${code}`);
    const s = this.s;
    try {
      this.streamFor(id, direction);
    } catch (e) {
      if (e instanceof StreamError && e.kind === 'stream_closed') return;
      throw e;
    }
    if (direction === 'read') s.streams.stopSending(id, code);
    else s.streams.reset(id, code);
  }

  /** Streams with data (or an end, or a reset) to read. */
  readable(): number[] {
    return this.s.streams.readable();
  }

  /** Streams that accept writes now. */
  writable(): number[] {
    return this.s.streams.writable();
  }

  /** The next stream the peer opened that was not yet returned, or null. */
  acceptStream(): number | null {
    return this.s.streams.accept();
  }

  /** Whether everything on stream `id` has been read (or the stream is gone). */
  streamFinished(id: number): boolean {
    this.checkStreamId(id);
    const st = this.s.streams.get(id);
    if (st === undefined) return true;
    const r = st.recv;
    return r === null || r.state === 'data_read' || r.state === 'reset_read';
  }

  /** Bytes `streamSend(id, ...)` would accept now. */
  streamCapacity(id: number): number {
    const s = this.s;
    const conn = Math.max(0, s.streams.connSend.available);
    if (!this.streamFor(id, 'write')) {
      // Our next stream, not opened yet: what the peer's initial limits would allow it (in 0-RTT,
      // the remembered ones, RFC 9000 §7.4.1).
      const p = s.peerParams ?? s.rememberedParams;
      if (p === null || s.streams.openable(streamTypeOf(id)) === 0) return 0;
      const credit = isBidirectional(id) ? p.initialMaxStreamDataBidiRemote : p.initialMaxStreamDataUni;
      return Math.min(credit, DEFAULT_SEND_BUFFER, conn);
    }
    const send = s.streams.get(id)?.send;
    return send ? Math.min(send.capacity(), conn) : 0;
  }
  /** A snapshot of stream `id`'s states and counters (stream-stats.ts); null when it is not held. */
  streamStats(id: number): StreamStats | null {
    const st = this.s.streams.get(id);
    return st === undefined ? null : streamStatsOf(st);
  }

  /** Snapshots of every stream held (opened and not yet forgotten), oldest first. */
  streams(): StreamStats[] {
    return Array.from(this.s.streams.values(), streamStatsOf);
  }

  // ---- closing ----

  /** Closes the connection with an application (`app`) or transport error code (RFC 9000 §10.2). */
  close(app: boolean, code: number, reason: string): void {
    if (!Number.isInteger(code) || code < 0 || code > MAX_VARINT)
      throw new RangeError(`invalid error code ${code}`);
    const s = this.s;
    closeLocally(s, app, code, String(reason), 0, s.now, app ? 'application' : 'error');
  }

  /** RFC 9001 §6: asks for a key update (sent when allowed). Returns whether one can start now. */
  initiateKeyUpdate(): boolean {
    const s = this.s;
    s.keyUpdateRequested = true;
    return s.handshakeConfirmed && s.oneRtt !== null && s.oneRtt.canInitiate;
  }

  /**
   * Client: migrates the connection to the local address `local` (RFC 9000 §9.2). The new path is
   * probed first (PATH_CHALLENGE from `local`, with a server CID not used on any other path, §9.5)
   * while data keeps flowing on the current path; once the PATH_RESPONSE arrives, every datagram
   * leaves from `local` (`SendInfo.from`), and congestion control and RTT start afresh unless only
   * the port changed (§9.4). If validation times out (§8.2.4) the connection stays where it was
   * (`stats().migrationsFailed`). Throws MigrationError when refused: not a client, handshake not
   * confirmed, the server's disable_active_migration, no spare CID, a zero-length server CID.
   * The endpoint sends each datagram from its `SendInfo.from`, and passes datagrams received on
   * `local` (and, for a while, on the old address: §9.3.3 probes) with `RecvInfo.to` set to it.
   */
  migrate(local: Address, now: number): void {
    checkAddress(local, 'local');
    const s = this.s;
    s.now = now;
    startMigration(s, local, now);
  }

  /** Server: queues a NEW_TOKEN for the client (RFC 9000 §8.1.3; the endpoint mints it). */
  sendNewToken(token: Uint8Array): void {
    if (!this.s.isServer) throw new RangeError('only a server sends NEW_TOKEN');
    if (!(token instanceof Uint8Array) || token.length === 0)
      throw new RangeError('a NEW_TOKEN token is non-empty');
    this.s.pendingNewTokens.push(token.slice());
  }

  // ---- state ----

  isEstablished(): boolean {
    return this.s.handshakeComplete;
  }

  isInEarlyData(): boolean {
    const s = this.s;
    if (s.handshakeComplete) return false;
    return s.isServer ? s.zeroRttRead !== null : s.zeroRttWrite !== null;
  }

  isResumed(): boolean {
    return this.s.tls?.resumed ?? false;
  }

  isDraining(): boolean {
    return this.s.phase.kind === 'draining';
  }

  isClosed(): boolean {
    return this.s.phase.kind === 'closed';
  }

  isTimedOut(): boolean {
    return this.s.timedOut;
  }

  /** The error in the peer's CONNECTION_CLOSE (or its stateless reset), if any. */
  peerError(): ConnectionErrorInfo | null {
    return this.s.peerError;
  }

  /** The error we closed with, if any. */
  localError(): ConnectionErrorInfo | null {
    return this.s.localError;
  }

  /** The negotiated ALPN protocol, or null. */
  applicationProto(): string | null {
    return this.s.alpn;
  }

  /** The peer's certificate chain (DER, leaf first), empty when none was received. */
  peerCertificateChain(): readonly Uint8Array[] {
    return this.s.peerCertificates;
  }
  /** The verdict on the peer's chain, also when it was rejected; null before one was checked. */
  peerCertificateVerdict(): CertificateVerdict | null {
    return this.s.certificateVerdict;
  }

  /** Our current source connection ID. */
  sourceId(): Uint8Array {
    return this.s.localCids.currentScid;
  }

  /** The destination connection ID we send with. */
  destinationId(): Uint8Array {
    return this.s.peerCids.dcid;
  }

  /** Every active CID we issued (an endpoint routes by these). */
  sourceIds(): Uint8Array[] {
    return this.s.localCids.cids();
  }

  /** The next CID event (issued / retired) for the endpoint's routing table, or null. */
  pollCidEvent(): CidEvent | null {
    return this.s.localCids.events.shift() ?? null;
  }

  /** The most recent session ticket received (client), for resumption; null before one arrives. */
  sessionTicket(): SessionTicket | null {
    const t = this.s.tickets;
    return t.length > 0 ? t[t.length - 1] : null;
  }

  /** The latest NEW_TOKEN token received (client), for the next connection's `token` option. */
  newToken(): Uint8Array | null {
    return this.s.newToken;
  }

  peerTransportParameters(): TransportParameters | null {
    return this.s.peerParams;
  }

  localTransportParameters(): TransportParameters | null {
    return this.s.localParams;
  }

  /** What TLS negotiated. */
  tlsInfo(): TlsInfo {
    const s = this.s;
    const tls = s.tls;
    return {
      cipherSuite: s.cipherSuiteName,
      group: tls?.group ?? null,
      alpn: s.alpn,
      resumed: tls?.resumed ?? false,
      earlyData: s.earlyData,
      serverName: tls?.serverName ?? null,
    };
  }

  /** Counters and recovery figures. */
  stats(): ConnectionStats {
    return buildStats(this.s);
  }

  // ---- datagrams (RFC 9221, datagram.ts) ----

  /** Queues an unreliable datagram; false when the send queue is full. Throws DatagramError (disabled, unsupported by the peer, too large, closed). */
  dgramSend(data: Uint8Array): boolean {
    return dgramSend(this.s, data);
  }

  /** Copies the oldest received datagram into `out` and returns its length; null when none (RangeError if `out` is too small). */
  dgramRecv(out: Uint8Array): number | null {
    return dgramRecv(this.s, out);
  }

  /** The length of the next received datagram, or null. */
  dgramRecvFrontLen(): number | null {
    return this.s.dgram?.recv.peek()?.length ?? null;
  }

  /** Received datagrams waiting, and datagrams waiting to be sent. */
  dgramQueueLengths(): { recv: number; send: number } {
    const q = this.s.dgram;
    return { recv: q?.recv.length ?? 0, send: q?.send.length ?? 0 };
  }

  /** The largest datagram dgramSend accepts now (peer's limit, current PMTU), null when it accepts none. */
  dgramMaxWritableLen(): number | null {
    return dgramMaxWritableLen(this.s);
  }

  /** The maximum datagram size now in use (UDP payload bytes; PMTUD moves it, RFC 9000 §14). */
  pmtu(): number {
    return this.s.maxDatagramSize;
  }
}
