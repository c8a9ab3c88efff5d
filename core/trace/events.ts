/**
 * The qlog event vocabulary of quicscope: the QUIC events of draft-ietf-quic-qlog-quic-events-13
 * (§4 connectivity, §5 transport, §6 security, §7 recovery, §8 data types), named and shaped as the
 * draft says (snake_case JSON fields), plus one extension event of our own, `quicscope:tls_message`.
 *
 * Every layer reports through a `Tracer` (tracer.ts) with these names and data shapes; the same
 * objects are serialized to .sqlog (qlog-writer.ts, qvis-writer.ts), fed to the UI and asserted on in
 * tests. Data types are plain JSON: byte strings are lowercase hex (`hexstring`), times are
 * milliseconds, and uint64 values are JS numbers (exact up to 2^53 - 1, main-schema-14 §11.3).
 */
import type { QlogFrame } from './frames.ts';
import type {
  ConnectionID,
  ECN,
  HexString,
  Initiator,
  KeyType,
  PacketNumberSpace,
  QlogPacketHeader,
  QlogStreamType,
  QuicVersion,
  RawInfo,
  StatelessResetToken,
  TupleEndpointInfo,
} from './data-types.ts';

export type * from './data-types.ts';

/** Event schema URI of the QUIC events, with the draft suffix (quic-events-13 §2.1). */
export const QUIC_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:quic-13';

/**
 * Event schema URI of the `quicscope` namespace (main-schema-14 §8.1: a private schema must not use
 * the urn:ietf:params:qlog form; URIs with a domain carry a month-date). `.invalid` (RFC 2606) is a
 * name nobody can own, so the URI cannot collide; it is not meant to be dereferenced.
 */
export const QUICSCOPE_EVENT_SCHEMA = 'https://quicscope.invalid/112026/qlog-events';

// ---------------------------------------------------------------------------------------------
// Connectivity events (§4)

/** quic:server_listening (§4.1). */
export interface ServerListening {
  ip_v4?: string;
  port_v4?: number;
  ip_v6?: string;
  port_v6?: number;
  retry_required?: boolean;
}

/** quic:connection_started (§4.2). */
export interface ConnectionStarted {
  local: TupleEndpointInfo;
  remote: TupleEndpointInfo;
}

/** quic:connection_closed (§4.3). */
export interface ConnectionClosed {
  initiator?: Initiator;
  /** A $TransportError name, "crypto_error_0x1XX" (§8.13.26) or "unknown". */
  connection_error?: string;
  /** An $ApplicationError name or "unknown". */
  application_error?: string;
  /** The numeric code when the name is "unknown" (we log it always). */
  error_code?: number;
  internal_code?: number;
  reason?: string;
  trigger?:
    | 'idle_timeout'
    | 'application'
    | 'error'
    | 'version_mismatch'
    | 'stateless_reset'
    | 'aborted'
    | 'unspecified';
}

/** quic:connection_id_updated (§4.4). */
export interface ConnectionIdUpdated {
  initiator: Initiator;
  old?: ConnectionID;
  new?: ConnectionID;
}

/** quic:spin_bit_updated (§4.5). */
export interface SpinBitUpdated {
  state: boolean;
}

/** ConnectionState (§4.6): base and granular states; implementations may add their own. */
export type ConnectionState =
  | 'attempted'
  | 'handshake_started'
  | 'handshake_complete'
  | 'closed'
  | 'peer_validated'
  | 'early_write'
  | 'handshake_confirmed'
  | 'closing'
  | 'draining';

/** quic:connection_state_updated (§4.6). */
export interface ConnectionStateUpdated {
  old?: ConnectionState;
  new: ConnectionState;
}

/** quic:tuple_assigned (§4.7): associates a TupleID with addresses ("" is the handshake path). */
export interface TupleAssigned {
  tuple_id: string;
  tuple_remote?: TupleEndpointInfo;
  tuple_local?: TupleEndpointInfo;
}

/** quic:mtu_updated (§4.8). */
export interface MtuUpdated {
  old?: number;
  new: number;
  done?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Transport events (§5)

/** quic:version_information (§5.1). */
export interface VersionInformation {
  server_versions?: QuicVersion[];
  client_versions?: QuicVersion[];
  chosen_version?: QuicVersion;
}

/** ALPNIdentifier (§5.2): byte and/or UTF-8 form. */
export interface ALPNIdentifier {
  byte_value?: HexString;
  string_value?: string;
}

/** quic:alpn_information (§5.2). */
export interface AlpnInformation {
  server_alpns?: ALPNIdentifier[];
  client_alpns?: ALPNIdentifier[];
  chosen_alpn?: ALPNIdentifier;
}

/** PreferredAddress (§5.3). */
export interface PreferredAddress {
  ip_v4?: string;
  port_v4?: number;
  ip_v6?: string;
  port_v6?: number;
  connection_id: ConnectionID;
  stateless_reset_token: StatelessResetToken;
}

/** UnknownParameter (§5.3). */
export interface UnknownParameter {
  id: number;
  value?: HexString;
}

/** The transport parameters that can be restored for 0-RTT (§5.4). */
export interface RestorableParameters {
  disable_active_migration?: boolean;
  max_idle_timeout?: number;
  max_udp_payload_size?: number;
  active_connection_id_limit?: number;
  initial_max_data?: number;
  initial_max_stream_data_bidi_local?: number;
  initial_max_stream_data_bidi_remote?: number;
  initial_max_stream_data_uni?: number;
  initial_max_streams_bidi?: number;
  initial_max_streams_uni?: number;
  max_datagram_frame_size?: number;
  grease_quic_bit?: boolean;
}

/** quic:parameters_set (§5.3): one side's settings per event (`initiator`). */
export interface ParametersSet extends RestorableParameters {
  initiator?: Initiator;
  resumption_allowed?: boolean;
  early_data_enabled?: boolean;
  /** e.g. "AES_128_GCM_SHA256". */
  tls_cipher?: string;
  original_destination_connection_id?: ConnectionID;
  initial_source_connection_id?: ConnectionID;
  retry_source_connection_id?: ConnectionID;
  stateless_reset_token?: StatelessResetToken;
  ack_delay_exponent?: number;
  max_ack_delay?: number;
  preferred_address?: PreferredAddress;
  unknown_parameters?: UnknownParameter[];
  reset_stream_at?: boolean;
}

/** quic:parameters_restored (§5.4). */
export type ParametersRestored = RestorableParameters;

/** Why a packet was sent (§5.5). */
export type PacketSentTrigger =
  'retransmit_reordered' | 'retransmit_timeout' | 'pto_probe' | 'retransmit_crypto' | 'cc_bandwidth_probe';

/** quic:packet_sent (§5.5). */
export interface PacketSent {
  header: QlogPacketHeader;
  frames?: QlogFrame[];
  stateless_reset_token?: StatelessResetToken;
  supported_versions?: QuicVersion[];
  raw?: RawInfo;
  datagram_id?: number;
  is_mtu_probe_packet?: boolean;
  trigger?: PacketSentTrigger;
}

/** quic:packet_received (§5.6). */
export interface PacketReceived {
  header: QlogPacketHeader;
  frames?: QlogFrame[];
  stateless_reset_token?: StatelessResetToken;
  supported_versions?: QuicVersion[];
  raw?: RawInfo;
  datagram_id?: number;
  trigger?: 'keys_available';
}

/** quic:packet_dropped (§5.7). */
export interface PacketDropped {
  header?: QlogPacketHeader;
  raw?: RawInfo;
  datagram_id?: number;
  details?: Record<string, unknown>;
  trigger?:
    | 'internal_error'
    | 'rejected'
    | 'unsupported'
    | 'invalid'
    | 'duplicate'
    | 'connection_unknown'
    | 'decryption_failure'
    | 'key_unavailable'
    | 'general';
}

/** quic:packet_buffered (§5.8). */
export interface PacketBuffered {
  header?: QlogPacketHeader;
  raw?: RawInfo;
  datagram_id?: number;
  trigger?: 'backpressure' | 'keys_unavailable';
}

/** quic:packets_acked (§5.9): packets acknowledged for the first time. */
export interface PacketsAcked {
  /** Defaults to application_data when absent. */
  packet_number_space?: PacketNumberSpace;
  packet_numbers?: number[];
}

/** quic:udp_datagrams_sent / quic:udp_datagrams_received (§5.10, §5.11): UDP payloads only. */
export interface UdpDatagrams {
  count?: number;
  raw?: RawInfo[];
  ecn?: ECN[];
  datagram_ids?: number[];
}

/** quic:udp_datagram_dropped (§5.12). */
export interface UdpDatagramDropped {
  raw?: RawInfo;
}

/** StreamState (§5.13): base and granular states. */
export type StreamState =
  | 'idle'
  | 'open'
  | 'closed'
  | 'half_closed_local'
  | 'half_closed_remote'
  | 'ready'
  | 'send'
  | 'data_sent'
  | 'reset_sent'
  | 'reset_received'
  | 'receive'
  | 'size_known'
  | 'data_read'
  | 'reset_read'
  | 'data_received'
  | 'destroyed';

/** quic:stream_state_updated (§5.13). */
export interface StreamStateUpdated {
  stream_id: number;
  stream_type?: QlogStreamType;
  old?: StreamState;
  new: StreamState;
  stream_side: 'sending' | 'receiving';
  trigger?: 'local' | 'remote';
}

/** quic:frames_created / frames_parsed / frames_processed (§5.14). */
export interface FramesEvent {
  frames: QlogFrame[];
  /** Same length as `frames` when present. */
  packet_numbers?: number[];
}

/** DataLocation (§5.15). */
export type DataLocation = 'application' | 'transport' | 'network';

/** quic:stream_data_moved (§5.15): `raw.length` is the number of stream bytes moved. */
export interface StreamDataMoved {
  stream_id?: number;
  offset?: number;
  from?: DataLocation;
  to?: DataLocation;
  additional_info?: 'fin_set' | 'stream_reset';
  raw?: RawInfo;
}

/** quic:datagram_data_moved (§5.16). */
export interface DatagramDataMoved {
  from?: DataLocation;
  to?: DataLocation;
  raw?: RawInfo;
}

/** BlockedReason (§5.17). */
export type BlockedReason =
  | 'scheduling'
  | 'pacing'
  | 'amplification_protection'
  | 'congestion_control'
  | 'connection_flow_control'
  | 'stream_flow_control'
  | 'stream_id'
  | 'application';

/** quic:connection_data_blocked_updated / datagram_data_blocked_updated (§5.17, §5.19). */
export interface DataBlockedUpdated {
  old?: 'blocked' | 'unblocked';
  new: 'blocked' | 'unblocked';
  reason?: BlockedReason;
}

/** quic:stream_data_blocked_updated (§5.18). */
export interface StreamDataBlockedUpdated extends DataBlockedUpdated {
  stream_id: number;
}

/** MigrationState (§5.20). */
export type MigrationState =
  | 'probing_started'
  | 'probing_abandoned'
  | 'probing_successful'
  | 'migration_started'
  | 'migration_abandoned'
  | 'migration_complete';

/** quic:migration_state_updated (§5.20). */
export interface MigrationStateUpdated {
  old?: MigrationState;
  new: MigrationState;
  tuple_id?: string;
  tuple_remote?: TupleEndpointInfo;
  tuple_local?: TupleEndpointInfo;
}

/** TimerType (§5.21). */
export type TimerType =
  'ack' | 'pto' | 'loss_timeout' | 'path_validation' | 'handshake_timeout' | 'idle_timeout';

/** quic:timer_updated (§5.21). */
export interface TimerUpdated {
  timer_type?: TimerType;
  timer_id?: number;
  packet_number_space?: PacketNumberSpace;
  event_type: 'set' | 'expired' | 'cancelled';
  /** For "set": ms from this event until the timer fires. */
  delta?: number;
}

// ---------------------------------------------------------------------------------------------
// Security events (§6)

/** Why keys changed (§6.1, §6.2). */
export type KeyTrigger = 'tls' | 'remote_update' | 'local_update';

/** quic:key_updated (§6.1); `old`/`new` (the secrets) are only logged when asked for. */
export interface KeyUpdated {
  key_type: KeyType;
  old?: HexString;
  new?: HexString;
  key_phase?: number;
  trigger?: KeyTrigger;
}

/** quic:key_discarded (§6.2). */
export interface KeyDiscarded {
  key_type: KeyType;
  key?: HexString;
  key_phase?: number;
  trigger?: KeyTrigger;
}

// ---------------------------------------------------------------------------------------------
// Recovery events (§7)

/** quic:recovery_parameters_set (§7.1); times in ms. */
export interface RecoveryParametersSet {
  reordering_threshold?: number;
  time_threshold?: number;
  timer_granularity: number;
  initial_rtt?: number;
  max_datagram_size?: number;
  initial_congestion_window?: number;
  minimum_congestion_window?: number;
  loss_reduction_factor?: number;
  persistent_congestion_threshold?: number;
}

/** quic:recovery_metrics_updated (§7.2): only the metrics that changed; RTTs in ms. */
export interface RecoveryMetricsUpdated {
  min_rtt?: number;
  smoothed_rtt?: number;
  latest_rtt?: number;
  rtt_variance?: number;
  pto_count?: number;
  congestion_window?: number;
  bytes_in_flight?: number;
  ssthresh?: number;
  packets_in_flight?: number;
  /** Bits per second. */
  pacing_rate?: number;
}

/** quic:congestion_state_updated (§7.3); e.g. "slow_start", "congestion_avoidance", "recovery". */
export interface CongestionStateUpdated {
  old?: string;
  new: string;
  trigger?: string;
}

/** quic:packet_lost (§7.4). */
export interface PacketLost {
  header?: QlogPacketHeader;
  frames?: QlogFrame[];
  is_mtu_probe_packet?: boolean;
  trigger?: 'reordering_threshold' | 'time_threshold' | 'pto_expired';
}

/** quic:marked_for_retransmit (§7.5). */
export interface MarkedForRetransmit {
  frames: QlogFrame[];
}

/** ECNState (§7.6). */
export type ECNState = 'testing' | 'unknown' | 'failed' | 'capable';

/** quic:ecn_state_updated (§7.6). */
export interface EcnStateUpdated {
  old?: ECNState;
  new: ECNState;
}

// ---------------------------------------------------------------------------------------------
// Extension: quicscope:tls_message

/** TLS 1.3 handshake message types (RFC 8446 §4, HandshakeType) by qlog-style name. */
export type TlsMessageType =
  | 'client_hello'
  | 'server_hello'
  | 'new_session_ticket'
  | 'end_of_early_data'
  | 'encrypted_extensions'
  | 'certificate'
  | 'certificate_request'
  | 'certificate_verify'
  | 'finished'
  | 'key_update'
  | 'message_hash'
  | 'unknown';

/**
 * quicscope:tls_message — one TLS handshake message carried in CRYPTO frames, for the handshake
 * view. The qlog drafts define no such event; main-schema-14 §8 lets a private schema add one in
 * its own namespace (`QUICSCOPE_EVENT_SCHEMA`). Fields:
 * - direction: "sent" (handed to CRYPTO frames) or "received" (reassembled from them);
 * - encryption_level: the packet type whose keys protect it (qlog PacketType names);
 * - message_type: the RFC 8446 §4 HandshakeType name, message_type_value its code;
 * - raw.length: 4-byte header + body, raw.payload_length: the body (the 24-bit length field);
 * - details: free-form extracts for display (e.g. cipher_suite, alpn, server_name).
 */
export interface TlsMessage {
  direction: 'sent' | 'received';
  encryption_level: 'initial' | 'handshake' | '0RTT' | '1RTT';
  message_type: TlsMessageType;
  message_type_value: number;
  raw: RawInfo;
  details?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The map from event name to data type: what `Tracer.event` checks at compile time

/** Every event name this stack emits, mapped to the shape of its `data` field. */
export interface QlogEventMap {
  'quic:server_listening': ServerListening;
  'quic:connection_started': ConnectionStarted;
  'quic:connection_closed': ConnectionClosed;
  'quic:connection_id_updated': ConnectionIdUpdated;
  'quic:spin_bit_updated': SpinBitUpdated;
  'quic:connection_state_updated': ConnectionStateUpdated;
  'quic:tuple_assigned': TupleAssigned;
  'quic:mtu_updated': MtuUpdated;
  'quic:version_information': VersionInformation;
  'quic:alpn_information': AlpnInformation;
  'quic:parameters_set': ParametersSet;
  'quic:parameters_restored': ParametersRestored;
  'quic:packet_sent': PacketSent;
  'quic:packet_received': PacketReceived;
  'quic:packet_dropped': PacketDropped;
  'quic:packet_buffered': PacketBuffered;
  'quic:packets_acked': PacketsAcked;
  'quic:udp_datagrams_sent': UdpDatagrams;
  'quic:udp_datagrams_received': UdpDatagrams;
  'quic:udp_datagram_dropped': UdpDatagramDropped;
  'quic:stream_state_updated': StreamStateUpdated;
  'quic:frames_created': FramesEvent;
  'quic:frames_parsed': FramesEvent;
  'quic:frames_processed': FramesEvent;
  'quic:stream_data_moved': StreamDataMoved;
  'quic:datagram_data_moved': DatagramDataMoved;
  'quic:connection_data_blocked_updated': DataBlockedUpdated;
  'quic:stream_data_blocked_updated': StreamDataBlockedUpdated;
  'quic:datagram_data_blocked_updated': DataBlockedUpdated;
  'quic:migration_state_updated': MigrationStateUpdated;
  'quic:timer_updated': TimerUpdated;
  'quic:key_updated': KeyUpdated;
  'quic:key_discarded': KeyDiscarded;
  'quic:recovery_parameters_set': RecoveryParametersSet;
  'quic:recovery_metrics_updated': RecoveryMetricsUpdated;
  'quic:congestion_state_updated': CongestionStateUpdated;
  'quic:packet_lost': PacketLost;
  'quic:marked_for_retransmit': MarkedForRetransmit;
  'quic:ecn_state_updated': EcnStateUpdated;
  'quicscope:tls_message': TlsMessage;
}

/** An event name: "namespace:type" (main-schema-14 §8). */
export type QlogEventName = keyof QlogEventMap;

/** One event as recorded: time in ms (the caller's clock), name, data. */
export interface TraceEvent<N extends QlogEventName = QlogEventName> {
  time: number;
  name: N;
  data: QlogEventMap[N];
}

/** Any event, discriminated by `name` (narrowing on the name narrows `data`). */
export type AnyTraceEvent = { [N in QlogEventName]: TraceEvent<N> }[QlogEventName];
