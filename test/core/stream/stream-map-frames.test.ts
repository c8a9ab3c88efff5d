import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamMap } from '../../../core/stream/stream-map.ts';
import type { Role } from '../../../core/stream/stream-id.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { FrameType } from '../../../core/wire/frame-types.ts';
import { assertQuicError, limits, pattern } from './util.ts';

const { STREAM_STATE_ERROR, STREAM_LIMIT_ERROR, FRAME_ENCODING_ERROR } = TransportError;

function map(role: Role, streams = 4, uni = streams): StreamMap {
  return new StreamMap({
    role,
    local: limits(1000, 100000, streams, uni),
    peer: limits(1000, 100000, streams, uni),
  });
}

/** Sends each frame kind that names a stream at `m`, by name. */
const FRAMES: Record<string, [type: number, send: (m: StreamMap, id: number) => void]> = {
  STREAM: [FrameType.STREAM, (m, id) => m.onStreamFrame(id, 0, pattern(1), false)],
  RESET_STREAM: [FrameType.RESET_STREAM, (m, id) => m.onResetStream(id, 0, 0)],
  STREAM_DATA_BLOCKED: [FrameType.STREAM_DATA_BLOCKED, (m, id) => m.onStreamDataBlocked(id, 0)],
  STOP_SENDING: [FrameType.STOP_SENDING, (m, id) => m.onStopSending(id, 0)],
  MAX_STREAM_DATA: [FrameType.MAX_STREAM_DATA, (m, id) => m.onMaxStreamData(id, 5000)],
};

describe('RFC 9000 §19.4-§19.13 frames on streams that cannot carry them: STREAM_STATE_ERROR', () => {
  // A client: 2 is its own unidirectional stream (send-only), 3 the server's (receive-only).
  it('STREAM, RESET_STREAM and STREAM_DATA_BLOCKED on a send-only stream (§19.8, §19.4, §19.13)', () => {
    for (const name of ['STREAM', 'RESET_STREAM', 'STREAM_DATA_BLOCKED']) {
      const m = map('client');
      assert.equal(m.open('unidirectional'), 2);
      const [type, send] = FRAMES[name];
      const e = assertQuicError(() => send(m, 2), STREAM_STATE_ERROR, type);
      assert.match(e.message, /send-only/);
      assertQuicError(() => send(m, 6), STREAM_STATE_ERROR, type); // also before it is opened
    }
  });

  it('STOP_SENDING and MAX_STREAM_DATA on a receive-only stream (§19.5, §19.10)', () => {
    for (const name of ['STOP_SENDING', 'MAX_STREAM_DATA']) {
      const m = map('client');
      m.onStreamFrame(3, 0, pattern(1), false); // the server opened 3
      const [type, send] = FRAMES[name];
      const e = assertQuicError(() => send(m, 3), STREAM_STATE_ERROR, type);
      assert.match(e.message, /receive-only/);
    }
  });

  it('any stream frame on a locally initiated stream not yet created (§19.4, §19.5, §19.8, §19.10, §19.13)', () => {
    for (const [name, [type, send]] of Object.entries(FRAMES)) {
      const m = map('server');
      assert.equal(m.open('bidirectional'), 1);
      send(m, 1); // opened: fine
      const e = assertQuicError(() => send(m, 5), STREAM_STATE_ERROR, type);
      assert.match(e.message, /not opened/, name);
      if (name === 'STOP_SENDING' || name === 'MAX_STREAM_DATA')
        assertQuicError(() => send(m, 3), STREAM_STATE_ERROR, type); // our uni stream 3, not opened
    }
  });

  it('the permitted counterparts are accepted', () => {
    const m = map('client');
    const uni = m.open('unidirectional') as number;
    m.onMaxStreamData(uni, 5000); // MAX_STREAM_DATA on our send-only stream
    assert.equal(m.get(uni)?.send?.fc.max, 5000);
    m.onStopSending(uni, 4); // STOP_SENDING on our send-only stream
    assert.equal(m.get(uni)?.send?.state, 'reset_sent');
    m.onStreamFrame(3, 0, pattern(2), true); // STREAM on the peer's uni stream
    m.onStreamDataBlocked(7, 0); // and STREAM_DATA_BLOCKED (opens 7)
    m.onResetStream(7, 1, 0); // and RESET_STREAM
    assert.equal(m.get(7)?.recv?.state, 'reset_received');
  });
});

describe('RFC 9000 §3.2, §2.1 peer streams open implicitly, in order', () => {
  it('a frame for a higher-numbered stream opens all lower streams of its type', () => {
    const m = map('server', 8);
    m.onStreamFrame(8, 0, pattern(3), false);
    const opened: number[] = [];
    for (let id = m.accept(); id !== null; id = m.accept()) opened.push(id);
    assert.deepEqual(opened, [0, 4, 8]);
    assert.equal(m.get(0)?.recv?.state, 'receive');
    assert.equal(m.get(4)?.send?.state, 'ready', 'a peer bidi stream has a sending part in Ready');
    assert.equal(m.get(8)?.recv?.bufferedBytes, 3);
    m.onStreamFrame(4, 0, pattern(1), false);
    assert.equal(m.accept(), null, 'a lower stream is not opened twice');
    m.onStreamFrame(6, 0, pattern(1), false); // client uni: 2 and 6
    assert.deepEqual([m.accept(), m.accept(), m.accept()], [2, 6, null]);
  });

  it('MAX_STREAM_DATA and STOP_SENDING open a peer bidirectional stream (§3.2)', () => {
    const m = map('server');
    m.onMaxStreamData(0, 2000);
    assert.equal(m.get(0)?.send?.fc.max, 2000);
    m.onStopSending(4, 3);
    assert.equal(m.get(4)?.send?.state, 'reset_sent');
    assert.deepEqual([m.accept(), m.accept()], [0, 4]);
  });

  it('a peer stream beyond our limit is a STREAM_LIMIT_ERROR for every frame that can open one (§4.6)', () => {
    for (const [name, [type, send]] of Object.entries(FRAMES)) {
      const m = map('server', 4, 2);
      send(m, 12); // bidi index 3: the 4th stream, allowed
      const e = assertQuicError(() => send(m, 16), STREAM_LIMIT_ERROR, type);
      assert.match(e.message, /limit of 4 bidirectional/, name);
      if (name === 'STREAM' || name === 'RESET_STREAM' || name === 'STREAM_DATA_BLOCKED') {
        send(m, 6); // uni index 1
        assertQuicError(() => send(m, 10), STREAM_LIMIT_ERROR, type);
      }
      assert.ok(m.size <= 6, 'never more streams than our limits');
    }
  });

  it('MAX_STREAMS above 2^60 is a FRAME_ENCODING_ERROR; STREAMS_BLOCKED above 2^60 a STREAM_LIMIT_ERROR', () => {
    const m = map('client');
    assertQuicError(
      () => m.onMaxStreams('bidirectional', 2 ** 60 + 4096),
      FRAME_ENCODING_ERROR,
      FrameType.MAX_STREAMS_BIDI,
    );
    m.onMaxStreams('unidirectional', 2 ** 60);
    assertQuicError(
      () => m.onStreamsBlocked('unidirectional', 2 ** 61),
      STREAM_LIMIT_ERROR,
      FrameType.STREAMS_BLOCKED_UNI,
    );
  });
});

describe('RFC 9000 §4.6 local stream limits', () => {
  it("opens up to the peer's limit, then signals STREAMS_BLOCKED once per limit", () => {
    const m = new StreamMap({
      role: 'client',
      local: limits(1000, 10000, 4),
      peer: limits(1000, 10000, 2, 1),
    });
    assert.equal(m.openable('bidirectional'), 2);
    assert.deepEqual([m.open(), m.open(), m.open()], [0, 4, null]);
    assert.deepEqual(m.pollControlFrame(0, 0), {
      type: 'streams_blocked',
      streamType: 'bidirectional',
      limit: 2,
    });
    assert.equal(m.open(), null);
    assert.equal(m.pollControlFrame(0, 0), null, 'once per limit');
    assert.deepEqual([m.open('unidirectional'), m.open('unidirectional')], [2, null]);
    assert.deepEqual(m.pollControlFrame(0, 0), {
      type: 'streams_blocked',
      streamType: 'unidirectional',
      limit: 1,
    });
    m.onMaxStreams('bidirectional', 1); // does not increase: ignored
    assert.equal(m.open(), null);
    m.onMaxStreams('bidirectional', 3);
    assert.equal(m.nextLocalId(), 8);
    assert.equal(m.open(), 8);
  });

  it('a lost STREAMS_BLOCKED is sent again only while still blocked at that limit', () => {
    const m = new StreamMap({ role: 'server', local: limits(10, 10, 1), peer: limits(10, 10, 1) });
    m.open();
    m.open();
    const f = m.pollControlFrame(0, 0);
    assert.equal(f?.type, 'streams_blocked');
    m.onControlLost(f!);
    assert.deepEqual(m.pollControlFrame(0, 0), f);
    m.onMaxStreams('bidirectional', 2);
    m.onControlLost(f!);
    assert.equal(m.pollControlFrame(0, 0), null);
  });

  it("nothing opens before the peer's transport parameters; they then credit existing streams", () => {
    const m = new StreamMap({ role: 'client', local: limits(1000, 10000, 4) });
    assert.equal(m.open(), null);
    m.setPeerLimits(limits(500, 10000, 4));
    const id = m.open() as number;
    assert.equal(m.write(id, pattern(800)), 500);
    m.setPeerLimits(limits(700, 10000, 4)); // e.g. 0-RTT remembered values, then the real ones
    assert.equal(m.get(id)?.send?.fc.max, 700);
  });
});

describe('frames for streams already closed and forgotten are ignored', () => {
  it('peer streams', () => {
    const m = map('server');
    m.onStreamFrame(2, 0, pattern(5), true);
    assert.deepEqual(m.read(2, new Uint8Array(10)), { length: 5, fin: true });
    assert.equal(m.get(2), undefined, 'finished: forgotten');
    m.onStreamFrame(2, 0, pattern(5), true);
    m.onResetStream(2, 0, 5);
    m.onStreamDataBlocked(2, 5);
    assert.equal(m.get(2), undefined, 'not created again');
    assert.equal(m.accept(), 2);
    assert.equal(m.accept(), null);
  });

  it('local streams', () => {
    const m = map('client');
    const id = m.open('unidirectional') as number;
    m.write(id, pattern(3), true);
    const c = m.emit(m.nextSendable()!, 100)!;
    m.onStreamAcked(id, c.offset, c.data.length, c.fin);
    assert.equal(m.get(id), undefined);
    m.onStopSending(id, 1);
    m.onMaxStreamData(id, 1 << 20);
    m.onStreamAcked(id, 0, 3, true);
    m.onStreamLost(id, 0, 3, true);
    assert.equal(m.nextSendable(), null);
    assert.equal(m.pollControlFrame(0, 0), null);
  });
});
