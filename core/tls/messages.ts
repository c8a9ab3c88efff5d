/**
 * TLS 1.3 handshake messages (RFC 8446 §4) as QUIC carries them: in CRYPTO frames,
 * without the record layer (RFC 9001 §4). Each message is msg_type(1) + length(3) + body.
 *
 * Encoders write a whole message (header included) into a caller's Writer and return
 * its length. Decoders take the body (see HandshakeBuffer) and return typed values
 * whose byte fields are subarrays of the input; they throw a `TlsAlert` on bad input.
 *
 * This module has the messages after the hellos and the dispatch over all of them; the
 * hellos live in hello.ts and are re-exported here. EndOfEarlyData and KeyUpdate are
 * never used in QUIC (RFC 9001 §8.3, §6): decoding either is unexpected_message.
 */
import { Writer } from '../wire/buffer.ts';
import {
  AlertDescription,
  TlsAlert,
  decodeError,
  expectEnd,
  illegalParameter,
  tlsDecode,
  tlsReader,
  unexpectedMessage,
} from './alerts.ts';
import { ExtensionType as X, HandshakeType as HT, handshakeTypeName } from './constants.ts';
import {
  ALLOWED_IN_CERTIFICATE,
  ALLOWED_IN_CERTIFICATE_REQUEST,
  ALLOWED_IN_ENCRYPTED_EXTENSIONS,
  ALLOWED_IN_NEW_SESSION_TICKET,
  EARLY_DATA_EMPTY,
  type Extension,
  QUIC_TRANSPORT_PARAMETERS,
  SIGNATURE_ALGORITHMS,
  SIGNATURE_ALGORITHMS_CERT,
  SUPPORTED_GROUPS,
  type TypedExtension,
  decodeTyped,
  readAlpnList,
  readEmpty,
  readExtensionBlock,
  writeAlpnList,
  writeTyped,
} from './extensions.ts';
import { writeHandshake } from './handshake-buffer.ts';
import {
  type ClientHello,
  type HelloRetryRequest,
  type ServerHello,
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeHelloRetryRequest,
  encodeServerHello,
} from './hello.ts';

export * from './hello.ts';
export { writeHandshake } from './handshake-buffer.ts';

// ---------------------------------------------------------------------------------------
// EncryptedExtensions (RFC 8446 §4.3.1)

/** The EncryptedExtensions extensions we understand. */
export interface EncryptedExtensionsExtensions {
  /** server_name acknowledged (empty extension_data, RFC 6066 §3). */
  serverName?: true;
  supportedGroups?: readonly number[];
  /** The selected ALPN protocol (exactly one name, RFC 7301 §3.1). */
  alpn?: string;
  /** early_data accepted (RFC 8446 §4.2.10). */
  earlyData?: true;
  quicTransportParameters?: Uint8Array;
}

/**
 * EncryptedExtensions. Unknown extensions are kept in `rawExtensions`: the client must
 * reject those it did not offer (`checkSolicited`, unsupported_extension, RFC 8446 §4.2).
 */
export interface EncryptedExtensions {
  readonly kind: 'encrypted_extensions';
  readonly extensions: EncryptedExtensionsExtensions;
  readonly rawExtensions?: readonly Extension[];
}

const EE_TABLE: readonly TypedExtension<EncryptedExtensionsExtensions>[] = [
  {
    type: X.server_name,
    has: (e) => e.serverName === true,
    read: (r, e) => (e.serverName = readEmpty(r, 'server_name')),
    write: () => {},
  },
  SUPPORTED_GROUPS,
  {
    type: X.application_layer_protocol_negotiation,
    has: (e) => e.alpn !== undefined,
    read: (r, e) => {
      const list = readAlpnList(r);
      // RFC 7301 §3.1: the server's ProtocolNameList contains exactly one name.
      if (list.length !== 1) throw illegalParameter(`ALPN: server selected ${list.length} protocols`);
      e.alpn = list[0];
    },
    write: (w, e) => writeAlpnList(w, [e.alpn!]),
  },
  EARLY_DATA_EMPTY,
  QUIC_TRANSPORT_PARAMETERS,
];

/** Writes EncryptedExtensions; returns its length. */
export function encodeEncryptedExtensions(w: Writer, ee: EncryptedExtensions): number {
  return writeHandshake(w, HT.encrypted_extensions, (w) =>
    writeTyped(w, ee.extensions, EE_TABLE, ee.rawExtensions),
  );
}

/** Decodes an EncryptedExtensions body. */
export function decodeEncryptedExtensions(body: Uint8Array): EncryptedExtensions {
  return tlsDecode('EncryptedExtensions', () => {
    const r = tlsReader(body);
    const raw = readExtensionBlock(r, ALLOWED_IN_ENCRYPTED_EXTENSIONS, 'EncryptedExtensions');
    expectEnd(r, 'EncryptedExtensions');
    const extensions = decodeTyped(raw, EE_TABLE, 'EncryptedExtensions');
    return { kind: 'encrypted_extensions', extensions, rawExtensions: raw };
  });
}

// ---------------------------------------------------------------------------------------
// CertificateRequest (RFC 8446 §4.3.2)

/** The CertificateRequest extensions we understand. */
export interface CertificateRequestExtensions {
  signatureAlgorithms?: readonly number[];
  signatureAlgorithmsCert?: readonly number[];
}

/** CertificateRequest: signature_algorithms is mandatory (missing_extension otherwise). */
export interface CertificateRequest {
  readonly kind: 'certificate_request';
  readonly context: Uint8Array;
  readonly extensions: CertificateRequestExtensions;
  readonly rawExtensions?: readonly Extension[];
}

const CR_TABLE: readonly TypedExtension<CertificateRequestExtensions>[] = [
  SIGNATURE_ALGORITHMS,
  SIGNATURE_ALGORITHMS_CERT,
];

/** Writes a CertificateRequest; returns its length. */
export function encodeCertificateRequest(w: Writer, cr: CertificateRequest): number {
  return writeHandshake(w, HT.certificate_request, (w) => {
    w.vector(1, cr.context);
    writeTyped(w, cr.extensions, CR_TABLE, cr.rawExtensions);
  });
}

/** Decodes a CertificateRequest body. */
export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  return tlsDecode('CertificateRequest', () => {
    const r = tlsReader(body);
    const context = r.vector(1);
    const raw = readExtensionBlock(r, ALLOWED_IN_CERTIFICATE_REQUEST, 'CertificateRequest');
    expectEnd(r, 'CertificateRequest');
    const extensions = decodeTyped(raw, CR_TABLE, 'CertificateRequest');
    if (extensions.signatureAlgorithms === undefined) {
      // RFC 8446 §4.3.2: "The signature_algorithms extension MUST be specified".
      throw new TlsAlert(
        AlertDescription.missing_extension,
        'CertificateRequest without signature_algorithms',
      );
    }
    return { kind: 'certificate_request', context, extensions, rawExtensions: raw };
  });
}

// ---------------------------------------------------------------------------------------
// Certificate (RFC 8446 §4.4.2)

/** One CertificateEntry: an X.509 certificate (DER) and its per-entry extensions. */
export interface CertificateEntry {
  readonly data: Uint8Array;
  readonly extensions: readonly Extension[];
}

/**
 * The Certificate message (named so beside x509.ts's Certificate). The context is empty for server authentication (§4.4.2: the state
 * machine checks that); an empty list means the client sent no certificate.
 */
export interface CertificateMessage {
  readonly kind: 'certificate';
  readonly context: Uint8Array;
  readonly entries: readonly CertificateEntry[];
}

/** Writes a Certificate; returns its length. */
export function encodeCertificate(w: Writer, c: CertificateMessage): number {
  return writeHandshake(w, HT.certificate, (w) => {
    w.vector(1, c.context);
    w.lengthPrefixed(3, (w) => {
      for (const e of c.entries) {
        if (e.data.length === 0) throw new RangeError('empty certificate');
        w.vector(3, e.data);
        w.lengthPrefixed(2, (w) => {
          for (const x of e.extensions) w.u16(x.type).vector(2, x.data);
        });
      }
    });
  });
}

/** Decodes a Certificate body. */
export function decodeCertificate(body: Uint8Array): CertificateMessage {
  return tlsDecode('Certificate', () => {
    const r = tlsReader(body);
    const context = r.vector(1);
    const list = r.sub(r.u24());
    expectEnd(r, 'Certificate');
    const entries: CertificateEntry[] = [];
    while (!list.done) {
      const data = list.vector(3);
      if (data.length === 0) throw decodeError('empty cert_data'); // opaque cert_data<1..2^24-1>
      const extensions = readExtensionBlock(list, ALLOWED_IN_CERTIFICATE, 'CertificateEntry');
      entries.push({ data, extensions });
    }
    return { kind: 'certificate', context, entries };
  });
}

// ---------------------------------------------------------------------------------------
// CertificateVerify (§4.4.3) and Finished (§4.4.4)

/** CertificateVerify: the SignatureScheme and the signature (see certificateVerifyContent). */
export interface CertificateVerify {
  readonly kind: 'certificate_verify';
  readonly algorithm: number;
  readonly signature: Uint8Array;
}

/** Writes a CertificateVerify; returns its length. */
export function encodeCertificateVerify(w: Writer, cv: CertificateVerify): number {
  return writeHandshake(w, HT.certificate_verify, (w) => w.u16(cv.algorithm).vector(2, cv.signature));
}

/** Decodes a CertificateVerify body. */
export function decodeCertificateVerify(body: Uint8Array): CertificateVerify {
  return tlsDecode('CertificateVerify', () => {
    const r = tlsReader(body);
    const algorithm = r.u16();
    const signature = r.vector(2);
    expectEnd(r, 'CertificateVerify');
    return { kind: 'certificate_verify', algorithm, signature };
  });
}

/** Finished: verify_data, Hash.length bytes (RFC 8446 §4.4.4). */
export interface Finished {
  readonly kind: 'finished';
  readonly verifyData: Uint8Array;
}

/** Writes a Finished; returns its length. */
export function encodeFinished(w: Writer, f: Finished): number {
  return writeHandshake(w, HT.finished, (w) => w.bytes(f.verifyData));
}

/** Decodes a Finished body; a length other than the hash length is decode_error. */
export function decodeFinished(body: Uint8Array, hashLength: number): Finished {
  if (body.length !== hashLength)
    throw decodeError(`Finished of ${body.length} bytes, expected ${hashLength}`);
  return { kind: 'finished', verifyData: body };
}

// ---------------------------------------------------------------------------------------
// NewSessionTicket (RFC 8446 §4.6.1)

/** The NewSessionTicket extensions we understand. */
export interface NewSessionTicketExtensions {
  /**
   * early_data: max_early_data_size (RFC 8446 §4.2.10). In QUIC it must be 0xffffffff;
   * any other value is PROTOCOL_VIOLATION for the client to raise (RFC 9001 §4.6.1).
   */
  maxEarlyDataSize?: number;
}

/** NewSessionTicket. Unknown extensions are ignored by clients (§4.6.1) and kept in `rawExtensions`. */
export interface NewSessionTicket {
  readonly kind: 'new_session_ticket';
  /** Seconds; clients must not keep a ticket longer than 7 days whatever this says (§4.6.1). */
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: NewSessionTicketExtensions;
  readonly rawExtensions?: readonly Extension[];
}

const NST_TABLE: readonly TypedExtension<NewSessionTicketExtensions>[] = [
  {
    type: X.early_data,
    has: (e) => e.maxEarlyDataSize !== undefined,
    read: (r, e) => (e.maxEarlyDataSize = r.u32()),
    write: (w, e) => w.u32(e.maxEarlyDataSize!),
  },
];

/** Writes a NewSessionTicket; returns its length. */
export function encodeNewSessionTicket(w: Writer, t: NewSessionTicket): number {
  return writeHandshake(w, HT.new_session_ticket, (w) => {
    if (t.ticket.length === 0) throw new RangeError('empty ticket');
    w.u32(t.lifetime).u32(t.ageAdd).vector(1, t.nonce).vector(2, t.ticket);
    writeTyped(w, t.extensions, NST_TABLE, t.rawExtensions);
  });
}

/** Decodes a NewSessionTicket body. */
export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  return tlsDecode('NewSessionTicket', () => {
    const r = tlsReader(body);
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const nonce = r.vector(1);
    const ticket = r.vector(2);
    if (ticket.length === 0) throw decodeError('empty ticket'); // opaque ticket<1..2^16-1>
    const raw = readExtensionBlock(r, ALLOWED_IN_NEW_SESSION_TICKET, 'NewSessionTicket');
    expectEnd(r, 'NewSessionTicket');
    const extensions = decodeTyped(raw, NST_TABLE, 'NewSessionTicket');
    return { kind: 'new_session_ticket', lifetime, ageAdd, nonce, ticket, extensions, rawExtensions: raw };
  });
}

// ---------------------------------------------------------------------------------------
// Dispatch

/** Any handshake message QUIC's TLS 1.3 exchanges. */
export type HandshakeMessage =
  | ClientHello
  | ServerHello
  | HelloRetryRequest
  | EncryptedExtensions
  | CertificateRequest
  | CertificateMessage
  | CertificateVerify
  | Finished
  | NewSessionTicket;

/**
 * Decodes a handshake message body by type. `hashLength` is the negotiated hash length
 * (for Finished). KeyUpdate and EndOfEarlyData are unexpected_message in QUIC (RFC 9001
 * §6, §8.3), as are message_hash and unknown types (RFC 8446 §4).
 */
export function decodeHandshake(type: number, body: Uint8Array, hashLength: number): HandshakeMessage {
  switch (type) {
    case HT.client_hello:
      return decodeClientHello(body);
    case HT.server_hello:
      return decodeServerHello(body);
    case HT.encrypted_extensions:
      return decodeEncryptedExtensions(body);
    case HT.certificate_request:
      return decodeCertificateRequest(body);
    case HT.certificate:
      return decodeCertificate(body);
    case HT.certificate_verify:
      return decodeCertificateVerify(body);
    case HT.finished:
      return decodeFinished(body, hashLength);
    case HT.new_session_ticket:
      return decodeNewSessionTicket(body);
    case HT.key_update:
      throw unexpectedMessage('KeyUpdate is not used in QUIC (RFC 9001 §6)');
    case HT.end_of_early_data:
      throw unexpectedMessage('EndOfEarlyData is not used in QUIC (RFC 9001 §8.3)');
    default:
      throw unexpectedMessage(`unexpected handshake message ${handshakeTypeName(type)}`);
  }
}

/** Writes any handshake message; returns its length. */
export function encodeHandshake(w: Writer, m: HandshakeMessage): number {
  switch (m.kind) {
    case 'client_hello':
      return encodeClientHello(w, m);
    case 'server_hello':
      return encodeServerHello(w, m);
    case 'hello_retry_request':
      return encodeHelloRetryRequest(w, m);
    case 'encrypted_extensions':
      return encodeEncryptedExtensions(w, m);
    case 'certificate_request':
      return encodeCertificateRequest(w, m);
    case 'certificate':
      return encodeCertificate(w, m);
    case 'certificate_verify':
      return encodeCertificateVerify(w, m);
    case 'finished':
      return encodeFinished(w, m);
    case 'new_session_ticket':
      return encodeNewSessionTicket(w, m);
  }
}

let scratch = new Uint8Array(4096);

/**
 * Encodes a message into a new array of exactly its size (cold path: handshake
 * messages are a few per connection). Grows an internal scratch buffer as needed.
 */
export function serializeHandshake(m: HandshakeMessage): Uint8Array {
  for (;;) {
    try {
      const n = encodeHandshake(new Writer(scratch), m);
      return scratch.slice(0, n);
    } catch (e) {
      if (
        !(e instanceof RangeError) ||
        !e.message.startsWith('buffer overflow') ||
        scratch.length >= 1 << 25
      ) {
        throw e;
      }
      scratch = new Uint8Array(scratch.length * 4);
    }
  }
}
