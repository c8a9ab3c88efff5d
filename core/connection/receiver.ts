/**
 * The receive path: a datagram is split into its coalesced packets (RFC 9000 §12.2); each is
 * matched to the connection by DCID, its header protection and packet protection are removed
 * (RFC 9001 §5.4, §5.3, with the key phase of §6), duplicates are dropped (§12.3), its frames are
 * processed and its packet number recorded for ACKs. Packets whose keys are not there yet are
 * buffered (bounded); Version Negotiation, Retry and stateless resets are handled here too.
 */
import { openPayload, unprotectHeader } from '../crypto/packet-protection.ts';
import type { PacketKeys } from '../crypto/keys.ts';
import { verifyRetry } from '../crypto/retry.ts';
import { toQlogPacketHeader } from '../trace/header.ts';
import { qlogVersion } from '../trace/format.ts';
import type { PacketDropped } from '../trace/events.ts';
import { bytesEqual } from '../wire/buffer.ts';
import { QuicError, TransportError, protocolViolation } from '../wire/errors.ts';
import { keyPhase, parseHeader, reservedBitsSet } from '../wire/packet.ts';
import type {
  LongHeader,
  PacketHeader,
  RetryHeader,
  ShortHeader,
  VersionNegotiationHeader,
} from '../wire/packet.ts';
import { decodePacketNumber } from '../wire/packet-number.ts';
import { statelessResetTokenCandidate } from '../wire/packet-write.ts';
import { onStatelessReset } from './close.ts';
import { requeueFrames } from './delivery.ts';
import { processFrames } from './frames-in.ts';
import { activeMigrationRefused, countPathBytes, fromKnownServerAddress, onPacketPath } from './path.ts';
import { discardSpace, installInitialKeys, startServerTls, traceState } from './handshake.ts';
import type { ReadKeyKind } from './key-phase.ts';
import { LIMITS, PacketNumberSpace } from './state.ts';
import type { ConnState } from './state.ts';
import type { Address, RecvInfo } from './types.ts';
import {
  deferServerTls,
  onVersionNegotiationPacket,
  otherVersionReadKeys,
  wireVersion,
} from './version-negotiation.ts';

/** What became of one packet. */
const enum Outcome {
  Processed,
  Dropped,
  Buffered,
  /** Could not be decrypted (a stateless reset candidate). */
  Undecryptable,
}

function drop(
  s: ConnState,
  now: number,
  trigger: NonNullable<PacketDropped['trigger']>,
  header: PacketHeader | null,
  length: number,
  reason?: string,
): Outcome {
  s.stats.packetsDropped++;
  if (s.trace) {
    const ev: PacketDropped = { trigger, raw: { length } };
    if (header !== null) ev.header = toQlogPacketHeader(header);
    if (reason !== undefined) ev.details = { reason };
    s.tracer.event(now, 'quic:packet_dropped', ev);
  }
  return Outcome.Dropped;
}

/** Processes one datagram (the caller catches errors and closes). Returns the bytes consumed. */
export function recvDatagram(s: ConnState, data: Uint8Array, info: RecvInfo, now: number): number {
  const len = data.length;
  const k = s.phase.kind;
  if (k === 'closed' || k === 'draining') {
    drop(s, now, 'general', null, len, k);
    return len;
  }
  // RFC 9000 §9: a client discards packets from an address the server neither used nor offered.
  if (!s.isServer && !fromKnownServerAddress(s, info.from)) {
    drop(s, now, 'rejected', null, len, 'unknown server address');
    return len;
  }
  s.stats.bytesReceived += len;
  if (s.isServer && !s.addressValidated) s.amplificationReceived += len;
  countPathBytes(s, info.from, info.to, len);
  if (s.trace) s.tracer.event(now, 'quic:udp_datagrams_received', { count: 1, raw: [{ length: len }] });
  const anyProcessed = processDatagram(s, data, info.from, info.to, now, false);
  if (!anyProcessed && !s.isClosingOrGone) checkStatelessReset(s, data, now);
  retryBuffered(s, now);
  // RFC 9002 §6.2.2.1: the PTO is armed again once the server may send (Appendix A.6).
  if (s.isServer)
    s.recovery.setAmplificationBlocked(
      !s.addressValidated && 3 * s.amplificationReceived - s.amplificationSent < 64,
      now,
    );
  return len;
}

/** Processes the packets of a datagram; returns whether any was processed. */
function processDatagram(
  s: ConnState,
  data: Uint8Array,
  from: Address,
  to: Address,
  now: number,
  fromBuffer: boolean,
): boolean {
  let off = 0;
  let firstDcid: Uint8Array | null = null;
  let processed = false;
  while (off < data.length && s.phase.kind !== 'closed' && s.phase.kind !== 'draining') {
    let header: PacketHeader;
    try {
      // RFC 9287 §3: a 0 QUIC bit is accepted only when we advertised grease_quic_bit.
      header = parseHeader(data, off, s.localCids.cidLength, s.localParams?.greaseQuicBit === true);
    } catch (e) {
      if (!(e instanceof QuicError)) throw e;
      drop(s, now, 'invalid', null, data.length - off, e.reason);
      break;
    }
    // RFC 9000 §12.2: coalesced packets with another DCID are ignored.
    if (firstDcid === null) firstDcid = header.dcid;
    else if (!bytesEqual(firstDcid, header.dcid)) {
      drop(s, now, 'rejected', header, header.end - header.start, 'coalesced packet with another DCID');
      off = header.end;
      continue;
    }
    const outcome = processPacket(s, data, header, from, to, now, fromBuffer);
    if (outcome === Outcome.Processed) processed = true;
    off = header.end;
  }
  return processed;
}

function processPacket(
  s: ConnState,
  data: Uint8Array,
  header: PacketHeader,
  from: Address,
  to: Address,
  now: number,
  fromBuffer: boolean,
): Outcome {
  const size = header.end - header.start;
  switch (header.type) {
    case 'version_negotiation':
      return onVersionNegotiation(s, header, now);
    case 'retry':
      return onRetry(s, data, header, now);
    case 'unsupported_version':
      return drop(s, now, 'unsupported', header, size);
    default:
      break;
  }
  const type = header.type;
  let otherKeys: PacketKeys | null = null;
  if (header.type !== '1rtt') {
    // RFC 9000 §14.1: a server discards an Initial in a datagram below 1200 bytes.
    if (s.isServer && type === 'initial' && data.length < 1200 && !fromBuffer)
      return drop(s, now, 'invalid', header, size, 'Initial datagram below 1200 bytes');
    if (s.isServer && type === 'initial' && s.clientInitialDcid === null) acceptFirstInitial(s, header, now);
    // RFC 9369 §4.1: another version only for Initials around a compatible version switch.
    if (header.version !== wireVersion(s)) {
      otherKeys = otherVersionReadKeys(s, data, header, now);
      if (otherKeys === null) return drop(s, now, 'unsupported', header, size, 'version mismatch');
    }
  }
  if (type === '0rtt' && !s.isServer) return drop(s, now, 'unsupported', header, size, '0-RTT to a client');
  if (!dcidAcceptable(s, header)) return drop(s, now, 'connection_unknown', header, size, 'unknown DCID');
  // RFC 9000 §9: disable_active_migration: an active migration's packets are dropped (path.ts).
  if (type === '1rtt' && activeMigrationRefused(s, header.dcid, from, to))
    return drop(s, now, 'rejected', header, size, 'active migration disabled');
  const space = s.spaceOf(type);
  if (space.discarded) return drop(s, now, 'key_unavailable', header, size, 'keys discarded');

  // Keys (RFC 9001 §5.7: packets may arrive before their keys).
  let keys: PacketKeys | null;
  if (type === '1rtt') keys = s.oneRtt?.read ?? null;
  else if (type === '0rtt') keys = s.zeroRttRead;
  else keys = otherKeys ?? space.readKeys;
  if (keys === null) {
    if (mayGetKeys(s, type)) return buffer(s, data, header, from, to, now);
    return drop(s, now, 'key_unavailable', header, size);
  }
  // RFC 9001 §5.4: remove header protection (in place), then the packet protection.
  const uh = unprotectHeader(keys.hp, data, header.start, header.pnOffset, header.end);
  if (uh === null) return drop(s, now, 'invalid', header, size, 'too short for a header protection sample');
  const first = data[header.start];
  const pn = decodePacketNumber(space.acks.largestReceived, uh.truncatedPn, uh.pnLength * 8);
  let kind: ReadKeyKind = 'current';
  if (type === '1rtt') {
    const sel = (s.oneRtt as NonNullable<typeof s.oneRtt>).select(keyPhase(first), pn);
    keys = sel.keys;
    kind = sel.kind;
  }
  const payload = openPayload(keys, data, header.start, header.pnOffset, uh.pnLength, header.end, pn);
  if (payload === null) {
    // RFC 9001 §6.6: count authentication failures; close once they exceed the integrity limit.
    if (++s.integrityFailures > s.integrityLimit)
      throw new QuicError(TransportError.AEAD_LIMIT_REACHED, 'AEAD integrity limit reached');
    drop(s, now, 'decryption_failure', header, size);
    return Outcome.Undecryptable;
  }
  // RFC 9000 §17.2, §17.3.1: non-zero reserved bits after removing protection.
  if (reservedBitsSet(first)) throw protocolViolation('reserved header bits set');
  if (space.acks.isDuplicate(pn)) return drop(s, now, 'duplicate', header, size);
  if (type === '1rtt' && s.oneRtt !== null && s.oneRtt.onOpened(kind, pn, now, s.threePto())) {
    // RFC 9001 §6.2: the peer updated its keys; ours followed.
    if (s.trace) {
      const phase = s.oneRtt.generation;
      for (const side of ['client', 'server'] as const)
        s.tracer.event(now, 'quic:key_updated', {
          key_type: `${side}_1rtt_secret`,
          key_phase: phase,
          trigger: 'remote_update',
        });
    }
  }

  if (!s.isServer) onServerPacket(s, header, type);
  // RFC 9001 §4.9.3: a server drops its 0-RTT keys within 3 x PTO of the first 1-RTT packet.
  if (type === '1rtt' && s.zeroRttRead !== null && s.zeroRttDiscardAt === null)
    s.zeroRttDiscardAt = now + s.threePto();
  if (s.isServer && type === 'handshake') {
    // RFC 9000 §8.1: a Handshake packet validates the client's address; RFC 9001 §4.9.1: the
    // server discards its Initial keys when it first processes one.
    if (!s.addressValidated) {
      s.addressValidated = true;
      traceState(s, 'peer_validated', now);
    }
    discardSpace(s, PacketNumberSpace.Initial, now);
  }

  s.stats.packetsReceived++;
  const closing = s.phase.kind === 'closing';
  s.recvFrom = from;
  s.recvTo = to;
  s.recvLength = data.length;
  const frames = processFrames(s, payload, type, space, header.dcid, now, closing);
  if (s.trace) {
    s.tracer.event(now, 'quic:packet_received', {
      header: toQlogPacketHeader(header, {
        packetNumber: pn,
        packetNumberLength: uh.pnLength,
        keyPhase: type === '1rtt' ? s.oneRtt?.generation : undefined,
      }),
      frames: frames.qlog ?? undefined,
      raw: { length: size, payload_length: payload.length },
    });
  }
  // RFC 9000 §10.2.1: in the closing state, answer (rate-limited) with CONNECTION_CLOSE.
  if (closing) {
    if (s.phase.kind === 'closing') s.closeSendPending = true;
    return Outcome.Processed;
  }
  space.acks.onPacketReceived(
    pn,
    frames.ackEliciting,
    now,
    s.config.maxAckDelay,
    space.id !== PacketNumberSpace.ApplicationData,
  );
  // RFC 9000 §10.1: receiving a packet restarts the idle timer.
  s.receivedSinceSend = true;
  if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
  // RFC 9000 §9.3: the highest-numbered non-probing packet decides the peer's address (path.ts).
  const nonProbing = type === '1rtt' && !frames.probingOnly && pn === space.acks.largestReceived;
  onPacketPath(s, header.dcid, from, to, now, data.length, nonProbing, frames.ackEliciting);
  return Outcome.Processed;
}

/** Server: the first Initial fixes the version, the original DCID and the Initial keys. */
function acceptFirstInitial(s: ConnState, header: LongHeader, now: number): void {
  s.version = header.version;
  s.clientInitialDcid = header.dcid.slice();
  if (s.originalDcid === null) s.originalDcid = s.clientInitialDcid;
  s.peerInitialScid = header.scid.slice();
  s.peerCids.setInitial(s.peerInitialScid);
  s.vn.originalVersion = header.version;
  s.vn.chosenVersion = header.version;
  installInitialKeys(s, s.clientInitialDcid);
  // With a version to switch to, TLS starts once the whole ClientHello is in (RFC 9368 §2.3).
  if (!deferServerTls(s)) startServerTls(s, now);
  if (s.trace) s.tracer.event(now, 'quic:version_information', { chosen_version: qlogVersion(s.version) });
}

/** Client: the first Initial from the server switches our DCID to its SCID (RFC 9000 §7.2). */
function onServerPacket(s: ConnState, header: PacketHeader, type: string): void {
  if (s.receivedFromServer) return;
  s.receivedFromServer = true;
  if (type === 'initial' || type === 'handshake') {
    const scid = (header as LongHeader).scid.slice();
    s.peerInitialScid = scid;
    s.peerCids.setInitial(scid);
  }
}

/** Whether the DCID of `header` is ours (RFC 9000 §5.2). */
function dcidAcceptable(s: ConnState, header: LongHeader | ShortHeader): boolean {
  if (s.localCids.isActive(header.dcid)) return true;
  // The client keeps using the DCID it chose until it hears from the server (RFC 9000 §7.2).
  return (
    s.isServer &&
    header.type !== '1rtt' &&
    !s.handshakeConfirmed &&
    s.clientInitialDcid !== null &&
    bytesEqual(header.dcid, s.clientInitialDcid)
  );
}

/** Whether keys for `type` may still arrive (so the packet is worth buffering). */
function mayGetKeys(s: ConnState, type: 'initial' | 'handshake' | '0rtt' | '1rtt'): boolean {
  if (s.isClosingOrGone) return false;
  if (type === '1rtt') return s.oneRtt === null;
  if (type === 'handshake') return !s.handshakeComplete;
  if (type === '0rtt') return s.isServer && !s.handshakeComplete && s.earlyData === 'not_offered';
  return false;
}

function buffer(
  s: ConnState,
  data: Uint8Array,
  header: PacketHeader,
  from: Address,
  to: Address,
  now: number,
): Outcome {
  const size = header.end - header.start;
  // RFC 9000 §5.7 (and RFC 9001 §4.1.4): bounded buffering of packets that cannot be decrypted yet.
  if (s.buffered.length >= LIMITS.bufferedPackets || s.bufferedBytes + size > LIMITS.bufferedBytes)
    return drop(s, now, 'key_unavailable', header, size, 'buffer full');
  s.buffered.push({ data: data.slice(header.start, header.end), from, to, epoch: s.keysEpoch });
  s.bufferedBytes += size;
  if (s.trace)
    s.tracer.event(now, 'quic:packet_buffered', {
      header: toQlogPacketHeader(header),
      raw: { length: size },
      trigger: 'keys_unavailable',
    });
  return Outcome.Buffered;
}

/** Processes buffered packets once new keys were installed. */
function retryBuffered(s: ConnState, now: number): void {
  for (let round = 0; round < 4 && s.buffered.length > 0; round++) {
    if (!s.buffered.some((b) => b.epoch !== s.keysEpoch)) return;
    const list = s.buffered;
    s.buffered = [];
    s.bufferedBytes = 0;
    for (const b of list) {
      if (b.epoch === s.keysEpoch) {
        s.buffered.push(b);
        s.bufferedBytes += b.data.length;
        continue;
      }
      processDatagram(s, b.data, b.from, b.to, now, true);
      if (s.isClosingOrGone) return;
    }
  }
}

/** RFC 9000 §6.2, RFC 9368 §2.1: the client ignores it, starts again in a common version, or gives up. */
function onVersionNegotiation(s: ConnState, h: VersionNegotiationHeader, now: number): Outcome {
  const refused = onVersionNegotiationPacket(s, h, now);
  if (refused === null) return Outcome.Processed;
  return drop(s, now, refused.trigger, h, h.end - h.start, refused.reason);
}

/** RFC 9000 §17.2.5.2: a client accepts one Retry before any other packet from the server. */
function onRetry(s: ConnState, data: Uint8Array, h: RetryHeader, now: number): Outcome {
  const size = h.end - h.start;
  if (s.isServer || s.receivedFromServer || s.retrySource !== null)
    return drop(s, now, 'unsupported', h, size);
  // RFC 9369 §4.1: a Retry in the version of our Initial only.
  if (h.version !== wireVersion(s) || !s.localCids.isActive(h.dcid)) return drop(s, now, 'rejected', h, size);
  // RFC 9001 §5.8: the integrity tag, over the DCID of our first Initial.
  if (
    s.originalDcid === null ||
    !verifyRetry(s.provider, s.version, s.originalDcid, data.subarray(h.start, h.end))
  )
    return drop(s, now, 'invalid', h, size, 'bad Retry integrity tag');
  s.stats.retrySeen = true;
  if (s.trace)
    s.tracer.event(now, 'quic:packet_received', { header: toQlogPacketHeader(h), raw: { length: size } });
  s.retrySource = h.scid.slice();
  s.token = h.token.slice();
  s.peerCids.setInitial(s.retrySource);
  installInitialKeys(s, s.retrySource);
  // RFC 9002 §6.3: reset recovery; every frame in flight is sent again (packet numbers go on).
  for (const p of s.recovery.resetForRetry(now)) requeueFrames(s, p);
  s.keysEpoch++;
  return Outcome.Processed;
}

/** RFC 9000 §10.3.1: a datagram we could not process whose tail is a peer's reset token. */
function checkStatelessReset(s: ConnState, data: Uint8Array, now: number): void {
  if (data.length === 0 || (data[0] & 0x80) !== 0) return;
  const candidate = statelessResetTokenCandidate(data);
  if (candidate !== null && s.peerCids.matchesResetToken(candidate)) onStatelessReset(s, now);
}
