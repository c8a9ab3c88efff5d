/**
 * What the `node` and `noble` providers share, independent of either library: key-length and
 * HKDF argument checks, and the RFC 8446 rules around a key share's raw key agreement. Internal
 * to core/crypto (not re-exported).
 */

import { InvalidKeyShareError, hashLength } from './provider.ts';
import type { AeadAlgorithm, HashAlgorithm, HeaderProtectionAlgorithm, KeyShare } from './provider.ts';

/** The AEAD tag length of every QUIC AEAD (RFC 9001 §5.3). */
export const TAG_LENGTH = 16;

/** Key length in bytes of an AEAD or header-protection algorithm (RFC 9001 §5.3, §5.4.3-5.4.4). */
export function keyLength(alg: AeadAlgorithm | HeaderProtectionAlgorithm): 16 | 32 {
  return alg === 'aes-128-gcm' || alg === 'aes-128-ecb' ? 16 : 32;
}

/** A key of the wrong length for `alg` is the caller's mistake: RangeError. */
export function checkKey(alg: AeadAlgorithm | HeaderProtectionAlgorithm, key: Uint8Array): void {
  if (key.length !== keyLength(alg)) {
    throw new RangeError(`${alg} needs a ${keyLength(alg)}-byte key, got ${key.length}`);
  }
}

/** RFC 5869 §2.3: L is at most 255 * HashLen and PRK at least HashLen octets (RangeError). */
export function checkHkdfExpand(alg: HashAlgorithm, prk: Uint8Array, length: number): void {
  const hl = hashLength(alg);
  if (!Number.isInteger(length) || length < 0 || length > 255 * hl) {
    throw new RangeError(`HKDF-Expand length ${length} out of range`);
  }
  if (prk.length < hl) throw new RangeError('HKDF-Expand PRK shorter than the hash length');
}

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i];
  return acc === 0;
}

/**
 * An X25519 KeyShare around a provider's raw key agreement `agree` (which may throw): enforces
 * the 32-byte key_exchange (RFC 8446 §4.2.8.2) and rejects an all-zero result (§7.4.2).
 */
export function x25519KeyShare(publicKey: Uint8Array, agree: (peer: Uint8Array) => Uint8Array): KeyShare {
  return {
    group: 'x25519',
    publicKey,
    sharedSecret(peer: Uint8Array): Uint8Array {
      // RFC 8446 §4.2.8.2: X25519 key_exchange is exactly 32 bytes.
      if (peer.length !== 32) throw new InvalidKeyShareError('X25519 key_exchange must be 32 bytes');
      let secret: Uint8Array;
      try {
        secret = agree(peer);
      } catch {
        throw new InvalidKeyShareError('X25519 key agreement failed (low-order point?)');
      }
      // RFC 8446 §7.4.2: an all-zero X25519 result must be rejected.
      if (isAllZero(secret)) throw new InvalidKeyShareError('X25519 shared secret is all zeros');
      return secret;
    },
  };
}

/**
 * A P-256 KeyShare around a provider's raw key agreement `agree`, which returns the
 * x-coordinate (RFC 8446 §7.4.1) and throws for a point off the curve.
 */
export function p256KeyShare(publicKey: Uint8Array, agree: (peer: Uint8Array) => Uint8Array): KeyShare {
  return {
    group: 'secp256r1',
    publicKey,
    sharedSecret(peer: Uint8Array): Uint8Array {
      // RFC 8446 §4.2.8.2: UncompressedPointRepresentation only (0x04 || X || Y), on the curve.
      if (peer.length !== 65 || peer[0] !== 0x04) {
        throw new InvalidKeyShareError('P-256 key_exchange must be a 65-byte uncompressed point');
      }
      try {
        return agree(peer);
      } catch {
        throw new InvalidKeyShareError('P-256 key_exchange is not a point on the curve');
      }
    },
  };
}
