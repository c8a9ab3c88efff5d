// The request-stream frame state machine of core/h3 driven by byte chunks (no QUIC underneath):
// frame headers read exactly, DATA payload moved straight into the caller's buffer, Table 1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Writer, concatBytes } from '../../../core/wire/buffer.ts';
import { H3Error, H3ErrorCode } from '../../../core/h3/errors.ts';
import { H3FrameType, reservedCodepoint, writeFrameHeader } from '../../../core/h3/frames.ts';
import { Outbox } from '../../../core/h3/outbox.ts';
import { Pull, RequestStreamReader, VarintReader } from '../../../core/h3/stream-reader.ts';
import type { ReaderItem } from '../../../core/h3/stream-reader.ts';
import { QpackDecoder } from '../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../core/h3/qpack/decoder.ts';
import { QpackEncoder } from '../../../core/h3/qpack/encoder.ts';
import { MessageState } from '../../../core/h3/stream-state.ts';

const isH3 =
  (code: number, scope: 'connection' | 'stream' = 'connection') =>
  (e: unknown) =>
    e instanceof H3Error && e.code === code && e.scope === scope;

/** A stream's bytes arriving in pieces; reads never go past what arrived, and never past the FIN. */
class Chunks {
  private arrived = 0;
  read = 0;
  private ended = false;
  private finDelivered = false;
  /** The buffers reads were made into. */
  readonly targets = new Set<ArrayBufferLike>();

  constructor(private readonly data: Uint8Array) {}

  arrive(n: number): void {
    this.arrived = Math.min(this.data.length, this.arrived + n);
  }

  end(): void {
    this.arrived = this.data.length;
    this.ended = true;
  }

  readonly src = (out: Uint8Array): { length: number; fin: boolean } | null => {
    if (this.finDelivered) throw new Error('read after the FIN');
    this.targets.add(out.buffer);
    const n = Math.min(out.length, this.arrived - this.read);
    out.set(this.data.subarray(this.read, this.read + n));
    this.read += n;
    const fin = this.ended && this.read === this.data.length;
    if (fin) this.finDelivered = true;
    return n === 0 && !fin ? null : { length: n, fin };
  };
}

function frame(type: number, payload: Uint8Array): Uint8Array {
  const w = new Writer(new Uint8Array(payload.length + 16));
  writeFrameHeader(w, type, payload.length);
  w.bytes(payload);
  return w.written().slice();
}

const bytes = (...b: number[]) => Uint8Array.from(b);

function headersFrameOf(headers: FieldLine[]): Uint8Array {
  return frame(H3FrameType.HEADERS, new QpackEncoder().encodeFieldSection(0, headers).fieldSection);
}

function reader(src: Chunks, isClient = false, maxHeadersLength = 1024): RequestStreamReader {
  return new RequestStreamReader(src.src, { isClient, maxHeadersLength, scratch: new Uint8Array(7) });
}

type Seen = { type: string; value: string };

/** Drives a reader over `stream` arriving in `pieces`; returns what it reported, DATA joined per frame. */
function drive(stream: Uint8Array, pieces: number[]): Seen[] {
  const c = new Chunks(stream);
  const r = reader(c);
  const seen: Seen[] = [];
  const out = new Uint8Array(5);
  let data: number[] | null = null;
  const collect = (item: ReaderItem): void => {
    if (item.type === 'data') {
      data = [];
      if (item.length === 0) seen.push({ type: 'data', value: '' });
    } else if (item.type === 'headers')
      seen.push({ type: 'headers', value: Buffer.from(item.fieldSection).toString('hex') });
    else if (item.type === 'unknown')
      seen.push({ type: 'unknown', value: `${item.frameType}/${item.length}` });
    else seen.push({ type: 'end', value: '' });
  };
  const pump = (): void => {
    for (;;) {
      if (r.dataRemaining > 0) {
        const n = r.readData(out);
        if (n === 0) return;
        data?.push(...out.subarray(0, n));
        if (r.dataRemaining === 0 && data !== null) {
          seen.push({ type: 'data', value: Buffer.from(data).toString('hex') });
          data = null;
        }
        continue;
      }
      const item = r.next();
      if (item === null) return;
      collect(item);
    }
  };
  for (const p of pieces) {
    c.arrive(p);
    pump();
  }
  c.end();
  pump();
  return seen;
}

const FRAMES = [
  frame(H3FrameType.HEADERS, bytes(0, 0, 0xd1, 0xd7)),
  frame(reservedCodepoint(3), bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
  frame(
    H3FrameType.DATA,
    Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  ),
  frame(H3FrameType.DATA, new Uint8Array(0)),
  frame(0x2f, new Uint8Array(0)),
  frame(H3FrameType.DATA, bytes(0xaa, 0xbb)),
  frame(H3FrameType.HEADERS, bytes(0, 0, 0x5f, 0x1d)),
];
const STREAM = concatBytes(...FRAMES);
/** Offsets where a frame ends. */
const FRAME_ENDS = FRAMES.map((_, i) => FRAMES.slice(0, i + 1).reduce((n, f) => n + f.length, 0));

describe('RFC 9114 §7.1 request stream frames read incrementally', () => {
  it('reports HEADERS, skips unknown and reserved frames, hands DATA over, then the end', () => {
    const seen = drive(STREAM, [STREAM.length]);
    assert.deepEqual(
      seen.map((s) => s.type),
      ['headers', 'unknown', 'data', 'data', 'unknown', 'data', 'headers', 'end'],
    );
    assert.equal(seen[0].value, '0000d1d7');
    assert.equal(seen[1].value, `${reservedCodepoint(3)}/12`);
    assert.equal(seen[2].value.length, 600);
    assert.equal(seen[5].value, 'aabb');
  });

  it('property: any split of the bytes into arrivals gives the same result', () => {
    const whole = drive(STREAM, [STREAM.length]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }), (pieces) => {
        assert.deepEqual(drive(STREAM, pieces), whole);
      }),
    );
  });

  it('one byte at a time, and the reader never consumes a byte past the item it reports', () => {
    assert.deepEqual(drive(STREAM, Array(STREAM.length).fill(1)), drive(STREAM, [STREAM.length]));
    const c = new Chunks(STREAM);
    c.end();
    const r = reader(c);
    assert.equal(r.next()?.type, 'headers');
    assert.equal(c.read, 6); // exactly the HEADERS frame
    assert.equal(r.next()?.type, 'unknown');
    assert.equal(r.next()?.type, 'data');
    assert.equal(c.read, FRAME_ENDS[1] + 3); // the DATA header, not one payload byte
    assert.equal(r.next(), null); // the payload is for readData
  });

  it('a stream that ends inside a frame is H3_FRAME_ERROR; at a frame boundary it is the end', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const c = new Chunks(STREAM.subarray(0, cut));
      c.end();
      const r = reader(c);
      const run = () => {
        for (let item = r.next(); ; item = r.next()) {
          if (item === null) {
            if (r.dataRemaining > 0 && r.readData(new Uint8Array(1000)) > 0) continue;
            return 'stalled';
          }
          if (item.type === 'end') return 'end';
        }
      };
      if (cut === 0 || FRAME_ENDS.includes(cut)) assert.equal(run(), 'end', `cut ${cut}`);
      else assert.throws(run, isH3(H3ErrorCode.H3_FRAME_ERROR), `cut ${cut}`);
    }
  });
});

describe('bad input from a peer is always a typed H3Error', () => {
  /** Runs reader, QPACK decoder and message state over `data` arriving in `pieces`. */
  const consume = (data: Uint8Array, pieces: number[]): void => {
    const c = new Chunks(data);
    const r = reader(c, false, 256);
    const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0, maxFieldSectionSize: 256 });
    const msg = new MessageState(true);
    const out = new Uint8Array(17);
    const pump = (): void => {
      for (;;) {
        if (r.dataRemaining > 0) {
          if (r.readData(out) === 0) return;
          continue;
        }
        const item = r.next();
        if (item === null || item.type === 'end') {
          if (item?.type === 'end') msg.onEnd();
          return;
        }
        if (item.type === 'data') msg.onData(item.length);
        else if (item.type === 'headers') {
          const d = decoder.decodeFieldSection(0, item.fieldSection);
          if ('headers' in d) msg.onHeaders(d.headers);
        }
      }
    };
    for (const n of pieces) {
      c.arrive(n);
      pump();
    }
    c.end();
    pump();
  };
  const typed = (data: Uint8Array, pieces: number[]): void => {
    try {
      consume(data, pieces);
    } catch (e) {
      assert.ok(e instanceof H3Error, `untyped ${String(e)}`);
    }
  };

  it('property: random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 30 })), typed),
      { numRuns: 500 },
    );
  });

  it('property: a valid request with bytes flipped', () => {
    const valid = concatBytes(
      headersFrameOf([
        [':method', 'POST'],
        [':scheme', 'https'],
        [':authority', 'a.example'],
        [':path', '/p'],
        ['content-length', '4'],
      ]),
      frame(H3FrameType.DATA, bytes(1, 2, 3, 4)),
      headersFrameOf([['x-t', '1']]),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.integer({ min: 1, max: 30 })),
        (flips, pieces) => {
          const data = valid.slice();
          for (const [at, v] of flips) data[at] = v;
          typed(data, pieces);
        },
      ),
      { numRuns: 500 },
    );
    consume(valid, [valid.length]); // unmodified, it is a valid request
  });
});

describe('RFC 9114 Table 1 and §7.2: frames a request stream may not carry', () => {
  const first = (stream: Uint8Array, isClient = false) => {
    const c = new Chunks(stream);
    c.end();
    return reader(c, isClient).next();
  };

  it('SETTINGS, CANCEL_PUSH, GOAWAY, MAX_PUSH_ID: H3_FRAME_UNEXPECTED', () => {
    for (const type of [
      H3FrameType.SETTINGS,
      H3FrameType.CANCEL_PUSH,
      H3FrameType.GOAWAY,
      H3FrameType.MAX_PUSH_ID,
    ])
      assert.throws(() => first(frame(type, bytes(0))), isH3(H3ErrorCode.H3_FRAME_UNEXPECTED));
  });

  it('§7.2.8 HTTP/2 frame types: H3_FRAME_UNEXPECTED', () => {
    for (const type of [0x02, 0x06, 0x08, 0x09])
      assert.throws(() => first(frame(type, bytes(0))), isH3(H3ErrorCode.H3_FRAME_UNEXPECTED));
  });

  it('§7.2.5 PUSH_PROMISE: H3_FRAME_UNEXPECTED at a server, H3_ID_ERROR at a client that sent no MAX_PUSH_ID', () => {
    const pp = frame(H3FrameType.PUSH_PROMISE, bytes(0, 0, 0));
    assert.throws(() => first(pp, false), isH3(H3ErrorCode.H3_FRAME_UNEXPECTED));
    assert.throws(() => first(pp, true), isH3(H3ErrorCode.H3_ID_ERROR));
  });

  it('§4.2.2 a HEADERS frame over the limit is a stream error H3_EXCESSIVE_LOAD, before it is buffered', () => {
    const c = new Chunks(frame(H3FrameType.HEADERS, new Uint8Array(1025)));
    c.arrive(3); // only the frame header
    assert.throws(() => reader(c).next(), isH3(H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream'));
    const ok = new Chunks(frame(H3FrameType.HEADERS, new Uint8Array(1024)));
    ok.end();
    assert.equal(reader(ok).next()?.type, 'headers');
  });
});

describe('RFC 9114 §7.2.1 DATA payload goes straight to the caller (O(n), bounded memory)', () => {
  it('a 100 MiB DATA frame flows through a 64 KiB buffer, read in place', () => {
    const total = 100 * 1024 * 1024;
    const piece = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
    const header = frame(H3FrameType.DATA, new Uint8Array(0)).subarray(0, 1); // type byte
    const lengthVarint = new Writer(new Uint8Array(8)).varint(total).written();
    // A source that produces the stream on demand: type, length, then the payload pattern.
    const prefix = concatBytes(header, lengthVarint);
    let offset = 0;
    const targets = new Set<ArrayBufferLike>();
    let calls = 0;
    const src = (out: Uint8Array) => {
      calls++;
      targets.add(out.buffer);
      const end = prefix.length + total;
      if (offset >= end) return { length: 0, fin: true };
      let n = 0;
      while (n < out.length && offset < end) {
        if (offset < prefix.length) out[n++] = prefix[offset++];
        else {
          const at = (offset - prefix.length) % piece.length;
          const k = Math.min(out.length - n, piece.length - at, end - offset);
          out.set(piece.subarray(at, at + k), n);
          n += k;
          offset += k;
        }
      }
      return { length: n, fin: offset === end };
    };
    const r = new RequestStreamReader(src, {
      isClient: true,
      maxHeadersLength: 1024,
      scratch: new Uint8Array(16),
    });
    const item = r.next();
    assert.deepEqual(item, { type: 'data', length: total });
    const headerCalls = calls;
    const out = new Uint8Array(64 * 1024);
    let got = 0;
    let sum = 0;
    for (let n = r.readData(out); n > 0; n = r.readData(out)) {
      got += n;
      sum = (sum + out[0] + out[n - 1]) % 65521;
    }
    assert.equal(got, total);
    assert.equal(r.next()?.type, 'end');
    // Every payload read landed in the caller's buffer: one call per 64 KiB, nothing staged.
    assert.equal(calls - headerCalls, total / out.length);
    assert.ok(targets.has(out.buffer));
    assert.ok(sum > 0);
  });

  it('readData never reads past the frame: the next frame header stays in QUIC', () => {
    const s = concatBytes(frame(H3FrameType.DATA, bytes(1, 2, 3)), frame(H3FrameType.DATA, bytes(4)));
    const c = new Chunks(s);
    c.end();
    const r = reader(c);
    r.next();
    const out = new Uint8Array(100);
    assert.equal(r.readData(out), 3);
    assert.equal(c.read, 5);
    assert.deepEqual(r.next(), { type: 'data', length: 1 });
    assert.equal(r.readData(out), 1);
    assert.equal(out[0], 4);
    assert.equal(r.next()?.type, 'end');
    assert.equal(r.next(), null);
  });
});

describe('RFC 9000 §16 varints read exactly', () => {
  it('1, 2, 4 and 8-byte varints, a byte at a time, no byte beyond', () => {
    for (const v of [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 53 - 1]) {
      const enc = new Writer(new Uint8Array(8)).varint(v).written().slice();
      const c = new Chunks(concatBytes(enc, bytes(0xff)));
      const pull = new Pull(c.src);
      const vr = new VarintReader();
      let got = -1;
      for (let i = 0; i <= enc.length && got < 0; i++) {
        got = vr.read(pull);
        if (got < 0) c.arrive(1);
      }
      assert.equal(got, v);
      assert.equal(c.read, enc.length);
    }
  });
});

describe('Outbox: committed bytes QUIC has not accepted yet', () => {
  it('keeps what QUIC refuses, in order, and sends the FIN with the last byte', () => {
    const sent: number[] = [];
    let fins = 0;
    let room = 3;
    const sink = (data: Uint8Array, fin: boolean) => {
      const n = Math.min(room, data.length);
      room -= n;
      sent.push(...data.subarray(0, n));
      if (fin && n === data.length) fins++;
      return n;
    };
    const o = new Outbox();
    assert.equal(o.send(sink, bytes(1, 2, 3, 4, 5), false), false);
    assert.equal(o.bytes, 2);
    assert.equal(o.send(sink, bytes(6, 7), true), false);
    assert.equal(o.pending, true);
    room = 3;
    assert.equal(o.flush(sink), false);
    room = 100;
    assert.equal(o.flush(sink), true);
    assert.deepEqual(sent, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(fins, 1);
    assert.equal(o.pending, false);
    assert.equal(o.send(sink, new Uint8Array(0), true), true);
    assert.equal(fins, 2);
  });
});
