import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../../core/wire/buffer.ts';
import { H3Error, H3ErrorCode } from '../../../../core/h3/errors.ts';
import { QpackEncoder, fieldSectionSize } from '../../../../core/h3/qpack/encoder.ts';
import { QpackDecoder } from '../../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../../core/h3/qpack/decoder.ts';

const DECODER_STREAM = H3ErrorCode.QPACK_DECODER_STREAM_ERROR;
const isDecoderStreamError = (e: unknown) => e instanceof H3Error && e.code === DECODER_STREAM;

/** An encoder and a decoder with the same settings, and helpers to move bytes between them. */
function pair(maxTableCapacity: number, maxBlockedStreams: number, shouldIndex = (): boolean => true) {
  const enc = new QpackEncoder({ maxTableCapacity, maxBlockedStreams, shouldIndex });
  const dec = new QpackDecoder({ maxTableCapacity, maxBlockedStreams });
  return {
    enc,
    dec,
    /** Encodes, delivers the encoder stream, decodes; returns the section. */
    roundTrip(streamId: number, headers: FieldLine[]): Uint8Array {
      const r = enc.encodeFieldSection(streamId, headers);
      dec.onEncoderStream(r.encoderStream);
      const d = dec.decodeFieldSection(streamId, r.fieldSection);
      assert.ok('headers' in d);
      assert.deepEqual(d.headers, headers);
      return r.fieldSection;
    },
    feedback(): void {
      enc.onDecoderStream(dec.takeDecoderStream());
    },
  };
}

describe('RFC 9204 §2.1 encoder', () => {
  it('uses only the static table and literals when the peer allows no dynamic table (§3.2.3)', () => {
    const enc = new QpackEncoder();
    const r = enc.encodeFieldSection(0, [
      [':method', 'GET'],
      [':path', '/index.html'],
      ['x-custom', 'v'],
    ]);
    assert.equal(r.encoderStream.length, 0, 'no encoder instruction may be sent');
    // d1 = static 17; 51 = literal, static name 1; 23/2b = literal name "x-custom" (Huffman when shorter)
    assert.equal(toHex(r.fieldSection.subarray(0, 3)), '0000d1');
    assert.equal(enc.table.insertCount, 0);
  });

  it('inserts repeated fields once and then indexes them', () => {
    const p = pair(4096, 10);
    const headers: FieldLine[] = [
      [':authority', 'example.org'],
      ['user-agent', 'quicscope/0.1'],
    ];
    const first = p.roundTrip(0, headers);
    p.feedback();
    const second = p.roundTrip(4, headers);
    assert.equal(p.enc.table.insertCount, 2, 'no second insertion');
    assert.equal(toHex(first), '0381' + '10' + '11', 'RIC 2, Base 0, two post-base lines');
    assert.equal(toHex(second), '0300' + '81' + '80', 'RIC 2, Base 2, two indexed dynamic lines');
  });

  it('sends never-indexed fields as literals with the N bit, outside the dynamic table (§4.5.4)', () => {
    const p = pair(4096, 10);
    const r = p.enc.encodeFieldSection(0, [['authorization', 'Bearer secret-token']]);
    assert.equal(r.encoderStream.length, 0);
    assert.equal(toHex(r.fieldSection.subarray(0, 4)), '00007f45', 'N=1, T=1, static name 84');
  });

  it('never references unacknowledged entries with maxBlockedStreams 0 (§2.1.2)', () => {
    const p = pair(4096, 0);
    const headers: FieldLine[] = [['x-trace', 'abc']];
    const r1 = p.enc.encodeFieldSection(0, headers);
    assert.ok(r1.encoderStream.length > 0, 'inserted for later');
    assert.equal(r1.fieldSection[0], 0, 'Required Insert Count 0: a literal');
    p.dec.onEncoderStream(r1.encoderStream);
    const r2 = p.enc.encodeFieldSection(4, headers);
    assert.equal(r2.fieldSection[0], 0, 'still unacknowledged');
    p.feedback(); // Insert Count Increment
    assert.equal(p.enc.knownReceivedCount, 1);
    const r3 = p.enc.encodeFieldSection(8, headers);
    assert.equal(toHex(r3.fieldSection), '020080', 'now indexed');
    assert.equal(p.enc.blockedStreams, 0);
  });

  it('lets at most maxBlockedStreams streams risk blocking (§2.1.2)', () => {
    const p = pair(4096, 1);
    const a = p.enc.encodeFieldSection(0, [['x-a', '1']]);
    assert.notEqual(a.fieldSection[0], 0, 'stream 0 may block');
    assert.equal(p.enc.blockedStreams, 1);
    const b = p.enc.encodeFieldSection(4, [['x-a', '1']]);
    assert.equal(b.fieldSection[0], 0, 'stream 4 may not');
    const c = p.enc.encodeFieldSection(0, [['x-a', '1']]);
    assert.notEqual(c.fieldSection[0], 0, 'stream 0 is already counted');
    assert.equal(p.enc.blockedStreams, 1);
  });

  it('never evicts an entry an unacknowledged section references (§2.1.1)', () => {
    // Room for two 40-byte entries.
    const p = pair(80, 4);
    const r1 = p.enc.encodeFieldSection(0, [['x-a', '12345']]);
    const r2 = p.enc.encodeFieldSection(4, [['x-b', '12345']]);
    assert.equal(p.enc.table.insertCount, 2);
    const r3 = p.enc.encodeFieldSection(8, [['x-c', '12345']]);
    assert.equal(p.enc.table.insertCount, 2, 'no room: both entries are referenced');
    assert.equal(r3.fieldSection[0], 0);
    // The decoder gets everything, acknowledges stream 0 only: entry 0 becomes evictable.
    p.dec.onEncoderStream(r1.encoderStream);
    p.dec.onEncoderStream(r2.encoderStream);
    p.dec.decodeFieldSection(0, r1.fieldSection);
    p.feedback();
    const r4 = p.enc.encodeFieldSection(12, [['x-d', '12345']]);
    assert.equal(p.enc.table.droppedCount, 1);
    p.dec.onEncoderStream(r4.encoderStream);
    const d2 = p.dec.decodeFieldSection(4, r2.fieldSection);
    assert.deepEqual(d2, { headers: [['x-b', '12345']] }, 'entry 1 survived');
  });

  it('duplicates an entry that is draining instead of referencing it (§2.1.1.1)', () => {
    const p = pair(200, 4);
    // 4 entries of 45 bytes: 180 of 200, so the oldest ones are draining (a quarter must be free).
    for (const [i, v] of ['a', 'b', 'c', 'd'].entries()) p.roundTrip(i * 4, [['x-' + v, '1234567890']]);
    p.feedback();
    const r = p.enc.encodeFieldSection(100, [['x-a', '1234567890']]);
    // Duplicate of absolute 0 (relative 3), which evicts it once acknowledged and unreferenced.
    assert.equal(toHex(r.encoderStream), '03');
    assert.equal(toHex(r.fieldSection), '068010', 'RIC 5 (MaxEntries 6), Base 4, post-base 0');
    p.dec.onEncoderStream(r.encoderStream);
    assert.deepEqual(p.dec.decodeFieldSection(100, r.fieldSection), { headers: [['x-a', '1234567890']] });
  });

  it('uses a dynamic name reference for a new value of an inserted name', () => {
    const p = pair(4096, 4);
    p.roundTrip(0, [['x-session', 'one']]);
    p.feedback();
    const r = p.enc.encodeFieldSection(4, [['x-session', 'two']]);
    assert.equal(r.encoderStream[0] & 0xc0, 0x80, 'Insert with Name Reference, dynamic');
    p.dec.onEncoderStream(r.encoderStream);
    assert.deepEqual(p.dec.decodeFieldSection(4, r.fieldSection), { headers: [['x-session', 'two']] });
  });

  it('writes literals with a dynamic or post-base name reference when the value is not inserted', () => {
    let index = true;
    const enc = new QpackEncoder({ maxTableCapacity: 4096, maxBlockedStreams: 4, shouldIndex: () => index });
    const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 4 });
    const r1 = enc.encodeFieldSection(0, [['x-a', '1']]);
    index = false;
    const r2 = enc.encodeFieldSection(4, [['x-a', '2']]); // Base 1: relative name reference
    index = true;
    const r3 = enc.encodeFieldSection(8, [
      ['x-b', '1'],
      ['x-b', '2'],
    ]);
    index = false;
    dec.onEncoderStream(r1.encoderStream);
    dec.onEncoderStream(r3.encoderStream);
    assert.equal(toHex(r2.fieldSection), '0200' + '4001' + '32');
    assert.deepEqual(dec.decodeFieldSection(4, r2.fieldSection), { headers: [['x-a', '2']] });
    assert.deepEqual(dec.decodeFieldSection(8, r3.fieldSection), {
      headers: [
        ['x-b', '1'],
        ['x-b', '2'],
      ],
    });
  });
});

describe('RFC 9114 §4.2.2 field section size', () => {
  it('counts names and values in UTF-8 bytes plus 32 per line', () => {
    assert.equal(fieldSectionSize([]), 0);
    assert.equal(fieldSectionSize([[':authority', 'www.example.com']]), 57);
    assert.equal(fieldSectionSize([['x-a', 'é']]), 3 + 2 + 32);
  });
});

describe('RFC 9204 §4.4 decoder instructions (encoder)', () => {
  it('rejects a Section Acknowledgment with no section pending (§4.4.1)', () => {
    const p = pair(4096, 4);
    assert.throws(() => p.enc.onDecoderStream(fromHex('80')), isDecoderStreamError);
    p.enc.encodeFieldSection(0, [['x-a', '1']]);
    p.enc.onDecoderStream(fromHex('80'));
    assert.throws(() => p.enc.onDecoderStream(fromHex('80')), isDecoderStreamError, 'already acknowledged');
  });

  it('rejects an Insert Count Increment of 0 or beyond the inserts sent (§4.4.3)', () => {
    const p = pair(4096, 4);
    assert.throws(() => p.enc.onDecoderStream(fromHex('00')), isDecoderStreamError);
    assert.throws(() => p.enc.onDecoderStream(fromHex('01')), isDecoderStreamError);
    p.enc.insert('x-a', '1');
    p.enc.onDecoderStream(fromHex('01'));
    assert.equal(p.enc.knownReceivedCount, 1);
    assert.throws(() => p.enc.onDecoderStream(fromHex('01')), isDecoderStreamError);
  });

  it('ignores a Stream Cancellation for a stream with nothing outstanding (§4.4.2)', () => {
    const p = pair(4096, 4);
    p.enc.onDecoderStream(fromHex('44 7f00'));
    assert.equal(p.enc.knownReceivedCount, 0);
  });

  it('accepts instructions split at every byte', () => {
    const enc = new QpackEncoder({ maxTableCapacity: 4096, maxBlockedStreams: 4, shouldIndex: () => true });
    const streamId = 1_000_000;
    enc.encodeFieldSection(streamId, [['x-a', '1']]);
    enc.encodeFieldSection(streamId, [['x-a', '1']]);
    // Section Acknowledgment of stream 1e6 (4 bytes), twice.
    const ack = fromHex('ffc1833d');
    const bytes = new Uint8Array([...ack, ...ack]);
    for (let i = 0; i < bytes.length; i++) enc.onDecoderStream(bytes.subarray(i, i + 1));
    assert.equal(enc.knownReceivedCount, 1);
    assert.equal(enc.table.get(0)?.refs, 0);
  });
});
