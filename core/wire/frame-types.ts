/**
 * QUIC frame types: the wire codes (RFC 9000 §19, RFC 9221 §4), the typed `Frame` union
 * (named after the qlog frame_type strings, draft-ietf-quic-qlog-quic-events-13 §8.13, so
 * traces can reuse decoded frames as they are) and RFC 9000 §12.4 Table 3 as data.
 */

/** Frame type codes (RFC 9000 §19, §12.4 Table 3; DATAGRAM from RFC 9221 §4). */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** STREAM is 0x08..0x0f: 0x08 | OFF (0x04) | LEN (0x02) | FIN (0x01), see `StreamFlag`. */
  STREAM: 0x08,
  STREAM_MAX: 0x0f,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  DATAGRAM: 0x30,
  DATAGRAM_LEN: 0x31,
} as const;

/** The low bits of a STREAM frame type (RFC 9000 §19.8). */
export const StreamFlag = { OFF: 0x04, LEN: 0x02, FIN: 0x01 } as const;

/** 'bidirectional' (types 0x12, 0x16) or 'unidirectional' (0x13, 0x17), as qlog's StreamType. */
export type StreamType = 'bidirectional' | 'unidirectional';

/** A run of consecutive PADDING bytes (RFC 9000 §19.1), logged as one frame (qlog §8.13.1). */
export interface PaddingFrame {
  type: 'padding';
  length: number;
}

/** PING (RFC 9000 §19.2). */
export interface PingFrame {
  type: 'ping';
}

/** An inclusive range of acknowledged packet numbers. */
export interface AckRange {
  smallest: number;
  largest: number;
}

/** ECN counts of an ACK frame of type 0x03 (RFC 9000 §19.3.2). */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/** The fields of an ACK frame, without the discriminant (what `ackFrameLength` takes). */
export interface AckFields {
  largestAcknowledged: number;
  /** The raw ACK Delay field, not yet scaled by the ack_delay_exponent (RFC 9000 §19.3). */
  ackDelay: number;
  /** Descending, non-adjacent ranges; the first one's `largest` is `largestAcknowledged`. */
  ranges: readonly AckRange[];
  ecn?: EcnCounts;
}

/** ACK (RFC 9000 §19.3); type 0x03 when `ecn` is present. */
export interface AckFrame extends AckFields {
  type: 'ack';
}

/** RESET_STREAM (RFC 9000 §19.4). */
export interface ResetStreamFrame {
  type: 'reset_stream';
  streamId: number;
  errorCode: number;
  finalSize: number;
}

/** STOP_SENDING (RFC 9000 §19.5). */
export interface StopSendingFrame {
  type: 'stop_sending';
  streamId: number;
  errorCode: number;
}

/** CRYPTO (RFC 9000 §19.6). */
export interface CryptoFrame {
  type: 'crypto';
  offset: number;
  data: Uint8Array;
}

/** NEW_TOKEN (RFC 9000 §19.7); the token is never empty. */
export interface NewTokenFrame {
  type: 'new_token';
  token: Uint8Array;
}

/** STREAM (RFC 9000 §19.8). */
export interface StreamFrame {
  type: 'stream';
  streamId: number;
  offset: number;
  data: Uint8Array;
  fin: boolean;
}

/** MAX_DATA (RFC 9000 §19.9). */
export interface MaxDataFrame {
  type: 'max_data';
  maximum: number;
}

/** MAX_STREAM_DATA (RFC 9000 §19.10). */
export interface MaxStreamDataFrame {
  type: 'max_stream_data';
  streamId: number;
  maximum: number;
}

/** MAX_STREAMS (RFC 9000 §19.11); `maximum` is at most 2^60. */
export interface MaxStreamsFrame {
  type: 'max_streams';
  streamType: StreamType;
  maximum: number;
}

/** DATA_BLOCKED (RFC 9000 §19.12). */
export interface DataBlockedFrame {
  type: 'data_blocked';
  limit: number;
}

/** STREAM_DATA_BLOCKED (RFC 9000 §19.13). */
export interface StreamDataBlockedFrame {
  type: 'stream_data_blocked';
  streamId: number;
  limit: number;
}

/** STREAMS_BLOCKED (RFC 9000 §19.14); `limit` is at most 2^60. */
export interface StreamsBlockedFrame {
  type: 'streams_blocked';
  streamType: StreamType;
  limit: number;
}

/** NEW_CONNECTION_ID (RFC 9000 §19.15): a 1..20-byte CID and a 16-byte reset token. */
export interface NewConnectionIdFrame {
  type: 'new_connection_id';
  sequenceNumber: number;
  retirePriorTo: number;
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

/** RETIRE_CONNECTION_ID (RFC 9000 §19.16). */
export interface RetireConnectionIdFrame {
  type: 'retire_connection_id';
  sequenceNumber: number;
}

/** PATH_CHALLENGE (RFC 9000 §19.17): 8 bytes of data. */
export interface PathChallengeFrame {
  type: 'path_challenge';
  data: Uint8Array;
}

/** PATH_RESPONSE (RFC 9000 §19.18): 8 bytes of data. */
export interface PathResponseFrame {
  type: 'path_response';
  data: Uint8Array;
}

/** CONNECTION_CLOSE type 0x1c: a transport error, with the frame type that caused it (0 if unknown). */
export interface TransportCloseFrame {
  type: 'connection_close';
  errorSpace: 'transport';
  errorCode: number;
  frameType: number;
  reason: Uint8Array;
}

/** CONNECTION_CLOSE type 0x1d: an application error (no Frame Type field). */
export interface ApplicationCloseFrame {
  type: 'connection_close';
  errorSpace: 'application';
  errorCode: number;
  reason: Uint8Array;
}

/** CONNECTION_CLOSE (RFC 9000 §19.19), either space. */
export type ConnectionCloseFrame = TransportCloseFrame | ApplicationCloseFrame;

/** HANDSHAKE_DONE (RFC 9000 §19.20). */
export interface HandshakeDoneFrame {
  type: 'handshake_done';
}

/** DATAGRAM (RFC 9221 §4). */
export interface DatagramFrame {
  type: 'datagram';
  data: Uint8Array;
}

/** Every frame this stack knows; `type` is the qlog frame_type name. */
export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame;

/** The packet types frames travel in (RFC 9000 §17.2.2-17.2.4, §17.3.1). */
export type FramePacketType = 'initial' | '0rtt' | 'handshake' | '1rtt';

// RFC 9000 §12.4 Table 3, row for row, plus DATAGRAM (RFC 9221 §4, §5).
// Pkts, one column per packet type: I = Initial, H = Handshake, 0 = 0-RTT, 1 = 1-RTT, _ = not allowed.
// Spec: N = not ack-eliciting, C = does not count toward bytes in flight, P = probing, F = flow controlled.
// Deviations from the printed table, each from the RFCs themselves:
// - the 'ih' footnote is written out: 0x1c may be in any packet type, 0x1d only in 0-RTT and 1-RTT
//   (§12.4, §12.5, §19.19);
// - CONNECTION_CLOSE also gets C: RFC 9002 §2 and §3 count a packet in flight only if it holds a frame
//   other than ACK or CONNECTION_CLOSE (Table 3 marks it N only).
// Table 3 allows RETIRE_CONNECTION_ID in 0-RTT (__01) although §12.5 says it cannot be sent there and
// "MAY" be treated as a PROTOCOL_VIOLATION; we follow the table and accept it.
const TABLE_3: readonly (readonly [first: number, last: number, name: string, pkts: string, spec: string])[] =
  [
    [0x00, 0x00, 'PADDING', 'IH01', 'NP'],
    [0x01, 0x01, 'PING', 'IH01', ''],
    [0x02, 0x03, 'ACK', 'IH_1', 'NC'],
    [0x04, 0x04, 'RESET_STREAM', '__01', ''],
    [0x05, 0x05, 'STOP_SENDING', '__01', ''],
    [0x06, 0x06, 'CRYPTO', 'IH_1', ''],
    [0x07, 0x07, 'NEW_TOKEN', '___1', ''],
    [0x08, 0x0f, 'STREAM', '__01', 'F'],
    [0x10, 0x10, 'MAX_DATA', '__01', ''],
    [0x11, 0x11, 'MAX_STREAM_DATA', '__01', ''],
    [0x12, 0x13, 'MAX_STREAMS', '__01', ''],
    [0x14, 0x14, 'DATA_BLOCKED', '__01', ''],
    [0x15, 0x15, 'STREAM_DATA_BLOCKED', '__01', ''],
    [0x16, 0x17, 'STREAMS_BLOCKED', '__01', ''],
    [0x18, 0x18, 'NEW_CONNECTION_ID', '__01', 'P'],
    [0x19, 0x19, 'RETIRE_CONNECTION_ID', '__01', ''],
    [0x1a, 0x1a, 'PATH_CHALLENGE', '__01', 'P'],
    [0x1b, 0x1b, 'PATH_RESPONSE', '___1', 'P'],
    [0x1c, 0x1c, 'CONNECTION_CLOSE', 'IH01', 'NC'],
    [0x1d, 0x1d, 'CONNECTION_CLOSE', '__01', 'NC'],
    [0x1e, 0x1e, 'HANDSHAKE_DONE', '___1', ''],
    [0x30, 0x31, 'DATAGRAM', '__01', ''],
  ];

const IN_INITIAL = 0x01;
const IN_HANDSHAKE = 0x02;
const IN_0RTT = 0x04;
const IN_1RTT = 0x08;
const NOT_ACK_ELICITING = 0x10;
const NOT_IN_FLIGHT = 0x20;
const PROBING = 0x40;
const FLOW_CONTROLLED = 0x80;
const KNOWN = 0x100;

const PACKET_BIT: Record<FramePacketType, number> = {
  initial: IN_INITIAL,
  handshake: IN_HANDSHAKE,
  '0rtt': IN_0RTT,
  '1rtt': IN_1RTT,
};

// Every known type is below 0x40 (a one-byte varint), so one small array holds the whole table.
const PROPS = new Uint16Array(0x40);
const NAMES: string[] = new Array<string>(0x40).fill('');
for (const [first, last, name, pkts, spec] of TABLE_3) {
  let bits = KNOWN;
  if (pkts[0] === 'I') bits |= IN_INITIAL;
  if (pkts[1] === 'H') bits |= IN_HANDSHAKE;
  if (pkts[2] === '0') bits |= IN_0RTT;
  if (pkts[3] === '1') bits |= IN_1RTT;
  if (spec.includes('N')) bits |= NOT_ACK_ELICITING;
  if (spec.includes('C')) bits |= NOT_IN_FLIGHT;
  if (spec.includes('P')) bits |= PROBING;
  if (spec.includes('F')) bits |= FLOW_CONTROLLED;
  for (let t = first; t <= last; t++) {
    PROPS[t] = bits;
    NAMES[t] = name;
  }
}

function props(type: number): number {
  return type >= 0 && type < 0x40 ? PROPS[type] : 0;
}

/** Whether `type` is a frame type this stack understands (RFC 9000 §12.4: others are FRAME_ENCODING_ERROR). */
export function isKnownFrameType(type: number): boolean {
  return (props(type) & KNOWN) !== 0;
}

/** The RFC name of a frame type (`STREAM`, `ACK`...), or its hex code when unknown. */
export function frameTypeName(type: number): string {
  return isKnownFrameType(type) ? NAMES[type] : `0x${type.toString(16)}`;
}

/**
 * Whether a frame of `type` may appear in a packet of `packetType` (RFC 9000 §12.4 Table 3, §12.5;
 * RFC 9221 §5 for DATAGRAM). Receiving one where it may not is a PROTOCOL_VIOLATION. False for
 * unknown types.
 */
export function frameAllowedIn(type: number, packetType: FramePacketType): boolean {
  return (props(type) & PACKET_BIT[packetType]) !== 0;
}

/**
 * Whether `type` is ack-eliciting: every frame but PADDING, ACK and CONNECTION_CLOSE (Table 3 "N",
 * RFC 9002 §2); DATAGRAM is (RFC 9221 §5.2). Unknown types answer true, as §19.21 requires of
 * extension frames.
 */
export function isAckEliciting(type: number): boolean {
  return (props(type) & NOT_ACK_ELICITING) === 0;
}

/** Whether `type` is a probing frame: PADDING, NEW_CONNECTION_ID, PATH_CHALLENGE, PATH_RESPONSE (Table 3 "P", §9.1). */
export function isProbing(type: number): boolean {
  return (props(type) & PROBING) !== 0;
}

/**
 * Whether a frame of `type` makes its packet count toward bytes in flight: all but ACK and
 * CONNECTION_CLOSE (Table 3 "C", RFC 9002 §2, §3). PADDING counts though it is not ack-eliciting.
 */
export function countsInFlight(type: number): boolean {
  return (props(type) & NOT_IN_FLIGHT) === 0;
}

/** Whether the contents of `type` are flow controlled: STREAM only (Table 3 "F"; DATAGRAM is not, RFC 9221 §5.3). */
export function isFlowControlled(type: number): boolean {
  return (props(type) & FLOW_CONTROLLED) !== 0;
}
