// NAT rebinding (RFC 9000 §9.3): the client's address changes mid-transfer without the client
// knowing; the server must follow the new address (after validating it, §8.2, §9.3.1) or every
// datagram it sends goes to the old, dead mapping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectedHash, frameCount, handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';

describe('RFC 9000 §9.3 NAT rebinding', () => {
  for (const direction of ['c2s', 's2c'] as const) {
    it(`the server follows the client's new address mid-transfer (${direction === 'c2s' ? 'upload' : 'download'})`, () => {
      const sim = makePair({ seed: 600 + (direction === 'c2s' ? 0 : 1), traceEvents: 20_000 });
      handshake(sim);
      const rebindAt = sim.now + 60;
      // The NAT keeps the old mapping for 30 ms: what is in flight to it still arrives, and the
      // client's next packets come from the new address. (Without that grace, see below.)
      sim.at(rebindAt, () => sim.rebind('client', { address: '198.51.100.9', port: 40_404 }, 30));
      // §9.5: the server's packets to the old and the new address carry different CIDs (the old
      // path keeps its own for the §9.3.3 probe).
      const dcids = new Map<string, Set<string>>();
      sim.s2c.addRule((d) => {
        if ((d.bytes[0] & 0x80) !== 0) return false;
        const key = `${d.to.address}:${d.to.port}`;
        if (!dcids.has(key)) dcids.set(key, new Set());
        dcids.get(key)!.add(Buffer.from(d.bytes.subarray(1, 9)).toString('hex'));
        return false;
      });
      const r = transfer(sim, withLimits({ bytes: 1_000_000, direction, maxTime: 120_000 }));
      assert.ok(r.intact);
      assert.equal(r.streams[0].receivedHash, expectedHash(1_000_000, r.streams[0].id));
      assert.ok(r.duration > 60, 'the rebinding happened mid-transfer');
      // The server validated the new path (§8.2: PATH_CHALLENGE answered by PATH_RESPONSE).
      assert.ok(frameCount(sim, 'server', 'path_challenge') >= 1, 'the server sent PATH_CHALLENGE');
      assert.ok(frameCount(sim, 'client', 'path_response') >= 1, 'the client answered PATH_RESPONSE');
      // Only what was already in flight towards the old address was lost.
      assert.ok(sim.s2c.counters.dropped.unroutable < 100, JSON.stringify(sim.s2c.counters));
      assert.ok(sim.server.c.stats().pathChanges >= 1);
      const before = dcids.get('10.0.0.1:50000');
      const after = dcids.get('198.51.100.9:40404');
      assert.ok(before !== undefined && after !== undefined);
      assert.ok(![...after].some((c) => before.has(c)), JSON.stringify([...dcids]));
      // The previous path was probed with its own CID (§9.3.3), answered from the old mapping.
      assert.ok(frameCount(sim, 'server', 'path_challenge') >= 2);
    });
  }

  it('a download survives a rebinding without grace: the quiet client sends a PING from its new address', () => {
    // The server's packets to the old mapping are all lost, and the receiving client has nothing
    // ack-eliciting in flight, so it sends nothing that would tell the server. The client notices
    // that the server went quiet mid-stream (3 PTOs after its last ack-eliciting packet, with a
    // stream still awaiting data) and sends one PING: the NAT gives it the new address, the server
    // follows (§9.3), validates the address with a challenge that fits the 3x limit of the small
    // PING (§8.2.1), and the transfer completes long before the idle timeout. (A client expecting
    // nothing — no stream awaiting data — cannot notice: then only the idle timeout ends it.)
    const sim = makePair({ seed: 602, traceEvents: 20_000 });
    handshake(sim);
    sim.runFor(1000);
    const nat = { address: '198.51.100.9', port: 40_404 };
    sim.at(sim.now + 35, () => sim.rebind('client', nat));
    const r = transfer(sim, withLimits({ bytes: 200_000, direction: 's2c', maxTime: 60_000 }));
    assert.ok(r.intact);
    assert.ok(r.duration < 2_000, `took ${r.duration} ms`);
    assert.deepEqual(sim.server.c.stats().peerAddress, nat);
    assert.ok(sim.s2c.counters.dropped.unroutable > 0, 'packets to the old mapping were lost');
    const pings = sim.client
      .tracer!.events('quic:packet_sent')
      .filter(
        (e) =>
          e.frames?.some((f) => f.frame_type === 'ping') &&
          e.frames.every((f) => ['ping', 'ack', 'padding'].includes(f.frame_type)) &&
          (e.raw?.length ?? 0) < 100,
      );
    assert.equal(pings.length, 1, 'one small PING: the liveness check');
    // The server's challenge went out under the 3x limit, then again at 1200 bytes (§8.2.1).
    const dcid = Buffer.from(sim.server.c.destinationId()).toString('hex');
    const challenges = sim.server
      .tracer!.events('quic:packet_sent')
      .filter((e) => e.frames?.some((f) => f.frame_type === 'path_challenge') && e.header.dcid === dcid);
    assert.ok(challenges.length >= 2);
    assert.ok((challenges[0].raw?.length ?? 0) < 1200);
    assert.equal(challenges[challenges.length - 1].raw?.length, 1200);
  });

  it('the liveness PING is not sent while the server has nothing to send (no stream awaits data)', () => {
    const sim = makePair({ seed: 603, traceEvents: 20_000 });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 100_000, direction: 's2c', maxTime: 60_000 }));
    assert.ok(r.intact);
    const before = sim.c2s.counters.sent;
    sim.runFor(5_000);
    assert.ok(sim.c2s.counters.sent - before <= 2, `${sim.c2s.counters.sent - before} datagrams while idle`);
  });

  it('two rebindings in a row, with 2% loss', () => {
    const sim = makePair({ seed: 610, link: { loss: 0.02 } });
    handshake(sim);
    sim.at(sim.now + 50, () => sim.rebind('client', { address: '198.51.100.9', port: 40_404 }, 30));
    sim.at(sim.now + 400, () => sim.rebind('client', { address: '198.51.100.10', port: 40_405 }, 30));
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'both', maxTime: 120_000 }));
    assert.ok(r.intact);
  });
});
