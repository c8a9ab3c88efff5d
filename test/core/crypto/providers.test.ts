import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { InvalidKeyShareError } from '../../../core/crypto/provider.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const ecP256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ecP384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;

// Known answers each provider must reproduce on its own.
for (const p of [nodeProvider, nobleProvider]) {
  describe(`CryptoProvider '${p.name}' known answers`, () => {
    it('SHA-256 and SHA-384 of "abc" (FIPS 180-4 examples); digestSoFar leaves the transcript usable', () => {
      const want256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
      const want384 =
        'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7';
      assert.equal(toHex(p.hash('sha256', ascii('abc'))), want256);
      assert.equal(toHex(p.hash('sha384', ascii('abc'))), want384);
      const h = p.createHash('sha256');
      h.update(ascii('a'));
      assert.equal(toHex(h.digestSoFar()), toHex(p.hash('sha256', ascii('a'))));
      h.update(ascii('bc'));
      assert.equal(toHex(h.digestSoFar()), want256);
      assert.equal(toHex(h.digestSoFar()), want256);
    });

    it('HMAC-SHA-256 and HMAC-SHA-384 (RFC 4231 test case 2)', () => {
      const key = ascii('Jefe');
      const data = ascii('what do ya want for nothing?');
      assert.equal(
        toHex(p.hmac('sha256', key, data)),
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
      assert.equal(
        toHex(p.hmac('sha384', key, data)),
        'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
      );
    });

    it('HKDF-SHA-256 extract and expand (RFC 5869 A.1); out-of-range lengths are RangeErrors', () => {
      const prk = p.hkdfExtract('sha256', fromHex('000102030405060708090a0b0c'), fromHex('0b'.repeat(22)));
      assert.equal(toHex(prk), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
      assert.equal(
        toHex(p.hkdfExpand('sha256', prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42)),
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      );
      assert.equal(p.hkdfExpand('sha256', prk, new Uint8Array(0), 0).length, 0);
      const prk384 = p.hkdfExtract('sha384', new Uint8Array(0), prk);
      assert.equal(p.hkdfExpand('sha384', prk384, new Uint8Array(0), 255 * 48).length, 255 * 48);
      assert.throws(() => p.hkdfExpand('sha384', prk, new Uint8Array(0), 48), RangeError);
      assert.throws(() => p.hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32 + 1), RangeError);
    });

    for (const alg of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'] as const) {
      it(`${alg}: seal/open round trip; tampered tag, AAD or short input → null; wrong key size → RangeError`, () => {
        const key = p.aead(alg, p.randomBytes(alg === 'aes-128-gcm' ? 16 : 32));
        const nonce = p.randomBytes(12);
        const ct = key.seal(nonce, ascii('hdr'), ascii('hello'));
        assert.equal(ct.length, 5 + 16);
        assert.deepEqual(key.open(nonce, ascii('hdr'), ct), ascii('hello'));
        assert.equal(key.open(nonce, ascii('hdx'), ct), null);
        ct[ct.length - 1] ^= 1;
        assert.equal(key.open(nonce, ascii('hdr'), ct), null);
        assert.equal(key.open(nonce, ascii('hdr'), ct.subarray(0, 15)), null);
        assert.deepEqual(
          key.open(nonce, new Uint8Array(0), key.seal(nonce, new Uint8Array(0), new Uint8Array(0))),
          new Uint8Array(0),
        );
        assert.throws(() => p.aead(alg, new Uint8Array(24)), RangeError);
      });
    }

    it('sealInto seals in place (exact overlap) and checks the output room', () => {
      const key = p.aead('aes-128-gcm', new Uint8Array(16).fill(7));
      const nonce = new Uint8Array(12);
      const buf = new Uint8Array(4 + 100 + 16);
      buf.set(p.randomBytes(100), 4);
      const want = key.seal(nonce, buf.subarray(0, 4), Uint8Array.from(buf.subarray(4, 104)));
      assert.equal(key.sealInto(nonce, buf.subarray(0, 4), buf.subarray(4, 104), buf, 4), 116);
      assert.deepEqual(buf.subarray(4), want);
      assert.throws(
        () => key.sealInto(nonce, new Uint8Array(0), new Uint8Array(10), new Uint8Array(25), 0),
        RangeError,
      );
    });

    it('header-protection masks of RFC 9001 A.2 (AES-128) and A.5 (ChaCha20), repeatable on one key', () => {
      const aes = p.headerProtection('aes-128-ecb', fromHex('9f50449e04a0e810283a1e9933adedd2'));
      const other = toHex(aes.mask(new Uint8Array(16)));
      for (let i = 0; i < 3; i++) {
        // Interleaved samples: the reused cipher object carries no state from one mask to the next.
        assert.equal(toHex(aes.mask(fromHex('d1b1c98dd7689fb8ec11d242b123dc9b'))), '437b9aec36');
        assert.equal(toHex(aes.mask(new Uint8Array(16))), other);
      }
      const cc = p.headerProtection(
        'chacha20',
        fromHex('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4'),
      );
      assert.equal(toHex(cc.mask(fromHex('5e5cd55c41f69080575d7999c25a5bfb'))), 'aefefe7d03');
      assert.equal(toHex(cc.mask(fromHex('5e5cd55c41f69080575d7999c25a5bfb'))), 'aefefe7d03');
      assert.throws(() => p.headerProtection('aes-128-ecb', new Uint8Array(32)), RangeError);
      assert.throws(() => aes.mask(new Uint8Array(15)), RangeError);
    });

    for (const group of ['x25519', 'secp256r1'] as const) {
      it(`${group}: both sides derive the same secret`, () => {
        const a = p.generateKeyShare(group);
        const b = p.generateKeyShare(group);
        assert.equal(a.group, group);
        assert.equal(a.publicKey.length, group === 'x25519' ? 32 : 65);
        assert.deepEqual(a.sharedSecret(b.publicKey), b.sharedSecret(a.publicKey));
        assert.equal(a.sharedSecret(b.publicKey).length, 32);
      });
    }

    it('RFC 8446 §7.4.2 X25519: an all-zero result (low-order peer points) → InvalidKeyShareError', () => {
      const a = p.generateKeyShare('x25519');
      // u = 0 and u = 1 are points of small order: the shared secret is all zeros.
      assert.throws(() => a.sharedSecret(new Uint8Array(32)), InvalidKeyShareError);
      assert.throws(() => a.sharedSecret(fromHex('01'.padEnd(64, '0'))), InvalidKeyShareError);
      assert.throws(() => a.sharedSecret(new Uint8Array(31)), InvalidKeyShareError);
    });

    it('RFC 8446 §4.2.8.2 P-256: off-curve, compressed, or malformed points → InvalidKeyShareError', () => {
      const a = p.generateKeyShare('secp256r1');
      const b = p.generateKeyShare('secp256r1').publicKey;
      const offCurve = Uint8Array.from(b);
      offCurve[64] ^= 1;
      assert.throws(() => a.sharedSecret(offCurve), InvalidKeyShareError);
      const compressed = new Uint8Array(33);
      compressed[0] = 0x02 | (b[64] & 1);
      compressed.set(b.subarray(1, 33), 1);
      assert.throws(() => a.sharedSecret(compressed), InvalidKeyShareError);
      const bad = Uint8Array.from(b);
      bad[0] = 0x05;
      assert.throws(() => a.sharedSecret(bad), InvalidKeyShareError);
      assert.throws(() => a.sharedSecret(fromHex('04' + 'ff'.repeat(64))), InvalidKeyShareError);
      assert.throws(() => a.sharedSecret(fromHex('04' + '00'.repeat(64))), InvalidKeyShareError);
    });

    const ecCases = [
      ['ecdsa_secp256r1_sha256', ecP256, 'ec-p256'],
      ['ecdsa_secp384r1_sha384', ecP384, 'ec-p384'],
      ['ed25519', ed, 'ed25519'],
    ] as const;
    for (const [scheme, ko, type] of ecCases) {
      it(`${scheme}: imports PKCS#8 PEM and DER${type === 'ed25519' ? '' : ' and SEC1'}, signs, verifies; rejects other data or key`, () => {
        const forms: (string | Uint8Array)[] = [
          ko.export({ type: 'pkcs8', format: 'pem' }) as string,
          new Uint8Array(ko.export({ type: 'pkcs8', format: 'der' })),
        ];
        if (type !== 'ed25519') {
          forms.push(ko.export({ type: 'sec1', format: 'pem' }) as string);
          forms.push(new Uint8Array(ko.export({ type: 'sec1', format: 'der' })));
        }
        const spki = nodeSpki(ko);
        for (const form of forms) {
          const key = p.importPrivateKey(form);
          assert.equal(key.type, type);
          assert.equal(toHex(key.publicKeySpki), toHex(spki));
          const sig = p.sign(scheme, key, ascii('data'));
          assert.equal(p.verify(scheme, key.publicKeySpki, ascii('data'), sig), true);
          assert.equal(p.verify(scheme, key.publicKeySpki, ascii('datA'), sig), false);
          assert.equal(
            p.verify(scheme, nodeSpki(ecP256 === ko ? ecP384 : ecP256), ascii('data'), sig),
            false,
          );
          assert.equal(p.verify(scheme, key.publicKeySpki, ascii('data'), new Uint8Array(3)), false);
          assert.equal(p.verify(scheme, new Uint8Array([0x30, 0x00]), ascii('data'), sig), false);
        }
      });
    }

    it('a key of the wrong type for the scheme cannot sign', () => {
      const key = p.importPrivateKey(ecP384.export({ type: 'pkcs8', format: 'pem' }) as string);
      assert.throws(() => p.sign('ecdsa_secp256r1_sha256', key, ascii('x')), TypeError);
    });
  });
}

/** The public half of `ko` as DER SubjectPublicKeyInfo, by node:crypto. */
function nodeSpki(ko: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(ko).export({ type: 'spki', format: 'der' }));
}
