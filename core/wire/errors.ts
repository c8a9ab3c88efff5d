/**
 * Transport error codes (RFC 9000 §20.1) and the typed error every decoder and
 * protocol check raises. A `QuicError` always ends in a CONNECTION_CLOSE carrying
 * its `code`; nothing in core/ throws an untyped error for bad input.
 */

/** RFC 9000 §20.1 (and RFC 9001 §6.6 for AEAD_LIMIT_REACHED, RFC 9368 §4 for VERSION_NEGOTIATION_ERROR). */
export const TransportError = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  VERSION_NEGOTIATION_ERROR: 0x11,
} as const;
export type TransportErrorCode = (typeof TransportError)[keyof typeof TransportError];

/** RFC 9000 §20.1: CRYPTO_ERROR is 0x0100 + the TLS alert description. */
export const CRYPTO_ERROR_BASE = 0x100;

const NAMES = new Map<number, string>(Object.entries(TransportError).map(([k, v]) => [v, k]));

/** The RFC name of a transport error code, e.g. `FLOW_CONTROL_ERROR` or `CRYPTO_ERROR(0x128)`. */
export function transportErrorName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  if (code >= CRYPTO_ERROR_BASE && code <= 0x1ff) return `CRYPTO_ERROR(0x${code.toString(16)})`;
  return `0x${code.toString(16)}`;
}

/**
 * A protocol error: the RFC error code, the frame type that triggered it (when there
 * is one) and a human-readable reason. `application` is true for an application
 * error code (CONNECTION_CLOSE type 0x1d).
 */
export class QuicError extends Error {
  override readonly name = 'QuicError';
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly frameType: number | null = null,
    readonly application = false,
  ) {
    super(
      `${application ? `application error 0x${code.toString(16)}` : transportErrorName(code)}: ${reason}`,
    );
  }
}

/** Shorthand for a FRAME_ENCODING_ERROR. */
export function frameEncodingError(reason: string, frameType: number | null = null): QuicError {
  return new QuicError(TransportError.FRAME_ENCODING_ERROR, reason, frameType);
}

/** Shorthand for a PROTOCOL_VIOLATION. */
export function protocolViolation(reason: string, frameType: number | null = null): QuicError {
  return new QuicError(TransportError.PROTOCOL_VIOLATION, reason, frameType);
}
