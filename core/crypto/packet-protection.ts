/**
 * QUIC packet protection (RFC 9001 §5.3-5.4): AEAD sealing in place in the datagram buffer,
 * then header protection; and the reverse on receipt, in two steps so the caller can decode
 * the packet number between them.
 */

import type { PacketKeys } from './keys.ts';
import { TAG_LENGTH } from './keys.ts';
import type { HeaderProtectionKey } from './provider.ts';

/** The header-protection sample starts 4 bytes after the packet number's start (§5.4.2). */
export const SAMPLE_OFFSET = 4;
/** The sample is 16 bytes for every QUIC header-protection algorithm (§5.4.2). */
export const SAMPLE_LENGTH = 16;

/**
 * XORs the header-protection mask into the first byte and the `pnLength` packet-number bytes
 * (RFC 9001 §5.4.1). Applying it twice restores the input, so this both protects a header
 * and, after `unprotectHeader`, restores the protected header (e.g. to drop or forward it).
 */
export function applyHeaderProtection(
  hp: HeaderProtectionKey,
  buf: Uint8Array,
  headerOffset: number,
  pnOffset: number,
  pnLength: number,
): void {
  const s = pnOffset + SAMPLE_OFFSET;
  const mask = hp.mask(buf.subarray(s, s + SAMPLE_LENGTH));
  // RFC 9001 §5.4.1: 4 bits of a long header's first byte, 5 bits of a short header's.
  buf[headerOffset] ^= mask[0] & (buf[headerOffset] & 0x80 ? 0x0f : 0x1f);
  for (let i = 0; i < pnLength; i++) buf[pnOffset + i] ^= mask[1 + i];
}

/**
 * Protects a packet in place (RFC 9001 §5.3, §5.4). `buf[headerOffset, pnOffset + pnLength)`
 * is the unprotected header, the plaintext payload follows it (`payloadLength` bytes), and
 * 16 bytes after the payload are free for the tag. Seals the payload with
 * nonce = iv XOR packetNumber and AAD = the header, then applies header protection.
 * Returns the protected packet's length (from `headerOffset`).
 * RangeError when the payload is too short to sample (the caller must pad, §5.4.2).
 */
export function protectPacket(
  keys: PacketKeys,
  buf: Uint8Array,
  headerOffset: number,
  pnOffset: number,
  pnLength: number,
  payloadLength: number,
  packetNumber: number,
): number {
  if (pnLength < 1 || pnLength > 4) throw new RangeError(`packet number length ${pnLength}`);
  const payloadOffset = pnOffset + pnLength;
  const end = payloadOffset + payloadLength + TAG_LENGTH;
  if (end > buf.length) throw new RangeError('protectPacket: no room for the AEAD tag');
  // RFC 9001 §5.4.2: pn length + payload must be at least 4 bytes so the sample exists.
  if (pnLength + payloadLength < SAMPLE_OFFSET) {
    throw new RangeError('protectPacket: payload too short for a header-protection sample');
  }
  keys.aead.sealInto(
    keys.nonceFor(packetNumber),
    buf.subarray(headerOffset, payloadOffset),
    buf.subarray(payloadOffset, payloadOffset + payloadLength),
    buf,
    payloadOffset,
  );
  applyHeaderProtection(keys.hp, buf, headerOffset, pnOffset, pnLength);
  return end - headerOffset;
}

/** What removing header protection reveals. */
export interface UnprotectedHeader {
  /** The packet number length, 1 to 4 bytes (the low 2 bits of the first byte, plus 1). */
  readonly pnLength: number;
  /** The truncated packet number, to be decoded against the largest one acknowledged (RFC 9000 §A.3). */
  readonly truncatedPn: number;
}

/**
 * Removes header protection in place (RFC 9001 §5.4.2): unmasks the first byte and the
 * packet number. Returns null when the packet is too short to hold a sample before
 * `packetEnd` (the packet is then dropped). `applyHeaderProtection` with the returned
 * pnLength undoes this, if the caller must restore the bytes.
 */
export function unprotectHeader(
  hp: HeaderProtectionKey,
  buf: Uint8Array,
  headerOffset: number,
  pnOffset: number,
  packetEnd: number = buf.length,
): UnprotectedHeader | null {
  const s = pnOffset + SAMPLE_OFFSET;
  if (s + SAMPLE_LENGTH > packetEnd || packetEnd > buf.length) return null;
  const mask = hp.mask(buf.subarray(s, s + SAMPLE_LENGTH));
  const first = (buf[headerOffset] ^= mask[0] & (buf[headerOffset] & 0x80 ? 0x0f : 0x1f));
  const pnLength = (first & 0x03) + 1;
  let pn = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = (buf[pnOffset + i] ^= mask[1 + i]);
    pn = pn * 256 + b;
  }
  return { pnLength, truncatedPn: pn };
}

/**
 * Decrypts the payload of a packet whose header protection is removed (RFC 9001 §5.3).
 * `packetNumber` is the full, decoded packet number. Returns the plaintext (a new array;
 * `buf` is not modified, so a failed attempt can be retried with other keys, e.g. the
 * next key phase), or null when authentication fails.
 */
export function openPayload(
  keys: PacketKeys,
  buf: Uint8Array,
  headerOffset: number,
  pnOffset: number,
  pnLength: number,
  packetEnd: number,
  packetNumber: number,
): Uint8Array | null {
  const payloadOffset = pnOffset + pnLength;
  if (packetEnd - payloadOffset < TAG_LENGTH || packetEnd > buf.length) return null;
  return keys.aead.open(
    keys.nonceFor(packetNumber),
    buf.subarray(headerOffset, payloadOffset),
    buf.subarray(payloadOffset, packetEnd),
  );
}
