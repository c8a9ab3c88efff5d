import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecvFlowControl } from '../../../core/stream/flow-control.ts';
import { RecvStream } from '../../../core/stream/recv-stream.ts';
import { StreamResetError } from '../../../core/stream/state.ts';
import type { StreamStateUpdate } from '../../../core/stream/state.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { FrameType } from '../../../core/wire/frame-types.ts';
import { assertQuicError, pattern } from './util.ts';

function stream(window = 1 << 20, conn?: RecvFlowControl, maxFragments?: number) {
  const events: StreamStateUpdate[] = [];
  const r = new RecvStream(1, { window, connection: conn, maxFragments, observer: (e) => events.push(e) });
  return { r, states: () => events.map((e) => e.new) };
}

function readAll(r: RecvStream, size = 4096): { bytes: Uint8Array; fin: boolean } {
  const out: number[] = [];
  const buf = new Uint8Array(size);
  let fin = false;
  for (let res = r.read(buf); res !== null; res = r.read(buf)) {
    out.push(...buf.subarray(0, res.length));
    fin ||= res.fin;
  }
  return { bytes: new Uint8Array(out), fin };
}

const { FLOW_CONTROL_ERROR, FINAL_SIZE_ERROR, PROTOCOL_VIOLATION } = TransportError;

describe('RFC 9000 §3.2 receiving stream states', () => {
  it('Recv → Size Known → Data Recvd → Data Read', () => {
    const { r, states } = stream();
    const src = pattern(30);
    r.onData(20, src.subarray(20), true); // FIN first, out of order
    assert.equal(r.state, 'size_known');
    assert.equal(r.finalSize, 30);
    assert.equal(r.read(new Uint8Array(10)), null, 'nothing contiguous yet');
    r.onData(0, src.subarray(0, 20), false);
    assert.equal(r.state, 'data_received');
    const { bytes, fin } = readAll(r, 7);
    assert.deepEqual(bytes, src);
    assert.equal(fin, true);
    assert.equal(r.state, 'data_read');
    assert.equal(r.read(new Uint8Array(10)), null);
    assert.deepEqual(states(), ['receive', 'size_known', 'data_received', 'data_read']);
  });

  it('one STREAM frame with all data and FIN: Recv → Size Known → Data Recvd', () => {
    const { r, states } = stream();
    r.onData(0, pattern(5), true);
    assert.deepEqual(states(), ['receive', 'size_known', 'data_received']);
    assert.deepEqual(r.read(new Uint8Array(5)), { length: 5, fin: true });
  });

  it('an empty stream reports FIN once', () => {
    const { r } = stream();
    r.onData(0, new Uint8Array(0), true);
    assert.equal(r.isReadable, true);
    assert.deepEqual(r.read(new Uint8Array(1)), { length: 0, fin: true });
    assert.equal(r.read(new Uint8Array(1)), null);
    assert.equal(r.state, 'data_read');
  });

  it('Recv → Reset Recvd → Reset Read (the application reads the reset)', () => {
    const { r, states } = stream();
    r.onData(0, pattern(10), false);
    r.onReset(0x99, 50);
    assert.equal(r.state, 'reset_received');
    assert.equal(r.bufferedBytes, 0, 'buffered data is dropped');
    assert.equal(r.isReadable, true);
    assert.throws(
      () => r.read(new Uint8Array(10)),
      (e) => e instanceof StreamResetError && e.errorCode === 0x99,
    );
    assert.equal(r.state, 'reset_read');
    assert.deepEqual(states(), ['receive', 'reset_received', 'reset_read']);
  });

  it('Size Known → Reset Recvd', () => {
    const { r } = stream();
    r.onData(5, pattern(5), true);
    r.onReset(1, 10);
    assert.equal(r.state, 'reset_received');
  });

  it('a RESET_STREAM in Data Recvd is suppressed: the data stays readable (§3.2)', () => {
    const { r } = stream();
    r.onData(0, pattern(8), true);
    r.onReset(1, 8);
    assert.equal(r.state, 'data_received');
    assert.deepEqual(readAll(r).bytes, pattern(8));
  });

  it('data after a reset is discarded; duplicate resets are ignored', () => {
    const { r } = stream();
    r.onReset(1, 20);
    r.onData(0, pattern(20), true);
    r.onReset(1, 20);
    assert.equal(r.bufferedBytes, 0);
    assert.equal(r.state, 'reset_received');
  });
});

describe('RFC 9000 §4.5 stream final size', () => {
  it('a FIN that changes the final size is a FINAL_SIZE_ERROR', () => {
    const { r } = stream();
    r.onData(0, pattern(10), true);
    assertQuicError(() => r.onData(0, pattern(12), true), FINAL_SIZE_ERROR, FrameType.STREAM);
    assertQuicError(() => r.onData(0, pattern(8), true), FINAL_SIZE_ERROR);
    r.onData(0, pattern(10), true); // the same FIN again is fine
  });

  it('data at or beyond the final size is a FINAL_SIZE_ERROR', () => {
    const { r } = stream();
    r.onData(0, pattern(10), true);
    assertQuicError(() => r.onData(10, pattern(1), false), FINAL_SIZE_ERROR);
    assertQuicError(() => r.onData(5, pattern(6), false), FINAL_SIZE_ERROR);
    r.onData(5, pattern(5), false);
  });

  it('a FIN below data already received is a FINAL_SIZE_ERROR', () => {
    const { r } = stream();
    r.onData(50, pattern(10), false);
    assertQuicError(() => r.onData(0, pattern(40), true), FINAL_SIZE_ERROR);
  });

  it('RESET_STREAM must agree with a known final size and cover the data received', () => {
    const a = stream().r;
    a.onData(0, pattern(10), true);
    assertQuicError(() => a.onReset(0, 11), FINAL_SIZE_ERROR, FrameType.RESET_STREAM);
    const b = stream().r;
    b.onData(90, pattern(10), false);
    assertQuicError(() => b.onReset(0, 99), FINAL_SIZE_ERROR, FrameType.RESET_STREAM);
    const c = stream().r;
    c.onReset(0, 30);
    assertQuicError(() => c.onReset(0, 31), FINAL_SIZE_ERROR);
    assertQuicError(() => c.onData(25, pattern(10), false), FINAL_SIZE_ERROR);
    assertQuicError(() => c.onData(0, pattern(20), true), FINAL_SIZE_ERROR);
  });
});

describe('RFC 9000 §4.1 receive flow control', () => {
  it('data beyond the stream limit is a FLOW_CONTROL_ERROR; up to it is fine', () => {
    const { r } = stream(100);
    r.onData(0, pattern(100), false);
    assertQuicError(() => r.onData(100, pattern(1), false), FLOW_CONTROL_ERROR, FrameType.STREAM);
    const { r: r2 } = stream(100);
    assertQuicError(() => r2.onData(95, pattern(10), false), FLOW_CONTROL_ERROR);
  });

  it('RESET_STREAM with a final size beyond the stream limit is a FLOW_CONTROL_ERROR', () => {
    const { r } = stream(100);
    assertQuicError(() => r.onReset(0, 101), FLOW_CONTROL_ERROR, FrameType.RESET_STREAM);
  });

  it('the connection counts the highest offset of each stream, not the bytes received', () => {
    const conn = new RecvFlowControl(1000);
    const a = stream(1000, conn).r,
      b = stream(1000, conn).r;
    a.onData(500, pattern(100), false); // counts 600
    assert.equal(conn.received, 600);
    a.onData(0, pattern(100), false); // below the highest: no change
    assert.equal(conn.received, 600);
    b.onData(0, pattern(400), false);
    assert.equal(conn.received, 1000);
    assertQuicError(() => b.onData(400, pattern(1), false), FLOW_CONTROL_ERROR, FrameType.STREAM);
  });

  it('a RESET_STREAM final size counts toward the connection limit', () => {
    const conn = new RecvFlowControl(1000);
    const a = stream(1000, conn).r,
      b = stream(1000, conn).r;
    a.onData(0, pattern(100), false);
    a.onReset(0, 700); // counts 700
    assert.equal(conn.received, 700);
    assertQuicError(() => b.onReset(0, 301), FLOW_CONTROL_ERROR, FrameType.RESET_STREAM);
  });

  it('a reset releases the unread bytes to the connection window', () => {
    const conn = new RecvFlowControl(1000);
    const { r } = stream(1000, conn);
    r.onData(0, pattern(100), false);
    r.read(new Uint8Array(40));
    assert.equal(conn.consumed, 40);
    r.onReset(0, 300);
    assert.equal(conn.consumed, 300);
    assert.equal(conn.received, 300);
  });

  it('reading releases credit; a MAX_STREAM_DATA is due after half the window (Recv state only)', () => {
    const { r } = stream(1000);
    r.onData(0, pattern(800), false);
    r.read(new Uint8Array(499));
    assert.equal(r.wantsWindowUpdate, false);
    r.read(new Uint8Array(1));
    assert.equal(r.wantsWindowUpdate, true);
    assert.equal(r.fc.update(0, 10), 1500);
    r.onData(800, pattern(10), true);
    r.read(new Uint8Array(300));
    assert.equal(r.wantsWindowUpdate, false, 'no MAX_STREAM_DATA once the final size is known (§3.2)');
  });
});

describe('RFC 9000 §3.5 the application stops reading', () => {
  it('discards buffered and later data but still counts it for flow control', () => {
    const conn = new RecvFlowControl(1000);
    const { r } = stream(200, conn);
    r.onData(0, pattern(50), false);
    assert.equal(r.stopSending(9), true);
    assert.equal(r.pollStopSending(), 9);
    assert.equal(r.pollStopSending(), null);
    assert.equal(r.bufferedBytes, 0);
    assert.equal(conn.consumed, 50, 'discarded bytes are released to the connection');
    r.onData(100, pattern(50), false);
    assert.equal(r.bufferedBytes, 0);
    assert.equal(conn.received, 150);
    assert.equal(conn.consumed, 150);
    assert.equal(r.read(new Uint8Array(10)), null);
    assertQuicError(() => r.onData(150, pattern(51), false), FLOW_CONTROL_ERROR);
  });

  it('a lost STOP_SENDING is resent only in Recv or Size Known', () => {
    const { r } = stream();
    r.stopSending(1);
    r.pollStopSending();
    r.onStopSendingLost();
    assert.equal(r.pollStopSending(), 1);
    r.onReset(1, 0);
    assert.equal(r.state, 'reset_read', 'nobody reads: the reset is consumed at once');
    r.onStopSendingLost();
    assert.equal(r.pollStopSending(), null);
  });

  it('no STOP_SENDING once all data or a reset has arrived', () => {
    const a = stream().r;
    a.onData(0, pattern(3), true);
    assert.equal(a.stopSending(1), false);
    assert.equal(a.state, 'data_read');
    const b = stream().r;
    b.onReset(2, 3);
    assert.equal(b.stopSending(1), false);
    assert.equal(b.state, 'reset_read');
  });
});

describe('RFC 9000 §2.2 reassembly', () => {
  it('readChunk hands out the stored chunks without copying', () => {
    const { r } = stream();
    r.onData(0, pattern(100), false);
    r.onData(100, pattern(50, 100), true);
    const a = r.readChunk(60);
    const b = r.readChunk();
    const c = r.readChunk();
    assert.deepEqual([a?.offset, a?.data.length, a?.fin], [0, 60, false]);
    assert.equal(a?.data.buffer, b?.data.buffer, 'both views of the first stored chunk');
    assert.deepEqual([b?.offset, b?.data.length], [60, 40]);
    assert.deepEqual([c?.offset, c?.data.length, c?.fin], [100, 50, true]);
    assert.equal(r.state, 'data_read');
  });

  it('10 MB in 1200-byte frames with reordering is linear: each byte copied once in, once out', () => {
    const total = 10 * 1024 * 1024,
      frame = 1200;
    const src = pattern(total, 3);
    const offsets: number[] = [];
    for (let off = 0; off < total; off += frame) offsets.push(off);
    // Every 50th frame arrives 20 frames late.
    for (let i = 0; i + 20 < offsets.length; i += 50) offsets.splice(i + 20, 0, ...offsets.splice(i, 1));
    const { r } = stream(1 << 20);
    const out = new Uint8Array(64 * 1024);
    const proto = Uint8Array.prototype;
    const origSet = proto.set,
      origSlice = proto.slice;
    let moved = 0;
    proto.set = function (this: Uint8Array, arr: ArrayLike<number>, offset?: number) {
      moved += arr.length;
      return origSet.call(this, arr, offset);
    };
    proto.slice = function (this: Uint8Array, start?: number, end?: number) {
      const res = origSlice.call(this, start, end);
      moved += res.length;
      return res;
    };
    let read = 0,
      check = 0,
      maxFragments = 0;
    try {
      for (const off of offsets) {
        const end = Math.min(total, off + frame);
        r.onData(off, src.subarray(off, end), end === total);
        maxFragments = Math.max(maxFragments, r.fragments);
        for (let res = r.read(out); res !== null; res = r.read(out)) {
          check = (check + out[0] + out[res.length - 1]) | 0;
          read += res.length;
        }
        if (r.wantsWindowUpdate) r.fc.update(0, 0);
      }
    } finally {
      proto.set = origSet;
      proto.slice = origSlice;
    }
    assert.equal(read, total);
    assert.equal(r.state, 'data_read');
    assert.ok(moved <= 2 * total, `${moved} bytes moved for ${total} received`);
    assert.ok(maxFragments <= 25, `${maxFragments} fragments held at most`);
    assert.notEqual(check, 0);
  });

  it('too many out-of-order fragments is a PROTOCOL_VIOLATION (§21.7)', () => {
    const { r } = stream(1 << 20, undefined, 16);
    for (let i = 0; i < 16; i++) r.onData(2 * i + 1, pattern(1), false);
    assertQuicError(() => r.onData(100, pattern(1), false), PROTOCOL_VIOLATION, FrameType.STREAM);
  });

  it('property: shuffled, duplicated and overlapping frames give back the exact bytes, each stored once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 700 }),
        (size, cuts, extras, order, readSize) => {
          const src = pattern(size, 7);
          // A cover of [0, size) by consecutive frames, plus overlapping and duplicate frames.
          const frames: [number, number][] = [];
          for (let off = 0, i = 0; off < size || frames.length === 0; i++) {
            const end = Math.min(size, off + cuts[i % cuts.length]);
            frames.push([off, end]);
            off = end;
            if (size === 0) break;
          }
          for (const [a, b] of extras) {
            const lo = size === 0 ? 0 : a % size;
            frames.push([lo, Math.min(size, lo + (b % 400))]);
          }
          for (let i = 0; i < order.length; i++) {
            const j = order[i] % frames.length;
            [frames[i % frames.length], frames[j]] = [frames[j], frames[i % frames.length]];
          }
          const { r } = stream(1 << 20);
          const out: number[] = [];
          const buf = new Uint8Array(readSize);
          let fin = false;
          for (const [a, b] of frames) {
            r.onData(a, src.slice(a, b), b === size);
            for (let res = r.read(buf); res !== null; res = r.read(buf)) {
              out.push(...buf.subarray(0, res.length));
              fin ||= res.fin;
            }
          }
          assert.deepEqual(new Uint8Array(out), src);
          assert.equal(fin, true);
          assert.equal(r.state, 'data_read');
          assert.equal(r.stats.received, size, 'no byte stored twice');
          assert.equal(r.stats.read, size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: buffered bytes never exceed the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 500 }), fc.nat(600)), { maxLength: 80 }),
        (window, ops) => {
          const conn = new RecvFlowControl(1 << 30);
          const { r } = stream(window, conn);
          const buf = new Uint8Array(600);
          let now = 0;
          for (const [at, len, readLen] of ops) {
            // Only frames within the advertised limit: anything else is a FLOW_CONTROL_ERROR.
            const off = r.readOffset + (at % Math.max(1, r.fc.max - r.readOffset));
            const n = Math.min(len, r.fc.max - off);
            r.onData(off, pattern(n, off), false);
            assert.ok(r.bufferedBytes <= r.fc.max - r.readOffset);
            assert.ok(r.bufferedBytes <= r.fc.window, `${r.bufferedBytes} > window ${r.fc.window}`);
            r.read(buf.subarray(0, readLen));
            if (r.wantsWindowUpdate) r.fc.update((now += 100), 10);
          }
          assert.equal(conn.received - conn.consumed, r.highestOffset - r.readOffset);
        },
      ),
      { numRuns: 300 },
    );
  });
});
