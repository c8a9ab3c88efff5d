import type { ReactNode } from 'react';
import { useApp } from './store/store.ts';
import { TabList, TabPanel } from './components/Tabs.tsx';
import { ConnectView } from './components/ConnectView.tsx';
import { SessionPanel } from './components/SessionPanel.tsx';
import iconUrl from '../../assets/icon.svg';

const NEW = 'new';

function SessionTabLabel(props: { id: string }): ReactNode {
  const view = useApp((s) => s.sessions[props.id]);
  if (view === undefined) return null;
  return (
    <>
      <span className={`dot ${view.error !== null ? 'bad' : view.state}`} aria-hidden="true" />
      {view.info.host}:{view.info.port}
      {view.info.options.alpn !== 'h3' && <span className="tab-alpn">{view.info.options.alpn}</span>}
      <span className="sr-only"> ({view.state})</span>
    </>
  );
}

/** The window: the app bar with session tabs, then the connect form or the selected session. */
export function App(): ReactNode {
  const order = useApp((s) => s.order);
  const active = useApp((s) => s.active);
  const setActive = useApp((s) => s.setActive);
  const closeTab = useApp((s) => s.closeTab);
  const link = useApp((s) => s.link);
  const transport = useApp((s) => s.transport);
  const fatal = useApp((s) => s.fatal);
  const version = useApp((s) => s.appInfo?.appVersion);

  const items = [
    ...order.map((id) => ({
      key: id,
      label: <SessionTabLabel id={id} />,
      extra: (
        <button
          type="button"
          className="tab-close"
          aria-label="Close this session's tab"
          title="Close (sends CONNECTION_CLOSE if still open)"
          onClick={() => void closeTab(id)}
        >
          ×
        </button>
      ),
    })),
    { key: NEW, label: <>+ New connection</> },
  ];

  return (
    <div className="app">
      <header className="appbar">
        <div className="brand">
          <img src={iconUrl} alt="" width={26} height={26} />
          <h1>quicscope</h1>
          {version !== undefined && <span className="hint">v{version}</span>}
        </div>
        <TabList
          idPrefix="main"
          label="Sessions"
          className="session-tabs"
          active={active}
          onSelect={setActive}
          items={items}
        />
        <div className={`link ${link.state}`} role="status" title={link.detail}>
          {transport === 'electron'
            ? 'desktop'
            : link.state === 'open'
              ? 'web mode · connected'
              : `web mode · ${link.state}`}
        </div>
      </header>
      {fatal !== null && (
        <div className="banner error" role="alert">
          <strong>Cannot talk to quicscope</strong>
          <span>{fatal}</span>
        </div>
      )}
      {link.state === 'closed' && link.detail !== '' && fatal === null && (
        <div className="banner warn" role="alert">
          <strong>Disconnected</strong>
          <span>{link.detail} — reconnecting…</span>
        </div>
      )}
      <TabPanel idPrefix="main" activeKey={active} className="main">
        {active === NEW ? <ConnectView /> : <SessionPanel key={active} id={active} />}
      </TabPanel>
    </div>
  );
}
