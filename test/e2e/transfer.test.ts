// End-to-end transfers between a real client and server over the network simulator: data
// integrity (SHA-256 at both ends) for every size, direction and stream kind, many concurrent
// streams, and transfers held back by flow control (RFC 9000 §2, §3, §4).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUIC_VERSION_2 } from '../../core/index.ts';
import {
  amplificationRespected,
  expectedHash,
  frameCount,
  handshake,
  makePair,
  transfer,
  withLimits,
} from '../helpers/pair.ts';
import type { TransferResult } from '../helpers/netsim-transfer.ts';

function assertIntact(r: TransferResult, bytesPerStream: number, seed = 1): void {
  assert.ok(
    r.intact,
    `not intact: ${JSON.stringify(r.streams.filter((s) => s.sentHash !== s.receivedHash).slice(0, 3))}`,
  );
  for (const s of r.streams) {
    assert.equal(s.received, bytesPerStream, `stream ${s.id}`);
    assert.equal(s.receivedHash, expectedHash(bytesPerStream, s.id, seed), `stream ${s.id} data`);
  }
}

describe('RFC 9000 §2 stream data arrives intact (SHA-256 equal at both ends)', () => {
  for (const bytes of [0, 1, 1_000_000]) {
    it(`${bytes} B client → server on a bidirectional stream`, () => {
      const sim = makePair({ seed: 11 });
      handshake(sim);
      assert.ok(amplificationRespected(sim));
      const r = transfer(sim, withLimits({ bytes }));
      assertIntact(r, bytes);
      assert.equal(sim.client.c.localError(), null);
      assert.equal(sim.server.c.localError(), null);
    });
  }

  it('1 MB server → client on a server-initiated bidirectional stream', () => {
    const sim = makePair({ seed: 12 });
    handshake(sim);
    assertIntact(transfer(sim, withLimits({ bytes: 1_000_000, direction: 's2c' })), 1_000_000);
  });

  it('1 MB each way at once', () => {
    const sim = makePair({ seed: 13 });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 1_000_000, direction: 'both' }));
    assertIntact(r, 1_000_000);
    assert.deepEqual(
      r.streams.map((s) => s.id),
      [0, 1],
    );
  });

  it('unidirectional streams both ways (RFC 9000 §2.1 stream types 0x2 and 0x3)', () => {
    const sim = makePair({ seed: 14 });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 200_000, streams: 3, direction: 'both', uni: true }));
    assertIntact(r, 200_000);
    assert.deepEqual(
      r.streams.map((s) => s.id),
      [2, 6, 10, 3, 7, 11],
    );
  });

  it('QUIC version 2 (RFC 9369) carries a transfer too', () => {
    const sim = makePair({ seed: 15, version: QUIC_VERSION_2 });
    handshake(sim);
    assert.equal(sim.client.c.stats().version, QUIC_VERSION_2);
    assertIntact(transfer(sim, withLimits({ bytes: 300_000, direction: 'both' })), 300_000);
  });

  it('consecutive transfers on fresh streams of one connection', () => {
    const sim = makePair({ seed: 16 });
    handshake(sim);
    for (let i = 0; i < 3; i++) {
      const r = transfer(sim, withLimits({ bytes: 50_000, firstIndex: i, seed: 16 + i }));
      assertIntact(r, 50_000, 16 + i);
      assert.equal(r.streams[0].id, 4 * i);
    }
  });
});

describe('the simulation is deterministic', () => {
  it('the same seed replays the same run, datagram for datagram; another seed differs', () => {
    const once = (seed: number) => {
      const sim = makePair({
        seed,
        traceEvents: 0,
        link: { loss: 0.05, reorder: 0.05, jitter: 2, duplicate: 0.02 },
      });
      handshake(sim);
      const r = transfer(sim, withLimits({ bytes: 300_000, direction: 'both' }));
      assert.ok(r.intact);
      return JSON.stringify([
        sim.now,
        sim.steps,
        sim.c2s.counters,
        sim.s2c.counters,
        sim.client.c.stats().packetsLost,
      ]);
    };
    const a = once(17);
    assert.equal(once(17), a);
    assert.notEqual(once(18), a);
  });
});

describe('RFC 9000 §2-§4.6 many streams', () => {
  it('1,000 concurrent bidirectional streams (1 kB each) when MAX_STREAMS allows them', () => {
    const sim = makePair({ seed: 21, server: (c) => c.setInitialMaxStreamsBidi(1000) });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 1000, streams: 1000 }));
    assertIntact(r, 1000);
    assert.equal(r.streams.length, 1000);
    assert.equal(sim.server.c.stats().streamsOpenedRemote, 1000);
  });

  it('1,000 streams through a limit of 100: MAX_STREAMS credit renews as streams close (§4.6)', () => {
    const sim = makePair({ seed: 22, server: (c) => c.setInitialMaxStreamsBidi(100) });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 500, streams: 1000 }));
    assertIntact(r, 500);
    assert.ok(frameCount(sim, 'server', 'max_streams') > 0, 'the server raised MAX_STREAMS');
  });

  it('1,000 concurrent server-initiated unidirectional streams', () => {
    const sim = makePair({ seed: 23, client: (c) => c.setInitialMaxStreamsUni(1000) });
    handshake(sim);
    assertIntact(transfer(sim, withLimits({ bytes: 700, streams: 1000, direction: 's2c', uni: true })), 700);
  });
});

describe('RFC 9000 §4 transfers limited by flow control', () => {
  it('small stream and connection windows: credit is renewed many times, data intact', () => {
    const sim = makePair({
      seed: 31,
      traceEvents: 200_000,
      server: (c) => {
        c.setInitialMaxData(16 * 1024);
        c.setMaxConnectionWindow(16 * 1024);
        // The stream window ceiling is shared by every stream kind: keep all three small.
        c.setInitialMaxStreamDataBidiRemote(4 * 1024);
        c.setInitialMaxStreamDataBidiLocal(4 * 1024);
        c.setInitialMaxStreamDataUni(4 * 1024);
        c.setMaxStreamWindow(4 * 1024);
      },
    });
    handshake(sim);
    const r = transfer(sim, withLimits({ bytes: 256 * 1024, streams: 4 }));
    assertIntact(r, 256 * 1024);
    // 1 MiB through a 16 KiB connection window needs at least 63 window updates, and 256 KiB
    // through a 4 KiB stream window 63 per stream; none may exceed the window (§4.1).
    const updates = (type: 'max_data' | 'max_stream_data', id?: number) => {
      const maxima: number[] = [];
      for (const e of sim.client.tracer!.events('quic:packet_received'))
        for (const f of e.frames ?? [])
          if (f.frame_type === type && (id === undefined || (f as { stream_id?: number }).stream_id === id))
            maxima.push((f as { maximum: number }).maximum);
      return maxima;
    };
    const maxData = updates('max_data');
    assert.ok(maxData.length >= 63, `${maxData.length} MAX_DATA frames`);
    for (const id of [0, 4, 8, 12]) {
      const m = [4096, ...updates('max_stream_data', id)];
      assert.ok(m.length - 1 >= 63, `${m.length - 1} MAX_STREAM_DATA frames for stream ${id}`);
      for (let i = 1; i < m.length; i++)
        assert.ok(m[i] - m[i - 1] <= 4096, `stream ${id}: ${m[i - 1]} → ${m[i]}`);
    }
    const blocked =
      frameCount(sim, 'client', 'data_blocked') + frameCount(sim, 'client', 'stream_data_blocked');
    assert.ok(blocked > 0, 'the client said it was blocked (§4.1 DATA_BLOCKED / STREAM_DATA_BLOCKED)');
  });

  it('small windows under 5% loss', () => {
    const sim = makePair({
      seed: 33,
      link: { loss: 0.05 },
      server: (c) => {
        c.setInitialMaxData(32 * 1024);
        c.setMaxConnectionWindow(32 * 1024);
        c.setInitialMaxStreamDataBidiRemote(8 * 1024);
        c.setInitialMaxStreamDataBidiLocal(8 * 1024);
        c.setInitialMaxStreamDataUni(8 * 1024);
        c.setMaxStreamWindow(8 * 1024);
      },
    });
    handshake(sim);
    assertIntact(transfer(sim, withLimits({ bytes: 200_000, streams: 2 })), 200_000);
  });
});

describe('RFC 9002 §7.7 pacing on a perfect path', () => {
  it('no packet is declared lost when nothing is lost (an endpoint that keeps its datagrams in order)', () => {
    const sim = makePair({ seed: 40, traceEvents: 0 });
    handshake(sim);
    assertIntact(transfer(sim, withLimits({ bytes: 2_000_000, direction: 'both' })), 2_000_000);
    assert.equal(sim.client.c.stats().packetsLost, 0);
    assert.equal(sim.server.c.stats().packetsLost, 0);
  });

  it('release times (`at`) never go backwards, so an endpoint sending each datagram at its `at` does not reorder its own packets', () => {
    const sim = makePair({ seed: 41, traceEvents: 0, pacing: 'exact' });
    handshake(sim);
    assertIntact(transfer(sim, withLimits({ bytes: 2_000_000, direction: 'both' })), 2_000_000);
    assert.equal(sim.client.pacingInversions + sim.server.pacingInversions, 0, 'inversions');
    assert.equal(sim.client.c.stats().packetsLost + sim.server.c.stats().packetsLost, 0, 'spurious losses');
  });
});
