import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicError } from '../../../core/wire/errors.ts';
import { H3Error, H3ErrorCode, h3ErrorName, isReservedH3Codepoint } from '../../../core/h3/errors.ts';

describe('RFC 9114 §8.1 and RFC 9204 §6 error codes', () => {
  it('has the registered values', () => {
    assert.equal(H3ErrorCode.H3_NO_ERROR, 0x100);
    assert.equal(H3ErrorCode.H3_SETTINGS_ERROR, 0x109);
    assert.equal(H3ErrorCode.H3_MISSING_SETTINGS, 0x10a);
    assert.equal(H3ErrorCode.H3_VERSION_FALLBACK, 0x110);
    assert.equal(H3ErrorCode.QPACK_DECOMPRESSION_FAILED, 0x200);
    assert.equal(H3ErrorCode.QPACK_ENCODER_STREAM_ERROR, 0x201);
    assert.equal(H3ErrorCode.QPACK_DECODER_STREAM_ERROR, 0x202);
    const values = Object.values(H3ErrorCode);
    assert.equal(new Set(values).size, values.length);
  });

  it('names codes, reserved ones included', () => {
    assert.equal(h3ErrorName(0x106), 'H3_FRAME_ERROR');
    assert.equal(h3ErrorName(0x202), 'QPACK_DECODER_STREAM_ERROR');
    assert.equal(h3ErrorName(0x21 + 0x1f * 8), 'reserved(0x119)');
    assert.equal(h3ErrorName(0x300), '0x300');
    assert.ok(isReservedH3Codepoint(0x119) && !isReservedH3Codepoint(0x111));
  });

  it('H3Error is an application QuicError carrying code, reason and scope', () => {
    const e = new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA on the control stream');
    assert.ok(e instanceof QuicError);
    assert.equal(e.code, 0x105);
    assert.equal(e.application, true, 'closes with CONNECTION_CLOSE type 0x1d');
    assert.equal(e.frameType, null);
    assert.equal(e.scope, 'connection');
    assert.equal(e.reason, 'DATA on the control stream');
    assert.equal(e.message, 'H3_FRAME_UNEXPECTED: DATA on the control stream');
    assert.equal(new H3Error(0x107, 'x', 'stream').scope, 'stream');
  });
});
