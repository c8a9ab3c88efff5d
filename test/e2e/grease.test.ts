// Greasing between our client and server over the network simulator: grease_quic_bit (RFC 9287)
// and reserved transport parameters (RFC 9000 §18.1) do not get in the way, the QUIC bit of
// 1-RTT packets becomes random only when the peer advertised the extension, and a packet with a
// 0 QUIC bit is dropped by an endpoint that did not advertise it (RFC 9000 §17.3.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../core/connection/connection.ts';
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import { isReservedTransportParameterId } from '../../core/wire/transport-params.ts';
import { expectedHash, handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';
import type { PairOptions } from '../helpers/pair.ts';
import type { Connection } from '../helpers/pair.ts';
import type { Sim } from '../helpers/netsim.ts';

/** QUIC bits seen on the wire, per direction and header form. */
interface Bits {
  shortZero: number;
  shortOne: number;
  longZero: number;
}

function watch(sim: Sim<Connection>): Record<'c2s' | 's2c', Bits> {
  const bits = {
    c2s: { shortZero: 0, shortOne: 0, longZero: 0 },
    s2c: { shortZero: 0, shortOne: 0, longZero: 0 },
  };
  for (const link of [sim.c2s, sim.s2c]) {
    link.addRule((d) => {
      const b = bits[d.dir];
      const first = d.bytes[0];
      if ((first & 0x80) !== 0) {
        if ((first & 0x40) === 0) b.longZero++;
      } else if ((first & 0x40) === 0) b.shortZero++;
      else b.shortOne++;
      return false; // watch only
    });
  }
  return bits;
}

function run(options: PairOptions, bytes = 300_000) {
  const sim = makePair(options);
  const bits = watch(sim);
  handshake(sim);
  const r = transfer(sim, withLimits({ bytes, direction: 'both' }));
  assert.ok(r.intact, 'data intact');
  for (const s of r.streams) assert.equal(s.receivedHash, expectedHash(bytes, s.id));
  return { sim, bits };
}

describe('RFC 9287 grease_quic_bit', () => {
  it('both sides advertise it by default and clear the QUIC bit of about half their 1-RTT packets', () => {
    const { sim, bits } = run({ seed: 801 });
    for (const side of ['client', 'server'] as const) {
      assert.equal(sim.endpoint(side).c.localTransportParameters()?.greaseQuicBit, true);
      assert.equal(sim.endpoint(side).c.peerTransportParameters()?.greaseQuicBit, true);
    }
    for (const dir of ['c2s', 's2c'] as const) {
      const b = bits[dir];
      const total = b.shortZero + b.shortOne;
      assert.ok(b.shortZero > total / 4 && b.shortOne > total / 4, `${dir}: ${JSON.stringify(b)}`);
      // Long headers keep the bit (grease.ts: §3.1 allows clearing it there; we do not).
      assert.equal(b.longZero, 0);
    }
    // Packets with a 0 QUIC bit were accepted: nothing dropped as invalid.
    for (const side of ['client', 'server'] as const) {
      const t = sim.endpoint(side).tracer as MemoryTracer;
      assert.equal(
        t.count('quic:packet_dropped', (d) => d.trigger === 'invalid'),
        0,
      );
      assert.equal(sim.endpoint(side).c.localError(), null);
    }
  });

  it('a peer that did not advertise it always gets the QUIC bit set (§3.1)', () => {
    const { sim, bits } = run({ seed: 802, server: (c) => c.enableGrease(false) });
    assert.equal(sim.server.c.localTransportParameters()?.greaseQuicBit, false);
    assert.equal(bits.c2s.shortZero, 0, 'the client never clears it toward the server');
    assert.ok(bits.c2s.shortOne > 0);
    assert.ok(bits.s2c.shortZero === 0, 'greasing off: the server does not clear it either');
  });

  it('an endpoint that did not advertise it drops packets with a 0 QUIC bit (RFC 9000 §17.3.1)', () => {
    const sim = makePair({ seed: 803, traceEvents: 20_000, server: (c) => c.enableGrease(false) });
    const bits = watch(sim);
    handshake(sim);
    // A misbehaving client: clears the bit although the server did not advertise the extension.
    const quicBit = connectionState(sim.client.c).quicBit;
    quicBit.enabled = true;
    sim.client.c.streamSend(0, new Uint8Array(20_000), true);
    sim.runFor(300);
    quicBit.enabled = false; // let the last ones arrive
    sim.runFor(100);
    assert.ok(bits.c2s.shortZero > 0);
    const t = sim.server.tracer as MemoryTracer;
    const drops = t.count(
      'quic:packet_dropped',
      (d) => d.trigger === 'invalid' && /QUIC bit 0/.test(String(d.details?.reason)),
    );
    assert.equal(drops, bits.c2s.shortZero, 'every such packet was dropped');
    // ... and only dropped: the connection lives on (RFC 9000 §5.2: discarded, not an error).
    assert.equal(sim.server.c.localError(), null);
    assert.equal(sim.server.c.isClosed(), false);
  });
});

describe('RFC 9000 §18.1 reserved transport parameters', () => {
  it('sent now and then, ignored by the peer; none with greasing off', () => {
    let greased = 0;
    for (let seed = 810; seed < 818; seed++) {
      const sim = makePair({ seed });
      handshake(sim);
      for (const side of ['client', 'server'] as const) {
        const unknown = sim.endpoint(side).c.peerTransportParameters()?.unknownParameters ?? [];
        for (const u of unknown) assert.ok(isReservedTransportParameterId(u.id), `id ${u.id}`);
        greased += unknown.length;
      }
    }
    assert.ok(greased > 0 && greased < 16, `${greased} of 16 parameter sets carried one`);
    for (let seed = 820; seed < 824; seed++) {
      const sim = makePair({
        seed,
        client: (c) => c.enableGrease(false),
        server: (c) => c.enableGrease(false),
      });
      handshake(sim);
      assert.deepEqual(sim.server.c.peerTransportParameters()?.unknownParameters, []);
      assert.deepEqual(sim.client.c.peerTransportParameters()?.unknownParameters, []);
      assert.equal(sim.client.c.peerTransportParameters()?.greaseQuicBit, false);
    }
  });
});
