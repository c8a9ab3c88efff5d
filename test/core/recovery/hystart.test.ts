import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CongestionPacket, WindowedController } from '../../../core/recovery/congestion.ts';
import { Cubic } from '../../../core/recovery/cubic.ts';
import {
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
  HYSTART_N_RTT_SAMPLE,
  HyStart,
  hyStartRttThresh,
} from '../../../core/recovery/hystart.ts';
import { NewReno } from '../../../core/recovery/newreno.ts';
import { RttEstimator } from '../../../core/recovery/rtt.ts';
import {
  PacketNumberSpace,
  type CongestionState,
  type CongestionTrigger,
} from '../../../core/recovery/types.ts';
import { newRecovery, ranges, send } from './helpers.ts';

const MSS = 1200;

/**
 * An ack clock for the HyStart++ state machine alone: every ACK acknowledges the oldest packet
 * and two new packets leave (slow start doubles the flight each round), so round k holds twice
 * the packets of round k - 1, starting from 10.
 */
class RoundClock {
  private next = 0;
  private readonly inFlight: number[] = [];
  /** ACKs that returned true (CSS is over). */
  exits = 0;

  constructor(readonly h: HyStart = new HyStart()) {
    this.send(10);
  }

  send(n: number): void {
    for (let i = 0; i < n; i++) {
      this.h.onPacketSent(this.next);
      this.inFlight.push(this.next++);
    }
  }

  /** One ACK of the oldest packet with RTT sample `rtt` (NaN: none). */
  ack(rtt: number): void {
    const pn = this.inFlight.shift() as number;
    if (this.h.onAck(pn, rtt)) this.exits++;
    this.send(2);
  }

  /** ACKs until the current round ends; `rtt(i)` is the i-th sample of the round. */
  round(rtt: (i: number) => number): number {
    const end = this.h.windowEnd < 0 ? this.h.largestSent : this.h.windowEnd;
    let i = 0;
    for (;;) {
      const pn = this.inFlight[0];
      this.ack(rtt(i++));
      if (pn >= end) return i;
    }
  }
}

const steady = (ms: number) => () => ms;

describe('RFC 9406 §4.2 HyStart++ RttThresh', () => {
  it('is lastRoundMinRTT / MIN_RTT_DIVISOR clamped to [MIN_RTT_THRESH, MAX_RTT_THRESH] = [4, 16] ms', () => {
    assert.equal(hyStartRttThresh(1), 4);
    assert.equal(hyStartRttThresh(32), 4);
    assert.equal(hyStartRttThresh(80), 10);
    assert.equal(hyStartRttThresh(128), 16);
    assert.equal(hyStartRttThresh(600), 16);
  });
});

describe('RFC 9406 §4.2 HyStart++ rounds and slow start exit', () => {
  it('a round ends when windowEnd, the largest packet sent when it began, is acknowledged', () => {
    const c = new RoundClock();
    assert.equal(c.round(steady(100)), 10, 'the first round: the initial 10 packets');
    // 18 packets left while the first 9 ACKs arrived: the next round ends at packet 10 + 18 - 1.
    assert.equal(c.h.windowEnd, 27);
    assert.equal(c.h.lastRoundMinRtt, 100);
    assert.equal(c.round(steady(100)), 18);
    assert.equal(c.h.windowEnd, 63);
    assert.equal(c.round(steady(100)), 36);
  });

  it('exits slow start into CSS on a sustained RTT increase of RttThresh, after N_RTT_SAMPLE samples', () => {
    const c = new RoundClock();
    c.round(steady(100));
    c.round(steady(100));
    // RttThresh = 100 / 8 = 12.5 ms: every sample of the next round is 13 ms higher.
    for (let i = 0; i < HYSTART_N_RTT_SAMPLE - 1; i++) c.ack(113);
    assert.equal(c.h.phase, 'slow_start', 'a round is judged only with N_RTT_SAMPLE samples');
    c.ack(113);
    assert.equal(c.h.phase, 'conservative_slow_start');
    assert.equal(c.h.cssBaselineMinRtt, 113);
  });

  it('does not exit on jitter: round minima within RttThresh, or spikes above an unchanged minimum', () => {
    const c = new RoundClock();
    c.round(steady(100));
    for (let r = 0; r < 6; r++) {
      // Minima 100 / 112 alternating (below 100 + 12.5), spikes to 180 in between.
      c.round((i) => (i === 3 ? (r % 2 === 0 ? 112 : 100) : 180 - (i % 7)));
      assert.equal(c.h.phase, 'slow_start', `round ${r}`);
    }
  });

  it('a round with fewer than N_RTT_SAMPLE samples is never judged', () => {
    const c = new RoundClock();
    c.round(steady(100));
    // Only 7 ACKs of the round carry an RTT sample (the others acknowledged no new largest).
    c.round((i) => (i < HYSTART_N_RTT_SAMPLE - 1 ? 200 : NaN));
    assert.equal(c.h.phase, 'slow_start');
    assert.equal(c.h.lastRoundMinRtt, 200);
  });

  it('goes back to slow start when a CSS round minimum falls below the CSS baseline', () => {
    const c = new RoundClock();
    c.round(steady(100));
    c.round(steady(120));
    assert.equal(c.h.phase, 'conservative_slow_start');
    assert.equal(c.h.cssBaselineMinRtt, 120);
    // The next round's samples settle at 110: still above 100, but below the baseline.
    for (let i = 0; i < HYSTART_N_RTT_SAMPLE - 1; i++) c.ack(110);
    assert.equal(c.h.phase, 'conservative_slow_start');
    c.ack(110);
    assert.equal(c.h.phase, 'slow_start', 'the exit was spurious: slow start again');
    assert.equal(c.h.cssBaselineMinRtt, Infinity);
    // HyStart++ still runs: a later increase over the round before enters CSS again.
    c.round(steady(110));
    c.round(steady(110));
    c.round(steady(130));
    assert.equal(c.h.phase, 'conservative_slow_start');
    assert.equal(c.h.cssBaselineMinRtt, 130);
  });

  it('a later, lower sample of the round CSS began in that is still an increase lowers the baseline', () => {
    const c = new RoundClock();
    c.round(steady(100));
    const n = c.round((i) => 140 - i); // CSS at the 8th sample (133); later samples 132, 131, ...
    assert.equal(c.h.phase, 'conservative_slow_start');
    assert.equal(c.h.cssBaselineMinRtt, 140 - (n - 1));
  });

  it(`after CSS_ROUNDS (${HYSTART_CSS_ROUNDS}) rounds, the round CSS began in included, CSS is over`, () => {
    const c = new RoundClock();
    c.round(steady(100));
    c.round(steady(100));
    c.round(steady(120)); // CSS from the 8th sample of this round: it counts as the first
    assert.equal(c.h.phase, 'conservative_slow_start');
    assert.equal(c.h.cssRounds, 1);
    for (let r = 2; r < HYSTART_CSS_ROUNDS; r++) c.round(steady(125));
    assert.equal(c.exits, 0);
    assert.equal(c.h.phase, 'conservative_slow_start');
    c.round(steady(125));
    assert.equal(c.exits, 1, 'the caller is told once to enter congestion avoidance');
    assert.equal(c.h.phase, 'off');
    c.round(steady(400));
    assert.equal(c.exits, 1);
  });

  it('disabled, it never leaves slow start', () => {
    const c = new RoundClock(new HyStart(false));
    c.round(steady(100));
    c.round(steady(300));
    assert.equal(c.h.phase, 'off');
    assert.equal(c.exits, 0);
  });
});

/**
 * An ack clock for a whole controller: the window is filled with 1200-byte Application Data
 * packets, and each ACK acknowledges the two oldest with one RTT sample (a delayed-ACK receiver),
 * then the window is filled again.
 */
class CcClock {
  readonly rtt = new RttEstimator();
  now = 0;
  private next = 0;
  private readonly inFlight: CongestionPacket[] = [];
  readonly states: [CongestionState, CongestionState, CongestionTrigger][] = [];

  constructor(readonly cc: WindowedController) {
    cc.listener = { onCongestionStateUpdated: (o, n, t) => this.states.push([o, n, t]) };
    this.fill();
  }

  fill(): void {
    while (this.cc.canSend(MSS)) {
      this.cc.onPacketSent(MSS, this.now, this.next);
      this.inFlight.push({ timeSent: this.now, size: MSS, inFlight: true, packetNumber: this.next++ });
    }
  }

  /** One ACK of the two oldest packets with RTT sample `rtt`, 1 ms after the previous one. */
  ack(rtt: number): void {
    this.now += 1;
    const acked = this.inFlight.splice(0, 2);
    this.rtt.update(rtt, 0, true, 25, this.now);
    this.cc.onPacketsAcked(acked, this.now, this.rtt);
    this.fill();
  }

  /** ACKs until the controller's HyStart++ round ends. */
  round(rtt: number): void {
    const h = this.cc.hystart;
    const end = h.windowEnd < 0 ? h.largestSent : h.windowEnd;
    for (;;) {
      const last = this.inFlight[1]?.packetNumber ?? this.inFlight[0].packetNumber ?? 0;
      this.ack(rtt);
      if (last >= end) return;
    }
  }

  /** Slow start at 50 ms, then rounds at 60 ms until CSS begins. */
  intoCss(): void {
    this.round(50);
    this.round(50);
    this.round(50);
    while (this.cc.state === 'slow_start') this.ack(60);
  }
}

for (const [name, make] of [
  ['NewReno', (hyStart?: boolean) => new NewReno(MSS, { hyStart })],
  ['CUBIC', (hyStart?: boolean) => new Cubic(MSS, { hyStart })],
] as const) {
  describe(`RFC 9406 HyStart++ in ${name}`, () => {
    it('enters Conservative Slow Start on an RTT increase and reports it as a congestion state', () => {
      const c = new CcClock(make());
      c.intoCss();
      assert.equal(c.cc.state, 'conservative_slow_start');
      assert.deepEqual(c.states, [['slow_start', 'conservative_slow_start', 'ack']]);
      assert.equal(c.cc.ssthresh, Infinity);
    });

    it(`CSS grows cwnd by 1 / CSS_GROWTH_DIVISOR (${HYSTART_CSS_GROWTH_DIVISOR}) of the bytes acknowledged`, () => {
      const c = new CcClock(make());
      c.intoCss();
      const before = c.cc.cwnd;
      c.ack(60);
      assert.equal(c.cc.cwnd - before, (2 * MSS) / HYSTART_CSS_GROWTH_DIVISOR);
    });

    it('after CSS_ROUNDS rounds: congestion avoidance with ssthresh = cwnd', () => {
      const c = new CcClock(make());
      c.intoCss();
      let rounds = 0;
      while (c.cc.state === 'conservative_slow_start') {
        c.round(60);
        rounds++;
      }
      assert.equal(rounds, HYSTART_CSS_ROUNDS, 'the rest of the entry round and four more');
      assert.equal(c.cc.state, 'congestion_avoidance');
      assert.equal(c.cc.ssthresh, c.cc.cwnd);
      assert.deepEqual(c.states.at(-1), ['conservative_slow_start', 'congestion_avoidance', 'ack']);
      // Congestion avoidance proper: a window of ACKs grows cwnd by about one datagram, not 1/4 of it.
      const cwnd = c.cc.cwnd;
      c.round(60);
      assert.ok(c.cc.cwnd - cwnd < 2 * MSS, `${c.cc.cwnd - cwnd}`);
    });

    it('goes back to slow start when the RTT falls during CSS', () => {
      const c = new CcClock(make());
      c.intoCss();
      c.round(60);
      c.round(52);
      assert.equal(c.cc.state, 'slow_start');
      const before = c.cc.cwnd;
      c.ack(52);
      assert.equal(c.cc.cwnd - before, 2 * MSS, 'full slow start growth again');
      assert.deepEqual(
        c.states.map(([, n]) => n),
        ['conservative_slow_start', 'slow_start'],
      );
    });

    it('a loss during CSS ends HyStart++ with the usual reduction', () => {
      const c = new CcClock(make());
      c.intoCss();
      const cwnd = c.cc.cwnd;
      c.cc.onPacketsLost([{ timeSent: c.now, size: MSS, inFlight: true, packetNumber: 0 }], c.now + 1);
      assert.equal(c.cc.state, 'recovery');
      assert.equal(c.cc.hystart.phase, 'off');
      assert.ok(c.cc.ssthresh < cwnd);
    });

    it('runs only in the initial slow start: after a loss, slow start ignores RTT increases', () => {
      const c = new CcClock(make());
      for (let i = 0; i < 4; i++) c.round(50);
      c.cc.onPacketsLost([{ timeSent: c.now, size: MSS, inFlight: true, packetNumber: 0 }], c.now + 1);
      c.cc.onPersistentCongestion(c.now + 2);
      assert.equal(c.cc.state, 'slow_start');
      assert.equal(c.cc.hystart.phase, 'off');
      // Rounds 20 ms slower each time: slow start still runs up to ssthresh.
      for (let i = 1; c.cc.cwnd < c.cc.ssthresh; i++) c.round(50 + 20 * i);
      assert.deepEqual(
        c.states.map(([, n]) => n),
        ['recovery', 'slow_start', 'congestion_avoidance'],
      );
    });

    it('reset (a Retry, a new path) starts HyStart++ over', () => {
      const c = new CcClock(make());
      c.intoCss();
      c.cc.reset();
      assert.equal(c.cc.hystart.phase, 'slow_start');
      assert.equal(c.cc.hystart.windowEnd, -1);
      assert.equal(c.cc.state, 'slow_start');
    });

    it('without HyStart++ slow start runs on through an RTT increase', () => {
      const c = new CcClock(make(false));
      c.round(50);
      c.round(50);
      for (let i = 0; i < 4; i++) c.round(100);
      assert.equal(c.cc.state, 'slow_start');
      assert.deepEqual(c.states, []);
    });
  });
}

describe('RFC 9438 §4.10 CUBIC after HyStart++', () => {
  it('congestion avoidance starts at the exit: W_max = cwnd_prior = cwnd, K = 0, epoch = now', () => {
    const c = new CcClock(new Cubic(MSS));
    c.intoCss();
    while (c.cc.state === 'conservative_slow_start') c.ack(60);
    const cc = c.cc as Cubic;
    assert.equal(cc.epochStart, c.now);
    assert.equal(cc.wMax, cc.cwnd);
    assert.equal(cc.cwndPrior, cc.cwnd);
    assert.equal(cc.k, 0);
    assert.equal(cc.wEst, cc.cwnd);
  });

  it('the curve then grows from the exit window (convex, W_cubic(t) = C t^3 + W_max)', () => {
    const c = new CcClock(new Cubic(MSS));
    c.intoCss();
    while (c.cc.state === 'conservative_slow_start') c.ack(60);
    const cc = c.cc as Cubic;
    const exitCwnd = cc.cwnd;
    const exitAt = c.now;
    // One ACK 2 s later: the target is W_cubic(2.06 s) = 0.4 * 2.06^3 segments over W_max.
    c.now = exitAt + 1999;
    c.ack(60);
    const target = exitCwnd + 0.4 * 2.06 ** 3 * MSS;
    const expected = exitCwnd + ((target - exitCwnd) * 2 * MSS) / exitCwnd;
    assert.ok(Math.abs(cc.cwnd - expected) < 1, `${cc.cwnd} vs ${expected}`);
  });
});

describe('RFC 9406 HyStart++ through LossRecovery', () => {
  it('counts rounds in Application Data packet numbers; Initial and Handshake ACKs end none', () => {
    const r = newRecovery({ congestionControl: 'cubic' });
    r.setHandshakeConfirmed(0);
    const cc = r.cc as WindowedController;
    send(r, PacketNumberSpace.Initial, 0, 0);
    send(r, PacketNumberSpace.Initial, 1, 0);
    r.onAckReceived(PacketNumberSpace.Initial, ranges([0, 1]), 0, 40);
    assert.equal(cc.hystart.windowEnd, -1, 'no Application Data sent: no round yet');
    for (let pn = 0; pn < 4; pn++) send(r, PacketNumberSpace.ApplicationData, pn, 41);
    send(r, PacketNumberSpace.Handshake, 100, 41);
    r.onAckReceived(PacketNumberSpace.ApplicationData, ranges([0, 0]), 0, 81);
    assert.equal(cc.hystart.largestSent, 3);
    assert.equal(cc.hystart.windowEnd, 3);
    r.onAckReceived(PacketNumberSpace.Handshake, ranges([100, 100]), 0, 82);
    assert.equal(cc.hystart.windowEnd, 3, 'a Handshake packet number does not end the round');
    for (let pn = 4; pn < 8; pn++) send(r, PacketNumberSpace.ApplicationData, pn, 82);
    r.onAckReceived(PacketNumberSpace.ApplicationData, ranges([0, 3]), 0, 83);
    assert.equal(cc.hystart.windowEnd, 7, 'acknowledging windowEnd began the next round');
    assert.equal(cc.hystart.rttSampleCount, 0);
    assert.ok(cc.hystart.lastRoundMinRtt < 42);
  });

  it('hyStart: false turns it off', () => {
    const r = newRecovery({ congestionControl: 'newreno', hyStart: false });
    assert.equal((r.cc as WindowedController).hystart.phase, 'off');
  });
});
