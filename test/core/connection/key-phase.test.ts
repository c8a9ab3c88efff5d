import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OneRttKeys } from '../../../core/connection/key-phase.ts';
import { TLS_AES_128_GCM_SHA256, derivePacketKeys, nextPacketKeys } from '../../../core/crypto/keys.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { QUIC_VERSION_1 } from '../../../core/wire/version.ts';

function keys(fill: number) {
  return derivePacketKeys(
    nodeProvider,
    TLS_AES_128_GCM_SHA256,
    QUIC_VERSION_1,
    new Uint8Array(32).fill(fill),
  );
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
