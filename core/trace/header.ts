/**
 * Packet headers as qlog PacketHeader JSON (quic-events-13 §8.8), from the header types that
 * core/wire/packet.ts parses.
 */
import type { PacketHeader } from '../wire/packet.ts';
import type { PacketType } from '../wire/version.ts';
import type { QlogPacketHeader, QlogPacketType, QlogToken } from './events.ts';
import { hex, qlogVersion } from './format.ts';

/** The qlog PacketType name (§8.6) of a wire packet type. */
export function qlogPacketType(type: PacketType | 'unsupported_version'): QlogPacketType {
  switch (type) {
    case '0rtt':
      return '0RTT';
    case '1rtt':
      return '1RTT';
    case 'unsupported_version':
      // RFC 8999: without the version's rules the type bits mean nothing.
      return 'unknown';
    default:
      return type;
  }
}

/** What the header parser cannot know: packet number, key phase, how to log tokens. */
export interface QlogHeaderOptions {
  /** The decoded packet number (after header protection is removed, RFC 9000 §17.1). */
  packetNumber?: number;
  /** Bytes of the Packet Number field, 1..4. */
  packetNumberLength?: number;
  /** 1-RTT: the full key phase (RFC 9001 §6), when known; else give `keyPhaseBit`. */
  keyPhase?: number;
  /** 1-RTT: the Key Phase bit of the unprotected first byte. */
  keyPhaseBit?: boolean;
  /** The origin of an Initial packet's token, when the caller knows it (§8.9). */
  tokenType?: 'retry' | 'resumption';
  /** Log token bytes (not only their length). */
  raw?: boolean;
  /** With `raw`, the most token bytes to log. */
  rawLimit?: number;
}

const NO_OPTIONS: QlogHeaderOptions = {};

function token(
  bytes: Uint8Array,
  type: 'retry' | 'resumption' | undefined,
  options: QlogHeaderOptions,
): QlogToken {
  const out: QlogToken = {
    raw: options.raw
      ? { length: bytes.length, data: hex(bytes, options.rawLimit) }
      : { length: bytes.length },
  };
  if (type !== undefined) out.type = type;
  return out;
}

/** A parsed packet header as a qlog PacketHeader (§8.8), fields only where §8.8 allows them. */
export function toQlogPacketHeader(
  header: PacketHeader,
  options: QlogHeaderOptions = NO_OPTIONS,
): QlogPacketHeader {
  const out: QlogPacketHeader = { packet_type: qlogPacketType(header.type) };
  if (header.type === '1rtt') {
    out.spin_bit = header.spin;
    if (options.keyPhase !== undefined) out.key_phase = options.keyPhase;
    else if (options.keyPhaseBit !== undefined) out.key_phase_bit = options.keyPhaseBit;
  } else {
    out.version = qlogVersion(header.version); // 0 for Version Negotiation (RFC 9000 §17.2.1)
    out.scil = header.scid.length;
    out.scid = hex(header.scid);
  }
  out.dcil = header.dcid.length;
  out.dcid = hex(header.dcid);
  const numbered = header.type !== 'retry' && header.type !== 'version_negotiation';
  if (numbered && header.type !== 'unsupported_version') {
    if (options.packetNumberLength !== undefined) out.packet_number_length = options.packetNumberLength;
    if (options.packetNumber !== undefined) out.packet_number = options.packetNumber;
  }
  if (header.type === 'initial' || header.type === 'handshake' || header.type === '0rtt') {
    // §8.8: the Length field (packet number + payload).
    out.length = header.length;
  }
  if (header.type === 'initial' && header.token.length > 0) {
    out.token = token(header.token, options.tokenType, options);
  } else if (header.type === 'retry') {
    out.token = token(header.token, 'retry', options);
  }
  return out;
}
