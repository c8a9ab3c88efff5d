/**
 * A writer of the older qlog 0.3 JSON-SEQ format (draft-ietf-quic-qlog-main-schema-02 with
 * quic-events-01), which the qvis viewer and ngtcp2 use. Our events (quic-events-13) are mapped
 * at write time; the live vocabulary stays -13 only.
 *
 * Mappings applied (0.3 side from the drafts of that time and from ngtcp2 0.12's output; the 0.3
 * texts are not in ../shared/specs, so this was written from memory and checked against ngtcp2):
 * - Header: {qlog_version "0.3", qlog_format "JSON-SEQ", title, trace: {vantage_point,
 *   common_fields: {ODCID, group_id, protocol_type ["QUIC"], reference_time (epoch ms number),
 *   time_format "relative"}}}; events {time (ms since reference_time), name, data}.
 * - Names: "quic:x" becomes "category:x" with the 0.3 categories connectivity / transport / security
 *   / recovery, and the 0.3 names where they differ: recovery_parameters_set → recovery:
 *   parameters_set, recovery_metrics_updated → recovery:metrics_updated, udp_datagrams_sent/received
 *   → transport:datagrams_sent/received, udp_datagram_dropped → transport:datagram_dropped,
 *   stream_data_moved and datagram_data_moved → transport:data_moved, frames_parsed and
 *   frames_processed → transport:frames_processed, timer_updated (ack/pto timers) →
 *   recovery:loss_timer_updated.
 * - Fields: initiator → owner; key_phase → generation; raw.length of STREAM/CRYPTO/DATAGRAM frames →
 *   length; PADDING → length and payload_length; frame error names → error_code (name or number) plus
 *   raw_error_code; connection_closed connection_error/application_error → connection_code /
 *   application_code; connection_started local/remote → src_/dst_ ip, port and cid; ALPN
 *   identifiers → strings; Token {raw} → {length, data}; stream_data_moved raw.length → length.
 * Limits: events with no 0.3 counterpart (tuple_assigned, migration_state_updated, *_blocked_updated,
 * frames_created, other timers, quicscope:tls_message) keep their -13 data under a 0.3-style
 * category name; qvis lists them but draws nothing special. Fields that 0.3 lacks (spin_bit,
 * key_phase_bit, packet_number_length, datagram ECN arrays, triggers unknown to 0.3) are passed
 * through; 0.3 readers ignore unknown fields.
 */
import type {
  ALPNIdentifier,
  ConnectionClosed,
  QlogEventMap,
  QlogEventName,
  QlogPacketHeader,
  QlogToken,
  TupleEndpointInfo,
} from './events.ts';
import type { QlogFrame } from './frames.ts';
import { JsonSeqRecords, vantagePointOf } from './_json-seq.ts';
import type { VantagePoint } from './qlog-writer.ts';
import type { Tracer } from './tracer.ts';

/** Options of a QvisWriter (cf. QlogWriterOptions). */
export interface QvisWriterOptions {
  title?: string;
  description?: string;
  vantagePoint: VantagePoint['type'] | VantagePoint;
  /** The Original Destination Connection ID as hex: 0.3's ODCID common field. */
  odcid?: string;
  /** Defaults to `odcid`. */
  groupId?: string;
  /** Epoch ms (0.3 reference_time is a number); event times are written relative to it. */
  referenceTime: number;
  /** Decimal places kept of each relative time in ms (default 3). */
  timePrecision?: number;
}

type Data = Record<string, unknown>;

// Partial so that events added to QlogEventMap elsewhere (declaration merging) keep their name.
const NAMES_03: Readonly<Partial<Record<QlogEventName, string>>> = {
  'quic:server_listening': 'connectivity:server_listening',
  'quic:connection_started': 'connectivity:connection_started',
  'quic:connection_closed': 'connectivity:connection_closed',
  'quic:connection_id_updated': 'connectivity:connection_id_updated',
  'quic:spin_bit_updated': 'connectivity:spin_bit_updated',
  'quic:connection_state_updated': 'connectivity:connection_state_updated',
  'quic:tuple_assigned': 'connectivity:tuple_assigned',
  'quic:mtu_updated': 'connectivity:mtu_updated',
  'quic:version_information': 'transport:version_information',
  'quic:alpn_information': 'transport:alpn_information',
  'quic:parameters_set': 'transport:parameters_set',
  'quic:parameters_restored': 'transport:parameters_restored',
  'quic:packet_sent': 'transport:packet_sent',
  'quic:packet_received': 'transport:packet_received',
  'quic:packet_dropped': 'transport:packet_dropped',
  'quic:packet_buffered': 'transport:packet_buffered',
  'quic:packets_acked': 'transport:packets_acked',
  'quic:udp_datagrams_sent': 'transport:datagrams_sent',
  'quic:udp_datagrams_received': 'transport:datagrams_received',
  'quic:udp_datagram_dropped': 'transport:datagram_dropped',
  'quic:stream_state_updated': 'transport:stream_state_updated',
  'quic:frames_created': 'transport:frames_created',
  'quic:frames_parsed': 'transport:frames_processed',
  'quic:frames_processed': 'transport:frames_processed',
  'quic:stream_data_moved': 'transport:data_moved',
  'quic:datagram_data_moved': 'transport:data_moved',
  'quic:connection_data_blocked_updated': 'transport:connection_data_blocked_updated',
  'quic:stream_data_blocked_updated': 'transport:stream_data_blocked_updated',
  'quic:datagram_data_blocked_updated': 'transport:datagram_data_blocked_updated',
  'quic:migration_state_updated': 'connectivity:migration_state_updated',
  'quic:timer_updated': 'recovery:loss_timer_updated',
  'quic:key_updated': 'security:key_updated',
  'quic:key_discarded': 'security:key_discarded',
  'quic:recovery_parameters_set': 'recovery:parameters_set',
  'quic:recovery_metrics_updated': 'recovery:metrics_updated',
  'quic:congestion_state_updated': 'recovery:congestion_state_updated',
  'quic:packet_lost': 'recovery:packet_lost',
  'quic:marked_for_retransmit': 'recovery:marked_for_retransmit',
  'quic:ecn_state_updated': 'recovery:ecn_state_updated',
  'quicscope:tls_message': 'quicscope:tls_message',
  // h3-events.ts: qlog 0.3 (h3-events-01) names these under the "http" category.
  'http3:parameters_set': 'http:parameters_set',
  'http3:stream_type_set': 'http:stream_type_set',
  'http3:frame_created': 'http:frame_created',
  'http3:frame_parsed': 'http:frame_parsed',
};

/** Renames `from` to `to` in a shallow copy (dropping it when undefined). */
function renamed(data: object, from: string, to: string): Data {
  const out: Data = { ...(data as Data) };
  if (from in out) {
    const v = out[from];
    delete out[from];
    if (v !== undefined) out[to] = v;
  }
  return out;
}

function token03(token: QlogToken): Data {
  const out: Data = {};
  if (token.type !== undefined) out.type = token.type;
  if (token.details !== undefined) out.details = token.details;
  if (token.raw?.length !== undefined) out.length = token.raw.length;
  if (token.raw?.data !== undefined) out.data = token.raw.data;
  return out;
}

function header03(header: QlogPacketHeader): Data {
  return header.token === undefined ? { ...header } : { ...header, token: token03(header.token) };
}

/** 0.3 error_code: the name when known, else the number; raw_error_code: the number. */
function errorCode03(out: Data, error: unknown, code: unknown): void {
  delete out.error;
  out.error_code = error !== undefined && error !== 'unknown' ? error : code;
  if (code !== undefined) out.raw_error_code = code;
}

/** A -13 qlog frame in its qlog 0.3 shape. */
export function toQvisFrame(frame: QlogFrame): Data {
  switch (frame.frame_type) {
    case 'padding':
      return { frame_type: 'padding', length: frame.raw?.length, payload_length: frame.raw?.payload_length };
    case 'stream':
    case 'crypto':
    case 'datagram': {
      const out: Data = { ...frame, length: frame.raw?.length ?? 0 };
      if (frame.raw?.data === undefined) delete out.raw;
      return out;
    }
    case 'new_token':
      return { frame_type: 'new_token', length: frame.token.raw?.length, token: token03(frame.token) };
    case 'reset_stream':
    case 'stop_sending':
    case 'connection_close': {
      const out: Data = { ...frame };
      errorCode03(out, frame.error, frame.error_code);
      return out;
    }
    case 'unknown':
      return { frame_type: 'unknown', raw_frame_type: frame.frame_type_bytes, raw_length: frame.raw?.length };
    default:
      return { ...frame };
  }
}

function frames03(frames: readonly QlogFrame[] | undefined): Data[] | undefined {
  return frames?.map(toQvisFrame);
}

function packetEvent03(data: { header?: QlogPacketHeader; frames?: QlogFrame[] }): Data {
  const out: Data = { ...data };
  if (data.header !== undefined) out.header = header03(data.header);
  if (data.frames !== undefined) out.frames = frames03(data.frames);
  return out;
}

function endpoint(info: TupleEndpointInfo): { ip?: string; port?: number; v6: boolean } {
  if (info.ip_v6 !== undefined) return { ip: info.ip_v6, port: info.port_v6, v6: true };
  return { ip: info.ip_v4, port: info.port_v4, v6: false };
}

function alpn03(id: ALPNIdentifier): string | undefined {
  return id.string_value ?? id.byte_value;
}

const CLOSE_TRIGGERS_03 = new Set([
  'idle_timeout',
  'application',
  'error',
  'version_mismatch',
  'stateless_reset',
]);

function connectionClosed03(d: ConnectionClosed): Data {
  const out: Data = {};
  if (d.initiator !== undefined) out.owner = d.initiator;
  if (d.connection_error !== undefined) {
    out.connection_code = d.connection_error !== 'unknown' ? d.connection_error : d.error_code;
  }
  if (d.application_error !== undefined) {
    out.application_code = d.application_error !== 'unknown' ? d.application_error : d.error_code;
  }
  if (d.internal_code !== undefined) out.internal_code = d.internal_code;
  if (d.reason !== undefined) out.reason = d.reason;
  if (d.trigger === 'aborted') out.trigger = 'error';
  else if (d.trigger !== undefined && CLOSE_TRIGGERS_03.has(d.trigger)) out.trigger = d.trigger;
  return out;
}

/** The qlog 0.3 name and data of one -13 event (see the module comment for the mappings). */
export function toQvisEvent<N extends QlogEventName>(name: N, data: QlogEventMap[N]): [string, Data] {
  const ev = { name, data } as { [K in QlogEventName]: { name: K; data: QlogEventMap[K] } }[QlogEventName];
  const name03 = NAMES_03[name] ?? name;
  switch (ev.name) {
    case 'quic:connection_started': {
      const local = endpoint(ev.data.local);
      const remote = endpoint(ev.data.remote);
      const out: Data = { ip_version: local.v6 || remote.v6 ? 'ipv6' : 'ipv4', protocol: 'QUIC' };
      if (local.ip !== undefined) out.src_ip = local.ip;
      if (remote.ip !== undefined) out.dst_ip = remote.ip;
      if (local.port !== undefined) out.src_port = local.port;
      if (remote.port !== undefined) out.dst_port = remote.port;
      if (ev.data.local.connection_ids?.length) out.src_cid = ev.data.local.connection_ids[0];
      if (ev.data.remote.connection_ids?.length) out.dst_cid = ev.data.remote.connection_ids[0];
      return [name03, out];
    }
    case 'quic:connection_closed':
      return [name03, connectionClosed03(ev.data)];
    case 'quic:connection_id_updated':
    case 'quic:parameters_set':
      return [name03, renamed(ev.data, 'initiator', 'owner')];
    case 'quic:alpn_information': {
      const out: Data = {};
      if (ev.data.server_alpns !== undefined) out.server_alpns = ev.data.server_alpns.map(alpn03);
      if (ev.data.client_alpns !== undefined) out.client_alpns = ev.data.client_alpns.map(alpn03);
      if (ev.data.chosen_alpn !== undefined) out.chosen_alpn = alpn03(ev.data.chosen_alpn);
      return [name03, out];
    }
    case 'quic:packet_sent':
    case 'quic:packet_received':
    case 'quic:packet_dropped':
    case 'quic:packet_buffered':
    case 'quic:packet_lost':
      return [name03, packetEvent03(ev.data)];
    case 'quic:frames_created':
    case 'quic:frames_parsed':
    case 'quic:frames_processed':
    case 'quic:marked_for_retransmit':
      return [name03, { ...ev.data, frames: frames03(ev.data.frames) }];
    case 'quic:stream_data_moved':
    case 'quic:datagram_data_moved': {
      const out: Data = { ...ev.data };
      if (ev.data.raw?.length !== undefined) out.length = ev.data.raw.length;
      if (ev.data.raw?.data === undefined) delete out.raw;
      return [name03, out];
    }
    case 'quic:timer_updated': {
      // 0.3 had only the loss detection timer (ack = time threshold, pto).
      const t = ev.data.timer_type;
      if (t === 'ack' || t === 'pto') return [name03, { ...ev.data }];
      if (t === 'loss_timeout') {
        // The multi-modal loss timer (RFC 9002 App. A.8): 0.3 logs it without a timer_type.
        const out: Data = { ...ev.data };
        delete out.timer_type;
        return [name03, out];
      }
      return ['transport:timer_updated', { ...ev.data }];
    }
    case 'quic:key_updated':
    case 'quic:key_discarded':
      return [name03, renamed(ev.data, 'key_phase', 'generation')];
    default:
      return [name03, { ...(ev.data as Data) }];
  }
}

/**
 * Writes one trace in qlog 0.3 JSON-SEQ (the format qvis reads): a header record at construction,
 * then one `{"time", "name", "data"}` record per event. Also a Tracer.
 */
export class QvisWriter implements Tracer {
  readonly enabled = true;
  private readonly records: JsonSeqRecords;

  constructor(sink: (chunk: string) => void, options: QvisWriterOptions) {
    this.records = new JsonSeqRecords(sink, options.referenceTime, options.timePrecision);
    this.records.write(qvisHeader(options));
  }

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    const [name03, data03] = toQvisEvent(name, data);
    this.records.write({ time: this.records.relativeTime(timeMs), name: name03, data: data03 });
  }
}

/** The qlog 0.3 JSON-SEQ header record. */
export function qvisHeader(options: QvisWriterOptions): Data {
  const vantage = vantagePointOf(options.vantagePoint);
  const commonFields: Data = {};
  if (options.odcid !== undefined) commonFields.ODCID = options.odcid;
  const groupId = options.groupId ?? options.odcid;
  if (groupId !== undefined) commonFields.group_id = groupId;
  commonFields.protocol_type = ['QUIC'];
  commonFields.reference_time = options.referenceTime;
  commonFields.time_format = 'relative';
  const header: Data = { qlog_version: '0.3', qlog_format: 'JSON-SEQ' };
  header.title = options.title ?? `quicscope ${vantage.type}${options.odcid ? ` ${options.odcid}` : ''}`;
  if (options.description !== undefined) header.description = options.description;
  header.trace = { vantage_point: vantage, common_fields: commonFields };
  return header;
}
