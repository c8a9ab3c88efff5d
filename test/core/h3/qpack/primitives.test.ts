import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Writer, fromHex, toHex } from '../../../../core/wire/buffer.ts';
import { H3Error } from '../../../../core/h3/errors.ts';
import {
  Cursor,
  INCOMPLETE,
  prefixedIntLength,
  readPrefixedInt,
  readString,
  readStringHeader,
  utf8Decode,
  utf8Length,
  writePrefixedInt,
  writeString,
} from '../../../../core/h3/qpack/primitives.ts';
import type { HuffmanMode } from '../../../../core/h3/qpack/primitives.ts';

const CODE = 0x200;

function writeInt(flags: number, prefix: number, v: number): string {
  const w = new Writer(new Uint8Array(16));
  writePrefixedInt(w, flags, prefix, v);
  assert.equal(w.offset, prefixedIntLength(prefix, v));
  return toHex(w.written());
}

function readInt(hex: string, prefix: number): { value: number; pos: number } {
  const b = fromHex(hex);
  const cur = new Cursor();
  const value = readPrefixedInt(b, cur, b.length, prefix, CODE);
  return { value, pos: cur.pos };
}

/** Any UTF-16 string, lone surrogates included (fc.string's 'binary' unit is slow to generate). */
const utf16 = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xffff })), { maxLength })
    .map((units) => String.fromCharCode(...units));

const isH3Error = (code: number) => (e: unknown) => e instanceof H3Error && e.code === code;

describe('RFC 9204 §4.1.1 prefixed integers (RFC 7541 §5.1)', () => {
  it('C.1.1: 10 with a 5-bit prefix', () => {
    assert.equal(writeInt(0xe0, 5, 10), 'ea'); // the three high bits are the caller's
    assert.deepEqual(readInt('ea', 5), { value: 10, pos: 1 });
  });

  it('C.1.2: 1337 with a 5-bit prefix', () => {
    assert.equal(writeInt(0, 5, 1337), '1f9a0a');
    assert.deepEqual(readInt('1f9a0a', 5), { value: 1337, pos: 3 });
  });

  it('C.1.3: 42 starting at an octet boundary (8-bit prefix)', () => {
    assert.equal(writeInt(0, 8, 42), '2a');
    assert.deepEqual(readInt('2a', 8), { value: 42, pos: 1 });
  });

  it('encodes 2^N - 1 after the prefix (the prefix holds only values below it)', () => {
    assert.equal(writeInt(0, 5, 30), '1e');
    assert.equal(writeInt(0, 5, 31), '1f00');
    assert.equal(writeInt(0, 8, 255), 'ff00');
    assert.equal(writeInt(0, 1, 1), '0100');
  });

  it('accepts non-minimal encodings up to 10 bytes and rejects longer ones', () => {
    assert.deepEqual(readInt('1f8000', 5), { value: 31, pos: 3 });
    assert.deepEqual(readInt('1f 808080808080808000', 5), { value: 31, pos: 10 });
    assert.throws(() => readInt('1f 80808080808080808000', 5), isH3Error(CODE));
  });

  it('decodes every 62-bit value exactly and rejects 2^62', () => {
    // 2^62 - 1 with a 1-bit prefix: 1 + (2^62 - 2) in nine continuation bytes.
    const max = writeInt(0, 1, 2 ** 62 - 2 ** 10);
    assert.equal(readInt(max, 1).value, 2 ** 62 - 2 ** 10);
    assert.equal(readInt('01 feffffffffffffff3f', 1).value, 2 ** 62); // 2^62 - 1, the nearest double
    assert.throws(() => readInt('01 ffffffffffffffff3f', 1), isH3Error(CODE), '2^62');
    assert.throws(() => readInt('ff ffffffffffffffff7f', 8), isH3Error(CODE), 'about 2^63');
    assert.throws(() => writeInt(0, 5, 2 ** 62), RangeError);
    assert.throws(() => writeInt(0, 5, -1), RangeError);
    assert.throws(() => writeInt(0, 5, 1.5), RangeError);
  });

  it('returns INCOMPLETE for every truncation, without moving the cursor', () => {
    const full = fromHex('1f9a0a');
    for (let n = 0; n < full.length; n++) {
      const cur = new Cursor();
      assert.equal(readPrefixedInt(full, cur, n, 5, CODE), INCOMPLETE);
      assert.equal(cur.pos, 0);
    }
  });

  it('decode(encode(v)) == v for every prefix size and safe integer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()),
        (prefix, v) => {
          const flags = (0xff << prefix) & 0xff;
          const hex = writeInt(flags, prefix, v);
          assert.equal(fromHex(hex)[0] & flags, flags, 'high bits kept');
          assert.deepEqual(readInt(hex, prefix), { value: v, pos: hex.length / 2 });
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('RFC 9204 §4.1.2 string literals', () => {
  function roundTrip(s: string, prefix: number, mode: HuffmanMode): { hex: string; huffman: boolean } {
    const w = new Writer(new Uint8Array(1024));
    const flags = (0xff << prefix) & 0xff;
    writeString(w, flags, prefix, s, mode);
    const b = w.written();
    const cur = new Cursor();
    const len = readStringHeader(b, cur, b.length, prefix, CODE);
    assert.equal(cur.pos + len, b.length);
    const out = readString(b, cur.pos, len, cur.huffman, cur, CODE, Infinity);
    assert.equal(out, s);
    assert.equal(cur.byteLength, utf8Length(s));
    return { hex: toHex(b), huffman: cur.huffman };
  }

  it('writes the H bit and a (N-1)-bit length after the caller bits', () => {
    assert.deepEqual(roundTrip('custom-key', 8, 'never'), { hex: '0a637573746f6d2d6b6579', huffman: false });
    assert.deepEqual(roundTrip('custom-key', 8, 'always'), { hex: '8825a849e95ba97d7f', huffman: true });
    // 6-bit prefix as in Insert with Literal Name: '01' H + 5-bit length.
    assert.deepEqual(roundTrip('custom-key', 6, 'never'), { hex: 'ca637573746f6d2d6b6579', huffman: false });
    assert.deepEqual(roundTrip('custom-key', 6, 'always'), { hex: 'e825a849e95ba97d7f', huffman: true });
    // 4-bit prefix: the length 10 does not fit in 3 bits.
    assert.deepEqual(roundTrip('custom-key', 4, 'never'), {
      hex: 'f703637573746f6d2d6b6579',
      huffman: false,
    });
  });

  it('auto mode uses Huffman only when it is shorter', () => {
    assert.equal(roundTrip('www.example.com', 8, 'auto').huffman, true);
    assert.equal(roundTrip('{}|\\^~', 8, 'auto').huffman, false); // long codes
    assert.equal(roundTrip('', 8, 'auto').hex, '00');
  });

  it('carries any string through UTF-8, with Huffman or without', () => {
    fc.assert(
      fc.property(
        utf16(60),
        fc.integer({ min: 2, max: 8 }),
        fc.constantFrom<HuffmanMode>('auto', 'always', 'never'),
        (s, prefix, mode) => {
          const wellFormed = s.replace(/[\ud800-\udfff]/gu, '\ufffd'); // what UTF-8 can carry
          const w = new Writer(new Uint8Array(1024));
          writeString(w, 0, prefix, wellFormed, mode);
          const b = w.written();
          const cur = new Cursor();
          const len = readStringHeader(b, cur, b.length, prefix, CODE);
          assert.equal(readString(b, cur.pos, len, cur.huffman, cur, CODE, Infinity), wellFormed);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('counts UTF-8 lengths as TextEncoder encodes', () => {
    fc.assert(
      fc.property(utf16(40), (s) => {
        assert.equal(utf8Length(s), new TextEncoder().encode(s).length);
      }),
    );
  });

  it('decodes invalid UTF-8 with replacement characters rather than failing', () => {
    assert.equal(utf8Decode(fromHex('61ff62'), 0, 3), 'a\ufffdb');
  });

  it('rejects a string over the limit and invalid Huffman data with the given code', () => {
    const b = fromHex('0a637573746f6d2d6b6579');
    const cur = new Cursor();
    assert.throws(
      () => readString(b, 1, 10, false, cur, CODE, 9),
      (e: unknown) => e instanceof H3Error && e.code === CODE && e.scope === 'stream',
    );
    assert.throws(() => readString(fromHex('ff'), 0, 1, true, cur, CODE, 100), isH3Error(CODE));
  });
});
