/**
 * The hello messages of TLS 1.3 (RFC 8446 §4.1) as QUIC uses them: ClientHello,
 * ServerHello and HelloRetryRequest, and the PSK binder support of §4.2.11.2
 * (Truncate(ClientHello) and patching computed binders into an encoded ClientHello).
 *
 * QUIC specifics: legacy_session_id is always empty (RFC 9001 §8.4). Re-exported by
 * messages.ts, which is the module to import.
 */
import { Reader, Writer, bytesEqual } from '../wire/buffer.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import {
  AlertDescription,
  TlsAlert,
  decodeError,
  expectEnd,
  illegalParameter,
  tlsDecode,
  tlsReader,
} from './alerts.ts';
import {
  ExtensionType as X,
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeType as HT,
  ProtocolVersion,
  isGrease16,
} from './constants.ts';
import {
  ALLOWED_IN_CLIENT_HELLO,
  ALLOWED_IN_HELLO_RETRY_REQUEST,
  ALLOWED_IN_SERVER_HELLO,
  COOKIE,
  EARLY_DATA_EMPTY,
  type Extension,
  type KeyShareEntry,
  type OfferedPsks,
  QUIC_TRANSPORT_PARAMETERS,
  SELECTED_VERSION,
  SIGNATURE_ALGORITHMS,
  SIGNATURE_ALGORITHMS_CERT,
  SUPPORTED_GROUPS,
  type TypedExtension,
  decodeTyped,
  pskBindersLength,
  readAlpnList,
  readClientShares,
  readExtensionBlock,
  readKeyShareEntry,
  readOfferedPsks,
  readPskModes,
  readServerNameList,
  readVersionList,
  writeAlpnList,
  writeBinderList,
  writeClientShares,
  writeKeyShareEntry,
  writeOfferedPsks,
  writeServerNameList,
  writeTyped,
  writeU16List16,
  writeU16List8,
} from './extensions.ts';
import { writeHandshake } from './handshake-buffer.ts';

// ---------------------------------------------------------------------------------------
// ClientHello (RFC 8446 §4.1.2)

/** The ClientHello extensions we understand. Absent field = extension absent. */
export interface ClientHelloExtensions {
  /** server_name: the host_name (RFC 6066 §3), bytes as latin1 chars. */
  serverName?: string;
  supportedGroups?: readonly number[];
  signatureAlgorithms?: readonly number[];
  signatureAlgorithmsCert?: readonly number[];
  /** ALPN protocol names (RFC 7301), bytes as latin1 chars. */
  alpn?: readonly string[];
  keyShares?: readonly KeyShareEntry[];
  supportedVersions?: readonly number[];
  cookie?: Uint8Array;
  pskKeyExchangeModes?: readonly number[];
  earlyData?: true;
  /** pre_shared_key: always written last (RFC 8446 §4.2.11). */
  preSharedKey?: OfferedPsks;
  /** quic_transport_parameters (RFC 9001 §8.2), opaque here. */
  quicTransportParameters?: Uint8Array;
}

/**
 * ClientHello. legacy_version is 0x0303, legacy_session_id empty (RFC 9001 §8.4),
 * compression [0]; GREASE cipher suites are dropped on decode.
 */
export interface ClientHello {
  readonly kind: 'client_hello';
  readonly random: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly extensions: ClientHelloExtensions;
  /**
   * Decode: every extension in wire order (GREASE and unknown included). Encode
   * (optional): fixes the order and supplies extensions without a typed field.
   */
  readonly rawExtensions?: readonly Extension[];
}

const CH_TABLE: readonly TypedExtension<ClientHelloExtensions>[] = [
  {
    type: X.server_name,
    has: (e) => e.serverName !== undefined,
    read: (r, e) => {
      const host = readServerNameList(r);
      if (host !== undefined) e.serverName = host;
    },
    write: (w, e) => writeServerNameList(w, e.serverName!),
  },
  SUPPORTED_GROUPS,
  SIGNATURE_ALGORITHMS,
  SIGNATURE_ALGORITHMS_CERT,
  {
    type: X.application_layer_protocol_negotiation,
    has: (e) => e.alpn !== undefined,
    read: (r, e) => (e.alpn = readAlpnList(r)),
    write: (w, e) => writeAlpnList(w, e.alpn!),
  },
  {
    type: X.key_share,
    has: (e) => e.keyShares !== undefined,
    read: (r, e) => (e.keyShares = readClientShares(r)),
    write: (w, e) => writeClientShares(w, e.keyShares!),
  },
  {
    type: X.supported_versions,
    has: (e) => e.supportedVersions !== undefined,
    read: (r, e) => (e.supportedVersions = readVersionList(r)),
    write: (w, e) => writeU16List8(w, e.supportedVersions!),
  },
  COOKIE,
  {
    type: X.psk_key_exchange_modes,
    has: (e) => e.pskKeyExchangeModes !== undefined,
    read: (r, e) => (e.pskKeyExchangeModes = readPskModes(r)),
    write: (w, e) => w.vector(1, Uint8Array.from(e.pskKeyExchangeModes!)),
  },
  EARLY_DATA_EMPTY,
  QUIC_TRANSPORT_PARAMETERS,
  {
    type: X.pre_shared_key,
    has: (e) => e.preSharedKey !== undefined,
    read: (r, e) => (e.preSharedKey = readOfferedPsks(r)),
    write: (w, e) => writeOfferedPsks(w, e.preSharedKey!),
  },
];

function writeRandom(w: Writer, random: Uint8Array): void {
  if (random.length !== 32) throw new RangeError(`random must be 32 bytes, got ${random.length}`);
  w.bytes(random);
}

/** Writes a ClientHello (pre_shared_key last, RFC 8446 §4.2.11); returns its length. */
export function encodeClientHello(w: Writer, ch: ClientHello): number {
  return writeHandshake(w, HT.client_hello, (w) => {
    w.u16(ProtocolVersion.TLS12);
    writeRandom(w, ch.random);
    w.u8(0); // legacy_session_id: empty (RFC 9001 §8.4)
    writeU16List16(w, ch.cipherSuites);
    w.u8(1).u8(0); // legacy_compression_methods = [null]
    writeTyped(w, ch.extensions, CH_TABLE, ch.rawExtensions, X.pre_shared_key);
  });
}

/**
 * Decodes a ClientHello body. A non-empty legacy_session_id is PROTOCOL_VIOLATION
 * (a plain QuicError, RFC 9001 §8.4); pre_shared_key not last is illegal_parameter
 * (RFC 8446 §4.2.11); unknown extensions are kept only in `rawExtensions`.
 */
export function decodeClientHello(body: Uint8Array): ClientHello {
  return tlsDecode('ClientHello', () => {
    const r = tlsReader(body);
    const legacyVersion = r.u16();
    // RFC 8446 §D.5: a legacy_version of SSL 3.0 or lower is protocol_version.
    if (legacyVersion <= 0x0300) {
      throw new TlsAlert(
        AlertDescription.protocol_version,
        `ClientHello legacy_version 0x${hex4(legacyVersion)}`,
      );
    }
    const random = r.bytes(32);
    const sessionId = r.vector(1);
    if (sessionId.length > 32) throw decodeError('legacy_session_id longer than 32 bytes');
    if (sessionId.length > 0) {
      // RFC 9001 §8.4: compatibility mode is forbidden in QUIC.
      throw new QuicError(
        TransportError.PROTOCOL_VIOLATION,
        'ClientHello with a non-empty legacy_session_id',
      );
    }
    const csLen = r.u16();
    if (csLen < 2 || csLen % 2 !== 0) throw decodeError(`cipher_suites length ${csLen}`);
    const cs = r.sub(csLen);
    const cipherSuites: number[] = [];
    while (!cs.done) {
      const s = cs.u16();
      if (!isGrease16(s)) cipherSuites.push(s); // RFC 8701 §3.1
    }
    const compression = r.vector(1);
    if (compression.length < 1) throw decodeError('empty legacy_compression_methods');
    // RFC 8446 §4.1.2: exactly one byte, zero.
    if (compression.length !== 1 || compression[0] !== 0) {
      throw illegalParameter('legacy_compression_methods must be [0]');
    }
    // RFC 8446 §4.1.2: a ClientHello may end here (pre-1.3 clients); then it has no extensions.
    const raw = r.done ? [] : readExtensionBlock(r, ALLOWED_IN_CLIENT_HELLO, 'ClientHello');
    expectEnd(r, 'ClientHello');
    const psk = raw.findIndex((e) => e.type === X.pre_shared_key);
    if (psk !== -1 && psk !== raw.length - 1) {
      throw illegalParameter('pre_shared_key is not the last extension'); // RFC 8446 §4.2.11
    }
    const extensions = decodeTyped(raw, CH_TABLE, 'ClientHello');
    return { kind: 'client_hello', random, cipherSuites, extensions, rawExtensions: raw };
  });
}

/**
 * Truncate(ClientHello) of RFC 8446 §4.2.11.2: the whole message (header included) minus
 * the binders list at its end. Works on the message as sent or as received, since
 * pre_shared_key is the last extension and binders its last field.
 */
export function truncateClientHello(message: Uint8Array, binders: readonly Uint8Array[]): Uint8Array {
  const n = pskBindersLength(binders);
  if (n > message.length) throw new RangeError('binders longer than the message');
  return message.subarray(0, message.length - n);
}

/**
 * Writes `binders` over the binders list at the end of an encoded ClientHello (in place),
 * once they have been computed over `truncateClientHello` (RFC 8446 §4.2.11.2). Their
 * lengths must match the placeholders the message was encoded with.
 */
export function patchBinders(message: Uint8Array, binders: readonly Uint8Array[]): void {
  const n = pskBindersLength(binders);
  const at = message.length - n;
  if (at < 0 || new Reader(message, at).u16() !== n - 2)
    throw new RangeError('binders do not match the encoded placeholders');
  writeBinderList(new Writer(message, at), binders);
}

// ---------------------------------------------------------------------------------------
// ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4)

/** The ServerHello extensions of TLS 1.3. */
export interface ServerHelloExtensions {
  /** supported_versions: selected_version (RFC 8446 §4.2.1). */
  supportedVersion?: number;
  keyShare?: KeyShareEntry;
  /** pre_shared_key: selected_identity (RFC 8446 §4.2.11). */
  preSharedKey?: number;
}

/** ServerHello (legacy_session_id_echo empty, compression 0). */
export interface ServerHello {
  readonly kind: 'server_hello';
  readonly random: Uint8Array;
  readonly cipherSuite: number;
  readonly extensions: ServerHelloExtensions;
  readonly rawExtensions?: readonly Extension[];
}

/** The HelloRetryRequest extensions of TLS 1.3 (RFC 8446 §4.1.4). */
export interface HelloRetryRequestExtensions {
  supportedVersion?: number;
  /** key_share: selected_group (RFC 8446 §4.2.8). */
  selectedGroup?: number;
  cookie?: Uint8Array;
}

/** HelloRetryRequest: a ServerHello whose random is HELLO_RETRY_REQUEST_RANDOM. */
export interface HelloRetryRequest {
  readonly kind: 'hello_retry_request';
  readonly cipherSuite: number;
  readonly extensions: HelloRetryRequestExtensions;
  readonly rawExtensions?: readonly Extension[];
}

const SH_TABLE: readonly TypedExtension<ServerHelloExtensions>[] = [
  {
    type: X.pre_shared_key,
    has: (e) => e.preSharedKey !== undefined,
    read: (r, e) => (e.preSharedKey = r.u16()),
    write: (w, e) => w.u16(e.preSharedKey!),
  },
  {
    type: X.key_share,
    has: (e) => e.keyShare !== undefined,
    read: (r, e) => (e.keyShare = readKeyShareEntry(r)),
    write: (w, e) => writeKeyShareEntry(w, e.keyShare!),
  },
  SELECTED_VERSION,
];

const HRR_TABLE: readonly TypedExtension<HelloRetryRequestExtensions>[] = [
  {
    type: X.key_share,
    has: (e) => e.selectedGroup !== undefined,
    read: (r, e) => (e.selectedGroup = r.u16()),
    write: (w, e) => w.u16(e.selectedGroup!),
  },
  COOKIE,
  SELECTED_VERSION,
];

function writeServerHelloBody(
  w: Writer,
  random: Uint8Array,
  cipherSuite: number,
  body: (w: Writer) => void,
): number {
  return writeHandshake(w, HT.server_hello, (w) => {
    w.u16(ProtocolVersion.TLS12);
    writeRandom(w, random);
    w.u8(0); // legacy_session_id_echo: the client's, empty in QUIC (RFC 9001 §8.4)
    w.u16(cipherSuite);
    w.u8(0); // legacy_compression_method
    body(w);
  });
}

/** Writes a ServerHello; returns its length. */
export function encodeServerHello(w: Writer, sh: ServerHello): number {
  if (bytesEqual(sh.random, HELLO_RETRY_REQUEST_RANDOM))
    throw new RangeError('ServerHello with the HRR random');
  return writeServerHelloBody(w, sh.random, sh.cipherSuite, (w) =>
    writeTyped(w, sh.extensions, SH_TABLE, sh.rawExtensions),
  );
}

/** Writes a HelloRetryRequest (a ServerHello with the special random, RFC 8446 §4.1.3); returns its length. */
export function encodeHelloRetryRequest(w: Writer, hrr: HelloRetryRequest): number {
  return writeServerHelloBody(w, HELLO_RETRY_REQUEST_RANDOM, hrr.cipherSuite, (w) =>
    writeTyped(w, hrr.extensions, HRR_TABLE, hrr.rawExtensions),
  );
}

/**
 * Decodes a server_hello body: a HelloRetryRequest when the random is the special value
 * (RFC 8446 §4.1.3), else a ServerHello. legacy_version other than 0x0303 is
 * protocol_version (QUIC needs TLS 1.3, RFC 9001 §4.2); a non-empty session id echo
 * cannot match the client's empty one: illegal_parameter (§4.1.3).
 */
export function decodeServerHello(body: Uint8Array): ServerHello | HelloRetryRequest {
  return tlsDecode('ServerHello', () => {
    const r = tlsReader(body);
    const legacyVersion = r.u16();
    if (legacyVersion !== ProtocolVersion.TLS12) {
      throw new TlsAlert(
        AlertDescription.protocol_version,
        `ServerHello legacy_version 0x${hex4(legacyVersion)}`,
      );
    }
    const random = r.bytes(32);
    const echo = r.vector(1);
    if (echo.length > 32) throw decodeError('legacy_session_id_echo longer than 32 bytes');
    if (echo.length > 0) throw illegalParameter('legacy_session_id_echo does not match the empty session id');
    const cipherSuite = r.u16();
    if (r.u8() !== 0) throw illegalParameter('legacy_compression_method must be 0'); // RFC 8446 §4.1.3
    if (bytesEqual(random, HELLO_RETRY_REQUEST_RANDOM)) {
      const raw = readExtensionBlock(r, ALLOWED_IN_HELLO_RETRY_REQUEST, 'HelloRetryRequest');
      expectEnd(r, 'HelloRetryRequest');
      const extensions = decodeTyped(raw, HRR_TABLE, 'HelloRetryRequest');
      return { kind: 'hello_retry_request', cipherSuite, extensions, rawExtensions: raw };
    }
    const raw = readExtensionBlock(r, ALLOWED_IN_SERVER_HELLO, 'ServerHello');
    expectEnd(r, 'ServerHello');
    const extensions = decodeTyped(raw, SH_TABLE, 'ServerHello');
    return { kind: 'server_hello', random, cipherSuite, extensions, rawExtensions: raw };
  });
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
