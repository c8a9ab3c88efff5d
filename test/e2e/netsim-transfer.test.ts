// The transfer driver (netsim-transfer.ts) over a toy stream endpoint on a lossless FIFO link:
// stream ids, hashing at both ends, directions, and that a corrupted stream is detected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from '../helpers/netsim.ts';
import { expectedHash, handshake, streamId, transfer } from '../helpers/netsim-transfer.ts';
import { C, S, ToyStreams } from './netsim-fakes.ts';

describe('netsim transfer driver (toy endpoints)', () => {
  const pair = (window = 8000) =>
    new Sim<ToyStreams>(new ToyStreams(C, S, window), new ToyStreams(S, C, window));

  it('handshake() returns once both report established', () => {
    assert.equal(handshake(pair()), 0);
  });

  it('moves 0 B, 1 B and 300 kB on several streams both ways with equal SHA-256', () => {
    for (const bytes of [0, 1, 300_000]) {
      const sim = pair();
      const r = transfer(sim, { bytes, streams: 3, direction: 'both', chunk: 5000, seed: 11 });
      assert.ok(r.intact);
      assert.equal(r.streams.length, 6);
      assert.equal(r.received, 6 * bytes);
      for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(bytes, s.id, 11, 5000));
      assert.deepEqual(
        r.streams.map((s) => s.id),
        [0, 4, 8, 1, 5, 9],
      );
    }
  });

  it('uses the stream ids of RFC 9000 §2.1 and continues on fresh streams', () => {
    assert.equal(streamId(0, 'client', false), 0);
    assert.equal(streamId(2, 'server', false), 9);
    assert.equal(streamId(1, 'client', true), 6);
    assert.equal(streamId(0, 'server', true), 3);
    const sim = pair();
    transfer(sim, { bytes: 10, direction: 's2c', uni: true });
    const r = transfer(sim, { bytes: 10, direction: 's2c', uni: true, firstIndex: 1 });
    assert.deepEqual(
      r.streams.map((s) => s.id),
      [7],
    );
    assert.ok(r.intact);
  });

  it('detects a corrupted stream (the check can fail)', () => {
    const sim = pair();
    // Flip one payload bit of every toy datagram on its way into the server.
    const server = sim.server.c;
    const recv = server.recv.bind(server);
    server.recv = (d, info, now) => {
      if (d.length > 10) d[10] ^= 1;
      return recv(d, info, now);
    };
    const r = transfer(sim, { bytes: 20_000 });
    assert.equal(r.intact, false);
    assert.notEqual(r.streams[0].sentHash, r.streams[0].receivedHash);
  });
});
