/**
 * TLS alerts (RFC 8446 §6) and their QUIC form: a TLS alert becomes a CRYPTO_ERROR,
 * 0x0100 + the AlertDescription (RFC 9001 §4.8, RFC 9000 §20.1). QUIC carries only
 * fatal alerts, so every `TlsAlert` ends the connection.
 *
 * Every TLS codec in core/tls throws a `TlsAlert` on bad input: decode_error for a
 * malformed structure, illegal_parameter for a well-formed but forbidden value,
 * unexpected_message for a message that may not appear (here or in QUIC at all).
 */
import { CRYPTO_ERROR_BASE, QuicError, TransportError } from '../wire/errors.ts';
import { Reader } from '../wire/buffer.ts';

/** AlertDescription code points (RFC 8446 §6, Appendix B.2). */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;
/** One AlertDescription value. */
export type AlertDescriptionCode = (typeof AlertDescription)[keyof typeof AlertDescription];

const ALERT_NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]));

/** The RFC name of an alert, e.g. `decode_error`, or `alert(0xNN)` for an unknown one. */
export function alertName(alert: number): string {
  return ALERT_NAMES.get(alert) ?? `alert(0x${alert.toString(16)})`;
}

/** The QUIC CRYPTO_ERROR code for a TLS alert (RFC 9001 §4.8). */
export function cryptoErrorCode(alert: number): number {
  return CRYPTO_ERROR_BASE + alert;
}

/**
 * A fatal TLS alert as a QUIC connection error: `code` is 0x0100 + `alert`
 * (RFC 9001 §4.8), `reason` says what was wrong.
 */
export class TlsAlert extends QuicError {
  constructor(
    readonly alert: number,
    reason: string,
  ) {
    super(CRYPTO_ERROR_BASE + alert, `${alertName(alert)}: ${reason}`);
  }
}

/** A decode_error alert (RFC 8446 §6.2: a field was out of range or a length was wrong). */
export function decodeError(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.decode_error, reason);
}

/** An illegal_parameter alert (RFC 8446 §6.2: a field was correctly formatted but not acceptable). */
export function illegalParameter(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.illegal_parameter, reason);
}

/** An unexpected_message alert (RFC 8446 §6.2: an inappropriate message was received). */
export function unexpectedMessage(reason: string): TlsAlert {
  return new TlsAlert(AlertDescription.unexpected_message, reason);
}

/** A Reader whose truncation errors carry CRYPTO_ERROR(decode_error); run it inside `tlsDecode`. */
export function tlsReader(buf: Uint8Array): Reader {
  return new Reader(buf, 0, buf.length, CRYPTO_ERROR_BASE + AlertDescription.decode_error);
}

/**
 * Runs a decoder and turns a Reader's truncation error (a plain `QuicError` with the
 * decode_error or FRAME_ENCODING_ERROR code) into a `TlsAlert` decode_error. Other
 * errors, TlsAlerts included, pass through unchanged.
 */
export function tlsDecode<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (
      e instanceof QuicError &&
      !(e instanceof TlsAlert) &&
      (e.code === CRYPTO_ERROR_BASE + AlertDescription.decode_error ||
        e.code === TransportError.FRAME_ENCODING_ERROR)
    ) {
      throw decodeError(`${what}: ${e.reason}`);
    }
    throw e;
  }
}

/** Throws decode_error unless `r` has been read to its end (no trailing bytes, RFC 8446 §4). */
export function expectEnd(r: Reader, what: string): void {
  if (r.offset !== r.end) throw decodeError(`${r.end - r.offset} trailing bytes in ${what}`);
}
