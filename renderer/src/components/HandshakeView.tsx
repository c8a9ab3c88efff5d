import { memo, useMemo, type ReactNode } from 'react';
import type { HandshakeInfo, ParametersSet, TimelineEntry } from '../store/types.ts';
import { encryptionLevel, frameLabel, PACKET_TYPE_LABEL, type Markers, type PacketRow } from '../lib/qlog.ts';
import { formatOffset, tlsMessageName, versionLabel } from '../lib/format.ts';
import { CertificateChain, VerdictBadge } from './Certificates.tsx';

type TimelineItem =
  { kind: 'packet'; time: number; row: PacketRow } | { kind: 'step'; time: number; entry: TimelineEntry };

function mergeTimeline(packets: readonly PacketRow[], steps: readonly TimelineEntry[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let i = 0;
  let j = 0;
  while (i < packets.length || j < steps.length) {
    // Steps first at equal times: "Initial sent" reads before the packet row it describes.
    if (j < steps.length && (i >= packets.length || steps[j].time <= packets[i].time)) {
      items.push({ kind: 'step', time: steps[j].time, entry: steps[j] });
      j++;
    } else {
      items.push({ kind: 'packet', time: packets[i].time, row: packets[i] });
      i++;
    }
  }
  return items;
}

function Markers(props: { markers: Markers; handshake: HandshakeInfo | null }): ReactNode {
  const m = props.markers;
  const marks: [string, string][] = [];
  if (m.versionNegotiation) marks.push(['Version Negotiation', 'warn']);
  if (m.retry) marks.push(['Retry', 'warn']);
  if (m.helloRetryRequest) marks.push(['HelloRetryRequest', 'warn']);
  if (m.zeroRttSent) marks.push(['0-RTT sent', 'info']);
  if (props.handshake?.resumed) marks.push(['Resumed (PSK)', 'info']);
  if (m.keyUpdates > 0) marks.push([`Key updates: ${m.keyUpdates}`, 'info']);
  if (m.migrations > 0) marks.push([`Migrations: ${m.migrations}`, 'info']);
  if (marks.length === 0) return null;
  return (
    <div className="markers" aria-label="Handshake markers">
      {marks.map(([text, cls]) => (
        <span key={text} className={`badge ${cls}`}>
          {text}
        </span>
      ))}
    </div>
  );
}

const PARAM_ORDER: (keyof ParametersSet)[] = [
  'original_destination_connection_id',
  'initial_source_connection_id',
  'retry_source_connection_id',
  'max_idle_timeout',
  'max_udp_payload_size',
  'initial_max_data',
  'initial_max_stream_data_bidi_local',
  'initial_max_stream_data_bidi_remote',
  'initial_max_stream_data_uni',
  'initial_max_streams_bidi',
  'initial_max_streams_uni',
  'ack_delay_exponent',
  'max_ack_delay',
  'disable_active_migration',
  'active_connection_id_limit',
  'max_datagram_frame_size',
  'grease_quic_bit',
  'stateless_reset_token',
  'preferred_address',
  'unknown_parameters',
];

const SKIP_PARAMS = new Set(['initiator', 'tls_cipher', 'resumption_allowed', 'early_data_enabled']);

function paramValue(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function TransportParameters(props: {
  local: ParametersSet | null;
  remote: ParametersSet | null;
}): ReactNode {
  const keys = new Set<string>(PARAM_ORDER as string[]);
  for (const p of [props.local, props.remote]) for (const k of Object.keys(p ?? {})) keys.add(k);
  const rows = [...keys].filter(
    (k) =>
      !SKIP_PARAMS.has(k) &&
      ((props.local as Record<string, unknown> | null)?.[k] !== undefined ||
        (props.remote as Record<string, unknown> | null)?.[k] !== undefined),
  );
  if (rows.length === 0) return <p className="empty">No transport parameters yet.</p>;
  return (
    <table className="data params">
      <thead>
        <tr>
          <th scope="col">Parameter (RFC 9000 §18.2)</th>
          <th scope="col">Ours</th>
          <th scope="col">Peer's</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{paramValue((props.local as Record<string, unknown> | null)?.[k])}</td>
            <td>{paramValue((props.remote as Record<string, unknown> | null)?.[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The handshake: negotiated parameters, the packet timeline, TLS messages, transport parameters,
 * certificates. Re-rendered only when one of those changes, not for every batch of 1-RTT packets.
 */
export const HandshakeView = memo(function HandshakeView(props: {
  handshake: HandshakeInfo | null;
  handshakePackets: readonly PacketRow[];
  markers: Markers;
  /** The session ended (closed or failed): an incomplete handshake will not complete. */
  ended: boolean;
}): ReactNode {
  const { handshake: hs, handshakePackets, markers, ended } = props;
  const items = useMemo(
    () => mergeTimeline(handshakePackets, hs?.timeline ?? []),
    [handshakePackets, hs?.timeline],
  );
  const done = hs?.timeline.some((t) => /handshake (complete|confirmed)/i.test(t.label)) ?? false;

  return (
    <div className="handshake">
      <section className="card" aria-label="Negotiated">
        <h3>
          Negotiated{' '}
          <span
            className={done ? 'badge ok' : ended ? 'badge bad' : 'badge muted'}
            data-testid="handshake-status"
          >
            {done ? 'handshake complete' : ended ? 'not completed' : 'in progress'}
          </span>
        </h3>
        <dl className="kv grid">
          <dt>QUIC version</dt>
          <dd>{hs?.versionName ?? versionLabel(hs?.version)}</dd>
          <dt>Cipher suite</dt>
          <dd>{hs?.cipher ?? '—'}</dd>
          <dt>Key exchange group</dt>
          <dd>{hs?.group ?? '—'}</dd>
          <dt>ALPN</dt>
          <dd>{hs?.alpn ?? '—'}</dd>
          <dt>Server name (SNI)</dt>
          <dd>{hs?.serverName ?? '—'}</dd>
          <dt>Certificate</dt>
          <dd>
            <VerdictBadge verdict={hs?.verdict ?? null} />
          </dd>
          {hs?.versionNegotiation != null && (
            <>
              <dt>Version negotiation</dt>
              <dd>{hs.versionNegotiation}</dd>
            </>
          )}
        </dl>
        <Markers markers={markers} handshake={hs} />
      </section>

      <section className="card" aria-label="TLS messages">
        <h3>TLS 1.3 messages</h3>
        {hs === null || hs.tlsMessages.length === 0 ? (
          <p className="empty">No TLS message yet.</p>
        ) : (
          <ol className="tls-messages" data-testid="tls-messages">
            {hs.tlsMessages.map((m, i) => (
              <li key={i} className={`tls ${m.direction} ${m.type === 'hello_retry_request' ? 'mark' : ''}`}>
                <span className="t">{formatOffset(m.time)} ms</span>
                <span className="dir" aria-label={m.direction}>
                  {m.direction === 'sent' ? '→' : '←'}
                </span>
                <span className="name">{tlsMessageName(m.type)}</span>
                <span className="level">{m.level}</span>
                <span className="len">{m.length} B</span>
              </li>
            ))}
          </ol>
        )}
      </section>

      <section className="card span2" aria-label="Packet timeline">
        <h3>Packet timeline</h3>
        <div className="table-scroll tall">
          <table className="data timeline" data-testid="handshake-timeline">
            <thead>
              <tr>
                <th scope="col">Time (ms)</th>
                <th scope="col">Dir</th>
                <th scope="col">Packet</th>
                <th scope="col">Protected by</th>
                <th scope="col">PN</th>
                <th scope="col">Size</th>
                <th scope="col">Frames</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it, i) =>
                it.kind === 'step' ? (
                  <tr key={`s${i}`} className="step">
                    <td>{formatOffset(it.time)}</td>
                    <td colSpan={6}>
                      <strong>{it.entry.label}</strong>
                      {it.entry.detail != null && <span className="hint"> {it.entry.detail}</span>}
                    </td>
                  </tr>
                ) : (
                  <tr
                    key={`p${it.row.index}`}
                    className={`pkt ${it.row.direction} t-${it.row.type}${it.row.lost ? ' lost' : ''}${
                      ['retry', 'version_negotiation', '0RTT'].includes(it.row.type) ? ' mark' : ''
                    }`}
                  >
                    <td>{formatOffset(it.row.time)}</td>
                    <td aria-label={it.row.direction}>{it.row.direction === 'sent' ? '→' : '←'}</td>
                    <td>{PACKET_TYPE_LABEL[it.row.type] ?? it.row.type}</td>
                    <td>{encryptionLevel(it.row.type)}</td>
                    <td>{it.row.pn ?? ''}</td>
                    <td>{it.row.size ?? ''}</td>
                    <td className="frames">
                      {it.row.versions !== undefined && `versions: ${it.row.versions.join(', ')} `}
                      {it.row.frames.map(frameLabel).join(' · ')}
                      {it.row.lost && <span className="badge bad">lost</span>}
                    </td>
                  </tr>
                ),
              )}
              {items.length === 0 && (
                <tr>
                  <td colSpan={7} className="empty">
                    {ended ? 'No packet was exchanged.' : 'Waiting for the first packet…'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>

      <section className="card span2" aria-label="Transport parameters">
        <h3>Transport parameters</h3>
        <TransportParameters
          local={hs?.transportParameters.local ?? null}
          remote={hs?.transportParameters.remote ?? null}
        />
      </section>

      <section className="card span2" aria-label="Certificate chain">
        <h3>Certificate chain</h3>
        <CertificateChain chain={hs?.certificates ?? []} verdict={hs?.verdict ?? null} />
      </section>
    </div>
  );
});
