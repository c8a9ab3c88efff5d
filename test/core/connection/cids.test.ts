import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectionState } from '../../../core/connection/connection.ts';
import { bytesEqual } from '../../../core/wire/buffer.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

function exchange(p: Pair, n = 1000): void {
  const buf = new Uint8Array(4096);
  p.client.streamSend(0, new Uint8Array(n), false);
  p.runUntil(() => p.server!.readable().includes(0), 10_000);
  while (p.server!.readable().includes(0) && p.server!.streamRecv(0, buf)?.length);
  p.settle();
}

describe('RFC 9000 §5.1 connection IDs over a connection', () => {
  it('each side issues CIDs up to the peer limit and reports them to the endpoint', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    assert.equal(p.server!.sourceIds().length, 4);
    const events = [];
    for (let e = p.server!.pollCidEvent(); e !== null; e = p.server!.pollCidEvent()) events.push(e);
    assert.equal(events.filter((e) => e.kind === 'new').length, 3);
    assert.equal(connectionState(p.client).peerCids.activeCount, 4);
  });

  it('retiring a CID (RETIRE_CONNECTION_ID) gets a replacement (§5.1.2, §19.16)', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    while (p.server!.pollCidEvent() !== null);
    const c = connectionState(p.client);
    const before = p.client.destinationId();
    assert.equal(c.peerCids.rotate(), true); // test hook: the client moves to a new DCID
    assert.ok(!bytesEqual(before, p.client.destinationId()));
    exchange(p);
    const events = [];
    for (let e = p.server!.pollCidEvent(); e !== null; e = p.server!.pollCidEvent()) events.push(e);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['retired', 'new'],
    );
    assert.ok(bytesEqual(events[0].cid, before));
    assert.equal(p.server!.sourceIds().length, 4);
  });

  it('works with a zero-length client CID (no NEW_CONNECTION_ID, §5.1.1)', () => {
    const cfg = configs();
    const p = new Pair(cfg);
    // Replace the client by one with an empty SCID.
    (p as { client: unknown }).client = connect(
      'localhost',
      new Uint8Array(0),
      CLIENT_ADDR,
      SERVER_ADDR,
      cfg.client,
      p.now,
    );
    p.handshake();
    exchange(p);
    assert.equal(p.client.sourceId().length, 0);
    assert.equal(p.server!.destinationId().length, 0);
    assert.equal(p.client.sourceIds().length, 1);
  });
});

describe('RFC 9000 §9 peer address change', () => {
  it('the server follows a NAT rebinding and validates the new path', () => {
    const p = new Pair();
    p.handshake();
    exchange(p);
    const moved = { address: '127.0.0.1', port: 50001 };
    const realToServer = p.deliverToServer.bind(p);
    p.deliverToServer = (d) => {
      p.delivered.toServer++;
      p.server!.recv(d, { from: moved, to: SERVER_ADDR }, p.now);
    };
    void realToServer;
    exchange(p, 3000);
    const buf = new Uint8Array(1500);
    p.server!.streamSend(1, new Uint8Array(10), true);
    const d = p.server!.send(buf, p.now);
    assert.deepEqual(d?.to, moved);
    assert.equal(p.server!.stats().pathChanges, 1);
    p.settle();
    assert.equal(connectionState(p.server!).pathValidated, true);
  });

  it('a spurious migration by packets copied ahead of the genuine ones moves back to the validated path (§9.3.3)', () => {
    const p = new Pair();
    p.handshake();
    exchange(p);
    const attacker = { address: '10.9.9.9', port: 666 };
    const real = p.deliverToServer.bind(p);
    let raced = false;
    p.deliverToServer = (d) => {
      if (!raced && (d[0] & 0x80) === 0) {
        raced = true;
        p.server!.recv(d.slice(), { from: attacker, to: SERVER_ADDR }, p.now); // the copy wins the race
      }
      real(d); // the genuine packet is now a duplicate
    };
    // Nothing reaches the attacker's address (it cannot answer the challenge).
    p.dropIf = (_d, toServer, to) => !toServer && to.address === attacker.address;
    exchange(p, 5000);
    p.client.streamSend(0, new Uint8Array(100), false);
    p.settle();
    const buf = new Uint8Array(1500);
    p.server!.streamSend(1, new Uint8Array(10), false);
    assert.deepEqual(p.server!.send(buf, p.now)?.to, CLIENT_ADDR);
    assert.equal(p.server!.isClosed(), false);
    assert.ok(p.server!.stats().pathChanges >= 2, 'moved away and back');
  });

  it('reverts to the last validated address when validating a new one fails (§9.3.2)', () => {
    const p = new Pair();
    p.handshake();
    exchange(p);
    const spoofed = { address: '10.8.8.8', port: 1 };
    // One packet from the spoofed address, then silence from the client.
    p.client.streamSend(0, new Uint8Array(10), false);
    const buf = new Uint8Array(1500);
    const d = p.client.send(buf, p.now)!;
    p.server!.recv(buf.slice(0, d.length), { from: spoofed, to: SERVER_ADDR }, p.now);
    // The challenge of the new address (under the 3x limit), and the probe of the previous path (§9.3.3).
    assert.deepEqual(p.server!.send(buf, p.now)?.to, spoofed, 'moved (under the 3x limit)');
    assert.deepEqual(p.server!.send(buf, p.now)?.to, CLIENT_ADDR);
    const s = connectionState(p.server!);
    const deadline = s.pathValidationDeadline!;
    p.server!.onTimeout(deadline);
    assert.equal(s.pathValidated, true);
    assert.deepEqual(s.peer, CLIENT_ADDR);
  });
});
