/**
 * Version negotiation on the connection (RFC 9000 §6, RFC 9368, RFC 9369 §4):
 * - the client's reaction to a Version Negotiation packet: ignore it (§6.2, RFC 9368 §4) or start
 *   a new attempt in a version the server lists (incompatible negotiation, RFC 9368 §2.1), or give
 *   up when none is common;
 * - version_information (RFC 9368 §3): what we send, and the checks on the peer's that detect a
 *   forged Version Negotiation packet (downgrade, §4);
 * - compatible negotiation between v1 and v2 (RFC 9368 §2.3, RFC 9369 §4.1): a server that
 *   prefers another version the client offers switches to it before it answers the ClientHello;
 *   the client follows the first Initial of that version it can decrypt;
 * - a client first flight in a version we do not speak (v1 format, that version's number), which
 *   makes a server answer with Version Negotiation.
 */
import { initialKeys } from '../crypto/initial.ts';
import type { PacketKeys } from '../crypto/keys.ts';
import { openPayload, unprotectHeader } from '../crypto/packet-protection.ts';
import { decodeClientHello } from '../tls/hello.ts';
import type { SessionTicket } from '../tls/session.ts';
import { qlogVersion } from '../trace/format.ts';
import { qlogTransportError } from '../trace/frames.ts';
import { toQlogPacketHeader } from '../trace/header.ts';
import { bytesEqual, concatBytes } from '../wire/buffer.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import type { LongHeader, VersionNegotiationHeader } from '../wire/packet.ts';
import { decodePacketNumber } from '../wire/packet-number.ts';
import { decodeTransportParameters } from '../wire/transport-params.ts';
import type { VersionInformation } from '../wire/transport-params.ts';
import { QUIC_VERSION_1, isSupportedVersion } from '../wire/version.ts';
import type { Config } from './config.ts';
import { enterClosed } from './close.ts';
import { requeueFrames } from './delivery.ts';
import { installInitialKeys, startClientTls, startServerTls } from './handshake.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';

/** The most ClientHello bytes a server holds while it chooses the version (then TLS takes over). */
const MAX_PENDING_HELLO = 64 * 1024;
/** TLS HandshakeType client_hello (RFC 8446 §4). */
const CLIENT_HELLO = 1;

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function vnError(reason: string): QuicError {
  return new QuicError(TransportError.VERSION_NEGOTIATION_ERROR, reason);
}

/** RFC 9369 §4: v1 and v2 are compatible with each other (and every version with itself). */
export function compatibleVersions(from: number, to: number): boolean {
  return from === to || (isSupportedVersion(from) && isSupportedVersion(to));
}

/** The version `config` picks from a server's list (RFC 9368 §2.1): its most preferred one listed. */
export function pickVersion(config: Config, offered: readonly number[]): number | null {
  for (const v of config.supportedVersions()) if (offered.includes(v)) return v;
  return null;
}

/** The Version field of our long headers: the unsupported one of a probing first flight, or `s.version`. */
export function wireVersion(s: ConnState): number {
  return s.vn.headerVersion ?? s.version;
}

/** Writes the probing first flight's version into a long header just written at `start` (v1 format). */
export function patchHeaderVersion(s: ConnState, out: Uint8Array, start: number): void {
  const v = s.vn.headerVersion;
  if (v === null) return;
  out[start + 1] = v >>> 24;
  out[start + 2] = (v >>> 16) & 0xff;
  out[start + 3] = (v >>> 8) & 0xff;
  out[start + 4] = v & 0xff;
}

/** Client: the first flight's version (Config `originalVersion`, else `version`). Before its Initial keys. */
export function initClientVersion(s: ConnState): void {
  const c = s.config;
  const v = c.originalVersion ?? c.version;
  s.vn.originalVersion = v;
  s.vn.chosenVersion = v;
  if (isSupportedVersion(v)) {
    s.version = v;
  } else {
    // Not a version we speak: v1's format and keys, that version's number (RFC 9000 §6.3, §15).
    s.version = QUIC_VERSION_1;
    s.vn.headerVersion = v;
  }
}

/**
 * Client: a session ticket is usable only in the version of the connection that issued it
 * (RFC 9369 §5: "MUST NOT use a session ticket ... from a QUIC version 1 connection to initiate a
 * QUIC version 2 connection"): the ticket's `quicVersion`, else (a ticket saved without it) the
 * version in the server's remembered transport parameters. A ticket of another version is
 * dropped silently: a full handshake follows. The check is against the version of our first
 * Initial, the only one known before the server answers; should the server then switch to
 * another version (compatible negotiation, RFC 9368 §2.3, which it never does when 0-RTT is
 * offered), it refuses the ticket itself (RFC 9369 §5) and the handshake is a full one.
 */
export function ticketForVersion(s: ConnState, ticket: SessionTicket | null): SessionTicket | null {
  if (ticket === null) return null;
  if (s.vn.headerVersion !== null) return null;
  if (ticket.quicVersion !== undefined) return ticket.quicVersion === s.version ? ticket : null;
  const raw = ticket.transportParameters;
  if (raw === undefined) return ticket;
  try {
    const vi = decodeTransportParameters(raw, 'server').versionInformation;
    return vi === null || vi.chosenVersion === s.version ? ticket : null;
  } catch {
    return ticket;
  }
}

/** The versions a client's first flight offers (RFC 9368 §3): compatible ones by preference, chosen included. */
function clientAvailableVersions(s: ConnState): number[] {
  if (s.vn.headerVersion !== null) return [s.vn.headerVersion];
  const chosen = s.version;
  const list = s.config.supportedVersions().filter((v) => compatibleVersions(chosen, v));
  if (!list.includes(chosen)) list.push(chosen);
  return list;
}

/** Our version_information transport parameter (RFC 9368 §3). */
export function localVersionInformation(s: ConnState): VersionInformation {
  if (s.isServer) {
    // Server-Sent Available Versions: the versions we accept (RFC 9368 §3, §5).
    return { chosenVersion: s.version, availableVersions: [...s.config.supportedVersions()] };
  }
  return { chosenVersion: wireVersion(s), availableVersions: clientAvailableVersions(s) };
}

/**
 * RFC 9368 §4: checks the peer's Version Information; a VERSION_NEGOTIATION_ERROR when it shows a
 * version mismatch or, after a Version Negotiation packet, a downgrade.
 */
export function validatePeerVersionInformation(s: ConnState, peer: VersionInformation | null): void {
  if (s.isServer) {
    // Servers MAY complete the handshake without it; its Chosen Version is the first flight's.
    if (peer !== null && peer.chosenVersion !== s.vn.chosenVersion)
      throw vnError(
        `the client's chosen version ${hex(peer.chosenVersion)} is not its first flight's ${hex(s.vn.chosenVersion)}`,
      );
    return;
  }
  const reacted = s.vn.vnVersions !== null;
  let vi = peer;
  if (vi === null) {
    if (!reacted) return;
    // RFC 9368 §8: a v1 server that does not know version_information.
    if (s.version !== QUIC_VERSION_1)
      throw vnError('the server sent no version_information after Version Negotiation');
    vi = { chosenVersion: QUIC_VERSION_1, availableVersions: [QUIC_VERSION_1] };
  }
  const offered = s.localParams?.versionInformation?.availableVersions ?? [s.version];
  if (!offered.includes(vi.chosenVersion))
    throw vnError(`the server chose ${hex(vi.chosenVersion)}, which we did not offer`);
  if (vi.chosenVersion !== s.version)
    throw vnError(
      `the server's chosen version ${hex(vi.chosenVersion)} is not the negotiated version ${hex(s.version)}`,
    );
  if (!reacted) return;
  // RFC 9368 §4: knowing the server's versions, would we have attempted the same version?
  if (vi.availableVersions.length === 0)
    throw vnError('the server lists no available versions after Version Negotiation');
  const would = pickVersion(s.config, [...vi.availableVersions, s.version]);
  if (would !== s.vn.chosenVersion)
    throw vnError(
      `version downgrade: the server supports ${vi.availableVersions.map(hex).join(', ')}, so we would have attempted ${
        would === null ? 'none' : hex(would)
      }, not ${hex(s.vn.chosenVersion)}`,
    );
}

/** qlog quic:version_information once the peer's parameters arrive: both lists and the version in use. */
export function traceVersionInformation(s: ConnState, peer: VersionInformation, now: number): void {
  if (!s.trace) return;
  const theirs = peer.availableVersions.map(qlogVersion);
  const ours = (s.localParams?.versionInformation?.availableVersions ?? []).map(qlogVersion);
  s.tracer.event(now, 'quic:version_information', {
    server_versions: s.isServer ? ours : theirs,
    client_versions: s.isServer ? theirs : ours,
    chosen_version: qlogVersion(s.version),
  });
}

// ---- incompatible negotiation: the client and a Version Negotiation packet ----

/** Why a Version Negotiation packet was not acted on (for quic:packet_dropped). */
export interface VnRefusal {
  trigger: 'unsupported' | 'rejected';
  reason: string;
}

/**
 * Client: a Version Negotiation packet (RFC 9000 §6.2, RFC 9368 §2.1, §4). Returns why it was
 * ignored, or null when it was acted on: a new attempt in a common version, or the end of the
 * connection when there is none.
 */
export function onVersionNegotiationPacket(
  s: ConnState,
  h: VersionNegotiationHeader,
  now: number,
): VnRefusal | null {
  const refuse = (trigger: VnRefusal['trigger'], reason: string): VnRefusal => {
    s.vn.vnIgnored++;
    return { trigger, reason };
  };
  // RFC 9368 §2.1: servers ignore Version Negotiation packets.
  if (s.isServer) return refuse('unsupported', 'a server ignores Version Negotiation');
  // RFC 9000 §6.2: not after any other packet was processed (a Retry included).
  if (s.receivedFromServer || s.retrySource !== null)
    return refuse('unsupported', 'a packet from the server was already processed');
  // RFC 9368 §4: none in answer to an attempt made because of one.
  if (s.vn.vnVersions !== null) return refuse('unsupported', 'already acted on a Version Negotiation');
  // RFC 8999 §6: the CIDs echo those of our first flight.
  if (!s.localCids.isActive(h.dcid) || s.originalDcid === null || !bytesEqual(h.scid, s.originalDcid))
    return refuse('rejected', 'CIDs do not match');
  // RFC 9000 §6.2, RFC 9368 §4: one listing the Original Version is discarded.
  if (h.versions.includes(s.vn.originalVersion)) return refuse('rejected', 'lists the original version');
  const chosen = pickVersion(s.config, h.versions);
  if (s.trace) {
    s.tracer.event(now, 'quic:packet_received', {
      header: toQlogPacketHeader(h),
      supported_versions: h.versions.map(qlogVersion),
      raw: { length: h.end - h.start },
    });
    s.tracer.event(now, 'quic:version_information', {
      server_versions: h.versions.map(qlogVersion),
      client_versions: s.config.supportedVersions().map(qlogVersion),
      ...(chosen !== null ? { chosen_version: qlogVersion(chosen) } : {}),
    });
  }
  s.vn.vnVersions = [...h.versions];
  if (chosen === null) {
    // RFC 9368 §2.1: no common version: abort the attempt (nothing can be sent to such a server).
    noCommonVersion(s, h.versions, now);
    return null;
  }
  restartAttempt(s, chosen, now);
  return null;
}

function noCommonVersion(s: ConnState, offered: readonly number[], now: number): void {
  const reason = `no common QUIC version: the server offers ${offered.map(hex).join(', ')}; we speak ${s.config
    .supportedVersions()
    .map(hex)
    .join(', ')}`;
  s.localError = { isApp: false, code: TransportError.VERSION_NEGOTIATION_ERROR, reason };
  if (s.trace)
    s.tracer.event(now, 'quic:connection_closed', {
      initiator: 'local',
      connection_error: qlogTransportError(TransportError.VERSION_NEGOTIATION_ERROR),
      error_code: TransportError.VERSION_NEGOTIATION_ERROR,
      reason,
      trigger: 'version_mismatch',
    });
  enterClosed(s, now);
}

/**
 * RFC 9368 §2.1, §2.4: a new first flight in `version`: a new DCID, Initial keys, ClientHello and
 * transport parameters; nothing of the abandoned attempt is kept but the application's streams
 * (stream data it had in flight is queued again). No ticket or token: they belong to the other
 * version (RFC 9369 §5), and ALPN negotiation starts over (RFC 9368 §6).
 */
function restartAttempt(s: ConnState, version: number, now: number): void {
  const serverName = s.tls?.serverName ?? null;
  s.vn.chosenVersion = version;
  s.vn.headerVersion = null;
  s.version = version;
  // RFC 9000 §7.2: an unpredictable DCID for the new first flight.
  const dcid = s.provider.randomBytes(s.originalDcid?.length ?? 16);
  s.originalDcid = dcid;
  s.peerCids.setInitial(dcid);
  s.token = new Uint8Array(0);
  for (const p of s.recovery.resetForRetry(now)) requeueFrames(s, p);
  // Packet numbers go on (as after a Retry, RFC 9000 §17.2.5.3): recovery wants them increasing.
  for (const sp of s.spaces) {
    sp.cryptoSend.reset();
    sp.probes = 0;
    sp.readKeys = null;
    sp.writeKeys = null;
  }
  s.zeroRttWrite = null;
  s.appRead = null;
  s.appWrite = null;
  s.earlyData = 'not_offered';
  s.alpn = null;
  s.cipherSuiteName = null;
  s.buffered = [];
  s.bufferedBytes = 0;
  installInitialKeys(s, dcid);
  s.keysEpoch++;
  startClientTls(s, serverName, null, now);
  if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
}

// ---- compatible negotiation (RFC 9368 §2.3, RFC 9369 §4.1) ----

/**
 * Read keys for a long-header packet whose Version is not the connection's, or null to drop it:
 * - server after a switch: the client's Initials in its Chosen Version (RFC 9369 §4.1);
 * - client: the first Initial in another version it offered, if it decrypts: the server's
 *   Negotiated Version, which the client adopts (RFC 9369 §4.1).
 * Every other packet of another version is dropped (RFC 9369 §4.1).
 */
export function otherVersionReadKeys(
  s: ConnState,
  data: Uint8Array,
  header: LongHeader,
  now: number,
): PacketKeys | null {
  if (header.type !== 'initial') return null;
  const space = s.spaces[PacketNumberSpace.Initial];
  if (space.discarded) {
    s.vn.chosenInitialRead = null;
    return null;
  }
  if (s.isServer) {
    const keys = s.vn.chosenInitialRead;
    return keys !== null && header.version === s.vn.chosenVersion ? keys : null;
  }
  if (s.vn.headerVersion !== null || s.vn.compatibleFrom !== null) return null;
  if (!isSupportedVersion(header.version) || !compatibleVersions(s.version, header.version)) return null;
  const offered = s.localParams?.versionInformation?.availableVersions ?? [];
  if (!offered.includes(header.version)) return null;
  // RFC 9369 §4.1: CRYPTO from the server in our version fixed the version (its ServerHello gave
  // us Handshake keys).
  const hs = s.spaces[PacketNumberSpace.Handshake];
  if (hs.readKeys !== null || hs.discarded) return null;
  // The Initial keys of the new version, from the DCID our Initials carry (RFC 9001 §5.2).
  const dcid = s.retrySource ?? s.originalDcid;
  if (dcid === null) return null;
  const keys = initialKeys(s.provider, header.version, dcid);
  // Adopt the version only if the packet authenticates with it (on a copy: the datagram stays intact).
  const len = header.end - header.start;
  const copy = data.slice(header.start, header.end);
  const pnOffset = header.pnOffset - header.start;
  const uh = unprotectHeader(keys.server.hp, copy, 0, pnOffset, len);
  if (uh === null) return null;
  const pn = decodePacketNumber(space.acks.largestReceived, uh.truncatedPn, uh.pnLength * 8);
  if (openPayload(keys.server, copy, 0, pnOffset, uh.pnLength, len, pn) === null) return null;
  const from = s.version;
  s.version = header.version;
  s.vn.compatibleFrom = from;
  space.readKeys = keys.server;
  space.writeKeys = keys.client;
  // RFC 9369 §4.1: no 0-RTT in the negotiated version.
  s.zeroRttWrite = null;
  if (s.trace)
    s.tracer.event(now, 'quic:version_information', {
      client_versions: offered.map(qlogVersion),
      chosen_version: qlogVersion(s.version),
    });
  return keys.server;
}

/**
 * Server, at the client's first Initial: whether to hold the ClientHello until it is whole
 * (then `collectClientHello` chooses the version and starts TLS). Only when we could switch.
 */
export function deferServerTls(s: ConnState): boolean {
  const c = s.config;
  if (c.preferredVersions === null) return false;
  const chosen = s.vn.chosenVersion;
  if (!c.preferredVersions.some((v) => v !== chosen && compatibleVersions(chosen, v))) return false;
  s.vn.pendingHello = [];
  s.vn.pendingHelloBytes = 0;
  return true;
}

/**
 * Server: in-order Initial CRYPTO bytes before TLS exists. Holds them (copies) until the
 * ClientHello is whole, then picks the version (RFC 9368 §2.3), starts TLS and returns every
 * byte held for it; returns null while the ClientHello is incomplete.
 */
export function collectClientHello(s: ConnState, chunks: Uint8Array[], now: number): Uint8Array[] | null {
  const vn = s.vn;
  const held = vn.pendingHello ?? [];
  for (const c of chunks) {
    held.push(c.slice()); // the datagram is not ours to keep
    vn.pendingHelloBytes += c.length;
  }
  const all = held.length === 1 ? held[0] : concatBytes(...held);
  let hello: Uint8Array | null = null;
  if (all.length >= 4 && all[0] === CLIENT_HELLO) {
    const length = (all[1] << 16) | (all[2] << 8) | all[3];
    if (all.length < 4 + length && vn.pendingHelloBytes <= MAX_PENDING_HELLO) {
      vn.pendingHello = [all];
      return null;
    }
    if (all.length >= 4 + length) hello = all.subarray(4, 4 + length);
  } else if (all.length < 4) {
    vn.pendingHello = [all];
    return null;
  }
  vn.pendingHello = null;
  // Anything but a readable ClientHello: no switch, and TLS reports the error.
  if (hello !== null) negotiateCompatible(s, hello, now);
  startServerTls(s, now);
  return [all];
}

/** RFC 9368 §2.3: switches to our most preferred version the client offers (if compatible). */
function negotiateCompatible(s: ConnState, hello: Uint8Array, now: number): void {
  let vi: VersionInformation | null;
  let earlyData: boolean;
  try {
    const ch = decodeClientHello(hello);
    const raw = ch.extensions.quicTransportParameters;
    if (raw === undefined) return;
    vi = decodeTransportParameters(raw, 'client').versionInformation;
    earlyData = ch.extensions.earlyData === true;
  } catch {
    return; // TLS raises the right alert when it reads it
  }
  const chosen = s.vn.chosenVersion;
  // A mismatch closes the connection when TLS hands us the parameters (RFC 9368 §4).
  if (vi === null || vi.chosenVersion !== chosen) return;
  // 0-RTT stays in the client's version: we do not switch when it is offered (RFC 9368 §7.3).
  if (earlyData) return;
  let target = chosen;
  for (const v of s.config.supportedVersions()) {
    if (v === chosen) break;
    if (vi.availableVersions.includes(v) && compatibleVersions(chosen, v)) {
      target = v;
      break;
    }
  }
  if (target === chosen || s.clientInitialDcid === null) return;
  // RFC 9369 §4.1: keep the Chosen Version's Initial read keys until a Handshake packet arrives.
  s.vn.chosenInitialRead = s.spaces[PacketNumberSpace.Initial].readKeys;
  s.vn.compatibleFrom = chosen;
  s.version = target;
  installInitialKeys(s, s.clientInitialDcid);
  if (s.trace)
    s.tracer.event(now, 'quic:version_information', {
      server_versions: s.config.supportedVersions().map(qlogVersion),
      client_versions: vi.availableVersions.map(qlogVersion),
      chosen_version: qlogVersion(target),
    });
}
