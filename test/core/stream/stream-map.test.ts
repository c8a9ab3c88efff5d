import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamMap } from '../../../core/stream/stream-map.ts';
import type { StreamControlFrame } from '../../../core/stream/stream-map.ts';
import { StreamResetError, StreamStoppedError } from '../../../core/stream/state.ts';
import type { StreamStateUpdate } from '../../../core/stream/state.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { FrameType } from '../../../core/wire/frame-types.ts';
import { assertQuicError, limits, pattern } from './util.ts';

function drainControl(m: StreamMap, now = 0, rtt = 10): StreamControlFrame[] {
  const out: StreamControlFrame[] = [];
  for (let f = m.pollControlFrame(now, rtt); f !== null; f = m.pollControlFrame(now, rtt)) out.push(f);
  return out;
}

describe('round-robin scheduling of stream data', () => {
  it('1,000 concurrent streams all progress: each sends once per round', () => {
    const n = 1000,
      size = 12000;
    const m = new StreamMap({
      role: 'client',
      local: limits(1 << 20, 1 << 30, n),
      peer: limits(1 << 20, 1 << 30, n),
    });
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = m.open() as number;
      ids.push(id);
      assert.equal(m.write(id, pattern(size, i), true), size);
    }
    for (let round = 0; round < size / 1200; round++) {
      const seen = new Set<number>();
      for (let k = 0; k < n; k++) {
        const s = m.nextSendable()!;
        const c = m.emit(s, 1200)!;
        assert.equal(c.data.length, 1200);
        seen.add(s.id);
      }
      assert.equal(seen.size, n, `round ${round}: every stream sent exactly once`);
      const sent = ids.map((id) => m.get(id)!.send!.sentOffset);
      assert.equal(Math.min(...sent), Math.max(...sent));
    }
    assert.equal(m.nextSendable(), null);
    for (const id of ids) assert.equal(m.get(id)!.send!.state, 'data_sent');
  });

  it('lost data is sent before new data of any stream', () => {
    const m = new StreamMap({ role: 'client', local: limits(1e6, 1e6, 10), peer: limits(1e6, 1e6, 10) });
    const a = m.open()!,
      b = m.open()!;
    m.write(a, pattern(5000));
    m.write(b, pattern(5000));
    const first = m.emit(m.nextSendable()!, 1000)!;
    m.onStreamLost(a, first.offset, first.data.length, first.fin);
    assert.equal(m.nextSendable()!.id, a);
    const again = m.emit(m.get(a)!, 1000)!;
    assert.equal(again.retransmit, true);
    assert.equal(m.nextSendable()!.id, b, 'then new data, round-robin');
  });

  it('when connection credit runs out, DATA_BLOCKED is due once per limit (§4.1, §19.12)', () => {
    const m = new StreamMap({ role: 'client', local: limits(1e6, 1e6, 10), peer: limits(1e6, 2500, 10) });
    const a = m.open()!;
    m.write(a, pattern(5000));
    let sent = 0;
    for (let s = m.nextSendable(); s !== null; s = m.nextSendable()) sent += m.emit(s, 1200)!.data.length;
    assert.equal(sent, 2500);
    assert.deepEqual(drainControl(m), [{ type: 'data_blocked', limit: 2500 }]);
    assert.equal(m.nextSendable(), null);
    assert.deepEqual(drainControl(m), []);
    m.onMaxData(2000); // smaller: ignored
    assert.equal(m.nextSendable(), null);
    m.onMaxData(6000);
    assert.equal(m.nextSendable()!.id, a);
  });
});

describe('RFC 9000 §4.1, §4.2 receive windows through the StreamMap', () => {
  it('connection-level FLOW_CONTROL_ERROR across streams, including a RESET_STREAM final size', () => {
    const m = new StreamMap({ role: 'server', local: limits(1000, 1500, 10), peer: limits(1000, 1500, 10) });
    m.onStreamFrame(0, 0, pattern(1000), false);
    m.onStreamFrame(4, 0, pattern(400), false);
    assertQuicError(
      () => m.onStreamFrame(8, 0, pattern(101), false),
      TransportError.FLOW_CONTROL_ERROR,
      FrameType.STREAM,
    );
    assertQuicError(
      () => m.onResetStream(8, 0, 101),
      TransportError.FLOW_CONTROL_ERROR,
      FrameType.RESET_STREAM,
    );
    m.onResetStream(8, 0, 100);
    assert.equal(m.connRecv.received, 1500);
  });

  it('MAX_DATA and MAX_STREAM_DATA become due as the application reads; lost ones are resent if current', () => {
    const m = new StreamMap({ role: 'server', local: limits(1000, 2000, 10), peer: limits(1000, 2000, 10) });
    m.onStreamFrame(0, 0, pattern(1000), false);
    m.onStreamFrame(4, 0, pattern(1000), false);
    assert.deepEqual(drainControl(m), []);
    m.read(0, new Uint8Array(1000));
    m.read(4, new Uint8Array(100));
    const frames = drainControl(m);
    assert.deepEqual(frames, [
      { type: 'max_data', maximum: 3100 },
      { type: 'max_stream_data', streamId: 0, maximum: 2000 },
    ]);
    m.onControlLost(frames[0]);
    m.onControlLost(frames[1]);
    assert.deepEqual(drainControl(m), frames, 'resent with the same values');
    m.onStreamFrame(0, 1000, pattern(1000), false);
    m.read(0, new Uint8Array(1000));
    const next = drainControl(m, 1000);
    assert.deepEqual(
      next.map((f) => f.type),
      ['max_data', 'max_stream_data'],
    );
    m.onControlLost(frames[0]); // superseded: not resent
    m.onControlLost(frames[1]);
    assert.deepEqual(drainControl(m), []);
  });

  it('window auto-tuning grows the stream window when reads are fast, not when slow', () => {
    const run = (gap: number): number => {
      const m = new StreamMap({
        role: 'server',
        local: limits(10000, 1 << 30, 10),
        peer: limits(10000, 1 << 30, 10),
        maxStreamWindow: 160000,
      });
      let now = 0,
        offset = 0;
      const buf = new Uint8Array(1 << 20);
      for (let i = 0; i < 12; i++) {
        // The peer fills the window, the application reads it all at once.
        const recv = m.get(0)?.recv;
        const max = recv ? recv.fc.max : 10000;
        m.onStreamFrame(0, offset, pattern(max - offset), false);
        offset = max;
        m.read(0, buf);
        now += gap;
        for (const f of drainControl(m, now, 50))
          if (f.type === 'max_stream_data') assert.ok(f.maximum > offset);
      }
      return m.get(0)!.recv!.fc.window;
    };
    assert.equal(run(40), 160000, 'an update per 40 ms at a 50 ms RTT: doubles up to the maximum');
    assert.equal(run(500), 10000, 'an update per 10 RTTs: stays');
  });

  it('the connection window keeps ahead of a tuned stream window', () => {
    const m = new StreamMap({
      role: 'server',
      local: limits(10000, 12000, 10),
      peer: limits(10000, 12000, 10),
      maxStreamWindow: 1 << 20,
    });
    let off = 0;
    for (let i = 0; i < 6; i++) {
      const max = Math.min(m.get(0)?.recv?.fc.max ?? 10000, m.connRecv.max);
      m.onStreamFrame(0, off, pattern(max - off), false);
      off = max;
      m.read(0, new Uint8Array(1 << 20));
      drainControl(m, i, 50);
    }
    assert.ok(
      m.connRecv.window >= 1.5 * m.get(0)!.recv!.fc.window || m.connRecv.window === m.connRecv.maxWindow,
    );
    assert.ok(m.get(0)!.recv!.fc.window > 10000);
  });
});

describe('RFC 9000 §3.5, §19.4, §19.5 resets through the StreamMap', () => {
  it('reset(): RESET_STREAM is due, resent when lost, and the stream is forgotten once it is acknowledged', () => {
    const m = new StreamMap({ role: 'client', local: limits(1e4, 1e5, 4), peer: limits(1e4, 1e5, 4) });
    const id = m.open('unidirectional')!;
    m.write(id, pattern(100));
    m.emit(m.nextSendable()!, 60);
    assert.equal(m.reset(id, 5), true);
    const [f] = drainControl(m);
    assert.deepEqual(f, { type: 'reset_stream', streamId: id, errorCode: 5, finalSize: 60 });
    assert.equal(m.nextSendable(), null, 'no STREAM frames after RESET_STREAM');
    m.onControlLost(f);
    assert.deepEqual(drainControl(m), [f]);
    m.onControlAcked(f);
    assert.equal(m.get(id), undefined);
  });

  it("STOP_SENDING from the peer: the application is told once, a RESET_STREAM carries the peer's code", () => {
    const m = new StreamMap({ role: 'client', local: limits(1e4, 1e5, 4), peer: limits(1e4, 1e5, 4) });
    const id = m.open()!;
    m.write(id, pattern(10));
    m.onStopSending(id, 0x33);
    assert.deepEqual(m.writable(), [id], 'listed so that the application learns of it');
    assert.throws(
      () => m.write(id, pattern(1)),
      (e) => e instanceof StreamStoppedError && e.byPeer && e.errorCode === 0x33,
    );
    assert.deepEqual(m.writable(), []);
    assert.deepEqual(drainControl(m), [
      { type: 'reset_stream', streamId: id, errorCode: 0x33, finalSize: 0 },
    ]);
  });

  it('stopSending(): STOP_SENDING is due and the unread bytes return to the connection window', () => {
    const m = new StreamMap({ role: 'server', local: limits(1e4, 1e4, 4), peer: limits(1e4, 1e4, 4) });
    m.onStreamFrame(2, 0, pattern(6000), false);
    assert.deepEqual(m.readable(), [2]);
    assert.equal(m.stopSending(2, 7), true);
    assert.deepEqual(m.readable(), []);
    const frames = drainControl(m);
    assert.deepEqual(frames[0], { type: 'stop_sending', streamId: 2, errorCode: 7 });
    assert.deepEqual(frames[1], { type: 'max_data', maximum: 16000 });
    m.onControlLost(frames[0]);
    assert.deepEqual(drainControl(m), [frames[0]]);
    m.onResetStream(2, 7, 6500);
    assert.equal(m.get(2), undefined, 'stopped and reset: forgotten');
  });

  it('a peer reset is reported once through read()', () => {
    const m = new StreamMap({ role: 'server', local: limits(1e4, 1e4, 4), peer: limits(1e4, 1e4, 4) });
    m.onStreamFrame(2, 0, pattern(10), false);
    m.onResetStream(2, 0x11, 10);
    assert.deepEqual(m.readable(), [2]);
    assert.throws(() => m.read(2, new Uint8Array(10)), StreamResetError);
    assert.equal(m.get(2), undefined);
  });
});

describe("RFC 9000 §4.6 MAX_STREAMS renewal keeps the peer's concurrency constant", () => {
  it('100 request/response streams with a limit of 4: never more than 4 held, credit renewed', () => {
    const m = new StreamMap({ role: 'server', local: limits(1e4, 1e6, 4), peer: limits(1e4, 1e6, 4) });
    let limit = 4,
      nextIndex = 0,
      maxHeld = 0;
    const frames: StreamControlFrame[] = [];
    for (let done = 0; done < 100;) {
      // The client opens as many streams as its credit allows, each a complete request.
      while (nextIndex < limit && nextIndex < 100) m.onStreamFrame(4 * nextIndex++, 0, pattern(20), true);
      maxHeld = Math.max(maxHeld, m.size);
      // The server answers the oldest open request.
      const id = m.accept()!;
      assert.deepEqual(m.read(id, new Uint8Array(100)), { length: 20, fin: true });
      m.write(id, pattern(30), true);
      const c = m.emit(m.nextSendable()!, 1000)!;
      m.onStreamAcked(id, c.offset, c.data.length, c.fin);
      assert.equal(m.get(id), undefined, 'both parts terminal, all read: forgotten');
      done++;
      for (const f of drainControl(m)) {
        frames.push(f);
        if (f.type === 'max_streams') limit = f.maximum;
      }
    }
    assert.equal(maxHeld, 4);
    assert.ok(frames.every((f) => f.type === 'max_streams' && f.streamType === 'bidirectional'));
    // Nothing is open and 2 of the 4 slots are still advertised: no MAX_STREAMS needed yet...
    assert.equal(limit, 102);
    assertQuicError(() => m.onStreamFrame(4 * 102, 0, pattern(1), false), TransportError.STREAM_LIMIT_ERROR);
    // ...until the peer uses them.
    m.onStreamFrame(4 * 100, 0, pattern(1), false);
    assert.deepEqual(drainControl(m), [{ type: 'max_streams', streamType: 'bidirectional', maximum: 104 }]);
    m.onStreamFrame(4 * 103, 0, pattern(1), false);
    assertQuicError(() => m.onStreamFrame(4 * 104, 0, pattern(1), false), TransportError.STREAM_LIMIT_ERROR);
    assert.equal(m.size, 4);
  });

  it('advertises when less than half the initial allowance is left; a lost MAX_STREAMS is resent if current', () => {
    const m = new StreamMap({ role: 'client', local: limits(1e4, 1e6, 10, 10), peer: limits(1e4, 1e6, 10) });
    const finishPeerUni = (id: number) => {
      m.onStreamFrame(id, 0, pattern(1), true);
      m.read(id, new Uint8Array(1));
    };
    for (let i = 0; i < 5; i++) finishPeerUni(4 * i + 3);
    assert.deepEqual(drainControl(m), [], '5 of 10 left: not yet');
    finishPeerUni(23);
    const [f] = drainControl(m);
    assert.deepEqual(f, { type: 'max_streams', streamType: 'unidirectional', maximum: 16 });
    m.onControlLost(f);
    assert.deepEqual(drainControl(m), [f]);
    m.onStreamsBlocked('unidirectional', 16);
    assert.deepEqual(drainControl(m), []);
  });
});

describe('qlog stream_state_updated', () => {
  it('reports each transition once, with qlog state names, ending in destroyed', () => {
    const events: StreamStateUpdate[] = [];
    const m = new StreamMap({
      role: 'client',
      local: limits(1e4, 1e5, 4),
      peer: limits(1e4, 1e5, 4),
      observer: (e) => events.push(e),
    });
    const id = m.open()!;
    assert.equal(m.get(id)!.state, 'idle');
    m.write(id, pattern(2000), true);
    for (let s = m.nextSendable(); s !== null; s = m.nextSendable()) {
      const c = m.emit(s, 1000)!;
      m.onStreamAcked(id, c.offset, c.data.length, c.fin);
    }
    assert.equal(m.get(id)!.state, 'half_closed_local');
    m.onStreamFrame(id, 0, pattern(5), true);
    m.read(id, new Uint8Array(5));
    const trace = events.map((e) => `${e.streamSide}:${e.old ?? '-'}>${e.new}`);
    assert.deepEqual(trace, [
      'sending:->ready',
      'receiving:->receive',
      'sending:ready>send',
      'sending:send>data_sent',
      'sending:data_sent>data_received',
      'receiving:receive>size_known',
      'receiving:size_known>data_received',
      'receiving:data_received>data_read',
      'sending:data_received>destroyed',
      'receiving:data_read>destroyed',
    ]);
    assert.ok(events.every((e) => e.streamId === id && e.streamType === 'bidirectional'));
  });
});
