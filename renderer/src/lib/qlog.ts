/**
 * Views of qlog events (draft-ietf-quic-qlog-quic-events-13): the packet log rows are the
 * quic:packet_sent / quic:packet_received events themselves, plus short labels for display.
 */
import type { QlogEvent } from '../../../main/ipc/contract.ts';
import type { QlogFrame, QlogPacketType } from '../../../core/trace/index.ts';
import { formatBytes } from './format.ts';

/** One packet of the log: a packet_sent / packet_received event, flattened for the list. */
export interface PacketRow {
  /** Position in the session's packet log (stable while the log is not trimmed). */
  index: number;
  time: number;
  direction: 'sent' | 'received';
  type: QlogPacketType;
  /** Packet number; null for Retry, Version Negotiation and stateless resets. */
  pn: number | null;
  /** Bytes on the wire (raw.length), or null when the event did not say. */
  size: number | null;
  frames: readonly QlogFrame[];
  /** Version Negotiation: the versions offered. */
  versions?: readonly string[];
  trigger?: string;
  /** Set when a quic:packet_lost event named this packet. */
  lost: boolean;
}

/** The packet types of the filter menu, in RFC order. */
export const PACKET_TYPES: readonly QlogPacketType[] = [
  'initial',
  '0RTT',
  'handshake',
  'retry',
  '1RTT',
  'version_negotiation',
  'stateless_reset',
];

/** The frame types of the filter menu (qlog names). */
export const FRAME_TYPES: readonly string[] = [
  'padding',
  'ping',
  'ack',
  'reset_stream',
  'stop_sending',
  'crypto',
  'new_token',
  'stream',
  'max_data',
  'max_stream_data',
  'max_streams',
  'data_blocked',
  'stream_data_blocked',
  'streams_blocked',
  'new_connection_id',
  'retire_connection_id',
  'path_challenge',
  'path_response',
  'connection_close',
  'handshake_done',
  'datagram',
  'unknown',
];

/** Human names of the packet types. */
export const PACKET_TYPE_LABEL: Record<string, string> = {
  initial: 'Initial',
  '0RTT': '0-RTT',
  handshake: 'Handshake',
  retry: 'Retry',
  '1RTT': '1-RTT',
  version_negotiation: 'Version Negotiation',
  stateless_reset: 'Stateless Reset',
  unknown: 'Unknown',
};

/** The encryption level that protects a packet type (RFC 9001 §4), for the handshake timeline. */
export function encryptionLevel(type: QlogPacketType): string {
  switch (type) {
    case 'initial':
      return 'Initial keys';
    case 'handshake':
      return 'Handshake keys';
    case '0RTT':
      return '0-RTT keys';
    case '1RTT':
      return '1-RTT keys';
    case 'retry':
      return 'Retry integrity tag';
    default:
      return 'none';
  }
}

/** A packet row from a packet_sent / packet_received event, or null for other events. */
export function packetRow(ev: QlogEvent, index: number): PacketRow | null {
  if (ev.name !== 'quic:packet_sent' && ev.name !== 'quic:packet_received') return null;
  const d = ev.data;
  return {
    index,
    time: ev.time,
    direction: ev.name === 'quic:packet_sent' ? 'sent' : 'received',
    type: d.header.packet_type,
    pn: d.header.packet_number ?? null,
    size: d.raw?.length ?? null,
    frames: d.frames ?? [],
    versions: d.supported_versions,
    trigger: d.trigger,
    lost: false,
  };
}

function ranges(frame: Extract<QlogFrame, { frame_type: 'ack' }>): string {
  const r = frame.acked_ranges ?? [];
  const shown = r.slice(-4).map((x) => (x.length === 1 ? `${x[0]}` : `${x[0]}–${x[1]}`));
  return (r.length > 4 ? '…, ' : '') + shown.join(', ');
}

/** One-line label of a frame: "STREAM 4 off=0 len=120 FIN", "ACK 0–12 delay=0.2ms". */
export function frameLabel(f: QlogFrame): string {
  switch (f.frame_type) {
    case 'padding':
      return `PADDING ${f.raw?.payload_length ?? f.raw?.length ?? ''}`.trim();
    case 'ping':
      return 'PING';
    case 'ack':
      return `ACK ${ranges(f)}${f.ack_delay != null ? ` delay=${f.ack_delay.toFixed(2)}ms` : ''}${
        f.ce != null ? ` ect0=${f.ect0 ?? 0} ect1=${f.ect1 ?? 0} ce=${f.ce}` : ''
      }`;
    case 'reset_stream':
      return `RESET_STREAM ${f.stream_id} ${f.error}${f.error_code != null ? `(${f.error_code})` : ''} final=${f.final_size}`;
    case 'stop_sending':
      return `STOP_SENDING ${f.stream_id} ${f.error}${f.error_code != null ? `(${f.error_code})` : ''}`;
    case 'crypto':
      return `CRYPTO off=${f.offset} len=${f.raw.length ?? 0}`;
    case 'new_token':
      return `NEW_TOKEN len=${f.token.raw?.length ?? '?'}`;
    case 'stream':
      return `STREAM ${f.stream_id} off=${f.offset ?? 0} len=${f.raw?.length ?? 0}${f.fin ? ' FIN' : ''}`;
    case 'max_data':
      return `MAX_DATA ${formatBytes(f.maximum)}`;
    case 'max_stream_data':
      return `MAX_STREAM_DATA ${f.stream_id} ${formatBytes(f.maximum)}`;
    case 'max_streams':
      return `MAX_STREAMS ${f.stream_type === 'bidirectional' ? 'bidi' : 'uni'} ${f.maximum}`;
    case 'data_blocked':
      return `DATA_BLOCKED ${f.limit}`;
    case 'stream_data_blocked':
      return `STREAM_DATA_BLOCKED ${f.stream_id} ${f.limit}`;
    case 'streams_blocked':
      return `STREAMS_BLOCKED ${f.stream_type === 'bidirectional' ? 'bidi' : 'uni'} ${f.limit}`;
    case 'new_connection_id':
      return `NEW_CONNECTION_ID #${f.sequence_number} ${f.connection_id}`;
    case 'retire_connection_id':
      return `RETIRE_CONNECTION_ID #${f.sequence_number}`;
    case 'path_challenge':
      return `PATH_CHALLENGE ${f.data ?? ''}`.trim();
    case 'path_response':
      return `PATH_RESPONSE ${f.data ?? ''}`.trim();
    case 'connection_close':
      return `CONNECTION_CLOSE ${f.error ?? ''}${f.error_code != null ? ` (0x${f.error_code.toString(16)})` : ''}${
        f.reason ? ` "${f.reason}"` : ''
      }`;
    case 'handshake_done':
      return 'HANDSHAKE_DONE';
    case 'datagram':
      return `DATAGRAM len=${f.raw?.length ?? 0}`;
    case 'unknown':
      return `UNKNOWN 0x${f.frame_type_bytes.toString(16)}`;
  }
}

/** The frames of a packet as one short line: labels for one or two frames, counts by type beyond. */
export function framesSummary(frames: readonly QlogFrame[], max = 4): string {
  if (frames.length === 0) return '';
  if (frames.length <= 2) return frames.map(frameLabel).join(' · ');
  const counts = new Map<string, number>();
  for (const f of frames) counts.set(f.frame_type, (counts.get(f.frame_type) ?? 0) + 1);
  const parts: string[] = [];
  for (const [type, n] of counts) {
    const name = type.toUpperCase();
    parts.push(n > 1 ? `${name}×${n}` : name);
    if (parts.length >= max) break;
  }
  return parts.join(' ') + (counts.size > max ? ' …' : '');
}

/** Whether a packet row carries a frame of the given qlog frame_type. */
export function hasFrame(row: PacketRow, frameType: string): boolean {
  for (const f of row.frames) if (f.frame_type === frameType) return true;
  return false;
}

/** Handshake markers found in the qlog stream (Retry, VN, HRR, 0-RTT, key updates, migration). */
export interface Markers {
  retry: boolean;
  versionNegotiation: boolean;
  helloRetryRequest: boolean;
  zeroRttSent: boolean;
  zeroRttAccepted: boolean | null;
  keyUpdates: number;
  migrations: number;
  handshakeConfirmedAt: number | null;
}

/** Markers before any event. */
export function emptyMarkers(): Markers {
  return {
    retry: false,
    versionNegotiation: false,
    helloRetryRequest: false,
    zeroRttSent: false,
    zeroRttAccepted: null,
    keyUpdates: 0,
    migrations: 0,
    handshakeConfirmedAt: null,
  };
}

/** Updates `m` in place from one event; returns true when something changed. */
export function updateMarkers(m: Markers, ev: QlogEvent): boolean {
  switch (ev.name) {
    case 'quic:packet_received':
      if (ev.data.header.packet_type === 'retry' && !m.retry) return (m.retry = true);
      if (ev.data.header.packet_type === 'version_negotiation' && !m.versionNegotiation)
        return (m.versionNegotiation = true);
      return false;
    case 'quic:packet_sent':
      if (ev.data.header.packet_type === '0RTT' && !m.zeroRttSent) return (m.zeroRttSent = true);
      return false;
    case 'quicscope:tls_message':
      if (ev.data.message_type === ('hello_retry_request' as string) && !m.helloRetryRequest)
        return (m.helloRetryRequest = true);
      return false;
    case 'quic:key_updated':
      if (ev.data.trigger === 'local_update' || ev.data.trigger === 'remote_update') {
        // One update installs two keys (read and write): count the client's write key only once.
        if (ev.data.key_type === 'client_1rtt_secret') m.keyUpdates++;
        return true;
      }
      return false;
    case 'quic:migration_state_updated':
      if (ev.data.new === 'migration_complete') {
        m.migrations++;
        return true;
      }
      return false;
    case 'quic:connection_state_updated':
      if (ev.data.new === 'handshake_confirmed' && m.handshakeConfirmedAt === null) {
        m.handshakeConfirmedAt = ev.time;
        return true;
      }
      return false;
    default:
      return false;
  }
}
