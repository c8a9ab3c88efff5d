// The handshake over the simulator when its key datagrams are lost (RFC 9002 §6.2 PTO, RFC 9001
// §4), and the server's anti-amplification limit before the client's address is validated
// (RFC 9000 §8.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../core/connection/connection.ts';
import { testPki } from '../helpers/certs.ts';
import { dropFirstMatching, dropFirstOfType, dropFlight, dropFrom, packetTypes } from '../helpers/netsim.ts';
import {
  amplificationRespected,
  expectedHash,
  frameCount,
  handshake,
  makePair,
  transfer,
  withLimits,
} from '../helpers/pair.ts';

describe('RFC 9000 §7 handshake', () => {
  it('completes in one round trip on a clean path, ALPN agreed, the server confirms with HANDSHAKE_DONE', () => {
    const sim = makePair({ seed: 200, link: { delay: 25 } });
    const took = handshake(sim);
    // The client completes after 1 RTT (it sends its Finished); the server half an RTT later.
    assert.ok(took >= 75 && took < 200, `${took} ms`);
    assert.equal(sim.client.c.applicationProto(), 'quicscope-test');
    assert.equal(sim.server.c.applicationProto(), 'quicscope-test');
    sim.runFor(200);
    assert.equal(frameCount(sim, 'server', 'handshake_done'), 1);
    assert.ok(connectionState(sim.client.c).handshakeConfirmed);
    assert.ok(amplificationRespected(sim));
    // RFC 9000 §14.1: every datagram carrying a client Initial is at least 1200 bytes.
    assert.ok(sim.c2s.counters.sent > 0);
  });

  it('every client datagram that carries an Initial is padded to 1200 bytes (RFC 9000 §14.1)', () => {
    const sim = makePair({ seed: 201, link: { loss: 0.2 } });
    const small: number[] = [];
    sim.c2s.addRule((d) => {
      if (packetTypes(d.bytes).includes('initial') && d.bytes.length < 1200) small.push(d.bytes.length);
      return false;
    });
    handshake(sim);
    assert.deepEqual(small, []);
  });
});

describe('RFC 9002 §6.2 the handshake recovers from lost flights', () => {
  it("loss of the client's first Initial: the client's PTO resends it", () => {
    const sim = makePair({ seed: 210 });
    sim.c2s.addRule(dropFirstOfType('initial'));
    const took = handshake(sim);
    assert.equal(sim.c2s.counters.dropped.script, 1);
    // Nothing reached the server until the client's PTO (initial RTT 333 ms, RFC 9002 §6.2.2).
    assert.ok(took > 333, `${took} ms`);
    assert.ok(amplificationRespected(sim));
    assertWorks(sim);
  });

  it("loss of the server's first flight (Initial + Handshake): PTOs on both sides recover", () => {
    const sim = makePair({ seed: 211 });
    sim.s2c.addRule(dropFlight(0));
    handshake(sim);
    assert.ok(sim.s2c.counters.dropped.script >= 1);
    assert.ok(amplificationRespected(sim));
    assertWorks(sim);
  });

  it("loss of the client's Finished flight: the server's Handshake PTO recovers", () => {
    const sim = makePair({ seed: 212 });
    sim.c2s.addRule(dropFirstOfType('handshake'));
    handshake(sim);
    assert.equal(sim.c2s.counters.dropped.script, 1);
    assertWorks(sim);
  });

  it("loss of the handshake's last ACK (the client's ACK of HANDSHAKE_DONE): the server retransmits", () => {
    // Without PMTUD: a PMTU probe (pmtud.ts) would be that datagram, or make the client ACK again.
    const sim = makePair({
      seed: 213,
      client: (c) => c.enablePmtud(false),
      server: (c) => c.enablePmtud(false),
    });
    // The first datagram holding only a 1-RTT packet sent after the client completed the handshake.
    sim.c2s.addRule(
      dropFirstMatching(
        (d) => sim.client.c.isEstablished() && packetTypes(d.bytes).every((t) => t === '1rtt'),
      ),
    );
    handshake(sim);
    sim.runFor(500);
    assert.equal(sim.server.c.stats().bytesInFlight, 0, 'the retransmission was acknowledged');
    assert.equal(sim.c2s.counters.dropped.script, 1);
    assert.ok(frameCount(sim, 'server', 'handshake_done') >= 2, 'HANDSHAKE_DONE sent again (RFC 9000 §13.3)');
    assertWorks(sim);
  });

  it("loss of a transfer's last ACK: the sender's PTO probes until it is acknowledged", () => {
    const sim = makePair({ seed: 214 });
    handshake(sim);
    // Drop the first server datagram sent once the server holds the whole stream (the ACK of its end).
    const done = () => {
      const st = connectionState(sim.server.c).streams.get(0)?.recv?.state;
      return st === 'data_received' || st === 'data_read';
    };
    sim.s2c.addRule(dropFirstMatching(() => done()));
    const r = transfer(
      sim,
      withLimits({
        bytes: 200_000,
        finishReverse: false,
        thenUntil: (s) => s.client.c.stats().bytesInFlight === 0,
      }),
    );
    assert.ok(r.intact);
    assert.equal(sim.s2c.counters.dropped.script, 1);
    assert.ok(sim.client.c.stats().ptoCount >= 0);
    assert.ok(sim.client.c.stats().probesSent >= 1, 'the client sent a PTO probe (RFC 9002 §6.2.4)');
  });

  it('a blackout of one second in both directions during the handshake', () => {
    const sim = makePair({ seed: 215 });
    const blackout = (d: { sentAt: number }) => d.sentAt >= 15 && d.sentAt < 1015;
    sim.c2s.addRule(blackout);
    sim.s2c.addRule(blackout);
    handshake(sim);
    assertWorks(sim);
  });
});

describe('RFC 9000 §8.1 anti-amplification: at most 3x the bytes received before validation', () => {
  it('the server sends at most 3x the client Initial when every later client datagram is lost', () => {
    const sim = makePair({ seed: 220, server: (c) => c.setMaxIdleTimeout(10_000) });
    sim.c2s.addRule(dropFrom(1));
    sim.run({ maxTime: 120_000 });
    const received = sim.c2s.counters.deliveredBytes;
    const sent = sim.s2c.counters.sentBytes;
    assert.equal(sim.c2s.counters.delivered, 1);
    assert.ok(sent > 0 && sent <= 3 * received, `server sent ${sent} for ${received} received`);
    assert.equal(sim.amplification.validated, false);
    assert.equal(sim.server.c.isEstablished(), false, 'the server never got the client Finished');
  });

  it('with a certificate chain too large for 3x, the server stops at the limit and finishes after validation', () => {
    // Five copies of the intermediate make a ~4 kB+ flight: more than 3 x 1200 bytes.
    const pki = testPki('rsa');
    const bigChain = pki.leaf.pem + pki.intermediate.pem.repeat(5);
    const sim = makePair({
      seed: 221,
      keyType: 'rsa',
      server: (c) => c.setCertificateChain(bigChain),
    });
    const firstFlight: number[] = [];
    sim.s2c.addRule((d) => {
      if (d.flight === 0) firstFlight.push(d.bytes.length);
      return false;
    });
    handshake(sim);
    const flight0 = firstFlight.reduce((a, b) => a + b, 0);
    assert.ok(flight0 <= 3 * 1200 + 3 * 200, `first flight ${flight0} bytes`);
    assert.ok(amplificationRespected(sim), JSON.stringify(sim.amplification));
    assertWorks(sim);
  });

  it('the limit holds under 30% loss (checked over the whole handshake)', () => {
    for (const seed of [222, 223, 224]) {
      const sim = makePair({ seed, link: { loss: 0.3 } });
      handshake(sim, { maxTime: 120_000 });
      assert.ok(amplificationRespected(sim), JSON.stringify(sim.amplification));
    }
  });
});

/** A small transfer each way still works after whatever the test did. */
function assertWorks(sim: ReturnType<typeof makePair>): void {
  const r = transfer(sim, withLimits({ bytes: 20_000, direction: 'both' }));
  assert.ok(r.intact);
  for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(20_000, s.id));
}
