// Frames at edge values, shared by the frame codec tests, and fast-check arbitraries for them.
import fc from 'fast-check';
import { MAX_VARINT } from '../../../core/wire/buffer.ts';
import type { AckFrame, AckRange, Frame } from '../../../core/wire/frames.ts';

/** The largest varint (2^62 - 1), as the double 2^62 that buffer.ts uses for it. */
export const MAX = MAX_VARINT;

export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function manyRanges(n: number, top: number): AckRange[] {
  // Ranges of 1..3 packets separated by gaps of 1..4 packets, going down from `top`.
  const ranges: AckRange[] = [];
  let largest = top;
  for (let i = 0; i < n; i++) {
    const smallest = largest - (i % 3);
    ranges.push({ smallest, largest });
    largest = smallest - 2 - (i % 4);
  }
  return ranges;
}

/** A named frame at edge values: 0, 2^62 - 1, 2^60, empty and maximal lengths. */
export const EDGE_FRAMES: [string, Frame][] = [
  ['PADDING of 1 byte', { type: 'padding', length: 1 }],
  ['PADDING of 1200 bytes', { type: 'padding', length: 1200 }],
  ['PING', { type: 'ping' }],
  [
    'ACK of packet 0',
    { type: 'ack', largestAcknowledged: 0, ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] },
  ],
  [
    'ACK of every packet 0..2^62-1, largest delay',
    { type: 'ack', largestAcknowledged: MAX, ackDelay: MAX, ranges: [{ smallest: 0, largest: MAX }] },
  ],
  [
    'ACK of packet 2^62-1 alone',
    { type: 'ack', largestAcknowledged: MAX, ackDelay: 0, ranges: [{ smallest: MAX, largest: MAX }] },
  ],
  [
    'ACK with zero ECN counts',
    {
      type: 'ack',
      largestAcknowledged: 7,
      ackDelay: 3,
      ranges: [{ smallest: 5, largest: 7 }],
      ecn: { ect0: 0, ect1: 0, ce: 0 },
    },
  ],
  [
    'ACK with maximal ECN counts',
    {
      type: 'ack',
      largestAcknowledged: 1,
      ackDelay: 0,
      ranges: [{ smallest: 1, largest: 1 }],
      ecn: { ect0: MAX, ect1: MAX, ce: MAX },
    },
  ],
  [
    'ACK with 256 ranges',
    { type: 'ack', largestAcknowledged: 100_000, ackDelay: 25, ranges: manyRanges(256, 100_000) },
  ],
  [
    'ACK with 100 ranges and ECN, large packet numbers',
    {
      type: 'ack',
      largestAcknowledged: 2 ** 40,
      ackDelay: 1 << 20,
      ranges: manyRanges(100, 2 ** 40),
      ecn: { ect0: 1000, ect1: 2, ce: 70_000 },
    },
  ],
  ['RESET_STREAM zeros', { type: 'reset_stream', streamId: 0, errorCode: 0, finalSize: 0 }],
  ['RESET_STREAM maxima', { type: 'reset_stream', streamId: MAX, errorCode: MAX, finalSize: MAX }],
  ['STOP_SENDING zeros', { type: 'stop_sending', streamId: 0, errorCode: 0 }],
  ['STOP_SENDING maxima', { type: 'stop_sending', streamId: MAX, errorCode: MAX }],
  ['CRYPTO empty at 0', { type: 'crypto', offset: 0, data: new Uint8Array(0) }],
  ['CRYPTO empty at 2^62-1', { type: 'crypto', offset: MAX, data: new Uint8Array(0) }],
  ['CRYPTO of 20000 bytes', { type: 'crypto', offset: 16383, data: bytes(20000) }],
  ['NEW_TOKEN of 1 byte', { type: 'new_token', token: bytes(1) }],
  ['NEW_TOKEN of 1000 bytes', { type: 'new_token', token: bytes(1000) }],
  ['MAX_DATA 0', { type: 'max_data', maximum: 0 }],
  ['MAX_DATA 2^62-1', { type: 'max_data', maximum: MAX }],
  ['MAX_STREAM_DATA maxima', { type: 'max_stream_data', streamId: MAX, maximum: MAX }],
  ['MAX_STREAM_DATA zeros', { type: 'max_stream_data', streamId: 0, maximum: 0 }],
  ['MAX_STREAMS bidi 0', { type: 'max_streams', streamType: 'bidirectional', maximum: 0 }],
  ['MAX_STREAMS bidi 2^60', { type: 'max_streams', streamType: 'bidirectional', maximum: 2 ** 60 }],
  ['MAX_STREAMS uni 2^60', { type: 'max_streams', streamType: 'unidirectional', maximum: 2 ** 60 }],
  ['DATA_BLOCKED 0', { type: 'data_blocked', limit: 0 }],
  ['DATA_BLOCKED 2^62-1', { type: 'data_blocked', limit: MAX }],
  ['STREAM_DATA_BLOCKED maxima', { type: 'stream_data_blocked', streamId: MAX, limit: MAX }],
  ['STREAMS_BLOCKED bidi 2^60', { type: 'streams_blocked', streamType: 'bidirectional', limit: 2 ** 60 }],
  ['STREAMS_BLOCKED uni 0', { type: 'streams_blocked', streamType: 'unidirectional', limit: 0 }],
  [
    'NEW_CONNECTION_ID 1-byte CID, zeros',
    {
      type: 'new_connection_id',
      sequenceNumber: 0,
      retirePriorTo: 0,
      connectionId: bytes(1),
      statelessResetToken: bytes(16, 7),
    },
  ],
  [
    'NEW_CONNECTION_ID 20-byte CID, maxima',
    {
      type: 'new_connection_id',
      sequenceNumber: MAX,
      retirePriorTo: MAX,
      connectionId: bytes(20),
      statelessResetToken: bytes(16, 9),
    },
  ],
  ['RETIRE_CONNECTION_ID 0', { type: 'retire_connection_id', sequenceNumber: 0 }],
  ['RETIRE_CONNECTION_ID 2^62-1', { type: 'retire_connection_id', sequenceNumber: MAX }],
  ['PATH_CHALLENGE', { type: 'path_challenge', data: bytes(8) }],
  ['PATH_RESPONSE', { type: 'path_response', data: bytes(8, 3) }],
  [
    'CONNECTION_CLOSE transport, empty reason',
    {
      type: 'connection_close',
      errorSpace: 'transport',
      errorCode: 0,
      frameType: 0,
      reason: new Uint8Array(0),
    },
  ],
  [
    'CONNECTION_CLOSE transport, maxima and a 20000-byte reason',
    {
      type: 'connection_close',
      errorSpace: 'transport',
      errorCode: MAX,
      frameType: MAX,
      reason: bytes(20000),
    },
  ],
  [
    'CONNECTION_CLOSE application, empty reason',
    { type: 'connection_close', errorSpace: 'application', errorCode: 0, reason: new Uint8Array(0) },
  ],
  [
    'CONNECTION_CLOSE application, 1000-byte reason',
    { type: 'connection_close', errorSpace: 'application', errorCode: MAX, reason: bytes(1000) },
  ],
  ['HANDSHAKE_DONE', { type: 'handshake_done' }],
  ['DATAGRAM empty', { type: 'datagram', data: new Uint8Array(0) }],
  ['DATAGRAM of 1400 bytes', { type: 'datagram', data: bytes(1400) }],
];

// Every OFF/LEN/FIN combination is reached by these plus `lastInPacket` (LEN off).
for (const streamId of [0, MAX])
  for (const offset of [0, 1, MAX])
    for (const fin of [false, true])
      for (const n of [0, 1, 64]) {
        if (offset === MAX && n > 0) continue; // offset + length must stay <= 2^62 - 1
        EDGE_FRAMES.push([
          `STREAM id ${streamId}, offset ${offset}, ${n} bytes${fin ? ', FIN' : ''}`,
          { type: 'stream', streamId, offset, data: bytes(n), fin },
        ]);
      }

// --- fast-check arbitraries -------------------------------------------------------------------

/** Any varint value: small ones often, and the 1/2/4/8-byte boundaries, up to 2^62 - 1. */
export const varint = (max = MAX): fc.Arbitrary<number> =>
  fc
    .oneof(
      fc.integer({ min: 0, max: 63 }),
      fc.integer({ min: 0, max: 16383 }),
      fc.integer({ min: 0, max: 2 ** 30 }),
      fc.maxSafeNat(),
      fc.double({ min: 2 ** 53, max: 2 ** 62, noNaN: true }).map(Math.floor),
      fc.constantFrom(0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, MAX),
    )
    .filter((v) => v <= max);

const data = (maxLength = 64) => fc.uint8Array({ maxLength });
const streamTypeArb = fc.constantFrom<'bidirectional' | 'unidirectional'>('bidirectional', 'unidirectional');

const ackArb: fc.Arbitrary<Frame> = fc
  .record({
    largest: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeNat()),
    first: fc.integer({ min: 0, max: 5000 }),
    more: fc.array(fc.tuple(fc.nat(3000), fc.nat(3000)), { maxLength: 60 }),
    ackDelay: varint(),
    ecn: fc.option(fc.record({ ect0: varint(), ect1: varint(), ce: varint() }), { nil: undefined }),
  })
  .map(({ largest, first, more, ackDelay, ecn }): Frame => {
    const ranges: AckRange[] = [{ smallest: Math.max(0, largest - first), largest }];
    for (const [gap, len] of more) {
      const hi = ranges[ranges.length - 1].smallest - gap - 2;
      if (hi - len < 0) break;
      ranges.push({ smallest: hi - len, largest: hi });
    }
    const f: AckFrame = { type: 'ack', largestAcknowledged: largest, ackDelay, ranges };
    // fc.record builds null-prototype objects: copy into a plain one for deepEqual.
    if (ecn !== undefined) f.ecn = { ect0: ecn.ect0, ect1: ecn.ect1, ce: ecn.ce };
    return f;
  });

/** Random frames of every kind, valid by construction. */
export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.integer({ min: 1, max: 1500 }).map((length): Frame => ({ type: 'padding', length })),
  fc.constant<Frame>({ type: 'ping' }),
  ackArb,
  fc.tuple(varint(), varint(), varint()).map(([streamId, errorCode, finalSize]): Frame => ({
    type: 'reset_stream',
    streamId,
    errorCode,
    finalSize,
  })),
  fc
    .tuple(varint(), varint())
    .map(([streamId, errorCode]): Frame => ({ type: 'stop_sending', streamId, errorCode })),
  fc.tuple(varint(2 ** 61), data(300)).map(([offset, d]): Frame => ({ type: 'crypto', offset, data: d })),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((token): Frame => ({ type: 'new_token', token })),
  fc
    .tuple(varint(), varint(2 ** 61), data(300), fc.boolean())
    .map(([streamId, offset, d, fin]): Frame => ({ type: 'stream', streamId, offset, data: d, fin })),
  varint().map((maximum): Frame => ({ type: 'max_data', maximum })),
  fc
    .tuple(varint(), varint())
    .map(([streamId, maximum]): Frame => ({ type: 'max_stream_data', streamId, maximum })),
  fc
    .tuple(streamTypeArb, varint(2 ** 60))
    .map(([streamType, maximum]): Frame => ({ type: 'max_streams', streamType, maximum })),
  varint().map((limit): Frame => ({ type: 'data_blocked', limit })),
  fc
    .tuple(varint(), varint())
    .map(([streamId, limit]): Frame => ({ type: 'stream_data_blocked', streamId, limit })),
  fc
    .tuple(streamTypeArb, varint(2 ** 60))
    .map(([streamType, limit]): Frame => ({ type: 'streams_blocked', streamType, limit })),
  fc
    .tuple(
      varint(),
      varint(),
      fc.uint8Array({ minLength: 1, maxLength: 20 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
    )
    .map(([a, b, connectionId, statelessResetToken]): Frame => ({
      type: 'new_connection_id',
      sequenceNumber: Math.max(a, b),
      retirePriorTo: Math.min(a, b),
      connectionId,
      statelessResetToken,
    })),
  varint().map((sequenceNumber): Frame => ({ type: 'retire_connection_id', sequenceNumber })),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((d): Frame => ({ type: 'path_challenge', data: d })),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((d): Frame => ({ type: 'path_response', data: d })),
  fc.tuple(varint(), varint(), data(100)).map(([errorCode, frameType, reason]): Frame => ({
    type: 'connection_close',
    errorSpace: 'transport',
    errorCode,
    frameType,
    reason,
  })),
  fc.tuple(varint(), data(100)).map(([errorCode, reason]): Frame => ({
    type: 'connection_close',
    errorSpace: 'application',
    errorCode,
    reason,
  })),
  fc.constant<Frame>({ type: 'handshake_done' }),
  data(300).map((d): Frame => ({ type: 'datagram', data: d })),
);
