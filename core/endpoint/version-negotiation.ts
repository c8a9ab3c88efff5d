/**
 * Version Negotiation from a server (RFC 9000 §6.1, §17.2.1; RFC 8999 §6): the answer to a
 * datagram that could start a connection in a version we do not speak.
 */
import { buildVersionNegotiation } from '../wire/packet-write.ts';
import { HEADER_FORM_BIT } from '../wire/packet.ts';
import { greaseVersion, SUPPORTED_VERSIONS, VERSION_NEGOTIATION } from '../wire/version.ts';

/** The smallest datagram that can start a connection in QUIC v1 and v2 (RFC 9000 §14.1). */
export const MIN_INITIAL_DATAGRAM_SIZE = 1200;

/** Random bytes `negotiateVersion` needs: 1 for the Unused bits, 4 for the greased version. */
export const VERSION_NEGOTIATION_RANDOM_BYTES = 5;

/**
 * If `datagram` calls for a Version Negotiation packet, writes it into `out` and returns its
 * length; otherwise returns 0. One is due for a long header of a version other than ours whose
 * datagram is at least 1200 bytes (RFC 9000 §5.2.2, §6.1, §14.1: smaller ones are dropped);
 * never for a short header or for a Version Negotiation packet (§6.1). The packet lists
 * `versions` plus a reserved version 0x?a?a?a?a (§6.3, §15) and swaps the connection IDs
 * (§17.2.1). `random` holds VERSION_NEGOTIATION_RANDOM_BYTES fresh random bytes.
 */
export function negotiateVersion(
  datagram: Uint8Array,
  out: Uint8Array,
  random: Uint8Array,
  versions: readonly number[] = SUPPORTED_VERSIONS,
): number {
  if (random.length < VERSION_NEGOTIATION_RANDOM_BYTES)
    throw new RangeError(`need ${VERSION_NEGOTIATION_RANDOM_BYTES} random bytes`);
  const end = datagram.length;
  if (end < MIN_INITIAL_DATAGRAM_SIZE || (datagram[0] & HEADER_FORM_BIT) === 0) return 0;
  // RFC 8999 §5.1: the version-independent fields of a long header.
  const version = ((datagram[1] << 24) | (datagram[2] << 16) | (datagram[3] << 8) | datagram[4]) >>> 0;
  if (version === VERSION_NEGOTIATION || versions.includes(version)) return 0;
  const dcidLength = datagram[5];
  if (6 + dcidLength >= end) return 0;
  const scidLength = datagram[6 + dcidLength];
  if (7 + dcidLength + scidLength > end) return 0;
  const dcid = datagram.subarray(6, 6 + dcidLength);
  const scid = datagram.subarray(7 + dcidLength, 7 + dcidLength + scidLength);
  let grease = greaseVersion(random.subarray(1, 5));
  // The client discards a Version Negotiation listing its own version (RFC 9000 §6.2).
  if (grease === version) grease = (grease ^ 0x1000_0000) >>> 0;
  const list = [...versions, grease];
  // RFC 9000 §17.2.1: the DCID echoes the client's SCID and the SCID its DCID.
  return buildVersionNegotiation(out, scid, dcid, list, random[0]);
}
