import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../../core/wire/buffer.ts';
import { H3Error, H3ErrorCode } from '../../../../core/h3/errors.ts';
import { QpackDecoder } from '../../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../../core/h3/qpack/decoder.ts';
import { QpackEncoder } from '../../../../core/h3/qpack/encoder.ts';

const FAILED = H3ErrorCode.QPACK_DECOMPRESSION_FAILED;
const ENCODER_STREAM = H3ErrorCode.QPACK_ENCODER_STREAM_ERROR;
const isH3 =
  (code: number, scope: 'connection' | 'stream' = 'connection') =>
  (e: unknown) =>
    e instanceof H3Error && e.code === code && e.scope === scope && e.application;

// RFC 9204 Appendix B.2: capacity 220, then :authority=www.example.com (0), :path=/sample/path (1).
const B2_ENCODER = '3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468';

function decoderWithB2(
  options: { maxBlockedStreams?: number; maxFieldSectionSize?: number } = {},
): QpackDecoder {
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1, ...options });
  dec.onEncoderStream(fromHex(B2_ENCODER));
  return dec;
}

function headersOf(r: ReturnType<QpackDecoder['decodeFieldSection']>): FieldLine[] {
  assert.ok('headers' in r, 'expected a decoded section');
  return r.headers;
}

describe('RFC 9204 §4.5 field line representations (decoder)', () => {
  it('decodes each representation: indexed, post-base, literal with static, dynamic, post-base and literal names', () => {
    const dec = decoderWithB2();
    // RIC 2 (encoded 3), Sign 1 Delta 0: Base 1. Lines:
    //   c0            indexed static 0           :authority ""
    //   80            indexed dynamic rel 0      abs 0
    //   10            post-base 0                abs 1
    //   5f00 01 61    literal, static name 15 (:method), value "a" (4-bit prefix: 15 = 0f + 00)
    //   40 01 62      literal, dynamic name rel 0 (abs 0 :authority), value "b"
    //   00 01 63      literal, post-base name 0 (abs 1 :path), value "c"
    //   23 782d61 01 64  literal name "x-a", value "d"
    const section = fromHex('0380 c0 80 10 5f0001 61 400162 000163 23782d610164');
    assert.deepEqual(headersOf(dec.decodeFieldSection(0, section)), [
      [':authority', ''],
      [':authority', 'www.example.com'],
      [':path', '/sample/path'],
      [':method', 'a'],
      [':authority', 'b'],
      [':path', 'c'],
      ['x-a', 'd'],
    ]);
    assert.equal(toHex(dec.takeDecoderStream()), '80', 'Section Acknowledgment for stream 0');
  });

  it('decodes literals with the N bit and Huffman-coded names and values', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    // 7f45 = literal, N=1, static name 84 (authorization); value Huffman "custom-key".
    // 3f01 = literal name, N=1, H=1, length 8 + ... : '0011 1 111' then 8 - 7 = 01.
    const section = fromHex('0000 7f45 88 25a849e95ba97d7f 3f01 25a849e95ba97d7f 89 25a849e95bb8e8b4bf');
    assert.deepEqual(headersOf(dec.decodeFieldSection(0, section)), [
      ['authorization', 'custom-key'],
      ['custom-key', 'custom-value'],
    ]);
  });

  const bad: [string, string, string][] = [
    ['an invalid static index (§3.1)', '0000', 'ff24'],
    ['a dynamic reference with Required Insert Count 0 (§2.2.3)', '0000', '80'],
    ['a post-base reference at the Required Insert Count (§2.2.3)', '0200', '10'],
    ['a relative reference at the Required Insert Count (§2.2.3)', '0201', '80'],
    ['a name reference above the Required Insert Count (§2.2.3)', '0200', '000161'],
    ['a Sign of 1 with Delta Base equal to the Required Insert Count (§4.5.1.2)', '0382', 'c0'],
    ['an Encoded Required Insert Count above 2 * MaxEntries (§4.5.1.1)', '0d00', 'c0'],
    ['invalid Huffman data in a value (RFC 7541 §5.2)', '0000', '5181ff'],
  ];
  for (const [what, prefix, lines] of bad) {
    it(`rejects ${what} with QPACK_DECOMPRESSION_FAILED`, () => {
      const dec = decoderWithB2();
      assert.throws(() => dec.decodeFieldSection(0, fromHex(prefix + lines)), isH3(FAILED));
    });
  }

  it('rejects a reference to an evicted entry (§2.2.3)', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    // B.2-B.5 encoder stream: entry 0 is evicted by the last insert.
    dec.onEncoderStream(
      fromHex(
        B2_ENCODER + '4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02 810d637573746f6d2d76616c756532',
      ),
    );
    assert.equal(dec.table.droppedCount, 1);
    // RIC 5 (encoded 6), Base 5: relative 4 is entry 0.
    assert.throws(() => dec.decodeFieldSection(0, fromHex('0600 84')), isH3(FAILED));
    assert.deepEqual(headersOf(dec.decodeFieldSection(0, fromHex('0600 83'))), [[':path', '/sample/path']]);
  });

  it('rejects every truncation inside a representation; a cut between lines decodes a prefix', () => {
    fc.assert(
      fc.property(fc.array(headerArb, { minLength: 1, maxLength: 8 }), (headers) => {
        const enc = new QpackEncoder({
          maxTableCapacity: 4096,
          maxBlockedStreams: 16,
          shouldIndex: () => true,
        });
        const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 16 });
        const { fieldSection, encoderStream } = enc.encodeFieldSection(0, headers);
        dec.onEncoderStream(encoderStream);
        let decodedPrefixes = 0;
        for (let n = 0; n < fieldSection.length; n++) {
          try {
            const r = headersOf(dec.decodeFieldSection(4, fieldSection.subarray(0, n)));
            assert.ok(r.length < headers.length);
            assert.deepEqual(r, headers.slice(0, r.length));
            decodedPrefixes++;
          } catch (e) {
            assert.ok(isH3(FAILED)(e), String(e));
          }
        }
        assert.ok(decodedPrefixes <= headers.length, 'only cuts at line boundaries decode');
        assert.deepEqual(headersOf(dec.decodeFieldSection(4, fieldSection)), headers);
      }),
      { numRuns: 300 },
    );
  });
});

const headerArb = fc.tuple(
  fc.constantFrom(':authority', ':path', 'user-agent', 'x-custom', 'accept', 'cookie', 'content-type'),
  fc.oneof(fc.constantFrom('', 'a', 'text/html', 'www.example.com'), fc.string({ maxLength: 20 })),
) as fc.Arbitrary<FieldLine>;

describe('RFC 9204 §2.2.1 blocked decoding', () => {
  it('blocks a section until its inserts arrive, then decodes and acknowledges it', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 2 });
    assert.deepEqual(dec.decodeFieldSection(4, fromHex('0381 10 11')), { blocked: true });
    assert.deepEqual(dec.decodeFieldSection(8, fromHex('0200 80')), { blocked: true });
    assert.equal(dec.blockedStreams, 2);
    const encoder = fromHex(B2_ENCODER);
    const capacityAndFirst = 3 + 17;
    // Stream 8 needs one insert, stream 4 two: they unblock in turn, an instruction split anywhere.
    assert.deepEqual(dec.onEncoderStream(encoder.subarray(0, capacityAndFirst - 1)), []);
    assert.deepEqual(dec.onEncoderStream(encoder.subarray(capacityAndFirst - 1, capacityAndFirst)), [
      { streamId: 8, headers: [[':authority', 'www.example.com']] },
    ]);
    assert.deepEqual(dec.onEncoderStream(encoder.subarray(capacityAndFirst)), [
      {
        streamId: 4,
        headers: [
          [':authority', 'www.example.com'],
          [':path', '/sample/path'],
        ],
      },
    ]);
    assert.equal(dec.blockedStreams, 0);
    assert.equal(toHex(dec.takeDecoderStream()), '8884', 'acknowledgments in decoding order');
  });

  it('keeps sections of one stream in order behind a blocked one', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    assert.deepEqual(dec.decodeFieldSection(4, fromHex('0200 80')), { blocked: true });
    assert.deepEqual(dec.decodeFieldSection(4, fromHex('0000 d1')), { blocked: true }, 'trailers wait');
    assert.deepEqual(dec.onEncoderStream(fromHex(B2_ENCODER)), [
      { streamId: 4, headers: [[':authority', 'www.example.com']] },
      { streamId: 4, headers: [[':method', 'GET']] },
    ]);
  });

  it('treats more blocked streams than maxBlockedStreams as QPACK_DECOMPRESSION_FAILED (§2.1.2)', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    dec.decodeFieldSection(4, fromHex('0200 80'));
    assert.throws(() => dec.decodeFieldSection(8, fromHex('0200 80')), isH3(FAILED));
    const none = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0 });
    assert.throws(() => none.decodeFieldSection(4, fromHex('0200 80')), isH3(FAILED));
  });

  it('cancels a stream: its blocked section is dropped and Stream Cancellation sent (§2.2.2.2)', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    dec.decodeFieldSection(4, fromHex('0200 80'));
    dec.cancelStream(4);
    assert.equal(dec.blockedStreams, 0);
    assert.deepEqual(dec.onEncoderStream(fromHex(B2_ENCODER)), []);
    assert.equal(toHex(dec.takeDecoderStream()), '4402', 'cancellation, then Insert Count Increment 2');
    const noTable = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    noTable.cancelStream(4);
    assert.equal(noTable.takeDecoderStream().length, 0, 'omitted with a maximum capacity of 0');
  });
});

describe('RFC 9204 §4.3 encoder instructions (decoder)', () => {
  const cases: [string, number, string][] = [
    ['a capacity above our maximum (§4.3.1)', 200, '3fbd01'],
    ['an invalid static name index (§3.1)', 220, '3fbd01 ff2400'],
    ['a dynamic name reference to no entry (§2.2.3)', 220, '3fbd01 800161'],
    ['a Duplicate of no entry (§2.2.3)', 220, '3fbd01 00'],
    ['an entry larger than the capacity (§3.2.2)', 220, '3f09 4161 0a30313233343536373839'],
    ['an insert before any capacity is set (§3.2.2)', 220, '4161 0161'],
    ['invalid Huffman data (RFC 7541 §5.2)', 220, '3fbd01 c0 81ff'],
    ['an integer longer than 10 bytes (§4.1.1)', 220, '3f 8080808080808080808000'],
  ];
  for (const [what, max, bytes] of cases) {
    it(`rejects ${what} with QPACK_ENCODER_STREAM_ERROR`, () => {
      const dec = new QpackDecoder({ maxTableCapacity: max, maxBlockedStreams: 0 });
      assert.throws(() => dec.onEncoderStream(fromHex(bytes)), isH3(ENCODER_STREAM));
    });
  }

  it('rejects a string that cannot fit as soon as its length is known, before buffering it', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
    dec.onEncoderStream(fromHex('3fe11f')); // capacity 4096
    assert.throws(() => dec.onEncoderStream(fromHex('5f e1ff03')), isH3(ENCODER_STREAM), 'a 65536-byte name');
    const huff = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
    huff.onEncoderStream(fromHex('3fe11f'));
    // A 20128-byte Huffman value decodes to at least 5368 bytes: too large before any data arrives.
    assert.throws(() => huff.onEncoderStream(fromHex('c0 ffa19c01')), isH3(ENCODER_STREAM));
  });

  it('evicts the oldest entries to fit a new one and when the capacity shrinks (§3.2.2)', () => {
    const dec = decoderWithB2();
    dec.onEncoderStream(fromHex('3f1a')); // capacity 57: the oldest entry (57 bytes) goes
    assert.equal(dec.table.size, 49);
    assert.equal(dec.table.droppedCount, 1);
    dec.onEncoderStream(fromHex('3f11')); // capacity 48: the :path entry (49 bytes) goes too
    assert.equal(dec.table.size, 0);
    assert.equal(dec.table.droppedCount, 2);
    dec.onEncoderStream(fromHex('3f9a01')); // capacity 185
    dec.onEncoderStream(fromHex('c0 0161 c0 0162 c0 0163 c0 0164 c0 0165')); // 5 x 43 bytes
    assert.equal(dec.table.length, 4);
    assert.equal(dec.table.get(2), undefined);
    assert.equal(dec.table.get(3)?.value, 'b');
    assert.equal(dec.table.get(6)?.value, 'e');
    assert.equal(dec.table.size, 4 * 43);
  });

  it('sends one Insert Count Increment for all unacknowledged inserts', () => {
    const dec = decoderWithB2();
    assert.equal(toHex(dec.takeDecoderStream()), '02');
    assert.equal(dec.takeDecoderStream().length, 0);
    dec.onEncoderStream(fromHex('00'));
    assert.equal(toHex(dec.takeDecoderStream()), '01');
  });
});

describe('RFC 9114 §4.2.2 and RFC 9204 §7.4 decoder limits', () => {
  it('refuses a field section over maxFieldSectionSize as a stream error and cancels the stream', () => {
    const dec = decoderWithB2({ maxFieldSectionSize: 100 });
    // :authority=www.example.com is 57 bytes: one fits, two do not.
    assert.deepEqual(headersOf(dec.decodeFieldSection(0, fromHex('0300 81'))), [
      [':authority', 'www.example.com'],
    ]);
    dec.takeDecoderStream();
    assert.throws(
      () => dec.decodeFieldSection(4, fromHex('0300 81 81')),
      isH3(H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream'),
    );
    assert.equal(toHex(dec.takeDecoderStream()), '44', 'Stream Cancellation, no acknowledgment');
    // A literal value counts as well.
    assert.throws(
      () => dec.decodeFieldSection(8, fromHex('0000 5f00 50' + '61'.repeat(80))),
      isH3(H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream'),
    );
  });

  it('reports a limit error on an unblocked section in the results, not as a throw', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1, maxFieldSectionSize: 100 });
    dec.decodeFieldSection(4, fromHex('0300 81 81'));
    const [r] = dec.onEncoderStream(fromHex(B2_ENCODER));
    assert.equal(r.streamId, 4);
    assert.ok('error' in r && isH3(H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream')(r.error));
    assert.equal(dec.blockedStreams, 0);
  });
});
