// ECN (RFC 9000 §13.4): we cannot set or read ECN marks (node:dgram), so we never mark ECT and
// never report counts. ACK frames with ECN counts from a peer are parsed and traced, but counts
// for packets we never marked fail validation (§13.4.2.1) and never reach congestion control.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../core/connection/connection.ts';
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import type { AckFields } from '../../core/wire/frame-types.ts';
import { handshake, makePair, transfer, withLimits } from '../helpers/pair.ts';

describe('RFC 9000 §13.4 ECN without ECN marking', () => {
  it('our ACK frames carry no ECN counts (§13.4.1: we cannot read the ECN field)', () => {
    const sim = makePair({ seed: 901 });
    handshake(sim);
    transfer(sim, withLimits({ bytes: 100_000 }));
    const t = sim.server.tracer as MemoryTracer;
    const acks = t
      .events('quic:packet_sent')
      .flatMap((e) => e.frames ?? [])
      .filter((f) => f.frame_type === 'ack');
    assert.ok(acks.length > 0);
    for (const a of acks) assert.ok(!('ce' in a) && !('ect0' in a), JSON.stringify(a));
  });

  it('a peer reporting ECN-CE for packets we never marked: traced, counted, no congestion response', () => {
    const sim = makePair({ seed: 902, traceEvents: 100_000 });
    handshake(sim);
    // A server whose ACKs claim ECT(0) and ever more CE marks (type 0x03, RFC 9000 §19.3.2).
    const acks = connectionState(sim.server.c).spaces[2].acks;
    const original = acks.ackFrame.bind(acks);
    let ce = 0;
    acks.ackFrame = (now: number, exponent: number, room: number, delayed: boolean): AckFields | null => {
      const f = original(now, exponent, room - 24, delayed);
      if (f === null) return null;
      ce += 2;
      return { ...f, ecn: { ect0: 10 * ce, ect1: 0, ce } };
    };
    const r = transfer(sim, withLimits({ bytes: 500_000 }));
    assert.ok(r.intact);
    const st = sim.client.c.stats();
    assert.ok(st.ackEcnReceived > 0, 'ACK_ECN frames arrived');
    const t = sim.client.tracer as MemoryTracer;
    const traced = t
      .events('quic:packet_received')
      .flatMap((e) => e.frames ?? [])
      .filter((f) => f.frame_type === 'ack' && 'ce' in f);
    assert.equal(traced.length, st.ackEcnReceived, 'every ACK_ECN traced with its counts');
    const last = traced[traced.length - 1] as { ect0: number; ect1: number; ce: number };
    assert.ok(last.ce > 0 && last.ce <= ce);
    assert.equal(last.ect0, 10 * last.ce);
    assert.equal(last.ect1, 0);
    // No congestion event from the bogus CE counts (RFC 9002 §7.1 would otherwise cut the window).
    assert.equal(
      t.count('quic:congestion_state_updated', (d) => d.trigger === 'ecn_ce'),
      0,
    );
    assert.equal(st.packetsLost, 0);
    assert.equal(st.ssthresh, null, 'no congestion event at all');
    assert.equal(sim.client.c.localError(), null);
  });
});
