import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../../core/wire/buffer.ts';
import { QpackEncoder } from '../../../../core/h3/qpack/encoder.ts';
import { QpackDecoder } from '../../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../../core/h3/qpack/decoder.ts';
import type { DynamicTable } from '../../../../core/h3/qpack/dynamic-table.ts';

// RFC 9204 Appendix B: one encoder and one decoder exchanging the five examples in order.
const B1_SECTION = '0000 510b 2f69 6e64 6578 2e68 746d 6c';
const B2_ENCODER = '3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468';
const B2_SECTION = '0381 10 11';
const B3_ENCODER = '4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565';
const B4_ENCODER = '02';
const B4_SECTION = '0500 80 c1 81';
const B5_ENCODER = '810d 6375 7374 6f6d 2d76 616c 7565 32';

const hex = (s: string): string => s.replace(/\s+/g, '');

/** [abs, name, value] of every entry, oldest first. */
function tableEntries(t: DynamicTable): [number, string, string][] {
  const out: [number, string, string][] = [];
  for (let abs = t.droppedCount; abs < t.insertCount; abs++) {
    const e = t.get(abs);
    assert.ok(e);
    out.push([abs, e.name, e.value]);
  }
  return out;
}

describe('RFC 9204 Appendix B encoding examples (encoder side)', () => {
  it('produces B.1-B.5 byte for byte, tracking references and the Known Received Count', () => {
    let index = false; // the example's choices: B.1 uses a literal, B.2 inserts
    const enc = new QpackEncoder({
      maxTableCapacity: 220,
      maxBlockedStreams: 1,
      tableCapacity: 220,
      huffman: 'never',
      shouldIndex: () => index,
    });

    // B.1 Literal Field Line with Name Reference.
    let r = enc.encodeFieldSection(0, [[':path', '/index.html']]);
    assert.equal(toHex(r.fieldSection), hex(B1_SECTION));
    assert.equal(r.encoderStream.length, 0);
    assert.equal(enc.table.size, 0);

    // B.2 Dynamic Table: capacity, two inserts, a blocking section with post-base references.
    index = true;
    r = enc.encodeFieldSection(4, [
      [':authority', 'www.example.com'],
      [':path', '/sample/path'],
    ]);
    assert.equal(toHex(r.encoderStream), hex(B2_ENCODER));
    assert.equal(toHex(r.fieldSection), hex(B2_SECTION));
    assert.equal(enc.table.size, 106);
    assert.deepEqual(
      [enc.table.get(0)?.refs, enc.table.get(1)?.refs],
      [1, 1],
      'each entry referenced by one section',
    );
    assert.equal(enc.blockedStreams, 1);
    enc.onDecoderStream(fromHex('84')); // Section Acknowledgment (stream=4)
    assert.equal(enc.knownReceivedCount, 2);
    assert.deepEqual([enc.table.get(0)?.refs, enc.table.get(1)?.refs], [0, 0]);
    assert.equal(enc.blockedStreams, 0);

    // B.3 Speculative Insert.
    const b3 = enc.insert('custom-key', 'custom-value');
    assert.ok(b3);
    assert.equal(toHex(b3), hex(B3_ENCODER));
    assert.equal(enc.table.size, 160);
    enc.onDecoderStream(fromHex('01')); // Insert Count Increment (1)
    assert.equal(enc.knownReceivedCount, 3);

    // B.4 Duplicate Instruction, Stream Cancellation.
    const b4 = enc.duplicate(0);
    assert.ok(b4);
    assert.equal(toHex(b4), hex(B4_ENCODER));
    r = enc.encodeFieldSection(8, [
      [':authority', 'www.example.com'],
      [':path', '/'],
      ['custom-key', 'custom-value'],
    ]);
    assert.equal(r.encoderStream.length, 0);
    assert.equal(toHex(r.fieldSection), hex(B4_SECTION));
    assert.equal(enc.table.size, 217);
    assert.deepEqual([enc.table.get(2)?.refs, enc.table.get(3)?.refs], [1, 1]);
    enc.onDecoderStream(fromHex('48')); // Stream Cancellation (Stream=8)
    assert.deepEqual([enc.table.get(2)?.refs, enc.table.get(3)?.refs], [0, 0]);
    assert.equal(enc.knownReceivedCount, 3, 'a cancellation acknowledges nothing');

    // B.5 Dynamic Table Insert, Eviction.
    const b5 = enc.insert('custom-key', 'custom-value2');
    assert.ok(b5);
    assert.equal(toHex(b5), hex(B5_ENCODER));
    assert.equal(enc.table.size, 215);
    assert.deepEqual(tableEntries(enc.table), [
      [1, ':path', '/sample/path'],
      [2, 'custom-key', 'custom-value'],
      [3, ':authority', 'www.example.com'],
      [4, 'custom-key', 'custom-value2'],
    ]);
  });
});

describe('RFC 9204 Appendix B encoding examples (decoder side)', () => {
  it('decodes B.1-B.5 and sends the decoder-stream bytes of the example', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    const headers = (r: ReturnType<QpackDecoder['decodeFieldSection']>): FieldLine[] => {
      assert.ok('headers' in r, 'not blocked');
      return r.headers;
    };

    // B.1
    assert.deepEqual(headers(dec.decodeFieldSection(0, fromHex(B1_SECTION))), [[':path', '/index.html']]);
    assert.equal(dec.takeDecoderStream().length, 0, 'no acknowledgment for Required Insert Count 0');

    // B.2
    assert.deepEqual(dec.onEncoderStream(fromHex(B2_ENCODER)), []);
    assert.equal(dec.table.capacity, 220);
    assert.equal(dec.table.size, 106);
    assert.deepEqual(headers(dec.decodeFieldSection(4, fromHex(B2_SECTION))), [
      [':authority', 'www.example.com'],
      [':path', '/sample/path'],
    ]);
    assert.equal(toHex(dec.takeDecoderStream()), '84');

    // B.3
    dec.onEncoderStream(fromHex(B3_ENCODER));
    assert.equal(dec.table.size, 160);
    assert.equal(toHex(dec.takeDecoderStream()), '01');

    // B.4: the field section arrives before the Duplicate, blocks, and the stream is cancelled.
    assert.deepEqual(dec.decodeFieldSection(8, fromHex(B4_SECTION)), { blocked: true });
    assert.equal(dec.blockedStreams, 1);
    dec.cancelStream(8);
    assert.equal(dec.blockedStreams, 0);
    assert.equal(toHex(dec.takeDecoderStream()), '48');
    assert.deepEqual(dec.onEncoderStream(fromHex(B4_ENCODER)), [], 'the cancelled section stays dropped');
    assert.equal(dec.table.size, 217);

    // B.5
    dec.onEncoderStream(fromHex(B5_ENCODER));
    assert.equal(dec.table.size, 215);
    assert.deepEqual(tableEntries(dec.table), [
      [1, ':path', '/sample/path'],
      [2, 'custom-key', 'custom-value'],
      [3, ':authority', 'www.example.com'],
      [4, 'custom-key', 'custom-value2'],
    ]);
    assert.equal(toHex(dec.takeDecoderStream()), '02', 'Insert Count Increment for the two new entries');
  });

  it('decodes the B.4 section once the Duplicate arrives, and acknowledges it', () => {
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    dec.onEncoderStream(fromHex(B2_ENCODER));
    dec.decodeFieldSection(4, fromHex(B2_SECTION));
    dec.onEncoderStream(fromHex(B3_ENCODER));
    assert.equal(toHex(dec.takeDecoderStream()), '8401');
    assert.deepEqual(dec.decodeFieldSection(8, fromHex(B4_SECTION)), { blocked: true });
    assert.deepEqual(dec.onEncoderStream(fromHex(B4_ENCODER)), [
      {
        streamId: 8,
        headers: [
          [':authority', 'www.example.com'],
          [':path', '/'],
          ['custom-key', 'custom-value'],
        ],
      },
    ]);
    assert.equal(toHex(dec.takeDecoderStream()), '88', 'the Section Acknowledgment covers the Duplicate');
  });

  it('accepts the encoder stream of B.2-B.5 split at every byte', () => {
    const all = fromHex(B2_ENCODER + B3_ENCODER + B4_ENCODER + B5_ENCODER);
    const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    for (let i = 0; i < all.length; i++) dec.onEncoderStream(all.subarray(i, i + 1));
    assert.equal(dec.table.insertCount, 5);
    assert.equal(dec.table.size, 215);
  });
});
