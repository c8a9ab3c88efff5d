// The network simulator itself, driven by trivial fake endpoints (no QUIC): the clock, the event
// order, every link impairment, scripted drops, NAT rebinding, timers, limits and diagnostics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EventQueue,
  Rng,
  Sim,
  SimError,
  dropFirstOfType,
  dropFlight,
  dropFrom,
  dropIndices,
  packetTypes,
  totalDropped,
} from '../helpers/netsim.ts';
import type { Address, SimOptions } from '../helpers/netsim.ts';
import { C, Fake, numbered, S, seqOf } from './netsim-fakes.ts';
import type { Received } from './netsim-fakes.ts';

/** A client that sends `count` datagrams at once (or paced `interval` ms apart) and a recording server. */
function blast(count: number, options: SimOptions & { size?: number; interval?: number } = {}) {
  const client = new Fake(C, S);
  const server = new Fake(S, C);
  for (let i = 0; i < count; i++)
    client.outbox.push({ bytes: numbered(i, options.size), at: options.interval ? i * options.interval : 0 });
  const sim = new Sim<Fake>(client, server, options);
  sim.runFor(60_000);
  return {
    sim,
    client,
    server,
    seqs: server.inbox.map((r) => seqOf(r.bytes)),
    times: server.inbox.map((r) => r.now),
  };
}

describe('netsim building blocks', () => {
  it('the PRNG replays from its seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 100 }, () => a.u32());
    assert.deepEqual(
      Array.from({ length: 100 }, () => b.u32()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 100 }, () => c.u32()),
      xs,
    );
    const r = new Rng(7);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += r.next();
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02, `mean ${sum / 10_000}`);
    const odd = new Uint8Array(new ArrayBuffer(11), 1, 7); // unaligned, not a multiple of 4
    new Rng(1).fill(odd);
    assert.ok(odd.some((x) => x !== 0));
  });

  it('the event queue pops by time, then in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const expected = times.map((t, i) => ({ t, i })).sort((x, y) => x.t - y.t || x.i - y.i);
        const got: number[] = [];
        for (let e = q.pop(); e !== undefined; e = q.pop()) got.push(e.value);
        assert.deepEqual(
          got,
          expected.map((x) => x.i),
        );
      }),
    );
  });

  it('packetTypes reads the coalesced long header types and the short header', () => {
    // v1 Initial (type 0), Handshake (type 2), then a short header packet (RFC 9000 §17.2).
    const initial = [0xc0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0, 0, 0x40, 4, 9, 9, 9, 9];
    const hs = [0xe0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0, 0x40, 3, 8, 8, 8];
    const short = [0x40, 1, 2, 3, 4, 5, 6, 7];
    assert.deepEqual(packetTypes(new Uint8Array([...initial, ...hs, ...short])), [
      'initial',
      'handshake',
      '1rtt',
    ]);
    assert.deepEqual(packetTypes(new Uint8Array(hs)), ['handshake']);
    assert.deepEqual(packetTypes(new Uint8Array([0xc0, 0, 0])), []);
  });
});

describe('netsim links', () => {
  it('delivers after the one-way delay and creates the server lazily at the first arrival', () => {
    const client = new Fake(C, S);
    client.outbox.push({ bytes: numbered(1) });
    let created: { now: number; peer: Address; size: number } | null = null;
    const server = new Fake(S, C);
    const sim = new Sim<Fake>(
      client,
      (ctx) => {
        created = { now: ctx.now, peer: ctx.peer, size: ctx.datagram?.length ?? 0 };
        return server;
      },
      { link: { delay: 7.5 } },
    );
    sim.run({ until: () => server.inbox.length === 1 });
    assert.deepEqual(created, { now: 7.5, peer: C, size: 100 });
    assert.equal(server.inbox[0].now, 7.5);
    assert.deepEqual(server.inbox[0].from, C);
    assert.deepEqual(server.inbox[0].to, S);
  });

  it('keeps FIFO order under jitter, within [delay, delay + jitter)', () => {
    const { seqs, times } = blast(200, { link: { delay: 10, jitter: 5 }, interval: 0.1 });
    assert.deepEqual(
      seqs,
      Array.from({ length: 200 }, (_, i) => i),
    );
    for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1]);
    assert.ok(times[0] >= 10 && times[0] < 15);
  });

  it('serialises at the bottleneck rate and tail-drops when the queue is full', () => {
    const fast = blast(10, { link: { delay: 5, bandwidth: 100_000 }, size: 1000 });
    assert.deepEqual(
      fast.times,
      Array.from({ length: 10 }, (_, i) => 5 + 10 * (i + 1)),
    );
    const full = blast(10, { link: { delay: 5, bandwidth: 100_000, bufferBytes: 3000 }, size: 1000 });
    assert.deepEqual(full.seqs, [0, 1, 2]);
    assert.equal(full.sim.c2s.counters.dropped.queue, 7);
  });

  it('drops datagrams larger than the path MTU', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    client.outbox.push(
      { bytes: numbered(0, 1200) },
      { bytes: numbered(1, 1500) },
      { bytes: numbered(2, 1400) },
    );
    const sim = new Sim<Fake>(client, server, { link: { mtu: 1400 } });
    sim.runFor(100);
    assert.deepEqual(
      server.inbox.map((r) => seqOf(r.bytes)),
      [0, 2],
    );
    assert.equal(sim.c2s.counters.dropped.mtu, 1);
  });

  it('loses about the configured fraction, reproducibly from the seed', () => {
    const a = blast(2000, { link: { loss: 0.2 }, seed: 5 });
    const b = blast(2000, { link: { loss: 0.2 }, seed: 5 });
    const c = blast(2000, { link: { loss: 0.2 }, seed: 6 });
    assert.deepEqual(a.seqs, b.seqs);
    assert.notDeepEqual(a.seqs, c.seqs);
    assert.ok(a.seqs.length > 1500 && a.seqs.length < 1700, `${a.seqs.length} delivered`);
    assert.equal(a.sim.c2s.counters.dropped.loss, 2000 - a.seqs.length);
  });

  it('Gilbert-Elliott loss comes in bursts', () => {
    const runs = (seqs: number[], n: number) => {
      const got = new Set(seqs);
      const lengths: number[] = [];
      let run = 0;
      for (let i = 0; i < n; i++) {
        if (!got.has(i)) run++;
        else if (run > 0) {
          lengths.push(run);
          run = 0;
        }
      }
      return lengths.reduce((x, y) => x + y, 0) / Math.max(1, lengths.length);
    };
    const burst = blast(5000, { link: { burst: { p: 0.02, r: 0.25 } }, seed: 3 });
    const lost = 5000 - burst.seqs.length;
    assert.ok(lost > 100, `${lost} lost`);
    assert.equal(burst.sim.c2s.counters.dropped.burst, lost);
    const iid = blast(5000, { link: { loss: lost / 5000 }, seed: 3 });
    assert.ok(runs(burst.seqs, 5000) > 2 * runs(iid.seqs, 5000), 'mean loss run length');
  });

  it('reorders: held-back datagrams arrive after later ones', () => {
    const { sim, seqs } = blast(500, { link: { reorder: 0.1, reorderDelay: 15 }, interval: 1, seed: 9 });
    assert.equal(seqs.length, 500);
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) inversions++;
    assert.ok(sim.c2s.counters.reordered > 20);
    assert.ok(inversions > 20, `${inversions} inversions`);
  });

  it('duplicates: the copy is delivered too, byte for byte', () => {
    const { sim, seqs, server } = blast(500, { link: { duplicate: 0.1 }, seed: 2 });
    const dup = sim.c2s.counters.duplicated;
    assert.ok(dup > 20);
    assert.equal(seqs.length, 500 + dup);
    assert.equal(sim.c2s.counters.delivered, 500 + dup);
    assert.equal(new Set(seqs).size, 500);
    assert.ok(server.inbox.every((r) => r.bytes.length === 100));
  });

  it('corrupts: exactly corruptBits bits differ from what was sent', () => {
    const { sim, server } = blast(200, { link: { corrupt: 1, corruptBits: 1 }, seed: 4, size: 64 });
    assert.equal(sim.c2s.counters.corrupted, 200);
    for (const r of server.inbox) {
      let bits = 0;
      const sent = numbered(0, 64);
      for (let i = 4; i < 64; i++) for (let x = r.bytes[i] ^ sent[i]; x !== 0; x &= x - 1) bits++;
      // The flipped bit may be in the sequence number itself; then the rest is unchanged.
      assert.ok(bits <= 1);
    }
    const changed = server.inbox.filter((r) => r.bytes.subarray(4).some((x) => x !== 0)).length;
    assert.ok(changed > 150);
  });

  it('paces: a datagram leaves at max(now, at)', () => {
    const { times } = blast(3, { link: { delay: 10 }, interval: 50 });
    assert.deepEqual(times, [10, 60, 110]);
  });

  it("keeps an endpoint's datagrams in order when `at` goes backwards (fifo), or not (exact)", () => {
    for (const pacing of ['fifo', 'exact'] as const) {
      const client = new Fake(C, S);
      const server = new Fake(S, C);
      client.outbox.push({ bytes: numbered(0), at: 50 }, { bytes: numbered(1), at: 20 });
      const sim = new Sim<Fake>(client, server, { link: { delay: 10 }, pacing });
      sim.runFor(100);
      assert.equal(sim.client.pacingInversions, 1);
      assert.deepEqual(
        server.inbox.map((r) => [seqOf(r.bytes), r.now]),
        pacing === 'fifo'
          ? [
              [0, 60],
              [1, 60],
            ]
          : [
              [1, 30],
              [0, 60],
            ],
      );
    }
  });
});

describe('netsim scripted drops', () => {
  it('drops by index, from an index on, and by flight', () => {
    assert.deepEqual(blast(5, { c2s: {} }).seqs, [0, 1, 2, 3, 4]);
    const a = (() => {
      const client = new Fake(C, S);
      const server = new Fake(S, C);
      for (let i = 0; i < 5; i++) client.outbox.push({ bytes: numbered(i) });
      client.timers.push(100);
      client.onTimer = (self) => {
        for (let i = 5; i < 8; i++) self.outbox.push({ bytes: numbered(i) });
      };
      const sim = new Sim<Fake>(client, server);
      sim.c2s.addRule(dropIndices(1, 6));
      sim.c2s.addRule(dropFlight(0));
      sim.runFor(1000);
      return { sim, seqs: server.inbox.map((r) => seqOf(r.bytes)) };
    })();
    // Flight 0 is the first burst (0..4); index 6 is in flight 1.
    assert.deepEqual(a.seqs, [5, 7]);
    assert.equal(a.sim.c2s.counters.dropped.script, 6);
    assert.deepEqual(blast(5, {}).seqs.length, 5);
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    for (let i = 0; i < 5; i++) client.outbox.push({ bytes: numbered(i) });
    const sim = new Sim<Fake>(client, server);
    sim.c2s.addRule(dropFrom(2));
    sim.runFor(100);
    assert.equal(server.inbox.length, 2);
  });

  it("drops the first datagram carrying an Initial (e.g. the client's first Initial)", () => {
    const initial = new Uint8Array([0xc0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0, 0, 0x40, 4, 9, 9, 9, 9]);
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    client.outbox.push({ bytes: new Uint8Array([0x40, 1, 2, 3, 4]) }, { bytes: initial }, { bytes: initial });
    const sim = new Sim<Fake>(client, server);
    sim.c2s.addRule(dropFirstOfType('initial'));
    sim.runFor(100);
    assert.equal(server.inbox.length, 2);
    assert.equal(server.inbox[0].bytes[0], 0x40);
    assert.equal(server.inbox[1].bytes[0], 0xc0);
  });
});

describe('netsim NAT rebinding', () => {
  it('the server sees the new address; datagrams to the old one are lost', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    server.onRecv = (self, r) => self.outbox.push({ bytes: r.bytes, to: r.from }); // echo to the source
    const sim = new Sim<Fake>(client, server, { link: { delay: 10 } });
    client.outbox.push({ bytes: numbered(0) });
    client.timers.push(15, 100);
    client.onTimer = (self, now) => self.outbox.push({ bytes: numbered(now) });
    const nat: Address = { address: '192.0.2.7', port: 61_000 };
    sim.at(15, () => sim.rebind('client', nat));
    sim.runFor(500);
    // #0 echoed at 10 to the old address arrives at 20, after the rebinding: lost.
    assert.deepEqual(
      server.inbox.map((r) => r.from),
      [C, nat, nat],
    );
    assert.deepEqual(
      client.inbox.map((r) => seqOf(r.bytes)),
      [15, 100],
    );
    assert.deepEqual(client.inbox[0].to, C, 'the client still sees its own local address');
    assert.equal(sim.s2c.counters.dropped.unroutable, 1);
  });
});

describe('netsim NAT rebinding with a grace period', () => {
  it('datagrams to the old mapping still arrive for keepOldFor ms', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    const sim = new Sim<Fake>(client, server, { link: { delay: 10 } });
    const nat: Address = { address: '192.0.2.7', port: 61_000 };
    sim.rebind('client', nat, 25);
    // Sent at 0 and 20 to the old address: they arrive at 10 and 30; the mapping ends at 25.
    server.outbox.push({ bytes: numbered(1), to: C }, { bytes: numbered(2), to: nat });
    server.timers.push(20);
    server.onTimer = (self) => self.outbox.push({ bytes: numbered(3), to: C });
    sim.runFor(100);
    assert.deepEqual(
      client.inbox.map((r) => seqOf(r.bytes)),
      [1, 2],
    );
    assert.equal(sim.s2c.counters.dropped.unroutable, 1);
  });
});

describe('netsim driver', () => {
  it('fires timers at their time and stops when both are closed', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    client.timers.push(5, 17.25);
    client.onTimer = (self, now) => {
      if (now > 10) self.closed = true;
    };
    server.timers.push(30);
    server.onTimer = (self) => (self.closed = true);
    const sim = new Sim<Fake>(client, server);
    sim.run();
    assert.deepEqual(client.fired, [5, 17.25]);
    assert.deepEqual(server.fired, [30]);
    assert.equal(sim.now, 30);
  });

  it('ping-pong counter: every round trip takes twice the delay', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    // Message k arrives at 3(k + 1); whoever handles message 8 or 9 closes (by a timer, after sending).
    const bounce = (self: Fake, r: Received) => {
      const n = seqOf(r.bytes);
      if (n < 9) self.outbox.push({ bytes: numbered(n + 1) });
      if (n >= 8) self.timers.push(r.now);
    };
    const close = (self: Fake) => (self.closed = true);
    client.onTimer = close;
    server.onTimer = close;
    client.onRecv = bounce;
    server.onRecv = bounce;
    client.outbox.push({ bytes: numbered(0) });
    const sim = new Sim<Fake>(client, server, { link: { delay: 3 } });
    sim.run();
    assert.equal(server.inbox.length + client.inbox.length, 10);
    assert.equal(sim.now, 30);
  });

  it('fails loudly, with diagnostics, on a stuck timer, a throw, a deadlock and the limits', () => {
    const stuck = new Fake(C, S);
    stuck.timeout = () => 0;
    assert.throws(
      () => new Sim<Fake>(stuck, new Fake(S, C)).run({ until: () => false }),
      (e: unknown) =>
        e instanceof SimError && /timer stays due/.test(e.message) && /virtual time/.test(e.message),
    );
    const thrower = new Fake(S, C);
    thrower.recv = () => {
      throw new TypeError('boom');
    };
    const c1 = new Fake(C, S);
    c1.outbox.push({ bytes: numbered(0) });
    assert.throws(
      () => new Sim<Fake>(c1, thrower).run({ until: () => false }),
      (e: unknown) => e instanceof SimError && /server's recv\(\) threw TypeError: boom/.test(e.message),
    );
    assert.throws(
      () => new Sim<Fake>(new Fake(C, S), new Fake(S, C)).run({ until: () => false, what: 'godot' }),
      /nothing left to happen .* while waiting for godot/,
    );
    const ticking = new Fake(C, S);
    ticking.timeout = () => Math.floor(sim2.now) + 1;
    const sim2 = new Sim<Fake>(ticking, new Fake(S, C));
    assert.throws(() => sim2.run({ until: () => false, maxTime: 50 }), /virtual time limit/);
    assert.throws(() => sim2.run({ until: () => false, maxEvents: 10 }), /event limit/);
    const closed = new Fake(C, S);
    closed.closed = true;
    const done = new Fake(S, C);
    done.closed = true;
    assert.throws(
      () => new Sim<Fake>(closed, done).run({ until: () => false, what: 'data' }),
      /both connections closed before data/,
    );
  });

  it('injects datagrams past the link and keeps a replay history', () => {
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    client.outbox.push({ bytes: numbered(1) });
    const sim = new Sim<Fake>(client, server, { history: 4 });
    sim.inject('server', new Uint8Array([1, 2, 3]), { time: 3 });
    sim.runFor(50);
    assert.deepEqual(
      server.inbox.map((r) => [r.now, r.bytes.length]),
      [
        [3, 3],
        [10, 100],
      ],
    );
    assert.equal(sim.c2s.counters.delivered, 1);
    assert.equal(sim.history.c2s.length, 2);
    sim.inject('server', sim.history.c2s[1]);
    sim.runFor(1);
    assert.equal(server.inbox.length, 3);
    assert.deepEqual(server.inbox[2].bytes, numbered(1));
  });

  it('counts server bytes until a Handshake packet arrives from the client (RFC 9000 §8.1)', () => {
    const hs = new Uint8Array([0xe0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 0, 0x40, 3, 8, 8, 8]);
    const client = new Fake(C, S);
    const server = new Fake(S, C);
    server.onRecv = (self) => self.outbox.push({ bytes: new Uint8Array(300) });
    client.outbox.push({ bytes: new Uint8Array(1200).fill(0x40) });
    client.timers.push(50);
    client.onTimer = (self) => self.outbox.push({ bytes: hs });
    const sim = new Sim<Fake>(client, server);
    sim.runFor(200);
    assert.deepEqual(sim.amplification, {
      validated: true,
      serverReceived: 1200 + hs.length,
      serverSent: 300,
    });
    assert.equal(totalDropped(sim.c2s.counters), 0);
  });
});
