// Path MTU discovery end to end (RFC 9000 §14.2-§14.4, DPLPMTUD RFC 8899) between our client and
// server over the network simulator: both sides start at 1200 bytes, probe up to the path's MTU
// with PING + PADDING probes whose loss is no congestion signal, send everything else at the
// confirmed size, and recover when the path MTU drops mid-transfer (black hole detection).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PMTU_RAISE_TIMER } from '../../core/connection/pmtud.ts';
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import { expectedHash, handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';
import type { PairOptions } from '../helpers/pair.ts';
import type { Connection } from '../helpers/pair.ts';
import type { Sim } from '../helpers/netsim.ts';

const CEILING = 1500;

function pair(options: PairOptions = {}): Sim<Connection> {
  return makePair({
    traceEvents: 50_000,
    ...options,
    client: (c) => {
      c.setMaxUdpPayloadSize(CEILING);
      options.client?.(c);
    },
    server: (c) => {
      c.setMaxUdpPayloadSize(CEILING);
      options.server?.(c);
    },
  });
}

function tracer(sim: Sim<Connection>, side: 'client' | 'server'): MemoryTracer {
  return sim.endpoint(side).tracer as MemoryTracer;
}

/** Both sides ended their search (the last failed size needs MAX_PROBES losses, each about an RTT). */
function searchesComplete(sim: Sim<Connection>): boolean {
  return (
    sim.client.c.stats().pmtudState === 'search_complete' &&
    sim.server.c.stats().pmtudState === 'search_complete'
  );
}

/** The largest datagram the side put on the wire that was not a PMTU probe. */
function largestNonProbe(sim: Sim<Connection>, side: 'client' | 'server'): number {
  let max = 0;
  for (const e of tracer(sim, side).events('quic:packet_sent'))
    if (e.is_mtu_probe_packet !== true) max = Math.max(max, e.raw?.length ?? 0);
  return max;
}

describe('RFC 9000 §14.3 DPLPMTUD converges to the path MTU', () => {
  for (const [mtu, seed] of [
    [1280, 601],
    [1400, 602],
    [1500, 603],
  ]) {
    it(`a ${mtu}-byte path: both sides reach ${mtu}, 1 MB each way arrives intact, no congestion loss`, () => {
      const sim = pair({ seed, link: { mtu } });
      handshake(sim);
      const r = transfer(
        sim,
        withLimits({ bytes: 1_000_000, direction: 'both', thenUntil: () => searchesComplete(sim) }),
      );
      assert.ok(r.intact, 'data intact');
      for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(1_000_000, s.id));
      for (const side of ['client', 'server'] as const) {
        const st = sim.endpoint(side).c.stats();
        assert.equal(st.pmtu, mtu, `${side} PMTU`);
        assert.equal(sim.endpoint(side).c.pmtu(), mtu);
        assert.equal(st.pmtudState, 'search_complete');
        assert.ok(st.pmtuProbesSent > 0);
        // RFC 9000 §14.4: lost probes are not congestion losses (the path drops nothing else).
        assert.equal(st.packetsLost, 0, `${side} lost no packet but probes`);
        assert.equal(st.pmtuBlackHoles, 0);
        assert.ok(largestNonProbe(sim, side) <= mtu, `${side} sent only probes above the path MTU`);
        const done = tracer(sim, side).find('quic:mtu_updated', (d) => d.done === true);
        assert.equal(done?.new, mtu, `${side} traced mtu_updated done at ${mtu}`);
      }
      // Probes above the path MTU are the only datagrams the path dropped: MAX_PROBES per size.
      const dropped = sim.c2s.counters.dropped.mtu + sim.s2c.counters.dropped.mtu;
      if (mtu < CEILING) assert.ok(dropped >= 6, `dropped ${dropped}`);
      else assert.equal(dropped, 0);
      const probesLost = sim.client.c.stats().pmtuProbesLost + sim.server.c.stats().pmtuProbesLost;
      assert.equal(probesLost, dropped, 'every dropped datagram was a probe, declared lost once');
    });
  }

  it('data packets grow with the confirmed size (qlog packet_sent sizes up to the PMTU)', () => {
    const sim = pair({ seed: 604, link: { mtu: 1400 } });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 300_000, thenUntil: () => searchesComplete(sim) }));
    assert.equal(largestNonProbe(sim, 'client'), 1400);
    const probes = tracer(sim, 'client')
      .events('quic:packet_sent')
      .filter((e) => e.is_mtu_probe_packet);
    assert.ok(probes.length > 0);
    for (const p of probes) {
      // RFC 9000 §14.4: PING and PADDING only.
      assert.deepEqual(
        p.frames?.map((f) => f.frame_type),
        ['ping', 'padding'],
      );
    }
  });

  it('the search stops at the peer max_udp_payload_size (RFC 9000 §18.2)', () => {
    const sim = pair({ seed: 605, server: (c) => c.setMaxUdpPayloadSize(1350) });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 200_000, direction: 'both', thenUntil: () => searchesComplete(sim) }));
    assert.equal(sim.client.c.pmtu(), 1350, 'the server accepts at most 1350');
    assert.equal(sim.server.c.pmtu(), 1350, 'its own ceiling');
    assert.equal(sim.c2s.counters.dropped.mtu, 0);
  });

  it('Config.enablePmtud(false): no probes; the size is min(ours, the peer max_udp_payload_size)', () => {
    const sim = pair({ seed: 606, client: (c) => c.enablePmtud(false), server: (c) => c.enablePmtud(false) });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 100_000 }));
    const st = sim.client.c.stats();
    assert.equal(st.pmtudState, 'disabled');
    assert.equal(st.pmtuProbesSent, 0);
    assert.equal(st.pmtu, CEILING);
  });
});

describe('RFC 8899 §4.3 black hole: the path MTU drops mid-transfer', () => {
  for (const [direction, seed] of [
    ['c2s', 611],
    ['s2c', 612],
  ] as const) {
    it(`1500 → 1280 during a ${direction} transfer: back to 1200, a new search finds 1280, data intact`, () => {
      const sim = pair({ seed, link: { mtu: 1500 } });
      handshake(sim);
      const sender = direction === 'c2s' ? sim.client : sim.server;
      const link = direction === 'c2s' ? sim.c2s : sim.s2c;
      let shrunk = false;
      const remove = sim.addApp(() => {
        if (!shrunk && sender.c.pmtu() === 1500 && sender.c.stats().bytesSent > 300_000) {
          link.configure({ mtu: 1280 });
          shrunk = true;
        }
      });
      const r = transfer(
        sim,
        withLimits({
          bytes: 3_000_000,
          direction,
          thenUntil: () => sender.c.stats().pmtudState === 'search_complete',
        }),
      );
      remove();
      assert.ok(shrunk);
      assert.ok(r.intact, 'data intact');
      assert.equal(r.streams[0].receivedHash, expectedHash(3_000_000, r.streams[0].id));
      const st = sender.c.stats();
      assert.ok(st.pmtuBlackHoles >= 1, 'a black hole was detected');
      assert.equal(st.pmtu, 1280, 'the new search found the smaller path MTU');
      const t = tracer(sim, direction === 'c2s' ? 'client' : 'server');
      assert.ok(t.find('quic:mtu_updated', (d) => d.old === 1500 && d.new === 1200) !== undefined);
      assert.equal(sim.client.c.localError(), null);
      assert.equal(sim.server.c.localError(), null);
    });
  }
});

describe('RFC 9000 §14.2 a maximum datagram size per path', () => {
  it('after a NAT rebinding the server starts again from 1200 bytes on the new path and searches again', () => {
    const sim = pair({ seed: 631, link: { mtu: 1400 } });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 100_000, direction: 's2c', thenUntil: () => searchesComplete(sim) }));
    assert.equal(sim.server.c.pmtu(), 1400);
    sim.rebind('client', { address: '10.0.0.9', port: 40_000 });
    const r = transfer(
      sim,
      withLimits({ bytes: 300_000, direction: 's2c', firstIndex: 1, thenUntil: () => searchesComplete(sim) }),
    );
    assert.ok(r.intact);
    assert.ok(sim.server.c.stats().pathChanges >= 1, 'the server moved to the new address');
    const t = tracer(sim, 'server');
    assert.ok(t.find('quic:mtu_updated', (d) => d.old === 1400 && d.new === 1200) !== undefined);
    assert.equal(sim.server.c.pmtu(), 1400, 'found again on the new path');
  });
});

describe('RFC 8899 §5.2 PMTU_RAISE_TIMER', () => {
  it('a path that grew is found by the search that starts 600 s after the last one', () => {
    const sim = pair({
      seed: 621,
      link: { mtu: 1400 },
      client: (c) => c.setMaxIdleTimeout(0),
      server: (c) => c.setMaxIdleTimeout(0),
    });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 100_000, thenUntil: () => searchesComplete(sim) }));
    assert.equal(sim.client.c.pmtu(), 1400);
    sim.c2s.configure({ mtu: 1500 });
    sim.runFor(PMTU_RAISE_TIMER / 2);
    assert.equal(sim.client.c.pmtu(), 1400, 'no probe before the raise timer');
    sim.runFor(PMTU_RAISE_TIMER / 2 + 1000);
    transfer(sim, withLimits({ bytes: 100_000, firstIndex: 1, thenUntil: () => searchesComplete(sim) }));
    assert.equal(sim.client.c.pmtu(), 1500);
  });
});
