import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  qlogFrameTypeName,
  qlogTransportError,
  qlogUnknownFrame,
  toQlogFrame,
  toQlogFrames,
  type QlogAckFrame,
} from '../../../core/trace/frames.ts';
import { frameTypeOf, type Frame } from '../../../core/wire/frames.ts';
import { EDGE_FRAMES, frameArb } from '../wire/frame-samples.ts';

const enc = new TextEncoder();
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

describe('qlog quic-events-13 §8.13 frames from our Frame union', () => {
  // One case per frame kind: the exact qlog JSON (field names per §8.13, snake_case).
  const cases: [string, Frame, object][] = [
    [
      '§8.13.1 PADDING: one frame per run, the count in raw.payload_length',
      { type: 'padding', length: 17 },
      { frame_type: 'padding', raw: { length: 17, payload_length: 17 } },
    ],
    ['§8.13.2 PING', { type: 'ping' }, { frame_type: 'ping' }],
    [
      '§8.13.4 RESET_STREAM',
      { type: 'reset_stream', streamId: 4, errorCode: 0x10c, finalSize: 1000 },
      { frame_type: 'reset_stream', stream_id: 4, error: 'unknown', error_code: 0x10c, final_size: 1000 },
    ],
    [
      '§8.13.6 STOP_SENDING',
      { type: 'stop_sending', streamId: 8, errorCode: 7 },
      { frame_type: 'stop_sending', stream_id: 8, error: 'unknown', error_code: 7 },
    ],
    [
      '§8.13.7 CRYPTO: the length in raw.length, no bytes',
      { type: 'crypto', offset: 300, data: new Uint8Array(90) },
      { frame_type: 'crypto', offset: 300, raw: { length: 90 } },
    ],
    [
      '§8.13.8 NEW_TOKEN: a resumption Token, length only',
      { type: 'new_token', token: new Uint8Array(40) },
      { frame_type: 'new_token', token: { type: 'resumption', raw: { length: 40 } } },
    ],
    [
      '§8.13.9 STREAM: stream_id, offset, fin, raw.length',
      { type: 'stream', streamId: 0, offset: 5, data: enc.encode('hello'), fin: true },
      { frame_type: 'stream', stream_id: 0, offset: 5, fin: true, raw: { length: 5 } },
    ],
    [
      '§8.13.10 MAX_DATA',
      { type: 'max_data', maximum: 2 ** 40 },
      { frame_type: 'max_data', maximum: 2 ** 40 },
    ],
    [
      '§8.13.11 MAX_STREAM_DATA',
      { type: 'max_stream_data', streamId: 3, maximum: 65536 },
      { frame_type: 'max_stream_data', stream_id: 3, maximum: 65536 },
    ],
    [
      '§8.13.12 MAX_STREAMS',
      { type: 'max_streams', streamType: 'unidirectional', maximum: 100 },
      { frame_type: 'max_streams', stream_type: 'unidirectional', maximum: 100 },
    ],
    ['§8.13.13 DATA_BLOCKED', { type: 'data_blocked', limit: 1 }, { frame_type: 'data_blocked', limit: 1 }],
    [
      '§8.13.14 STREAM_DATA_BLOCKED',
      { type: 'stream_data_blocked', streamId: 12, limit: 999 },
      { frame_type: 'stream_data_blocked', stream_id: 12, limit: 999 },
    ],
    [
      '§8.13.15 STREAMS_BLOCKED',
      { type: 'streams_blocked', streamType: 'bidirectional', limit: 2 ** 60 },
      { frame_type: 'streams_blocked', stream_type: 'bidirectional', limit: 2 ** 60 },
    ],
    [
      '§8.13.16 NEW_CONNECTION_ID',
      {
        type: 'new_connection_id',
        sequenceNumber: 2,
        retirePriorTo: 1,
        connectionId: b(0xc0, 0xff, 0xee, 0x01),
        statelessResetToken: new Uint8Array(16).fill(0xab),
      },
      {
        frame_type: 'new_connection_id',
        sequence_number: 2,
        retire_prior_to: 1,
        connection_id_length: 4,
        connection_id: 'c0ffee01',
        stateless_reset_token: 'ab'.repeat(16),
      },
    ],
    [
      '§8.13.17 RETIRE_CONNECTION_ID',
      { type: 'retire_connection_id', sequenceNumber: 9 },
      { frame_type: 'retire_connection_id', sequence_number: 9 },
    ],
    [
      '§8.13.18 PATH_CHALLENGE: the 8 bytes as hex',
      { type: 'path_challenge', data: b(1, 2, 3, 4, 5, 6, 7, 8) },
      { frame_type: 'path_challenge', data: '0102030405060708' },
    ],
    [
      '§8.13.19 PATH_RESPONSE',
      { type: 'path_response', data: b(0xff, 0, 0, 0, 0, 0, 0, 0x10) },
      { frame_type: 'path_response', data: 'ff00000000000010' },
    ],
    [
      '§8.13.20 CONNECTION_CLOSE (transport): named error, trigger frame type by name',
      {
        type: 'connection_close',
        errorSpace: 'transport',
        errorCode: 0x03,
        frameType: 0x0a,
        reason: enc.encode('over limit'),
      },
      {
        frame_type: 'connection_close',
        error_space: 'transport',
        error: 'flow_control_error',
        error_code: 3,
        trigger_frame_type: 'stream',
        reason: 'over limit',
      },
    ],
    [
      '§8.13.20 + §8.13.26 CONNECTION_CLOSE carrying a TLS alert (CRYPTO_ERROR 0x128)',
      { type: 'connection_close', errorSpace: 'transport', errorCode: 0x128, frameType: 0x06, reason: b() },
      {
        frame_type: 'connection_close',
        error_space: 'transport',
        error: 'crypto_error_0x128',
        error_code: 0x128,
        trigger_frame_type: 'crypto',
      },
    ],
    [
      '§8.13.20 CONNECTION_CLOSE with an unknown code and frame type 0 (no trigger)',
      { type: 'connection_close', errorSpace: 'transport', errorCode: 0x4242, frameType: 0, reason: b() },
      { frame_type: 'connection_close', error_space: 'transport', error: 'unknown', error_code: 0x4242 },
    ],
    [
      '§8.13.20 CONNECTION_CLOSE with an unknown trigger frame type: the number',
      { type: 'connection_close', errorSpace: 'transport', errorCode: 7, frameType: 0x21, reason: b() },
      {
        frame_type: 'connection_close',
        error_space: 'transport',
        error: 'frame_encoding_error',
        error_code: 7,
        trigger_frame_type: 0x21,
      },
    ],
    [
      '§8.13.20 CONNECTION_CLOSE (application) with a reason that is not UTF-8: reason_bytes',
      { type: 'connection_close', errorSpace: 'application', errorCode: 0x100, reason: b(0xff, 0xfe) },
      {
        frame_type: 'connection_close',
        error_space: 'application',
        error: 'unknown',
        error_code: 0x100,
        reason_bytes: 'fffe',
      },
    ],
    ['§8.13.21 HANDSHAKE_DONE', { type: 'handshake_done' }, { frame_type: 'handshake_done' }],
    [
      '§8.13.23 DATAGRAM: raw.length only',
      { type: 'datagram', data: new Uint8Array(1000) },
      { frame_type: 'datagram', raw: { length: 1000 } },
    ],
  ];
  for (const [name, frame, expected] of cases) {
    it(name, () => assert.deepEqual(toQlogFrame(frame), expected));
  }

  it('§8.13.3 ACK: ranges ascending, single packets as [n], ack_delay in ms with the exponent', () => {
    const frame: Frame = {
      type: 'ack',
      largestAcknowledged: 22,
      ackDelay: 1000, // 1000 << 3 µs = 8 ms
      ranges: [
        { smallest: 10, largest: 22 },
        { smallest: 7, largest: 7 },
        { smallest: 1, largest: 5 },
      ],
      ecn: { ect0: 5, ect1: 1, ce: 2 },
    };
    assert.deepEqual(toQlogFrame(frame), {
      frame_type: 'ack',
      ack_delay: 8,
      acked_ranges: [[1, 5], [7], [10, 22]],
      ect1: 1,
      ect0: 5,
      ce: 2,
    });
    // RFC 9000 §18.2: the peer's ack_delay_exponent scales the field (here 2^10 µs units).
    assert.equal((toQlogFrame(frame, { ackDelayExponent: 10 }) as QlogAckFrame).ack_delay, 1024);
    assert.equal((toQlogFrame(frame, { ackDelayExponent: 0 }) as QlogAckFrame).ack_delay, 1);
  });

  it('§8.13.3 ACK without ECN counts has no ect0/ect1/ce', () => {
    const f = toQlogFrame({
      type: 'ack',
      largestAcknowledged: 0,
      ackDelay: 0,
      ranges: [{ smallest: 0, largest: 0 }],
    });
    assert.deepEqual(f, { frame_type: 'ack', ack_delay: 0, acked_ranges: [[0]] });
  });

  it('sorts ranges that were not given in wire (descending) order', () => {
    const f = toQlogFrame({
      type: 'ack',
      largestAcknowledged: 9,
      ackDelay: 0,
      ranges: [
        { smallest: 1, largest: 2 },
        { smallest: 8, largest: 9 },
      ],
    }) as QlogAckFrame;
    assert.deepEqual(f.acked_ranges, [
      [1, 2],
      [8, 9],
    ]);
  });

  it('logs payload bytes only with the raw option, truncated to rawLimit', () => {
    const stream: Frame = { type: 'stream', streamId: 4, offset: 0, data: enc.encode('GET /'), fin: false };
    assert.deepEqual(toQlogFrame(stream).raw, { length: 5 });
    assert.deepEqual(toQlogFrame(stream, { raw: true }).raw, { length: 5, data: '474554202f' });
    assert.deepEqual(toQlogFrame(stream, { raw: true, rawLimit: 2 }).raw, { length: 5, data: '4745' });
    const token: Frame = { type: 'new_token', token: b(9, 8) };
    assert.deepEqual(toQlogFrame(token, { raw: true }), {
      frame_type: 'new_token',
      token: { type: 'resumption', raw: { length: 2, data: '0908' } },
    });
    for (const [, f] of EDGE_FRAMES) {
      const json = JSON.stringify(toQlogFrame(f));
      assert.ok(!json.includes('"data":"') || f.type.startsWith('path_'), `${f.type} leaked bytes: ${json}`);
    }
  });

  it('names application errors through applicationErrorName (e.g. HTTP/3 codes)', () => {
    const names = (code: number) => (code === 0x10c ? 'request_cancelled' : undefined);
    const f = toQlogFrame(
      { type: 'reset_stream', streamId: 0, errorCode: 0x10c, finalSize: 0 },
      {
        applicationErrorName: names,
      },
    );
    assert.deepEqual(f, {
      frame_type: 'reset_stream',
      stream_id: 0,
      error: 'request_cancelled',
      error_code: 0x10c,
      final_size: 0,
    });
    const close = toQlogFrame(
      { type: 'connection_close', errorSpace: 'application', errorCode: 1, reason: b() },
      { applicationErrorName: names },
    );
    assert.equal((close as { error: string }).error, 'unknown');
  });

  it('§8.13.22 UnknownFrame', () => {
    assert.deepEqual(qlogUnknownFrame(0x40), { frame_type: 'unknown', frame_type_bytes: 0x40 });
    assert.deepEqual(qlogUnknownFrame(0x21, 12), {
      frame_type: 'unknown',
      frame_type_bytes: 0x21,
      raw: { length: 12 },
    });
  });

  it('toQlogFrames maps a packet in order', () => {
    assert.deepEqual(
      toQlogFrames([{ type: 'ping' }, { type: 'padding', length: 3 }]).map((f) => f.frame_type),
      ['ping', 'padding'],
    );
  });

  it('every frame: frame_type is the qlog name of its wire type; ACK ranges cover the same packets', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const q = toQlogFrame(frame);
        assert.equal(q.frame_type, qlogFrameTypeName(frameTypeOf(frame)));
        assert.doesNotThrow(() => JSON.stringify(q));
        if (frame.type === 'ack' && q.frame_type === 'ack') {
          const fromWire = frame.ranges.map((r) => `${r.smallest}-${r.largest}`).reverse();
          const fromQlog = q.acked_ranges!.map((r) => `${r[0]}-${r[r.length - 1]}`);
          assert.deepEqual(fromQlog, fromWire);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('qlog quic-events-13 §8.13.24 TransportError and §8.13.26 CryptoError names', () => {
  it('names every RFC 9000 §20.1 code 0x00..0x10', () => {
    const expected = [
      'no_error',
      'internal_error',
      'connection_refused',
      'flow_control_error',
      'stream_limit_error',
      'stream_state_error',
      'final_size_error',
      'frame_encoding_error',
      'transport_parameter_error',
      'connection_id_limit_error',
      'protocol_violation',
      'invalid_token',
      'application_error',
      'crypto_buffer_exceeded',
      'key_update_error',
      'aead_limit_reached',
      'no_viable_path',
    ];
    assert.deepEqual(
      expected.map((_, code) => qlogTransportError(code)),
      expected,
    );
  });
  it('CRYPTO_ERROR 0x100..0x1ff as crypto_error_0x1XX (RFC 9001 §4.8)', () => {
    assert.equal(qlogTransportError(0x100), 'crypto_error_0x100');
    assert.equal(qlogTransportError(0x12a), 'crypto_error_0x12a');
    assert.equal(qlogTransportError(0x1ff), 'crypto_error_0x1ff');
  });
  it('anything else is "unknown" (VERSION_NEGOTIATION_ERROR 0x11 has no qlog name in -13)', () => {
    for (const code of [0x11, 0xff, 0x200, 2 ** 62, -1, 1.5])
      assert.equal(qlogTransportError(code), 'unknown');
  });
  it('frame type names cover RFC 9000 §19 and RFC 9221 §4', () => {
    assert.equal(qlogFrameTypeName(0x03), 'ack');
    assert.equal(qlogFrameTypeName(0x0f), 'stream');
    assert.equal(qlogFrameTypeName(0x13), 'max_streams');
    assert.equal(qlogFrameTypeName(0x17), 'streams_blocked');
    assert.equal(qlogFrameTypeName(0x1d), 'connection_close');
    assert.equal(qlogFrameTypeName(0x31), 'datagram');
    assert.equal(qlogFrameTypeName(0x1f), null);
    assert.equal(qlogFrameTypeName(0x40), null);
  });
});
