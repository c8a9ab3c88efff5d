import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Writer, concatBytes, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { H3Error, H3ErrorCode, isReservedH3Codepoint } from '../../../core/h3/errors.ts';
import {
  H3FrameParser,
  H3FrameType,
  H3SettingId,
  H3StreamType,
  StreamHeaderParser,
  decodeSettings,
  frameHeaderLength,
  reservedCodepoint,
  settingsFrameLength,
  writeCancelPushFrame,
  writeDataFrameHeader,
  writeFrameHeader,
  writeGoawayFrame,
  writeHeadersFrame,
  writeMaxPushIdFrame,
  writePushPromiseFrame,
  writePushStreamHeader,
  writeSettingsFrame,
  writeStreamType,
} from '../../../core/h3/frames.ts';
import type { H3Frame, H3StreamKind } from '../../../core/h3/frames.ts';

const isH3 = (code: number) => (e: unknown) => e instanceof H3Error && e.code === code && e.application;

function build(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(new Uint8Array(1 << 16));
  write(w);
  return w.buf.slice(0, w.offset);
}

/** Feeds `bytes` in pieces of `pieceSize` bytes, then ends the stream; joins DATA pieces per frame. */
function parse(kind: H3StreamKind, bytes: Uint8Array, pieceSize = bytes.length, maxFrameLength?: number) {
  const p = new H3FrameParser(kind, maxFrameLength === undefined ? {} : { maxFrameLength });
  const frames: H3Frame[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) {
    const piece = bytes.slice(i, i + pieceSize);
    for (const f of p.feed(piece)) frames.push(f.type === 'data' ? { ...f, data: f.data.slice() } : f);
  }
  p.end();
  return joinData(frames);
}

function joinData(frames: H3Frame[]): H3Frame[] {
  const out: H3Frame[] = [];
  let pieces: Uint8Array[] = [];
  for (const f of frames) {
    if (f.type !== 'data') {
      out.push(f);
      continue;
    }
    pieces.push(f.data);
    if (f.remaining === 0) {
      out.push({ type: 'data', data: concatBytes(...pieces), remaining: 0 });
      pieces = [];
    }
  }
  assert.equal(pieces.length, 0, 'no unfinished DATA frame');
  return out;
}

describe('RFC 9114 §7.2 frame encodings', () => {
  it('writes each frame as Type, Length, Payload', () => {
    assert.equal(toHex(build((w) => writeDataFrameHeader(w, 5))), '0005');
    assert.equal(toHex(build((w) => writeDataFrameHeader(w, 70000))), '00' + '80011170');
    assert.equal(toHex(build((w) => writeHeadersFrame(w, fromHex('0000d1')))), '01030000d1');
    assert.equal(toHex(build((w) => writeCancelPushFrame(w, 3))), '030103');
    assert.equal(toHex(build((w) => writeGoawayFrame(w, 400))), '07024190');
    assert.equal(toHex(build((w) => writeMaxPushIdFrame(w, 0))), '0d0100');
    assert.equal(toHex(build((w) => writePushPromiseFrame(w, 1, fromHex('0000d1')))), '050401' + '0000d1');
    assert.equal(
      toHex(
        build((w) =>
          writeSettingsFrame(w, [
            [H3SettingId.QPACK_MAX_TABLE_CAPACITY, 4096],
            [H3SettingId.QPACK_BLOCKED_STREAMS, 16],
            [H3SettingId.MAX_FIELD_SECTION_SIZE, 65536],
            [reservedCodepoint(0), 7],
          ]),
        ),
      ),
      '040c' + '015000' + '0710' + '0680010000' + '2107',
    );
    assert.equal(toHex(build((w) => writeFrameHeader(w, 0x21, 0))), '2100');
    assert.equal(frameHeaderLength(H3FrameType.DATA, 70000), 5);
    assert.equal(settingsFrameLength([[1, 4096]]), 5);
  });

  it('refuses to write HTTP/2 settings or a repeated setting (a caller bug)', () => {
    assert.throws(() => build((w) => writeSettingsFrame(w, [[0x02, 0]])), RangeError);
    assert.throws(
      () =>
        build((w) =>
          writeSettingsFrame(w, [
            [1, 0],
            [1, 0],
          ]),
        ),
      RangeError,
    );
  });

  it('writes unidirectional stream headers (§6.2, RFC 9204 §4.2)', () => {
    assert.equal(toHex(build((w) => writeStreamType(w, H3StreamType.CONTROL))), '00');
    assert.equal(toHex(build((w) => writeStreamType(w, H3StreamType.QPACK_ENCODER))), '02');
    assert.equal(toHex(build((w) => writeStreamType(w, H3StreamType.QPACK_DECODER))), '03');
    assert.equal(toHex(build((w) => writePushStreamHeader(w, 70))), '014046');
  });

  it('reserved codepoints are 0x1f * N + 0x21 (§7.2.8)', () => {
    assert.deepEqual([0, 1, 2].map(reservedCodepoint), [0x21, 0x40, 0x5f]);
    assert.ok(isReservedH3Codepoint(0x21) && isReservedH3Codepoint(0x40));
    assert.ok(!isReservedH3Codepoint(0x20) && !isReservedH3Codepoint(0x41) && !isReservedH3Codepoint(0));
  });
});

const requestFrame = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((d) => ({ type: 'data', data: d, remaining: 0 }) as H3Frame),
  fc.uint8Array({ maxLength: 300 }).map((f) => ({ type: 'headers', fieldSection: f }) as H3Frame),
  fc
    .tuple(fc.maxSafeNat(), fc.uint8Array({ maxLength: 100 }))
    .map(([pushId, f]) => ({ type: 'push_promise', pushId, fieldSection: f }) as H3Frame),
);
const controlFrame = fc.oneof(
  fc.maxSafeNat().map((pushId) => ({ type: 'cancel_push', pushId }) as H3Frame),
  fc.maxSafeNat().map((id) => ({ type: 'goaway', id }) as H3Frame),
  fc.maxSafeNat().map((pushId) => ({ type: 'max_push_id', pushId }) as H3Frame),
);

function writeFrame(w: Writer, f: H3Frame): void {
  switch (f.type) {
    case 'data':
      writeDataFrameHeader(w, f.data.length);
      w.bytes(f.data);
      return;
    case 'headers':
      return writeHeadersFrame(w, f.fieldSection);
    case 'push_promise':
      return writePushPromiseFrame(w, f.pushId, f.fieldSection);
    case 'cancel_push':
      return writeCancelPushFrame(w, f.pushId);
    case 'goaway':
      return writeGoawayFrame(w, f.id);
    case 'max_push_id':
      return writeMaxPushIdFrame(w, f.pushId);
    case 'settings':
      return writeSettingsFrame(w, f.settings);
    case 'unknown':
      writeFrameHeader(w, f.frameType, f.length);
      w.fill(0xaa, f.length);
  }
}

describe('RFC 9114 §7.1 incremental frame parsing', () => {
  it('round-trips request-stream frames in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(requestFrame, { maxLength: 8 }),
        fc.integer({ min: 1, max: 64 }),
        (frames, piece) => {
          const bytes = build((w) => frames.forEach((f) => writeFrame(w, f)));
          assert.deepEqual(parse('request', bytes, piece), frames);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips a control stream: SETTINGS, then control frames and unknown frames', () => {
    const settingsArb = fc
      .uniqueArray(fc.tuple(fc.maxSafeNat(), fc.maxSafeNat()), { selector: ([id]) => id, maxLength: 6 })
      .map((pairs) => new Map(pairs.filter(([id]) => id < 2 || id > 5)));
    const unknownArb = fc
      .tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 40 }))
      .map(([n, length]) => ({ type: 'unknown', frameType: reservedCodepoint(n), length }) as H3Frame);
    fc.assert(
      fc.property(
        settingsArb,
        fc.array(fc.oneof(controlFrame, unknownArb), { maxLength: 8 }),
        fc.integer({ min: 1, max: 16 }),
        (settings, rest, piece) => {
          const frames: H3Frame[] = [{ type: 'settings', settings }, ...rest];
          const bytes = build((w) => frames.forEach((f) => writeFrame(w, f)));
          assert.deepEqual(parse('control', bytes, piece), frames);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('streams DATA fed one byte at a time without buffering it', () => {
    const payload = new Uint8Array(1000).map((_, i) => i);
    const bytes = build((w) => {
      writeDataFrameHeader(w, payload.length);
      w.bytes(payload);
      writeHeadersFrame(w, fromHex('0000d9'));
    });
    const p = new H3FrameParser('request');
    const pieces: { data: Uint8Array; remaining: number }[] = [];
    let headers = 0;
    for (let i = 0; i < bytes.length; i++) {
      const chunk = bytes.subarray(i, i + 1);
      for (const f of p.feed(chunk)) {
        if (f.type === 'data') {
          assert.equal(f.data.buffer, bytes.buffer, 'a view of the input, not a copy');
          pieces.push(f);
        } else if (f.type === 'headers') headers++;
      }
    }
    p.end();
    assert.equal(pieces.length, 1000, 'one piece per payload byte');
    pieces.forEach((piece, i) => {
      assert.deepEqual([...piece.data], [i & 0xff]);
      assert.equal(piece.remaining, 999 - i);
    });
    assert.equal(headers, 1);
  });

  it('passes a 100 MB DATA frame through in chunks, in linear time', () => {
    const total = 100 * 1024 * 1024;
    const p = new H3FrameParser('request');
    const header = build((w) => writeDataFrameHeader(w, total));
    assert.deepEqual(p.feed(header), []);
    const chunk = new Uint8Array(65536);
    let seen = 0;
    let last = -1;
    for (let sent = 0; sent < total; sent += chunk.length) {
      const frames = p.feed(chunk);
      assert.equal(frames.length, 1);
      const f = frames[0];
      assert.ok(f.type === 'data');
      assert.equal(f.data.length, chunk.length);
      seen += f.data.length;
      last = f.remaining;
    }
    assert.equal(seen, total);
    assert.equal(last, 0);
    assert.ok(p.atFrameBoundary);
  });

  it('reports an empty DATA frame, and a DATA frame split over chunks with its remaining length', () => {
    assert.deepEqual(new H3FrameParser('request').feed(fromHex('0000')), [
      { type: 'data', data: new Uint8Array(0), remaining: 0 },
    ]);
    const p = new H3FrameParser('request');
    assert.deepEqual(p.feed(fromHex('0004 aabb')), [{ type: 'data', data: fromHex('aabb'), remaining: 2 }]);
    assert.deepEqual(p.feed(fromHex('cc')), [{ type: 'data', data: fromHex('cc'), remaining: 1 }]);
    assert.deepEqual(p.feed(fromHex('dd 0100')), [
      { type: 'data', data: fromHex('dd'), remaining: 0 },
      { type: 'headers', fieldSection: new Uint8Array(0) },
    ]);
  });

  it('returns a buffered frame as a view when whole in one chunk, else as one copy', () => {
    const bytes = fromHex('0103 0000d1');
    const [whole] = new H3FrameParser('request').feed(bytes);
    assert.ok(whole.type === 'headers' && whole.fieldSection.buffer === bytes.buffer);
    const p = new H3FrameParser('request');
    assert.deepEqual(p.feed(bytes.subarray(0, 3)), []);
    const [split] = p.feed(bytes.subarray(3));
    assert.ok(split.type === 'headers');
    assert.equal(toHex(split.fieldSection), '0000d1');
  });

  it('reports and skips unknown and reserved frame types (§7.2.8, §9) without buffering them', () => {
    const p = new H3FrameParser('request', { maxFrameLength: 10 });
    const big = 1_000_000;
    const bytes = build((w) => {
      writeFrameHeader(w, 0x21, 0);
      writeFrameHeader(w, 0x2f, 3); // unassigned
      w.bytes(fromHex('010203'));
      writeFrameHeader(w, 0xfffe, big); // too big to buffer: skipped
    });
    assert.deepEqual(p.feed(bytes), [
      { type: 'unknown', frameType: 0x21, length: 0 },
      { type: 'unknown', frameType: 0x2f, length: 3 },
      { type: 'unknown', frameType: 0xfffe, length: big },
    ]);
    assert.deepEqual(p.feed(new Uint8Array(big)), []);
    assert.deepEqual(p.feed(fromHex('0000')), [{ type: 'data', data: new Uint8Array(0), remaining: 0 }]);
  });

  it('raises H3_FRAME_ERROR when the stream ends inside a frame (§7.1)', () => {
    const bytes = build((w) => writeHeadersFrame(w, fromHex('0000d1d7')));
    for (let n = 1; n < bytes.length; n++) {
      const p = new H3FrameParser('request');
      p.feed(bytes.subarray(0, n));
      assert.throws(() => p.end(), isH3(H3ErrorCode.H3_FRAME_ERROR), `cut at ${n}`);
    }
    const p = new H3FrameParser('request');
    p.feed(fromHex('0005 0102'));
    assert.throws(() => p.end(), isH3(H3ErrorCode.H3_FRAME_ERROR), 'inside DATA');
    const q = new H3FrameParser('request');
    q.feed(fromHex('40'));
    assert.throws(() => q.end(), isH3(H3ErrorCode.H3_FRAME_ERROR), 'inside a frame type');
  });

  it('raises H3_FRAME_ERROR for payloads that do not hold exactly their fields (§7.1, §10.8)', () => {
    const bad = [
      '0302 0300', // CANCEL_PUSH with a byte after the push ID
      '0d01 40', // MAX_PUSH_ID: varint cut by the frame length
      '0300', // CANCEL_PUSH without payload
      '0709 000000000000000000', // GOAWAY longer than any varint
      '0500', // PUSH_PROMISE without push ID
      '0501 40', // PUSH_PROMISE with a truncated push ID
    ];
    const ok = parse('control', fromHex('0400 0702 4000'));
    assert.deepEqual(ok[1], { type: 'goaway', id: 0 }, 'a non-minimal varint is allowed');
    for (const hex of bad) {
      const kind: H3StreamKind = hex.startsWith('05') ? 'request' : 'control';
      const prefix = kind === 'control' ? '0400' : '';
      assert.throws(() => parse(kind, fromHex(prefix + hex)), isH3(H3ErrorCode.H3_FRAME_ERROR), hex);
    }
  });

  it('rejects a buffered frame longer than the limit with H3_EXCESSIVE_LOAD, before buffering', () => {
    const p = new H3FrameParser('request', { maxFrameLength: 100 });
    assert.deepEqual(p.feed(fromHex('0140 64')), [], '100 bytes: allowed');
    const q = new H3FrameParser('request', { maxFrameLength: 100 });
    assert.throws(() => q.feed(fromHex('0140 65')), isH3(H3ErrorCode.H3_EXCESSIVE_LOAD));
    const r = new H3FrameParser('control');
    assert.throws(() => r.feed(fromHex('04 c000000100000000')), isH3(H3ErrorCode.H3_EXCESSIVE_LOAD));
  });
});

describe('RFC 9114 §7 Table 1: frames allowed per stream', () => {
  const cases: [H3StreamKind, string, number][] = [
    ['control', '0000', H3ErrorCode.H3_MISSING_SETTINGS],
    ['control', '0d0100', H3ErrorCode.H3_MISSING_SETTINGS],
    ['control', '2100', H3ErrorCode.H3_MISSING_SETTINGS],
    ['control', '0400 0400', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['control', '0400 0000', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['control', '0400 0100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['control', '0400 050100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['request', '0400', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['request', '030100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['request', '070100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['request', '0d0100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['push', '050100', H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['push', '0400', H3ErrorCode.H3_FRAME_UNEXPECTED],
  ];
  for (const [kind, hex, code] of cases) {
    it(`${hex} on a ${kind} stream`, () => {
      assert.throws(() => new H3FrameParser(kind).feed(fromHex(hex)), isH3(code));
    });
  }

  for (const type of [0x02, 0x06, 0x08, 0x09]) {
    it(`HTTP/2 frame type 0x0${type} is H3_FRAME_UNEXPECTED on every stream (§7.2.8)`, () => {
      for (const kind of ['control', 'request', 'push'] as const) {
        const prefix = kind === 'control' ? '0400' : '';
        const p = new H3FrameParser(kind);
        assert.throws(
          () => p.feed(fromHex(prefix + '0' + type + '00')),
          isH3(H3ErrorCode.H3_FRAME_UNEXPECTED),
        );
      }
    });
  }

  it('accepts what Table 1 allows', () => {
    assert.equal(parse('control', fromHex('0400 030100 070100 0d0100 2100')).length, 5);
    assert.equal(parse('request', fromHex('0100 0000 050100 2100')).length, 4);
    assert.equal(parse('push', fromHex('0100 0000 2100')).length, 3);
  });
});

describe('RFC 9114 §7.2.4 SETTINGS', () => {
  it('decodes identifiers and values, keeping unknown and reserved ones', () => {
    const s = decodeSettings(fromHex('015000 0710 0680010000 2107 4fff00'));
    assert.deepEqual(
      [...s],
      [
        [1, 4096],
        [7, 16],
        [6, 65536],
        [0x21, 7],
        [0xfff, 0],
      ],
    );
  });

  it('treats a repeated identifier as H3_SETTINGS_ERROR', () => {
    assert.throws(() => decodeSettings(fromHex('0100 0101')), isH3(H3ErrorCode.H3_SETTINGS_ERROR));
    assert.throws(
      () => decodeSettings(fromHex('2100 4021 00')),
      isH3(H3ErrorCode.H3_SETTINGS_ERROR),
      'same id, longer',
    );
  });

  it('treats the HTTP/2 settings 0x02-0x05 as H3_SETTINGS_ERROR (§7.2.4.1, Appendix A.3)', () => {
    for (const id of [2, 3, 4, 5])
      assert.throws(
        () => decodeSettings(fromHex(`0${id}00`)),
        isH3(H3ErrorCode.H3_SETTINGS_ERROR),
        `0x0${id}`,
      );
  });

  it('treats a truncated setting as H3_FRAME_ERROR', () => {
    assert.throws(() => decodeSettings(fromHex('01')), isH3(H3ErrorCode.H3_FRAME_ERROR));
    assert.throws(() => decodeSettings(fromHex('0140')), isH3(H3ErrorCode.H3_FRAME_ERROR));
    assert.throws(() => parse('control', fromHex('0402 0150')), isH3(H3ErrorCode.H3_FRAME_ERROR));
  });
});

describe('RFC 9114 §6.2 unidirectional stream headers', () => {
  it('reads the stream type, and the push ID of a push stream, from any chunking', () => {
    const cases: [string, number, number][] = [
      ['00', H3StreamType.CONTROL, -1],
      ['02', H3StreamType.QPACK_ENCODER, -1],
      ['03', H3StreamType.QPACK_DECODER, -1],
      ['014046', H3StreamType.PUSH, 70],
      ['8000abcd', 0xabcd, -1], // unknown: returned, for the caller to discard
    ];
    for (const [hex, streamType, pushId] of cases) {
      const bytes = fromHex(hex + 'eeff');
      for (let cut = 0; cut <= bytes.length; cut++) {
        const p = new StreamHeaderParser();
        let r = p.feed(bytes.subarray(0, cut));
        if (r === null) r = p.feed(bytes.subarray(cut));
        assert.ok(r, `${hex} cut at ${cut}`);
        assert.equal(r.streamType, streamType);
        assert.equal(r.pushId, pushId);
        const consumed = hex.length / 2;
        // The rest of the chunk that completed the header.
        const expected = cut >= consumed ? bytes.subarray(consumed, cut) : bytes.subarray(consumed);
        assert.equal(toHex(r.rest), toHex(expected));
      }
    }
  });
});
