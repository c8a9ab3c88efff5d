/**
 * The qlog data types the events are built from: main-schema-14 §10 RawInfo and the QUIC data
 * types of draft-ietf-quic-qlog-quic-events-13 §8 (frames are in frames.ts). Re-exported by events.ts.
 */

/** A byte string as lowercase hex (main-schema-14 §1.2 `hexstring`). */
export type HexString = string;

/** RawInfo (main-schema-14 §10): lengths of an entity and, optionally, its (truncated) bytes. */
export interface RawInfo {
  /** Full byte length of the entity, headers and trailers included. */
  length?: number;
  /** Byte length of the payload, without headers and trailers. */
  payload_length?: number;
  /** The (possibly truncated, §11.4) bytes of the entity. */
  data?: HexString;
}

/** QuicVersion (§8.1): the version as hex, e.g. "00000001". */
export type QuicVersion = HexString;

/** ConnectionID (§8.2). */
export type ConnectionID = HexString;

/** Initiator (§8.3). */
export type Initiator = 'local' | 'remote';

/** TupleEndpointInfo (§8.5): one half of a four-tuple. */
export interface TupleEndpointInfo {
  ip_v4?: string;
  port_v4?: number;
  ip_v6?: string;
  port_v6?: number;
  connection_ids?: ConnectionID[];
}

/** PacketType (§8.6). */
export type QlogPacketType =
  'initial' | 'handshake' | '0RTT' | '1RTT' | 'retry' | 'version_negotiation' | 'stateless_reset' | 'unknown';

/** PacketNumberSpace (§8.7). */
export type PacketNumberSpace = 'initial' | 'handshake' | 'application_data';

/** Token (§8.9): a Retry or NEW_TOKEN token; `raw.length` always, `raw.data` only when asked. */
export interface QlogToken {
  type?: 'retry' | 'resumption';
  details?: Record<string, unknown>;
  raw?: RawInfo;
}

/** PacketHeader (§8.8). */
export interface QlogPacketHeader {
  packet_type: QlogPacketType;
  /** Only when packet_type is "unknown". */
  packet_type_bytes?: number;
  /** 1-RTT only. */
  spin_bit?: boolean;
  /** 1-RTT only: the full key phase (RFC 9001 §6), when known. */
  key_phase?: number;
  /** 1-RTT only, when key_phase is not set. */
  key_phase_bit?: boolean;
  packet_number_length?: number;
  packet_number?: number;
  /** Initial and Retry only. */
  token?: QlogToken;
  /** Initial, Handshake, 0-RTT: the Length field (packet number + payload). */
  length?: number;
  version?: QuicVersion;
  scil?: number;
  dcil?: number;
  scid?: ConnectionID;
  dcid?: ConnectionID;
}

/** StatelessResetToken (§8.10): 16 bytes as hex. */
export type StatelessResetToken = HexString;

/** KeyType (§8.11). */
export type KeyType =
  | 'server_initial_secret'
  | 'client_initial_secret'
  | 'server_handshake_secret'
  | 'client_handshake_secret'
  | 'server_0rtt_secret'
  | 'client_0rtt_secret'
  | 'server_1rtt_secret'
  | 'client_1rtt_secret';

/** ECN codepoint of an IP header (§8.12). */
export type ECN = 'Not-ECT' | 'ECT(1)' | 'ECT(0)' | 'CE';

/** StreamType (§5.13). */
export type QlogStreamType = 'unidirectional' | 'bidirectional';
