/**
 * QUIC version numbers (RFC 9000 §15, RFC 9369 §3.1) and the long-header packet type bits,
 * which differ between QUIC v1 (RFC 9000 §17.2, Table 5) and v2 (RFC 9369 §3.2).
 */

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_VERSION_1 = 0x0000_0001;
/** QUIC version 2 (RFC 9369 §3.1). */
export const QUIC_VERSION_2 = 0x6b33_43cf;
/** The Version field of a Version Negotiation packet (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION = 0x0000_0000;

/** The versions this implementation speaks, in order of preference. */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_VERSION_1, QUIC_VERSION_2];

/** Whether `version` is one this implementation speaks (v1 or v2). */
export function isSupportedVersion(version: number): boolean {
  return version === QUIC_VERSION_1 || version === QUIC_VERSION_2;
}

/** Whether `version` follows the reserved pattern 0x?a?a?a?a (RFC 9000 §15). */
export function isReservedVersion(version: number): boolean {
  // RFC 9000 §15: the low four bits of every byte are 1010.
  return (version & 0x0f0f_0f0f) === 0x0a0a_0a0a;
}

/**
 * A reserved (greasing) version 0x?a?a?a?a built from four random bytes (only their high
 * nibbles are used), to exercise version negotiation (RFC 9000 §15, §6.3).
 */
export function greaseVersion(random: Uint8Array): number {
  if (random.length < 4) throw new RangeError('greaseVersion needs 4 random bytes');
  return (
    (((random[0] & 0xf0) << 24) |
      ((random[1] & 0xf0) << 16) |
      ((random[2] & 0xf0) << 8) |
      (random[3] & 0xf0) |
      0x0a0a_0a0a) >>>
    0
  );
}

/** The six QUIC packet types (internal names). */
export type PacketType = 'initial' | '0rtt' | 'handshake' | 'retry' | 'version_negotiation' | '1rtt';

/** The long-header packet types: those whose type is carried in the Long Packet Type bits. */
export type LongPacketType = 'initial' | '0rtt' | 'handshake' | 'retry';

/** Packet type → qlog PacketType name (draft-ietf-quic-qlog-quic-events-13 §8.6). */
export const QLOG_PACKET_TYPE: Readonly<Record<PacketType, string>> = {
  initial: 'initial',
  '0rtt': '0RTT',
  handshake: 'handshake',
  retry: 'retry',
  version_negotiation: 'version_negotiation',
  '1rtt': '1RTT',
};

// Index = the two Long Packet Type bits (mask 0x30 of the first byte, shifted down).
const V1_TYPES: readonly LongPacketType[] = ['initial', '0rtt', 'handshake', 'retry']; // RFC 9000 Table 5
const V2_TYPES: readonly LongPacketType[] = ['retry', 'initial', '0rtt', 'handshake']; // RFC 9369 §3.2

/**
 * The long-header packet type that `bits` (0..3, the first byte's 0x30 field shifted down)
 * denotes in `version`, or null when the version is not supported.
 */
export function longPacketType(version: number, bits: number): LongPacketType | null {
  if (version === QUIC_VERSION_1) return V1_TYPES[bits & 3];
  if (version === QUIC_VERSION_2) return V2_TYPES[bits & 3];
  return null;
}

/** The two Long Packet Type bits (0..3) for `type` in `version`; RangeError if unsupported. */
export function longPacketTypeBits(version: number, type: LongPacketType): number {
  if (version === QUIC_VERSION_1) {
    // RFC 9000 §17.2, Table 5
    return type === 'initial' ? 0 : type === '0rtt' ? 1 : type === 'handshake' ? 2 : 3;
  }
  if (version === QUIC_VERSION_2) {
    // RFC 9369 §3.2
    return type === 'initial' ? 1 : type === '0rtt' ? 2 : type === 'handshake' ? 3 : 0;
  }
  throw new RangeError(`unsupported QUIC version 0x${version.toString(16)}`);
}

/** A version as the qlog QuicVersion hexstring (8 hex digits). */
export function versionToHex(version: number): string {
  return (version >>> 0).toString(16).padStart(8, '0');
}
