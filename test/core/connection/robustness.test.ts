import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accept } from '../../../core/connection/connection.ts';
import type { Connection } from '../../../core/connection/connection.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

/** A small deterministic PRNG (tests must be reproducible). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Junk built to get past header parsing: a short header with the right DCID, or a long header of v1. */
function plausibleJunk(rand: () => number, dcid: Uint8Array): Uint8Array {
  const n = 21 + Math.floor(rand() * 1300);
  const b = randomBytes(rand, n);
  if (rand() < 0.5) {
    b[0] = 0x40 | (b[0] & 0x3f);
    b.set(dcid.subarray(0, Math.min(dcid.length, n - 1)), 1);
  } else {
    b[0] = 0xc0 | (b[0] & 0x3f);
    b.set([0, 0, 0, 1, dcid.length], 1);
    if (6 + dcid.length < n) b.set(dcid, 6);
  }
  return b;
}

function noInternalError(c: Connection | null): void {
  if (c === null) return;
  const e = c.localError();
  if (e !== null && !e.isApp)
    assert.notEqual(e.code, TransportError.INTERNAL_ERROR, `internal error: ${e.reason}`);
}

describe('robustness: hostile datagrams never throw out of recv and never hang the connection', () => {
  for (const seed of [1, 2, 3]) {
    it(`garbage, truncated, bit-flipped and replayed datagrams around a handshake and transfer (seed ${seed})`, () => {
      const rand = prng(seed);
      const p = new Pair();
      const history: { data: Uint8Array; toServer: boolean }[] = [];
      const realToServer = p.deliverToServer.bind(p);
      const realToClient = p.deliverToClient.bind(p);
      const hostile = (data: Uint8Array, toServer: boolean) => {
        const target = toServer ? (d: Uint8Array) => realToServer(d) : (d: Uint8Array) => realToClient(d);
        const conn = toServer ? p.server : p.client;
        const dcid = toServer ? (p.server?.sourceId() ?? new Uint8Array(8)) : p.client.sourceId();
        target(randomBytes(rand, Math.floor(rand() * 1500)));
        target(plausibleJunk(rand, dcid));
        target(data.slice(0, Math.floor(rand() * data.length)));
        const flipped = data.slice();
        flipped[Math.floor(rand() * flipped.length)] ^= 1 << Math.floor(rand() * 8);
        target(flipped);
        if (history.length > 0) {
          const old = history[Math.floor(rand() * history.length)];
          if (old.toServer === toServer) target(old.data);
        }
        noInternalError(conn);
      };
      p.deliverToServer = (d) => {
        realToServer(d);
        if (p.server !== null) hostile(d, true);
        history.push({ data: d, toServer: true });
      };
      p.deliverToClient = (d) => {
        realToClient(d);
        hostile(d, false);
        history.push({ data: d, toServer: false });
      };
      p.handshake();
      const data = randomBytes(rand, 100_000);
      let sent = 0;
      let got = 0;
      const buf = new Uint8Array(65536);
      const ok = p.runUntil(() => {
        if (sent < data.length) sent += p.client.streamSend(0, data.subarray(sent), true);
        while (p.server!.readable().includes(0)) {
          const r = p.server!.streamRecv(0, buf);
          if (r === null || r.length === 0) break;
          got += r.length;
        }
        return got === data.length;
      }, 100_000);
      assert.ok(ok, `transfer stalled at ${got}`);
      assert.equal(p.client.localError(), null);
      assert.equal(p.server!.localError(), null);
      // And while closing, draining and closed.
      p.client.close(true, 1, 'bye');
      p.runUntil(() => p.client.isClosed() && p.server!.isClosed(), 10_000);
      assert.equal(p.client.isClosed(), true);
      for (let i = 0; i < 20; i++) {
        p.client.recv(randomBytes(rand, 100), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
        p.server!.recv(history[i % history.length].data, { from: CLIENT_ADDR, to: SERVER_ADDR }, p.now);
      }
      assert.equal(p.client.send(new Uint8Array(1500), p.now), null);
    });
  }

  it('property: arbitrary datagrams to a fresh server and to an established client', () => {
    const p = new Pair();
    p.handshake();
    const cfg = configs();
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 1600 }), { maxLength: 8 }),
        fc.boolean(),
        (datagrams, shortHeader) => {
          const server = accept(new Uint8Array(8).fill(1), null, SERVER_ADDR, CLIENT_ADDR, cfg.server, 0);
          for (const d of datagrams) {
            if (shortHeader && d.length > 9) {
              d[0] = 0x40 | (d[0] & 0x3f);
              d.set(p.client.sourceId(), 1);
            }
            server.recv(d, { from: CLIENT_ADDR, to: SERVER_ADDR }, 0);
            p.client.recv(d, { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
            server.send(new Uint8Array(1500), 0);
            server.onTimeout(1);
          }
          noInternalError(server);
          assert.equal(p.client.localError(), null);
        },
      ),
      { numRuns: 200 },
    );
    // The client still works.
    p.client.streamSend(0, new Uint8Array([1, 2, 3]), true);
    p.runUntil(() => p.server!.readable().includes(0), 1000);
    assert.deepEqual(p.server!.readable(), [0]);
  });

  it('reordered and duplicated delivery still completes a transfer', () => {
    const rand = prng(99);
    const p = new Pair();
    const held: { d: Uint8Array; toServer: boolean }[] = [];
    const realToServer = p.deliverToServer.bind(p);
    const realToClient = p.deliverToClient.bind(p);
    const shuffle = (d: Uint8Array, toServer: boolean) => {
      held.push({ d, toServer });
      if (rand() < 0.3) held.push({ d, toServer }); // duplicate
      if (held.length >= 3 || rand() < 0.2) {
        while (held.length > 0) {
          const i = Math.floor(rand() * held.length);
          const x = held.splice(i, 1)[0];
          if (x.toServer) realToServer(x.d);
          else realToClient(x.d);
        }
      }
    };
    p.deliverToServer = (d) => shuffle(d, true);
    p.deliverToClient = (d) => shuffle(d, false);
    const data = randomBytes(rand, 300_000);
    let sent = 0;
    let got = 0;
    const buf = new Uint8Array(65536);
    const ok = p.runUntil(() => {
      if (p.client.isEstablished() && sent < data.length)
        sent += p.client.streamSend(0, data.subarray(sent), true);
      while (p.server?.readable().includes(0)) {
        const r = p.server.streamRecv(0, buf);
        if (r === null || r.length === 0) break;
        got += r.length;
      }
      return got === data.length;
    }, 200_000);
    assert.ok(ok, `stalled at ${got}`);
  });
});
