import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AckRange } from '../../../core/wire/frame-types.ts';
import { LossRecovery } from '../../../core/recovery/loss-recovery.ts';
import { SentPacket } from '../../../core/recovery/sent-packets.ts';
import type { PacketNumberSpace } from '../../../core/recovery/types.ts';

type Op =
  | {
      kind: 'send';
      space: PacketNumberSpace;
      size: number;
      ackEliciting: boolean;
      padding: boolean;
      dt: number;
    }
  | { kind: 'ack'; space: PacketNumberSpace; picks: number[]; delay: number; ce: number; dt: number }
  | { kind: 'timeout'; dt: number; jump: boolean }
  | { kind: 'discard'; space: PacketNumberSpace }
  | { kind: 'confirm' }
  | { kind: 'appLimited'; on: boolean };

const space = fc.constantFrom<PacketNumberSpace>(0, 1, 2, 2, 2);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      space,
      size: fc.integer({ min: 20, max: 1500 }),
      ackEliciting: fc.boolean(),
      padding: fc.boolean(),
      dt: fc.double({ min: 0, max: 50, noNaN: true }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      space,
      // Offsets back from the largest sent packet number (negative: beyond it, never sent).
      picks: fc.array(fc.integer({ min: -2, max: 40 }), { minLength: 1, maxLength: 12 }),
      delay: fc.double({ min: 0, max: 100, noNaN: true }),
      ce: fc.integer({ min: 0, max: 3 }),
      dt: fc.double({ min: 0, max: 200, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('timeout' as const),
      dt: fc.double({ min: 0, max: 3000, noNaN: true }),
      jump: fc.boolean(), // straight to the timer's deadline
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('discard' as const),
      space: fc.constantFrom<PacketNumberSpace>(0, 1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'confirm' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('appLimited' as const), on: fc.boolean() }) },
);

/** Descending, non-overlapping, non-adjacent ranges covering `pns`. */
function toRanges(pns: number[]): AckRange[] {
  const sorted = [...new Set(pns)].sort((a, b) => b - a);
  const out: AckRange[] = [];
  for (const pn of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.smallest === pn + 1) last.smallest = pn;
    else out.push({ smallest: pn, largest: pn });
  }
  return out;
}

describe('RFC 9002 Appendix B.2 bytes_in_flight (property)', () => {
  it('always equals the sizes of in-flight packets neither acknowledged, lost nor discarded, and is never negative', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('newreno' as const, 'cubic' as const),
        fc.boolean(),
        fc.array(op, { minLength: 1, maxLength: 120 }),
        (algorithm, isServer, ops) => {
          const r = new LossRecovery<number>({ isServer, congestionControl: algorithm });
          const outstanding = new Map<string, SentPacket<number>>(); // the model
          const nextPn = [0, 0, 0];
          const discarded = [false, false, false];
          let now = 0;
          let confirmed = false;
          const settle = (packets: SentPacket<number>[]) => {
            for (const p of packets) {
              const key = `${p.space}:${p.packetNumber}`;
              assert.ok(outstanding.delete(key), `packet ${key} reported twice or never sent`);
            }
          };
          for (const o of ops) {
            switch (o.kind) {
              case 'send': {
                if (discarded[o.space]) break;
                now += o.dt;
                const inFlight = o.ackEliciting || o.padding;
                const pn = nextPn[o.space]++;
                const packet = new SentPacket(o.space, pn, o.size, o.ackEliciting, inFlight, pn);
                r.onPacketSent(packet, now);
                outstanding.set(`${o.space}:${pn}`, packet);
                break;
              }
              case 'ack': {
                now += o.dt;
                const top = nextPn[o.space] - 1;
                const pns = o.picks.map((d) => top - d).filter((pn) => pn >= 0);
                if (pns.length === 0) break;
                const res = r.onAckReceived(o.space, toRanges(pns), o.delay, now, confirmed, o.ce);
                if (res.ackedUnsent) {
                  assert.ok(Math.max(...pns) > top);
                  assert.equal(res.newlyAcked.length + res.lost.length, 0);
                }
                assert.ok(res.lost.every((p) => p.lossTrigger !== null));
                settle(res.newlyAcked);
                settle(res.lost);
                break;
              }
              case 'timeout': {
                const timer = r.getLossDetectionTimer();
                now = o.jump && timer !== null ? Math.max(now, timer) : now + o.dt;
                const res = r.onLossDetectionTimeout(now);
                if (timer === null || now < timer) assert.deepEqual(res, { lost: [], probe: null });
                settle(res.lost);
                break;
              }
              case 'discard': {
                const dropped = r.discardSpace(o.space, now);
                discarded[o.space] = true;
                settle(dropped);
                break;
              }
              case 'confirm':
                confirmed = true;
                r.setHandshakeConfirmed(now);
                break;
              case 'appLimited':
                r.cc.setAppLimited(o.on);
                break;
            }
            let expected = 0;
            for (const p of outstanding.values()) if (p.inFlight) expected += p.size;
            assert.equal(r.bytesInFlight, expected);
            assert.ok(r.bytesInFlight >= 0);
            assert.ok(r.cwnd >= r.cc.minimumWindow);
            const stored = [0, 1, 2].flatMap((s) => r.sentPackets(s as PacketNumberSpace).toArray());
            assert.equal(stored.length, outstanding.size);
            const timer = r.getLossDetectionTimer();
            assert.ok(timer === null || Number.isFinite(timer));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
