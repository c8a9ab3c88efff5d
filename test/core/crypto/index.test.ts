import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compositeProvider,
  defaultProvider,
  getProvider,
  nobleProvider,
  nodeProvider,
} from '../../../core/crypto/index.ts';
import type { ProviderName } from '../../../core/crypto/index.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

describe('crypto provider selection', () => {
  it('getProvider returns the named providers', () => {
    assert.equal(getProvider('node'), nodeProvider);
    assert.equal(getProvider('noble'), nobleProvider);
    assert.equal(getProvider('default'), defaultProvider);
    assert.equal(defaultProvider.name, 'default');
    assert.throws(() => getProvider('webcrypto' as ProviderName), RangeError);
  });

  it('on a runtime without ChaCha20 or X25519 (like Electron BoringSSL) the default fills them from noble', () => {
    const p = compositeProvider({ chacha20Poly1305: false, chacha20: false, x25519: false });
    const hpKey = fromHex('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4');
    const sample = fromHex('5e5cd55c41f69080575d7999c25a5bfb');
    // The composite's objects are noble's for those primitives, node's for the rest.
    const hp = p.headerProtection('chacha20', hpKey);
    assert.equal(
      Object.getPrototypeOf(hp),
      Object.getPrototypeOf(nobleProvider.headerProtection('chacha20', hpKey)),
    );
    assert.equal(toHex(hp.mask(sample)), 'aefefe7d03'); // RFC 9001 A.5
    const k32 = new Uint8Array(32);
    assert.equal(
      Object.getPrototypeOf(p.aead('chacha20-poly1305', k32)),
      Object.getPrototypeOf(nobleProvider.aead('chacha20-poly1305', k32)),
    );
    assert.equal(
      Object.getPrototypeOf(p.aead('aes-256-gcm', k32)),
      Object.getPrototypeOf(nodeProvider.aead('aes-256-gcm', k32)),
    );
    const a = p.generateKeyShare('x25519');
    const b = nodeProvider.generateKeyShare('x25519');
    assert.deepEqual(a.sharedSecret(b.publicKey), b.sharedSecret(a.publicKey));
  });

  it('on a runtime with every primitive the default is node:crypto throughout', () => {
    const p = compositeProvider({ chacha20Poly1305: true, chacha20: true, x25519: true });
    assert.equal(p.aead, nodeProvider.aead);
    assert.equal(p.headerProtection, nodeProvider.headerProtection);
    assert.equal(p.generateKeyShare, nodeProvider.generateKeyShare);
  });
});
