import { useState, type ReactNode } from 'react';
import { useSession, type SessionView } from '../store/store.ts';
import { formatBits, formatBytes, formatCount, formatMs, versionLabel } from '../lib/format.ts';
import { lastValue } from '../lib/series.ts';
import { TabList, TabPanel } from './Tabs.tsx';
import { SessionErrorBanner } from './ErrorBanner.tsx';
import { ExportBar } from './ExportBar.tsx';
import { HandshakeView } from './HandshakeView.tsx';
import { ChartsView } from './ChartsView.tsx';
import { StreamsTable } from './StreamsTable.tsx';
import { PacketLogView } from './PacketLogView.tsx';
import { InteractView } from './InteractView.tsx';

type Panel = 'handshake' | 'charts' | 'streams' | 'packets' | 'interact' | 'activity';

/** The per-session sub-tab the user last chose (kept across session tab switches). */
const chosenPanel = new Map<string, Panel>();

const STATE_CLASS: Record<string, string> = {
  resolving: 'muted',
  connecting: 'muted',
  handshaking: 'info',
  established: 'ok',
  closing: 'warn',
  closed: 'muted',
  failed: 'bad',
};

/** A state badge for a session. */
export function StateBadge(props: { state: string }): ReactNode {
  return (
    <span className={`badge ${STATE_CLASS[props.state] ?? 'muted'}`} data-testid="session-state">
      {props.state}
    </span>
  );
}

function Stat(props: { label: string; value: string; title?: string }): ReactNode {
  return (
    <div className="stat" title={props.title}>
      <span className="stat-label">{props.label}</span>
      <span className="stat-value">{props.value}</span>
    </div>
  );
}

function Summary(props: { view: SessionView }): ReactNode {
  const s = props.view.stats;
  return (
    <div className="stats" aria-label="Connection summary">
      <Stat label="Handshake" value={formatMs(s?.handshakeDuration)} />
      <Stat label="Smoothed RTT" value={formatMs(s?.smoothedRtt)} title={`min ${formatMs(s?.minRtt)}`} />
      <Stat label="cwnd" value={formatBytes(s?.cwnd)} title={`in flight ${formatBytes(s?.bytesInFlight)}`} />
      <Stat label="Received" value={formatBytes(s?.bytesReceived)} />
      <Stat label="Sent" value={formatBytes(s?.bytesSent)} />
      <Stat label="Throughput ↓" value={formatBits(lastValue(props.view.series, 'throughput_received'))} />
      <Stat
        label="Packets lost"
        value={s === null ? '—' : `${formatCount(s.packetsLost)} / ${formatCount(s.packetsSent)}`}
      />
      <Stat label="qlog events" value={formatCount(props.view.qlogCount + props.view.qlogSkipped)} />
    </div>
  );
}

function Activity(props: { view: SessionView }): ReactNode {
  const entries = props.view.activity;
  if (entries.length === 0) return <p className="empty card">Results of your actions appear here.</p>;
  return (
    <ol className="card activity">
      {entries
        .slice()
        .reverse()
        .map((e) => (
          <li key={e.id} className={e.level}>
            <span className="hint">{new Date(e.at).toLocaleTimeString()}</span> {e.text}
          </li>
        ))}
    </ol>
  );
}

/** One session: its header, summary, error, export buttons and the sub-tabs. */
export function SessionPanel(props: { id: string }): ReactNode {
  const view = useSession(props.id);
  const [panel, setPanelState] = useState<Panel>(chosenPanel.get(props.id) ?? 'handshake');
  if (view === undefined) return null;
  const setPanel = (p: Panel) => {
    chosenPanel.set(props.id, p);
    setPanelState(p);
  };
  const { info, stats } = view;
  const streamsCount = Object.keys(view.streams).length;
  let requestsComplete = 0;
  for (const r of Object.values(view.requests)) if (r.state === 'complete') requestsComplete++;
  const prefix = `s-${props.id}`;

  let body: ReactNode;
  switch (panel) {
    case 'handshake':
      body = (
        <HandshakeView
          handshake={view.handshake}
          handshakePackets={view.handshakePackets}
          markers={view.markers}
          ended={view.state === 'closed' || view.state === 'failed'}
        />
      );
      break;
    case 'charts':
      body = <ChartsView series={view.series} />;
      break;
    case 'streams':
      body = <StreamsTable streams={view.streams} />;
      break;
    case 'packets':
      body = <PacketLogView log={view.packets} version={view.packetsVersion} />;
      break;
    case 'interact':
      body = <InteractView view={view} />;
      break;
    case 'activity':
      body = <Activity view={view} />;
      break;
  }

  return (
    <section
      className="session"
      aria-label={`Session ${info.host}:${info.port}`}
      data-session-id={props.id}
      data-requests-complete={requestsComplete}
    >
      <header className="session-head">
        <div className="session-title">
          <h2>
            {info.host}:{info.port}
            {info.localServer && <span className="badge info">local server</span>}
          </h2>
          <StateBadge state={view.state} />
          <span className="hint">
            ALPN {info.options.alpn} ·{' '}
            {stats !== null ? versionLabel(stats.version.toString(16)) : info.options.version} ·{' '}
            {info.options.congestionControl}
            {info.options.insecure ? ' · insecure' : ''}
          </span>
        </div>
        <ExportBar sessionId={props.id} />
      </header>
      {view.error !== null && <SessionErrorBanner error={view.error} />}
      {view.missedBatches > 0 && (
        <p className="banner warn" role="status">
          {view.missedBatches} updates were missed while the window was disconnected; charts and tables are
          current, the packet log has a gap.
        </p>
      )}
      <Summary view={view} />
      <TabList<Panel>
        idPrefix={prefix}
        label="Session views"
        className="subtabs"
        active={panel}
        onSelect={setPanel}
        items={[
          { key: 'handshake', label: 'Handshake' },
          { key: 'charts', label: 'Charts' },
          { key: 'streams', label: `Streams (${streamsCount})` },
          { key: 'packets', label: `Packets (${formatCount(view.packets.total)})` },
          { key: 'interact', label: 'Interact' },
          { key: 'activity', label: 'Activity' },
        ]}
      />
      <TabPanel idPrefix={prefix} activeKey={panel} className="panel">
        {body}
      </TabPanel>
    </section>
  );
}
