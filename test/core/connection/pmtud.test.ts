// The DPLPMTUD state machine (RFC 8899 §5, RFC 9000 §14.3) on its own: the search order,
// MAX_PROBES, the binary refinement, the raise timer and black hole detection.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BASE_PLPMTU,
  BLACK_HOLE_THRESHOLD,
  MAX_PROBES,
  PMTU_RAISE_TIMER,
  Pmtud,
  SEARCH_GRANULARITY,
} from '../../../core/connection/pmtud.ts';

/** Runs a search against a path that carries datagrams up to `pathMtu`; returns the sizes probed. */
function search(p: Pmtud, pathMtu: number, now = 0): number[] {
  const probed: number[] = [];
  for (let i = 0; i < 200; i++) {
    const size = p.probeDue(now);
    if (size === 0) break;
    probed.push(size);
    p.onProbeSent(size);
    if (size <= pathMtu) p.onProbeAcked(size, now);
    else p.onProbeLost(size, now);
  }
  return probed;
}

describe('RFC 9000 §14.3 DPLPMTUD: BASE_PLPMTU and the search', () => {
  it('starts at BASE_PLPMTU = 1200 and probes the candidate sizes in ascending order', () => {
    const p = new Pmtud();
    assert.equal(p.state, 'disabled');
    const c = p.start(1500, 0);
    assert.deepEqual(c, { old: 1200, new: 1200, done: false });
    assert.equal(p.state, 'searching');
    assert.equal(p.current, BASE_PLPMTU);
    assert.deepEqual(search(p, 1500), [1280, 1350, 1400, 1452, 1472, 1500]);
    assert.equal(p.current, 1500);
    assert.equal(p.state, 'search_complete');
    assert.equal(p.raiseAt, null, 'at MAX_PLPMTU: no raise timer');
  });

  for (const mtu of [1280, 1400, 1500]) {
    it(`converges to a ${mtu}-byte path under a 1500-byte ceiling`, () => {
      const p = new Pmtud();
      p.start(1500, 0);
      search(p, mtu);
      assert.equal(p.current, mtu);
      assert.equal(p.state, 'search_complete');
    });
  }

  it('probes MAX_PLPMTU itself when it is not a candidate size', () => {
    const p = new Pmtud();
    p.start(1420, 0);
    assert.deepEqual(search(p, 1500), [1280, 1350, 1400, 1420]);
    assert.equal(p.current, 1420);
  });

  it('a ceiling of 1200 (the peer allows no more) ends the search at once', () => {
    const p = new Pmtud();
    assert.deepEqual(p.start(1200, 0), { old: 1200, new: 1200, done: true });
    assert.equal(p.state, 'search_complete');
    assert.equal(p.probeDue(0), 0);
  });

  it('one probe at a time: nothing is due while a probe is outstanding', () => {
    const p = new Pmtud();
    p.start(1500, 0);
    p.onProbeSent(p.probeDue(0));
    assert.equal(p.probeDue(0), 0);
    p.onProbeAcked(1280, 1);
    assert.equal(p.probeDue(1), 1350);
  });

  it(`RFC 8899 §5.1.2: a size fails after MAX_PROBES (${MAX_PROBES}) lost probes, not before`, () => {
    const p2 = new Pmtud();
    p2.start(1500, 0);
    for (const s of [1280, 1350, 1400]) {
      p2.onProbeSent(s);
      p2.onProbeAcked(s, 0);
    }
    for (let i = 1; i < MAX_PROBES; i++) {
      assert.equal(p2.probeDue(0), 1452);
      p2.onProbeSent(1452);
      assert.equal(p2.onProbeLost(1452, 0), null);
    }
    p2.onProbeSent(1452);
    p2.onProbeLost(1452, 0);
    assert.notEqual(p2.probeDue(0), 1452);
    assert.equal(p2.probesLost, MAX_PROBES);
  });

  it('refines between a confirmed and a failed size by halving, down to SEARCH_GRANULARITY', () => {
    const p = new Pmtud();
    p.start(1500, 0);
    const probed = search(p, 1300);
    assert.deepEqual(probed.slice(0, 2), [1280, 1350]);
    assert.ok(p.current <= 1300 && p.current > 1300 - SEARCH_GRANULARITY, `current ${p.current}`);
    // Every size above the path's failed MAX_PROBES times; each below was confirmed once.
    assert.equal(p.probesLost % MAX_PROBES, 0);
  });

  it('property: the search ends within SEARCH_GRANULARITY below min(path, ceiling), never above', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1200, max: 9000 }), fc.integer({ min: 1200, max: 9000 }), (mtu, max) => {
        const p = new Pmtud();
        p.start(max, 0);
        search(p, mtu);
        const best = Math.min(mtu, max);
        assert.equal(p.state, 'search_complete');
        assert.ok(p.current <= best, `${p.current} > ${best}`);
        assert.ok(
          p.current === best || best - p.current < SEARCH_GRANULARITY,
          `${p.current} far below ${best}`,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a late acknowledgment of a probe declared lost still confirms the size', () => {
    const p = new Pmtud();
    p.start(1500, 0);
    p.onProbeSent(1280);
    p.onProbeLost(1280, 0);
    assert.deepEqual(p.onProbeAcked(1280, 1), { old: 1200, new: 1280, done: false });
  });
});

describe('RFC 8899 §5.2 PMTU_RAISE_TIMER', () => {
  it('a search that ended below MAX_PLPMTU starts again after 600 s', () => {
    const p = new Pmtud();
    p.start(1500, 0);
    search(p, 1400, 0);
    assert.equal(p.current, 1400);
    assert.equal(p.raiseAt, PMTU_RAISE_TIMER);
    assert.equal(p.probeDue(PMTU_RAISE_TIMER - 1), 0);
    // The path grew meanwhile: the new search finds it.
    search(p, 1500, PMTU_RAISE_TIMER);
    assert.equal(p.current, 1500);
    assert.equal(p.raiseAt, null);
  });
});

describe('RFC 8899 §4.3 black hole detection', () => {
  function at1500(): Pmtud {
    const p = new Pmtud();
    p.start(1500, 0);
    search(p, 1500, 0);
    assert.equal(p.current, 1500);
    return p;
  }

  it(`${BLACK_HOLE_THRESHOLD} large packets lost while later small ones get through: back to BASE and a new search`, () => {
    const p = at1500();
    p.onPacketAcked(1500, 10);
    for (let i = 0; i < BLACK_HOLE_THRESHOLD - 1; i++) assert.equal(p.onPacketLost(1500, 20 + i, 50), null);
    p.onPacketAcked(60, 30); // an ACK-sized packet sent after them got through
    const c = p.onPacketLost(1500, 25, 51);
    assert.deepEqual(c, { old: 1500, new: BASE_PLPMTU, done: false });
    assert.equal(p.blackHoles, 1);
    assert.equal(p.state, 'searching');
    assert.equal(p.probeDue(51), 1280);
  });

  it('random loss is not a black hole: a later large packet was acknowledged', () => {
    const p = at1500();
    for (let i = 0; i < 10; i++) {
      p.onPacketAcked(60, 100 + i);
      p.onPacketAcked(1500, 100 + i + 0.5); // acknowledged in the same ACK as the losses below
      assert.equal(p.onPacketLost(1500, 100 + i - 0.5, 200), null);
    }
    assert.equal(p.blackHoles, 0);
  });

  it('losses without any smaller packet getting through are left to congestion control', () => {
    const p = at1500();
    for (let i = 0; i < 10; i++) assert.equal(p.onPacketLost(1500, 20 + i, 50), null);
    assert.equal(p.current, 1500);
  });

  it('packets sent before the current size was adopted do not count', () => {
    const p = new Pmtud();
    p.start(1500, 0);
    search(p, 1500, 100);
    p.onPacketAcked(60, 200);
    for (let i = 0; i < 10; i++) assert.equal(p.onPacketLost(1400, 50 + i, 300), null);
  });

  it('a second consecutive PTO above BASE_PLPMTU is a black hole; the first is not', () => {
    const p = at1500();
    assert.equal(p.onPto(1, 10), null);
    assert.deepEqual(p.onPto(2, 20), { old: 1500, new: 1200, done: false });
    // At BASE nothing more can be done.
    assert.equal(p.onPto(3, 30), null);
    assert.equal(p.blackHoles, 1);
  });

  it('a new path starts from BASE_PLPMTU (RFC 9000 §14.2)', () => {
    const p = at1500();
    assert.deepEqual(p.onPathChange(5), { old: 1500, new: 1200, done: false });
    assert.equal(p.blackHoles, 0);
    assert.equal(p.probeDue(5), 1280);
  });

  it('nothing happens before the search starts', () => {
    const p = new Pmtud();
    assert.equal(p.onPto(5, 0), null);
    assert.equal(p.onPacketLost(1400, 0, 1), null);
    assert.equal(p.onPathChange(0), null);
    assert.equal(p.probeDue(0), 0);
  });
});
