/**
 * Our `Frame` union (core/wire/frame-types.ts) as qlog QuicFrame JSON (quic-events-13 §8.13).
 * Payload bytes (STREAM, CRYPTO, DATAGRAM data, tokens) are logged as lengths only unless the
 * `raw` option asks for them (main-schema-14 §10, §14: raw data can be sensitive).
 */
import type { Frame } from '../wire/frame-types.ts';
import type {
  ConnectionID,
  HexString,
  QlogStreamType,
  QlogToken,
  RawInfo,
  StatelessResetToken,
} from './events.ts';
import { hex, utf8OrNull } from './format.ts';

/** AckRange (§8.13.3): [n] for a single packet, [from, to] (inclusive) otherwise. */
export type QlogAckRange = [number] | [number, number];

/** PaddingFrame (§8.13.1): one per run of PADDING bytes, the count in raw.payload_length. */
export interface QlogPaddingFrame {
  frame_type: 'padding';
  raw?: RawInfo;
}
/** PingFrame (§8.13.2). */
export interface QlogPingFrame {
  frame_type: 'ping';
  raw?: RawInfo;
}
/** AckFrame (§8.13.3): ack_delay in ms, ranges ascending. */
export interface QlogAckFrame {
  frame_type: 'ack';
  ack_delay?: number;
  acked_ranges?: QlogAckRange[];
  ect1?: number;
  ect0?: number;
  ce?: number;
  raw?: RawInfo;
}
/** ResetStreamFrame (§8.13.4). */
export interface QlogResetStreamFrame {
  frame_type: 'reset_stream';
  stream_id: number;
  error: string;
  error_code?: number;
  final_size: number;
  raw?: RawInfo;
}
/** StopSendingFrame (§8.13.6). */
export interface QlogStopSendingFrame {
  frame_type: 'stop_sending';
  stream_id: number;
  error: string;
  error_code?: number;
  raw?: RawInfo;
}
/** CryptoFrame (§8.13.7): raw.length is the Length field (the data length). */
export interface QlogCryptoFrame {
  frame_type: 'crypto';
  offset: number;
  raw: RawInfo;
}
/** NewTokenFrame (§8.13.8). */
export interface QlogNewTokenFrame {
  frame_type: 'new_token';
  token: QlogToken;
  raw?: RawInfo;
}
/** StreamFrame (§8.13.9): raw.length is the data length. */
export interface QlogStreamFrame {
  frame_type: 'stream';
  stream_id: number;
  offset?: number;
  fin?: boolean;
  raw?: RawInfo;
}
/** MaxDataFrame (§8.13.10). */
export interface QlogMaxDataFrame {
  frame_type: 'max_data';
  maximum: number;
  raw?: RawInfo;
}
/** MaxStreamDataFrame (§8.13.11). */
export interface QlogMaxStreamDataFrame {
  frame_type: 'max_stream_data';
  stream_id: number;
  maximum: number;
  raw?: RawInfo;
}
/** MaxStreamsFrame (§8.13.12). */
export interface QlogMaxStreamsFrame {
  frame_type: 'max_streams';
  stream_type: QlogStreamType;
  maximum: number;
  raw?: RawInfo;
}
/** DataBlockedFrame (§8.13.13). */
export interface QlogDataBlockedFrame {
  frame_type: 'data_blocked';
  limit: number;
  raw?: RawInfo;
}
/** StreamDataBlockedFrame (§8.13.14). */
export interface QlogStreamDataBlockedFrame {
  frame_type: 'stream_data_blocked';
  stream_id: number;
  limit: number;
  raw?: RawInfo;
}
/** StreamsBlockedFrame (§8.13.15). */
export interface QlogStreamsBlockedFrame {
  frame_type: 'streams_blocked';
  stream_type: QlogStreamType;
  limit: number;
  raw?: RawInfo;
}
/** NewConnectionIDFrame (§8.13.16). */
export interface QlogNewConnectionIdFrame {
  frame_type: 'new_connection_id';
  sequence_number: number;
  retire_prior_to: number;
  connection_id_length?: number;
  connection_id: ConnectionID;
  stateless_reset_token?: StatelessResetToken;
  raw?: RawInfo;
}
/** RetireConnectionIDFrame (§8.13.17). */
export interface QlogRetireConnectionIdFrame {
  frame_type: 'retire_connection_id';
  sequence_number: number;
  raw?: RawInfo;
}
/** PathChallengeFrame / PathResponseFrame (§8.13.18, §8.13.19): 8 bytes of data. */
export interface QlogPathFrame {
  frame_type: 'path_challenge' | 'path_response';
  data?: HexString;
  raw?: RawInfo;
}
/** ConnectionCloseFrame (§8.13.20). */
export interface QlogConnectionCloseFrame {
  frame_type: 'connection_close';
  error_space?: 'transport' | 'application';
  /** A $TransportError name, crypto_error_0x1XX, an $ApplicationError name, or "unknown". */
  error?: string;
  error_code?: number;
  reason?: string;
  reason_bytes?: HexString;
  /** The qlog frame_type name of a known frame type, the number otherwise. */
  trigger_frame_type?: number | string;
  raw?: RawInfo;
}
/** HandshakeDoneFrame (§8.13.21). */
export interface QlogHandshakeDoneFrame {
  frame_type: 'handshake_done';
  raw?: RawInfo;
}
/** UnknownFrame (§8.13.22). */
export interface QlogUnknownFrame {
  frame_type: 'unknown';
  frame_type_bytes: number;
  raw?: RawInfo;
}
/** DatagramFrame (§8.13.23): raw.length is the data length. */
export interface QlogDatagramFrame {
  frame_type: 'datagram';
  raw?: RawInfo;
}

/** Every qlog QuicFrame we produce (§8.13 QuicBaseFrames, without reset_stream_at). */
export type QlogFrame =
  | QlogPaddingFrame
  | QlogPingFrame
  | QlogAckFrame
  | QlogResetStreamFrame
  | QlogStopSendingFrame
  | QlogCryptoFrame
  | QlogNewTokenFrame
  | QlogStreamFrame
  | QlogMaxDataFrame
  | QlogMaxStreamDataFrame
  | QlogMaxStreamsFrame
  | QlogDataBlockedFrame
  | QlogStreamDataBlockedFrame
  | QlogStreamsBlockedFrame
  | QlogNewConnectionIdFrame
  | QlogRetireConnectionIdFrame
  | QlogPathFrame
  | QlogConnectionCloseFrame
  | QlogHandshakeDoneFrame
  | QlogUnknownFrame
  | QlogDatagramFrame;

/** How `toQlogFrame` renders a frame. */
export interface QlogFrameOptions {
  /**
   * The ack_delay_exponent that scales ACK Delay (RFC 9000 §19.3, §18.2): the peer's transport
   * parameter for received 1-RTT ACKs, our own for sent ones; 3 (the default) in Initial and
   * Handshake packets.
   */
  ackDelayExponent?: number;
  /** Log payload bytes (stream/crypto/datagram data, tokens) as raw.data; default false. */
  raw?: boolean;
  /** With `raw`, truncate each logged byte string to this many bytes (main-schema-14 §11.4). */
  rawLimit?: number;
  /** Names application error codes (e.g. HTTP/3's); "unknown" when it returns undefined. */
  applicationErrorName?: (code: number) => string | undefined;
}

const NO_OPTIONS: QlogFrameOptions = {};

// quic-events-13 §8.13.24, indexed by the RFC 9000 §20.1 code.
const TRANSPORT_ERRORS: readonly string[] = [
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

/**
 * The qlog name of a transport error code: a §8.13.24 $TransportError name, "crypto_error_0x1XX"
 * for CRYPTO_ERROR 0x100-0x1ff (§8.13.26, RFC 9001 §4.8), otherwise "unknown" (log the number too).
 */
export function qlogTransportError(code: number): string {
  if (Number.isInteger(code) && code >= 0 && code < TRANSPORT_ERRORS.length) return TRANSPORT_ERRORS[code];
  if (Number.isInteger(code) && code >= 0x100 && code <= 0x1ff) return `crypto_error_0x${code.toString(16)}`;
  return 'unknown';
}

/** The qlog frame_type name of a frame type code (RFC 9000 §19, RFC 9221 §4), or null if unknown. */
export function qlogFrameTypeName(type: number): string | null {
  if (type >= 0x08 && type <= 0x0f) return 'stream';
  switch (type) {
    case 0x00:
      return 'padding';
    case 0x01:
      return 'ping';
    case 0x02:
    case 0x03:
      return 'ack';
    case 0x04:
      return 'reset_stream';
    case 0x05:
      return 'stop_sending';
    case 0x06:
      return 'crypto';
    case 0x07:
      return 'new_token';
    case 0x10:
      return 'max_data';
    case 0x11:
      return 'max_stream_data';
    case 0x12:
    case 0x13:
      return 'max_streams';
    case 0x14:
      return 'data_blocked';
    case 0x15:
      return 'stream_data_blocked';
    case 0x16:
    case 0x17:
      return 'streams_blocked';
    case 0x18:
      return 'new_connection_id';
    case 0x19:
      return 'retire_connection_id';
    case 0x1a:
      return 'path_challenge';
    case 0x1b:
      return 'path_response';
    case 0x1c:
    case 0x1d:
      return 'connection_close';
    case 0x1e:
      return 'handshake_done';
    case 0x30:
    case 0x31:
      return 'datagram';
    default:
      return null;
  }
}

function payload(data: Uint8Array, options: QlogFrameOptions): RawInfo {
  return options.raw ? { length: data.length, data: hex(data, options.rawLimit) } : { length: data.length };
}

function applicationError(code: number, options: QlogFrameOptions): string {
  return options.applicationErrorName?.(code) ?? 'unknown';
}

/** An UnknownFrame (§8.13.22) for a frame type this stack does not decode. */
export function qlogUnknownFrame(frameType: number, length?: number): QlogUnknownFrame {
  return length === undefined
    ? { frame_type: 'unknown', frame_type_bytes: frameType }
    : { frame_type: 'unknown', frame_type_bytes: frameType, raw: { length } };
}

/** A frame as qlog QuicFrame JSON (quic-events-13 §8.13). Called only when tracing is enabled. */
export function toQlogFrame(frame: Frame, options: QlogFrameOptions = NO_OPTIONS): QlogFrame {
  switch (frame.type) {
    case 'padding':
      // §8.13.1: one PaddingFrame for the run, its byte count in raw.payload_length.
      return { frame_type: 'padding', raw: { length: frame.length, payload_length: frame.length } };
    case 'ping':
      return { frame_type: 'ping' };
    case 'ack': {
      // RFC 9000 §19.3: ACK Delay is in units of 2^ack_delay_exponent microseconds; qlog wants ms.
      const exponent = options.ackDelayExponent ?? 3;
      const n = frame.ranges.length;
      const ranges: QlogAckRange[] = new Array<QlogAckRange>(n);
      // The wire lists ranges from the largest down; qlog reads better ascending (§8.13.3).
      let ascending = true;
      for (let i = 0; i < n; i++) {
        const r = frame.ranges[n - 1 - i];
        ranges[i] = r.smallest === r.largest ? [r.smallest] : [r.smallest, r.largest];
        if (i > 0 && r.smallest < ranges[i - 1][0]) ascending = false;
      }
      if (!ascending) ranges.sort((a, b) => a[0] - b[0]);
      const out: QlogAckFrame = {
        frame_type: 'ack',
        ack_delay: (frame.ackDelay * 2 ** exponent) / 1000,
        acked_ranges: ranges,
      };
      if (frame.ecn !== undefined) {
        out.ect1 = frame.ecn.ect1;
        out.ect0 = frame.ecn.ect0;
        out.ce = frame.ecn.ce;
      }
      return out;
    }
    case 'reset_stream':
      return {
        frame_type: 'reset_stream',
        stream_id: frame.streamId,
        error: applicationError(frame.errorCode, options),
        error_code: frame.errorCode,
        final_size: frame.finalSize,
      };
    case 'stop_sending':
      return {
        frame_type: 'stop_sending',
        stream_id: frame.streamId,
        error: applicationError(frame.errorCode, options),
        error_code: frame.errorCode,
      };
    case 'crypto':
      return { frame_type: 'crypto', offset: frame.offset, raw: payload(frame.data, options) };
    case 'new_token':
      // §8.9: a NEW_TOKEN token is the "resumption" kind.
      return { frame_type: 'new_token', token: { type: 'resumption', raw: payload(frame.token, options) } };
    case 'stream':
      return {
        frame_type: 'stream',
        stream_id: frame.streamId,
        offset: frame.offset,
        fin: frame.fin,
        raw: payload(frame.data, options),
      };
    case 'max_data':
      return { frame_type: 'max_data', maximum: frame.maximum };
    case 'max_stream_data':
      return { frame_type: 'max_stream_data', stream_id: frame.streamId, maximum: frame.maximum };
    case 'max_streams':
      return { frame_type: 'max_streams', stream_type: frame.streamType, maximum: frame.maximum };
    case 'data_blocked':
      return { frame_type: 'data_blocked', limit: frame.limit };
    case 'stream_data_blocked':
      return { frame_type: 'stream_data_blocked', stream_id: frame.streamId, limit: frame.limit };
    case 'streams_blocked':
      return { frame_type: 'streams_blocked', stream_type: frame.streamType, limit: frame.limit };
    case 'new_connection_id':
      return {
        frame_type: 'new_connection_id',
        sequence_number: frame.sequenceNumber,
        retire_prior_to: frame.retirePriorTo,
        connection_id_length: frame.connectionId.length,
        connection_id: hex(frame.connectionId),
        stateless_reset_token: hex(frame.statelessResetToken),
      };
    case 'retire_connection_id':
      return { frame_type: 'retire_connection_id', sequence_number: frame.sequenceNumber };
    case 'path_challenge':
    case 'path_response':
      return { frame_type: frame.type, data: hex(frame.data) };
    case 'connection_close': {
      const out: QlogConnectionCloseFrame = { frame_type: 'connection_close', error_space: frame.errorSpace };
      if (frame.errorSpace === 'transport') {
        out.error = qlogTransportError(frame.errorCode);
        out.error_code = frame.errorCode;
        // RFC 9000 §19.19: Frame Type 0 means the triggering frame type is unknown (or PADDING,
        // which cannot trigger an error); log it only when it names a frame.
        if (frame.frameType !== 0) {
          out.trigger_frame_type = qlogFrameTypeName(frame.frameType) ?? frame.frameType;
        }
      } else {
        out.error = applicationError(frame.errorCode, options);
        out.error_code = frame.errorCode;
      }
      if (frame.reason.length > 0) {
        // §8.13.20: the reason is bytes; text when it is UTF-8, hex otherwise.
        const text = utf8OrNull(frame.reason);
        if (text !== null) out.reason = text;
        else out.reason_bytes = hex(frame.reason, options.rawLimit);
      }
      return out;
    }
    case 'handshake_done':
      return { frame_type: 'handshake_done' };
    case 'datagram':
      return { frame_type: 'datagram', raw: payload(frame.data, options) };
  }
}

/** Every frame of a packet as qlog frames. */
export function toQlogFrames(frames: readonly Frame[], options: QlogFrameOptions = NO_OPTIONS): QlogFrame[] {
  const out = new Array<QlogFrame>(frames.length);
  for (let i = 0; i < frames.length; i++) out[i] = toQlogFrame(frames[i], options);
  return out;
}
