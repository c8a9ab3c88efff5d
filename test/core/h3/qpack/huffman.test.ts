import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../../core/wire/buffer.ts';
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from '../../../../core/h3/qpack/huffman.ts';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../../../core/h3/qpack/huffman-table.ts';

const utf8 = new TextEncoder();

function encode(s: string | Uint8Array): Uint8Array {
  const src = typeof s === 'string' ? utf8.encode(s) : s;
  const out = new Uint8Array(huffmanEncodedLength(src));
  assert.equal(huffmanEncode(src, 0, src.length, out, 0), out.length);
  return out;
}

/** The decoded bytes, or null when the decoder rejects the input. */
function decode(b: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(huffmanMaxDecodedLength(b.length));
  const n = huffmanDecode(b, 0, b.length, out, 0);
  return n < 0 ? null : out.subarray(0, n);
}

// Huffman-coded strings of RFC 7541 Appendix C.4 (requests) and C.6 (responses).
const VECTORS: [string, string][] = [
  ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
  ['no-cache', 'a8eb 1064 9cbf'],
  ['custom-key', '25a8 49e9 5ba9 7d7f'],
  ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ['302', '6402'],
  ['private', 'aec3 771a 4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
  ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ['307', '640e ff'],
  ['Mon, 21 Oct 2013 20:13:22 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff'],
  ['gzip', '9bd9 ab'],
  [
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ],
];

describe('RFC 7541 Appendix B Huffman code', () => {
  it('has 257 symbols with lengths 5-30 forming a complete prefix code (Kraft sum = 1)', () => {
    assert.equal(HUFFMAN_CODES.length, 257);
    assert.equal(HUFFMAN_LENGTHS.length, 257);
    let kraft = 0;
    for (let s = 0; s <= 256; s++) {
      const len = HUFFMAN_LENGTHS[s];
      assert.ok(len >= 5 && len <= 30, `length of ${s}`);
      assert.ok(HUFFMAN_CODES[s] < 2 ** len, `code of ${s} fits its length`);
      kraft += 2 ** -len;
    }
    assert.equal(kraft, 1);
  });

  it('is canonical: codes sorted by (length, symbol) are consecutive', () => {
    const order = [...Array(257).keys()].sort((a, b) => HUFFMAN_LENGTHS[a] - HUFFMAN_LENGTHS[b] || a - b);
    let code = 0;
    let len = HUFFMAN_LENGTHS[order[0]];
    for (const s of order) {
      code *= 2 ** (HUFFMAN_LENGTHS[s] - len);
      len = HUFFMAN_LENGTHS[s];
      assert.equal(HUFFMAN_CODES[s], code, `symbol ${s}`);
      code++;
    }
  });

  it('matches rows of the table: "/", "0", "a", 0, 255 and EOS', () => {
    const rows: [number, number, number][] = [
      [47, 0x18, 6], // the example in Appendix B's preamble
      [48, 0x0, 5],
      [97, 0x3, 5],
      [0, 0x1ff8, 13],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of rows) {
      assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
      assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
    }
  });
});

describe('RFC 7541 §5.2 Huffman-coded string literals', () => {
  for (const [text, coded] of VECTORS) {
    it(`C.4/C.6: ${JSON.stringify(text)}`, () => {
      assert.equal(toHex(encode(text)), coded.replace(/ /g, ''));
      assert.equal(huffmanEncodedLength(utf8.encode(text)), coded.replace(/ /g, '').length / 2);
      assert.deepEqual(decode(fromHex(coded)), utf8.encode(text));
    });
  }

  it('decodes the empty string', () => {
    assert.deepEqual(decode(new Uint8Array(0)), new Uint8Array(0));
    assert.equal(encode('').length, 0);
  });

  it('rejects padding longer than 7 bits', () => {
    // "0" is 00000 (5 bits) + 111 padding = 0x07; a full extra 0xff byte is 11 bits of padding.
    assert.deepEqual(decode(fromHex('07')), utf8.encode('0'));
    assert.equal(decode(fromHex('07ff')), null);
    assert.equal(decode(fromHex('ff')), null, 'eight bits of padding and no symbol');
  });

  it('rejects padding that is not the most significant bits of EOS (all ones)', () => {
    assert.equal(decode(fromHex('06')), null); // 00000 110
    assert.equal(decode(fromHex('04')), null); // 00000 100
  });

  it('rejects the EOS symbol inside the string', () => {
    // "0" (00000) + EOS (30 ones) + 5 ones of padding = 40 bits.
    assert.equal(decode(fromHex('07ffffffff')), null);
    assert.equal(decode(fromHex('ffffffff')), null, 'EOS alone');
  });

  it('decode(encode(bytes)) == bytes for any bytes, and the length is exact', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const coded = encode(bytes);
        let bits = 0;
        for (const b of bytes) bits += HUFFMAN_LENGTHS[b];
        assert.equal(coded.length, Math.ceil(bits / 8));
        assert.deepEqual(decode(coded), bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('never accepts random input without re-encoding to the same bytes', () => {
    // Any accepted input is a canonical encoding: the code is prefix-free and padding is fixed.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const d = decode(bytes);
        if (d !== null) assert.deepEqual(encode(d), bytes);
      }),
      { numRuns: 3000 },
    );
  });
});
