/**
 * The `noble` CryptoProvider, on @noble/ciphers, @noble/hashes and @noble/curves (pure JS):
 * portable, fills what a runtime's node:crypto lacks, and is the independent oracle in tests.
 * It has no RSA: RSA keys and schemes throw `UnsupportedAlgorithmError`.
 */

import { gcm, unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305, __TESTS as chachaInternals } from '@noble/ciphers/chacha.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { x25519, ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import {
  DerError,
  Tag,
  derBitString,
  derBitStringOf,
  derChildren,
  derOid,
  derParse,
  derSequence,
  derUnsigned,
  oidToString,
  pemDecodeAll,
} from './der.ts';
import { TAG_LENGTH, checkHkdfExpand, checkKey, p256KeyShare, x25519KeyShare } from './_common.ts';
import { UnsupportedAlgorithmError } from './provider.ts';
import type {
  AeadAlgorithm,
  AeadKey,
  CryptoProvider,
  HashAlgorithm,
  HashContext,
  HeaderProtectionKey,
  KeyShare,
  KeyType,
  NamedGroup,
  PrivateKey,
  SignatureParams,
  SignatureScheme,
} from './provider.ts';

const NAME = 'noble';

const HASHES = { sha256, sha384 } as const;

// --- AEAD (RFC 9001 §5.3) -----------------------------------------------------------------------

class NobleAeadKey implements AeadKey {
  private readonly key: Uint8Array;
  private readonly make: typeof gcm | typeof chacha20poly1305;
  constructor(
    readonly algorithm: AeadAlgorithm,
    key: Uint8Array,
  ) {
    if (algorithm === 'chacha20-poly1305') this.make = chacha20poly1305;
    else if (algorithm === 'aes-128-gcm' || algorithm === 'aes-256-gcm') this.make = gcm;
    else throw new UnsupportedAlgorithmError(NAME, `AEAD ${String(algorithm)}`);
    checkKey(algorithm, key);
    this.key = Uint8Array.from(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.make(this.key, nonce, aad).encrypt(plaintext);
  }

  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    const n = plaintext.length + TAG_LENGTH;
    if (outOffset + n > out.length) {
      throw new RangeError('sealInto: output buffer too small for ciphertext and tag');
    }
    out.set(this.make(this.key, nonce, aad).encrypt(plaintext), outOffset);
    return n;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null {
    if (ciphertextAndTag.length < TAG_LENGTH) return null;
    try {
      return this.make(this.key, nonce, aad).decrypt(ciphertextAndTag);
    } catch {
      return null; // authentication failure
    }
  }
}

// --- Header protection (RFC 9001 §5.4.3, §5.4.4) -----------------------------------------------

class NobleAesHpKey implements HeaderProtectionKey {
  // The expanded key schedule, computed once (noble's ecb() would re-expand on every call).
  private readonly xk: Uint32Array;
  private readonly block = new Uint8Array(16);
  private readonly out = new Uint8Array(5);
  constructor(
    readonly algorithm: 'aes-128-ecb' | 'aes-256-ecb',
    key: Uint8Array,
  ) {
    checkKey(algorithm, key);
    this.xk = aesUnsafe.expandKeyLE(key);
  }

  mask(sample: Uint8Array): Uint8Array {
    if (sample.length < 16) throw new RangeError('header protection sample must be 16 bytes');
    const b = this.block;
    b.set(sample.length === 16 ? sample : sample.subarray(0, 16));
    aesUnsafe.encryptBlock(this.xk, b); // in place: one AES block, RFC 9001 §5.4.3
    this.out.set(b.subarray(0, 5));
    return this.out;
  }
}

const SIGMA = new TextEncoder().encode('expand 32-byte k');

class NobleChaChaHpKey implements HeaderProtectionKey {
  readonly algorithm = 'chacha20' as const;
  private readonly key: Uint8Array;
  private readonly zeros = new Uint8Array(5);
  private readonly out = new Uint8Array(5);
  constructor(key: Uint8Array) {
    checkKey('chacha20', key);
    this.key = Uint8Array.from(key);
  }

  mask(sample: Uint8Array): Uint8Array {
    if (sample.length < 16) throw new RangeError('header protection sample must be 16 bytes');
    // RFC 9001 §5.4.4: counter = sample[0..4] little-endian, nonce = sample[4..16];
    // mask = ChaCha20(hp_key, counter, nonce, {0,0,0,0,0}).
    const counter = (sample[0] | (sample[1] << 8) | (sample[2] << 16) | (sample[3] << 24)) >>> 0;
    if (counter === 0xffffffff) return this.lastCounterMask(sample);
    chacha20(this.key, sample.subarray(4, 16), this.zeros, this.out, counter);
    return this.out;
  }

  /**
   * noble's public ChaCha20 refuses the initial counter 2^32-1 (it would wrap on a second
   * block), but the peer's sample may carry it; one block is well defined, so run the core.
   */
  private lastCounterMask(sample: Uint8Array): Uint8Array {
    const words = (b: Uint8Array, n: number): Uint32Array => {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const w = new Uint32Array(n);
      for (let i = 0; i < n; i++) w[i] = dv.getUint32(i * 4, true);
      return w;
    };
    const block = new Uint32Array(16);
    chachaInternals.chachaCore(
      words(SIGMA, 4),
      words(this.key, 8),
      words(sample.subarray(4, 16), 3),
      block,
      0xffffffff,
    );
    for (let i = 0; i < 5; i++) this.out[i] = (block[i >> 2] >>> ((i & 3) * 8)) & 0xff;
    return this.out;
  }
}

// --- Hashes ------------------------------------------------------------------------------------

class NobleHashContext implements HashContext {
  private readonly h;
  constructor(alg: HashAlgorithm) {
    this.h = HASHES[alg].create();
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digestSoFar(): Uint8Array {
    return this.h.clone().digest();
  }
}

// --- Key exchange (RFC 8446 §4.2.8, §7.4) ------------------------------------------------------

function x25519Share(): KeyShare {
  const sk = x25519.utils.randomSecretKey();
  return x25519KeyShare(x25519.getPublicKey(sk), (peer) => x25519.getSharedSecret(sk, peer));
}

function p256Share(): KeyShare {
  const sk = p256.utils.randomSecretKey();
  // RFC 8446 §7.4.1: the shared secret is the x-coordinate of the compressed point.
  return p256KeyShare(p256.getPublicKey(sk, false), (peer) =>
    p256.getSharedSecret(sk, peer, true).subarray(1),
  );
}

// --- Key import (PKCS#8 RFC 5958, SEC1 RFC 5915, SPKI RFC 5480 / RFC 8410) ---------------------

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_P384 = '1.3.132.0.34';
const OID_ED25519 = '1.3.101.112';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_RSA_PSS = '1.2.840.113549.1.1.10';

const CURVES = {
  'ec-p256': { curve: p256, oid: OID_P256, size: 32 },
  'ec-p384': { curve: p384, oid: OID_P384, size: 48 },
} as const;

/** A private key held as raw scalar / seed bytes. */
export class NoblePrivateKey implements PrivateKey {
  constructor(
    readonly type: KeyType,
    readonly publicKeySpki: Uint8Array,
    /** The EC scalar (big-endian, curve-sized) or the Ed25519 seed. */
    readonly secret: Uint8Array,
  ) {}
}

function ecTypeOfCurveOid(oid: string): 'ec-p256' | 'ec-p384' {
  if (oid === OID_P256) return 'ec-p256';
  if (oid === OID_P384) return 'ec-p384';
  throw new UnsupportedAlgorithmError(NAME, `EC curve ${oid}`);
}

function spkiOf(type: KeyType, publicKey: Uint8Array): Uint8Array {
  if (type === 'ed25519') {
    return derSequence(derSequence(derOid(OID_ED25519)), derBitStringOf(publicKey));
  }
  if (type === 'rsa') throw new UnsupportedAlgorithmError(NAME, 'RSA keys');
  return derSequence(
    derSequence(derOid(OID_EC_PUBLIC_KEY), derOid(CURVES[type].oid)),
    derBitStringOf(publicKey),
  );
}

function ecKey(type: 'ec-p256' | 'ec-p384', scalar: Uint8Array): NoblePrivateKey {
  const { curve, size } = CURVES[type];
  const s = derUnsigned(scalar);
  if (s.length > size) throw new DerError('EC private key longer than the curve order');
  const sk = new Uint8Array(size);
  sk.set(s, size - s.length);
  if (!curve.utils.isValidSecretKey(sk)) throw new DerError('EC private key out of range');
  return new NoblePrivateKey(type, spkiOf(type, curve.getPublicKey(sk, false)), sk);
}

/** SEC1 ECPrivateKey (RFC 5915 §3); `curveOid` comes from the PKCS#8 wrapper when present. */
function importSec1(der: Uint8Array, curveOid?: string): NoblePrivateKey {
  const r = derChildren(derParse(der, Tag.SEQUENCE));
  r.next(Tag.INTEGER); // version 1
  const scalar = r.next(Tag.OCTET_STRING).contents;
  const params = r.optional(0xa0);
  const oid = params ? oidToString(derParse(params.contents, Tag.OID).contents) : curveOid;
  if (oid === undefined) throw new DerError('SEC1 key without curve parameters');
  return ecKey(ecTypeOfCurveOid(oid), scalar);
}

/** PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958 §2). */
function importPkcs8(der: Uint8Array): NoblePrivateKey {
  const r = derChildren(derParse(der, Tag.SEQUENCE));
  r.next(Tag.INTEGER);
  const alg = derChildren(r.next(Tag.SEQUENCE));
  const oid = oidToString(alg.next(Tag.OID).contents);
  const priv = r.next(Tag.OCTET_STRING).contents;
  if (oid === OID_EC_PUBLIC_KEY) {
    return importSec1(priv, oidToString(alg.next(Tag.OID).contents));
  }
  if (oid === OID_ED25519) {
    // RFC 8410 §7: CurvePrivateKey ::= OCTET STRING (the 32-byte seed).
    const seed = derParse(priv, Tag.OCTET_STRING).contents;
    if (seed.length !== 32) throw new DerError('Ed25519 private key must be 32 bytes');
    const sk = Uint8Array.from(seed);
    return new NoblePrivateKey('ed25519', spkiOf('ed25519', ed25519.getPublicKey(sk)), sk);
  }
  if (oid === OID_RSA || oid === OID_RSA_PSS) throw new UnsupportedAlgorithmError(NAME, 'RSA keys');
  throw new UnsupportedAlgorithmError(NAME, `private keys of algorithm ${oid}`);
}

function importPrivateKey(key: string | Uint8Array): PrivateKey {
  if (typeof key === 'string') {
    const blocks = pemDecodeAll(key).filter((b) => b.label.endsWith('PRIVATE KEY'));
    if (blocks.length === 0) throw new TypeError('importPrivateKey: no PEM private key block');
    const { label, der } = blocks[0];
    if (label === 'PRIVATE KEY') return importPkcs8(der);
    if (label === 'EC PRIVATE KEY') return importSec1(der);
    if (label === 'RSA PRIVATE KEY') throw new UnsupportedAlgorithmError(NAME, 'RSA keys');
    throw new UnsupportedAlgorithmError(NAME, `PEM '${label}'`);
  }
  // DER: PKCS#8 has a SEQUENCE (AlgorithmIdentifier) second, SEC1 an OCTET STRING,
  // PKCS#1 RSAPrivateKey an INTEGER (the modulus).
  const r = derChildren(derParse(key, Tag.SEQUENCE));
  r.next(Tag.INTEGER);
  const second = r.peekTag();
  if (second === Tag.SEQUENCE) return importPkcs8(key);
  if (second === Tag.OCTET_STRING) return importSec1(key);
  if (second === Tag.INTEGER) throw new UnsupportedAlgorithmError(NAME, 'RSA keys');
  throw new DerError('unrecognised private key encoding');
}

/** The key type and raw public key of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
function parseSpki(spki: Uint8Array): { type: KeyType; publicKey: Uint8Array } {
  const r = derChildren(derParse(spki, Tag.SEQUENCE));
  const alg = derChildren(r.next(Tag.SEQUENCE));
  const oid = oidToString(alg.next(Tag.OID).contents);
  const publicKey = derBitString(r.next(Tag.BIT_STRING));
  if (oid === OID_EC_PUBLIC_KEY) {
    return { type: ecTypeOfCurveOid(oidToString(alg.next(Tag.OID).contents)), publicKey };
  }
  if (oid === OID_ED25519) return { type: 'ed25519', publicKey };
  if (oid === OID_RSA || oid === OID_RSA_PSS) return { type: 'rsa', publicKey };
  throw new UnsupportedAlgorithmError(NAME, `public keys of algorithm ${oid}`);
}

// --- Signatures (RFC 8446 §4.2.3) --------------------------------------------------------------

const SCHEME_KEY: Record<SignatureScheme, KeyType> = {
  ecdsa_secp256r1_sha256: 'ec-p256',
  ecdsa_secp384r1_sha384: 'ec-p384',
  rsa_pss_rsae_sha256: 'rsa',
  rsa_pkcs1_sha256: 'rsa',
  ed25519: 'ed25519',
};

function schemeKeyType(scheme: SignatureScheme): KeyType {
  const t = SCHEME_KEY[scheme];
  if (!t) throw new UnsupportedAlgorithmError(NAME, `signature scheme ${String(scheme)}`);
  if (t === 'rsa') throw new UnsupportedAlgorithmError(NAME, `${scheme} (no RSA in @noble)`);
  return t;
}

function sign(scheme: SignatureScheme, key: PrivateKey, data: Uint8Array): Uint8Array {
  const t = schemeKeyType(scheme);
  if (!(key instanceof NoblePrivateKey)) {
    throw new TypeError('noble provider: sign() needs a key imported by the noble provider');
  }
  if (key.type !== t) throw new TypeError(`${scheme} cannot sign with a ${key.type} key`);
  if (t === 'ed25519') return ed25519.sign(data, key.secret);
  // The curve's hash (SHA-256 for P-256, SHA-384 for P-384) is applied to the message;
  // TLS carries ECDSA signatures DER-encoded (RFC 8446 §4.2.3).
  const { curve } = CURVES[t as 'ec-p256' | 'ec-p384'];
  return curve.sign(data, key.secret, { prehash: true, format: 'der' });
}

function verify(scheme: SignatureScheme, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const t = schemeKeyType(scheme);
  try {
    const { type, publicKey } = parseSpki(spki);
    if (type !== t) return false;
    if (t === 'ed25519') return ed25519.verify(signature, data, publicKey, { zip215: false });
    const { curve } = CURVES[t as 'ec-p256' | 'ec-p384'];
    // lowS: false — OpenSSL and others emit high-S signatures, which are valid ECDSA.
    return curve.verify(signature, data, publicKey, { prehash: true, format: 'der', lowS: false });
  } catch (e) {
    if (e instanceof UnsupportedAlgorithmError) throw e;
    return false;
  }
}

function verifyWith(
  params: SignatureParams,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (params.key === 'rsa-pkcs1' || params.key === 'rsa-pss') {
    throw new UnsupportedAlgorithmError(NAME, `RSA signatures (no RSA in @noble)`);
  }
  try {
    const { type, publicKey } = parseSpki(spki);
    if (params.key === 'ed25519') {
      return type === 'ed25519' && ed25519.verify(signature, data, publicKey, { zip215: false });
    }
    if (type !== 'ec-p256' && type !== 'ec-p384') return false;
    const hash = params.hash === 'sha512' ? sha512 : params.hash === 'sha384' ? sha384 : sha256;
    const { curve } = CURVES[type];
    // The digest is computed here so any hash can go with any curve (RFC 5758 §3.2).
    return curve.verify(signature, hash(data), publicKey, { prehash: false, format: 'der', lowS: false });
  } catch (e) {
    if (e instanceof UnsupportedAlgorithmError) throw e;
    return false;
  }
}

// --- The provider ------------------------------------------------------------------------------

function hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkHkdfExpand(alg, prk, length);
  if (length === 0) return new Uint8Array(0);
  return expand(HASHES[alg], prk, info, length);
}

/** The pure-JS CryptoProvider on @noble/* (portable; the oracle in tests). */
export const nobleProvider: CryptoProvider = {
  name: NAME,
  randomBytes: (n) => randomBytes(n),
  hash: (alg, data) => HASHES[alg](data),
  createHash: (alg) => new NobleHashContext(alg),
  hmac: (alg, key, data) => nobleHmac(HASHES[alg], key, data),
  hkdfExtract: (alg, salt, ikm) => extract(HASHES[alg], ikm, salt),
  hkdfExpand,
  aead: (alg, key) => new NobleAeadKey(alg, key),
  headerProtection(alg, key) {
    if (alg === 'chacha20') return new NobleChaChaHpKey(key);
    if (alg === 'aes-128-ecb' || alg === 'aes-256-ecb') return new NobleAesHpKey(alg, key);
    throw new UnsupportedAlgorithmError(NAME, `header protection ${String(alg)}`);
  },
  generateKeyShare(group: NamedGroup) {
    if (group === 'x25519') return x25519Share();
    if (group === 'secp256r1') return p256Share();
    throw new UnsupportedAlgorithmError(NAME, `group ${String(group)}`);
  },
  importPrivateKey,
  sign,
  verify,
  verifyWith,
};
