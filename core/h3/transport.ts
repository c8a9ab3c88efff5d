/**
 * What HTTP/3 needs of a QUIC connection: the stream and close calls of core/connection's
 * `Connection`, as a structural interface (quiche's h3 layer drives its transport the same way).
 * The real `Connection` satisfies it as is.
 */

/** A QUIC connection error as the transport reports it. */
export interface TransportErrorInfo {
  isApp: boolean;
  code: number;
  reason: string;
}

/** The QUIC connection under an H3Connection (core/connection's `Connection` fits). */
export interface H3Transport {
  /** Writes to stream `id` (opening our next stream of its kind); returns the bytes accepted. */
  streamSend(id: number, data: Uint8Array, fin: boolean): number;
  /** Reads stream `id` into `out`; null when nothing is readable. Throws (kind 'reset') after a RESET_STREAM. */
  streamRecv(id: number, out: Uint8Array): { length: number; fin: boolean } | null;
  /** STOP_SENDING ('read') or RESET_STREAM ('write') with an application error code. */
  streamShutdown(id: number, direction: 'read' | 'write', code: number): void;
  /** Streams with data, an end or a reset to read. */
  readable(): number[];
  /** Streams that accept writes now. */
  writable(): number[];
  /** Whether everything on stream `id` has been read. */
  streamFinished(id: number): boolean;
  /** Bytes `streamSend(id, ...)` would accept now. */
  streamCapacity(id: number): number;
  /** Closes the connection (RFC 9000 §10.2); `app` selects CONNECTION_CLOSE type 0x1d. */
  close(app: boolean, code: number, reason: string): void;
  isEstablished(): boolean;
  /** Optional: a client sending 0-RTT (RFC 9001 §4.6.1) before the handshake completes. */
  isInEarlyData?(): boolean;
  applicationProto(): string | null;
  /** The peer's CONNECTION_CLOSE, if any. */
  peerError(): TransportErrorInfo | null;
  /** Optional: our own close, and whether the connection is gone (draining or closed). */
  localError?(): TransportErrorInfo | null;
  isClosed?(): boolean;
  isDraining?(): boolean;
}

/**
 * The `kind` of an error a transport stream call raised (core/connection's StreamError: 'reset',
 * 'stopped', 'connection_closed', ...) and its application error code; null for other errors.
 */
export function streamErrorOf(e: unknown): { kind: string; code: number | null } | null {
  if (!(e instanceof Error)) return null;
  const kind = (e as { kind?: unknown }).kind;
  if (typeof kind !== 'string') return null;
  const code = (e as { code?: unknown }).code;
  return { kind, code: typeof code === 'number' ? code : null };
}
