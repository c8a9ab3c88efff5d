import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader, Writer, concatBytes, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import {
  FrameType,
  MAX_ACK_RANGES,
  decodeFrame,
  encodeFrame,
  frameLength,
  writeAckFrame,
} from '../../../core/wire/frames.ts';
import type { AckRange, Frame } from '../../../core/wire/frames.ts';
import { EDGE_FRAMES, bytes, frameArb } from './frame-samples.ts';

const FEE = TransportError.FRAME_ENCODING_ERROR;
const PV = TransportError.PROTOCOL_VIOLATION;

/** An exact varint encoding of `v` (bigints reach every value up to 2^62 - 1). */
function vi(v: bigint): string {
  const w = new Writer(new Uint8Array(8));
  w.varintBig(v);
  return toHex(w.written());
}

function encode(f: Frame): Uint8Array {
  const w = new Writer(new Uint8Array(frameLength(f)));
  encodeFrame(w, f);
  return w.buf;
}

function decodeAll(b: Uint8Array): Frame[] {
  const r = new Reader(b);
  const out: Frame[] = [];
  while (!r.done) out.push(decodeFrame(r));
  return out;
}

function assertRejects(input: Uint8Array | string, code: number, frameType: number, message?: string): void {
  const b = typeof input === 'string' ? fromHex(input) : input;
  assert.throws(
    () => decodeFrame(new Reader(b)),
    (e: unknown) => {
      assert.ok(e instanceof QuicError, `typed QuicError, got ${String(e)}`);
      assert.equal(e.code, code, `${message ?? ''} code (${e.message})`);
      assert.equal(e.frameType, frameType, `${message ?? ''} frame type (${e.message})`);
      return true;
    },
    message,
  );
}

const TWO_60 = 1n << 60n;
const TWO_62_M1 = (1n << 62n) - 1n;
const TOKEN = '000102030405060708090a0b0c0d0e0f';

describe('RFC 9000 §12.4 frame types', () => {
  it('an unknown frame type is a FRAME_ENCODING_ERROR carrying that type', () => {
    for (const t of [0x1f, 0x20, 0x2f, 0x32, 0x3f]) assertRejects(t.toString(16).padStart(2, '0'), FEE, t);
    assertRejects('4040', FEE, 0x40);
    assertRejects('80004000', FEE, 0x4000);
  });

  it('a frame type not in its shortest encoding is rejected as PROTOCOL_VIOLATION', () => {
    assertRejects('4001', PV, FrameType.PING);
    assertRejects('4000', PV, 0x00);
    assertRejects('8000001e', PV, 0x1e);
    assertRejects('c000000000000008' + '0000', PV, 0x08);
  });

  it('an empty input is a truncated frame (frame type 0: unknown)', () => {
    assertRejects(new Uint8Array(0), FEE, 0);
    assertRejects('40', FEE, 0);
  });
});

describe('every truncation of every valid encoding is a FRAME_ENCODING_ERROR', () => {
  for (const [name, f] of EDGE_FRAMES) {
    if (f.type === 'padding') continue; // a shorter run of PADDING is still valid PADDING
    it(name, () => {
      const enc = encode(f);
      for (let n = 0; n < enc.length; n++) {
        assertRejects(enc.subarray(0, n), FEE, n === 0 ? 0 : enc[0], `prefix ${n}/${enc.length}`);
        // The Reader's end bounds the frame, not the end of the underlying array.
        if (n > 0)
          assert.throws(
            () => decodeFrame(new Reader(enc, 0, n)),
            (e: unknown) => e instanceof QuicError && e.code === FEE,
          );
      }
    });
  }

  it('for random frames of every kind (property)', () => {
    fc.assert(
      fc.property(
        frameArb.filter((f) => f.type !== 'padding'),
        (f) => {
          const enc = encode(f);
          for (let n = 0; n < enc.length; n++) assertRejects(enc.subarray(0, n), FEE, n === 0 ? 0 : enc[0]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('whatever error code the Reader was built with', () => {
    const r = new Reader(fromHex('0e0443e805'), 0, 5, TransportError.PROTOCOL_VIOLATION);
    assert.throws(
      () => decodeFrame(r),
      (e: unknown) => e instanceof QuicError && e.code === FEE && e.frameType === 0x0e,
    );
  });
});

describe('RFC 9000 §19.3.1 ACK ranges below zero', () => {
  it('a First ACK Range larger than Largest Acknowledged', () => {
    assertRejects('0205000006', FEE, 0x02);
    assertRejects('0305000006000000', FEE, 0x03);
  });

  it('a Gap that goes below zero', () => {
    assertRejects('02050001000400', FEE, 0x02); // largest = 5 - 4 - 2 = -1
  });

  it('an ACK Range Length that goes below zero', () => {
    assertRejects('02050001000004', FEE, 0x02); // largest 3, smallest 3 - 4 = -1
  });

  it('a range that ends exactly at packet 0 is valid', () => {
    assert.deepEqual(decodeAll(fromHex('02050001000003')), [
      {
        type: 'ack',
        largestAcknowledged: 5,
        ackDelay: 0,
        ranges: [
          { smallest: 5, largest: 5 },
          { smallest: 0, largest: 3 },
        ],
      },
    ]);
  });

  it('checks exactly above 2^53, where doubles round (2^60 - (2^60 + 1) is -1, not 0)', () => {
    assertRejects('02' + vi(TWO_60) + '0000' + vi(TWO_60 + 1n), FEE, 0x02);
    assert.deepEqual(decodeAll(fromHex('02' + vi(TWO_60) + '0000' + vi(TWO_60))), [
      { type: 'ack', largestAcknowledged: 2 ** 60, ackDelay: 0, ranges: [{ smallest: 0, largest: 2 ** 60 }] },
    ]);
    // Largest 2^62-1, First ACK Range 0, Gap 0 -> largest 2^62-3; a length of 2^62-2 reaches -1.
    const head = '02' + vi(TWO_62_M1) + '00' + '01' + '00' + '00';
    assertRejects(head + vi(TWO_62_M1 - 1n), FEE, 0x02);
    const [ack] = decodeAll(fromHex(head + vi(TWO_62_M1 - 3n)));
    assert.ok(ack.type === 'ack');
    assert.equal(ack.ranges.length, 2);
    assert.equal(ack.ranges[1].smallest, 1);
  });

  it('an ACK Range Count the rest of the frame cannot hold is rejected without looping over it', () => {
    assertRejects('020500' + vi(TWO_62_M1) + '00', FEE, 0x02);
    assertRejects('020500bfffffff00', FEE, 0x02);
  });
});

describe(`ACK range cap: at most MAX_ACK_RANGES (${MAX_ACK_RANGES}) ranges are kept`, () => {
  it('keeps the highest ranges, parses the rest and leaves the reader after the frame', () => {
    const ranges: AckRange[] = [];
    for (let i = 0; i < 300; i++) ranges.push({ smallest: 10_000 - 3 * i - 1, largest: 10_000 - 3 * i });
    const w = new Writer(new Uint8Array(2048));
    writeAckFrame(w, { largestAcknowledged: 10_000, ackDelay: 1, ranges, ecn: { ect0: 4, ect1: 5, ce: 6 } });
    w.u8(0x01); // a PING after it
    const frames = decodeAll(w.written());
    assert.equal(frames.length, 2);
    const [ack, ping] = frames;
    assert.ok(ack.type === 'ack');
    assert.equal(ack.ranges.length, MAX_ACK_RANGES);
    assert.deepEqual(ack.ranges, ranges.slice(0, MAX_ACK_RANGES));
    assert.deepEqual(ack.ecn, { ect0: 4, ect1: 5, ce: 6 });
    assert.deepEqual(ping, { type: 'ping' });
  });

  it('still validates the ranges it does not keep', () => {
    const ranges: AckRange[] = [];
    for (let i = 0; i < 300; i++) ranges.push({ smallest: 1000 - 3 * i, largest: 1000 - 3 * i });
    const w = new Writer(new Uint8Array(2048));
    writeAckFrame(w, { largestAcknowledged: 1000, ackDelay: 0, ranges });
    // Patch the last ACK Range Length (one byte, 0) to 200: packet 103 - 200 < 0.
    const enc = w.written().slice();
    enc[enc.length - 1] = 0x40;
    const bad = concatBytes(enc, fromHex('c8'));
    assertRejects(bad, FEE, 0x02);
  });
});

describe('RFC 9000 §19.6, §19.8 offset + length above 2^62 - 1', () => {
  it('CRYPTO', () => {
    assertRejects('06' + vi(TWO_62_M1) + '01aa', FEE, 0x06);
    assertRejects('06' + vi(TWO_62_M1 - 1n) + '02aabb', FEE, 0x06); // exact: doubles cannot see it
    assert.equal(decodeAll(fromHex('06' + vi(TWO_62_M1 - 1n) + '01aa')).length, 1);
    assert.equal(decodeAll(fromHex('06' + vi(TWO_62_M1) + '00')).length, 1);
  });

  it('STREAM with and without a Length field', () => {
    assertRejects('0e00' + vi(TWO_62_M1) + '01aa', FEE, 0x0e);
    assertRejects('0f00' + vi(TWO_62_M1 - 1n) + '02aabb', FEE, 0x0f);
    assertRejects('0c00' + vi(TWO_62_M1) + 'aa', FEE, 0x0c);
    assert.equal(decodeAll(fromHex('0d00' + vi(TWO_62_M1))).length, 1); // FIN at 2^62 - 1, no data
  });
});

describe('RFC 9000 §19.11, §19.14 stream counts above 2^60', () => {
  it('MAX_STREAMS and STREAMS_BLOCKED of 2^60 + 1 or more', () => {
    for (const t of ['12', '13', '16', '17']) {
      assertRejects(t + vi(TWO_60 + 1n), FEE, parseInt(t, 16)); // rounds to 2^60 as a double
      assertRejects(t + vi(TWO_62_M1), FEE, parseInt(t, 16));
      assert.equal(decodeAll(fromHex(t + vi(TWO_60))).length, 1);
    }
  });
});

describe('RFC 9000 §19.15 NEW_CONNECTION_ID', () => {
  it('a connection ID length of 0 or above 20', () => {
    assertRejects('180100' + '00' + TOKEN, FEE, 0x18);
    assertRejects('180100' + '15' + toHex(bytes(21)) + TOKEN, FEE, 0x18);
    assertRejects('180100' + 'ff' + toHex(bytes(255)) + TOKEN, FEE, 0x18);
    assert.equal(decodeAll(fromHex('180100' + '14' + toHex(bytes(20)) + TOKEN)).length, 1);
  });

  it('Retire Prior To greater than Sequence Number, checked exactly above 2^53', () => {
    assertRejects('180102' + '04aabbccdd' + TOKEN, FEE, 0x18);
    assertRejects('18' + vi(TWO_60) + vi(TWO_60 + 1n) + '04aabbccdd' + TOKEN, FEE, 0x18);
    assert.equal(decodeAll(fromHex('18' + vi(TWO_60 + 1n) + vi(TWO_60) + '04aabbccdd' + TOKEN)).length, 1);
    assert.equal(decodeAll(fromHex('180202' + '04aabbccdd' + TOKEN)).length, 1);
  });
});

describe('other structural violations', () => {
  it('RFC 9000 §19.7: an empty NEW_TOKEN', () => {
    assertRejects('0700', FEE, 0x07);
  });

  it('RFC 9000 §19.19: a reason phrase longer than the frame', () => {
    assertRejects('1c000005aa', FEE, 0x1c);
    assertRejects('1d0005aa', FEE, 0x1d);
  });

  it('RFC 9221 §4: a DATAGRAM Length longer than the packet', () => {
    assertRejects('3105aa', FEE, 0x31);
  });
});

describe('arbitrary bytes never cause an untyped throw', () => {
  it('random inputs decode or raise FRAME_ENCODING_ERROR / PROTOCOL_VIOLATION', () => {
    const check = (b: Uint8Array) => {
      try {
        decodeAll(b);
      } catch (e) {
        assert.ok(e instanceof QuicError, String(e));
        assert.ok(e.code === FEE || e.code === PV);
        assert.notEqual(e.frameType, null);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check), { numRuns: 3000 });
    // Valid encodings with one byte changed reach deeper into each decoder.
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (f, at, v) => {
        const enc = encode(f).slice();
        enc[at % enc.length] = v;
        check(enc);
      }),
      { numRuns: 3000 },
    );
  });
});
