// Transfers over a bad network: random and burst loss, reordering, duplication, corruption,
// jitter, a narrow bottleneck with a small queue, and the path MTU. Every run must deliver the
// data intact (RFC 9002 loss recovery, RFC 9000 §12.3 duplicate detection, RFC 9001 §5 packet
// protection rejecting corrupted packets) and respect the amplification limit (RFC 9000 §8.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  amplificationRespected,
  expectedHash,
  handshake,
  makePair,
  transfer,
  withLimits,
} from '../helpers/pair.ts';
import type { PairOptions } from '../helpers/pair.ts';

const MB = 1_000_000;

function run(options: PairOptions, bytes = MB, direction: 'c2s' | 's2c' | 'both' = 'c2s') {
  const sim = makePair(options);
  handshake(sim, { maxTime: 120_000 });
  const r = transfer(sim, withLimits({ bytes, direction, maxTime: 1_200_000 }));
  assert.ok(r.intact, 'data intact');
  for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(bytes, s.id));
  assert.ok(amplificationRespected(sim), `amplification: ${JSON.stringify(sim.amplification)}`);
  assert.equal(sim.client.c.localError(), null);
  assert.equal(sim.server.c.localError(), null);
  return sim;
}

describe('RFC 9002 §6 loss recovery: 1 MB under random loss', () => {
  for (const loss of [0, 0.01, 0.05, 0.2]) {
    it(`${loss * 100}% loss both ways`, () => {
      const sim = run({ seed: 100 + loss * 100, link: { loss } });
      const lostOnWire = sim.c2s.counters.dropped.loss;
      if (loss === 0) assert.equal(lostOnWire, 0);
      else {
        assert.ok(lostOnWire > 0);
        assert.ok(sim.client.c.stats().packetsLost > 0, 'the sender detected losses');
      }
    });
  }

  it('20% loss, server → client, both directions at once', () => {
    run({ seed: 121, link: { loss: 0.2 } }, 300_000, 'both');
  });

  it('burst loss (Gilbert-Elliott, mean burst 4 datagrams)', () => {
    const sim = run({ seed: 122, link: { burst: { p: 0.01, r: 0.25 } } });
    assert.ok(sim.c2s.counters.dropped.burst > 0);
  });

  it('the handshake and a transfer survive 30% loss', () => {
    run({ seed: 123, link: { loss: 0.3 } }, 100_000);
  });
});

describe('RFC 9000 §12.3, RFC 9002 §6.1 reordering, duplication, corruption and jitter', () => {
  it('reordering: 10% of datagrams held back 15 ms (the path delay is 10 ms)', () => {
    const sim = run({ seed: 130, link: { reorder: 0.1, reorderDelay: 15 } });
    assert.ok(sim.c2s.counters.reordered > 0);
  });

  it('heavy reordering: 30% held back 40 ms', () => {
    run({ seed: 131, link: { reorder: 0.3, reorderDelay: 40 } }, 300_000);
  });

  it('duplication: 10% of datagrams delivered twice (duplicates are ignored)', () => {
    const sim = run({ seed: 132, link: { duplicate: 0.1, duplicateDelay: 3 } });
    assert.ok(sim.c2s.counters.duplicated > 0);
  });

  it('corruption: 5% of datagrams with a flipped bit fail packet protection and are recovered as losses', () => {
    const sim = run({ seed: 133, link: { corrupt: 0.05 } });
    assert.ok(sim.c2s.counters.corrupted > 0);
  });

  it('corruption of several bits per datagram, with loss and duplication', () => {
    run({ seed: 134, link: { corrupt: 0.05, corruptBits: 8, loss: 0.02, duplicate: 0.02 } }, 300_000, 'both');
  });

  it('jitter of 8 ms on a 10 ms path', () => {
    run({ seed: 135, link: { jitter: 8 } });
  });

  it('everything at once: loss, bursts, reordering, duplication, corruption, jitter', () => {
    run(
      {
        seed: 136,
        link: {
          loss: 0.03,
          burst: { p: 0.005, r: 0.3 },
          reorder: 0.05,
          duplicate: 0.03,
          corrupt: 0.02,
          jitter: 3,
        },
      },
      500_000,
      'both',
    );
  });
});

describe('RFC 9002 §7 congestion control against a bottleneck', () => {
  it('1 MB through 2 MB/s with a 30 kB queue: tail drops are recovered', () => {
    const sim = run({ seed: 140, link: { bandwidth: 2_000_000, bufferBytes: 30_000, delay: 20 } });
    // The transfer cannot beat the bottleneck: 1 MB at 2 MB/s takes at least 0.5 s.
    assert.ok(sim.now >= 500);
  });

  it('NewReno through the same bottleneck', () => {
    run({
      seed: 141,
      link: { bandwidth: 2_000_000, bufferBytes: 30_000, delay: 20 },
      client: (c) => c.setCongestionControl('newreno'),
      server: (c) => c.setCongestionControl('newreno'),
    });
  });

  it('a long fat path: 100 ms one way, 10 MB/s', () => {
    run({ seed: 142, link: { bandwidth: 10_000_000, bufferBytes: 500_000, delay: 100 } });
  });
});

describe('RFC 9000 §14 datagram size and the path MTU', () => {
  it('a 1280-byte path works when both sides keep datagrams at 1280 (max_udp_payload_size)', () => {
    const sim = run({
      seed: 150,
      link: { mtu: 1280 },
      client: (c) => c.setMaxUdpPayloadSize(1280),
      server: (c) => c.setMaxUdpPayloadSize(1280),
    });
    assert.equal(sim.c2s.counters.dropped.mtu, 0);
    assert.equal(sim.s2c.counters.dropped.mtu, 0);
  });

  it('a path below 1200 bytes cannot carry the padded Initial: the client gives up (§14.1)', () => {
    const sim = makePair({ seed: 151, link: { mtu: 1199 }, client: (c) => c.setMaxIdleTimeout(5000) });
    sim.run({ maxTime: 60_000 });
    assert.equal(sim.server.conn, null, 'no datagram reached the server');
    assert.ok(sim.c2s.counters.dropped.mtu > 1, 'the client retried');
    assert.equal(sim.client.c.isEstablished(), false);
    assert.ok(sim.client.c.isTimedOut());
  });
});
