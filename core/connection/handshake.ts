/**
 * The handshake driver (RFC 9001 §4): starts the TLS session with our transport parameters,
 * turns its events into CRYPTO data, packet keys, ALPN, certificates and tickets, checks the
 * peer's transport parameters (RFC 9000 §7.3, §7.4), and discards keys as the handshake moves on
 * (RFC 9001 §4.9, RFC 9002 §6.4).
 */
import { initialKeys } from '../crypto/initial.ts';
import { HandshakeType, cipherSuiteParams } from '../tls/constants.ts';
import { createClientSession, createServerSession } from '../tls/index.ts';
import type { EncryptionLevel, SessionTicket, TlsEvent } from '../tls/session.ts';
import { alpnIdentifier, tlsMessageTypeName } from '../trace/format.ts';
import type { ConnectionState, KeyType } from '../trace/events.ts';
import { Reader, Writer, bytesEqual } from '../wire/buffer.ts';
import { QuicError, TransportError, protocolViolation } from '../wire/errors.ts';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  transportParametersToQlog,
} from '../wire/transport-params.ts';
import type { TransportParameters } from '../wire/transport-params.ts';
import { greaseTransportParameter } from './grease.ts';
import { OneRttKeys } from './key-phase.ts';
import { preferredAddressParameter, startPreferredAddress } from './migration.ts';
import { startPmtud } from './pmtud-probe.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import {
  collectClientHello,
  localVersionInformation,
  traceVersionInformation,
  validatePeerVersionInformation,
} from './version-negotiation.ts';

const LEVEL_SPACE: Record<EncryptionLevel, PacketNumberSpace> = {
  initial: PacketNumberSpace.Initial,
  handshake: PacketNumberSpace.Handshake,
  early: PacketNumberSpace.ApplicationData,
  application: PacketNumberSpace.ApplicationData,
};

const QLOG_LEVEL = {
  initial: 'initial',
  handshake: 'handshake',
  early: '0RTT',
  application: '1RTT',
} as const;

/** Our transport parameters (RFC 9000 §18.2, §7.3). */
export function localTransportParameters(s: ConnState): TransportParameters {
  const c = s.config;
  const p = defaultTransportParameters();
  p.maxIdleTimeout = c.maxIdleTimeout;
  p.maxUdpPayloadSize = c.maxUdpPayloadSize;
  p.initialMaxData = c.initialMaxData;
  p.initialMaxStreamDataBidiLocal = c.initialMaxStreamDataBidiLocal;
  p.initialMaxStreamDataBidiRemote = c.initialMaxStreamDataBidiRemote;
  p.initialMaxStreamDataUni = c.initialMaxStreamDataUni;
  p.initialMaxStreamsBidi = c.initialMaxStreamsBidi;
  p.initialMaxStreamsUni = c.initialMaxStreamsUni;
  p.ackDelayExponent = c.ackDelayExponent;
  p.maxAckDelay = c.maxAckDelay;
  p.activeConnectionIdLimit = c.activeConnectionIdLimit;
  p.disableActiveMigration = c.disableActiveMigration;
  // RFC 9000 §9.6, §18.2: a server's preferred address, with the CID of sequence number 1.
  if (s.isServer) p.preferredAddress = preferredAddressParameter(s);
  // RFC 9221 §3: DATAGRAM support; RFC 9287 §3: grease_quic_bit (we accept a 0 QUIC bit).
  if (c.dgramQueues !== null) p.maxDatagramFrameSize = c.maxDatagramFrameSize;
  p.greaseQuicBit = c.grease;
  p.initialSourceConnectionId = s.localCids.cids()[0] ?? new Uint8Array(0);
  if (s.isServer) {
    // RFC 9000 §7.3: the server echoes the client's first DCID and, after a Retry, the DCID the
    // client used after it.
    p.originalDestinationConnectionId = s.originalDcid;
    if (s.didRetry) p.retrySourceConnectionId = s.clientInitialDcid;
    // RFC 9000 §10.3: the reset token of the CID in initial_source_connection_id (sequence 0).
    if (s.localCids.cidLength > 0) p.statelessResetToken = s.localCids.initialToken();
  }
  // RFC 9368 §3, RFC 9369 §4: both sides send version_information.
  p.versionInformation = localVersionInformation(s);
  return p;
}

function encodeParams(s: ConnState, p: TransportParameters, role: 'client' | 'server'): Uint8Array {
  const w = new Writer(new Uint8Array(1024));
  // RFC 9000 §18.1: now and then a reserved parameter the peer must ignore (grease.ts).
  const grease = s.config.grease ? greaseTransportParameter(s.provider) : undefined;
  encodeTransportParameters(w, p, role, { grease });
  return w.written().slice();
}

/** Installs the Initial keys derived from `dcid` (RFC 9001 §5.2). */
export function installInitialKeys(s: ConnState, dcid: Uint8Array): void {
  const k = initialKeys(s.provider, s.version, dcid);
  const space = s.spaces[PacketNumberSpace.Initial];
  space.readKeys = s.isServer ? k.client : k.server;
  space.writeKeys = s.isServer ? k.server : k.client;
}

/** Client: starts TLS (the ClientHello goes into the Initial CRYPTO stream). */
export function startClientTls(
  s: ConnState,
  serverName: string | null,
  ticket: SessionTicket | null,
  now: number,
): void {
  const c = s.config;
  s.localParams = localTransportParameters(s);
  traceParameters(s, s.localParams, 'local', now);
  if (ticket !== null && c.earlyData && ticket.transportParameters !== undefined) {
    // RFC 9000 §7.4.1: 0-RTT uses the server's remembered parameters.
    try {
      const remembered = decodeTransportParameters(ticket.transportParameters, 'server');
      s.streams.setPeerLimits(remembered);
      s.rememberedParams = remembered;
      s.peerAckDelayExponent = remembered.ackDelayExponent;
      if (s.trace) {
        const q = transportParametersToQlog(remembered);
        s.tracer.event(now, 'quic:parameters_restored', {
          initial_max_data: q.initial_max_data,
          initial_max_stream_data_bidi_local: q.initial_max_stream_data_bidi_local,
          initial_max_stream_data_bidi_remote: q.initial_max_stream_data_bidi_remote,
          initial_max_stream_data_uni: q.initial_max_stream_data_uni,
          initial_max_streams_bidi: q.initial_max_streams_bidi,
          initial_max_streams_uni: q.initial_max_streams_uni,
          active_connection_id_limit: q.active_connection_id_limit,
        });
      }
    } catch {
      // Unusable remembered parameters: resume without them (no 0-RTT stream credit).
    }
  }
  s.tls = createClientSession(
    {
      provider: s.provider,
      alpnProtocols: c.alpn,
      cipherSuites: c.cipherSuites ?? undefined,
      groups: c.groups ?? undefined,
      keylog: c.keylog ?? undefined,
      serverName,
      verifyPeer: c.verify,
      trustAnchors: () => c.trustAnchors(),
      ticket,
      enableEarlyData: c.earlyData,
    },
    encodeParams(s, s.localParams, 'client'),
  );
  s.tls.start(now);
  processTlsEvents(s, now);
}

/** Server: starts TLS when the first Initial arrives (its DCID completes our parameters). */
export function startServerTls(s: ConnState, now: number): void {
  const c = s.config;
  const key = c.privateKey(s.provider);
  if (key === null || c.certificateChain.length === 0) {
    throw new QuicError(TransportError.INTERNAL_ERROR, 'server has no certificate chain or private key');
  }
  s.localParams = localTransportParameters(s);
  traceParameters(s, s.localParams, 'local', now);
  const limits = earlyDataLimits(s.localParams);
  s.tls = createServerSession(
    {
      provider: s.provider,
      alpnProtocols: c.alpn,
      cipherSuites: c.cipherSuites ?? undefined,
      groups: c.groups ?? undefined,
      keylog: c.keylog ?? undefined,
      certificateChain: c.certificateChain,
      privateKey: key,
      ticketKey: c.ticketKey ?? undefined,
      ticketLifetime: c.ticketLifetime,
      enableEarlyData: c.earlyData,
      ticketAppData: limits,
      // RFC 9000 §7.4.1: 0-RTT only if no remembered limit is above what we offer now.
      acceptEarlyData: (remembered) => earlyDataLimitsAllow(remembered, limits),
      // RFC 9369 §5: tickets are bound to the (negotiated) version, fixed by now.
      quicVersion: s.version,
    },
    encodeParams(s, s.localParams, 'server'),
  );
}

/** The limits a server remembers in a ticket (RFC 9000 §7.4.1), as varints. */
function earlyDataLimits(p: TransportParameters): Uint8Array {
  const w = new Writer(new Uint8Array(64));
  for (const v of [
    p.initialMaxData,
    p.initialMaxStreamDataBidiLocal,
    p.initialMaxStreamDataBidiRemote,
    p.initialMaxStreamDataUni,
    p.initialMaxStreamsBidi,
    p.initialMaxStreamsUni,
    p.activeConnectionIdLimit,
    // RFC 9221 §3: 0-RTT only if max_datagram_frame_size did not shrink.
    p.maxDatagramFrameSize ?? 0,
  ])
    w.varint(v);
  return w.written().slice();
}

function earlyDataLimitsAllow(remembered: Uint8Array, current: Uint8Array): boolean {
  try {
    const a = new Reader(remembered);
    const b = new Reader(current);
    for (let i = 0; i < 8; i++) if (a.varint() > b.varint()) return false;
    return a.done;
  } catch {
    return false;
  }
}

/** Feeds in-order CRYPTO bytes of `space` to TLS (a TlsAlert is a QuicError: it closes the connection). */
export function receiveCrypto(
  s: ConnState,
  space: PacketNumberSpace,
  chunks: Uint8Array[],
  now: number,
): void {
  if (s.tls === null && s.vn.pendingHello !== null && space === PacketNumberSpace.Initial) {
    // Server: the version is chosen from the whole ClientHello before TLS answers (RFC 9368 §2.3).
    const held = collectClientHello(s, chunks, now);
    if (held === null) return;
    chunks = held;
  }
  const tls = s.tls;
  if (tls === null || chunks.length === 0) return;
  const level: EncryptionLevel =
    space === PacketNumberSpace.Initial
      ? 'initial'
      : space === PacketNumberSpace.Handshake
        ? 'handshake'
        : 'application';
  try {
    for (const c of chunks) tls.receive(level, c, now);
  } catch (e) {
    recordTlsFacts(s, now);
    throw e;
  }
  processTlsEvents(s, now);
}

/**
 * TLS failed (an alert is coming): of the events it queued before, keep what they tell about the
 * peer (its certificate chain with the verdict that rejected it, the messages read) and act on
 * nothing else — no keys, no transport parameters, no handshake data.
 */
function recordTlsFacts(s: ConnState, now: number): void {
  const tls = s.tls;
  if (tls === null) return;
  for (let ev = tls.poll(); ev !== null; ev = tls.poll())
    if (ev.kind === 'peer_certificates' || ev.kind === 'message') onTlsEvent(s, ev, now);
}

/** Handles every pending TLS event. */
export function processTlsEvents(s: ConnState, now: number): void {
  const tls = s.tls;
  if (tls === null) return;
  for (let ev = tls.poll(); ev !== null; ev = tls.poll()) onTlsEvent(s, ev, now);
}

function onTlsEvent(s: ConnState, ev: TlsEvent, now: number): void {
  switch (ev.kind) {
    case 'handshake_data':
      s.spaces[LEVEL_SPACE[ev.level]].cryptoSend.write(ev.data);
      return;
    case 'keys':
      installKeys(s, ev.level, ev.direction, ev.cipherSuite, ev.secret, now);
      return;
    case 'peer_transport_parameters':
      onPeerTransportParameters(s, ev.data, now);
      return;
    case 'alpn':
      s.alpn = ev.protocol;
      if (s.trace) {
        const ids = s.config.alpn.map((a) => alpnIdentifier(a));
        s.tracer.event(now, 'quic:alpn_information', {
          ...(s.isServer ? { server_alpns: ids } : { client_alpns: ids }),
          chosen_alpn: alpnIdentifier(ev.protocol),
        });
      }
      return;
    case 'peer_certificates':
      s.peerCertificates = ev.chain;
      s.certificateVerdict = ev.verdict;
      return;
    case 'early_data':
      s.earlyData = ev.status;
      // RFC 9001 §4.6.2: rejected 0-RTT packets are lost; loss detection resends their frames in 1-RTT.
      if (ev.status === 'rejected') s.zeroRttWrite = null;
      return;
    case 'handshake_complete':
      onHandshakeComplete(s, now);
      return;
    case 'ticket': {
      const t = ev.ticket;
      if (s.peerParamsRaw !== null) t.transportParameters = s.peerParamsRaw;
      // RFC 9369 §5: the ticket maps to the negotiated version, not the original one.
      t.quicVersion = s.version;
      s.tickets.push(t);
      if (s.tickets.length > 4) s.tickets.shift();
      return;
    }
    case 'message':
      if (s.trace) {
        s.tracer.event(now, 'quicscope:tls_message', {
          direction: ev.direction,
          encryption_level: QLOG_LEVEL[ev.level],
          message_type: ev.type as ReturnType<typeof tlsMessageTypeName>,
          message_type_value: messageTypeValue(ev.type),
          raw: { length: ev.length + 4, payload_length: ev.length },
        });
      }
      return;
  }
}

function messageTypeValue(type: string): number {
  return (HandshakeType as Readonly<Record<string, number>>)[type] ?? -1;
}

function keyType(
  s: ConnState,
  level: 'early' | 'handshake' | 'application',
  direction: 'read' | 'write',
): KeyType {
  const mine = direction === 'write';
  const side = mine === !s.isServer ? 'client' : 'server';
  const lvl = level === 'early' ? '0rtt' : level === 'handshake' ? 'handshake' : '1rtt';
  return `${side}_${lvl}_secret` as KeyType;
}

function installKeys(
  s: ConnState,
  level: 'early' | 'handshake' | 'application',
  direction: 'read' | 'write',
  cipherSuite: number,
  secret: Uint8Array,
  now: number,
): void {
  const keys = s.deriveKeys(cipherSuite, secret);
  s.keysEpoch++;
  if (level === 'handshake') {
    const space = s.spaces[PacketNumberSpace.Handshake];
    if (direction === 'read') space.readKeys = keys;
    else space.writeKeys = keys;
    s.recovery.setHandshakeKeysAvailable();
  } else if (level === 'early') {
    if (direction === 'write') s.zeroRttWrite = keys;
    else s.zeroRttRead = keys;
  } else {
    if (direction === 'read') s.appRead = keys;
    else s.appWrite = keys;
    if (s.appRead !== null && s.appWrite !== null && s.oneRtt === null) {
      s.oneRtt = new OneRttKeys(s.provider, s.appRead, s.appWrite, s.config.aeadLimitsForTesting);
      s.integrityLimit = s.oneRtt.integrityLimit; // RFC 9001 §6.6
      // RFC 9001 §4.9.3: a client discards 0-RTT keys once it has 1-RTT keys.
      if (!s.isServer) s.zeroRttWrite = null;
    }
  }
  if (s.trace)
    s.tracer.event(now, 'quic:key_updated', { key_type: keyType(s, level, direction), trigger: 'tls' });
  const params = cipherSuiteParams(cipherSuite);
  if (params !== undefined) s.cipherSuiteName = params.name;
}

/** RFC 9000 §7.3 and §7.4: checks the peer's transport parameters and applies them. */
function onPeerTransportParameters(s: ConnState, raw: Uint8Array, now: number): void {
  const p = decodeTransportParameters(raw, s.isServer ? 'client' : 'server');
  const tpError = (reason: string) => new QuicError(TransportError.TRANSPORT_PARAMETER_ERROR, reason);
  // RFC 9000 §7.3: initial_source_connection_id is mandatory and matches the peer's Initial SCID.
  if (p.initialSourceConnectionId === null) throw tpError('missing initial_source_connection_id');
  if (s.peerInitialScid !== null && !bytesEqual(p.initialSourceConnectionId, s.peerInitialScid))
    throw protocolViolation('initial_source_connection_id does not match the Initial SCID');
  if (!s.isServer) {
    if (p.originalDestinationConnectionId === null)
      throw tpError('missing original_destination_connection_id');
    if (s.originalDcid === null || !bytesEqual(p.originalDestinationConnectionId, s.originalDcid))
      throw protocolViolation('original_destination_connection_id does not match our first DCID');
    if (s.retrySource !== null) {
      if (p.retrySourceConnectionId === null)
        throw protocolViolation('missing retry_source_connection_id after Retry');
      if (!bytesEqual(p.retrySourceConnectionId, s.retrySource))
        throw protocolViolation('retry_source_connection_id does not match the Retry SCID');
    } else if (p.retrySourceConnectionId !== null) {
      throw protocolViolation('retry_source_connection_id without a Retry');
    }
  }
  // RFC 9368 §4: the Chosen Version must be the version in use; no downgrade after VN.
  validatePeerVersionInformation(s, p.versionInformation);
  s.peerParams = p;
  s.peerParamsRaw = raw.slice();
  traceParameters(s, p, 'remote', now);
  applyPeerParameters(s, p, now);
}

function applyPeerParameters(s: ConnState, p: TransportParameters, now: number): void {
  s.peerAckDelayExponent = p.ackDelayExponent;
  s.recovery.setPeerMaxAckDelay(p.maxAckDelay);
  s.streams.setPeerLimits(p);
  // RFC 9000 §10.1: the effective idle timeout is the minimum of the non-zero values.
  const ours = s.config.maxIdleTimeout;
  const theirs = p.maxIdleTimeout;
  s.idleTimeout = ours === 0 ? theirs : theirs === 0 ? ours : Math.min(ours, theirs);
  // RFC 9000 §18.2: never send datagrams above the peer's max_udp_payload_size. With PMTUD
  // (pmtud.ts) datagrams stay at 1200 bytes until probes show the path carries more (§14.2).
  const size = Math.max(1200, Math.min(s.config.maxUdpPayloadSize, p.maxUdpPayloadSize));
  if (!s.config.pmtud && size !== s.maxDatagramSize) {
    s.maxDatagramSize = size;
    s.recovery.setMaxDatagramSize(size, now);
  }
  // RFC 9287 §3.1: the peer accepts a 0 QUIC bit: ours becomes random (1-RTT packets, grease.ts).
  s.quicBit.enabled = s.config.grease && p.greaseQuicBit;
  if (!s.isServer && p.statelessResetToken !== null) s.peerCids.setInitialToken(p.statelessResetToken);
  const pa = p.preferredAddress;
  if (pa !== null && s.peerCids.dcid.length > 0) {
    // RFC 9000 §5.1.1: the preferred address CID has sequence number 1 (migration.ts may use it).
    s.peerCids.onNewConnectionId({
      type: 'new_connection_id',
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: pa.connectionId,
      statelessResetToken: pa.statelessResetToken,
    });
  }
  s.localCids.setPeerLimit(p.activeConnectionIdLimit);
}

function traceParameters(
  s: ConnState,
  p: TransportParameters,
  initiator: 'local' | 'remote',
  now: number,
): void {
  if (!s.trace) return;
  const { preferred_address: _pa, ...q } = transportParametersToQlog(p);
  s.tracer.event(now, 'quic:parameters_set', { initiator, ...q });
  if (p.versionInformation !== null && initiator === 'remote')
    traceVersionInformation(s, p.versionInformation, now);
}

/** Traces a connection state change. */
export function traceState(s: ConnState, state: ConnectionState, now: number): void {
  if (s.trace) s.tracer.event(now, 'quic:connection_state_updated', { new: state });
}

function onHandshakeComplete(s: ConnState, now: number): void {
  if (s.handshakeComplete) return;
  s.handshakeComplete = true;
  s.handshakeCompleteAt = now;
  if (s.phase.kind === 'handshake') s.phase = { kind: 'established' };
  traceState(s, 'handshake_complete', now);
  if (s.isServer) {
    // RFC 9001 §4.1.2: the server's handshake is confirmed at completion; it sends HANDSHAKE_DONE.
    s.handshakeDonePending = true;
    confirmHandshake(s, now);
  }
}

/** The handshake is confirmed (RFC 9001 §4.1.2): discard Handshake keys (§4.9.2). */
export function confirmHandshake(s: ConnState, now: number): void {
  if (s.handshakeConfirmed) return;
  s.handshakeConfirmed = true;
  traceState(s, 'handshake_confirmed', now);
  discardSpace(s, PacketNumberSpace.Handshake, now);
  s.recovery.setHandshakeConfirmed(now);
  // RFC 9000 §14.3.1: DPLPMTUD enters BASE once the handshake is done.
  startPmtud(s, now);
  // RFC 9000 §9.6.1: a client probes the server's preferred address once confirmed (migration.ts).
  startPreferredAddress(s, now);
}

/** Discards the keys and recovery state of `space` (RFC 9001 §4.9, RFC 9002 §6.4). */
export function discardSpace(s: ConnState, space: PacketNumberSpace, now: number): void {
  const sp = s.spaces[space];
  if (sp.discarded) return;
  sp.discarded = true;
  sp.readKeys = null;
  sp.writeKeys = null;
  sp.probes = 0;
  s.recovery.discardSpace(space, now);
  if (s.trace) {
    const kind = space === PacketNumberSpace.Initial ? 'initial' : 'handshake';
    for (const side of ['client', 'server'] as const)
      s.tracer.event(now, 'quic:key_discarded', {
        key_type: `${side}_${kind}_secret` as KeyType,
        trigger: 'tls',
      });
  }
}
