/**
 * QUIC transport parameters (RFC 9000 §18, §18.2, §7.4), with version_information
 * (RFC 9368 §3), max_datagram_frame_size (RFC 9221 §3) and grease_quic_bit (RFC 9287 §3).
 *
 * Decoding validates every rule of §18.2 and raises TRANSPORT_PARAMETER_ERROR. Decoded byte
 * strings are copies: the result lives as long as the connection, the input does not need to.
 */
import { QuicError, TransportError } from './errors.ts';
import { Reader, isVarint, toHex, varintLength } from './buffer.ts';
import type { Writer } from './buffer.ts';
import { versionToHex } from './version.ts';

/** Which endpoint sent (or sends) the parameters. */
export type Role = 'client' | 'server';

/** Transport parameter identifiers (RFC 9000 §22.3, RFC 9368 §10.1, RFC 9221 §3, RFC 9287 §3). */
export const TransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
  version_information: 0x11,
  max_datagram_frame_size: 0x20,
  grease_quic_bit: 0x2ab2,
} as const;
const ID = TransportParameterId;

/** The server's preferred address (RFC 9000 §18.2, Figure 22). */
export interface PreferredAddress {
  /** 4 bytes, network order; all zero (with port 0) when not offered. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes, network order; all zero (with port 0) when not offered. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  /** Connection ID with sequence number 1; 1..20 bytes. */
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

/** Version Information (RFC 9368 §3). */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

/** A transport parameter this implementation does not interpret (RFC 9000 §7.4.2). */
export interface UnknownTransportParameter {
  id: number;
  value: Uint8Array;
}

/** Every transport parameter; absent ones hold their §18.2 default (or null). */
export interface TransportParameters {
  originalDestinationConnectionId: Uint8Array | null;
  /** Milliseconds; 0 disables the idle timeout. */
  maxIdleTimeout: number;
  statelessResetToken: Uint8Array | null;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  preferredAddress: PreferredAddress | null;
  activeConnectionIdLimit: number;
  initialSourceConnectionId: Uint8Array | null;
  retrySourceConnectionId: Uint8Array | null;
  versionInformation: VersionInformation | null;
  /** RFC 9221 §3: null when absent (DATAGRAM frames not supported). */
  maxDatagramFrameSize: number | null;
  greaseQuicBit: boolean;
  /**
   * Parameters not interpreted here, reserved ones included (kept for tracing, in the order
   * received). On encoding they are written as given.
   */
  unknownParameters: UnknownTransportParameter[];
}

/** The §18.2 defaults: what an empty transport parameters extension means. */
export function defaultTransportParameters(): TransportParameters {
  return {
    originalDestinationConnectionId: null,
    maxIdleTimeout: 0,
    statelessResetToken: null,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    preferredAddress: null,
    activeConnectionIdLimit: 2,
    initialSourceConnectionId: null,
    retrySourceConnectionId: null,
    versionInformation: null,
    maxDatagramFrameSize: null,
    greaseQuicBit: false,
    unknownParameters: [],
  };
}

/** Whether `id` is reserved to exercise unknown-parameter handling: 31 * N + 27 (RFC 9000 §18.1). */
export function isReservedTransportParameterId(id: number): boolean {
  return id >= 27 && (id - 27) % 31 === 0;
}

/** Ids this module interprets. */
const KNOWN_IDS: ReadonlySet<number> = new Set(Object.values(TransportParameterId));

const MAX_STREAMS_LIMIT = 2 ** 60;

type Fail = (reason: string) => never;

/**
 * The value rules of §18.2 and RFC 9368 §4, shared by the decoder (which fails with
 * TRANSPORT_PARAMETER_ERROR) and the encoder (which fails with RangeError).
 */
function checkParameters(p: TransportParameters, role: Role, fail: Fail): void {
  const ints: [string, number][] = [
    ['max_idle_timeout', p.maxIdleTimeout],
    ['max_udp_payload_size', p.maxUdpPayloadSize],
    ['initial_max_data', p.initialMaxData],
    ['initial_max_stream_data_bidi_local', p.initialMaxStreamDataBidiLocal],
    ['initial_max_stream_data_bidi_remote', p.initialMaxStreamDataBidiRemote],
    ['initial_max_stream_data_uni', p.initialMaxStreamDataUni],
    ['initial_max_streams_bidi', p.initialMaxStreamsBidi],
    ['initial_max_streams_uni', p.initialMaxStreamsUni],
    ['ack_delay_exponent', p.ackDelayExponent],
    ['max_ack_delay', p.maxAckDelay],
    ['active_connection_id_limit', p.activeConnectionIdLimit],
  ];
  if (p.maxDatagramFrameSize !== null) ints.push(['max_datagram_frame_size', p.maxDatagramFrameSize]);
  for (const [name, v] of ints) if (!isVarint(v)) fail(`${name} ${v} is not a varint`);

  // RFC 9000 §18.2: a client MUST NOT include server-only parameters.
  if (role === 'client') {
    if (p.originalDestinationConnectionId !== null) fail('client sent original_destination_connection_id');
    if (p.statelessResetToken !== null) fail('client sent stateless_reset_token');
    if (p.preferredAddress !== null) fail('client sent preferred_address');
    if (p.retrySourceConnectionId !== null) fail('client sent retry_source_connection_id');
  }
  // RFC 9000 §18.2 value limits.
  if (p.maxUdpPayloadSize < 1200) fail(`max_udp_payload_size ${p.maxUdpPayloadSize} < 1200`);
  if (p.ackDelayExponent > 20) fail(`ack_delay_exponent ${p.ackDelayExponent} > 20`);
  if (p.maxAckDelay >= 2 ** 14) fail(`max_ack_delay ${p.maxAckDelay} >= 2^14`);
  if (p.activeConnectionIdLimit < 2) fail(`active_connection_id_limit ${p.activeConnectionIdLimit} < 2`);
  // RFC 9000 §4.6: stream limits above 2^60 are a TRANSPORT_PARAMETER_ERROR.
  if (p.initialMaxStreamsBidi > MAX_STREAMS_LIMIT) fail('initial_max_streams_bidi > 2^60');
  if (p.initialMaxStreamsUni > MAX_STREAMS_LIMIT) fail('initial_max_streams_uni > 2^60');

  for (const [name, cid] of [
    ['original_destination_connection_id', p.originalDestinationConnectionId],
    ['initial_source_connection_id', p.initialSourceConnectionId],
    ['retry_source_connection_id', p.retrySourceConnectionId],
  ] as const) {
    if (cid !== null && cid.length > 20) fail(`${name} of ${cid.length} bytes`); // RFC 9000 §17.2
  }
  if (p.statelessResetToken !== null && p.statelessResetToken.length !== 16) {
    fail(`stateless_reset_token of ${p.statelessResetToken.length} bytes`);
  }
  const pa = p.preferredAddress;
  if (pa !== null) {
    if (pa.ipv4Address.length !== 4 || pa.ipv6Address.length !== 16) fail('preferred_address: bad address');
    if (!isPort(pa.ipv4Port) || !isPort(pa.ipv6Port)) fail('preferred_address: bad port');
    // RFC 9000 §18.2: a zero-length CID here is a TRANSPORT_PARAMETER_ERROR.
    if (pa.connectionId.length === 0) fail('preferred_address with a zero-length connection ID');
    if (pa.connectionId.length > 20)
      fail(`preferred_address connection ID of ${pa.connectionId.length} bytes`);
    if (pa.statelessResetToken.length !== 16) fail('preferred_address: bad stateless reset token');
  }
  const vi = p.versionInformation;
  if (vi !== null) {
    // RFC 9368 §4: a zero Chosen Version or Available Version is a parsing failure.
    if (vi.chosenVersion === 0) fail('version_information with chosen version 0');
    for (const v of vi.availableVersions) if (v === 0) fail('version_information with available version 0');
    for (const v of [vi.chosenVersion, ...vi.availableVersions]) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) fail(`version_information: bad version ${v}`);
    }
    // RFC 9368 §4: the client's Chosen Version must be among its Available Versions.
    if (role === 'client' && !vi.availableVersions.includes(vi.chosenVersion)) {
      fail('version_information: chosen version not among available versions');
    }
  }
}

function isPort(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

function tpError(reason: string): never {
  throw new QuicError(TransportError.TRANSPORT_PARAMETER_ERROR, reason);
}

function rangeError(reason: string): never {
  throw new RangeError(reason);
}

/** An integer parameter: the varint must fill the value exactly (RFC 9000 §18). */
function intValue(v: Reader, name: string): number {
  const x = v.varint();
  if (!v.done) v.fail(`${name}: value longer than its varint`);
  return x;
}

function cidValue(v: Reader, name: string): Uint8Array {
  if (v.remaining > 20) v.fail(`${name} of ${v.remaining} bytes`); // RFC 9000 §17.2
  return v.rest().slice();
}

function emptyValue(v: Reader, name: string): true {
  if (!v.done) v.fail(`${name} must be empty`); // RFC 9000 §18.2, RFC 9287 §3
  return true;
}

function decodePreferredAddress(v: Reader): PreferredAddress {
  // RFC 9000 §18.2, Figure 22.
  const ipv4Address = v.bytes(4).slice();
  const ipv4Port = v.u16();
  const ipv6Address = v.bytes(16).slice();
  const ipv6Port = v.u16();
  const connectionId = v.vector(1).slice();
  const statelessResetToken = v.bytes(16).slice();
  if (!v.done) v.fail('preferred_address: trailing bytes');
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function decodeVersionInformation(v: Reader): VersionInformation {
  // RFC 9368 §4: too short or not a multiple of 4 is a parsing failure.
  if (v.remaining < 4 || v.remaining % 4 !== 0) v.fail(`version_information of ${v.remaining} bytes`);
  const chosenVersion = v.u32();
  const availableVersions: number[] = [];
  while (!v.done) availableVersions.push(v.u32());
  return { chosenVersion, availableVersions };
}

/**
 * Decodes the quic_transport_parameters extension (RFC 9000 §18) sent by an endpoint of
 * `role`. Unknown and reserved parameters are skipped (and listed in `unknownParameters`).
 * Raises TRANSPORT_PARAMETER_ERROR for any violation of §7.4, §18 and §18.2.
 */
export function decodeTransportParameters(bytes: Uint8Array, role: Role): TransportParameters {
  const r = new Reader(bytes, 0, bytes.length, TransportError.TRANSPORT_PARAMETER_ERROR);
  const p = defaultTransportParameters();
  const seen = new Set<number | bigint>();
  while (!r.done) {
    const idStart = r.offset;
    const id = r.varint();
    const v = r.sub(r.varint());
    // Above 2^53 a number is not exact: key such ids by their exact value.
    const key = id > Number.MAX_SAFE_INTEGER ? new Reader(bytes, idStart).varintBig() : id;
    // RFC 9000 §7.4: duplicate parameters are a TRANSPORT_PARAMETER_ERROR.
    if (seen.has(key)) tpError(`duplicate transport parameter 0x${id.toString(16)}`);
    seen.add(key);
    switch (id) {
      case ID.original_destination_connection_id:
        p.originalDestinationConnectionId = cidValue(v, 'original_destination_connection_id');
        break;
      case ID.max_idle_timeout:
        p.maxIdleTimeout = intValue(v, 'max_idle_timeout');
        break;
      case ID.stateless_reset_token:
        if (v.remaining !== 16) v.fail(`stateless_reset_token of ${v.remaining} bytes`);
        p.statelessResetToken = v.rest().slice();
        break;
      case ID.max_udp_payload_size:
        p.maxUdpPayloadSize = intValue(v, 'max_udp_payload_size');
        break;
      case ID.initial_max_data:
        p.initialMaxData = intValue(v, 'initial_max_data');
        break;
      case ID.initial_max_stream_data_bidi_local:
        p.initialMaxStreamDataBidiLocal = intValue(v, 'initial_max_stream_data_bidi_local');
        break;
      case ID.initial_max_stream_data_bidi_remote:
        p.initialMaxStreamDataBidiRemote = intValue(v, 'initial_max_stream_data_bidi_remote');
        break;
      case ID.initial_max_stream_data_uni:
        p.initialMaxStreamDataUni = intValue(v, 'initial_max_stream_data_uni');
        break;
      case ID.initial_max_streams_bidi:
        p.initialMaxStreamsBidi = intValue(v, 'initial_max_streams_bidi');
        break;
      case ID.initial_max_streams_uni:
        p.initialMaxStreamsUni = intValue(v, 'initial_max_streams_uni');
        break;
      case ID.ack_delay_exponent:
        p.ackDelayExponent = intValue(v, 'ack_delay_exponent');
        break;
      case ID.max_ack_delay:
        p.maxAckDelay = intValue(v, 'max_ack_delay');
        break;
      case ID.disable_active_migration:
        p.disableActiveMigration = emptyValue(v, 'disable_active_migration');
        break;
      case ID.preferred_address:
        p.preferredAddress = decodePreferredAddress(v);
        break;
      case ID.active_connection_id_limit:
        p.activeConnectionIdLimit = intValue(v, 'active_connection_id_limit');
        break;
      case ID.initial_source_connection_id:
        p.initialSourceConnectionId = cidValue(v, 'initial_source_connection_id');
        break;
      case ID.retry_source_connection_id:
        p.retrySourceConnectionId = cidValue(v, 'retry_source_connection_id');
        break;
      case ID.version_information:
        p.versionInformation = decodeVersionInformation(v);
        break;
      case ID.max_datagram_frame_size:
        p.maxDatagramFrameSize = intValue(v, 'max_datagram_frame_size');
        break;
      case ID.grease_quic_bit:
        p.greaseQuicBit = emptyValue(v, 'grease_quic_bit');
        break;
      default:
        // RFC 9000 §7.4.2, §18.1: unknown and reserved parameters are ignored.
        p.unknownParameters.push({ id, value: v.rest().slice() });
    }
  }
  checkParameters(p, role, tpError);
  return p;
}

/** Options for `encodeTransportParameters`. */
export interface EncodeTransportParametersOptions {
  /**
   * Random bytes (from the CryptoProvider) for one reserved parameter (RFC 9000 §18.1): the
   * first two choose N in the id 31 * N + 27, the rest become its value.
   */
  grease?: Uint8Array;
}

function putInt(w: Writer, id: number, value: number): void {
  w.varint(id).varint(varintLength(value)).varint(value);
}

function putBytes(w: Writer, id: number, value: Uint8Array): void {
  w.varint(id).varintBytes(value);
}

/**
 * Encodes `params` for an endpoint of `role` into `w` (RFC 9000 §18) and returns the number
 * of bytes written. Parameters at their default value are omitted (§18.2); null ones too.
 * Invalid values (a caller's bug) raise a RangeError.
 */
export function encodeTransportParameters(
  w: Writer,
  params: TransportParameters,
  role: Role,
  options: EncodeTransportParametersOptions = {},
): number {
  checkParameters(params, role, rangeError);
  const start = w.offset;
  const p = params;
  if (p.originalDestinationConnectionId !== null) {
    putBytes(w, ID.original_destination_connection_id, p.originalDestinationConnectionId);
  }
  if (p.maxIdleTimeout !== 0) putInt(w, ID.max_idle_timeout, p.maxIdleTimeout);
  if (p.statelessResetToken !== null) putBytes(w, ID.stateless_reset_token, p.statelessResetToken);
  if (p.maxUdpPayloadSize !== 65527) putInt(w, ID.max_udp_payload_size, p.maxUdpPayloadSize);
  if (p.initialMaxData !== 0) putInt(w, ID.initial_max_data, p.initialMaxData);
  if (p.initialMaxStreamDataBidiLocal !== 0) {
    putInt(w, ID.initial_max_stream_data_bidi_local, p.initialMaxStreamDataBidiLocal);
  }
  if (p.initialMaxStreamDataBidiRemote !== 0) {
    putInt(w, ID.initial_max_stream_data_bidi_remote, p.initialMaxStreamDataBidiRemote);
  }
  if (p.initialMaxStreamDataUni !== 0) putInt(w, ID.initial_max_stream_data_uni, p.initialMaxStreamDataUni);
  if (p.initialMaxStreamsBidi !== 0) putInt(w, ID.initial_max_streams_bidi, p.initialMaxStreamsBidi);
  if (p.initialMaxStreamsUni !== 0) putInt(w, ID.initial_max_streams_uni, p.initialMaxStreamsUni);
  if (p.ackDelayExponent !== 3) putInt(w, ID.ack_delay_exponent, p.ackDelayExponent);
  if (p.maxAckDelay !== 25) putInt(w, ID.max_ack_delay, p.maxAckDelay);
  if (p.disableActiveMigration) w.varint(ID.disable_active_migration).varint(0);
  const pa = p.preferredAddress;
  if (pa !== null) {
    w.varint(ID.preferred_address).varint(4 + 2 + 16 + 2 + 1 + pa.connectionId.length + 16);
    w.bytes(pa.ipv4Address).u16(pa.ipv4Port).bytes(pa.ipv6Address).u16(pa.ipv6Port);
    w.vector(1, pa.connectionId).bytes(pa.statelessResetToken);
  }
  if (p.activeConnectionIdLimit !== 2) putInt(w, ID.active_connection_id_limit, p.activeConnectionIdLimit);
  if (p.initialSourceConnectionId !== null) {
    putBytes(w, ID.initial_source_connection_id, p.initialSourceConnectionId);
  }
  if (p.retrySourceConnectionId !== null)
    putBytes(w, ID.retry_source_connection_id, p.retrySourceConnectionId);
  const vi = p.versionInformation;
  if (vi !== null) {
    w.varint(ID.version_information)
      .varint(4 + 4 * vi.availableVersions.length)
      .u32(vi.chosenVersion);
    for (const v of vi.availableVersions) w.u32(v);
  }
  if (p.maxDatagramFrameSize !== null) putInt(w, ID.max_datagram_frame_size, p.maxDatagramFrameSize);
  if (p.greaseQuicBit) w.varint(ID.grease_quic_bit).varint(0);
  const ids = new Set<number>();
  for (const u of p.unknownParameters) {
    if (!isVarint(u.id) || KNOWN_IDS.has(u.id) || ids.has(u.id)) {
      throw new RangeError(`cannot send unknown transport parameter 0x${u.id.toString(16)}`);
    }
    ids.add(u.id);
    putBytes(w, u.id, u.value);
  }
  const g = options.grease;
  if (g !== undefined) {
    if (g.length < 2) throw new RangeError('grease needs at least 2 random bytes');
    // RFC 9000 §18.1: reserved ids are 31 * N + 27.
    let id = 31 * ((g[0] << 8) | g[1]) + 27;
    while (ids.has(id)) id += 31;
    putBytes(w, id, g.subarray(2));
  }
  return w.offset - start;
}

/** The qlog `quic:parameters_set` fields for transport parameters (quic-events-13 §5.3). */
export interface QlogTransportParameters {
  original_destination_connection_id?: string;
  initial_source_connection_id?: string;
  retry_source_connection_id?: string;
  stateless_reset_token?: string;
  disable_active_migration: boolean;
  max_idle_timeout: number;
  max_udp_payload_size: number;
  ack_delay_exponent: number;
  max_ack_delay: number;
  active_connection_id_limit: number;
  initial_max_data: number;
  initial_max_stream_data_bidi_local: number;
  initial_max_stream_data_bidi_remote: number;
  initial_max_stream_data_uni: number;
  initial_max_streams_bidi: number;
  initial_max_streams_uni: number;
  preferred_address?: {
    ip_v4: string;
    port_v4: number;
    ip_v6: string;
    port_v6: number;
    connection_id: string;
    stateless_reset_token: string;
  };
  unknown_parameters?: { id: number; value: string }[];
  max_datagram_frame_size?: number;
  grease_quic_bit: boolean;
}

function ipv6Text(a: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16).padStart(4, '0'));
  return groups.join(':');
}

/**
 * `params` as the transport-parameter fields of a qlog `quic:parameters_set` event
 * (draft-ietf-quic-qlog-quic-events-13 §5.3): snake_case names, hexstrings for bytes.
 * version_information is not part of that event (qlog has `quic:version_information`).
 */
export function transportParametersToQlog(params: TransportParameters): QlogTransportParameters {
  const p = params;
  const q: QlogTransportParameters = {
    disable_active_migration: p.disableActiveMigration,
    max_idle_timeout: p.maxIdleTimeout,
    max_udp_payload_size: p.maxUdpPayloadSize,
    ack_delay_exponent: p.ackDelayExponent,
    max_ack_delay: p.maxAckDelay,
    active_connection_id_limit: p.activeConnectionIdLimit,
    initial_max_data: p.initialMaxData,
    initial_max_stream_data_bidi_local: p.initialMaxStreamDataBidiLocal,
    initial_max_stream_data_bidi_remote: p.initialMaxStreamDataBidiRemote,
    initial_max_stream_data_uni: p.initialMaxStreamDataUni,
    initial_max_streams_bidi: p.initialMaxStreamsBidi,
    initial_max_streams_uni: p.initialMaxStreamsUni,
    grease_quic_bit: p.greaseQuicBit,
  };
  if (p.originalDestinationConnectionId !== null) {
    q.original_destination_connection_id = toHex(p.originalDestinationConnectionId);
  }
  if (p.initialSourceConnectionId !== null)
    q.initial_source_connection_id = toHex(p.initialSourceConnectionId);
  if (p.retrySourceConnectionId !== null) q.retry_source_connection_id = toHex(p.retrySourceConnectionId);
  if (p.statelessResetToken !== null) q.stateless_reset_token = toHex(p.statelessResetToken);
  const pa = p.preferredAddress;
  if (pa !== null) {
    q.preferred_address = {
      ip_v4: Array.from(pa.ipv4Address).join('.'),
      port_v4: pa.ipv4Port,
      ip_v6: ipv6Text(pa.ipv6Address),
      port_v6: pa.ipv6Port,
      connection_id: toHex(pa.connectionId),
      stateless_reset_token: toHex(pa.statelessResetToken),
    };
  }
  if (p.unknownParameters.length > 0) {
    q.unknown_parameters = p.unknownParameters.map((u) => ({ id: u.id, value: toHex(u.value) }));
  }
  if (p.maxDatagramFrameSize !== null) q.max_datagram_frame_size = p.maxDatagramFrameSize;
  return q;
}

/** Version Information sent by `role` as qlog `quic:version_information` fields (quic-events-13 §5.1). */
export function versionInformationToQlog(
  vi: VersionInformation,
  role: Role,
): { chosen_version: string; client_versions?: string[]; server_versions?: string[] } {
  const q: { chosen_version: string; client_versions?: string[]; server_versions?: string[] } = {
    chosen_version: versionToHex(vi.chosenVersion),
  };
  // The lists are [+ QuicVersion]: omitted when empty (a server may send none, RFC 9368 §3).
  if (vi.availableVersions.length > 0) {
    const list = vi.availableVersions.map(versionToHex);
    if (role === 'client') q.client_versions = list;
    else q.server_versions = list;
  }
  return q;
}
