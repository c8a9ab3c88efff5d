/**
 * The CryptoProvider seam: every primitive QUIC and TLS 1.3 need, and nothing else.
 * Implementations: `node` (node:crypto; the default, ~10x faster) and `noble`
 * (@noble/*; portable, and the independent oracle in tests). We never implement a
 * primitive ourselves; we implement the protocols on top of these.
 *
 * Conventions: byte strings are Uint8Array; keys are raw bytes unless said otherwise;
 * public keys for signatures are DER SubjectPublicKeyInfo; a provider that lacks a
 * primitive throws `UnsupportedAlgorithmError` with a clear message, never fakes one.
 */

export type HashAlgorithm = 'sha256' | 'sha384';
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
/** Header protection (RFC 9001 §5.4.3 AES-ECB, §5.4.4 ChaCha20). */
export type HeaderProtectionAlgorithm = 'aes-128-ecb' | 'aes-256-ecb' | 'chacha20';
/** Key-exchange groups (RFC 8446 §4.2.7). */
export type NamedGroup = 'x25519' | 'secp256r1';
/** Signature schemes (RFC 8446 §4.2.3) we sign and verify with. */
export type SignatureScheme =
  | 'ecdsa_secp256r1_sha256'
  | 'ecdsa_secp384r1_sha384'
  | 'rsa_pss_rsae_sha256'
  | 'rsa_pkcs1_sha256'
  | 'ed25519';

/**
 * A signature algorithm as certificates name it (RFC 5280 §4.1.1.2, RFC 4055, RFC 5758):
 * the key's algorithm with any hash, not tied to a curve as TLS schemes are. For
 * verifying certificate chains, where e.g. a P-384 CA may sign with SHA-256.
 */
export interface SignatureParams {
  readonly key: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss' | 'ed25519';
  /** The message hash; null for Ed25519. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** RSA-PSS salt length in bytes (MGF1 uses `hash`). */
  readonly saltLength?: number;
}

/** The kind of a private or public signing key. */
export type KeyType = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';

/** An AEAD bound to one key (RFC 9001 §5.3). The tag is always 16 bytes. */
export interface AeadKey {
  readonly algorithm: AeadAlgorithm;
  /** Encrypts `plaintext`; returns ciphertext || tag (plaintext.length + 16 bytes). */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * Encrypts `plaintext` and writes ciphertext || tag into `out` at `outOffset`
   * (which may overlap `plaintext` exactly, for in-place sealing); returns the bytes written.
   */
  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /** Decrypts ciphertext || tag; returns the plaintext, or null when authentication fails. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
}

/** A header-protection key (RFC 9001 §5.4). */
export interface HeaderProtectionKey {
  readonly algorithm: HeaderProtectionAlgorithm;
  /**
   * The 5-byte mask for a 16-byte `sample`. The returned array may be an internal
   * buffer reused by the next call: use it before calling again.
   */
  mask(sample: Uint8Array): Uint8Array;
}

/** An incremental hash, for the TLS transcript (RFC 8446 §4.4.1). */
export interface HashContext {
  update(data: Uint8Array): void;
  /** The digest so far; the context stays usable (it does not finalise this one). */
  digestSoFar(): Uint8Array;
}

/** An ephemeral key pair for (EC)DHE (RFC 8446 §4.2.8, §7.4). */
export interface KeyShare {
  readonly group: NamedGroup;
  /** The key_exchange bytes to send: 32 bytes for X25519, an uncompressed point (65 bytes) for P-256. */
  readonly publicKey: Uint8Array;
  /**
   * The shared secret with the peer's key_exchange bytes. Throws `InvalidKeyShareError`
   * when the peer's value is malformed or not on the curve (RFC 8446 §4.2.8.2), or
   * the X25519 result is all zeros (§7.4.2).
   */
  sharedSecret(peerPublicKey: Uint8Array): Uint8Array;
}

/** A private signing key imported from PEM or DER (PKCS#8, SEC1 or PKCS#1). */
export interface PrivateKey {
  readonly type: KeyType;
  /** The matching public key as DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;
  randomBytes(n: number): Uint8Array;

  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array;
  createHash(alg: HashAlgorithm): HashContext;
  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-Extract (RFC 5869 §2.2). */
  hkdfExtract(alg: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** HKDF-Expand (RFC 5869 §2.3). */
  hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  aead(alg: AeadAlgorithm, key: Uint8Array): AeadKey;
  headerProtection(alg: HeaderProtectionAlgorithm, key: Uint8Array): HeaderProtectionKey;

  generateKeyShare(group: NamedGroup): KeyShare;

  /** Imports a private key from PEM text or DER bytes. */
  importPrivateKey(key: string | Uint8Array): PrivateKey;
  sign(scheme: SignatureScheme, key: PrivateKey, data: Uint8Array): Uint8Array;
  /** Verifies `signature` over `data` with a DER SubjectPublicKeyInfo; false on any mismatch. */
  verify(scheme: SignatureScheme, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Verifies with a certificate signature algorithm (any curve with any hash); false on any
   * mismatch, `UnsupportedAlgorithmError` when the provider lacks the algorithm.
   */
  verifyWith(params: SignatureParams, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
}

/** A provider lacks a primitive (e.g. noble has no RSA). */
export class UnsupportedAlgorithmError extends Error {
  override readonly name = 'UnsupportedAlgorithmError';
  constructor(provider: string, what: string) {
    super(`crypto provider '${provider}' does not implement ${what}`);
  }
}

/** A peer's key_share is malformed or off the curve. */
export class InvalidKeyShareError extends Error {
  override readonly name = 'InvalidKeyShareError';
}

/** The hash length in bytes. */
export function hashLength(alg: HashAlgorithm): 32 | 48 {
  return alg === 'sha256' ? 32 : 48;
}
