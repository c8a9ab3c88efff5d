/**
 * The `node` CryptoProvider, on node:crypto (OpenSSL or BoringSSL, hardware AES): the default.
 * Every byte string it returns is a plain Uint8Array view (never a Buffer), so results compare
 * equal to the noble provider's under `assert.deepStrictEqual`.
 */

import {
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  getCiphers,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import type { CipherGCM, Cipher, DecipherGCM, Hash, KeyObject } from 'node:crypto';
import { TAG_LENGTH, checkHkdfExpand, checkKey, p256KeyShare, x25519KeyShare } from './_common.ts';
import { UnsupportedAlgorithmError, hashLength } from './provider.ts';
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

const NAME = 'node';

/** A zero-copy plain Uint8Array view of a Buffer. */
function u8(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// --- AEAD (RFC 9001 §5.3) -----------------------------------------------------------------------

class NodeAeadKey implements AeadKey {
  // A KeyObject, so each per-packet cipher skips re-importing raw key bytes (measurably cheaper).
  private readonly key: KeyObject;
  constructor(
    readonly algorithm: AeadAlgorithm,
    key: Uint8Array,
  ) {
    checkKey(algorithm, key);
    this.key = createSecretKey(key);
  }

  private cipher(nonce: Uint8Array, aad: Uint8Array): CipherGCM {
    // GCM and ChaCha20-Poly1305 ciphers are single-use (one nonce each), so one per packet.
    const c = createCipheriv(this.algorithm as 'aes-128-gcm', this.key, nonce, {
      authTagLength: TAG_LENGTH,
    });
    if (aad.length > 0) c.setAAD(aad);
    return c;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    this.sealInto(nonce, aad, plaintext, out, 0);
    return out;
  }

  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    const n = plaintext.length;
    if (outOffset + n + TAG_LENGTH > out.length) {
      throw new RangeError('sealInto: output buffer too small for ciphertext and tag');
    }
    const c = this.cipher(nonce, aad);
    // update() reads all of `plaintext` before we write, so exact overlap is safe.
    const ct = c.update(plaintext);
    const tail = c.final();
    out.set(ct, outOffset);
    if (tail.length > 0) out.set(tail, outOffset + ct.length);
    out.set(c.getAuthTag(), outOffset + n);
    return n + TAG_LENGTH;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null {
    const n = ciphertextAndTag.length - TAG_LENGTH;
    if (n < 0) return null;
    const d = createDecipheriv(this.algorithm as 'aes-128-gcm', this.key, nonce, {
      authTagLength: TAG_LENGTH,
    }) as DecipherGCM;
    d.setAuthTag(ciphertextAndTag.subarray(n));
    if (aad.length > 0) d.setAAD(aad);
    const pt = d.update(ciphertextAndTag.subarray(0, n));
    try {
      d.final();
    } catch {
      return null;
    }
    return u8(pt);
  }
}

// --- Header protection (RFC 9001 §5.4.3, §5.4.4) -----------------------------------------------

class NodeAesHpKey implements HeaderProtectionKey {
  private readonly ecb: Cipher;
  private readonly out = new Uint8Array(5);
  constructor(
    readonly algorithm: 'aes-128-ecb' | 'aes-256-ecb',
    key: Uint8Array,
  ) {
    checkKey(algorithm, key);
    // One ECB cipher object for the key's lifetime: each update() of a 16-byte block is
    // independent in ECB mode without padding, so the object is reusable across masks.
    this.ecb = createCipheriv(algorithm, key, null);
    this.ecb.setAutoPadding(false);
  }

  mask(sample: Uint8Array): Uint8Array {
    if (sample.length < 16) throw new RangeError('header protection sample must be 16 bytes');
    const block = this.ecb.update(sample.length === 16 ? sample : sample.subarray(0, 16));
    const o = this.out;
    o[0] = block[0];
    o[1] = block[1];
    o[2] = block[2];
    o[3] = block[3];
    o[4] = block[4];
    return o;
  }
}

const FIVE_ZEROS = new Uint8Array(5);

class NodeChaChaHpKey implements HeaderProtectionKey {
  readonly algorithm = 'chacha20' as const;
  private readonly key: KeyObject;
  private readonly out = new Uint8Array(5);
  constructor(key: Uint8Array) {
    checkKey('chacha20', key);
    this.key = createSecretKey(key);
  }

  mask(sample: Uint8Array): Uint8Array {
    if (sample.length < 16) throw new RangeError('header protection sample must be 16 bytes');
    // RFC 9001 §5.4.4: counter = sample[0..4] (little-endian), nonce = sample[4..16];
    // OpenSSL's 16-byte 'chacha20' IV is exactly counter(LE) || nonce.
    const c = createCipheriv('chacha20', this.key, sample.subarray(0, 16));
    const block = c.update(FIVE_ZEROS);
    this.out.set(block.subarray(0, 5));
    return this.out;
  }
}

// --- Hashes ------------------------------------------------------------------------------------

class NodeHashContext implements HashContext {
  private readonly h: Hash;
  constructor(alg: HashAlgorithm) {
    this.h = createHash(alg);
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digestSoFar(): Uint8Array {
    return u8(this.h.copy().digest());
  }
}

function hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  return u8(createHmac(alg, key).update(data).digest());
}

/** HKDF-Expand (RFC 5869 §2.3) over HMAC. */
function hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkHkdfExpand(alg, prk, length);
  const hl = hashLength(alg);
  const out = new Uint8Array(length);
  let prev: Uint8Array = new Uint8Array(0);
  const counter = new Uint8Array(1);
  for (let i = 1, o = 0; o < length; i++) {
    counter[0] = i;
    prev = createHmac(alg, prk).update(prev).update(info).update(counter).digest();
    const take = Math.min(hl, length - o);
    out.set(prev.subarray(0, take), o);
    o += take;
  }
  return out;
}

// --- Key exchange (RFC 8446 §4.2.8, §7.4) ------------------------------------------------------

const X25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
]);

function x25519Share(): KeyShare {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return x25519KeyShare(Uint8Array.from(spki.subarray(spki.length - 32)), (peer) => {
    const der = new Uint8Array(44);
    der.set(X25519_SPKI_PREFIX);
    der.set(peer, 12);
    const peerKey = createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' });
    return u8(diffieHellman({ privateKey, publicKey: peerKey }));
  });
}

function p256Share(): KeyShare {
  const ecdh = createECDH('prime256v1');
  return p256KeyShare(u8(ecdh.generateKeys()), (peer) => u8(ecdh.computeSecret(peer)));
}

// --- Signing keys ------------------------------------------------------------------------------

/** A private key held as a node KeyObject. */
export class NodePrivateKey implements PrivateKey {
  constructor(
    readonly type: KeyType,
    readonly publicKeySpki: Uint8Array,
    /** The node:crypto key object. */
    readonly keyObject: KeyObject,
  ) {}
}

function keyTypeOf(k: KeyObject): KeyType {
  const t = k.asymmetricKeyType;
  if (t === 'ed25519') return 'ed25519';
  if (t === 'rsa') return 'rsa';
  if (t === 'ec') {
    const curve = k.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ec-p256';
    if (curve === 'secp384r1') return 'ec-p384';
    throw new UnsupportedAlgorithmError(NAME, `EC keys on curve ${String(curve)}`);
  }
  throw new UnsupportedAlgorithmError(NAME, `${String(t)} keys`);
}

function importPrivateKey(key: string | Uint8Array): PrivateKey {
  let ko: KeyObject | undefined;
  if (typeof key === 'string') {
    if (!key.includes('-----BEGIN')) throw new TypeError('importPrivateKey: string input must be PEM');
    if (key.includes('ENCRYPTED PRIVATE KEY')) {
      throw new UnsupportedAlgorithmError(NAME, 'encrypted private keys');
    }
    ko = createPrivateKey({ key, format: 'pem' });
  } else {
    const der = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
      try {
        ko = createPrivateKey({ key: der, format: 'der', type });
        break;
      } catch {
        // try the next encoding
      }
    }
    if (!ko) throw new TypeError('importPrivateKey: DER is not PKCS#8, SEC1 or PKCS#1');
  }
  const type = keyTypeOf(ko);
  const spki = createPublicKey(ko).export({ type: 'spki', format: 'der' });
  return new NodePrivateKey(type, u8(spki), ko);
}

/** The key type, hash and padding each scheme needs (RFC 8446 §4.2.3). */
const SCHEMES: Record<
  SignatureScheme,
  { keyType: KeyType; hash: HashAlgorithm | null; padding?: number; saltLength?: number }
> = {
  ecdsa_secp256r1_sha256: { keyType: 'ec-p256', hash: 'sha256' },
  ecdsa_secp384r1_sha384: { keyType: 'ec-p384', hash: 'sha384' },
  // RFC 8446 §4.2.3: PSS salt length equals the digest length; MGF1 with the same hash.
  rsa_pss_rsae_sha256: {
    keyType: 'rsa',
    hash: 'sha256',
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  },
  rsa_pkcs1_sha256: { keyType: 'rsa', hash: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  ed25519: { keyType: 'ed25519', hash: null },
};

function sign(scheme: SignatureScheme, key: PrivateKey, data: Uint8Array): Uint8Array {
  const s = SCHEMES[scheme];
  if (!s) throw new UnsupportedAlgorithmError(NAME, `signature scheme ${String(scheme)}`);
  if (!(key instanceof NodePrivateKey)) {
    throw new TypeError('node provider: sign() needs a key imported by the node provider');
  }
  if (key.type !== s.keyType) throw new TypeError(`${scheme} cannot sign with a ${key.type} key`);
  const sig = nodeSign(s.hash, data, {
    key: key.keyObject,
    dsaEncoding: 'der', // RFC 8446 §4.2.3: ECDSA signatures are DER-encoded
    padding: s.padding,
    saltLength: s.saltLength,
  });
  return u8(sig);
}

function verify(scheme: SignatureScheme, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const s = SCHEMES[scheme];
  if (!s) throw new UnsupportedAlgorithmError(NAME, `signature scheme ${String(scheme)}`);
  try {
    const pub = createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: 'der',
      type: 'spki',
    });
    // The key must match the scheme (a P-384 key cannot verify ecdsa_secp256r1_sha256, and
    // rsa_pss_rsae_* needs an rsaEncryption key, not an RSASSA-PSS one).
    if (keyTypeOf(pub) !== s.keyType) return false;
    return nodeVerify(
      s.hash,
      data,
      { key: pub, dsaEncoding: 'der', padding: s.padding, saltLength: s.saltLength },
      signature,
    );
  } catch {
    return false;
  }
}

function verifyWith(
  params: SignatureParams,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    const pub = createPublicKey({
      key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
      format: 'der',
      type: 'spki',
    });
    const type = pub.asymmetricKeyType;
    const family =
      type === 'ec'
        ? 'ecdsa'
        : type === 'ed25519'
          ? 'ed25519'
          : type === 'rsa' || type === 'rsa-pss'
            ? 'rsa'
            : null;
    if (family === null) return false;
    if (params.key === 'ecdsa' || params.key === 'ed25519') {
      if (family !== params.key) return false;
    } else if (family !== 'rsa') return false;
    return nodeVerify(
      params.hash,
      data,
      {
        key: pub,
        dsaEncoding: 'der',
        padding:
          params.key === 'rsa-pss'
            ? constants.RSA_PKCS1_PSS_PADDING
            : params.key === 'rsa-pkcs1'
              ? constants.RSA_PKCS1_PADDING
              : undefined,
        saltLength: params.saltLength,
      },
      signature,
    );
  } catch {
    return false;
  }
}

// --- The provider ------------------------------------------------------------------------------

/** The node:crypto CryptoProvider (the default). */
export const nodeProvider: CryptoProvider = {
  name: NAME,
  randomBytes: (n) => u8(randomBytes(n)),
  hash: (alg, data) => u8(createHash(alg).update(data).digest()),
  createHash: (alg) => new NodeHashContext(alg),
  hmac,
  hkdfExtract: (alg, salt, ikm) => hmac(alg, salt, ikm), // RFC 5869 §2.2: PRK = HMAC(salt, IKM)
  hkdfExpand,
  aead: (alg, key) => new NodeAeadKey(alg, key),
  headerProtection(alg, key) {
    if (alg === 'chacha20') return new NodeChaChaHpKey(key);
    if (alg === 'aes-128-ecb' || alg === 'aes-256-ecb') return new NodeAesHpKey(alg, key);
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

/** Which primitives this runtime's node:crypto has (Electron's BoringSSL lacks raw ChaCha20). */
export function nodeCapabilities(): { chacha20Poly1305: boolean; chacha20: boolean; x25519: boolean } {
  const ciphers = new Set(getCiphers());
  let x25519 = true;
  try {
    generateKeyPairSync('x25519');
  } catch {
    x25519 = false;
  }
  return {
    chacha20Poly1305: ciphers.has('chacha20-poly1305'),
    chacha20: ciphers.has('chacha20'),
    x25519,
  };
}
