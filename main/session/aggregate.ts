/**
 * Aggregates a session's qlog events into what the window shows beside the raw events: the
 * handshake (timeline of milestones, TLS messages, version, ALPN, both sides' transport
 * parameters), the stream table (RFC 9000 §3 states from quic:stream_state_updated), and the chart
 * series (quic:recovery_metrics_updated, plus counters sampled from stats()). One pass per event,
 * constant work each: no second event model, no re-scan of the history.
 */
import type {
  HandshakeInfo,
  StreamRow,
  StreamUpdate,
  TimelineEntry,
  TlsMessageRow,
} from '../ipc/contract.ts';
import type { AnyTraceEvent, ParametersSet, QlogFrame } from '../../core/trace/index.ts';
import type { ConnectionStats } from '../../core/connection/types.ts';
import type { StreamStats } from '../../core/connection/stream-stats.ts';
import { PreviewBuffer } from './payload.ts';
import { SeriesStore } from './series.ts';

/** A stream row as the aggregate keeps it: the preview of what arrived lives in a PreviewBuffer. */
export type StreamRowState = Omit<StreamRow, 'received'>;

/** Least time between two updates of a row whose counters alone moved (ms): a transfer moves them all the time. */
export const PROGRESS_INTERVAL = 250;

/** Most timeline entries and TLS messages kept (a session is not a handshake log). */
const MAX_TIMELINE = 400;
const MAX_TLS_MESSAGES = 200;

/** Names of the QUIC versions we know (RFC 9000, RFC 9369). */
export function versionName(hex: string): string | null {
  switch (hex) {
    case '00000001':
      return 'QUIC v1';
    case '6b3343cf':
      return 'QUIC v2';
    default:
      return /^[0-9a-f]{8}$/.test(hex) && (parseInt(hex, 16) & 0x0f0f0f0f) === 0x0a0a0a0a
        ? 'reserved (greasing)'
        : null;
  }
}

function emptyHandshake(): HandshakeInfo {
  return {
    timeline: [],
    tlsMessages: [],
    version: null,
    versionName: null,
    versionNegotiation: null,
    cipher: null,
    group: null,
    alpn: null,
    serverName: null,
    resumed: false,
    transportParameters: { local: null, remote: null },
    certificates: [],
    verdict: null,
  };
}

/** Packet types whose first sending / receipt is a milestone. */
const FIRST_OF = new Set(['initial', 'handshake', '0RTT', '1RTT']);

/** What the aggregate needs to know about the session. */
export interface AggregateOptions {
  /** The clock value of time 0 (epoch ms, the endpoint's clock). */
  origin: number;
  /** HTTP/3 session: client bidi streams are requests, uni stream types come from http3 events. */
  h3: boolean;
}

/** The per-session aggregate of the qlog stream. */
export class SessionAggregate {
  readonly series = new SeriesStore();
  readonly handshake: HandshakeInfo = emptyHandshake();
  /** The qlog connection_closed trigger (stateless_reset, idle_timeout...). */
  closeTrigger: string | null = null;
  /** Packets sent that carried data sent before (stream or CRYPTO retransmissions, PTO probes). */
  packetsRetransmitted = 0;
  private handshakeDirty = false;
  private readonly rows = new Map<number, StreamRowState>();
  /** What arrived on raw streams, by stream id (previews sent to the window as updates). */
  private readonly received = new Map<number, PreviewBuffer>();
  /** Rows whose state changed (sent with the next batch) and rows whose counters moved (sent at most every PROGRESS_INTERVAL ms). */
  private readonly dirtyRows = new Set<number>();
  private readonly progressRows = new Set<number>();
  private lastProgress = -Infinity;
  private readonly seenSent = new Set<string>();
  private readonly seenReceived = new Set<string>();
  /** Highest stream offset sent, per stream id; CRYPTO per encryption level under key -1..-3. */
  private readonly sentEnd = new Map<number, number>();
  private clientHellos = 0;
  private lastSample: { time: number; sent: number; received: number } | null = null;
  private quiet = false;

  constructor(private readonly options: AggregateOptions) {}

  // ---- events ----

  /** Takes one event (its `time` is the endpoint's clock). */
  onEvent(e: AnyTraceEvent): void {
    const t = e.time - this.options.origin;
    switch (e.name) {
      case 'quic:connection_started': {
        const l = e.data.local;
        const r = e.data.remote;
        const fmt = (a: typeof l) =>
          a.ip_v4 !== undefined ? `${a.ip_v4}:${a.port_v4}` : `[${a.ip_v6}]:${a.port_v6}`;
        this.milestone(t, 'connection started', `${fmt(l)} → ${fmt(r)}`);
        return;
      }
      case 'quic:packet_sent': {
        const type = e.data.header.packet_type;
        if (FIRST_OF.has(type) && !this.seenSent.has(type)) {
          this.seenSent.add(type);
          this.milestone(t, `first ${packetTypeLabel(type)} packet sent`);
        }
        if (this.isRetransmission(e.data.frames, type, e.data.trigger)) {
          this.packetsRetransmitted++;
          this.series.add('packets_retransmitted', t, this.packetsRetransmitted);
        }
        return;
      }
      case 'quic:packet_received': {
        const type = e.data.header.packet_type;
        if (type === 'retry')
          this.milestone(t, 'Retry received', 'the server validates our address (RFC 9000 §8.1.2)');
        else if (type === 'version_negotiation') {
          const offered = e.data.supported_versions ?? [];
          this.handshake.versionNegotiation = `Version Negotiation received: the server offers ${offered.join(', ') || 'nothing'}`;
          this.milestone(t, 'Version Negotiation received', offered.join(', '));
        } else if (FIRST_OF.has(type) && !this.seenReceived.has(type)) {
          this.seenReceived.add(type);
          this.milestone(t, `first ${packetTypeLabel(type)} packet received`);
        }
        if (e.data.frames?.some((f) => f.frame_type === 'handshake_done'))
          this.milestone(t, 'HANDSHAKE_DONE received', 'the handshake is confirmed (RFC 9001 §4.1.2)');
        return;
      }
      case 'quicscope:tls_message':
        this.onTlsMessage(t, e.data);
        return;
      case 'quic:connection_state_updated':
        this.milestone(t, `state: ${e.data.new.replace(/_/g, ' ')}`);
        return;
      case 'quic:version_information': {
        const chosen = e.data.chosen_version;
        if (chosen !== undefined) {
          this.handshake.version = chosen;
          this.handshake.versionName = versionName(chosen);
          this.handshakeDirty = true;
        }
        if (e.data.server_versions !== undefined && e.data.chosen_version === undefined)
          this.handshake.versionNegotiation = `the server offers ${e.data.server_versions.join(', ')}`;
        return;
      }
      case 'quic:alpn_information': {
        const chosen = e.data.chosen_alpn;
        if (chosen !== undefined) {
          this.handshake.alpn = chosen.string_value ?? chosen.byte_value ?? null;
          this.milestone(t, 'ALPN chosen', this.handshake.alpn ?? undefined);
        }
        return;
      }
      case 'quic:parameters_set': {
        const side = e.data.initiator === 'remote' ? 'remote' : 'local';
        const params = this.handshake.transportParameters;
        params[side] = { ...(params[side] ?? {}), ...e.data } as ParametersSet;
        if (e.data.tls_cipher !== undefined) this.handshake.cipher = e.data.tls_cipher;
        this.handshakeDirty = true;
        return;
      }
      case 'quic:key_updated':
        if (e.data.trigger === 'local_update' || e.data.trigger === 'remote_update')
          this.milestone(
            t,
            e.data.trigger === 'local_update' ? 'key update (ours)' : 'key update (the peer’s)',
            `${e.data.key_type}, key phase ${e.data.key_phase ?? '?'}`,
          );
        return;
      case 'quic:migration_state_updated':
        this.milestone(t, `migration: ${e.data.new.replace(/_/g, ' ')}`);
        return;
      case 'quic:connection_closed':
        this.closeTrigger = e.data.trigger ?? this.closeTrigger;
        this.milestone(
          t,
          `connection closed (${e.data.initiator ?? 'unknown'})`,
          [e.data.connection_error ?? e.data.application_error, e.data.reason].filter(Boolean).join(': ') ||
            undefined,
        );
        return;
      case 'quic:recovery_metrics_updated': {
        const d = e.data;
        const s = this.series;
        if (d.congestion_window !== undefined) s.add('cwnd', t, d.congestion_window);
        if (d.bytes_in_flight !== undefined) s.add('bytes_in_flight', t, d.bytes_in_flight);
        if (d.ssthresh !== undefined) s.add('ssthresh', t, d.ssthresh);
        if (d.latest_rtt !== undefined) s.add('rtt_latest', t, d.latest_rtt, false);
        if (d.smoothed_rtt !== undefined) s.add('rtt_smoothed', t, d.smoothed_rtt);
        if (d.min_rtt !== undefined) s.add('rtt_min', t, d.min_rtt);
        if (d.rtt_variance !== undefined) s.add('rtt_variance', t, d.rtt_variance);
        return;
      }
      case 'quic:stream_state_updated': {
        const row = this.row(e.data.stream_id);
        const state = e.data.new;
        // 'destroyed' only says the state was freed: the row keeps the terminal RFC state.
        if (state === 'destroyed') return;
        if (e.data.stream_side === 'sending') {
          row.sendState = state;
          if (state === 'data_received') {
            // RFC 9000 §3.1 "Data Recvd": every byte and the FIN were acknowledged.
            row.bytesAcked = row.bytesSent;
            row.finSent = true;
          }
        } else {
          row.recvState = state;
          if (state === 'data_received' || state === 'data_read' || state === 'size_known')
            row.finReceived = true;
        }
        this.dirtyRows.add(row.id);
        return;
      }
      case 'http3:stream_type_set': {
        const row = this.row(e.data.stream_id);
        const type = e.data.stream_type;
        row.kind = type === 'reserved' ? 'unknown' : type;
        this.dirtyRows.add(row.id);
        return;
      }
      default:
        return;
    }
  }

  private onTlsMessage(
    t: number,
    d: Extract<AnyTraceEvent, { name: 'quicscope:tls_message' }>['data'],
  ): void {
    const h = this.handshake;
    let type: string = d.message_type;
    if (type === 'client_hello' && d.direction === 'sent' && ++this.clientHellos === 2) {
      // RFC 8446 §4.1.4: a second ClientHello answers a HelloRetryRequest, which is a ServerHello
      // on the wire: relabel the last one received.
      for (let i = h.tlsMessages.length - 1; i >= 0; i--) {
        const m = h.tlsMessages[i];
        if (m.type === 'server_hello' && m.direction === 'received') {
          m.type = 'hello_retry_request';
          break;
        }
      }
      for (let i = h.timeline.length - 1; i >= 0; i--) {
        if (h.timeline[i].label === 'ServerHello received') {
          h.timeline[i].label = 'HelloRetryRequest received';
          break;
        }
      }
    }
    if (h.tlsMessages.length < MAX_TLS_MESSAGES) {
      const row: TlsMessageRow = {
        time: t,
        direction: d.direction,
        level: d.encryption_level,
        type,
        length: d.raw.length ?? 0,
      };
      if (d.details !== undefined) row.details = d.details;
      h.tlsMessages.push(row);
    }
    type = TLS_LABELS[type] ?? type;
    this.milestone(t, `${type} ${d.direction}`, `${d.encryption_level}, ${d.raw.length ?? 0} bytes`);
  }

  /** Whether a sent packet carries data sent before (RFC 9002 §6.3, §13.3 retransmission). */
  private isRetransmission(
    frames: QlogFrame[] | undefined,
    type: string,
    trigger: string | undefined,
  ): boolean {
    if (trigger !== undefined) return true;
    if (frames === undefined) return false;
    let again = false;
    for (const f of frames) {
      let key: number;
      let offset: number;
      let length: number;
      if (f.frame_type === 'stream') {
        key = f.stream_id;
        offset = f.offset ?? 0;
        length = f.raw?.length ?? 0;
      } else if (f.frame_type === 'crypto') {
        key = type === 'initial' ? -1 : type === 'handshake' ? -2 : -3;
        offset = f.offset;
        length = f.raw.length ?? 0;
      } else continue;
      const end = this.sentEnd.get(key) ?? 0;
      if (offset < end) again = true;
      if (offset + length > end) this.sentEnd.set(key, offset + length);
    }
    return again;
  }

  private milestone(time: number, label: string, detail?: string): void {
    const tl = this.handshake.timeline;
    if (tl.length >= MAX_TIMELINE) return;
    const entry: TimelineEntry = { time, label };
    if (detail !== undefined) entry.detail = detail;
    tl.push(entry);
    this.handshakeDirty = true;
  }

  // ---- handshake ----

  /** Marks the handshake as changed (main/ filled TLS info, certificates, verdict). */
  touchHandshake(): void {
    this.handshakeDirty = true;
  }

  /** The handshake info when it changed since the last call (a snapshot), else undefined. */
  takeHandshake(): HandshakeInfo | undefined {
    if (!this.handshakeDirty) return undefined;
    this.handshakeDirty = false;
    return structuredClone(this.handshake);
  }

  // ---- streams ----

  /** The row of stream `id`, created on first sight (we are the client: even IDs are ours). */
  row(id: number): StreamRowState {
    let row = this.rows.get(id);
    if (row !== undefined) return row;
    const local = id % 2 === 0;
    const uni = Math.floor(id / 2) % 2 === 1;
    row = {
      id,
      initiator: local ? 'local' : 'remote',
      direction: uni ? 'uni' : 'bidi',
      kind: this.options.h3 ? (uni ? 'unknown' : 'request') : 'raw',
      sendState: uni && !local ? null : 'ready',
      recvState: uni && local ? null : 'receive',
      bytesSent: 0,
      bytesAcked: 0,
      bytesReceived: 0,
      sendCredit: null,
      queued: 0,
      finSent: false,
      finReceived: false,
      resetSent: null,
      resetReceived: null,
      stopSent: null,
      stopReceived: null,
    };
    this.rows.set(id, row);
    this.dirtyRows.add(id);
    return row;
  }

  /**
   * The preview of what arrived on raw stream `id` (created, with its row, on first use): push the
   * bytes read, then `touchRow(id, true)`; batches carry it as updates (PayloadUpdate).
   */
  receivedPreview(id: number): PreviewBuffer {
    let p = this.received.get(id);
    if (p === undefined) {
      this.row(id);
      this.received.set(id, (p = new PreviewBuffer()));
    }
    return p;
  }

  /** Whether stream `id` has a row. */
  hasRow(id: number): boolean {
    return this.rows.has(id);
  }

  /** Marks a row changed: `progress` for counters and previews (rate-limited), else a state change. */
  touchRow(id: number, progress = false): void {
    (progress ? this.progressRows : this.dirtyRows).add(id);
  }

  /** Whether rows wait for their next progress update. */
  get rowsPending(): boolean {
    return this.progressRows.size > 0;
  }

  /** Every row (for polling live counters). */
  allRows(): IterableIterator<StreamRowState> {
    return this.rows.values();
  }

  /**
   * Copies a stream's live counters (Connection.streamStats) into its row (created if new); true
   * when they moved. States come from quic:stream_state_updated, in order; only counters are read.
   */
  refreshRow(st: StreamStats): boolean {
    const r = this.row(st.id);
    let moved = false;
    const send = st.send;
    if (send !== null) {
      if (
        r.bytesSent !== send.bytesSent ||
        r.bytesAcked !== send.bytesAcked ||
        r.sendCredit !== send.credit ||
        r.finSent !== send.finSent ||
        r.resetSent !== send.resetCode ||
        r.stopReceived !== send.stopSendingCode
      ) {
        r.bytesSent = send.bytesSent;
        r.bytesAcked = send.bytesAcked;
        r.sendCredit = send.credit;
        r.finSent = send.finSent;
        r.resetSent = send.resetCode;
        r.stopReceived = send.stopSendingCode;
        moved = true;
      }
    }
    const recv = st.recv;
    if (recv !== null) {
      if (
        r.bytesReceived !== recv.bytesReceived ||
        r.finReceived !== recv.finReceived ||
        r.resetReceived !== recv.resetCode ||
        r.stopSent !== recv.stopCode
      ) {
        r.bytesReceived = recv.bytesReceived;
        r.finReceived = recv.finReceived;
        r.resetReceived = recv.resetCode;
        r.stopSent = recv.stopCode;
        moved = true;
      }
    }
    return moved;
  }

  /**
   * Every row (copies) with its whole preview, oldest ID first, for a snapshot or an export; the
   * changed-row sets and the previews' update records are left alone (previewed bytes only grow,
   * so the next updates apply on top of a newer preview too).
   */
  snapshotRows(): StreamRow[] {
    return [...this.rows.keys()]
      .sort((a, b) => a - b)
      .map((id) => ({
        ...(this.rows.get(id) as StreamRowState),
        received: this.received.get(id)?.preview() ?? null,
      }));
  }

  /**
   * The changed rows (copies), oldest ID first, each preview as an update of the window's copy;
   * progress-only rows at most every PROGRESS_INTERVAL ms.
   */
  takeRows(now = Infinity): StreamUpdate[] {
    if (this.progressRows.size > 0 && now - this.lastProgress >= PROGRESS_INTERVAL) {
      for (const id of this.progressRows) this.dirtyRows.add(id);
      this.progressRows.clear();
      this.lastProgress = now;
    }
    if (this.dirtyRows.size === 0) return [];
    const ids = [...this.dirtyRows].sort((a, b) => a - b);
    this.dirtyRows.clear();
    for (const id of ids) this.progressRows.delete(id);
    return ids.map((id) => ({
      ...(this.rows.get(id) as StreamRowState),
      received: this.received.get(id)?.update() ?? null,
    }));
  }

  // ---- stats samples ----

  /** Adds counter and throughput points from a stats() snapshot taken at `now` (endpoint clock). */
  sample(stats: ConnectionStats, now: number): void {
    const t = now - this.options.origin;
    const s = this.series;
    s.add('packets_sent', t, stats.packetsSent);
    s.add('packets_lost', t, stats.packetsLost);
    const last = this.lastSample;
    if (last !== null && stats.bytesSent === last.sent && stats.bytesReceived === last.received) {
      // Nothing moved: one zero point, then nothing (an idle session's series stay still).
      if (!this.quiet) {
        this.quiet = true;
        s.add('throughput_sent', t, 0, false);
        s.add('throughput_received', t, 0, false);
        last.time = t;
      }
      return;
    }
    this.quiet = false;
    if (last === null) {
      s.add('throughput_sent', t, 0, false);
      s.add('throughput_received', t, 0, false);
    } else if (t - last.time >= 20) {
      const dt = (t - last.time) / 1000;
      // A long quiet gap: drop to zero just after the last sample so the line does not ramp.
      if (t - last.time > 1000) {
        s.add('throughput_sent', last.time + 50, 0, false);
        s.add('throughput_received', last.time + 50, 0, false);
      }
      s.add('throughput_sent', t, Math.round(((stats.bytesSent - last.sent) * 8) / dt), false);
      s.add('throughput_received', t, Math.round(((stats.bytesReceived - last.received) * 8) / dt), false);
    } else return;
    this.lastSample = { time: t, sent: stats.bytesSent, received: stats.bytesReceived };
  }
}

const TLS_LABELS: Record<string, string> = {
  client_hello: 'ClientHello',
  server_hello: 'ServerHello',
  hello_retry_request: 'HelloRetryRequest',
  encrypted_extensions: 'EncryptedExtensions',
  certificate: 'Certificate',
  certificate_request: 'CertificateRequest',
  certificate_verify: 'CertificateVerify',
  finished: 'Finished',
  new_session_ticket: 'NewSessionTicket',
  end_of_early_data: 'EndOfEarlyData',
  key_update: 'KeyUpdate',
};

function packetTypeLabel(type: string): string {
  switch (type) {
    case 'initial':
      return 'Initial';
    case 'handshake':
      return 'Handshake';
    case '0RTT':
      return '0-RTT';
    case '1RTT':
      return '1-RTT';
    default:
      return type;
  }
}
