/**
 * Packet headers as they can be read BEFORE header protection is removed (RFC 9000 §17,
 * RFC 8999 invariants, RFC 9369 §3.2): the first phase of a two-phase parse. Header
 * protection (RFC 9001 §5.4) then reveals the packet number length, the reserved bits and
 * the key phase; `packet-number.ts` recovers the full packet number.
 *
 * Everything returned is a subarray of the datagram (no copy). Malformed headers raise a
 * `QuicError` with PROTOCOL_VIOLATION: such a packet is to be dropped (RFC 9000 §5.2,
 * §12.2), not answered with CONNECTION_CLOSE, so the code is informational.
 *
 * Writers for headers, Version Negotiation, Retry and Stateless Reset are in packet-write.ts.
 */
import { QuicError, TransportError } from './errors.ts';
import { bytesEqual, varintAt } from './buffer.ts';
import { isSupportedVersion, longPacketType, type LongPacketType } from './version.ts';

/** Header Form bit (RFC 9000 §17.2): 1 for long headers. */
export const HEADER_FORM_BIT = 0x80;
/** The Fixed Bit, a.k.a. QUIC Bit (RFC 9000 §17.2, §17.3.1; RFC 9287 §3). */
export const QUIC_BIT = 0x40;
/** The latency spin bit of short headers (RFC 9000 §17.3.1); not header-protected. */
export const SPIN_BIT = 0x20;
/** The Key Phase bit of short headers (RFC 9000 §17.3.1); header-protected. */
export const KEY_PHASE_BIT = 0x04;
/** Reserved bits of long headers (RFC 9000 §17.2); must be 0 once unprotected. */
export const LONG_RESERVED_BITS = 0x0c;
/** Reserved bits of short headers (RFC 9000 §17.3.1); must be 0 once unprotected. */
export const SHORT_RESERVED_BITS = 0x18;
/** First-byte bits covered by header protection (RFC 9001 §5.4.1): long headers. */
export const LONG_HP_MASK = 0x0f;
/** First-byte bits covered by header protection (RFC 9001 §5.4.1): short headers. */
export const SHORT_HP_MASK = 0x1f;
/** Maximum connection ID length in QUIC v1 and v2 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;
/** Length of the Retry Integrity Tag (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** Initial, 0-RTT or Handshake packet: protected, with a Length field (RFC 9000 §17.2.2-17.2.4). */
export interface LongHeader {
  readonly type: Exclude<LongPacketType, 'retry'>;
  readonly version: number;
  /** The first byte as received: its low four bits are still header-protected. */
  readonly firstByte: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** The Token of an Initial packet (RFC 9000 §17.2.2); empty for other types. */
  readonly token: Uint8Array;
  /** The Length field: packet number plus protected payload, in bytes. */
  readonly length: number;
  /** Offset of the (protected) Packet Number field in the datagram. */
  readonly pnOffset: number;
  /** Offset of this packet's first byte in the datagram. */
  readonly start: number;
  /** Offset just past this packet: pnOffset + length (RFC 9000 §12.2). */
  readonly end: number;
}

/** 1-RTT packet (RFC 9000 §17.3.1): runs to the end of the datagram. */
export interface ShortHeader {
  readonly type: '1rtt';
  readonly firstByte: number;
  /** The latency spin bit (RFC 9000 §17.4), readable before header protection is removed. */
  readonly spin: boolean;
  readonly dcid: Uint8Array;
  readonly pnOffset: number;
  readonly start: number;
  readonly end: number;
}

/** Retry packet (RFC 9000 §17.2.5): the tag is not verified here (crypto does it). */
export interface RetryHeader {
  readonly type: 'retry';
  readonly version: number;
  readonly firstByte: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** The Retry Token: never empty (RFC 9000 §17.2.5.2). */
  readonly token: Uint8Array;
  /** The 16-byte Retry Integrity Tag (RFC 9001 §5.8). */
  readonly integrityTag: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** Version Negotiation packet (RFC 9000 §17.2.1, RFC 8999 §6): CIDs may be up to 255 bytes. */
export interface VersionNegotiationHeader {
  readonly type: 'version_negotiation';
  readonly version: 0;
  readonly firstByte: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** The Supported Version fields (never empty). */
  readonly versions: number[];
  readonly start: number;
  readonly end: number;
}

/**
 * A long header of a version this implementation does not speak: only the invariant fields
 * (RFC 8999 §5.1) are read, so that a server can answer with Version Negotiation (RFC 9000 §6.1).
 */
export interface UnsupportedVersionHeader {
  readonly type: 'unsupported_version';
  readonly version: number;
  readonly firstByte: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  readonly start: number;
  /** The end of the datagram: the rest cannot be delimited without knowing the version. */
  readonly end: number;
}

/** What `parseHeader` returns: one variant per kind of packet, discriminated by `type`. */
export type PacketHeader =
  LongHeader | ShortHeader | RetryHeader | VersionNegotiationHeader | UnsupportedVersionHeader;

const EMPTY: Uint8Array = new Uint8Array(0);

function malformed(reason: string): never {
  throw new QuicError(TransportError.PROTOCOL_VIOLATION, reason);
}

/** Reads a varint at `p` that must end by `end` (RFC 9000 §16); a truncation is malformed. */
function checkedVarintAt(b: Uint8Array, p: number, end: number, what: string): number {
  if (p >= end || p + (1 << (b[p] >> 6)) > end) malformed(`truncated ${what}`);
  return varintAt(b, p);
}

function u32At(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/**
 * Parses the packet starting at `offset` in `datagram` as far as is possible before header
 * protection is removed. `shortHeaderDcidLength` is the length of this endpoint's own
 * connection IDs (short headers do not carry it). `acceptZeroQuicBit` is true when this
 * endpoint advertised grease_quic_bit (RFC 9287 §3); otherwise a 0 QUIC bit is malformed.
 * Raises a PROTOCOL_VIOLATION `QuicError` for a malformed or truncated header.
 */
export function parseHeader(
  datagram: Uint8Array,
  offset: number,
  shortHeaderDcidLength: number,
  acceptZeroQuicBit = false,
): PacketHeader {
  const end = datagram.length;
  if (offset >= end) malformed('empty packet');
  const firstByte = datagram[offset];

  if ((firstByte & HEADER_FORM_BIT) === 0) {
    // RFC 9000 §17.3.1: Fixed Bit must be 1 unless grease_quic_bit was advertised (RFC 9287 §3).
    if (!acceptZeroQuicBit && (firstByte & QUIC_BIT) === 0) malformed('short header with QUIC bit 0');
    const pnOffset = offset + 1 + shortHeaderDcidLength;
    if (pnOffset >= end) malformed('truncated short header');
    return {
      type: '1rtt',
      firstByte,
      spin: (firstByte & SPIN_BIT) !== 0,
      dcid: datagram.subarray(offset + 1, pnOffset),
      pnOffset,
      start: offset,
      end,
    };
  }

  // RFC 8999 §5.1: version, DCID length and DCID, SCID length and SCID.
  if (end - offset < 7) malformed('truncated long header');
  const version = u32At(datagram, offset + 1);
  // RFC 9000 §17.2: CIDs over 20 bytes are invalid in v1 (and v2); other versions may use
  // up to 255 bytes and must still be readable to send Version Negotiation (RFC 8999 §5.1).
  const maxCid = isSupportedVersion(version) ? MAX_CID_LENGTH : 255;
  let p = offset + 5;
  const dcidLength = datagram[p++];
  if (dcidLength > maxCid) malformed(`destination connection ID of ${dcidLength} bytes`);
  if (p + dcidLength >= end) malformed('truncated destination connection ID');
  const dcid = datagram.subarray(p, p + dcidLength);
  p += dcidLength;
  const scidLength = datagram[p++];
  if (scidLength > maxCid) malformed(`source connection ID of ${scidLength} bytes`);
  if (p + scidLength > end) malformed('truncated source connection ID');
  const scid = datagram.subarray(p, p + scidLength);
  p += scidLength;

  if (version === 0) {
    // RFC 8999 §6: ignore a Version Negotiation packet with no or a truncated Supported Version.
    const rest = end - p;
    if (rest === 0 || rest % 4 !== 0) malformed('version negotiation with a truncated version list');
    const versions: number[] = [];
    for (; p < end; p += 4) versions.push(u32At(datagram, p));
    return { type: 'version_negotiation', version: 0, firstByte, dcid, scid, versions, start: offset, end };
  }

  if (!isSupportedVersion(version)) {
    return { type: 'unsupported_version', version, firstByte, dcid, scid, start: offset, end };
  }

  // RFC 9000 §17.2: packets with a 0 Fixed Bit are discarded (unless RFC 9287 applies).
  if (!acceptZeroQuicBit && (firstByte & QUIC_BIT) === 0) malformed('long header with QUIC bit 0');
  const type = longPacketType(version, (firstByte >> 4) & 3) as LongPacketType;

  if (type === 'retry') {
    // RFC 9000 §17.2.5: Retry Token (..), Retry Integrity Tag (128).
    const tagStart = end - RETRY_INTEGRITY_TAG_LENGTH;
    if (tagStart < p) malformed('truncated retry integrity tag');
    // RFC 9000 §17.2.5.2: a client MUST discard a Retry with a zero-length Retry Token.
    if (tagStart === p) malformed('retry with an empty token');
    return {
      type,
      version,
      firstByte,
      dcid,
      scid,
      token: datagram.subarray(p, tagStart),
      integrityTag: datagram.subarray(tagStart, end),
      start: offset,
      end,
    };
  }

  let token: Uint8Array = EMPTY;
  if (type === 'initial') {
    // RFC 9000 §17.2.2: Token Length (i), Token (..).
    const tokenLength = checkedVarintAt(datagram, p, end, 'token length');
    p += 1 << (datagram[p] >> 6);
    if (tokenLength > end - p) malformed('truncated token');
    token = datagram.subarray(p, p + tokenLength);
    p += tokenLength;
  }
  // RFC 9000 §17.2: Length (i) covers the Packet Number and the Payload.
  const length = checkedVarintAt(datagram, p, end, 'length');
  p += 1 << (datagram[p] >> 6);
  if (length > end - p) malformed(`length ${length} exceeds the ${end - p} bytes left in the datagram`);
  if (length === 0) malformed('length 0 leaves no packet number');
  return { type, version, firstByte, dcid, scid, token, length, pnOffset: p, start: offset, end: p + length };
}

/**
 * Routing facts about the first packet of a datagram, as offsets into it so that reading them
 * allocates nothing (pass `out` to reuse one object). The datagram-size check for Initials
 * (≥ 1200 bytes, RFC 9000 §14.1) is left to the caller; so is the QUIC bit (parseHeader checks it).
 */
export interface DatagramRouting {
  /** Long or short header (RFC 8999 §5). */
  long: boolean;
  /** The Version field; null for a short header. */
  version: number | null;
  /** The packet type, or 'unsupported_version' for a long header of an unknown version. */
  type: PacketHeader['type'];
  dcidOffset: number;
  dcidLength: number;
  /** SCID position (length 0 for a short header). */
  scidOffset: number;
  scidLength: number;
  /** Token position for an Initial (length 0 otherwise). */
  tokenOffset: number;
  tokenLength: number;
}

/** A fresh DatagramRouting to reuse with `parseDatagramRouting`. */
export function newDatagramRouting(): DatagramRouting {
  return {
    long: false,
    version: null,
    type: '1rtt',
    dcidOffset: 0,
    dcidLength: 0,
    scidOffset: 0,
    scidLength: 0,
    tokenOffset: 0,
    tokenLength: 0,
  };
}

/**
 * Reads the minimum an endpoint needs to route `datagram` to a connection, or to answer it
 * without one (Version Negotiation, Retry, stateless reset): RFC 9000 §5.2, RFC 8999 §5.
 * Raises a PROTOCOL_VIOLATION `QuicError` when even that cannot be read.
 */
export function parseDatagramRouting(
  datagram: Uint8Array,
  shortDcidLength: number,
  out: DatagramRouting = newDatagramRouting(),
): DatagramRouting {
  const end = datagram.length;
  if (end === 0) malformed('empty datagram');
  const firstByte = datagram[0];
  out.scidOffset = out.scidLength = out.tokenOffset = out.tokenLength = 0;
  if ((firstByte & HEADER_FORM_BIT) === 0) {
    if (1 + shortDcidLength >= end) malformed('truncated short header');
    out.long = false;
    out.version = null;
    out.type = '1rtt';
    out.dcidOffset = 1;
    out.dcidLength = shortDcidLength;
    return out;
  }
  if (end < 7) malformed('truncated long header');
  const version = u32At(datagram, 1);
  const maxCid = isSupportedVersion(version) ? MAX_CID_LENGTH : 255;
  const dcidLength = datagram[5];
  if (dcidLength > maxCid) malformed(`destination connection ID of ${dcidLength} bytes`);
  if (6 + dcidLength >= end) malformed('truncated destination connection ID');
  const scidOffset = 7 + dcidLength;
  const scidLength = datagram[scidOffset - 1];
  if (scidLength > maxCid) malformed(`source connection ID of ${scidLength} bytes`);
  if (scidOffset + scidLength > end) malformed('truncated source connection ID');
  out.long = true;
  out.version = version;
  out.dcidOffset = 6;
  out.dcidLength = dcidLength;
  out.scidOffset = scidOffset;
  out.scidLength = scidLength;
  if (version === 0) out.type = 'version_negotiation';
  else if (!isSupportedVersion(version)) out.type = 'unsupported_version';
  else {
    const type = longPacketType(version, (firstByte >> 4) & 3) as LongPacketType;
    out.type = type;
    if (type === 'initial') {
      let p = scidOffset + scidLength;
      const tokenLength = checkedVarintAt(datagram, p, end, 'token length');
      p += 1 << (datagram[p] >> 6);
      if (tokenLength > end - p) malformed('truncated token');
      out.tokenOffset = p;
      out.tokenLength = tokenLength;
    }
  }
  return out;
}

/** One packet of a datagram, as found by `splitCoalesced`. */
export interface CoalescedPacket {
  /** [start, end) of the packet in the datagram. */
  readonly start: number;
  readonly end: number;
  /** Its header, or null when it could not be parsed (then `error` says why). */
  readonly header: PacketHeader | null;
  /** False when its DCID differs from the first packet's: RFC 9000 §12.2 says ignore it. */
  readonly sameDcid: boolean;
  readonly error: QuicError | null;
}

/**
 * Splits a datagram into its coalesced packets (RFC 9000 §12.2), parsing each header once.
 * A short header, Retry, Version Negotiation or unknown-version packet runs to the end of
 * the datagram. A malformed first packet raises its `QuicError` (the whole datagram is
 * dropped); a malformed later one ends the list with an entry carrying the error, so the
 * packets before it can still be processed.
 */
export function splitCoalesced(
  datagram: Uint8Array,
  shortDcidLength: number,
  acceptZeroQuicBit = false,
): CoalescedPacket[] {
  const first = parseHeader(datagram, 0, shortDcidLength, acceptZeroQuicBit);
  const packets: CoalescedPacket[] = [
    { start: 0, end: first.end, header: first, sameDcid: true, error: null },
  ];
  let p = first.end;
  while (p < datagram.length) {
    let header: PacketHeader;
    try {
      header = parseHeader(datagram, p, shortDcidLength, acceptZeroQuicBit);
    } catch (e) {
      if (!(e instanceof QuicError)) throw e;
      packets.push({ start: p, end: datagram.length, header: null, sameDcid: false, error: e });
      break;
    }
    // RFC 9000 §12.2: receivers SHOULD ignore packets with a different DCID than the first.
    packets.push({
      start: p,
      end: header.end,
      header,
      sameDcid: bytesEqual(header.dcid, first.dcid),
      error: null,
    });
    p = header.end;
  }
  return packets;
}

/** The Packet Number Length (1..4) from an unprotected first byte (RFC 9000 §17.2, §17.3.1). */
export function packetNumberLength(unprotectedFirstByte: number): 1 | 2 | 3 | 4 {
  return ((unprotectedFirstByte & 0x03) + 1) as 1 | 2 | 3 | 4;
}

/**
 * Whether the reserved bits of an unprotected first byte are non-zero: after packet
 * protection is also removed, that is a PROTOCOL_VIOLATION (RFC 9000 §17.2, §17.3.1).
 */
export function reservedBitsSet(unprotectedFirstByte: number): boolean {
  return (
    (unprotectedFirstByte &
      ((unprotectedFirstByte & HEADER_FORM_BIT) !== 0 ? LONG_RESERVED_BITS : SHORT_RESERVED_BITS)) !==
    0
  );
}

/** The Key Phase bit of an unprotected short-header first byte (RFC 9001 §6). */
export function keyPhase(unprotectedFirstByte: number): 0 | 1 {
  return (unprotectedFirstByte & KEY_PHASE_BIT) !== 0 ? 1 : 0;
}
