import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OneRttKeys } from '../../../core/connection/key-phase.ts';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  derivePacketKeys,
  nextPacketKeys,
} from '../../../core/crypto/keys.ts';
import type { QuicCipherSuite } from '../../../core/crypto/keys.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { QUIC_VERSION_1 } from '../../../core/wire/version.ts';

function keys(fill: number, suite: QuicCipherSuite = TLS_AES_128_GCM_SHA256) {
  return derivePacketKeys(nodeProvider, suite, QUIC_VERSION_1, new Uint8Array(48).fill(fill));
}

function pair() {
  const c2s = keys(1);
  const s2c = keys(2);
  const client = new OneRttKeys(nodeProvider, s2c, c2s);
  const server = new OneRttKeys(nodeProvider, c2s, s2c);
  return { client, server };
}

describe('RFC 9001 §6 key update', () => {
  it('a packet with the other key phase is opened with the next keys and updates both directions', () => {
    const { client, server } = pair();
    client.onSealed(0);
    client.onAcked(0);
    assert.equal(client.canInitiate, true);
    client.initiate();
    assert.equal(client.phase, 1);
    // The server sees phase 1 on packet 5: next keys, which match the client's new write keys.
    const sel = server.select(1, 5);
    assert.equal(sel.kind, 'next');
    assert.deepEqual(sel.keys.secret, client.write.secret);
    assert.equal(server.onOpened('next', 5, 100, 30), true);
    assert.equal(server.phase, 1);
    assert.deepEqual(server.write.secret, client.read.secret);
    assert.equal(server.previousDiscardAt, 130);
  });

  it('uses the previous keys for a delayed packet numbered below the current phase (§6.5)', () => {
    const { server } = pair();
    const old = server.read;
    server.onOpened(server.select(1, 10).kind, 10, 0, 30);
    const sel = server.select(0, 7);
    assert.equal(sel.kind, 'previous');
    assert.equal(sel.keys, old);
    assert.equal(server.select(0, 11).kind, 'next');
  });

  it('discards the previous read keys after 3 x PTO', () => {
    const { server } = pair();
    server.onOpened(server.select(1, 10).kind, 10, 0, 30);
    assert.equal(server.onTimeout(29), false);
    assert.equal(server.onTimeout(30), true);
    assert.equal(server.previous, null);
  });

  it('does not allow a new update before a packet of the current phase is acknowledged (§6.1)', () => {
    const { client } = pair();
    assert.equal(client.canInitiate, false);
    client.onSealed(3);
    client.onAcked(2);
    assert.equal(client.canInitiate, false);
    client.onAcked(3);
    assert.equal(client.canInitiate, true);
    client.initiate();
    assert.equal(client.canInitiate, false);
  });

  it('derives the next keys with "quic ku" (matches nextPacketKeys)', () => {
    const { client } = pair();
    const expected = nextPacketKeys(nodeProvider, client.write);
    client.onSealed(0);
    client.onAcked(0);
    client.initiate();
    assert.deepEqual(client.write.secret, expected.secret);
    assert.deepEqual(client.write.iv, expected.iv);
  });
});

describe('RFC 9001 §6.6 AEAD limits of 1-RTT keys', () => {
  it('AES-GCM: 2^23 packets per key, 2^52 failed decryptions; the update is due at 3/4', () => {
    for (const suite of [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384]) {
      const k = new OneRttKeys(nodeProvider, keys(1, suite), keys(2, suite));
      assert.equal(k.confidentialityLimit, 2 ** 23);
      assert.equal(k.integrityLimit, 2 ** 52);
      assert.equal(k.updateAt, 3 * 2 ** 21);
      assert.ok(k.closeAt > k.updateAt && k.closeAt < 2 ** 23);
    }
  });

  it('ChaCha20-Poly1305: the confidentiality limit (2^62) is in effect none; 2^36 failed decryptions', () => {
    const k = new OneRttKeys(
      nodeProvider,
      keys(1, TLS_CHACHA20_POLY1305_SHA256),
      keys(2, TLS_CHACHA20_POLY1305_SHA256),
    );
    assert.equal(k.confidentialityLimit, 2 ** 62);
    assert.equal(k.integrityLimit, 2 ** 36);
  });

  it('a test override lowers the limits, never raises them', () => {
    const low = new OneRttKeys(nodeProvider, keys(1), keys(2), { confidentiality: 1000, integrity: 7 });
    assert.equal(low.confidentialityLimit, 1000);
    assert.equal(low.integrityLimit, 7);
    assert.equal(low.updateAt, 750);
    const high = new OneRttKeys(nodeProvider, keys(1), keys(2), {
      confidentiality: 2 ** 40,
      integrity: 2 ** 60,
    });
    assert.equal(high.confidentialityLimit, 2 ** 23);
    assert.equal(high.integrityLimit, 2 ** 52);
  });

  it('counts packets sealed per key: due at 3/4, exhausted short of the limit, reset by an update', () => {
    const k = new OneRttKeys(nodeProvider, keys(1), keys(2), { confidentiality: 64 });
    let pn = 0;
    while (pn < 47) k.onSealed(pn++);
    assert.equal(k.updateDue, false);
    k.onSealed(pn++);
    assert.equal(k.updateDue, true, '48 of 64 sealed');
    assert.equal(k.confidentialityExhausted, false);
    while (!k.confidentialityExhausted) k.onSealed(pn++);
    assert.ok(k.sealedInPhase < 64, `exhausted at ${k.sealedInPhase}, before the limit`);
    k.onAcked(0);
    k.initiate();
    assert.equal(k.sealedInPhase, 0);
    assert.equal(k.updateDue, false);
    assert.equal(k.confidentialityExhausted, false);
  });

  it('a key update by the peer also starts a fresh count', () => {
    const k = new OneRttKeys(nodeProvider, keys(1), keys(2), { confidentiality: 64 });
    for (let pn = 0; pn < 50; pn++) k.onSealed(pn);
    assert.equal(k.updateDue, true);
    assert.equal(k.onOpened(k.select(1, 3).kind, 3, 0, 30), true);
    assert.equal(k.sealedInPhase, 0);
    assert.equal(k.updateDue, false);
  });
});
