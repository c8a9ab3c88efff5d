// RFC 9221 on the Config and transport parameter side: enableDgram / setMaxDatagramFrameSize /
// enablePmtud / enableGrease arguments, what is advertised, and 0-RTT only while the server's
// max_datagram_frame_size did not shrink (§3).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Config } from '../../../core/connection/config.ts';
import { Pair, configs } from './pair.ts';

describe('Config: datagram, PMTUD and greasing settings', () => {
  it('defaults: no datagrams, PMTUD and greasing on', () => {
    const c = new Config();
    assert.equal(c.dgramQueues, null);
    assert.equal(c.maxDatagramFrameSize, 65535);
    assert.equal(c.pmtud, true);
    assert.equal(c.grease, true);
  });

  it('enableDgram(enabled, recvQueueLen, sendQueueLen) validates the queue lengths', () => {
    const c = new Config();
    c.enableDgram(true, 10, 20);
    assert.deepEqual(c.dgramQueues, { recv: 10, send: 20 });
    c.enableDgram(false);
    assert.equal(c.dgramQueues, null);
    assert.throws(() => c.enableDgram(true, 0, 1), RangeError);
    assert.throws(() => c.enableDgram(true, 1, 1.5), TypeError);
    assert.throws(() => c.enableDgram('yes' as unknown as boolean), TypeError);
  });

  it('setMaxDatagramFrameSize takes 1..2^62-1; the boolean switches take booleans', () => {
    const c = new Config();
    c.setMaxDatagramFrameSize(1200);
    assert.equal(c.maxDatagramFrameSize, 1200);
    assert.throws(() => c.setMaxDatagramFrameSize(0), RangeError);
    assert.throws(() => c.enablePmtud(1 as unknown as boolean), TypeError);
    assert.throws(() => c.enableGrease(null as unknown as boolean), TypeError);
  });

  it('what each side advertises (RFC 9221 §3, RFC 9287 §3)', () => {
    const p = new Pair(
      configs((c, s) => {
        c.enableDgram(true);
        s.enableDgram(true);
        s.setMaxDatagramFrameSize(1000);
        s.enableGrease(false);
      }),
    );
    p.handshake();
    assert.equal(p.client.localTransportParameters()?.maxDatagramFrameSize, 65535);
    assert.equal(p.client.localTransportParameters()?.greaseQuicBit, true);
    assert.equal(p.client.peerTransportParameters()?.maxDatagramFrameSize, 1000);
    assert.equal(p.client.peerTransportParameters()?.greaseQuicBit, false);
  });
});

describe('RFC 9221 §3 0-RTT and max_datagram_frame_size', () => {
  const ticketKey = new Uint8Array(32).fill(7);
  const make = (serverFrameSize: number | null) =>
    configs((c, s) => {
      c.enableEarlyData();
      c.enableDgram(true);
      s.enableEarlyData();
      s.setTicketKey(ticketKey);
      if (serverFrameSize !== null) {
        s.enableDgram(true);
        s.setMaxDatagramFrameSize(serverFrameSize);
      }
    });

  function ticketFrom(frameSize: number | null) {
    const first = new Pair(make(frameSize));
    first.handshake();
    first.runUntil(() => first.client.sessionTicket() !== null, 1000);
    const ticket = first.client.sessionTicket();
    assert.ok(ticket);
    return { ticket, now: first.now + 50 };
  }

  for (const [before, after, verdict] of [
    [1000, 1000, 'accepted'],
    [1000, 2000, 'accepted'],
    [null, 1000, 'accepted'],
    [1000, 500, 'rejected'],
    [1000, null, 'rejected'],
  ] as const) {
    it(`server max_datagram_frame_size ${before ?? 'absent'} then ${after ?? 'absent'}: 0-RTT ${verdict}`, () => {
      const { ticket, now } = ticketFrom(before);
      const p = new Pair(make(after), 'localhost', { sessionTicket: ticket }, now);
      assert.equal(p.client.isInEarlyData(), true);
      p.handshake();
      assert.equal(p.client.tlsInfo().earlyData, verdict);
    });
  }
});
