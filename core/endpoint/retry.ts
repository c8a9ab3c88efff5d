/**
 * Retry packets (RFC 9000 §17.2.5, §8.1.2) with their integrity tag (RFC 9001 §5.8; RFC 9369
 * §3.3.3 for QUIC v2), built by a server that keeps no state for the client: the token carries
 * the original DCID (token.ts).
 */
import { getProvider } from '../crypto/index.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { retryIntegrityTag, retryPseudoPacket, RETRY_TAG_LENGTH } from '../crypto/retry.ts';
import { bytesEqual, Writer } from '../wire/buffer.ts';
import { writeRetry } from '../wire/packet-write.ts';

/** What a Retry carries. */
export interface RetryPacketFields {
  /** QUIC v1 or v2: the version of the client's Initial. */
  version: number;
  /** The SCID of the client's Initial (RFC 9000 §17.2.5.1: the Retry's DCID). */
  clientScid: Uint8Array;
  /** The DCID of the client's Initial (original_destination_connection_id). */
  odcid: Uint8Array;
  /** Our new CID: the client's next DCID, and retry_source_connection_id (RFC 9000 §7.3). */
  retryScid: Uint8Array;
  /** The Retry Token (non-empty, RFC 9000 §17.2.5.2), e.g. `TokenKey.mintRetryToken`. */
  token: Uint8Array;
  /** The four Unused bits of the first byte (arbitrary, RFC 9000 §17.2.5; default 0). */
  unused?: number;
}

/** The length of the Retry that `buildRetryPacket` writes for `f`. */
export function retryPacketLength(f: RetryPacketFields): number {
  return 7 + f.clientScid.length + f.retryScid.length + f.token.length + RETRY_TAG_LENGTH;
}

/**
 * Writes a Retry packet with its integrity tag into `out` and returns its length (RFC 9000
 * §17.2.5, RFC 9001 §5.8). RangeError when `retryScid` equals `odcid` (§17.2.5.1 requires a
 * different CID), the token is empty, or `out` is too small.
 */
export function buildRetryPacket(
  out: Uint8Array,
  f: RetryPacketFields,
  provider: CryptoProvider = getProvider('default'),
): number {
  // RFC 9000 §17.2.5.1: the server's SCID MUST NOT equal the DCID the client sent.
  if (bytesEqual(f.retryScid, f.odcid)) throw new RangeError('the Retry SCID must differ from the ODCID');
  const n = retryPacketLength(f);
  if (out.length < n) throw new RangeError(`buffer overflow: need ${n} bytes, have ${out.length}`);
  const w = new Writer(out);
  const body = writeRetry(w, {
    version: f.version,
    dcid: f.clientScid,
    scid: f.retryScid,
    token: f.token,
    unused: f.unused ?? 0,
  });
  const tag = retryIntegrityTag(provider, f.version, retryPseudoPacket(f.odcid, out.subarray(0, body)));
  out.set(tag, body);
  return body + RETRY_TAG_LENGTH;
}
