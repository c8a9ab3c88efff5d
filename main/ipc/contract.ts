/**
 * The single typed contract between main/ and the window (renderer/): invoke-style requests with
 * typed arguments and results, and one stream of per-session update batches. Two transports carry
 * it unchanged: Electron IPC (preload + contextBridge, main/electron) and web mode (a loopback
 * WebSocket, main/web). Both serialize with JSON (Electron's structured clone is a superset), so
 * every type here is plain JSON: no Uint8Array, no Map, no class instances, no undefined-only
 * fields that matter.
 *
 * The UI is a live qlog viewer: `SessionBatch.qlog` carries the qlog events themselves
 * (draft-ietf-quic-qlog-quic-events-13 / h3-events-13 names and shapes, core/trace); everything
 * else in a batch (series, stream rows, handshake) is an aggregate main/ computes from them plus
 * `Connection.stats()`, so the window never needs a second event model.
 *
 * Times: every `time` field is milliseconds since the session started (the qlog "relative" time
 * format, main-schema-14 §7.1); `SessionInfo.startedAt` is that origin as a Unix epoch in ms.
 *
 * This file is imported by the renderer bundle: it must stay free of Node and Electron imports
 * (type-only imports from core/ are erased).
 */
import type { AnyTraceEvent, ParametersSet, StreamState } from '../../core/trace/index.ts';
import type { ConnectionStats } from '../../core/connection/types.ts';
import type { CertificateSummary } from '../../core/tls/x509-types.ts';

/**
 * Bumped on any incompatible change; the web transport checks it in its hello message.
 * 2: series and request bodies travel as deltas; `sessionSnapshot`.
 * 3: previews (request bodies, raw streams) travel as `PayloadUpdate`s: appended bytes, then sizes.
 */
export const CONTRACT_VERSION = 3;

// ---------------------------------------------------------------------------------------------
// Small shared types

/** A session's id (opaque, unique within one app run), e.g. "s1". */
export type SessionId = string;

/** One qlog event, exactly as the tracer recorded it except for `time` (ms since session start). */
export type QlogEvent = AnyTraceEvent;

/** Bytes typed by the user: UTF-8 text, or hex digits (whitespace and ':' ignored). */
export interface Payload {
  encoding: 'text' | 'hex';
  data: string;
}

/** A bounded preview of received bytes: the first `PREVIEW_LIMIT` bytes and the total size. */
export interface PayloadPreview {
  /** Total bytes received (not just the previewed part). */
  size: number;
  /** The previewed bytes as lowercase hex. */
  hex: string;
  /** The previewed bytes as text when they are valid UTF-8, else null. */
  text: string | null;
  /** True when `size` exceeds the previewed part. */
  truncated: boolean;
}

/** Most bytes of a body, stream or datagram kept for a preview (64 KiB). */
export const PREVIEW_LIMIT = 65_536;

/** QUIC versions a session can start with. */
export type QuicVersionName = 'v1' | 'v2';

/** Congestion controllers of core/ (Config.setCongestionControl). */
export type CongestionControllerName = 'cubic' | 'newreno';

/** An HTTP field line, in order, lowercase name. */
export type HeaderField = [name: string, value: string];

// ---------------------------------------------------------------------------------------------
// Requests

/** What `openSession` needs. Only `target` is required. */
export interface OpenSessionOptions {
  /**
   * "https://host[:port]/path", "host:port", "[v6]:port" or "host" (port 443); "local" is the
   * built-in local server (started on demand, its certificate trusted).
   */
  target: string;
  /** SNI and the name the certificate must match; default: the target host; "" sends none. */
  sni?: string;
  /** ALPN to offer: "h3" (default) gives the HTTP/3 views; any other string gives raw streams. */
  alpn?: string;
  /** QUIC version of the first Initial (default v1; the other is offered for compatible VN). */
  version?: QuicVersionName;
  /** Skip certificate verification (the verdict is still computed and shown). Default false. */
  insecure?: boolean;
  /** Default "cubic". */
  congestionControl?: CongestionControllerName;
  /** PEM text of extra trust anchors (the renderer reads a picked file and sends its text). */
  caPem?: string;
  /** Path of a PEM file of trust anchors, read by main/ (CLI-style; Electron file pickers). */
  caFile?: string;
  /** Negotiate DATAGRAM frames (RFC 9221). Default true. */
  datagrams?: boolean;
  /** ms before a handshake in progress is abandoned (default 10 000). */
  handshakeTimeout?: number;
  /** ms of idle timeout to advertise (default 30 000). */
  idleTimeout?: number;
}

/** `openSession`'s answer: the id, and the target as main/ understood it. */
export interface SessionInfo {
  sessionId: SessionId;
  /** The options after defaults were applied. */
  options: Required<Omit<OpenSessionOptions, 'caPem' | 'caFile'>> & { caFile: string | null };
  host: string;
  port: number;
  /** Path of a URL target ("/" otherwise): the default path of HTTP/3 requests. */
  path: string;
  /** Unix epoch ms of time 0 of this session. */
  startedAt: number;
  /** True when the target is the built-in local server (its certificate is trusted). */
  localServer: boolean;
}

/** The arguments of an HTTP/3 request; `:authority` and `:scheme` are filled in by main/. */
export interface H3RequestInit {
  method: string;
  path: string;
  headers?: HeaderField[];
  body?: Payload;
}

/** Kinds of export (file formats). */
export type ExportKind = 'qlog' | 'qvis' | 'keylog' | 'pcapng' | 'summary';

/** Every export kind, in menu order. */
export const EXPORT_KINDS: readonly ExportKind[] = ['qlog', 'qvis', 'keylog', 'pcapng', 'summary'];

/**
 * An exported file. Web mode returns its bytes (base64) and the page downloads them. Electron shows
 * a native save dialog in main/ and writes the file: `bytes` is then null and `savedPath` (or
 * `canceled`) says what happened.
 */
export interface ExportResult {
  fileName: string;
  mimeType: string;
  size: number;
  bytes: string | null;
  savedPath: string | null;
  canceled: boolean;
}

/** The built-in local server (`quicscope serve` on 127.0.0.1 with a generated certificate). */
export interface LocalServerInfo {
  host: string;
  port: number;
  /** "127.0.0.1:PORT", ready for `OpenSessionOptions.target`. */
  target: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo (like Chromium's --ignore-certificate-errors-spki-list). */
  spki: string;
  /** ALPNs it accepts: "h3" (pages, /echo, /bytes/N) and the raw echo protocol. */
  alpns: string[];
}

/** A ready-made target in the connect form. */
export interface Preset {
  name: string;
  description: string;
  options: OpenSessionOptions;
}

/** A target the user connected to before, newest first. */
export interface RecentTarget {
  options: OpenSessionOptions;
  /** Unix epoch ms. */
  lastUsed: number;
}

/** A one-line view of a session, for the session list (e.g. after a page reload). */
export interface SessionSummary {
  info: SessionInfo;
  state: SessionState;
  error: SessionError | null;
}

/** Which transport carries the contract and what the connection API supports. */
export interface AppInfo {
  contractVersion: number;
  appVersion: string;
  transport: 'electron' | 'web';
  features: { datagrams: boolean; keyUpdate: boolean; migration: boolean };
}

/**
 * Every request: name → argument object and result. Arguments are one object so both transports
 * send `{ method, args }` alike.
 */
export interface RequestMap {
  appInfo: { args: Record<string, never>; result: AppInfo };
  openSession: { args: { options: OpenSessionOptions }; result: SessionInfo };
  /** Closes with CONNECTION_CLOSE: `code` is an application error code (default 0, H3_NO_ERROR for h3). */
  closeSession: { args: { sessionId: SessionId; code?: number; reason?: string }; result: null };
  /** Forgets a closed session (its retained qlog and previews). */
  removeSession: { args: { sessionId: SessionId }; result: null };
  listSessions: { args: Record<string, never>; result: SessionSummary[] };
  openStream: { args: { sessionId: SessionId; direction: 'bidi' | 'uni' }; result: { streamId: number } };
  /** Writes to a stream (buffered by main/ under flow control); `fin` ends its sending side. */
  sendStream: {
    args: { sessionId: SessionId; streamId: number; data: Payload; fin?: boolean };
    result: { bytes: number };
  };
  /** Aborts a stream: RESET_STREAM and/or STOP_SENDING with `code`. */
  resetStream: {
    args: { sessionId: SessionId; streamId: number; code: number; direction: 'write' | 'read' | 'both' };
    result: null;
  };
  /** Sends an HTTP/3 request; the response arrives in `SessionBatch.requests`. */
  h3Request: {
    args: { sessionId: SessionId; request: H3RequestInit };
    result: { requestId: number; streamId: number };
  };
  /** Sends one DATAGRAM frame (RFC 9221); fails with 'unsupported' when not negotiated. */
  sendDatagram: { args: { sessionId: SessionId; data: Payload }; result: { bytes: number } };
  /** Starts a key update (RFC 9001 §6); `initiated` is false when one cannot start yet. */
  keyUpdate: { args: { sessionId: SessionId }; result: { initiated: boolean } };
  /** Moves the connection to a new local UDP port (RFC 9000 §9); 'unsupported' when unavailable. */
  migrate: { args: { sessionId: SessionId }; result: { localPort: number } };
  exportSession: { args: { sessionId: SessionId; kind: ExportKind }; result: ExportResult };
  startLocalServer: { args: Record<string, never>; result: LocalServerInfo };
  listPresets: { args: Record<string, never>; result: Preset[] };
  recentTargets: { args: Record<string, never>; result: RecentTarget[] };
  /**
   * Everything the window shows about a session now, as one batch with `snapshot: true` (whole
   * series, every stream and request row, the handshake, the state and error; no qlog events). A
   * window asks when it starts following a session (a new window, a reload, a reconnect) and when
   * it missed batches (a gap in `seq`): the batches after it (higher `seq`) apply on top of it.
   */
  sessionSnapshot: { args: { sessionId: SessionId }; result: SessionBatch };
}

/** A request name. */
export type RequestName = keyof RequestMap;
/** The argument object of request `K`. */
export type RequestArgs<K extends RequestName> = RequestMap[K]['args'];
/** The result of request `K`. */
export type RequestResult<K extends RequestName> = RequestMap[K]['result'];

/** Every request name (the transports reject others). */
export const REQUEST_NAMES: readonly RequestName[] = [
  'appInfo',
  'openSession',
  'closeSession',
  'removeSession',
  'listSessions',
  'openStream',
  'sendStream',
  'resetStream',
  'h3Request',
  'sendDatagram',
  'keyUpdate',
  'migrate',
  'exportSession',
  'startLocalServer',
  'listPresets',
  'recentTargets',
  'sessionSnapshot',
];

/** Whether `name` is a request of the contract. */
export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && (REQUEST_NAMES as readonly string[]).includes(name);
}

/** Why a request failed (not a session error: the session may be fine). */
export type RequestErrorKind =
  'bad_request' | 'not_found' | 'unsupported' | 'invalid_state' | 'blocked' | 'io' | 'internal';

/** A failed request, as both transports report it. */
export interface RequestError {
  kind: RequestErrorKind | SessionErrorKind;
  message: string;
}

/** The answer envelope of every request on both transports (errors never become untyped throws). */
export type RequestOutcome<K extends RequestName = RequestName> =
  { ok: true; value: RequestResult<K> } | { ok: false; error: RequestError };

/** The Error a bridge client rejects with when a request fails. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    readonly kind: RequestError['kind'],
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Events: per-session batches

/**
 * A session's lifecycle. "failed": it ended before the handshake completed (see the batch's
 * `error`); "closed": it ended after (an `error` may still say why, e.g. peer_close).
 */
export type SessionState =
  'resolving' | 'connecting' | 'handshaking' | 'established' | 'closing' | 'closed' | 'failed';

/** What went wrong, in words the user can act on. */
export type SessionErrorKind =
  /** The host name does not resolve. */
  | 'dns'
  /** Nothing listens there: ICMP port unreachable. */
  | 'refused'
  /** ICMP host/network unreachable. */
  | 'unreachable'
  /** No answer before the handshake timeout. */
  | 'timeout'
  /** The server's certificate was rejected (see `certificate`). */
  | 'certificate'
  /** No common QUIC version (Version Negotiation without one of ours). */
  | 'version'
  /** No common ALPN (TLS alert no_application_protocol). */
  | 'alpn'
  /** The peer sent CONNECTION_CLOSE (see code/codeName/reason). */
  | 'peer_close'
  /** We closed with an error (a protocol violation by the peer, see code/codeName). */
  | 'local_error'
  /** The idle timeout expired after the handshake (RFC 9000 §10.1). */
  | 'idle_timeout'
  /** The peer sent a stateless reset (RFC 9000 §10.3). */
  | 'stateless_reset'
  /** The UDP socket failed. */
  | 'socket'
  | 'internal';

/** A session's failure. */
export interface SessionError {
  kind: SessionErrorKind;
  message: string;
  /** The CONNECTION_CLOSE error code. */
  code?: number;
  /** Its name: a transport error (RFC 9000 §20.1), "CRYPTO_ERROR(alert)" or an H3 error (RFC 9114 §8.1). */
  codeName?: string;
  /** The reason phrase from CONNECTION_CLOSE. */
  reason?: string;
  /** Whether `code` is an application error (frame type 0x1d). */
  application?: boolean;
  /** For 'certificate': the verdict and the chain as received. */
  certificate?: { verdict: CertificateVerdictInfo; chain: CertificateSummary[] };
}

/** Names of the chart series (each a list of [time, value] points). */
export type SeriesName =
  | 'cwnd'
  | 'bytes_in_flight'
  | 'ssthresh'
  | 'rtt_latest'
  | 'rtt_smoothed'
  | 'rtt_min'
  | 'rtt_variance'
  | 'packets_sent'
  | 'packets_lost'
  | 'packets_retransmitted'
  | 'throughput_sent'
  | 'throughput_received';

/** Every series name, in display order. Units: bytes; ms for rtt_*; counts; bits/s for throughput_*. */
export const SERIES_NAMES: readonly SeriesName[] = [
  'cwnd',
  'bytes_in_flight',
  'ssthresh',
  'rtt_latest',
  'rtt_smoothed',
  'rtt_min',
  'rtt_variance',
  'packets_sent',
  'packets_lost',
  'packets_retransmitted',
  'throughput_sent',
  'throughput_received',
];

/** One chart point: time (ms since session start) and value. */
export type SeriesPoint = [time: number, value: number];

/** Points a series has after main/ downsampled the window's copy (LTTB), and in a summary export. */
export const MAX_SERIES_POINTS = 400;

/**
 * Most points of the window's copy of a series: appended points grow it to this, then main/
 * downsamples it to MAX_SERIES_POINTS with LTTB and sends it whole (`reset`).
 */
export const MAX_WINDOW_SERIES_POINTS = 2 * MAX_SERIES_POINTS;

/** Whole series, each sorted by time: what the window holds (at most MAX_WINDOW_SERIES_POINTS each). */
export type SeriesData = Partial<Record<SeriesName, SeriesPoint[]>>;

/**
 * How one series changed since the previous batch that carried it. `reset: false`: append `points`
 * (in time order; a first point at the time of the window's last point replaces that point).
 * `reset: true`: `points` are the whole series (main/ downsampled the history, or a snapshot).
 * The window's copy and main/'s record of it stay identical, point for point.
 */
export interface SeriesDelta {
  reset: boolean;
  points: SeriesPoint[];
}

/** The series that changed (absent names did not); carried in at most 4 batches a second. */
export type SeriesUpdate = Partial<Record<SeriesName, SeriesDelta>>;

/** One row of the stream table (RFC 9000 §3 states, qlog StreamState names). */
export interface StreamRow {
  id: number;
  initiator: 'local' | 'remote';
  direction: 'bidi' | 'uni';
  /** What the stream carries: an HTTP/3 request or unidirectional stream type, or raw data. */
  kind: 'raw' | 'request' | 'control' | 'qpack_encode' | 'qpack_decode' | 'push' | 'unknown';
  /** Sending part (§3.1): null for a uni stream the peer opened. */
  sendState: StreamState | null;
  /** Receiving part (§3.2): null for a uni stream we opened. */
  recvState: StreamState | null;
  bytesSent: number;
  bytesAcked: number;
  bytesReceived: number;
  /** Bytes the peer's flow control still lets us send, null when not sending. */
  sendCredit: number | null;
  /** Bytes written by the user not yet handed to the connection (flow-control backlog). */
  queued: number;
  finSent: boolean;
  finReceived: boolean;
  /** RESET_STREAM codes, sent and received (RFC 9000 §19.4). */
  resetSent: number | null;
  resetReceived: number | null;
  /** STOP_SENDING codes, sent and received (RFC 9000 §19.5). */
  stopSent: number | null;
  stopReceived: number | null;
  /** Raw streams only: what arrived on it. */
  received: PayloadPreview | null;
}

/** A stream row as batches carry it: what arrived is an update of the window's preview. */
export type StreamUpdate = Omit<StreamRow, 'received'> & { received: PayloadUpdate | null };

/** One HTTP/3 request and its response, as it progresses. */
export interface H3RequestRow {
  requestId: number;
  streamId: number;
  method: string;
  path: string;
  /** When sent, when the response headers arrived, when the body ended (ms since session start). */
  sentAt: number;
  headersAt: number | null;
  completedAt: number | null;
  state: 'pending' | 'headers' | 'complete' | 'failed';
  status: number | null;
  headers: HeaderField[];
  body: PayloadPreview;
  /** Why it failed (stream reset with an H3 error name, connection closed...). */
  error: string | null;
}

/**
 * A preview in a batch when the previewed bytes are those the window already has (the preview is
 * full, or nothing arrived) and `truncated` did not change: only the total size moved.
 */
export interface PayloadGrowth {
  size: number;
  previewUnchanged: true;
}

/**
 * A preview in a batch when bytes were previewed since the previous batch that carried it (or its
 * `truncated` changed): the window keeps its first `appendAt` bytes, appends `hex`, and recomputes
 * `text` and `truncated` (applyPayloadUpdate, main/ipc/preview.ts). Previewed bytes never change,
 * so an `appendAt` below what the window has (it took a newer snapshot) rewrites the same bytes.
 */
export interface PayloadAppend {
  size: number;
  /** Offset in the preview of the first byte of `hex`. */
  appendAt: number;
  /** The bytes previewed from `appendAt` on, lowercase hex ('' when none). */
  hex: string;
}

/**
 * A preview as batches carry it: appended bytes while it fills up to PREVIEW_LIMIT, then its size
 * only; whole (PayloadPreview) in a snapshot. Every window applies every update in `seq` order.
 */
export type PayloadUpdate = PayloadPreview | PayloadAppend | PayloadGrowth;

/** A request row as batches carry it: the body is an update of the window's preview. */
export type H3RequestUpdate = Omit<H3RequestRow, 'body'> & { body: PayloadUpdate };

/** A DATAGRAM frame the peer sent (RFC 9221). */
export interface DatagramRow {
  time: number;
  data: PayloadPreview;
}

/** One step of the handshake timeline. */
export interface TimelineEntry {
  time: number;
  /** e.g. "Initial sent", "ServerHello received", "handshake complete", "HANDSHAKE_DONE received". */
  label: string;
  detail?: string;
}

/** One TLS handshake message (from quicscope:tls_message). */
export interface TlsMessageRow {
  time: number;
  direction: 'sent' | 'received';
  level: 'initial' | 'handshake' | '0RTT' | '1RTT';
  type: string;
  length: number;
  details?: Record<string, unknown>;
}

/** A certificate of the peer's chain, for display (core/tls/x509.ts `certificateSummary`). */
export type { CertificateSummary };

/** The verdict on the peer's chain (core CertificateVerdict). */
export interface CertificateVerdictInfo {
  ok: boolean;
  /** The TLS alert reason when not ok, e.g. "unknown_ca", "certificate_expired". */
  reason?: string;
  message?: string;
  /** Verification failed but insecure mode went on. */
  ignored?: boolean;
}

/** What the handshake view shows; sent whole whenever it changes. */
export interface HandshakeInfo {
  timeline: TimelineEntry[];
  tlsMessages: TlsMessageRow[];
  /** The QUIC version in use, e.g. "00000001", and its name ("QUIC v1"). */
  version: string | null;
  versionName: string | null;
  /** The Version Negotiation / compatible negotiation story, when any. */
  versionNegotiation: string | null;
  cipher: string | null;
  group: string | null;
  alpn: string | null;
  serverName: string | null;
  resumed: boolean;
  /** Transport parameters as qlog parameters_set (quic-events-13 §5.3), ours and the peer's. */
  transportParameters: { local: ParametersSet | null; remote: ParametersSet | null };
  certificates: CertificateSummary[];
  verdict: CertificateVerdictInfo | null;
}

/**
 * One update of one session: what happened since the previous batch. Sent at most
 * MAX_BATCHES_PER_SECOND times a second per session, and once more when the session ends.
 */
export interface SessionBatch {
  sessionId: SessionId;
  /** 0, 1, 2... per session; a gap means the window missed batches (it then asks for a `sessionSnapshot`). */
  seq: number;
  /** ms since session start when the batch was made. */
  time: number;
  state: SessionState;
  /** New qlog events since the previous batch, oldest first. */
  qlog: QlogEvent[];
  /** Events that were not put in batches because one batch's cap (MAX_QLOG_PER_BATCH) was hit. */
  qlogSkipped: number;
  series: SeriesUpdate;
  /** Rows that changed since the previous batch (the window upserts by id, applying `received`). */
  streams: StreamUpdate[];
  /** Requests that changed since the previous batch (upsert by requestId). */
  requests: H3RequestUpdate[];
  /** DATAGRAM frames received since the previous batch. */
  datagrams: DatagramRow[];
  /** Present when it changed. */
  handshake?: HandshakeInfo;
  /** Present once, when the session failed or closed with an error. */
  error?: SessionError;
  /** The connection's counters now (null before the connection exists). */
  stats: ConnectionStats | null;
  /**
   * Present (true) on the answer of `sessionSnapshot`: series are whole (`reset`), `streams` and
   * `requests` list every row with whole previews, `handshake` is present; `seq` is the last batch
   * it includes.
   */
  snapshot?: true;
}

/** The most batches a session sends per second. */
export const MAX_BATCHES_PER_SECOND = 20;

/** The most qlog events in one batch (the rest are counted in `qlogSkipped`, but kept for export). */
export const MAX_QLOG_PER_BATCH = 2_000;

/** The most qlog events a session keeps for export (the oldest are dropped past it). */
export const MAX_RETAINED_QLOG = 200_000;

// ---------------------------------------------------------------------------------------------
// What the window sees, and the transports' wire messages

/** The API the window uses (window.quicscope in Electron; a WebSocket client in web mode). */
export interface QuicscopeBridge {
  invoke<K extends RequestName>(method: K, args: RequestArgs<K>): Promise<RequestResult<K>>;
  /** Subscribes to every session's batches; returns the unsubscribe function. */
  onBatch(listener: (batch: SessionBatch) => void): () => void;
}

/** Electron IPC channels (ipcRenderer.invoke / webContents.send). */
export const IPC_CHANNELS = { invoke: 'quicscope:invoke', batch: 'quicscope:batch' } as const;

/** Web mode: WebSocket path (with `?token=`). */
export const WS_PATH = '/ws';

/** Window → main over WebSocket. */
export type ClientMessage = { type: 'invoke'; id: number; method: RequestName; args: unknown };

/** Main → window over WebSocket. */
export type ServerMessage =
  | { type: 'hello'; contractVersion: number }
  | { type: 'result'; id: number; outcome: RequestOutcome }
  | { type: 'batch'; batch: SessionBatch };
