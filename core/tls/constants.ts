/**
 * TLS 1.3 code points (RFC 8446 Appendix B) used by the QUIC handshake, with the
 * mapping from wire values to the names the CryptoProvider uses.
 */
import { IV_LENGTH, QUIC_CIPHER_SUITES, aeadKeyLength } from '../crypto/keys.ts';
import type { QuicCipherSuite } from '../crypto/keys.ts';
import { hashLength } from '../crypto/provider.ts';
import type { NamedGroup as ProviderGroup, SignatureScheme as ProviderScheme } from '../crypto/provider.ts';

/** ProtocolVersion values (RFC 8446 §4.2.1). */
export const ProtocolVersion = {
  TLS12: 0x0303,
  TLS13: 0x0304,
} as const;

/** HandshakeType (RFC 8446 §4, Appendix B.3). */
export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;
/** One HandshakeType value. */
export type HandshakeTypeCode = (typeof HandshakeType)[keyof typeof HandshakeType];

/** ExtensionType (RFC 8446 §4.2; quic_transport_parameters from RFC 9001 §8.2). */
export const ExtensionType = {
  server_name: 0,
  max_fragment_length: 1,
  status_request: 5,
  supported_groups: 10,
  signature_algorithms: 13,
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  signed_certificate_timestamp: 18,
  client_certificate_type: 19,
  server_certificate_type: 20,
  padding: 21,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 0x39,
} as const;

/** CipherSuite values of TLS 1.3 (RFC 8446 §B.4) that QUIC can use (RFC 9001 §5.3). */
export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;

/** NamedGroup values (RFC 8446 §4.2.7). */
export const NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  secp521r1: 0x0019,
  x25519: 0x001d,
  x448: 0x001e,
} as const;

/** SignatureScheme values (RFC 8446 §4.2.3). */
export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
} as const;

/** PskKeyExchangeMode values (RFC 8446 §4.2.9). */
export const PskKeyExchangeMode = {
  psk_ke: 0,
  psk_dhe_ke: 1,
} as const;

/** RFC 8446 §4.1.3: the ServerHello.random that marks a HelloRetryRequest (SHA-256 of "HelloRetryRequest"). */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2,
  0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/**
 * RFC 8701 §2: GREASE values for cipher suites, extensions, named groups, signature
 * algorithms and versions are 0x0A0A, 0x1A1A, ..., 0xFAFA.
 */
export function isGrease16(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** RFC 8701 §2: GREASE PskKeyExchangeMode values are 0x0B, 0x2A, 0x49, ..., 0xE4 (0x0B + 0x1F·k). */
export function isGreasePskMode(v: number): boolean {
  return v >= 0x0b && v <= 0xe4 && (v - 0x0b) % 0x1f === 0;
}

/** RFC 8701 §2: GREASE ALPN identifiers are the two bytes 0x?A?A (as the version values). */
export function isGreaseAlpn(name: string): boolean {
  return name.length === 2 && isGrease16((name.charCodeAt(0) << 8) | name.charCodeAt(1));
}

/**
 * What a TLS 1.3 cipher suite means for the key schedule and QUIC packet protection: core/crypto's
 * QuicCipherSuite (code, name, AEAD, header protection, hash) with the lengths that follow from it.
 */
export interface CipherSuiteParams extends QuicCipherSuite {
  readonly hashLength: 32 | 48;
  readonly keyLength: 16 | 32;
  readonly ivLength: 12;
}

// One table of suites: core/crypto's QUIC_CIPHER_SUITES.
const SUITES: ReadonlyMap<number, CipherSuiteParams> = new Map(
  Array.from(QUIC_CIPHER_SUITES.values(), (s): [number, CipherSuiteParams] => [
    s.code,
    { ...s, hashLength: hashLength(s.hash), keyLength: aeadKeyLength(s.aead), ivLength: IV_LENGTH },
  ]),
);

/** The parameters of a TLS 1.3 cipher suite, or undefined for one we do not implement. */
export function cipherSuiteParams(code: number): CipherSuiteParams | undefined {
  return SUITES.get(code);
}

const GROUP_NAMES = new Map<number, ProviderGroup>([
  [NamedGroup.x25519, 'x25519'],
  [NamedGroup.secp256r1, 'secp256r1'],
]);

/** The provider's name for a NamedGroup code point, or undefined if the provider has no such group. */
export function namedGroupName(code: number): ProviderGroup | undefined {
  return GROUP_NAMES.get(code);
}

/** The NamedGroup code point of a provider group name. */
export function namedGroupCode(name: ProviderGroup): number {
  return NamedGroup[name];
}

const SCHEME_NAMES = new Map<number, ProviderScheme>([
  [SignatureScheme.ecdsa_secp256r1_sha256, 'ecdsa_secp256r1_sha256'],
  [SignatureScheme.ecdsa_secp384r1_sha384, 'ecdsa_secp384r1_sha384'],
  [SignatureScheme.rsa_pss_rsae_sha256, 'rsa_pss_rsae_sha256'],
  [SignatureScheme.rsa_pkcs1_sha256, 'rsa_pkcs1_sha256'],
  [SignatureScheme.ed25519, 'ed25519'],
]);

/** The provider's name for a SignatureScheme code point, or undefined if the provider lacks it. */
export function signatureSchemeName(code: number): ProviderScheme | undefined {
  return SCHEME_NAMES.get(code);
}

/** The SignatureScheme code point of a provider scheme name. */
export function signatureSchemeCode(name: ProviderScheme): number {
  return SignatureScheme[name];
}

const HANDSHAKE_NAMES = new Map<number, string>(Object.entries(HandshakeType).map(([k, v]) => [v, k]));

/** The RFC name of a handshake message type, e.g. `client_hello`. */
export function handshakeTypeName(type: number): string {
  return HANDSHAKE_NAMES.get(type) ?? `handshake(${type})`;
}

const EXTENSION_NAMES = new Map<number, string>(Object.entries(ExtensionType).map(([k, v]) => [v, k]));

/** The RFC name of an extension type, e.g. `key_share`. */
export function extensionTypeName(type: number): string {
  return EXTENSION_NAMES.get(type) ?? `extension(0x${type.toString(16).padStart(4, '0')})`;
}
