/**
 * Packet number truncation and recovery (RFC 9000 §17.1, Appendix A.2 and A.3).
 *
 * Packet numbers are JS numbers: exact up to 2^53 - 1, far beyond what a connection
 * can send. The arithmetic below avoids 32-bit bitwise operators for that reason.
 */

/** The largest packet number (RFC 9000 §12.3): 2^62 - 1. */
export const MAX_PACKET_NUMBER = 2 ** 62 - 1;

/**
 * The number of bytes (1..4) to encode `fullPn` with, given the largest packet number the
 * peer acknowledged in this space (null when none was): RFC 9000 §17.1, Appendix A.2.
 */
export function encodePacketNumberLength(fullPn: number, largestAcked: number | null): 1 | 2 | 3 | 4 {
  // RFC 9000 §17.1: before any acknowledgment the full packet number is covered
  // (num_unacked = full_pn + 1); after, the range must be more than twice the distance.
  const numUnacked = largestAcked === null ? fullPn + 1 : fullPn - largestAcked;
  // "able to represent more than twice as large a range": 2^(8n) > 2 * num_unacked.
  if (numUnacked < 0x80) return 1;
  if (numUnacked < 0x8000) return 2;
  if (numUnacked < 0x80_0000) return 3;
  return 4;
}

/** The low `pnLength` bytes of `fullPn`: the value of the Packet Number field. */
export function truncatePacketNumber(fullPn: number, pnLength: number): number {
  return fullPn % 2 ** (8 * pnLength);
}

/**
 * Recovers a full packet number from the `pnNbits` (8, 16, 24 or 32) bits received, given
 * the largest packet number processed in this space (-1 when none yet): RFC 9000 Appendix A.3.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnNbits: number): number {
  const expectedPn = largestPn + 1;
  const pnWin = 2 ** pnNbits;
  const pnHwin = pnWin / 2;
  // (expected_pn & ~pn_mask) | truncated_pn, without 32-bit bitwise operators.
  const candidatePn = expectedPn - (expectedPn % pnWin) + truncatedPn;
  if (candidatePn <= expectedPn - pnHwin && candidatePn < 2 ** 62 - pnWin) return candidatePn + pnWin;
  if (candidatePn > expectedPn + pnHwin && candidatePn >= pnWin) return candidatePn - pnWin;
  return candidatePn;
}

/** Writes the truncated packet number `pn` into `pnLength` bytes of `buf` at `offset`. */
export function writePacketNumber(buf: Uint8Array, offset: number, pn: number, pnLength: number): void {
  let v = truncatePacketNumber(pn, pnLength);
  for (let i = pnLength - 1; i >= 0; i--) {
    buf[offset + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

/** Reads a `pnLength`-byte packet number field (after header protection is removed). */
export function readPacketNumber(buf: Uint8Array, offset: number, pnLength: number): number {
  let v = 0;
  for (let i = 0; i < pnLength; i++) v = v * 256 + buf[offset + i];
  return v;
}
