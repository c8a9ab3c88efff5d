/**
 * Frame codecs: every frame of RFC 9000 §19 plus DATAGRAM (RFC 9221 §4), decoded from a `Reader`
 * into the `Frame` union and encoded into a caller's `Writer`.
 *
 * Decoding rules (RFC 9000 §12.4):
 * - Unknown frame types are a FRAME_ENCODING_ERROR. Frame types must use their shortest varint
 *   encoding; a longer one (e.g. 0x4001 for PING) is rejected as a PROTOCOL_VIOLATION, which
 *   §12.4 permits. Whether a frame may appear in a packet type is `frameAllowedIn`'s job.
 * - Every structural violation, truncation included, is a FRAME_ENCODING_ERROR that carries the
 *   frame type (0 when the type itself is truncated).
 * - Byte fields (data, token, connection ID, reason...) are subarrays of the input: copy them if
 *   they must outlive the packet buffer.
 * - Numbers follow buffer.ts: exact up to 2^53 - 1; the checks the RFC puts on large values
 *   (offset + length <= 2^62 - 1, MAX_STREAMS <= 2^60, ACK ranges >= 0, retire_prior_to <=
 *   sequence_number) are done exactly, on bigints when a value is above 2^53.
 * - DATAGRAM is always decoded; rejecting it when max_datagram_frame_size was not sent
 *   (RFC 9221 §3) is the connection's job.
 */
import { MAX_VARINT, Reader, varintLength } from './buffer.ts';
import type { Writer } from './buffer.ts';
import { QuicError, frameEncodingError, protocolViolation } from './errors.ts';
import { FrameType, StreamFlag } from './frame-types.ts';
import type { Frame, StreamFrame, StreamType } from './frame-types.ts';
import { ackFrameLength, decodeAck, writeAckFrame } from './ack-frame.ts';

export * from './frame-types.ts';
export { MAX_ACK_RANGES, ackFrameLength, writeAckFrame } from './ack-frame.ts';

/** The largest Maximum Streams value (RFC 9000 §19.11, §19.14). */
export const MAX_STREAMS_LIMIT = 2 ** 60;
/** The longest connection ID in QUIC v1 (RFC 9000 §17.2, §19.15). */
export const MAX_CONNECTION_ID_LENGTH = 20;
/** Stateless reset tokens are 16 bytes (RFC 9000 §10.3, §19.15). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** PATH_CHALLENGE and PATH_RESPONSE carry 8 bytes (RFC 9000 §19.17). */
export const PATH_DATA_LENGTH = 8;

const MAX_VARINT_BIG = (1n << 62n) - 1n;
const MAX_STREAMS_BIG = 1n << 60n;

/** Reads one frame (a run of PADDING bytes is one frame). Raises a typed `QuicError` on bad input. */
export function decodeFrame(r: Reader): Frame {
  const buf = r.buf;
  const start = r.offset;
  let type = 0; // "unknown", as in CONNECTION_CLOSE (RFC 9000 §19.19)
  try {
    if (start < r.end && buf[start] < 0x40) {
      type = buf[start];
      r.offset = start + 1;
    } else {
      type = r.varint();
      // RFC 9000 §12.4: a frame type MUST use the shortest encoding. Every known type fits in
      // one byte, so a longer encoding is either not minimal or an unknown type.
      if (varintLength(type) < r.offset - start)
        throw protocolViolation('frame type not minimally encoded', type);
    }
    switch (type) {
      case FrameType.PADDING: {
        const end = r.end;
        let o = r.offset;
        while (o < end && buf[o] === 0) o++;
        r.offset = o;
        return { type: 'padding', length: o - start };
      }
      case FrameType.PING:
        return { type: 'ping' };
      case FrameType.ACK:
      case FrameType.ACK_ECN:
        return decodeAck(r, type);
      case FrameType.RESET_STREAM: {
        const streamId = r.varint();
        const errorCode = r.varint();
        const finalSize = r.varint();
        return { type: 'reset_stream', streamId, errorCode, finalSize };
      }
      case FrameType.STOP_SENDING: {
        const streamId = r.varint();
        const errorCode = r.varint();
        return { type: 'stop_sending', streamId, errorCode };
      }
      case FrameType.CRYPTO: {
        const offsetAt = r.offset;
        const offset = r.varint();
        const data = r.bytes(r.varint());
        // RFC 9000 §19.6: offset + length cannot exceed 2^62 - 1.
        checkEndOffset(r, offsetAt, offset, data.length, type);
        return { type: 'crypto', offset, data };
      }
      case FrameType.NEW_TOKEN: {
        const length = r.varint();
        // RFC 9000 §19.7: the token MUST NOT be empty.
        if (length === 0) throw frameEncodingError('empty NEW_TOKEN token', type);
        return { type: 'new_token', token: r.bytes(length) };
      }
      case 0x08:
      case 0x09:
      case 0x0a:
      case 0x0b:
      case 0x0c:
      case 0x0d:
      case 0x0e:
      case 0x0f:
        return decodeStream(r, type);
      case FrameType.MAX_DATA:
        return { type: 'max_data', maximum: r.varint() };
      case FrameType.MAX_STREAM_DATA: {
        const streamId = r.varint();
        const maximum = r.varint();
        return { type: 'max_stream_data', streamId, maximum };
      }
      case FrameType.MAX_STREAMS_BIDI:
      case FrameType.MAX_STREAMS_UNI: {
        const streamType: StreamType =
          type === FrameType.MAX_STREAMS_BIDI ? 'bidirectional' : 'unidirectional';
        return { type: 'max_streams', streamType, maximum: readStreamCount(r, type) };
      }
      case FrameType.DATA_BLOCKED:
        return { type: 'data_blocked', limit: r.varint() };
      case FrameType.STREAM_DATA_BLOCKED: {
        const streamId = r.varint();
        const limit = r.varint();
        return { type: 'stream_data_blocked', streamId, limit };
      }
      case FrameType.STREAMS_BLOCKED_BIDI:
      case FrameType.STREAMS_BLOCKED_UNI: {
        const streamType: StreamType =
          type === FrameType.STREAMS_BLOCKED_BIDI ? 'bidirectional' : 'unidirectional';
        return { type: 'streams_blocked', streamType, limit: readStreamCount(r, type) };
      }
      case FrameType.NEW_CONNECTION_ID:
        return decodeNewConnectionId(r, type);
      case FrameType.RETIRE_CONNECTION_ID:
        return { type: 'retire_connection_id', sequenceNumber: r.varint() };
      case FrameType.PATH_CHALLENGE:
        return { type: 'path_challenge', data: r.bytes(PATH_DATA_LENGTH) };
      case FrameType.PATH_RESPONSE:
        return { type: 'path_response', data: r.bytes(PATH_DATA_LENGTH) };
      case FrameType.CONNECTION_CLOSE: {
        const errorCode = r.varint();
        const frameType = r.varint();
        const reason = r.bytes(r.varint());
        return { type: 'connection_close', errorSpace: 'transport', errorCode, frameType, reason };
      }
      case FrameType.CONNECTION_CLOSE_APP: {
        const errorCode = r.varint();
        const reason = r.bytes(r.varint());
        return { type: 'connection_close', errorSpace: 'application', errorCode, reason };
      }
      case FrameType.HANDSHAKE_DONE:
        return { type: 'handshake_done' };
      case FrameType.DATAGRAM:
        // RFC 9221 §4: without the LEN bit the data runs to the end of the packet.
        return { type: 'datagram', data: r.rest() };
      case FrameType.DATAGRAM_LEN:
        return { type: 'datagram', data: r.bytes(r.varint()) };
      default:
        // RFC 9000 §12.4: an unknown frame type is a FRAME_ENCODING_ERROR.
        throw frameEncodingError(`unknown frame type 0x${type.toString(16)}`, type);
    }
  } catch (e) {
    // The Reader's own truncation errors carry no frame type: attach it (RFC 9000 §12.4, §19.19).
    if (e instanceof QuicError && e.frameType === null) throw frameEncodingError(e.reason, type);
    throw e;
  }
}

function decodeStream(r: Reader, type: number): StreamFrame {
  const streamId = r.varint();
  let offset = 0;
  let offsetAt = -1;
  if ((type & StreamFlag.OFF) !== 0) {
    offsetAt = r.offset;
    offset = r.varint();
  }
  // RFC 9000 §19.8: without the LEN bit, Stream Data runs to the end of the packet.
  const data = (type & StreamFlag.LEN) !== 0 ? r.bytes(r.varint()) : r.rest();
  // RFC 9000 §19.8: offset + length cannot exceed 2^62 - 1.
  if (offsetAt >= 0) checkEndOffset(r, offsetAt, offset, data.length, type);
  return { type: 'stream', streamId, offset, data, fin: (type & StreamFlag.FIN) !== 0 };
}

/** The exact value of the varint at `at` (used only for values at or above 2^53). */
function exactVarint(r: Reader, at: number): bigint {
  return new Reader(r.buf, at, r.end).varintBig();
}

/** RFC 9000 §19.6, §19.8: the largest offset, offset + length, is at most 2^62 - 1. */
function checkEndOffset(r: Reader, offsetAt: number, offset: number, length: number, type: number): void {
  if (offset + length <= Number.MAX_SAFE_INTEGER) return;
  if (exactVarint(r, offsetAt) + BigInt(length) > MAX_VARINT_BIG)
    throw frameEncodingError('offset + length exceeds 2^62 - 1', type);
}

/** RFC 9000 §19.11, §19.14: a stream count cannot exceed 2^60. */
function readStreamCount(r: Reader, type: number): number {
  const at = r.offset;
  const v = r.varint();
  // Rounding to a double is monotonic: above 2^60 as a double means above 2^60 exactly; equal
  // to 2^60 needs the exact value.
  if (v > MAX_STREAMS_LIMIT || (v === MAX_STREAMS_LIMIT && exactVarint(r, at) > MAX_STREAMS_BIG))
    throw frameEncodingError('stream count exceeds 2^60', type);
  return v;
}

function decodeNewConnectionId(r: Reader, type: number): Frame {
  const seqAt = r.offset;
  const sequenceNumber = r.varint();
  const rptAt = r.offset;
  const retirePriorTo = r.varint();
  // RFC 9000 §19.15: Retire Prior To MUST NOT exceed Sequence Number.
  if (
    retirePriorTo > sequenceNumber ||
    (retirePriorTo === sequenceNumber &&
      sequenceNumber > Number.MAX_SAFE_INTEGER &&
      exactVarint(r, rptAt) > exactVarint(r, seqAt))
  )
    throw frameEncodingError('retire_prior_to greater than sequence_number', type);
  const length = r.u8();
  // RFC 9000 §19.15: a length below 1 or above 20 is a FRAME_ENCODING_ERROR.
  if (length < 1 || length > MAX_CONNECTION_ID_LENGTH)
    throw frameEncodingError(`connection ID length ${length} outside 1..20`, type);
  const connectionId = r.bytes(length);
  const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
  return { type: 'new_connection_id', sequenceNumber, retirePriorTo, connectionId, statelessResetToken };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The wire type `f` encodes as. `lastInPacket` lets STREAM and DATAGRAM drop their Length field
 * (RFC 9000 §19.8, RFC 9221 §4): their data then runs to the end of the packet.
 */
export function frameTypeOf(f: Frame, lastInPacket = false): number {
  switch (f.type) {
    case 'padding':
      return FrameType.PADDING;
    case 'ping':
      return FrameType.PING;
    case 'ack':
      return f.ecn === undefined ? FrameType.ACK : FrameType.ACK_ECN;
    case 'reset_stream':
      return FrameType.RESET_STREAM;
    case 'stop_sending':
      return FrameType.STOP_SENDING;
    case 'crypto':
      return FrameType.CRYPTO;
    case 'new_token':
      return FrameType.NEW_TOKEN;
    case 'stream':
      return streamType(f.offset, f.fin, !lastInPacket);
    case 'max_data':
      return FrameType.MAX_DATA;
    case 'max_stream_data':
      return FrameType.MAX_STREAM_DATA;
    case 'max_streams':
      return f.streamType === 'bidirectional' ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI;
    case 'data_blocked':
      return FrameType.DATA_BLOCKED;
    case 'stream_data_blocked':
      return FrameType.STREAM_DATA_BLOCKED;
    case 'streams_blocked':
      return f.streamType === 'bidirectional'
        ? FrameType.STREAMS_BLOCKED_BIDI
        : FrameType.STREAMS_BLOCKED_UNI;
    case 'new_connection_id':
      return FrameType.NEW_CONNECTION_ID;
    case 'retire_connection_id':
      return FrameType.RETIRE_CONNECTION_ID;
    case 'path_challenge':
      return FrameType.PATH_CHALLENGE;
    case 'path_response':
      return FrameType.PATH_RESPONSE;
    case 'connection_close':
      return f.errorSpace === 'transport' ? FrameType.CONNECTION_CLOSE : FrameType.CONNECTION_CLOSE_APP;
    case 'handshake_done':
      return FrameType.HANDSHAKE_DONE;
    case 'datagram':
      return lastInPacket ? FrameType.DATAGRAM : FrameType.DATAGRAM_LEN;
  }
}

/**
 * Writes `f` and returns the bytes written (always `frameLength(f, lastInPacket)`). With
 * `lastInPacket`, STREAM and DATAGRAM omit their Length field: only for the packet's last frame.
 * Values a peer could not decode (a 9-byte PATH_CHALLENGE, a 21-byte CID, a retire_prior_to above
 * the sequence number, ACK ranges out of order...) are the caller's bug: RangeError.
 */
export function encodeFrame(w: Writer, f: Frame, lastInPacket = false): number {
  const start = w.offset;
  switch (f.type) {
    case 'padding':
      if (!(Number.isInteger(f.length) && f.length >= 1)) throw new RangeError(`PADDING length ${f.length}`);
      w.fill(0, f.length);
      break;
    case 'ping':
    case 'handshake_done':
      w.u8(frameTypeOf(f));
      break;
    case 'ack':
      writeAckFrame(w, f);
      break;
    case 'reset_stream':
      w.u8(FrameType.RESET_STREAM).varint(f.streamId).varint(f.errorCode).varint(f.finalSize);
      break;
    case 'stop_sending':
      w.u8(FrameType.STOP_SENDING).varint(f.streamId).varint(f.errorCode);
      break;
    case 'crypto':
      writeCryptoFrameHeader(w, f.offset, f.data.length);
      w.bytes(f.data);
      break;
    case 'new_token':
      if (f.token.length === 0) throw new RangeError('NEW_TOKEN token must not be empty');
      w.u8(FrameType.NEW_TOKEN).varintBytes(f.token);
      break;
    case 'stream':
      writeStreamFrameHeader(w, f.streamId, f.offset, f.data.length, f.fin, !lastInPacket);
      w.bytes(f.data);
      break;
    case 'max_data':
      w.u8(FrameType.MAX_DATA).varint(f.maximum);
      break;
    case 'max_stream_data':
      w.u8(FrameType.MAX_STREAM_DATA).varint(f.streamId).varint(f.maximum);
      break;
    case 'max_streams':
      w.u8(frameTypeOf(f)).varint(streamCount(f.maximum));
      break;
    case 'data_blocked':
      w.u8(FrameType.DATA_BLOCKED).varint(f.limit);
      break;
    case 'stream_data_blocked':
      w.u8(FrameType.STREAM_DATA_BLOCKED).varint(f.streamId).varint(f.limit);
      break;
    case 'streams_blocked':
      w.u8(frameTypeOf(f)).varint(streamCount(f.limit));
      break;
    case 'new_connection_id':
      checkNewConnectionId(f.sequenceNumber, f.retirePriorTo, f.connectionId, f.statelessResetToken);
      w.u8(FrameType.NEW_CONNECTION_ID).varint(f.sequenceNumber).varint(f.retirePriorTo);
      w.vector(1, f.connectionId).bytes(f.statelessResetToken);
      break;
    case 'retire_connection_id':
      w.u8(FrameType.RETIRE_CONNECTION_ID).varint(f.sequenceNumber);
      break;
    case 'path_challenge':
    case 'path_response':
      if (f.data.length !== PATH_DATA_LENGTH) throw new RangeError(`${f.type} data must be 8 bytes`);
      w.u8(frameTypeOf(f)).bytes(f.data);
      break;
    case 'connection_close':
      if (f.errorSpace === 'transport')
        w.u8(FrameType.CONNECTION_CLOSE).varint(f.errorCode).varint(f.frameType);
      else w.u8(FrameType.CONNECTION_CLOSE_APP).varint(f.errorCode);
      w.varintBytes(f.reason);
      break;
    case 'datagram':
      if (lastInPacket) w.u8(FrameType.DATAGRAM);
      else w.u8(FrameType.DATAGRAM_LEN).varint(f.data.length);
      w.bytes(f.data);
      break;
  }
  return w.offset - start;
}

/** The exact size `encodeFrame(w, f, lastInPacket)` writes, computed without writing. */
export function frameLength(f: Frame, lastInPacket = false): number {
  switch (f.type) {
    case 'padding':
      return f.length;
    case 'ping':
    case 'handshake_done':
      return 1;
    case 'ack':
      return ackFrameLength(f);
    case 'reset_stream':
      return 1 + varintLength(f.streamId) + varintLength(f.errorCode) + varintLength(f.finalSize);
    case 'stop_sending':
      return 1 + varintLength(f.streamId) + varintLength(f.errorCode);
    case 'crypto':
      return cryptoFrameHeaderLength(f.offset, f.data.length) + f.data.length;
    case 'new_token':
      return 1 + varintLength(f.token.length) + f.token.length;
    case 'stream':
      return streamFrameHeaderLength(f.streamId, f.offset, f.data.length, !lastInPacket) + f.data.length;
    case 'max_data':
      return 1 + varintLength(f.maximum);
    case 'max_stream_data':
      return 1 + varintLength(f.streamId) + varintLength(f.maximum);
    case 'max_streams':
      return 1 + varintLength(f.maximum);
    case 'data_blocked':
      return 1 + varintLength(f.limit);
    case 'stream_data_blocked':
      return 1 + varintLength(f.streamId) + varintLength(f.limit);
    case 'streams_blocked':
      return 1 + varintLength(f.limit);
    case 'new_connection_id':
      return (
        1 +
        varintLength(f.sequenceNumber) +
        varintLength(f.retirePriorTo) +
        1 +
        f.connectionId.length +
        f.statelessResetToken.length
      );
    case 'retire_connection_id':
      return 1 + varintLength(f.sequenceNumber);
    case 'path_challenge':
    case 'path_response':
      return 1 + f.data.length;
    case 'connection_close':
      return (
        1 +
        varintLength(f.errorCode) +
        (f.errorSpace === 'transport' ? varintLength(f.frameType) : 0) +
        varintLength(f.reason.length) +
        f.reason.length
      );
    case 'datagram':
      return 1 + (lastInPacket ? 0 : varintLength(f.data.length)) + f.data.length;
  }
}

function streamCount(n: number): number {
  if (n > MAX_STREAMS_LIMIT) throw new RangeError(`stream count ${n} above 2^60`);
  return n;
}

function checkNewConnectionId(seq: number, rpt: number, cid: Uint8Array, token: Uint8Array): void {
  if (rpt > seq) throw new RangeError('retire_prior_to above sequence_number');
  if (cid.length < 1 || cid.length > MAX_CONNECTION_ID_LENGTH)
    throw new RangeError(`connection ID length ${cid.length} outside 1..20`);
  if (token.length !== STATELESS_RESET_TOKEN_LENGTH)
    throw new RangeError('stateless reset token must be 16 bytes');
}

// ---------------------------------------------------------------------------------------------
// Hot-path helpers: write a STREAM or CRYPTO header, then copy the payload straight from the
// send buffer, with no frame object and no intermediate copy.

function streamType(offset: number, fin: boolean, withLength: boolean): number {
  return (
    FrameType.STREAM |
    (offset > 0 ? StreamFlag.OFF : 0) |
    (withLength ? StreamFlag.LEN : 0) |
    (fin ? StreamFlag.FIN : 0)
  );
}

/** Size of a STREAM frame header; the Offset field is present only when `offset > 0`. */
export function streamFrameHeaderLength(
  streamId: number,
  offset: number,
  length: number,
  withLength: boolean,
): number {
  return (
    1 +
    varintLength(streamId) +
    (offset > 0 ? varintLength(offset) : 0) +
    (withLength ? varintLength(length) : 0)
  );
}

/**
 * Writes a STREAM frame header (RFC 9000 §19.8) for `length` bytes of data at `offset`; the caller
 * writes the data next. Without `withLength` the data must run to the end of the packet. Returns
 * the header size.
 */
export function writeStreamFrameHeader(
  w: Writer,
  streamId: number,
  offset: number,
  length: number,
  fin: boolean,
  withLength: boolean,
): number {
  checkRange(offset, length);
  const start = w.offset;
  w.u8(streamType(offset, fin, withLength)).varint(streamId);
  if (offset > 0) w.varint(offset);
  if (withLength) w.varint(length);
  return w.offset - start;
}

/**
 * The most STREAM data that fits, with its header, in `room` bytes; -1 if not even an empty frame
 * fits. Without `withLength` the frame fills `room` exactly.
 */
export function streamFrameCapacity(
  room: number,
  streamId: number,
  offset: number,
  withLength: boolean,
): number {
  const avail = room - 1 - varintLength(streamId) - (offset > 0 ? varintLength(offset) : 0);
  return withLength ? lengthPrefixedCapacity(avail) : Math.max(avail, -1);
}

/** Size of a CRYPTO frame header (RFC 9000 §19.6). */
export function cryptoFrameHeaderLength(offset: number, length: number): number {
  return 1 + varintLength(offset) + varintLength(length);
}

/** Writes a CRYPTO frame header for `length` bytes at `offset`; the caller writes the data next. */
export function writeCryptoFrameHeader(w: Writer, offset: number, length: number): number {
  checkRange(offset, length);
  const start = w.offset;
  w.u8(FrameType.CRYPTO).varint(offset).varint(length);
  return w.offset - start;
}

/** The most CRYPTO data that fits, with its header, in `room` bytes; -1 if not even an empty frame fits. */
export function cryptoFrameCapacity(room: number, offset: number): number {
  return lengthPrefixedCapacity(room - 1 - varintLength(offset));
}

/** The largest n with n + varintLength(n) <= avail, or -1. */
function lengthPrefixedCapacity(avail: number): number {
  // The best n for each size of the Length field (1, 2, 4, 8 bytes), capped by what that size holds.
  return Math.max(
    -1,
    Math.min(avail - 1, 0x3f),
    Math.min(avail - 2, 0x3fff),
    Math.min(avail - 4, 0x3fff_ffff),
    Math.min(avail - 8, MAX_VARINT),
  );
}

function checkRange(offset: number, length: number): void {
  // RFC 9000 §19.6, §19.8: the end of the data is at most 2^62 - 1. Above 2^53 the double sum is
  // inexact, so compare exactly (the double 2^62 stands for 2^62 - 1, see buffer.ts).
  if (length >= 0 && offset >= 0 && offset + length <= Number.MAX_SAFE_INTEGER) return;
  if (!(Number.isInteger(length) && Number.isInteger(offset) && length >= 0 && offset >= 0))
    throw new RangeError(`bad data range: offset ${offset}, length ${length}`);
  const exactOffset = offset >= 2 ** 62 ? MAX_VARINT_BIG : BigInt(offset);
  if (exactOffset + BigInt(length) > MAX_VARINT_BIG)
    throw new RangeError(`data range ends beyond 2^62 - 1: offset ${offset}, length ${length}`);
}
