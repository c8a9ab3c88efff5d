import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SentPacket, SentPacketStore } from '../../../core/recovery/sent-packets.ts';
import { PacketNumberSpace } from '../../../core/recovery/types.ts';
import type { AckRange } from '../../../core/wire/frame-types.ts';
import { newRecovery, ranges, send } from './helpers.ts';

const App = PacketNumberSpace.ApplicationData;

function packet(pn: number, size = 1200): SentPacket<number> {
  return new SentPacket(App, pn, size, true, true, pn);
}

describe('RFC 9002 Appendix A.1 sent packet store', () => {
  it('finds packets by number and removes acknowledged ranges in ascending order', () => {
    const store = new SentPacketStore<number>();
    for (let pn = 0; pn < 20; pn++) if (pn !== 7) store.push(packet(pn)); // 7 skipped by the sender
    assert.equal(store.size, 19);
    assert.equal(store.get(7), undefined);
    assert.equal(store.get(8)?.packetNumber, 8);
    const out: SentPacket<number>[] = [];
    store.removeAcked(ranges([15, 30], [5, 9], [0, 1]), out);
    assert.deepEqual(
      out.map((p) => p.packetNumber),
      [0, 1, 5, 6, 8, 9, 15, 16, 17, 18, 19],
    );
    assert.deepEqual(
      store.toArray().map((p) => p.packetNumber),
      [2, 3, 4, 10, 11, 12, 13, 14],
    );
    assert.equal(store.oldest()?.packetNumber, 2);
    assert.equal(store.inFlightBytes, 8 * 1200);
    assert.equal(store.ackElicitingCount, 8);
  });

  it('keeps counters consistent through losses, drains and compaction', () => {
    const store = new SentPacketStore<number>();
    for (let pn = 0; pn < 1000; pn++)
      store.push(new SentPacket(App, pn, 100, pn % 2 === 0, pn % 3 !== 0, pn));
    const out: SentPacket<number>[] = [];
    const acks: AckRange[] = [];
    for (let pn = 998; pn >= 0; pn -= 4) acks.push({ smallest: pn, largest: pn });
    store.removeAcked(acks, out);
    store.removeAt(store.headIndex, true);
    store.maybeCompact();
    const rest = store.toArray();
    assert.equal(store.size, rest.length);
    assert.equal(
      store.inFlightBytes,
      rest.filter((p) => p.inFlight).reduce((n, p) => n + p.size, 0),
    );
    assert.equal(store.ackElicitingCount, rest.filter((p) => p.ackEliciting).length);
    for (const p of rest) assert.equal(store.get(p.packetNumber), p);
    const drained: SentPacket<number>[] = [];
    store.drain(drained);
    assert.deepEqual(drained, rest);
    assert.deepEqual(
      [store.size, store.inFlightBytes, store.ackElicitingCount, store.inFlightCount],
      [0, 0, 0, 0],
    );
    assert.equal(store.largestSent, 999);
  });

  it('compaction shrinks each run of holes to one that still tells an acknowledged packet apart', () => {
    const store = new SentPacketStore<number>();
    for (let pn = 0; pn < 300; pn++) store.push(packet(pn));
    const slotOf = (pn: number) => store.lowerBound(pn);
    store.removeAt(slotOf(1), true); // lost
    store.removeAt(slotOf(2), false); // acknowledged
    for (let pn = 4; pn < 299; pn++) store.removeAt(slotOf(pn), pn % 2 === 0);
    store.maybeCompact();
    const slots = [];
    for (let i = store.headIndex; i < store.endIndex; i++)
      slots.push(store.slotAt(i)?.packetNumber ?? store.slotAt(i));
    // A lost-then-acknowledged run between 0 and 3 marks "acknowledged" (persistent congestion
    // must see it, RFC 9002 §7.6.2).
    assert.deepEqual(slots, [0, undefined, 3, undefined, 299]);
    assert.equal(store.get(299)?.packetNumber, 299);
    assert.equal(store.get(3)?.packetNumber, 3);
  });

  it('rejects a packet number that does not grow', () => {
    const store = new SentPacketStore<number>();
    store.push(packet(3));
    assert.throws(() => store.push(packet(3)), RangeError);
    assert.throws(() => store.push(packet(2.5)), RangeError);
  });
});

describe('RFC 9002 Appendix A.7 ACK processing cost with thousands of packets in flight', () => {
  /**
   * A bulk transfer: `total` packets, `window` of them in flight, an ACK every 2 packets that
   * repeats up to 32 ranges (like real ACK frames), and every 97th packet dropped.
   * Returns the store operations counted per packet sent.
   */
  function transfer(total: number, window: number): { visitsPerPacket: number; lost: number } {
    const r = newRecovery({ congestionControl: 'cubic' });
    r.setHandshakeConfirmed(0);
    const received: AckRange[] = []; // descending, what the peer has
    let next = 0;
    let delivered = 0; // the next packet number the peer receives
    let now = 0;
    let lost = 0;
    let acked = 0;
    const receive = (pn: number) => {
      if (pn % 97 === 0) return;
      const top = received[0];
      if (top !== undefined && top.largest === pn - 1) top.largest = pn;
      else received.unshift({ smallest: pn, largest: pn });
      if (received.length > 32) received.length = 32;
    };
    while (acked + lost < total) {
      while (next < total && next - acked - lost < window) send(r, App, next++, now);
      now += 1;
      // The peer receives the next two packets in flight and acknowledges.
      for (let k = 0; k < 2 && delivered < next; k++) receive(delivered++);
      if (received.length === 0) continue;
      const res = r.onAckReceived(App, received, 0, now + 50, true);
      assert.equal(res.ackedUnsent, false);
      acked += res.newlyAcked.length;
      lost += res.lost.length;
    }
    assert.equal(r.bytesInFlight, 0);
    assert.equal(r.sentPackets(App).size, 0);
    return { visitsPerPacket: r.sentPackets(App).visits / total, lost };
  }

  it('stays near linear: slots examined per packet do not grow with the window', () => {
    const small = transfer(20_000, 100);
    const large = transfer(20_000, 5_000);
    assert.ok(small.lost > 200 && large.lost > 200);
    // A scan of the outstanding packets per ACK would cost ~window / 2 slots per packet.
    assert.ok(large.visitsPerPacket < 40, `window 5000: ${large.visitsPerPacket} slots per packet`);
    assert.ok(
      large.visitsPerPacket < 2 * small.visitsPerPacket + 10,
      `${large.visitsPerPacket} vs ${small.visitsPerPacket}`,
    );
  });
});
