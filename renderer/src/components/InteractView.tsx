import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import type { H3RequestRow, Payload, StreamRow } from '../store/types.ts';
import { useApp, type SessionView } from '../store/store.ts';
import { toBridgeError } from '../bridge/index.ts';
import { formatMs, parseHeaderLines } from '../lib/format.ts';
import { PayloadInput, PreviewView, payloadValid } from './PayloadInput.tsx';
import { errorTitle } from './ErrorBanner.tsx';

/** Runs a bridge call, logs the outcome in the session's activity, and returns an error line or null. */
function useAction(sessionId: string) {
  const logActivity = useApp((s) => s.logActivity);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ what: string; ok: boolean; text: string } | null>(null);
  const run = async (what: string, fn: () => Promise<string>) => {
    setBusy(what);
    try {
      const text = await fn();
      setResult({ what, ok: true, text });
      logActivity(sessionId, 'info', text);
    } catch (e) {
      const err = toBridgeError(e);
      const text = `${what}: ${errorTitle(err.kind)} — ${err.message}`;
      setResult({ what, ok: false, text });
      logActivity(sessionId, 'error', text);
    } finally {
      setBusy(null);
    }
  };
  const resultFor = (what: string): ReactNode =>
    result !== null && result.what === what ? (
      <p className={result.ok ? 'result ok' : 'result bad'} role={result.ok ? 'status' : 'alert'}>
        {result.text}
      </p>
    ) : null;
  return { busy, run, resultFor };
}

function parseCode(text: string): number | null {
  const t = text.trim();
  if (t === '') return 0;
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n < 2 ** 62 ? n : null;
}

function RequestItem(props: { row: H3RequestRow }): ReactNode {
  const r = props.row;
  const took = r.completedAt !== null ? formatMs(r.completedAt - r.sentAt) : r.state;
  return (
    <li
      className={`request ${r.state}`}
      data-testid="h3-response"
      data-path={r.path}
      data-state={r.state}
      data-status={r.status ?? ''}
      data-size={r.body.size}
    >
      <details open>
        <summary>
          <code>
            {r.method} {r.path}
          </code>{' '}
          <span
            className={
              r.status !== null && r.status < 400
                ? 'badge ok'
                : r.status !== null
                  ? 'badge bad'
                  : 'badge muted'
            }
          >
            {r.status ?? r.state}
          </span>{' '}
          <span className="hint">
            stream {r.streamId} · {took}
          </span>
        </summary>
        {r.error !== null && <p className="result bad">{r.error}</p>}
        {r.headers.length > 0 && (
          <table className="data headers">
            <tbody>
              {r.headers.map(([n, v], i) => (
                <tr key={i}>
                  <th scope="row">{n}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <PreviewView preview={r.body} testId="h3-body" />
      </details>
    </li>
  );
}

function H3Builder(props: { view: SessionView }): ReactNode {
  const { view } = props;
  const sessionId = view.info.sessionId;
  const bridge = useApp((s) => s.bridge);
  const id = useId();
  const { busy, run, resultFor } = useAction(sessionId);
  const [method, setMethod] = useState('GET');
  const [path, setPath] = useState(view.info.path || '/');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState<Payload>({ encoding: 'text', data: '' });
  const requests = useMemo(
    () => Object.values(view.requests).sort((a, b) => b.requestId - a.requestId),
    [view.requests],
  );
  const parsed = parseHeaderLines(headers);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (bridge === null || parsed.error !== null || !payloadValid(body)) return;
    void run('HTTP/3 request', async () => {
      const r = await bridge.invoke('h3Request', {
        sessionId,
        request: {
          method,
          path: path.trim() || '/',
          headers: parsed.headers,
          ...(body.data !== '' ? { body } : {}),
        },
      });
      return `${method} ${path} sent on stream ${r.streamId}`;
    });
  };

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>HTTP/3 request</h3>
      <form className="h3-form" onSubmit={onSubmit}>
        <div className="row">
          <label htmlFor={`${id}-m`} className="sr-only">
            Method
          </label>
          <select id={`${id}-m`} value={method} onChange={(e) => setMethod(e.target.value)}>
            {['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
          <label htmlFor={`${id}-p`} className="sr-only">
            Path
          </label>
          <input
            id={`${id}-p`}
            name="path"
            type="text"
            spellCheck={false}
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder="/index.html"
          />
          <button type="submit" className="primary" disabled={busy !== null || parsed.error !== null}>
            Send request
          </button>
        </div>
        <label htmlFor={`${id}-hd`}>Headers (one "name: value" per line)</label>
        <textarea
          id={`${id}-hd`}
          rows={2}
          spellCheck={false}
          value={headers}
          aria-invalid={parsed.error !== null}
          onChange={(e) => setHeaders(e.target.value)}
          placeholder="accept: text/html"
        />
        {parsed.error !== null && <span className="hint danger">{parsed.error}</span>}
        {method !== 'GET' && method !== 'HEAD' && (
          <PayloadInput label="Body" value={body} onChange={setBody} />
        )}
      </form>
      {resultFor('HTTP/3 request')}
      {requests.length > 0 && (
        <ul className="requests">
          {requests.map((r) => (
            <RequestItem key={r.requestId} row={r} />
          ))}
        </ul>
      )}
    </section>
  );
}

function canSend(r: StreamRow): boolean {
  return r.sendState !== null && !r.finSent && r.resetSent === null;
}

function RawStreams(props: { view: SessionView }): ReactNode {
  const { view } = props;
  const sessionId = view.info.sessionId;
  const bridge = useApp((s) => s.bridge);
  const id = useId();
  const { busy, run, resultFor } = useAction(sessionId);
  const [streamId, setStreamId] = useState<number | null>(null);
  const [data, setData] = useState<Payload>({ encoding: 'text', data: '' });
  const [fin, setFin] = useState(true);
  const raw = useMemo(
    () =>
      Object.values(view.streams)
        .filter((r) => r.kind === 'raw')
        .sort((a, b) => a.id - b.id),
    [view.streams],
  );
  const sendable = raw.filter(canSend);
  const current = streamId !== null ? view.streams[streamId] : undefined;

  const open = (direction: 'bidi' | 'uni') => {
    if (bridge === null) return;
    void run('Open stream', async () => {
      const r = await bridge.invoke('openStream', { sessionId, direction });
      setStreamId(r.streamId);
      return `Opened ${direction} stream ${r.streamId}`;
    });
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (bridge === null || streamId === null || !payloadValid(data)) return;
    void run('Send on stream', async () => {
      const r = await bridge.invoke('sendStream', { sessionId, streamId, data, fin });
      return `Wrote ${r.bytes} bytes to stream ${streamId}${fin ? ' with FIN' : ''}`;
    });
  };

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Streams</h3>
      <div className="row">
        <button type="button" disabled={busy !== null} onClick={() => open('bidi')}>
          Open bidirectional stream
        </button>
        <button type="button" disabled={busy !== null} onClick={() => open('uni')}>
          Open unidirectional stream
        </button>
      </div>
      {resultFor('Open stream')}
      <form onSubmit={onSubmit} className="stream-form">
        <div className="row">
          <label htmlFor={`${id}-s`}>Stream</label>
          <select
            id={`${id}-s`}
            value={streamId ?? ''}
            onChange={(e) => setStreamId(e.target.value === '' ? null : Number(e.target.value))}
          >
            <option value="">choose…</option>
            {(current !== undefined && !sendable.includes(current) ? [current, ...sendable] : sendable).map(
              (r) => (
                <option key={r.id} value={r.id}>
                  {r.id} ({r.direction}, {r.initiator === 'local' ? 'ours' : "peer's"})
                </option>
              ),
            )}
          </select>
          <label className="check">
            <input type="checkbox" checked={fin} onChange={(e) => setFin(e.target.checked)} />
            FIN (end the stream)
          </label>
        </div>
        <PayloadInput label="Data" value={data} onChange={setData} name="stream-data" />
        <button
          type="submit"
          className="primary"
          disabled={busy !== null || streamId === null || current === undefined || !canSend(current)}
        >
          Send
        </button>
      </form>
      {resultFor('Send on stream')}
      {raw.filter((r) => r.received !== null && r.received.size > 0).length > 0 && (
        <>
          <h4>Received</h4>
          <ul className="received-list">
            {raw
              .filter((r) => r.received !== null && r.received.size > 0)
              .map((r) => (
                <li key={r.id}>
                  <span className="hint">
                    stream {r.id}
                    {r.finReceived ? ' · FIN' : ''}
                  </span>
                  <PreviewView preview={r.received!} testId={`stream-received-${r.id}`} />
                </li>
              ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Datagrams(props: { view: SessionView; supported: boolean }): ReactNode {
  const { view } = props;
  const sessionId = view.info.sessionId;
  const bridge = useApp((s) => s.bridge);
  const id = useId();
  const { busy, run, resultFor } = useAction(sessionId);
  const [data, setData] = useState<Payload>({ encoding: 'text', data: '' });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (bridge === null || !payloadValid(data)) return;
    void run('Send datagram', async () => {
      const r = await bridge.invoke('sendDatagram', { sessionId, data });
      return `Sent a DATAGRAM of ${r.bytes} bytes`;
    });
  };
  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>DATAGRAM (RFC 9221)</h3>
      {!props.supported && <p className="hint">This build's connection API has no DATAGRAM support.</p>}
      <form onSubmit={onSubmit}>
        <PayloadInput label="Payload" value={data} onChange={setData} rows={2} name="datagram-data" />
        <button type="submit" disabled={busy !== null || !props.supported}>
          Send datagram
        </button>
      </form>
      {resultFor('Send datagram')}
      {view.datagrams.length > 0 && (
        <ul className="received-list">
          {view.datagrams.slice(-20).map((d, i) => (
            <li key={i}>
              <span className="hint">{formatMs(d.time)}</span>
              <PreviewView preview={d.data} testId="datagram-received" />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ConnectionControls(props: { view: SessionView; keyUpdate: boolean; migration: boolean }): ReactNode {
  const { view } = props;
  const sessionId = view.info.sessionId;
  const bridge = useApp((s) => s.bridge);
  const id = useId();
  const { busy, run, resultFor } = useAction(sessionId);
  const [code, setCode] = useState('0');
  const [reason, setReason] = useState('');
  const codeValue = parseCode(code);
  const ended = view.state === 'closed' || view.state === 'failed' || view.state === 'closing';

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Connection</h3>
      <div className="row">
        <button
          type="button"
          disabled={busy !== null || ended || !props.keyUpdate}
          onClick={() =>
            bridge !== null &&
            void run('Key update', async () => {
              const r = await bridge.invoke('keyUpdate', { sessionId });
              return r.initiated
                ? 'Key update initiated (RFC 9001 §6)'
                : 'Key update not possible yet (the previous one is not confirmed)';
            })
          }
        >
          Key update
        </button>
        <button
          type="button"
          disabled={busy !== null || ended || !props.migration}
          onClick={() =>
            bridge !== null &&
            void run('Migrate', async () => {
              const r = await bridge.invoke('migrate', { sessionId });
              return `Migrated to local port ${r.localPort} (RFC 9000 §9)`;
            })
          }
        >
          Migrate to a new port
        </button>
      </div>
      {resultFor('Key update')}
      {resultFor('Migrate')}
      <form
        className="row close-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (bridge === null || codeValue === null) return;
          void run('Close', async () => {
            await bridge.invoke('closeSession', { sessionId, code: codeValue, reason });
            return `CONNECTION_CLOSE sent with code ${codeValue}${reason ? ` "${reason}"` : ''}`;
          });
        }}
      >
        <label htmlFor={`${id}-code`}>Error code</label>
        <input
          id={`${id}-code`}
          className="narrow"
          type="text"
          value={code}
          aria-invalid={codeValue === null}
          onChange={(e) => setCode(e.target.value)}
        />
        <label htmlFor={`${id}-reason`}>Reason</label>
        <input id={`${id}-reason`} type="text" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="submit" className="danger" disabled={busy !== null || ended || codeValue === null}>
          Close connection
        </button>
      </form>
      {resultFor('Close')}
    </section>
  );
}

/** The actions: HTTP/3 requests, raw streams, DATAGRAM, key update, migration, close. */
export function InteractView(props: { view: SessionView }): ReactNode {
  const features = useApp((s) => s.appInfo?.features) ?? {
    datagrams: true,
    keyUpdate: true,
    migration: true,
  };
  const h3 = props.view.info.options.alpn === 'h3';
  return (
    <div className="interact">
      {h3 ? <H3Builder view={props.view} /> : <RawStreams view={props.view} />}
      <div className="col">
        <ConnectionControls view={props.view} keyUpdate={features.keyUpdate} migration={features.migration} />
        <Datagrams view={props.view} supported={features.datagrams} />
        {h3 && <RawStreams view={props.view} />}
      </div>
    </div>
  );
}
