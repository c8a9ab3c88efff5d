import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SendFlowControl } from '../../../core/stream/flow-control.ts';
import { MAX_SEND_ACK_RANGES, SendStream } from '../../../core/stream/send-stream.ts';
import type { SendChunk } from '../../../core/stream/send-stream.ts';
import { StreamStoppedError } from '../../../core/stream/state.ts';
import type { StreamStateUpdate } from '../../../core/stream/state.ts';
import { pattern } from './util.ts';

function stream(maxStreamData = 1 << 30, opts: { bufferLimit?: number; conn?: SendFlowControl } = {}) {
  const events: StreamStateUpdate[] = [];
  const s = new SendStream(4, {
    maxStreamData,
    bufferLimit: opts.bufferLimit,
    connection: opts.conn,
    observer: (e) => events.push(e),
  });
  const states = () => events.map((e) => e.new);
  return { s, events, states };
}

describe('RFC 9000 §3.1 sending stream states', () => {
  it('Ready → Send → Data Sent → Data Recvd', () => {
    const { s, states } = stream();
    assert.equal(s.state, 'ready');
    assert.equal(s.write(pattern(100)), 100);
    assert.equal(s.state, 'ready', 'buffering data does not leave Ready');
    const a = s.emit(60) as SendChunk;
    assert.deepEqual([a.offset, a.data.length, a.fin], [0, 60, false]);
    assert.equal(s.state, 'send');
    s.finish();
    const b = s.emit(1000) as SendChunk;
    assert.deepEqual([b.offset, b.data.length, b.fin], [60, 40, true]);
    assert.equal(s.state, 'data_sent');
    assert.equal(s.emit(1000), null);
    s.onAck(60, 40, true);
    assert.equal(s.state, 'data_sent', 'not all data is acknowledged yet');
    s.onAck(0, 60, false);
    assert.equal(s.state, 'data_received');
    assert.deepEqual(states(), ['ready', 'send', 'data_sent', 'data_received']);
    assert.equal(s.bufferedBytes, 0);
    assert.equal(s.chunkCount, 0);
  });

  it('one STREAM frame with FIN goes Ready → Send → Data Sent (§3 note)', () => {
    const { s, states } = stream();
    s.write(pattern(10), true);
    const c = s.emit(100) as SendChunk;
    assert.equal(c.fin, true);
    assert.deepEqual(states(), ['ready', 'send', 'data_sent']);
  });

  it('an empty stream sends a lone FIN at offset 0', () => {
    const { s } = stream();
    s.finish();
    const c = s.emit(0) as SendChunk;
    assert.deepEqual([c.offset, c.data.length, c.fin], [0, 0, true]);
    s.onAck(0, 0, true);
    assert.equal(s.state, 'data_received');
  });

  it('Ready → Reset Sent → Reset Recvd, final size 0', () => {
    const { s, events } = stream();
    s.write(pattern(10));
    assert.equal(s.reset(7), true);
    assert.equal(s.state, 'reset_sent');
    assert.deepEqual(s.pollReset(), { errorCode: 7, finalSize: 0 });
    assert.equal(s.pollReset(), null);
    assert.equal(s.emit(100), null, 'no STREAM after RESET_STREAM (§3.3)');
    s.onResetAcked();
    assert.equal(s.state, 'reset_received');
    assert.equal(events.at(-2)?.trigger, 'local');
  });

  it('Send → Reset Sent: the final size is the largest offset sent, not written (§4.5)', () => {
    const { s } = stream();
    s.write(pattern(100));
    s.emit(30);
    s.emit(10);
    s.onLost(0, 30, false); // lost data does not lower the final size
    assert.equal(s.reset(1), true);
    assert.deepEqual(s.pollReset(), { errorCode: 1, finalSize: 40 });
    assert.equal(s.bufferedBytes, 0, 'the buffer is freed');
    assert.equal(s.chunkCount, 0);
  });

  it("Data Sent → Reset Sent on STOP_SENDING, with the peer's code (§3.5)", () => {
    const { s, events } = stream();
    s.write(pattern(10), true);
    s.emit(100);
    assert.equal(s.onStopSending(0x42), true);
    assert.equal(s.state, 'reset_sent');
    assert.equal(events.at(-1)?.trigger, 'remote');
    assert.deepEqual(s.pollReset(), { errorCode: 0x42, finalSize: 10 });
    assert.throws(
      () => s.write(pattern(1)),
      (e) => e instanceof StreamStoppedError && e.errorCode === 0x42 && e.byPeer,
    );
  });

  it('a lost RESET_STREAM is sent again until acknowledged', () => {
    const { s } = stream();
    s.reset(3);
    s.pollReset();
    s.onResetLost();
    assert.deepEqual(s.pollReset(), { errorCode: 3, finalSize: 0 });
    s.onResetAcked();
    s.onResetLost();
    assert.equal(s.pollReset(), null);
  });

  it('terminal states ignore reset and STOP_SENDING', () => {
    const { s } = stream();
    s.write(pattern(5), true);
    s.emit(10);
    s.onAck(0, 5, true);
    assert.equal(s.state, 'data_received');
    assert.equal(s.reset(1), false);
    assert.equal(s.onStopSending(1), false);
    assert.equal(s.state, 'data_received');
  });

  it('Ready → Send by STREAM_DATA_BLOCKED, sent once per limit (§3.1, §19.13)', () => {
    const { s } = stream(100);
    assert.equal(s.write(pattern(150)), 100, "bounded by the peer's stream credit");
    assert.equal(s.pollBlocked(), 100);
    assert.equal(s.state, 'send');
    assert.equal(s.write(pattern(5)), 0);
    assert.equal(s.pollBlocked(), null, 'already signalled at this limit');
    assert.equal(s.onMaxStreamData(90), false, 'smaller limits are ignored');
    assert.equal(s.onMaxStreamData(200), true);
    assert.equal(s.capacity(), 100);
    assert.equal(s.write(pattern(150)), 100);
    assert.equal(s.pollBlocked(), 200);
  });

  it('write is bounded by the local buffer cap; acknowledgments make room', () => {
    const { s } = stream(1 << 20, { bufferLimit: 1000 });
    assert.equal(s.write(pattern(1500)), 1000);
    assert.equal(s.pollBlocked(), null, 'a full local buffer is not flow control blocking');
    s.emit(600);
    assert.equal(s.capacity(), 0);
    s.onAck(0, 600, false);
    assert.equal(s.capacity(), 600);
  });

  it('FIN is only taken with the last byte of the write', () => {
    const { s } = stream(10);
    assert.equal(s.write(pattern(20), true), 10);
    assert.equal(s.capacity(), 0);
    const c = s.emit(100) as SendChunk;
    assert.equal(c.fin, false);
    s.onMaxStreamData(20);
    assert.equal(s.write(pattern(10), true), 10);
    assert.equal((s.emit(100) as SendChunk).fin, true);
    assert.throws(() => s.write(pattern(1)), RangeError);
  });
});

describe('RFC 9000 §13.3 retransmission of stream data', () => {
  it('lost ranges go first, only their unacknowledged parts, then new data', () => {
    const { s } = stream();
    const src = pattern(100);
    s.write(src);
    s.emit(50); // [0, 50)
    s.onAck(10, 20, false); // [10, 30) acked
    s.onLost(0, 50, false); // resend [0, 10) and [30, 50)
    const a = s.emit(100) as SendChunk;
    assert.deepEqual([a.offset, a.data.length, a.retransmit], [0, 10, true]);
    const b = s.emit(15) as SendChunk;
    assert.deepEqual([b.offset, b.data.length], [30, 15]);
    const c = s.emit(100) as SendChunk;
    assert.deepEqual([c.offset, c.data.length], [45, 5]);
    const d = s.emit(100) as SendChunk;
    assert.deepEqual([d.offset, d.data.length, d.retransmit], [50, 50, false]);
    for (const x of [a, b, c, d]) assert.deepEqual(x.data, src.subarray(x.offset, x.offset + x.data.length));
    assert.equal(s.stats.retransmitted, 30);
  });

  it('a FIN-only frame is resent when lost, and a retransmission ending at the final size carries FIN', () => {
    const { s } = stream();
    s.write(pattern(10));
    s.emit(100);
    s.finish();
    const fin = s.emit(100) as SendChunk;
    assert.deepEqual([fin.offset, fin.data.length, fin.fin], [10, 0, true]);
    s.onLost(10, 0, true);
    const again = s.emit(100) as SendChunk;
    assert.deepEqual([again.offset, again.data.length, again.fin, again.retransmit], [10, 0, true, true]);
    s.onLost(0, 10, false);
    s.onLost(10, 0, true);
    const both = s.emit(100) as SendChunk;
    assert.deepEqual([both.offset, both.data.length, both.fin], [0, 10, true]);
    assert.equal(s.emit(100), null, 'the FIN went with the data');
  });

  it('a spurious loss followed by the acknowledgment sends nothing again', () => {
    const { s } = stream();
    s.write(pattern(10), true);
    s.emit(100);
    s.onLost(0, 10, true);
    s.onAck(0, 10, true);
    assert.equal(s.emit(100), null);
    assert.equal(s.state, 'data_received');
  });

  it('acknowledged ranges are a bounded set: the excess is forgotten and resent, never lost', () => {
    const { s } = stream();
    const n = MAX_SEND_ACK_RANGES + 10;
    s.write(pattern(2 * n), true);
    for (let i = 0; i < 2 * n; i++) s.emit(1);
    for (let i = 1; i < 2 * n; i += 2) s.onAck(i, 1, i === 2 * n - 1); // every other byte: n holes
    // Holes [0], [2], ... are lost; everything still converges.
    for (let i = 0; i < 2 * n; i += 2) s.onLost(i, 1, false);
    for (let c = s.emit(1000); c !== null; c = s.emit(1000)) s.onAck(c.offset, c.data.length, c.fin);
    assert.equal(s.state, 'data_received');
    assert.equal(s.stats.acknowledged, 2 * n);
  });
});

describe('RFC 9000 §4.1 connection credit on the send side', () => {
  it('new data waits for connection credit; retransmissions do not need it', () => {
    const conn = new SendFlowControl(30);
    const { s } = stream(1000, { conn });
    s.write(pattern(100));
    const a = s.emit(100) as SendChunk;
    assert.equal(a.data.length, 30);
    assert.equal(s.emit(100), null);
    assert.equal(conn.pollBlocked(), 30, 'DATA_BLOCKED is due');
    assert.equal(s.nextOffset(), -1);
    s.onLost(0, 30, false);
    assert.equal(s.nextOffset(), 0);
    assert.equal((s.emit(100) as SendChunk).data.length, 30);
    conn.onMax(100);
    assert.equal((s.emit(100) as SendChunk).data.length, 70);
    assert.equal(conn.used, 100);
  });
});

describe('send buffer: chunks, no whole-buffer copies', () => {
  it("emits subarrays of the caller's arrays (writeOwned), copying only ranges that span two", () => {
    const { s } = stream();
    const a = pattern(1000, 1),
      b = pattern(1000, 2);
    s.writeOwned(a);
    s.writeOwned(b);
    const c1 = s.emit(600) as SendChunk;
    assert.equal(c1.data.buffer, a.buffer, 'no copy inside one chunk');
    const c2 = s.emit(600) as SendChunk; // [600, 1200) spans a and b
    assert.notEqual(c2.data.buffer, a.buffer);
    assert.deepEqual(c2.data, new Uint8Array([...a.subarray(600), ...b.subarray(0, 200)]));
    assert.equal(s.stats.copied, 600);
    const out = new Uint8Array(610);
    s.copyRange(590, 600, out, 10);
    assert.deepEqual(out.subarray(10), new Uint8Array([...a.subarray(590), ...b.subarray(0, 190)]));
  });

  it('small writes are copied once and coalesce into blocks', () => {
    const { s } = stream();
    const src = pattern(5000);
    for (let i = 0; i < 5000; i += 10) s.write(src.subarray(i, i + 10));
    assert.ok(s.chunkCount <= 4, `${s.chunkCount} chunks for 500 writes`);
    assert.equal(s.stats.copied, 5000);
    const got: number[] = [];
    for (let c = s.emit(700); c !== null; c = s.emit(700)) got.push(...c.data);
    assert.deepEqual(new Uint8Array(got), src);
  });

  it('emit() of 10 MB in 1200-byte pieces is linear: bytes moved stay O(n)', () => {
    const total = 10 * 1024 * 1024;
    const piece = 64 * 1024;
    const src = pattern(total);
    const { s } = stream(total, { bufferLimit: total });
    for (let off = 0; off < total; off += piece)
      assert.equal(s.writeOwned(src.subarray(off, off + piece)), piece);
    // Count every byte moved by typed-array copies while emitting and acknowledging.
    const proto = Uint8Array.prototype;
    const origSet = proto.set,
      origSlice = proto.slice;
    let moved = 0,
      copies = 0;
    proto.set = function (this: Uint8Array, arr: ArrayLike<number>, offset?: number) {
      moved += arr.length;
      copies++;
      return origSet.call(this, arr, offset);
    };
    proto.slice = function (this: Uint8Array, start?: number, end?: number) {
      const r = origSlice.call(this, start, end);
      moved += r.length;
      copies++;
      return r;
    };
    let frames = 0;
    let checksum = 0;
    try {
      for (let c = s.emit(1200); c !== null; c = s.emit(1200)) {
        frames++;
        checksum = (checksum + c.data[0] + c.data[c.data.length - 1]) | 0;
        s.onAck(c.offset, c.data.length, c.fin);
      }
    } finally {
      proto.set = origSet;
      proto.slice = origSlice;
    }
    assert.equal(frames, Math.ceil(total / 1200));
    assert.equal(s.stats.sent, total);
    assert.equal(s.stats.acknowledged, total);
    const boundaries = total / piece;
    // At most one spanning frame per chunk boundary, copied in two pieces.
    assert.ok(copies <= 2 * boundaries, `${copies} copies for ${boundaries} chunk boundaries`);
    assert.ok(moved <= boundaries * 1200, `${moved} bytes moved while emitting ${total}`);
    assert.equal(s.bufferedBytes, 0);
    assert.equal(s.chunkCount, 0, 'acknowledged chunks are freed');
    assert.notEqual(checksum, 0);
  });
});

interface Flight {
  offset: number;
  length: number;
  fin: boolean;
}

describe('property: write, emit, lose, re-emit and acknowledge in any order', () => {
  it('every byte is acknowledged exactly once and the stream reaches Data Recvd', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 1, max: 900 })), {
          maxLength: 300,
        }),
        (size, writes, ops) => {
          const src = pattern(size, size);
          const { s } = stream(1 << 30, { bufferLimit: 1 << 20 });
          let w = 0,
            wi = 0;
          const flight: Flight[] = [];
          const ackedBytes = new Uint8Array(size);
          const check = (c: SendChunk) => {
            assert.deepEqual(c.data, src.subarray(c.offset, c.offset + c.data.length));
            if (c.fin) assert.equal(c.offset + c.data.length, size);
            flight.push({ offset: c.offset, length: c.data.length, fin: c.fin });
          };
          const ack = (f: Flight) => {
            s.onAck(f.offset, f.length, f.fin);
            for (let i = f.offset; i < f.offset + f.length; i++) ackedBytes[i] = 1;
            // The acknowledged prefix never runs ahead of what was really acknowledged.
            for (let i = 0; i < s.ackedOffset; i++) assert.equal(ackedBytes[i], 1);
          };
          for (const [kind, pick, len] of ops) {
            if (kind === 0 && w < size) {
              const n = Math.min(writes[wi++ % writes.length], size - w);
              assert.equal(s.write(src.subarray(w, w + n), w + n === size), n);
              w += n;
            } else if (kind === 1) {
              const c = s.emit(len);
              if (c) check(c);
            } else if (flight.length > 0) {
              const [f] = flight.splice(pick % flight.length, 1);
              if (kind === 2) ack(f);
              else s.onLost(f.offset, f.length, f.fin);
            }
          }
          // Drain: finish writing, then emit and acknowledge everything.
          if (w < size) s.write(src.subarray(w), true);
          else if (!s.hasNewData() && s.writtenOffset === size) {
            try {
              s.finish();
            } catch {
              // FIN already written
            }
          }
          for (const f of flight.splice(0)) s.onLost(f.offset, f.length, f.fin);
          for (let c = s.emit(1000); c !== null; c = s.emit(1000)) {
            check(c);
            ack(flight.pop() as Flight);
          }
          assert.equal(s.state, 'data_received');
          assert.equal(s.stats.acknowledged, size, 'each byte counted once');
          assert.equal(s.stats.sent, size);
          assert.equal(s.bufferedBytes, 0);
          assert.ok(ackedBytes.every((b) => b === 1));
        },
      ),
      { numRuns: 200 },
    );
  });
});
