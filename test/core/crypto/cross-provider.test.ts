import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { nobleProvider as noble } from '../../../core/crypto/noble.ts';
import { nodeProvider as node } from '../../../core/crypto/node.ts';
import { UnsupportedAlgorithmError } from '../../../core/crypto/provider.ts';
import type { CryptoProvider } from '../../../core/crypto/provider.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hashAlg = fc.constantFrom('sha256' as const, 'sha384' as const);
const PAIRS: [CryptoProvider, CryptoProvider][] = [
  [node, noble],
  [noble, node],
];

describe('node and noble agree on random inputs', () => {
  it('hash, incremental hash and HMAC', () => {
    fc.assert(
      fc.property(hashAlg, bytes(0, 300), bytes(0, 100), bytes(0, 80), (alg, data, more, k) => {
        assert.deepEqual(node.hash(alg, data), noble.hash(alg, data));
        const a = node.createHash(alg);
        const b = noble.createHash(alg);
        a.update(data);
        b.update(data);
        assert.deepEqual(a.digestSoFar(), b.digestSoFar());
        a.update(more);
        b.update(more);
        assert.deepEqual(a.digestSoFar(), b.digestSoFar());
        assert.deepEqual(node.hmac(alg, k, data), noble.hmac(alg, k, data));
      }),
    );
  });

  it('HKDF-Extract and HKDF-Expand', () => {
    fc.assert(
      fc.property(
        hashAlg,
        bytes(0, 64),
        bytes(0, 64),
        bytes(0, 40),
        fc.nat(600),
        (alg, salt, ikm, info, len) => {
          const prk = node.hkdfExtract(alg, salt, ikm);
          assert.deepEqual(prk, noble.hkdfExtract(alg, salt, ikm));
          assert.deepEqual(node.hkdfExpand(alg, prk, info, len), noble.hkdfExpand(alg, prk, info, len));
        },
      ),
    );
  });

  for (const alg of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'] as const) {
    it(`${alg}: identical ciphertexts; each opens the other's; tampering → null`, () => {
      fc.assert(
        fc.property(
          key(alg === 'aes-128-gcm' ? 16 : 32),
          key(12),
          bytes(0, 40),
          bytes(0, 1500),
          fc.nat(),
          (k, nonce, aad, pt, flip) => {
            const [a, b] = [node.aead(alg, k), noble.aead(alg, k)];
            const ct = a.seal(nonce, aad, pt);
            assert.deepEqual(ct, b.seal(nonce, aad, pt));
            assert.deepEqual(b.open(nonce, aad, ct), pt);
            assert.deepEqual(a.open(nonce, aad, ct), pt);
            const bad = Uint8Array.from(ct);
            bad[flip % bad.length] ^= 1 << (flip % 8);
            assert.equal(a.open(nonce, aad, bad), null);
            assert.equal(b.open(nonce, aad, bad), null);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  for (const alg of ['aes-128-ecb', 'aes-256-ecb', 'chacha20'] as const) {
    it(`${alg} header-protection masks`, () => {
      fc.assert(
        fc.property(
          key(alg === 'aes-128-ecb' ? 16 : 32),
          fc.array(key(16), { minLength: 1, maxLength: 4 }),
          (k, samples) => {
            const [a, b] = [node.headerProtection(alg, k), noble.headerProtection(alg, k)];
            for (const s of samples) assert.equal(toHex(a.mask(s)), toHex(b.mask(s)));
          },
        ),
      );
    });
  }

  it('chacha20 header protection with the sample counter 0xffffffff (noble refuses it as a stream counter)', () => {
    fc.assert(
      fc.property(key(32), key(12), (k, nonce) => {
        const sample = new Uint8Array(16).fill(0xff);
        sample.set(nonce, 4);
        const a = node.headerProtection('chacha20', k).mask(sample);
        assert.equal(toHex(noble.headerProtection('chacha20', k).mask(sample)), toHex(a));
      }),
      { numRuns: 20 },
    );
  });

  for (const group of ['x25519', 'secp256r1'] as const) {
    it(`${group}: a node key share and a noble key share derive the same secret`, () => {
      for (let i = 0; i < 5; i++) {
        for (const [x, y] of PAIRS) {
          const a = x.generateKeyShare(group);
          const b = y.generateKeyShare(group);
          assert.deepEqual(a.sharedSecret(b.publicKey), b.sharedSecret(a.publicKey));
        }
      }
    });
  }

  const schemes = [
    ['ecdsa_secp256r1_sha256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['ecdsa_secp384r1_sha384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['ed25519', () => generateKeyPairSync('ed25519').privateKey],
  ] as const;
  for (const [scheme, gen] of schemes) {
    it(`${scheme}: imported by both with the same SPKI; one signs, the other verifies`, () => {
      fc.assert(
        fc.property(bytes(0, 200), (msg) => {
          const pem = gen().export({ type: 'pkcs8', format: 'pem' }) as string;
          for (const [x, y] of PAIRS) {
            const kx = x.importPrivateKey(pem);
            const ky = y.importPrivateKey(pem);
            assert.deepEqual(kx.publicKeySpki, ky.publicKeySpki);
            const sig = x.sign(scheme, kx, msg);
            assert.equal(y.verify(scheme, ky.publicKeySpki, msg, sig), true);
            const bad = Uint8Array.from(sig);
            bad[bad.length - 1] ^= 1;
            assert.equal(y.verify(scheme, ky.publicKeySpki, msg, bad), false);
          }
        }),
        { numRuns: 8 },
      );
    });
  }
});

describe('RSA: node signs and verifies; noble reports it unsupported', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const spki = new Uint8Array(createPublicKey(rsa).export({ type: 'spki', format: 'der' }));
  const forms: (string | Uint8Array)[] = [
    rsa.export({ type: 'pkcs8', format: 'pem' }) as string,
    new Uint8Array(rsa.export({ type: 'pkcs8', format: 'der' })),
    rsa.export({ type: 'pkcs1', format: 'pem' }) as string,
    new Uint8Array(rsa.export({ type: 'pkcs1', format: 'der' })),
  ];
  const msg = new TextEncoder().encode('certificate verify');

  it('node imports PKCS#8 and PKCS#1 (PEM, DER) and signs rsa_pss_rsae_sha256 and rsa_pkcs1_sha256', () => {
    for (const form of forms) {
      const k = node.importPrivateKey(form);
      assert.equal(k.type, 'rsa');
      assert.deepEqual(k.publicKeySpki, spki);
      for (const scheme of ['rsa_pss_rsae_sha256', 'rsa_pkcs1_sha256'] as const) {
        const sig = node.sign(scheme, k, msg);
        assert.equal(sig.length, 256);
        assert.equal(node.verify(scheme, spki, msg, sig), true);
        assert.equal(node.verify(scheme, spki, msg.subarray(1), sig), false);
      }
      // A PSS signature is not a PKCS#1 v1.5 one, and an RSA key is not an ECDSA key.
      assert.equal(
        node.verify('rsa_pkcs1_sha256', spki, msg, node.sign('rsa_pss_rsae_sha256', k, msg)),
        false,
      );
      assert.equal(
        node.verify('ecdsa_secp256r1_sha256', spki, msg, node.sign('rsa_pkcs1_sha256', k, msg)),
        false,
      );
    }
  });

  it('RFC 8446 §4.2.3: RSA-PSS uses a salt as long as the hash (32 bytes)', () => {
    const k = node.importPrivateKey(forms[0]);
    const sig = node.sign('rsa_pss_rsae_sha256', k, msg);
    // node:crypto checks the salt length when told one: only 32 verifies.
    const check = (saltLength: number) =>
      verify(
        'sha256',
        msg,
        { key: createPublicKey(rsa), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
        sig,
      );
    assert.equal(check(32), true);
    assert.equal(check(20), false);
    assert.equal(check(64), false);
  });

  it('noble throws UnsupportedAlgorithmError for RSA keys and RSA schemes', () => {
    for (const form of forms) assert.throws(() => noble.importPrivateKey(form), UnsupportedAlgorithmError);
    const sig = node.sign('rsa_pkcs1_sha256', node.importPrivateKey(forms[0]), msg);
    assert.throws(() => noble.verify('rsa_pkcs1_sha256', spki, msg, sig), UnsupportedAlgorithmError);
    assert.throws(() => noble.verify('rsa_pss_rsae_sha256', spki, msg, sig), UnsupportedAlgorithmError);
    const ec = noble.importPrivateKey(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string,
    );
    assert.throws(() => noble.sign('rsa_pss_rsae_sha256', ec, msg), UnsupportedAlgorithmError);
  });
});

describe('key import errors', () => {
  for (const p of [node, noble]) {
    it(`${p.name}: rejects text that is not PEM and DER that is not a private key`, () => {
      assert.throws(() => p.importPrivateKey('not a key'));
      assert.throws(() => p.importPrivateKey(fromHex('3003020101')));
    });
  }
});
