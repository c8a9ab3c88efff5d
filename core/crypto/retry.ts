/**
 * Retry packet integrity (RFC 9001 §5.8; RFC 9369 §3.3.3 for QUIC v2): an AES-128-GCM tag
 * over the Retry pseudo-packet with a fixed key and nonce per version.
 */

import { fromHex } from '../wire/buffer.ts';
import { RETRY_INTEGRITY_TAG_LENGTH } from '../wire/packet.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../wire/version.ts';
import { constantTimeEqual } from './compare.ts';
import type { AeadKey, CryptoProvider } from './provider.ts';

/** The Retry Integrity Tag length (RFC 9000 §17.2.5); the same constant as core/wire's. */
export const RETRY_TAG_LENGTH = RETRY_INTEGRITY_TAG_LENGTH;

const SECRETS = new Map<number, { key: Uint8Array; nonce: Uint8Array }>([
  // RFC 9001 §5.8
  [
    QUIC_VERSION_1,
    { key: fromHex('be0c690b9f66575a1d766b54e368c84e'), nonce: fromHex('461599d35d632bf2239825bb') },
  ],
  // RFC 9369 §3.3.3
  [
    QUIC_VERSION_2,
    { key: fromHex('8fb4b01b56ac48e260fbcbcead7ccc92'), nonce: fromHex('d86969bc2d7c6d9990efb04a') },
  ],
]);

const EMPTY = new Uint8Array(0);
const keyCache = new WeakMap<CryptoProvider, Map<number, AeadKey>>();

function retryAead(provider: CryptoProvider, version: number): { aead: AeadKey; nonce: Uint8Array } {
  const s = SECRETS.get(version);
  if (!s) throw new RangeError(`no Retry integrity key for QUIC version 0x${version.toString(16)}`);
  let byVersion = keyCache.get(provider);
  if (!byVersion) keyCache.set(provider, (byVersion = new Map()));
  let aead = byVersion.get(version);
  if (!aead) byVersion.set(version, (aead = provider.aead('aes-128-gcm', s.key)));
  return { aead, nonce: s.nonce };
}

/**
 * The Retry pseudo-packet (RFC 9001 §5.8): ODCID Length (1 byte) || Original Destination
 * Connection ID || the Retry packet without its integrity tag.
 */
export function retryPseudoPacket(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (odcid.length > 255) throw new RangeError('connection ID longer than 255 bytes');
  const out = new Uint8Array(1 + odcid.length + retryWithoutTag.length);
  out[0] = odcid.length;
  out.set(odcid, 1);
  out.set(retryWithoutTag, 1 + odcid.length);
  return out;
}

/** The 16-byte Retry Integrity Tag: AES-128-GCM with an empty plaintext, AAD = the pseudo-packet. */
export function retryIntegrityTag(
  provider: CryptoProvider,
  version: number,
  pseudoPacket: Uint8Array,
): Uint8Array {
  const { aead, nonce } = retryAead(provider, version);
  return aead.seal(nonce, pseudoPacket, EMPTY);
}

/**
 * Whether a received Retry packet (`retry`, tag included) carries a valid integrity tag for
 * the Destination Connection ID the client first sent (RFC 9001 §5.8). False when it is too
 * short; the client then discards the packet (RFC 9000 §17.2.5.2).
 */
export function verifyRetry(
  provider: CryptoProvider,
  version: number,
  odcid: Uint8Array,
  retry: Uint8Array,
): boolean {
  if (retry.length < RETRY_TAG_LENGTH) return false;
  const body = retry.subarray(0, retry.length - RETRY_TAG_LENGTH);
  const tag = retryIntegrityTag(provider, version, retryPseudoPacket(odcid, body));
  return constantTimeEqual(tag, retry.subarray(retry.length - RETRY_TAG_LENGTH));
}
