import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { UnsupportedAlgorithmError } from '../../../core/crypto/provider.ts';
import type { SignatureParams } from '../../../core/crypto/provider.ts';

// Certificate signatures pair any hash with any key (RFC 5758 §3.2, RFC 4055), unlike TLS
// 1.3 signature schemes; verifyWith covers them.
const data = new TextEncoder().encode('tbsCertificate bytes');
const spkiOf = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  new Uint8Array(k.export({ type: 'spki', format: 'der' }));

describe('CryptoProvider.verifyWith: certificate signature algorithms', () => {
  for (const curve of ['P-256', 'P-384'] as const) {
    for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
      it(`ECDSA ${curve} with ${hash} verifies on both providers, and a flipped bit fails`, () => {
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
        const sig = new Uint8Array(sign(hash, data, { key: privateKey, dsaEncoding: 'der' }));
        const params: SignatureParams = { key: 'ecdsa', hash };
        for (const p of [nodeProvider, nobleProvider]) {
          assert.equal(p.verifyWith(params, spkiOf(publicKey), data, sig), true, p.name);
          const bad = data.slice();
          bad[0] ^= 1;
          assert.equal(p.verifyWith(params, spkiOf(publicKey), bad, sig), false, p.name);
          assert.equal(p.verifyWith({ key: 'ed25519', hash: null }, spkiOf(publicKey), data, sig), false);
        }
      });
    }
  }
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    it(`RSA PKCS#1 v1.5 and PSS with ${hash} (node; noble says it has no RSA)`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pkcs1 = new Uint8Array(sign(hash, data, privateKey));
      const salt = { sha256: 32, sha384: 48, sha512: 64 }[hash];
      const pss = new Uint8Array(
        sign(hash, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt }),
      );
      const spki = spkiOf(publicKey);
      assert.equal(nodeProvider.verifyWith({ key: 'rsa-pkcs1', hash }, spki, data, pkcs1), true);
      assert.equal(
        nodeProvider.verifyWith({ key: 'rsa-pss', hash, saltLength: salt }, spki, data, pss),
        true,
      );
      assert.equal(
        nodeProvider.verifyWith({ key: 'rsa-pss', hash, saltLength: salt }, spki, data, pkcs1),
        false,
      );
      assert.equal(nodeProvider.verifyWith({ key: 'ecdsa', hash }, spki, data, pkcs1), false);
      assert.throws(
        () => nobleProvider.verifyWith({ key: 'rsa-pkcs1', hash }, spki, data, pkcs1),
        UnsupportedAlgorithmError,
      );
    });
  }
  it('Ed25519 on both providers', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sig = new Uint8Array(sign(null, data, privateKey));
    for (const p of [nodeProvider, nobleProvider]) {
      assert.equal(p.verifyWith({ key: 'ed25519', hash: null }, spkiOf(publicKey), data, sig), true);
      assert.equal(
        p.verifyWith({ key: 'ed25519', hash: null }, spkiOf(publicKey), data, sig.slice().reverse()),
        false,
      );
    }
  });
});
