/**
 * The send path: one call builds one datagram in the caller's buffer. Packets of the Initial,
 * Handshake and application spaces are coalesced (RFC 9000 §12.2), datagrams carrying Initial
 * packets are padded to 1200 bytes (§14.1), the anti-amplification limit (§8.1) and the
 * congestion window (RFC 9002 §7) bound what is sent, each packet is protected in place
 * (RFC 9001 §5) and recorded for loss recovery, and pacing gives the datagram its send time.
 */
import type { PacketKeys } from '../crypto/keys.ts';
import { TAG_LENGTH } from '../crypto/keys.ts';
import { protectPacket } from '../crypto/packet-protection.ts';
import { SentPacket } from '../recovery/sent-packets.ts';
import { Writer } from '../wire/buffer.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import { toQlogFrame } from '../trace/frames.ts';
import { encodeFrame } from '../wire/frames.ts';
import type { ConnectionCloseFrame } from '../wire/frames.ts';
import { encodePacketNumberLength } from '../wire/packet-number.ts';
import { patchLength, writeLongHeader, writeShortHeader } from '../wire/packet-write.ts';
import { discardSpace } from './handshake.ts';
import {
  closeFrameFor,
  writeAck,
  writeConnectionControl,
  writeCrypto,
  writePing,
  writeStreamControl,
  writeStreams,
} from './frames-out.ts';
import type { PacketFill } from './frames-out.ts';
import { buildPathProbe } from './path-probe.ts';
import { hasDatagramsToSend, writeDatagrams } from './datagram.ts';
import { buildPmtuProbe, followPath } from './pmtud-probe.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState, PacketSpace } from './state.ts';
import type { SendInfo } from './types.ts';
import { patchHeaderVersion, wireVersion } from './version-negotiation.ts';

/** RFC 9000 §14.1: the smallest datagram that may carry a client Initial. */
export const MIN_INITIAL_DATAGRAM = 1200;
/** Outstanding packet records beyond which ACK-only packets are no longer sent. */
const MAX_OUTSTANDING_PACKETS = 20_000;
/** Don't start a packet with less room than this. */
const MIN_PACKET_ROOM = 64;

/** A packet written but not yet protected. */
interface Built {
  readonly space: PacketSpace;
  readonly type: PacketFill['type'];
  readonly keys: PacketKeys;
  readonly start: number;
  readonly pnOffset: number;
  readonly pnLength: 1 | 2 | 3 | 4;
  /** End of the plaintext payload (the tag follows). */
  payloadEnd: number;
  /** Holds PADDING: it then counts in flight (RFC 9002 §2). */
  padded: boolean;
  readonly pn: number;
  readonly fill: PacketFill;
}

function packetType(s: ConnState, space: PacketSpace): PacketFill['type'] | null {
  if (space.discarded) return null;
  if (space.id === PacketNumberSpace.Initial) return space.writeKeys !== null ? 'initial' : null;
  if (space.id === PacketNumberSpace.Handshake) return space.writeKeys !== null ? 'handshake' : null;
  if (s.oneRtt !== null) return '1rtt';
  return !s.isServer && s.zeroRttWrite !== null ? '0rtt' : null;
}

function writeKeys(s: ConnState, space: PacketSpace, type: PacketFill['type']): PacketKeys {
  if (type === '1rtt') return (s.oneRtt as NonNullable<ConnState['oneRtt']>).write;
  if (type === '0rtt') return s.zeroRttWrite as PacketKeys;
  return space.writeKeys as PacketKeys;
}

/** Whether `space` has anything ack-eliciting to send. */
function hasDataFor(s: ConnState, space: PacketSpace, type: PacketFill['type']): boolean {
  if (space.probes > 0 || space.cryptoSend.hasData) return true;
  if (space.id !== PacketNumberSpace.ApplicationData) return false;
  if (type === '1rtt') {
    if (s.handshakeDonePending && s.isServer && s.handshakeComplete) return true;
    if (s.pathResponses.length > 0 || s.pathChallengePending !== null || s.pingPending) return true;
    if (s.localCids.pendingNew.length > 0 || s.peerCids.pendingRetire.length > 0) return true;
    if (s.pendingNewTokens.length > 0) return true;
    if (hasDatagramsToSend(s)) return true;
  }
  return s.streams.hasControlFrames() || s.streams.nextSendable() !== null;
}

/**
 * Writes the next datagram into `out` (RFC 9000 §12.2, §13, §14); null when there is nothing to
 * send. `out` must hold at least 1200 bytes.
 */
export function buildDatagram(s: ConnState, out: Uint8Array, now: number): SendInfo | null {
  const k = s.phase.kind;
  if (k === 'closed' || k === 'draining') return null;
  if (k !== 'closing') {
    // RFC 9000 §8.2, §9.3.3: PATH_CHALLENGE / PATH_RESPONSE on paths other than the active one
    // (path-probe.ts), outside the active path's limits.
    const probe = buildPathProbe(s, out, now);
    if (probe !== null) return probe;
  }
  followPath(s, now); // RFC 9000 §14.2: a new path starts again at 1200 bytes (pmtud-probe.ts)
  let limit = Math.min(out.length, s.maxDatagramSize);
  // RFC 9000 §8.1: before validation a server sends at most 3x what it received.
  if (s.isServer && !s.addressValidated) {
    const credit = 3 * s.amplificationReceived - s.amplificationSent;
    if (credit < MIN_PACKET_ROOM) {
      s.recovery.setAmplificationBlocked(true, now);
      return null;
    }
    limit = Math.min(limit, credit);
  }
  // RFC 9000 §9.3: the same limit on a new path until it is validated.
  if (!s.pathValidated) {
    const credit = 3 * s.pathReceived - s.pathSent;
    if (credit < MIN_PACKET_ROOM) return null;
    limit = Math.min(limit, credit);
  }
  if (k === 'closing') return buildCloseDatagram(s, out, limit, now);
  maybeUpdateKeys(s, now);
  // RFC 9000 §14.4: a PMTU probe (PING + PADDING) is a datagram of its own.
  const mtuProbe = buildPmtuProbe(s, out, now);
  if (mtuProbe !== null) return mtuProbe;

  const built: Built[] = [];
  let offset = 0;
  let inFlightBytes = 0;
  let padInitial = false;
  for (const space of s.spaces) {
    if (limit - offset < MIN_PACKET_ROOM) break;
    const type = packetType(s, space);
    if (type === null) continue;
    // RFC 9000 §12.2: a 1-RTT packet (short header) must be the last in the datagram. Only
    // ACKs and CRYPTO retransmissions go in lower spaces once higher keys exist (RFC 9001 §4.9).
    const probe = space.probes > 0;
    const ccOk = probe || s.recovery.cc.canSend(inFlightBytes + s.maxDatagramSize);
    // A server's ack-eliciting Initial needs a 1200-byte datagram (RFC 9000 §14.1).
    const initialRoomOk = !(s.isServer && type === 'initial') || limit >= MIN_INITIAL_DATAGRAM;
    const elicit = ccOk && initialRoomOk && hasDataFor(s, space, type);
    // A peer that never acknowledges would make ACK-only packet records pile up: past a bound,
    // ACKs only ride on packets that carry data.
    const ackDue =
      type !== '0rtt' &&
      space.acks.ackPending &&
      space.acks.ackDue(now) &&
      (elicit || s.recovery.sentPackets(space.id).size < MAX_OUTSTANDING_PACKETS);
    if (!elicit && !ackDue) continue;
    const b = writePacket(s, space, type, out, offset, limit, elicit, now);
    if (b === null) continue;
    built.push(b);
    offset = b.payloadEnd + TAG_LENGTH;
    if (b.fill.ackEliciting) inFlightBytes += offset - b.start;
    if (type === 'initial' && (!s.isServer || b.fill.ackEliciting)) padInitial = true;
    if (type === '1rtt') break;
  }
  if (built.length === 0) return null;
  // RFC 9000 §14.1: pad the datagram to 1200 bytes, inside its last packet.
  if (padInitial && offset < MIN_INITIAL_DATAGRAM) {
    const last = built[built.length - 1];
    const pad = Math.min(MIN_INITIAL_DATAGRAM, limit) - offset;
    if (pad > 0) {
      out.fill(0, last.payloadEnd, last.payloadEnd + pad);
      last.payloadEnd += pad;
      last.padded = true;
      offset += pad;
      if (last.fill.qlog !== null)
        last.fill.qlog.push({ frame_type: 'padding', raw: { length: pad, payload_length: pad } });
    }
  }
  return finish(s, out, built, offset, now);
}

/** Writes one packet's header and frames at `start`; null (nothing written) when empty. */
function writePacket(
  s: ConnState,
  space: PacketSpace,
  type: PacketFill['type'],
  out: Uint8Array,
  start: number,
  limit: number,
  elicit: boolean,
  now: number,
): Built | null {
  const keys = writeKeys(s, space, type);
  const pn = space.nextPn;
  const largestAcked = s.recovery.largestAckedPacket(space.id);
  const pnLength = encodePacketNumberLength(pn, largestAcked < 0 ? null : largestAcked);
  const w = new Writer(out, start);
  let pnOffset: number;
  if (type === '1rtt') {
    const oneRtt = s.oneRtt as NonNullable<ConnState['oneRtt']>;
    pnOffset = writeShortHeader(w, {
      dcid: s.peerCids.dcid,
      spin: false,
      keyPhase: oneRtt.phase,
      quicBit: s.quicBit.next(),
      pnLength,
      pn,
    });
  } else {
    pnOffset = writeLongHeader(w, {
      type,
      version: s.version,
      dcid: s.peerCids.dcid,
      scid: s.localCids.currentScid,
      token: type === 'initial' && !s.isServer ? s.token : undefined,
      pnLength,
      pn,
    });
    patchHeaderVersion(s, out, start);
  }
  const payloadStart = w.offset;
  const end = limit - TAG_LENGTH;
  if (end - payloadStart < 8) return null;
  const fill: PacketFill = {
    type,
    elicit,
    ack: type !== '0rtt',
    probe: space.probes > 0,
    ackEliciting: false,
    payload: { ackLargest: -1, frames: [], oneRtt: type === '1rtt', type },
    qlog: s.trace ? [] : null,
  };
  const acked = writeAck(s, space, w, end, fill, now);
  if (elicit) {
    if (type === '1rtt') writeConnectionControl(s, w, end, fill);
    if (space.id === PacketNumberSpace.ApplicationData) writeStreamControl(s, w, end, fill, now);
    if (type !== '0rtt') writeCrypto(s, space, w, end, fill);
    // RFC 9221 §5: DATAGRAM frames as soon as possible, before STREAM data.
    if (type === '1rtt') writeDatagrams(s, w, end, fill);
    if (space.id === PacketNumberSpace.ApplicationData) writeStreams(s, w, end, fill);
    if (fill.probe && !fill.ackEliciting) writePing(s, w, end, fill, space.id);
  }
  if (w.offset === payloadStart) return null;
  // RFC 9001 §5.4.2: enough bytes after the packet number for the header protection sample.
  const minPayload = 4 - pnLength;
  const padded = w.offset - payloadStart < minPayload;
  if (padded) w.fill(0, minPayload - (w.offset - payloadStart));
  space.nextPn = pn + 1;
  if (acked) space.acks.onAckSent();
  if (fill.ackEliciting && space.probes > 0) {
    space.probes--;
    s.stats.probesSent++;
  }
  return { space, type, keys, start, pnOffset, pnLength, payloadEnd: w.offset, padded, pn, fill };
}

/** Protects the packets, records them for recovery, and returns the datagram's info. */
function finish(s: ConnState, out: Uint8Array, built: Built[], length: number, now: number): SendInfo {
  let anyInFlight = false;
  let anyEliciting = false;
  for (const b of built) if (b.fill.ackEliciting) anyInFlight = anyEliciting = true;
  // RFC 9002 §7.7: pacing (only in-flight datagrams are paced).
  let at = now;
  if (anyInFlight && s.config.pacing) at = Math.max(now, s.recovery.nextSendTime(now, length));
  // Release times never go backwards: a caller sending each datagram at its `at` keeps our
  // packets in order (an ACK-only datagram waits behind paced ones).
  if (at < s.lastSendAt) at = s.lastSendAt;
  s.lastSendAt = at;
  let sentHandshake = false;
  for (const b of built) {
    const payloadLength = b.payloadEnd - b.pnOffset - b.pnLength;
    if (b.type !== '1rtt') patchLength(out, b.pnOffset - 2, b.pnLength + payloadLength + TAG_LENGTH);
    const size = protectPacket(b.keys, out, b.start, b.pnOffset, b.pnLength, payloadLength, b.pn);
    if (b.type === '1rtt') (s.oneRtt as NonNullable<ConnState['oneRtt']>).onSealed(b.pn, b.fill.ackEliciting);
    if (b.type === 'handshake') sentHandshake = true;
    const eliciting = b.fill.ackEliciting;
    // Padding makes a packet count in flight (RFC 9002 §2), as does anything ack-eliciting.
    const inFlight = eliciting || b.padded;
    s.recovery.onPacketSent(new SentPacket(b.space.id, b.pn, size, eliciting, inFlight, b.fill.payload), at);
    s.stats.packetsSent++;
    if (s.trace) {
      s.tracer.event(now, 'quic:packet_sent', {
        header: {
          packet_type: b.type === '1rtt' ? '1RTT' : b.type === '0rtt' ? '0RTT' : b.type,
          packet_number: b.pn,
          packet_number_length: b.pnLength,
          ...(b.type === '1rtt'
            ? { key_phase: s.oneRtt?.generation }
            : { version: wireVersion(s).toString(16).padStart(8, '0') }),
        },
        frames: b.fill.qlog ?? undefined,
        raw: { length: size, payload_length: payloadLength },
        trigger: b.fill.probe ? 'pto_probe' : undefined,
      });
    }
  }
  s.stats.bytesSent += length;
  if (s.isServer && !s.addressValidated) s.amplificationSent += length;
  if (!s.pathValidated) s.pathSent += length;
  if (s.trace) s.tracer.event(now, 'quic:udp_datagrams_sent', { count: 1, raw: [{ length }] });
  // RFC 9000 §10.1: the first ack-eliciting packet after a receipt restarts the idle timer.
  if (anyEliciting && s.receivedSinceSend) {
    s.receivedSinceSend = false;
    if (s.idleTimeout > 0) s.idleDeadline = now + Math.max(s.idleTimeout, s.threePto());
  }
  // RFC 9001 §4.9.1: a client discards its Initial keys when it first sends a Handshake packet.
  if (sentHandshake && !s.isServer) discardSpace(s, PacketNumberSpace.Initial, now);
  return { length, from: s.local, to: s.peer, at };
}

/**
 * RFC 9001 §6: a key update asked for, or due automatically at 3/4 of the confidentiality limit
 * (§6.6: "MUST initiate a key update before sending more protected packets than the
 * confidentiality limit"); AEAD_LIMIT_REACHED if none was possible by the limit (key-phase.ts).
 */
function maybeUpdateKeys(s: ConnState, now: number): void {
  const keys = s.oneRtt;
  if (keys === null) return;
  if (!s.keyUpdateRequested && !keys.updateDue) return;
  if (s.handshakeConfirmed && keys.canInitiate) {
    keys.initiate();
    s.keyUpdateRequested = false;
    if (s.trace)
      for (const side of ['client', 'server'] as const)
        s.tracer.event(now, 'quic:key_updated', {
          key_type: `${side}_1rtt_secret`,
          key_phase: keys.generation,
          trigger: 'local_update',
        });
  } else if (keys.confidentialityExhausted) {
    throw new QuicError(
      TransportError.AEAD_LIMIT_REACHED,
      'confidentiality limit reached and no key update possible',
    );
  } else if (keys.updateDue && s.handshakeConfirmed) {
    // RFC 9001 §6.1: the update waits for an ACK of a packet of the current phase. An endpoint
    // sending only ACKs (which are not acknowledged by themselves) elicits one with a PING, and
    // again if it is lost: the latest ack-eliciting packet of the phase is no longer outstanding.
    const pn = keys.lastElicitingPn;
    if (pn < 0 || s.recovery.sentPackets(PacketNumberSpace.ApplicationData).get(pn) === undefined)
      s.pingPending = true;
  }
}

/**
 * Closing state (RFC 9000 §10.2.1, §10.2.3): CONNECTION_CLOSE in every space the peer may read:
 * before handshake confirmation in Initial and Handshake packets too.
 */
function buildCloseDatagram(s: ConnState, out: Uint8Array, limit: number, now: number): SendInfo | null {
  if (!s.closeSendPending) return null;
  s.closeSendPending = false;
  s.lastCloseSent = now;
  const w = new Writer(out, 0);
  let padStart = -1;
  const packets: {
    keys: PacketKeys;
    type: 'initial' | 'handshake' | '1rtt';
    frame: ConnectionCloseFrame;
    start: number;
    pnOffset: number;
    pnLength: 1 | 2 | 3 | 4;
    pn: number;
    long: boolean;
    end: number;
  }[] = [];
  for (const space of s.spaces) {
    const type = packetType(s, space);
    if (type === null || type === '0rtt') continue;
    // After confirmation, only 1-RTT (RFC 9000 §10.2.3).
    if (s.handshakeConfirmed && type !== '1rtt') continue;
    const keys = writeKeys(s, space, type);
    const pn = space.nextPn++;
    const start = w.offset;
    if (limit - start < 64) break;
    const pnOffset =
      type === '1rtt'
        ? writeShortHeader(w, {
            dcid: s.peerCids.dcid,
            spin: false,
            keyPhase: s.oneRtt?.phase ?? 0,
            quicBit: s.quicBit.next(),
            pnLength: 4,
            pn,
          })
        : writeLongHeader(w, {
            type,
            version: s.version,
            dcid: s.peerCids.dcid,
            scid: s.localCids.currentScid,
            token: type === 'initial' && !s.isServer ? s.token : undefined,
            pnLength: 4,
            pn,
          });
    if (type !== '1rtt') patchHeaderVersion(s, out, start);
    const room = limit - TAG_LENGTH - w.offset;
    if (room < 16) break;
    const sub = new Writer(out.subarray(0, limit - TAG_LENGTH), w.offset);
    let f = closeFrameFor(s, type === '1rtt');
    try {
      encodeFrame(sub, f);
    } catch {
      sub.offset = w.offset;
      f = { ...f, reason: new Uint8Array(0) };
      encodeFrame(sub, f);
    }
    if (type === 'initial' && !s.isServer) padStart = packets.length;
    packets.push({
      keys,
      type,
      frame: f,
      start,
      pnOffset,
      pnLength: 4,
      pn,
      long: type !== '1rtt',
      end: sub.offset,
    });
    w.offset = sub.offset + TAG_LENGTH;
    if (type === '1rtt') break;
  }
  if (packets.length === 0) return null;
  let length = packets[packets.length - 1].end + TAG_LENGTH;
  if (padStart >= 0 && length < MIN_INITIAL_DATAGRAM && limit >= MIN_INITIAL_DATAGRAM) {
    const last = packets[packets.length - 1];
    const pad = MIN_INITIAL_DATAGRAM - length;
    out.fill(0, last.end, last.end + pad);
    last.end += pad;
    length += pad;
  }
  for (const p of packets) {
    const payloadLength = p.end - p.pnOffset - p.pnLength;
    if (p.long) patchLength(out, p.pnOffset - 2, p.pnLength + payloadLength + TAG_LENGTH);
    const size = protectPacket(p.keys, out, p.start, p.pnOffset, p.pnLength, payloadLength, p.pn);
    if (s.trace)
      s.tracer.event(now, 'quic:packet_sent', {
        header: {
          packet_type: p.type === '1rtt' ? '1RTT' : p.type,
          packet_number: p.pn,
          packet_number_length: 4,
        },
        frames: [toQlogFrame(p.frame)],
        raw: { length: size, payload_length: payloadLength },
      });
  }
  s.stats.bytesSent += length;
  s.stats.packetsSent += packets.length;
  if (s.isServer && !s.addressValidated) s.amplificationSent += length;
  if (s.trace) s.tracer.event(now, 'quic:udp_datagrams_sent', { count: 1, raw: [{ length }] });
  const at = Math.max(now, s.lastSendAt);
  s.lastSendAt = at;
  return { length, from: s.local, to: s.peer, at };
}
