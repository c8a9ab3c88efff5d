// Garbage, truncated, corrupted and replayed datagrams thrown at both sides in every state
// (before the handshake, mid-handshake, established, closing, draining). Neither side may throw
// out of recv()/send()/onTimeout() (the simulator turns a throw into a failure), hang, or lose a
// legitimate transfer because of datagrams that are not valid packets (RFC 9000 §5.2, §12.2:
// undecryptable or malformed packets are discarded; RFC 9001 §5: packet protection).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accept, connect, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../core/index.ts';
import { Rng } from '../helpers/netsim.ts';
import type { Address, Side, Sim } from '../helpers/netsim.ts';
import { expectedHash, handshake, makePair, pairConfigs, transfer, withLimits } from '../helpers/pair.ts';
import type { Connection } from '../helpers/pair.ts';

/** Kinds of bad datagrams. */
type Kind =
  'random' | 'long-header' | 'short-header' | 'truncated' | 'replayed' | 'bit-flipped' | 'trailing-junk';
const KINDS: Kind[] = [
  'random',
  'long-header',
  'short-header',
  'truncated',
  'replayed',
  'bit-flipped',
  'trailing-junk',
];

/** One bad datagram of `kind` aimed at `side`, built from the seeded generator and recent traffic. */
function garbage(sim: Sim<Connection>, side: Side, kind: Kind, rng: Rng): Uint8Array {
  const history = sim.history[side === 'server' ? 'c2s' : 's2c'];
  const legit = history.length > 0 ? history[rng.int(history.length)] : null;
  const random = (n: number) => rng.fill(new Uint8Array(n));
  const conn = sim.endpoint(side).conn;
  const ownCid = conn !== null ? conn.sourceId() : random(8);
  switch (kind) {
    case 'random':
      return random(rng.int(1500));
    case 'long-header': {
      // A plausible long header (RFC 9000 §17.2) of a real version, with our CID or a random one.
      const versions = [QUIC_VERSION_1, QUIC_VERSION_2, 0x1a2a3a4a];
      const version = versions[rng.int(versions.length)];
      const dcid = rng.chance(0.5) ? ownCid : random(rng.int(21));
      const scid = random(rng.int(21));
      const body = random(rng.int(1300));
      const b = new Uint8Array(7 + dcid.length + scid.length + body.length);
      b[0] = 0xc0 | rng.int(64);
      new DataView(b.buffer).setUint32(1, version);
      b[5] = dcid.length;
      b.set(dcid, 6);
      b[6 + dcid.length] = scid.length;
      b.set(scid, 7 + dcid.length);
      b.set(body, 7 + dcid.length + scid.length);
      return b;
    }
    case 'short-header': {
      // A 1-RTT header with our CID, so the packet reaches header and packet protection.
      const body = random(1 + rng.int(1300));
      const b = new Uint8Array(1 + ownCid.length + body.length);
      b[0] = 0x40 | rng.int(64);
      b.set(ownCid, 1);
      b.set(body, 1 + ownCid.length);
      return b;
    }
    case 'truncated':
      return legit !== null ? legit.slice(0, rng.int(legit.length)) : random(rng.int(40));
    case 'replayed':
      return legit !== null ? legit.slice() : random(1200);
    case 'bit-flipped': {
      if (legit === null) return random(1200);
      const b = legit.slice();
      for (let i = 1 + rng.int(4); i > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    }
    case 'trailing-junk': {
      if (legit === null) return random(1200);
      const junk = random(1 + rng.int(200));
      const b = new Uint8Array(legit.length + junk.length);
      b.set(legit);
      b.set(junk, legit.length);
      return b;
    }
  }
}

/** Throws `count` bad datagrams of every kind at `side` now (spread over the next millisecond). */
function barrage(sim: Sim<Connection>, side: Side, rng: Rng, count = 8): void {
  for (const kind of KINDS)
    for (let i = 0; i < count; i++)
      sim.inject(side, garbage(sim, side, kind, rng), { time: sim.now + rng.next() });
}

function pair(seed: number) {
  return makePair({ seed, history: 32 });
}

function assertTransferWorks(sim: Sim<Connection>, bytes = 100_000): void {
  const r = transfer(sim, withLimits({ bytes, direction: 'both' }));
  assert.ok(r.intact, 'transfer intact after the garbage');
  for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(bytes, s.id));
}

describe('RFC 9000 §12.2 bad datagrams in every state never crash or hang an endpoint', () => {
  it('before the handshake: at the client before any answer, at the server right after it is created', () => {
    for (const seed of [500, 501, 502]) {
      const sim = pair(seed);
      const rng = new Rng(seed);
      barrage(sim, 'client', rng); // t = 0: the client has sent its Initial, nothing else
      let hit = false;
      sim.addApp((s) => {
        if (!hit && s.server.conn !== null) {
          hit = true;
          barrage(s, 'server', rng);
        }
      });
      handshake(sim);
      assertTransferWorks(sim);
    }
  });

  it('mid-handshake: the server waits for the Finished, the client for the server flight', () => {
    for (const seed of [510, 511, 512]) {
      const sim = pair(seed);
      const rng = new Rng(seed);
      sim.at(15, () => {
        barrage(sim, 'client', rng);
        barrage(sim, 'server', rng);
      });
      sim.at(25, () => barrage(sim, 'server', rng)); // the client is done, the server not yet
      handshake(sim);
      assertTransferWorks(sim);
    }
  });

  it('mid-handshake with a multi-datagram server flight (RSA chain) under loss', () => {
    const sim = makePair({ seed: 513, history: 32, keyType: 'rsa', link: { loss: 0.1 } });
    const rng = new Rng(513);
    for (let t = 5; t < 200; t += 7) sim.at(t, () => barrage(sim, t % 2 === 0 ? 'client' : 'server', rng, 2));
    handshake(sim, { maxTime: 120_000 });
    assertTransferWorks(sim, 30_000);
  });

  it('established: garbage during a transfer does not disturb it', () => {
    for (const seed of [520, 521]) {
      const sim = pair(seed);
      const rng = new Rng(seed);
      handshake(sim);
      for (let t = 5; t < 400; t += 10)
        sim.at(sim.now + t, () => barrage(sim, t % 20 === 5 ? 'client' : 'server', rng, 2));
      assertTransferWorks(sim, 500_000);
      // The garbage did reach both sides, and was dropped there.
      assert.ok(
        sim.server.c.stats().packetsDropped > 50,
        `server dropped ${sim.server.c.stats().packetsDropped}`,
      );
      assert.ok(
        sim.client.c.stats().packetsDropped > 50,
        `client dropped ${sim.client.c.stats().packetsDropped}`,
      );
    }
  });

  it('closing and draining: garbage to the closing client and the draining server; both still close', () => {
    for (const seed of [530, 531]) {
      const sim = pair(seed);
      const rng = new Rng(seed);
      handshake(sim);
      transfer(sim, withLimits({ bytes: 20_000 }));
      sim.client.c.close(true, 3, 'bye');
      barrage(sim, 'client', rng); // closing (§10.2.1)
      let drained = false;
      sim.addApp((s) => {
        if (!drained && s.server.c.isDraining()) {
          drained = true;
          barrage(s, 'server', rng); // draining (§10.2.2)
          barrage(s, 'client', rng);
        }
      });
      sim.run({ maxTime: 60_000 });
      assert.ok(drained, 'the server drained');
      assert.ok(sim.client.c.isClosed() && sim.server.c.isClosed());
      assert.deepEqual(sim.server.c.peerError(), { isApp: true, code: 3, reason: 'bye' });
    }
  });

  it('after close: datagrams to closed connections are ignored', () => {
    const sim = pair(540);
    const rng = new Rng(540);
    handshake(sim);
    sim.server.c.close(false, 0, '');
    sim.run({ maxTime: 60_000 });
    const recv = (c: Connection, d: Uint8Array) =>
      c.recv(d, { from: sim.client.local, to: sim.server.local }, sim.now);
    for (const kind of KINDS) {
      recv(sim.server.c, garbage(sim, 'server', kind, rng));
      recv(sim.client.c, garbage(sim, 'client', kind, rng));
    }
    assert.equal(sim.server.c.send(new Uint8Array(1500), sim.now), null);
    assert.equal(sim.client.c.send(new Uint8Array(1500), sim.now), null);
  });
});

describe('RFC 9000 §9.3.3 replayed datagrams from a spoofed address', () => {
  it('copies of old packets from an attacker address are ignored', () => {
    const sim = pair(550);
    handshake(sim);
    const attacker: Address = { address: '203.0.113.66', port: 6666 };
    for (let t = 5; t < 300; t += 25)
      sim.at(sim.now + t, () => {
        for (const d of sim.history.c2s.slice(-3)) sim.inject('server', d, { from: attacker });
      });
    assertTransferWorks(sim, 300_000);
  });

  it('an attacker racing copies of genuine packets ahead of them does not break the connection', () => {
    // Every 10th client datagram is also forwarded by an attacker on a shorter path: the copy
    // arrives first, from the attacker's address (§9.3.3 off-path packet forwarding).
    const sim = pair(551);
    handshake(sim);
    const attacker: Address = { address: '203.0.113.66', port: 6666 };
    sim.c2s.addRule((d) => {
      if (d.index % 10 === 5) sim.inject('server', d.bytes, { from: attacker, time: d.departAt + 2 });
      return false;
    });
    assertTransferWorks(sim, 300_000);
  });
});

describe('recv() on a fresh connection never throws, whatever the bytes (fast-check)', () => {
  const local: Address = { address: '10.0.0.2', port: 443 };
  const peer: Address = { address: '10.0.0.1', port: 50_000 };
  const configs = pairConfigs();
  const headerish = fc.oneof(
    fc.uint8Array({ maxLength: 1500 }),
    fc
      .tuple(fc.constantFrom(0xc0, 0xd0, 0xe0, 0xf0, 0x40), fc.uint8Array({ minLength: 1, maxLength: 1400 }))
      .map(([first, rest]) => {
        const b = new Uint8Array(5 + rest.length);
        b[0] = first;
        new DataView(b.buffer).setUint32(1, QUIC_VERSION_1);
        b.set(rest, 5);
        return b;
      }),
  );

  it('server', () => {
    fc.assert(
      fc.property(fc.array(headerish, { minLength: 1, maxLength: 4 }), (datagrams) => {
        const c = accept(new Uint8Array(8).fill(1), null, local, peer, configs.server, 0);
        for (const d of datagrams) c.recv(d, { from: peer, to: local }, 1);
        const out = new Uint8Array(1500);
        for (let i = 0; i < 10 && c.send(out, 2) !== null; i++);
        const t = c.timeout();
        if (t !== null) c.onTimeout(t);
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it('client', () => {
    fc.assert(
      fc.property(fc.array(headerish, { minLength: 1, maxLength: 4 }), (datagrams) => {
        const c = connect('localhost', new Uint8Array(8).fill(2), peer, local, configs.client, 0);
        const out = new Uint8Array(1500);
        assert.notEqual(c.send(out, 0), null);
        for (const d of datagrams) c.recv(d, { from: local, to: peer }, 1);
        for (let i = 0; i < 10 && c.send(out, 2) !== null; i++);
        const t = c.timeout();
        if (t !== null) c.onTimeout(t);
      }),
      { numRuns: 150, seed: 43 },
    );
  });
});
