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
      // client's next packets come from the new address. (Without that grace a download stalls:
      // the receiving client has nothing ack-eliciting in flight, so nothing it sends would tell
      // the server — no RFC mechanism recovers that but the idle timeout.)
      sim.at(rebindAt, () => sim.rebind('client', { address: '198.51.100.9', port: 40_404 }, 30));
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
    });
  }

  it('two rebindings in a row, with 2% loss', () => {
    const sim = makePair({ seed: 610, link: { loss: 0.02 } });
    handshake(sim);
    sim.at(sim.now + 50, () => sim.rebind('client', { address: '198.51.100.9', port: 40_404 }, 30));
    sim.at(sim.now + 400, () => sim.rebind('client', { address: '198.51.100.10', port: 40_405 }, 30));
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'both', maxTime: 120_000 }));
    assert.ok(r.intact);
  });
});
