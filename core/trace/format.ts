/**
 * Small formatters shared by the trace code: bytes to qlog hexstrings, versions, ALPN identifiers,
 * UTF-8 reason phrases and TLS handshake message names. Pure functions, no dependencies.
 */
import type { ALPNIdentifier, HexString, QuicVersion, TlsMessageType } from './events.ts';

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes as a lowercase qlog hexstring; `limit` truncates to the first `limit` bytes (main-schema-14 §11.4). */
export function hex(bytes: Uint8Array, limit = Infinity): HexString {
  const n = Math.min(bytes.length, limit);
  let s = '';
  for (let i = 0; i < n; i++) s += HEX_BYTE[bytes[i]];
  return s;
}

/** A QUIC version as the qlog QuicVersion hexstring, 8 digits (quic-events-13 §8.1). */
export function qlogVersion(version: number): QuicVersion {
  return (version >>> 0).toString(16).padStart(8, '0');
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes decoded as UTF-8, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** An ALPN identifier in both forms when it is valid UTF-8, else bytes only (quic-events-13 §5.2). */
export function alpnIdentifier(value: Uint8Array | string): ALPNIdentifier {
  if (typeof value === 'string') {
    return { byte_value: hex(new TextEncoder().encode(value)), string_value: value };
  }
  const text = utf8OrNull(value);
  return text === null ? { byte_value: hex(value) } : { byte_value: hex(value), string_value: text };
}

// RFC 8446 §4 HandshakeType.
const TLS_MESSAGE_TYPES = new Map<number, TlsMessageType>([
  [1, 'client_hello'],
  [2, 'server_hello'],
  [4, 'new_session_ticket'],
  [5, 'end_of_early_data'],
  [8, 'encrypted_extensions'],
  [11, 'certificate'],
  [13, 'certificate_request'],
  [15, 'certificate_verify'],
  [20, 'finished'],
  [24, 'key_update'],
  [254, 'message_hash'],
]);

/** The name of a TLS 1.3 HandshakeType code (RFC 8446 §4), "unknown" for others. */
export function tlsMessageTypeName(code: number): TlsMessageType {
  return TLS_MESSAGE_TYPES.get(code) ?? 'unknown';
}
