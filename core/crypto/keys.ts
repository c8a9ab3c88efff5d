/**
 * QUIC packet-protection keys from a TLS traffic secret (RFC 9001 §5.1), the labels of
 * QUIC v1 and v2 (RFC 9369 §3.3.2), key update (RFC 9001 §6.1) and AEAD limits (§6.6).
 */

import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../wire/version.ts';
import { keyLength } from './_common.ts';
import { expandLabel } from './hkdf.ts';
import type {
  AeadAlgorithm,
  AeadKey,
  CryptoProvider,
  HashAlgorithm,
  HeaderProtectionAlgorithm,
  HeaderProtectionKey,
} from './provider.ts';
import { hashLength } from './provider.ts';

/**
 * What packet protection needs to know about a TLS 1.3 cipher suite. core/tls's
 * CipherSuiteParams extends QuicCipherSuite, so either can be passed.
 */
export interface PacketProtectionSuite {
  readonly aead: AeadAlgorithm;
  readonly headerProtection: HeaderProtectionAlgorithm;
  readonly hash: HashAlgorithm;
}

/** A TLS 1.3 cipher suite usable with QUIC (RFC 9001 §5.3), with its code point and name. */
export interface QuicCipherSuite extends PacketProtectionSuite {
  readonly code: number;
  readonly name: string;
}

/** TLS_AES_128_GCM_SHA256 (0x1301). */
export const TLS_AES_128_GCM_SHA256: QuicCipherSuite = {
  code: 0x1301,
  name: 'TLS_AES_128_GCM_SHA256',
  aead: 'aes-128-gcm',
  headerProtection: 'aes-128-ecb',
  hash: 'sha256',
};
/** TLS_AES_256_GCM_SHA384 (0x1302). */
export const TLS_AES_256_GCM_SHA384: QuicCipherSuite = {
  code: 0x1302,
  name: 'TLS_AES_256_GCM_SHA384',
  aead: 'aes-256-gcm',
  headerProtection: 'aes-256-ecb',
  hash: 'sha384',
};
/** TLS_CHACHA20_POLY1305_SHA256 (0x1303). */
export const TLS_CHACHA20_POLY1305_SHA256: QuicCipherSuite = {
  code: 0x1303,
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  aead: 'chacha20-poly1305',
  headerProtection: 'chacha20',
  hash: 'sha256',
};

/** The QUIC-capable suites by code point (RFC 9001 §5.3: not TLS_AES_128_CCM_8_SHA256). */
export const QUIC_CIPHER_SUITES: ReadonlyMap<number, QuicCipherSuite> = new Map(
  [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256].map((s) => [s.code, s]),
);

/** Key length in bytes of an AEAD (the HP key has the same length, RFC 9001 §5.4.3-5.4.4). */
export function aeadKeyLength(alg: AeadAlgorithm): 16 | 32 {
  return keyLength(alg);
}

/** The nonce / IV length of every QUIC AEAD (RFC 9001 §5.3). */
export const IV_LENGTH = 12;
/** The AEAD tag length of every QUIC AEAD (RFC 9001 §5.3), shared with the providers. */
export { TAG_LENGTH } from './_common.ts';

/** Confidentiality and integrity limits of an AEAD, in packets (RFC 9001 §6.6). */
export interface AeadLimits {
  /** Packets that may be sealed with one key before a key update is required. */
  readonly confidentiality: number;
  /** Packets failing authentication, across all keys, before the connection must close. */
  readonly integrity: number;
}

const GCM_LIMITS: AeadLimits = { confidentiality: 2 ** 23, integrity: 2 ** 52 };
// RFC 9001 §6.6: ChaCha20-Poly1305's confidentiality limit exceeds 2^62 packets (disregarded).
const CHACHA_LIMITS: AeadLimits = { confidentiality: 2 ** 62, integrity: 2 ** 36 };

/** The RFC 9001 §6.6 limits of `alg`. */
export function aeadLimits(alg: AeadAlgorithm): AeadLimits {
  return alg === 'chacha20-poly1305' ? CHACHA_LIMITS : GCM_LIMITS;
}

/** The HKDF labels of one QUIC version (RFC 9001 §5.1, §6.1; RFC 9369 §3.3.2). */
export interface QuicLabels {
  readonly key: string;
  readonly iv: string;
  readonly hp: string;
  readonly ku: string;
}

const V1_LABELS: QuicLabels = { key: 'quic key', iv: 'quic iv', hp: 'quic hp', ku: 'quic ku' };
const V2_LABELS: QuicLabels = {
  key: 'quicv2 key',
  iv: 'quicv2 iv',
  hp: 'quicv2 hp',
  ku: 'quicv2 ku',
};

/** The labels for `version`; RangeError for a version we do not speak. */
export function quicLabels(version: number): QuicLabels {
  if (version === QUIC_VERSION_1) return V1_LABELS;
  if (version === QUIC_VERSION_2) return V2_LABELS; // RFC 9369 §3.3.2
  throw new RangeError(`no packet-protection labels for QUIC version 0x${version.toString(16)}`);
}

/** The raw key, IV and header-protection key derived from a secret (RFC 9001 §5.1). */
export interface KeyMaterial {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly hp: Uint8Array;
}

/** Derives key, iv and hp bytes from `secret` (RFC 9001 §5.1; RFC 9369 §3.3.2 for v2). */
export function deriveKeyMaterial(
  provider: CryptoProvider,
  suite: PacketProtectionSuite,
  version: number,
  secret: Uint8Array,
): KeyMaterial {
  const labels = quicLabels(version);
  const n = aeadKeyLength(suite.aead);
  return {
    key: expandLabel(provider, suite.hash, secret, labels.key, n),
    iv: expandLabel(provider, suite.hash, secret, labels.iv, IV_LENGTH),
    hp: expandLabel(provider, suite.hash, secret, labels.hp, n),
  };
}

/**
 * The secret after a key update (RFC 9001 §6.1):
 * secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku" / "quicv2 ku", "", Hash.length).
 */
export function nextTrafficSecret(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  version: number,
  secret: Uint8Array,
): Uint8Array {
  return expandLabel(provider, hash, secret, quicLabels(version).ku, hashLength(hash));
}

/** The keys that protect packets in one direction at one key phase. */
export class PacketKeys {
  /** Scratch for iv XOR packet number; reused by every packet (single-threaded use). */
  readonly nonce = new Uint8Array(IV_LENGTH);
  /** Confidentiality limit in packets (RFC 9001 §6.6). */
  readonly confidentialityLimit: number;
  /** Integrity limit in failed packets (RFC 9001 §6.6). */
  readonly integrityLimit: number;

  constructor(
    readonly suite: PacketProtectionSuite,
    readonly version: number,
    /** The traffic secret these keys come from (for the next key update). */
    readonly secret: Uint8Array,
    readonly aead: AeadKey,
    readonly iv: Uint8Array,
    /** Header protection; unchanged by key updates (RFC 9001 §6.1). */
    readonly hp: HeaderProtectionKey,
  ) {
    if (iv.length !== IV_LENGTH) throw new RangeError('QUIC IVs are 12 bytes');
    const limits = aeadLimits(suite.aead);
    this.confidentialityLimit = limits.confidentiality;
    this.integrityLimit = limits.integrity;
  }

  /** The AEAD nonce for `packetNumber` (RFC 9001 §5.3), in the reused `nonce` scratch. */
  nonceFor(packetNumber: number): Uint8Array {
    const n = this.nonce;
    const iv = this.iv;
    // The 62-bit packet number, left-padded to the IV size, XORed with the IV.
    const lo = packetNumber % 0x1_0000_0000;
    const hi = (packetNumber - lo) / 0x1_0000_0000;
    for (let i = 0; i < 4; i++) n[i] = iv[i];
    n[4] = iv[4] ^ (hi >>> 24);
    n[5] = iv[5] ^ ((hi >>> 16) & 0xff);
    n[6] = iv[6] ^ ((hi >>> 8) & 0xff);
    n[7] = iv[7] ^ (hi & 0xff);
    n[8] = iv[8] ^ (lo >>> 24);
    n[9] = iv[9] ^ ((lo >>> 16) & 0xff);
    n[10] = iv[10] ^ ((lo >>> 8) & 0xff);
    n[11] = iv[11] ^ (lo & 0xff);
    return n;
  }
}

/** Packet keys (AEAD, IV, header protection) from a traffic secret (RFC 9001 §5.1). */
export function derivePacketKeys(
  provider: CryptoProvider,
  suite: PacketProtectionSuite,
  version: number,
  secret: Uint8Array,
): PacketKeys {
  const m = deriveKeyMaterial(provider, suite, version, secret);
  return new PacketKeys(
    suite,
    version,
    secret,
    provider.aead(suite.aead, m.key),
    m.iv,
    provider.headerProtection(suite.headerProtection, m.hp),
  );
}

/**
 * The keys of the next key phase (RFC 9001 §6.1): a new secret, AEAD key and IV; the
 * header-protection key is kept.
 */
export function nextPacketKeys(provider: CryptoProvider, keys: PacketKeys): PacketKeys {
  const { suite, version } = keys;
  const labels = quicLabels(version);
  const secret = nextTrafficSecret(provider, suite.hash, version, keys.secret);
  const key = expandLabel(provider, suite.hash, secret, labels.key, aeadKeyLength(suite.aead));
  const iv = expandLabel(provider, suite.hash, secret, labels.iv, IV_LENGTH);
  return new PacketKeys(suite, version, secret, provider.aead(suite.aead, key), iv, keys.hp);
}
