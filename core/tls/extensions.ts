/**
 * TLS 1.3 extensions (RFC 8446 §4.2) for the messages QUIC uses: the generic
 * extension block, the typed codecs of each extension we understand, and the
 * per-message tables that say which extension may appear where (§4.2's table).
 *
 * Decoding keeps every extension in wire order in `rawExtensions` (subarrays of the
 * input, no copy) and fills the typed fields of the ones we understand. GREASE values
 * (RFC 8701) in lists are dropped from the typed fields; GREASE or unknown extension
 * types are kept only in `rawExtensions`.
 */
import type { Reader, Writer } from '../wire/buffer.ts';
import { AlertDescription, TlsAlert, decodeError, expectEnd, illegalParameter, tlsReader } from './alerts.ts';
import {
  ExtensionType as X,
  extensionTypeName,
  isGrease16,
  isGreaseAlpn,
  isGreasePskMode,
} from './constants.ts';

/** One extension as it appears on the wire: its type and its extension_data. */
export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

/** A KeyShareEntry (RFC 8446 §4.2.8). */
export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** A PskIdentity (RFC 8446 §4.2.11). */
export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

/** OfferedPsks (RFC 8446 §4.2.11): one binder per identity, in the same order. */
export interface OfferedPsks {
  readonly identities: readonly PskIdentity[];
  readonly binders: readonly Uint8Array[];
}

/** Converts opaque bytes to a string, one char per byte (lossless; ASCII stays readable). */
export function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The inverse of `bytesToLatin1`; a char above U+00FF is a caller's mistake (RangeError). */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`character U+${c.toString(16)} is not a byte`);
    out[i] = c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Small list codecs shared by several extensions.

/** A u16 list with a `lengthBytes`-byte length prefix; `min` bytes at least; GREASE dropped. */
function readU16List(r: Reader, lengthBytes: 1 | 2, min: number, what: string): number[] {
  const n = lengthBytes === 1 ? r.u8() : r.u16();
  if (n < min || n % 2 !== 0) throw decodeError(`${what}: bad list length ${n}`);
  const sub = r.sub(n);
  const out: number[] = [];
  while (!sub.done) {
    const v = sub.u16();
    if (!isGrease16(v)) out.push(v); // RFC 8701 §3.1: ignore GREASE
  }
  return out;
}

function writeU16List(w: Writer, lengthBytes: 1 | 2, list: readonly number[]): void {
  w.lengthPrefixed(lengthBytes, (w) => {
    for (const v of list) w.u16(v);
  });
}

/** An opaque vector with a length check against RFC 8446's `<min..max>` bounds. */
function readOpaque(r: Reader, lengthBytes: 1 | 2 | 3, min: number, what: string): Uint8Array {
  const v = r.vector(lengthBytes);
  if (v.length < min) throw decodeError(`${what}: ${v.length} bytes, at least ${min} required`);
  return v;
}

// ---------------------------------------------------------------------------------------
// The extension block.

/**
 * Reads `Extension extensions<0..2^16-1>`. RFC 8446 §4.2: duplicate types are
 * illegal_parameter; a recognized type not allowed in this message is illegal_parameter.
 */
export function readExtensionBlock(r: Reader, allowed: ReadonlySet<number>, message: string): Extension[] {
  const block = r.sub(r.u16());
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (!block.done) {
    const type = block.u16();
    const data = block.vector(2);
    if (seen.has(type))
      throw illegalParameter(`duplicate ${extensionTypeName(type)} extension in ${message}`);
    seen.add(type);
    if (RECOGNIZED.has(type) && !allowed.has(type)) {
      throw illegalParameter(`${extensionTypeName(type)} extension not allowed in ${message}`); // RFC 8446 §4.2
    }
    out.push({ type, data });
  }
  return out;
}

/** Writes one extension: type, then `body` inside a u16 length. */
export function writeExtension(w: Writer, type: number, body: (w: Writer) => void): void {
  w.u16(type);
  w.lengthPrefixed(2, body);
}

/**
 * RFC 8446 §4.2: an endpoint receiving an extension response it did not request aborts with
 * unsupported_extension. `offered` is the set of types this endpoint sent; `exempt` types
 * (e.g. cookie in a HelloRetryRequest) are always accepted.
 */
export function checkSolicited(
  received: readonly Extension[],
  offered: ReadonlySet<number>,
  message: string,
  exempt: readonly number[] = [],
): void {
  for (const e of received) {
    if (!offered.has(e.type) && !exempt.includes(e.type)) {
      throw new TlsAlert(
        AlertDescription.unsupported_extension,
        `unsolicited ${extensionTypeName(e.type)} extension in ${message}`,
      );
    }
  }
}

/** A typed extension: how to read it into, and write it from, a message's typed fields. */
export interface TypedExtension<E> {
  readonly type: number;
  has(e: E): boolean;
  read(r: Reader, e: E): void;
  write(w: Writer, e: E): void;
}

/** Decodes the typed fields of `raw` into a new `E`, each extension's data read to its end. */
export function decodeTyped<E extends object>(
  raw: readonly Extension[],
  table: readonly TypedExtension<E>[],
  message: string,
): E {
  const e = {} as E;
  for (const x of raw) {
    const t = table.find((d) => d.type === x.type);
    if (t === undefined) continue;
    const r = tlsReader(x.data);
    t.read(r, e);
    expectEnd(r, `${extensionTypeName(x.type)} extension in ${message}`);
  }
  return e;
}

/**
 * Writes an extension block from typed fields. `raw` (if given) fixes the order and
 * supplies the extensions without typed fields (unknown, GREASE, padding...); for a
 * type that has a typed codec the typed field is authoritative. Typed extensions not
 * placed by `raw` follow in table order; `last` (pre_shared_key) always goes last.
 */
export function writeTyped<E>(
  w: Writer,
  e: E,
  table: readonly TypedExtension<E>[],
  raw: readonly Extension[] | undefined,
  last?: number,
): void {
  w.lengthPrefixed(2, (w) => {
    const done = new Set<number>();
    if (raw !== undefined) {
      for (const x of raw) {
        if (x.type === last) continue;
        const t = table.find((d) => d.type === x.type);
        if (t === undefined) {
          w.u16(x.type).vector(2, x.data);
        } else if (t.has(e) && !done.has(t.type)) {
          writeExtension(w, t.type, (w) => t.write(w, e));
          done.add(t.type);
        }
      }
    }
    let lastExt: TypedExtension<E> | undefined;
    for (const t of table) {
      if (t.type === last) lastExt = t;
      else if (!done.has(t.type) && t.has(e)) writeExtension(w, t.type, (w) => t.write(w, e));
    }
    if (lastExt !== undefined && lastExt.has(e)) writeExtension(w, lastExt.type, (w) => lastExt.write(w, e));
  });
}

// ---------------------------------------------------------------------------------------
// Which recognized extensions may appear in which message (RFC 8446 §4.2 table, RFC 9001 §8.2).

/** Every extension type we recognize (for §4.2's "recognized but not allowed here" rule). */
export const RECOGNIZED: ReadonlySet<number> = new Set(Object.values(X));

/** Recognized extensions allowed in a ClientHello (RFC 8446 §4.2, RFC 9001 §8.2). */
export const ALLOWED_IN_CLIENT_HELLO: ReadonlySet<number> = new Set(
  Object.values(X).filter((t) => t !== X.oid_filters),
);
/** Recognized extensions allowed in a ServerHello. */
export const ALLOWED_IN_SERVER_HELLO: ReadonlySet<number> = new Set([
  X.pre_shared_key,
  X.supported_versions,
  X.key_share,
]);
/** Recognized extensions allowed in a HelloRetryRequest. */
export const ALLOWED_IN_HELLO_RETRY_REQUEST: ReadonlySet<number> = new Set([
  X.cookie,
  X.supported_versions,
  X.key_share,
]);
/** Recognized extensions allowed in EncryptedExtensions. */
export const ALLOWED_IN_ENCRYPTED_EXTENSIONS: ReadonlySet<number> = new Set([
  X.server_name,
  X.max_fragment_length,
  X.supported_groups,
  X.use_srtp,
  X.heartbeat,
  X.application_layer_protocol_negotiation,
  X.client_certificate_type,
  X.server_certificate_type,
  X.early_data,
  X.quic_transport_parameters,
]);
/** Recognized extensions allowed in a CertificateEntry. */
export const ALLOWED_IN_CERTIFICATE: ReadonlySet<number> = new Set([
  X.status_request,
  X.signed_certificate_timestamp,
]);
/** Recognized extensions allowed in a CertificateRequest. */
export const ALLOWED_IN_CERTIFICATE_REQUEST: ReadonlySet<number> = new Set([
  X.status_request,
  X.signature_algorithms,
  X.signed_certificate_timestamp,
  X.certificate_authorities,
  X.oid_filters,
  X.signature_algorithms_cert,
]);
/** Recognized extensions allowed in a NewSessionTicket. */
export const ALLOWED_IN_NEW_SESSION_TICKET: ReadonlySet<number> = new Set([X.early_data]);

// ---------------------------------------------------------------------------------------
// Typed extension codecs.

/** server_name (RFC 6066 §3) in a ClientHello: the host_name (0) entry of the ServerNameList. */
export function readServerNameList(r: Reader): string | undefined {
  const n = r.u16();
  if (n < 1) throw decodeError('server_name: empty ServerNameList');
  const list = r.sub(n);
  let host: string | undefined;
  while (!list.done) {
    const nameType = list.u8();
    const name = readOpaque(list, 2, 1, 'server_name HostName');
    if (nameType !== 0) continue;
    // RFC 6066 §3: no more than one name of the same name_type.
    if (host !== undefined) throw illegalParameter('server_name: two host_name entries');
    host = bytesToLatin1(name);
  }
  return host;
}

/** Writes a ServerNameList holding one host_name. */
export function writeServerNameList(w: Writer, host: string): void {
  const name = latin1ToBytes(host);
  w.u16(name.length + 3)
    .u8(0)
    .vector(2, name);
}

/** supported_groups (RFC 8446 §4.2.7): `NamedGroup named_group_list<2..2^16-1>`. */
export const readNamedGroupList = (r: Reader): number[] => readU16List(r, 2, 2, 'supported_groups');
/** signature_algorithms[_cert] (RFC 8446 §4.2.3): `SignatureScheme list<2..2^16-2>`. */
export const readSignatureSchemeList = (r: Reader): number[] => readU16List(r, 2, 2, 'signature_algorithms');
/** supported_versions in a ClientHello (RFC 8446 §4.2.1): `ProtocolVersion versions<2..254>`. */
export const readVersionList = (r: Reader): number[] => readU16List(r, 1, 2, 'supported_versions');
/** Writes a u16 list with a u16 length (groups, signature schemes). */
export const writeU16List16 = (w: Writer, list: readonly number[]): void => writeU16List(w, 2, list);
/** Writes a u16 list with a u8 length (versions). */
export const writeU16List8 = (w: Writer, list: readonly number[]): void => writeU16List(w, 1, list);

/** application_layer_protocol_negotiation (RFC 7301 §3.1): `ProtocolName list<2..2^16-1>`, GREASE dropped. */
export function readAlpnList(r: Reader): string[] {
  const n = r.u16();
  if (n < 2) throw decodeError('ALPN: empty ProtocolNameList');
  const list = r.sub(n);
  const out: string[] = [];
  while (!list.done) {
    const name = bytesToLatin1(readOpaque(list, 1, 1, 'ALPN ProtocolName'));
    if (!isGreaseAlpn(name)) out.push(name); // RFC 8701 §3.1
  }
  return out;
}

/** Writes a ProtocolNameList. */
export function writeAlpnList(w: Writer, names: readonly string[]): void {
  w.lengthPrefixed(2, (w) => {
    for (const n of names) w.vector(1, latin1ToBytes(n));
  });
}

/** One KeyShareEntry (RFC 8446 §4.2.8): group and `opaque key_exchange<1..2^16-1>`. */
export function readKeyShareEntry(r: Reader): KeyShareEntry {
  const group = r.u16();
  return { group, keyExchange: readOpaque(r, 2, 1, 'key_share key_exchange') };
}

/** Writes one KeyShareEntry. */
export function writeKeyShareEntry(w: Writer, k: KeyShareEntry): void {
  w.u16(k.group).vector(2, k.keyExchange);
}

/**
 * KeyShareClientHello (RFC 8446 §4.2.8): `KeyShareEntry client_shares<0..2^16-1>`.
 * GREASE groups are dropped; two shares for one group are illegal_parameter (§4.2.8).
 */
export function readClientShares(r: Reader): KeyShareEntry[] {
  const list = r.sub(r.u16());
  const out: KeyShareEntry[] = [];
  const groups = new Set<number>();
  while (!list.done) {
    const k = readKeyShareEntry(list);
    if (isGrease16(k.group)) continue;
    if (groups.has(k.group))
      throw illegalParameter(`key_share: two shares for group 0x${k.group.toString(16)}`);
    groups.add(k.group);
    out.push(k);
  }
  return out;
}

/** Writes KeyShareClientHello. */
export function writeClientShares(w: Writer, shares: readonly KeyShareEntry[]): void {
  w.lengthPrefixed(2, (w) => {
    for (const k of shares) writeKeyShareEntry(w, k);
  });
}

/** psk_key_exchange_modes (RFC 8446 §4.2.9): `PskKeyExchangeMode ke_modes<1..255>`, GREASE dropped. */
export function readPskModes(r: Reader): number[] {
  const v = readOpaque(r, 1, 1, 'psk_key_exchange_modes');
  const out: number[] = [];
  for (const m of v) if (!isGreasePskMode(m)) out.push(m);
  return out;
}

/** cookie (RFC 8446 §4.2.2): `opaque cookie<1..2^16-1>`. */
export const readCookie = (r: Reader): Uint8Array => readOpaque(r, 2, 1, 'cookie');

/**
 * OfferedPsks (RFC 8446 §4.2.11). A count of binders different from the count of
 * identities is illegal_parameter (one binder per identity, §4.2.11).
 */
export function readOfferedPsks(r: Reader): OfferedPsks {
  const idLen = r.u16();
  if (idLen < 7) throw decodeError('pre_shared_key: identities list too short');
  const ids = r.sub(idLen);
  const identities: PskIdentity[] = [];
  while (!ids.done) {
    const identity = readOpaque(ids, 2, 1, 'PskIdentity.identity');
    identities.push({ identity, obfuscatedTicketAge: ids.u32() });
  }
  const bLen = r.u16();
  if (bLen < 33) throw decodeError('pre_shared_key: binders list too short');
  const bs = r.sub(bLen);
  const binders: Uint8Array[] = [];
  while (!bs.done) binders.push(readOpaque(bs, 1, 32, 'PskBinderEntry'));
  if (binders.length !== identities.length) {
    throw illegalParameter(`pre_shared_key: ${identities.length} identities but ${binders.length} binders`);
  }
  return { identities, binders };
}

/** Writes OfferedPsks (identities, then binders). */
export function writeOfferedPsks(w: Writer, psks: OfferedPsks): void {
  w.lengthPrefixed(2, (w) => {
    for (const id of psks.identities) w.vector(2, id.identity).u32(id.obfuscatedTicketAge >>> 0);
  });
  writeBinderList(w, psks.binders);
}

/** Writes `PskBinderEntry binders<33..2^16-1>`. */
export function writeBinderList(w: Writer, binders: readonly Uint8Array[]): void {
  w.lengthPrefixed(2, (w) => {
    for (const b of binders) w.vector(1, b);
  });
}

/** The size of the binders list on the wire: 2 + Σ(1 + binder length) (RFC 8446 §4.2.11.2). */
export function pskBindersLength(binders: readonly Uint8Array[]): number {
  let n = 2;
  for (const b of binders) n += 1 + b.length;
  return n;
}

/** An extension whose extension_data must be empty (early_data in CH/EE, server_name in EE). */
export function readEmpty(r: Reader, what: string): true {
  if (!r.done) throw decodeError(`${what}: extension_data must be empty`);
  return true;
}

// ---------------------------------------------------------------------------------------
// Typed-field table entries that several messages share (same field, same codec).

/** supported_groups as `supportedGroups` (ClientHello, EncryptedExtensions). */
export const SUPPORTED_GROUPS: TypedExtension<{ supportedGroups?: readonly number[] }> = {
  type: X.supported_groups,
  has: (e) => e.supportedGroups !== undefined,
  read: (r, e) => (e.supportedGroups = readNamedGroupList(r)),
  write: (w, e) => writeU16List16(w, e.supportedGroups!),
};

/** signature_algorithms as `signatureAlgorithms` (ClientHello, CertificateRequest). */
export const SIGNATURE_ALGORITHMS: TypedExtension<{ signatureAlgorithms?: readonly number[] }> = {
  type: X.signature_algorithms,
  has: (e) => e.signatureAlgorithms !== undefined,
  read: (r, e) => (e.signatureAlgorithms = readSignatureSchemeList(r)),
  write: (w, e) => writeU16List16(w, e.signatureAlgorithms!),
};

/** signature_algorithms_cert as `signatureAlgorithmsCert` (ClientHello, CertificateRequest). */
export const SIGNATURE_ALGORITHMS_CERT: TypedExtension<{ signatureAlgorithmsCert?: readonly number[] }> = {
  type: X.signature_algorithms_cert,
  has: (e) => e.signatureAlgorithmsCert !== undefined,
  read: (r, e) => (e.signatureAlgorithmsCert = readSignatureSchemeList(r)),
  write: (w, e) => writeU16List16(w, e.signatureAlgorithmsCert!),
};

/** early_data with empty extension_data as `earlyData: true` (ClientHello, EncryptedExtensions). */
export const EARLY_DATA_EMPTY: TypedExtension<{ earlyData?: true }> = {
  type: X.early_data,
  has: (e) => e.earlyData === true,
  read: (r, e) => (e.earlyData = readEmpty(r, 'early_data')),
  write: () => {},
};

/** quic_transport_parameters (RFC 9001 §8.2), opaque, as `quicTransportParameters` (ClientHello, EncryptedExtensions). */
export const QUIC_TRANSPORT_PARAMETERS: TypedExtension<{ quicTransportParameters?: Uint8Array }> = {
  type: X.quic_transport_parameters,
  has: (e) => e.quicTransportParameters !== undefined,
  read: (r, e) => (e.quicTransportParameters = r.rest()),
  write: (w, e) => w.bytes(e.quicTransportParameters!),
};

/** cookie as `cookie` (ClientHello, HelloRetryRequest). */
export const COOKIE: TypedExtension<{ cookie?: Uint8Array }> = {
  type: X.cookie,
  has: (e) => e.cookie !== undefined,
  read: (r, e) => (e.cookie = readCookie(r)),
  write: (w, e) => w.vector(2, e.cookie!),
};

/** supported_versions' selected_version as `supportedVersion` (ServerHello, HelloRetryRequest; RFC 8446 §4.2.1). */
export const SELECTED_VERSION: TypedExtension<{ supportedVersion?: number }> = {
  type: X.supported_versions,
  has: (e) => e.supportedVersion !== undefined,
  read: (r, e) => (e.supportedVersion = r.u16()),
  write: (w, e) => w.u16(e.supportedVersion!),
};
