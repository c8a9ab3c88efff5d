import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PACING_GAIN, Pacer } from '../../../core/recovery/pacer.ts';
import { PacketNumberSpace } from '../../../core/recovery/types.ts';
import { newRecovery, send } from './helpers.ts';

/** Sends `count` packets of `size` as early as the pacer allows, starting at `start`; returns the send times. */
function paced(pacer: Pacer, count: number, start: number, size = 1200): number[] {
  const times: number[] = [];
  let now = start;
  for (let i = 0; i < count; i++) {
    now = Math.max(now, pacer.nextSendTime(now, size));
    pacer.onPacketSent(now, size);
    times.push(now);
  }
  return times;
}

describe('RFC 9002 §7.7 pacing', () => {
  it('rate = N * cwnd / smoothed_rtt with N = 1.25: 12000 B over 100 ms is 150 B/ms (1.2 Mbit/s)', () => {
    const pacer = new Pacer(1200);
    pacer.setRate(12000, 100);
    assert.equal(PACING_GAIN, 1.25);
    assert.equal(pacer.rate, 150);
    assert.equal(pacer.bitsPerSecond, 1_200_000);
  });

  it('after a burst of the initial window, spaces 1200-byte packets 8 ms apart', () => {
    const pacer = new Pacer(1200);
    assert.equal(pacer.capacity, 12000);
    pacer.setRate(12000, 100);
    const times = paced(pacer, 14, 0);
    assert.deepEqual(times, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 16, 24, 32]);
  });

  it('interval = smoothed_rtt * packet_size / cwnd / N at other windows', () => {
    const pacer = new Pacer(1200, 1200); // a one-packet burst
    pacer.setRate(60000, 50); // 1500 B/ms: 1200 B every 0.8 ms
    const times = paced(pacer, 4, 10);
    assert.equal(times[0], 10);
    for (let i = 1; i < times.length; i++) assert.ok(Math.abs(times[i] - times[i - 1] - 0.8) < 1e-9);
  });

  it('an idle period refills the bucket to the burst allowance, no more', () => {
    const pacer = new Pacer(1200);
    pacer.setRate(12000, 100);
    paced(pacer, 14, 0);
    const times = paced(pacer, 12, 10_000);
    assert.deepEqual(times, [...Array(10).fill(10_000), 10_008, 10_016]);
  });

  it('asking is free: nextSendTime consumes nothing', () => {
    const pacer = new Pacer(1200, 1200);
    pacer.setRate(12000, 100);
    pacer.onPacketSent(0, 1200);
    assert.equal(pacer.nextSendTime(1, 1200), 8);
    assert.equal(pacer.nextSendTime(1, 1200), 8);
    assert.equal(pacer.nextSendTime(8, 1200), 8);
  });

  it('a packet sent despite the pacer (a probe) puts the bucket in debt', () => {
    const pacer = new Pacer(1200, 1200);
    pacer.setRate(12000, 100);
    pacer.onPacketSent(0, 1200);
    pacer.onPacketSent(0, 1200);
    assert.equal(pacer.nextSendTime(0, 1200), 16);
  });

  it('a new rate applies from the moment it is set', () => {
    const pacer = new Pacer(1200, 1200);
    pacer.setRate(12000, 100); // 150 B/ms
    pacer.onPacketSent(0, 1200);
    pacer.setRate(24000, 100, 4); // 600 B filled at 150 B/ms, then 300 B/ms
    assert.equal(pacer.nextSendTime(4, 1200), 6);
  });

  it('does not pace without a rate or with a zero RTT', () => {
    const pacer = new Pacer(1200);
    assert.equal(
      paced(pacer, 30, 5).every((t) => t === 5),
      true,
    );
    pacer.setRate(12000, 0);
    assert.equal(pacer.nextSendTime(7, 1200), 7);
    assert.equal(pacer.bitsPerSecond, 0);
  });

  it('LossRecovery keeps the pacer at N * cwnd / smoothed_rtt and paces in-flight packets only', () => {
    const r = newRecovery();
    assert.equal(r.pacer.rate, (1.25 * 12000) / 333);
    for (let pn = 0; pn < 10; pn++) send(r, PacketNumberSpace.ApplicationData, pn, 0);
    send(r, PacketNumberSpace.ApplicationData, 10, 0, 50, false, false); // ACK-only: not paced
    assert.equal(r.nextSendTime(0, 1200), 1200 / r.pacer.rate);
  });
});
