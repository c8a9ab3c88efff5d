import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import {
  INITIAL_SALT_V1,
  INITIAL_SALT_V2,
  initialKeys,
  initialSalt,
  initialSecrets,
} from '../../../core/crypto/initial.ts';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_CHACHA20_POLY1305_SHA256,
  deriveKeyMaterial,
  nextTrafficSecret,
} from '../../../core/crypto/keys.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import { DCID, V1, V2 } from './vectors.ts';

for (const p of [nodeProvider, nobleProvider]) {
  for (const v of [V1, V2]) {
    describe(`${v.name} A.1 keys [${p.name}]`, () => {
      it('derives initial_secret = HKDF-Extract(initial_salt, cid)', () => {
        assert.equal(toHex(p.hkdfExtract('sha256', initialSalt(v.version), fromHex(DCID))), v.initialSecret);
      });

      it('derives the client and server initial secrets', () => {
        const s = initialSecrets(p, v.version, fromHex(DCID));
        assert.equal(toHex(s.client), v.client.secret);
        assert.equal(toHex(s.server), v.server.secret);
      });

      for (const side of ['client', 'server'] as const) {
        it(`derives the ${side} key, iv and hp`, () => {
          const m = deriveKeyMaterial(p, TLS_AES_128_GCM_SHA256, v.version, fromHex(v[side].secret));
          assert.deepEqual(
            { key: toHex(m.key), iv: toHex(m.iv), hp: toHex(m.hp) },
            { key: v[side].key, iv: v[side].iv, hp: v[side].hp },
          );
        });
      }

      it('builds PacketKeys whose HP mask matches the A.2 sample and whose IV is A.1', () => {
        const keys = initialKeys(p, v.version, fromHex(DCID));
        assert.equal(toHex(keys.client.iv), v.client.iv);
        assert.equal(toHex(keys.server.iv), v.server.iv);
        assert.equal(toHex(keys.client.hp.mask(fromHex(v.clientInitial.sample))), v.clientInitial.mask);
        assert.equal(toHex(keys.server.hp.mask(fromHex(v.serverInitial.sample))), v.serverInitial.mask);
        assert.equal(keys.client.confidentialityLimit, 2 ** 23); // RFC 9001 §6.6, AEAD_AES_128_GCM
        assert.equal(keys.client.integrityLimit, 2 ** 52);
      });

      it('A.5 derives the ChaCha20-Poly1305 key, iv, hp and the key-update secret (ku)', () => {
        const c = v.chacha;
        const m = deriveKeyMaterial(p, TLS_CHACHA20_POLY1305_SHA256, v.version, fromHex(c.secret));
        assert.deepEqual(
          { key: toHex(m.key), iv: toHex(m.iv), hp: toHex(m.hp) },
          { key: c.key, iv: c.iv, hp: c.hp },
        );
        assert.equal(toHex(nextTrafficSecret(p, 'sha256', v.version, fromHex(c.secret))), c.ku);
      });
    });
  }
}

describe('RFC 9001 §5.2 / RFC 9369 §3.3.1 initial salts', () => {
  it('uses the v1 and v2 salts and rejects other versions', () => {
    assert.equal(toHex(INITIAL_SALT_V1), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    assert.equal(toHex(INITIAL_SALT_V2), '0dede3def700a6db819381be6e269dcbf9bd2ed9');
    assert.equal(initialSalt(V1.version), INITIAL_SALT_V1);
    assert.equal(initialSalt(V2.version), INITIAL_SALT_V2);
    assert.throws(() => initialSalt(0xff00001d), RangeError);
    assert.throws(() => initialKeys(nodeProvider, 0x1a2a3a4a, fromHex(DCID)), RangeError);
  });
});
