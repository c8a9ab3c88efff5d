/**
 * HTTP/3 and QPACK application error codes (RFC 9114 §8.1, RFC 9204 §6) and `H3Error`, the typed
 * error the HTTP/3 layer raises. An `H3Error` is a `QuicError` with `application: true`: closing
 * the connection for it sends CONNECTION_CLOSE of type 0x1d carrying the code.
 */
import { QuicError } from '../wire/errors.ts';

/** RFC 9114 §8.1 and RFC 9204 §6. */
export const H3ErrorCode = {
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;
/** One of the H3ErrorCode values. */
export type H3ErrorCodeValue = (typeof H3ErrorCode)[keyof typeof H3ErrorCode];

const NAMES = new Map<number, string>(Object.entries(H3ErrorCode).map(([k, v]) => [v, k]));

/** Whether `v` is of the form 0x1f * N + 0x21: a reserved (GREASE) codepoint (RFC 9114 §7.2.8, §8.1). */
export function isReservedH3Codepoint(v: number): boolean {
  return v >= 0x21 && (v - 0x21) % 0x1f === 0;
}

/** The RFC name of an HTTP/3 or QPACK error code, e.g. `H3_FRAME_ERROR`, or its hex form. */
export function h3ErrorName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  return isReservedH3Codepoint(code) ? `reserved(0x${code.toString(16)})` : `0x${code.toString(16)}`;
}

/**
 * An HTTP/3 or QPACK error. `scope` says how the RFC lets it be handled: `connection` closes the
 * connection with `code`; `stream` may instead reset only the stream it happened on (e.g. a field
 * section over our size limit, RFC 9204 §7.4).
 */
export class H3Error extends QuicError {
  constructor(
    code: number,
    reason: string,
    readonly scope: 'connection' | 'stream' = 'connection',
  ) {
    super(code, reason, null, true);
    this.message = `${h3ErrorName(code)}: ${reason}`;
  }
}
