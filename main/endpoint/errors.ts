/**
 * Typed failures of the UDP endpoints, for the layers above (CLI, session manager): what went
 * wrong in words a user can act on, with the underlying error as `cause`.
 */

/** What kind of failure an EndpointError is. */
export type EndpointErrorCode =
  /** The host name did not resolve (ENOTFOUND, EAI_AGAIN...). */
  | 'dns_failure'
  /** The kernel reported the port closed (ICMP port unreachable → ECONNREFUSED). */
  | 'refused'
  /** The kernel reported the host or network unreachable (ICMP, EHOSTUNREACH / ENETUNREACH). */
  | 'unreachable'
  /** The handshake did not complete in time. */
  | 'handshake_timeout'
  /** The connection closed before its handshake completed (see `closeInfo`). */
  | 'connection_closed'
  /** The endpoint was closed. */
  | 'endpoint_closed'
  /** Binding or using the socket failed (EADDRINUSE, EACCES...). */
  | 'socket_error'
  /**
   * A migration could not start (RFC 9000 §9): the server's disable_active_migration, handshake not
   * confirmed, no spare connection ID... `cause` is the core MigrationError (its `kind`).
   */
  | 'migration_refused';

/** A connection's end, as the endpoint reports it. */
export interface CloseInfo {
  /** The error we sent in CONNECTION_CLOSE, if we closed. */
  local: { isApp: boolean; code: number; reason: string } | null;
  /** The error the peer sent (or a stateless reset, with `statelessReset`), if it closed. */
  peer: { isApp: boolean; code: number; reason: string; statelessReset?: true } | null;
  /** The idle timeout ended it (RFC 9000 §10.1). */
  timedOut: boolean;
  /** An endpoint-level failure that ended it (refused, handshake timeout...), else null. */
  error: EndpointError | null;
}

/** A failure of a UDP endpoint or of one of its connections, with a code to switch on. */
export class EndpointError extends Error {
  override readonly name = 'EndpointError';

  constructor(
    readonly code: EndpointErrorCode,
    message: string,
    options: { cause?: unknown; closeInfo?: CloseInfo } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.closeInfo = options.closeInfo ?? null;
  }

  /** For 'connection_closed': how the connection ended. */
  readonly closeInfo: CloseInfo | null;
}

/** The EndpointError for a socket error (`code` of a Node system error). */
export function socketError(e: unknown, what: string): EndpointError {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED')
    return new EndpointError('refused', `${what}: connection refused (ICMP port unreachable)`, { cause: e });
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL')
    return new EndpointError(
      'unreachable',
      `${what}: ${code === 'ENETUNREACH' ? 'network' : 'host'} unreachable`,
      {
        cause: e,
      },
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'ENODATA')
    return new EndpointError('dns_failure', `${what}: ${code}`, { cause: e });
  return new EndpointError('socket_error', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
