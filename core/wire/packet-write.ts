/**
 * Packet header writers (RFC 9000 §17.2, §17.3.1), Version Negotiation (§17.2.1), Retry
 * (§17.2.5, RFC 9001 §5.8) and Stateless Reset (§10.3). Headers are written unprotected,
 * reserved bits 0; header and packet protection are applied afterwards by crypto.
 */
import type { Writer } from './buffer.ts';
import { longPacketTypeBits, type LongPacketType } from './version.ts';
import { HEADER_FORM_BIT, KEY_PHASE_BIT, MAX_CID_LENGTH, QUIC_BIT, SPIN_BIT } from './packet.ts';
import { truncatePacketNumber } from './packet-number.ts';

/** Fields of an Initial, 0-RTT or Handshake header. */
export interface LongHeaderFields {
  type: Exclude<LongPacketType, 'retry'>;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only (RFC 9000 §17.2.2); must be absent or empty for other types. */
  token?: Uint8Array;
  pnLength: 1 | 2 | 3 | 4;
  /** The full packet number; its low `pnLength` bytes are written. */
  pn: number;
  /**
   * Bytes after the Packet Number field (frames plus the AEAD tag). When omitted, Length is
   * written as a 2-byte placeholder to fill in with `patchLength`.
   */
  payloadLength?: number;
  /** The QUIC (Fixed) bit; false only once the peer sent grease_quic_bit (RFC 9287 §3.1). */
  quicBit?: boolean;
}

/** Fields of a 1-RTT (short) header. */
export interface ShortHeaderFields {
  dcid: Uint8Array;
  spin: boolean;
  keyPhase: boolean | 0 | 1;
  pnLength: 1 | 2 | 3 | 4;
  pn: number;
  /** The QUIC (Fixed) bit; false only once the peer sent grease_quic_bit (RFC 9287 §3.1). */
  quicBit?: boolean;
}

/** Fields of a Retry packet (the tag is appended by the caller). */
export interface RetryFields {
  version: number;
  /** The client's SCID (RFC 9000 §17.2.5.1). */
  dcid: Uint8Array;
  /** The server's new CID, which must differ from the client's DCID (RFC 9000 §17.2.5.1). */
  scid: Uint8Array;
  token: Uint8Array;
  /** The four Unused bits (RFC 9000 §17.2.5): arbitrary, 0 when omitted. */
  unused?: number;
  quicBit?: boolean;
}

const EMPTY: Uint8Array = new Uint8Array(0);

function checkCid(cid: Uint8Array, what: string, max = MAX_CID_LENGTH): void {
  if (cid.length > max) throw new RangeError(`${what} of ${cid.length} bytes (max ${max})`);
}

function writePn(w: Writer, pn: number, pnLength: number): void {
  const v = truncatePacketNumber(pn, pnLength);
  if (pnLength === 1) w.u8(v);
  else if (pnLength === 2) w.u16(v);
  else if (pnLength === 3) w.u24(v);
  else w.u32(v);
}

/**
 * Writes an unprotected Initial, 0-RTT or Handshake header (RFC 9000 §17.2) with Length as a
 * 2-byte varint (so packets stay under 16384 bytes) and returns the Packet Number offset; the
 * Length field sits at pnOffset - 2 (see `patchLength`).
 */
export function writeLongHeader(w: Writer, h: LongHeaderFields): number {
  checkCid(h.dcid, 'destination connection ID');
  checkCid(h.scid, 'source connection ID');
  const token = h.token;
  if (h.type !== 'initial' && token !== undefined && token.length > 0) {
    throw new RangeError(`a ${h.type} packet has no token`);
  }
  const bits = longPacketTypeBits(h.version, h.type);
  // RFC 9000 §17.2: form 1, fixed 1, type, reserved bits 0, packet number length - 1.
  w.u8(HEADER_FORM_BIT | (h.quicBit === false ? 0 : QUIC_BIT) | (bits << 4) | (h.pnLength - 1));
  w.u32(h.version);
  w.u8(h.dcid.length).bytes(h.dcid);
  w.u8(h.scid.length).bytes(h.scid);
  if (h.type === 'initial') w.varintBytes(token ?? EMPTY);
  w.varintN(h.payloadLength === undefined ? 0 : h.pnLength + h.payloadLength, 2);
  const pnOffset = w.offset;
  writePn(w, h.pn, h.pnLength);
  return pnOffset;
}

/** Writes `length` (packet number + payload, ≤ 16383) as the 2-byte Length field at `lengthOffset`. */
export function patchLength(buf: Uint8Array, lengthOffset: number, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 0x3fff) {
    throw new RangeError(`length ${length} does not fit a 2-byte varint`);
  }
  if (lengthOffset + 2 > buf.length) throw new RangeError('length field outside the buffer');
  buf[lengthOffset] = 0x40 | (length >>> 8);
  buf[lengthOffset + 1] = length & 0xff;
}

/** Writes an unprotected 1-RTT header (RFC 9000 §17.3.1); returns the Packet Number offset. */
export function writeShortHeader(w: Writer, h: ShortHeaderFields): number {
  checkCid(h.dcid, 'destination connection ID');
  // RFC 9000 §17.3.1: form 0, fixed 1, spin, reserved bits 0, key phase, pn length - 1.
  w.u8(
    (h.quicBit === false ? 0 : QUIC_BIT) |
      (h.spin ? SPIN_BIT : 0) |
      (h.keyPhase ? KEY_PHASE_BIT : 0) |
      (h.pnLength - 1),
  );
  w.bytes(h.dcid);
  const pnOffset = w.offset;
  writePn(w, h.pn, h.pnLength);
  return pnOffset;
}

/**
 * Writes a Version Negotiation packet into `out` and returns its length (RFC 9000 §17.2.1).
 * The caller swaps the CIDs: `dcid` is the SCID of the packet being answered and `scid` its
 * DCID (each up to 255 bytes, RFC 8999 §6). `randomByte` fills the Unused bits.
 */
export function buildVersionNegotiation(
  out: Uint8Array,
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  randomByte: number,
): number {
  checkCid(dcid, 'destination connection ID', 255);
  checkCid(scid, 'source connection ID', 255);
  // RFC 8999 §6: a client ignores a Version Negotiation packet without versions.
  if (versions.length === 0) throw new RangeError('version negotiation needs at least one version');
  const n = 7 + dcid.length + scid.length + 4 * versions.length;
  if (out.length < n) throw new RangeError(`buffer overflow: need ${n} bytes, have ${out.length}`);
  // RFC 9000 §17.2.1: Unused bits arbitrary, but 0x40 SHOULD be set (looks like a Fixed Bit).
  out[0] = HEADER_FORM_BIT | QUIC_BIT | (randomByte & 0x3f);
  out[1] = out[2] = out[3] = out[4] = 0; // Version = 0
  let p = 5;
  out[p++] = dcid.length;
  out.set(dcid, p);
  p += dcid.length;
  out[p++] = scid.length;
  out.set(scid, p);
  p += scid.length;
  for (const v of versions) {
    out[p] = v >>> 24;
    out[p + 1] = v >>> 16;
    out[p + 2] = v >>> 8;
    out[p + 3] = v;
    p += 4;
  }
  return n;
}

/**
 * Writes a Retry packet without its integrity tag (RFC 9000 §17.2.5) and returns the number
 * of bytes written. The caller computes the tag over `buildRetryPseudoPacket` and appends it.
 */
export function writeRetry(w: Writer, r: RetryFields): number {
  checkCid(r.dcid, 'destination connection ID');
  checkCid(r.scid, 'source connection ID');
  if (r.token.length === 0) throw new RangeError('a Retry token cannot be empty'); // RFC 9000 §17.2.5.2
  const start = w.offset;
  const bits = longPacketTypeBits(r.version, 'retry');
  w.u8(HEADER_FORM_BIT | (r.quicBit === false ? 0 : QUIC_BIT) | (bits << 4) | ((r.unused ?? 0) & 0x0f));
  w.u32(r.version);
  w.u8(r.dcid.length).bytes(r.dcid);
  w.u8(r.scid.length).bytes(r.scid);
  w.bytes(r.token);
  return w.offset - start;
}

/**
 * The Retry Pseudo-Packet (RFC 9001 §5.8, Figure 8): ODCID Length, the client's original
 * DCID, then the Retry packet without its tag. The tag is AES-128-GCM over it as AAD.
 */
export function buildRetryPseudoPacket(odcid: Uint8Array, retryPacketWithoutTag: Uint8Array): Uint8Array {
  checkCid(odcid, 'original destination connection ID');
  const out = new Uint8Array(1 + odcid.length + retryPacketWithoutTag.length);
  out[0] = odcid.length;
  out.set(odcid, 1);
  out.set(retryPacketWithoutTag, 1 + odcid.length);
  return out;
}

/** Length of a stateless reset token (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** The smallest Stateless Reset: 5 bytes of header-like prefix plus the token (RFC 9000 §10.3). */
export const MIN_STATELESS_RESET_LENGTH = 21;

/**
 * The trailing 16 bytes of `datagram`, to compare (in constant time) with the stateless reset
 * tokens of the connection's peer (RFC 9000 §10.3.1), or null when the datagram is shorter
 * than 21 bytes and so cannot be a Stateless Reset (RFC 9000 §10.3).
 */
export function statelessResetTokenCandidate(datagram: Uint8Array): Uint8Array | null {
  if (datagram.length < MIN_STATELESS_RESET_LENGTH) return null;
  return datagram.subarray(datagram.length - STATELESS_RESET_TOKEN_LENGTH);
}

/**
 * Writes a Stateless Reset of `length` bytes into `out` and returns `length` (RFC 9000 §10.3):
 * a first byte with form 0 and fixed bit 1, unpredictable bits from `randomBytes` (at least
 * length - 16 of them), then `token`. The caller picks `length`: at least 21 and smaller than
 * the packet that triggered it (§10.3.3).
 */
export function buildStatelessReset(
  out: Uint8Array,
  token: Uint8Array,
  length: number,
  randomBytes: Uint8Array,
): number {
  if (token.length !== STATELESS_RESET_TOKEN_LENGTH)
    throw new RangeError('stateless reset token must be 16 bytes');
  if (!Number.isInteger(length) || length < MIN_STATELESS_RESET_LENGTH) {
    throw new RangeError(`stateless reset of ${length} bytes: minimum is ${MIN_STATELESS_RESET_LENGTH}`);
  }
  if (out.length < length) throw new RangeError(`buffer overflow: need ${length} bytes, have ${out.length}`);
  const unpredictable = length - STATELESS_RESET_TOKEN_LENGTH;
  if (randomBytes.length < unpredictable) throw new RangeError(`need ${unpredictable} random bytes`);
  out.set(randomBytes.subarray(0, unpredictable), 0);
  // RFC 9000 §10.3, Figure 10: Fixed Bits (2) = 1, i.e. form 0 and QUIC bit 1.
  out[0] = (out[0] & 0x3f) | QUIC_BIT;
  out.set(token, unpredictable);
  return length;
}
