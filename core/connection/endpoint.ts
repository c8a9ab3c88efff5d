/**
 * Helpers for an endpoint that has no connection for a datagram yet (RFC 9000 §5.2, §6, §8.1,
 * §10.3): a Retry with its integrity tag, a stateless reset for one of our CIDs, and address
 * validation tokens (sealed with AEAD so they cannot be forged: original DCID, client address,
 * issue time).
 */
import { retryIntegrityTag, retryPseudoPacket } from '../crypto/retry.ts';
import { getProvider } from '../crypto/index.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { Reader, Writer } from '../wire/buffer.ts';
import { buildStatelessReset, writeRetry } from '../wire/packet-write.ts';
import { statelessResetToken } from './cid.ts';
import type { Address } from './types.ts';

/** Writes a Retry packet with its integrity tag (RFC 9000 §17.2.5, RFC 9001 §5.8); returns its length. */
export function buildRetry(
  out: Uint8Array,
  version: number,
  /** The client's SCID. */
  dcid: Uint8Array,
  /** Our new CID (the client's next DCID, and retry_source_connection_id). */
  scid: Uint8Array,
  /** The DCID of the client's Initial. */
  odcid: Uint8Array,
  token: Uint8Array,
  provider: CryptoProvider = getProvider('default'),
): number {
  const w = new Writer(out);
  const n = writeRetry(w, { version, dcid, scid, token });
  const tag = retryIntegrityTag(provider, version, retryPseudoPacket(odcid, out.subarray(0, n)));
  w.bytes(tag);
  return w.offset;
}

/**
 * Writes a stateless reset for our CID `cid` (RFC 9000 §10.3): `length` bytes (at least 21, and
 * smaller than the datagram that triggered it, §10.3.3), token = the keyed hash of `cid`.
 */
export function buildStatelessResetFor(
  out: Uint8Array,
  cid: Uint8Array,
  resetKey: Uint8Array,
  length: number,
  provider: CryptoProvider = getProvider('default'),
): number {
  const token = statelessResetToken(provider, resetKey, cid);
  return buildStatelessReset(out, token, length, provider.randomBytes(length));
}

const TOKEN_VERSION = 1;
const NONCE = 12;

function addressBytes(a: Address): Uint8Array {
  return new TextEncoder().encode(`${a.address}|${a.port}`);
}

/**
 * An address validation token (RFC 9000 §8.1.2, §8.1.3): AES-256-GCM under `key` (32 bytes) over
 * the original DCID and issue time, bound to the client address as associated data.
 */
export function mintToken(
  key: Uint8Array,
  peer: Address,
  odcid: Uint8Array,
  now: number,
  provider: CryptoProvider = getProvider('default'),
): Uint8Array {
  const plain = new Writer(new Uint8Array(64));
  plain.u8(odcid.length).bytes(odcid);
  plain.u32(Math.floor(now / 1000) >>> 0);
  const nonce = provider.randomBytes(NONCE);
  const sealed = provider.aead('aes-256-gcm', key).seal(nonce, addressBytes(peer), plain.written());
  const out = new Uint8Array(1 + NONCE + sealed.length);
  out[0] = TOKEN_VERSION;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE);
  return out;
}

/**
 * Checks a token from `mintToken`: returns the original DCID it carries, or null when it is
 * forged, for another address, or older than `maxAgeMs`.
 */
export function validateToken(
  key: Uint8Array,
  peer: Address,
  token: Uint8Array,
  now: number,
  maxAgeMs: number,
  provider: CryptoProvider = getProvider('default'),
): Uint8Array | null {
  if (token.length < 1 + NONCE + 16 || token[0] !== TOKEN_VERSION) return null;
  const plain = provider
    .aead('aes-256-gcm', key)
    .open(token.subarray(1, 1 + NONCE), addressBytes(peer), token.subarray(1 + NONCE));
  if (plain === null) return null;
  try {
    const r = new Reader(plain);
    const odcid = r.vector(1).slice();
    const issued = r.u32() * 1000;
    if (odcid.length > 20 || now - issued > maxAgeMs || issued - now > 60_000) return null;
    return odcid;
  } catch {
    return null;
  }
}
