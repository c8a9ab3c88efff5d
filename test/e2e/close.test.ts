// Connection termination end to end (RFC 9000 §10): idle timeout, immediate close with
// application and transport codes reaching the peer, the closing and draining states.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../core/index.ts';
import { handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';
import type { Connection } from '../helpers/pair.ts';
import type { Sim } from '../helpers/netsim.ts';

/** Records, per side, the send() count when the side entered draining, and checks it sends nothing after. */
function watchDraining(sim: Sim<Connection>): Record<'client' | 'server', number | null> {
  const at: Record<'client' | 'server', number | null> = { client: null, server: null };
  sim.addApp((s) => {
    for (const side of ['client', 'server'] as const) {
      const c = s.endpoint(side).conn;
      if (c !== null && c.isDraining() && at[side] === null) at[side] = s.endpoint(side).datagrams;
    }
  });
  return at;
}

describe('RFC 9000 §10.1 idle timeout', () => {
  it('both sides close silently after the idle timeout, and report isTimedOut', () => {
    const sim = makePair({
      seed: 300,
      // PMTU probes (pmtud.ts) would follow the handshake: this test wants silence.
      client: (c) => (c.setMaxIdleTimeout(5_000), c.enablePmtud(false)),
      server: (c) => (c.setMaxIdleTimeout(5_000), c.enablePmtud(false)),
    });
    handshake(sim);
    const start = sim.now;
    const sent = sim.c2s.counters.sent + sim.s2c.counters.sent;
    sim.run({ maxTime: 60_000 });
    assert.ok(sim.client.c.isTimedOut() && sim.server.c.isTimedOut());
    assert.equal(sim.client.c.peerError(), null, 'no CONNECTION_CLOSE on an idle timeout');
    assert.equal(sim.server.c.peerError(), null);
    // Idle for 5 s (at least 3 PTOs, which is far less here), give or take the last ACK exchange.
    assert.ok(sim.now - start >= 5_000 && sim.now - start < 5_500, `closed after ${sim.now - start} ms`);
    assert.ok(sim.c2s.counters.sent + sim.s2c.counters.sent - sent <= 4, 'silence while idle');
  });

  it('the effective timeout is the smaller of the two advertised values', () => {
    const sim = makePair({
      seed: 301,
      client: (c) => c.setMaxIdleTimeout(3_000),
      server: (c) => c.setMaxIdleTimeout(20_000),
    });
    handshake(sim);
    const start = sim.now;
    sim.run({ maxTime: 60_000 });
    assert.ok(sim.server.c.isTimedOut() && sim.client.c.isTimedOut());
    assert.ok(sim.now - start < 3_500, `closed after ${sim.now - start} ms`);
  });

  it('traffic keeps a connection alive past the idle timeout', () => {
    const sim = makePair({
      seed: 302,
      client: (c) => c.setMaxIdleTimeout(2_000),
      server: (c) => c.setMaxIdleTimeout(2_000),
      link: { bandwidth: 200_000 },
    });
    handshake(sim);
    // 1 MB at 200 kB/s takes about 5 s: longer than the idle timeout, yet never idle.
    const r = transfer(sim, withLimits({ bytes: 1_000_000 }));
    assert.ok(r.intact);
    assert.ok(r.duration > 4_000);
    assert.equal(sim.client.c.isTimedOut(), false);
  });

  it('a client whose server never answers times out', () => {
    const sim = makePair({ seed: 303, client: (c) => c.setMaxIdleTimeout(4_000) });
    sim.c2s.addRule(() => true);
    sim.run({ maxTime: 60_000 });
    assert.ok(sim.client.c.isTimedOut());
    assert.equal(sim.client.c.isEstablished(), false);
  });
});

describe('RFC 9000 §10.2 immediate close: the code and reason reach the peer', () => {
  for (const [who, app, code, reason] of [
    ['client', true, 0x42, 'application says goodbye'],
    ['server', true, 0x1_0000, 'server shutting down'],
    ['client', false, TransportError.PROTOCOL_VIOLATION, 'transport says no'],
    ['server', false, TransportError.INTERNAL_ERROR, 'internal trouble'],
  ] as const) {
    it(`${who} closes with ${app ? 'application' : 'transport'} code 0x${code.toString(16)}`, () => {
      const sim = makePair({ seed: 310 + code });
      handshake(sim);
      sim.runFor(100);
      const draining = watchDraining(sim);
      const closer = sim.endpoint(who).c;
      const peer = sim.endpoint(who === 'client' ? 'server' : 'client').c;
      closer.close(app, code, reason);
      const expected = { isApp: app, code, reason };
      assert.deepEqual(closer.localError(), expected);
      sim.run({ maxTime: 30_000 });
      assert.deepEqual(peer.peerError(), expected);
      assert.equal(closer.peerError(), null);
      assert.ok(closer.isClosed() && peer.isClosed());
      assert.equal(closer.isTimedOut(), false);
      // RFC 9000 §10.2.2: the peer drained, and a draining endpoint sends nothing.
      const peerSide = who === 'client' ? 'server' : 'client';
      assert.notEqual(draining[peerSide], null, 'the peer entered draining');
      assert.equal(sim.endpoint(peerSide).datagrams, draining[peerSide], 'the draining peer sent nothing');
      // §10.2: closing and draining last three PTOs, not the idle timeout.
      assert.ok(sim.now < 120 + 100 + 3_000, `closed at ${sim.now}`);
    });
  }

  it('the close reaches the peer under 30% loss (the closing side answers with CONNECTION_CLOSE again, §10.2.1)', () => {
    for (const seed of [320, 321, 322]) {
      const sim = makePair({ seed, link: { loss: 0.3 } });
      handshake(sim, { maxTime: 120_000 });
      // Keep the peer talking so the closing side has packets to answer.
      const r = transfer(sim, withLimits({ bytes: 100_000, direction: 's2c', maxTime: 600_000 }));
      assert.ok(r.intact);
      sim.client.c.close(true, 7, 'done');
      sim.run({ maxTime: 60_000 });
      assert.ok(sim.client.c.isClosed() && sim.server.c.isClosed());
      const e = sim.server.c.peerError();
      // With 30% loss every copy of the close may be lost: then the server times out instead.
      if (e !== null) assert.deepEqual(e, { isApp: true, code: 7, reason: 'done' });
      else assert.ok(sim.server.c.isTimedOut());
    }
  });

  it('an application close during the handshake is sent as APPLICATION_ERROR without a reason (§10.2.3)', () => {
    const sim = makePair({ seed: 330 });
    // The server closes as soon as it has the client's first Initial: it only has Initial keys
    // for the client to read, so it must send a transport CONNECTION_CLOSE (0x1c).
    let closed = false;
    sim.addApp((s) => {
      if (!closed && s.server.conn !== null) {
        closed = true;
        s.server.conn.close(true, 0x99, 'secret application state');
      }
    });
    sim.run({ maxTime: 30_000 });
    const e = sim.client.c.peerError();
    assert.deepEqual(e, { isApp: false, code: TransportError.APPLICATION_ERROR, reason: '' });
    assert.equal(sim.client.c.isEstablished(), false);
  });

  it('a client close during the handshake reaches the server', () => {
    const sim = makePair({ seed: 331 });
    let closed = false;
    sim.addApp((s) => {
      // After the server's first flight arrived: the client has Handshake keys.
      if (!closed && s.s2c.counters.delivered >= 1) {
        closed = true;
        s.client.c.close(false, TransportError.CONNECTION_REFUSED, 'no thanks');
      }
    });
    sim.run({ maxTime: 30_000 });
    const e = sim.server.c.peerError();
    assert.notEqual(e, null);
    assert.equal(e!.code, TransportError.CONNECTION_REFUSED);
    assert.equal(e!.isApp, false);
  });

  it('streams are unusable after close (the API reports it, the peer saw the close)', () => {
    const sim = makePair({ seed: 332 });
    handshake(sim);
    sim.client.c.close(true, 0, '');
    assert.throws(() => sim.client.c.streamSend(0, new Uint8Array(1), false));
    sim.run({ maxTime: 30_000 });
    assert.deepEqual(sim.server.c.peerError(), { isApp: true, code: 0, reason: '' });
  });
});
