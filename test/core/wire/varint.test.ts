import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Reader,
  Writer,
  MAX_VARINT,
  encodeVarint,
  fromHex,
  toHex,
  varintLength,
} from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';

describe('RFC 9000 §16 variable-length integers', () => {
  // RFC 9000 Appendix A.1 sample encodings.
  const samples: [string, number][] = [
    ['c2197c5eff14e88c', Number(151288809941952652n)],
    ['9d7f3e7d', 494878333],
    ['7bbd', 15293],
    ['25', 37],
  ];
  for (const [hex, value] of samples) {
    it(`decodes ${hex} as ${value}`, () => {
      assert.equal(new Reader(fromHex(hex)).varint(), value);
    });
  }
  it('decodes the 8-byte sample exactly as a bigint', () => {
    assert.equal(new Reader(fromHex('c2197c5eff14e88c')).varintBig(), 151288809941952652n);
  });
  it('decodes the two-byte encoding of 37 (non-minimal forms are valid)', () => {
    assert.equal(new Reader(fromHex('4025')).varint(), 37);
  });

  it('encodes each length at its boundaries', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [63, '3f'],
      [64, '4040'],
      [16383, '7fff'],
      [16384, '80004000'],
      [1073741823, 'bfffffff'],
      [1073741824, 'c000000040000000'],
      [Number.MAX_SAFE_INTEGER, 'c01fffffffffffff'],
      [MAX_VARINT, 'ffffffffffffffff'],
    ];
    for (const [v, hex] of cases) {
      assert.equal(toHex(encodeVarint(v)), hex, `value ${v}`);
      assert.equal(new Reader(fromHex(hex)).varint(), v);
    }
  });

  it('round-trips 2^62 - 1 exactly as a bigint', () => {
    const w = new Writer(new Uint8Array(8)).varintBig((1n << 62n) - 1n);
    assert.equal(toHex(w.buf), 'ffffffffffffffff');
    assert.equal(new Reader(w.buf).varintBig(), (1n << 62n) - 1n);
    const big = 151288809941952652n;
    assert.equal(new Reader(new Writer(new Uint8Array(8)).varintBig(big).buf).varintBig(), big);
  });

  it('rejects values out of range', () => {
    for (const bad of [-1, 0.5, 2 ** 62 * 2, NaN, Infinity]) {
      assert.throws(() => encodeVarint(bad), RangeError);
    }
    assert.throws(() => new Writer(new Uint8Array(8)).varintBig(1n << 62n), RangeError);
    assert.throws(() => new Writer(new Uint8Array(8)).varintN(64, 1), RangeError);
  });

  it('rejects every truncation with a typed FRAME_ENCODING_ERROR', () => {
    for (const hex of ['c2197c5eff14e88c', '9d7f3e7d', '7bbd']) {
      const full = fromHex(hex);
      for (let n = 0; n < full.length; n++) {
        assert.throws(
          () => new Reader(full.subarray(0, n)).varint(),
          (e: unknown) => e instanceof QuicError && e.code === TransportError.FRAME_ENCODING_ERROR,
        );
      }
    }
  });

  it('decode(encode(x)) == x for every integer-valued double up to 2^62', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 30 }),
          fc.maxSafeNat(),
          fc.double({ min: 2 ** 53, max: 2 ** 62, noNaN: true }).map(Math.floor),
        ),
        (v) => {
          const enc = encodeVarint(v);
          assert.equal(enc.length, varintLength(v));
          assert.equal(new Reader(enc).varint(), v);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
