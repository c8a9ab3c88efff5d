import { useId, useState, type FormEvent, type ReactNode } from 'react';
import type { OpenSessionOptions, RecentTarget } from '../store/types.ts';
import { useApp } from '../store/store.ts';
import { toBridgeError } from '../bridge/index.ts';
import { errorTitle } from './ErrorBanner.tsx';
import { formatDate } from '../lib/format.ts';

interface FormState {
  target: string;
  sni: string;
  alpn: string;
  version: 'v1' | 'v2';
  congestionControl: 'cubic' | 'newreno';
  insecure: boolean;
  caPem: string;
  caName: string;
  datagrams: boolean;
  handshakeTimeout: string;
}

const INITIAL: FormState = {
  target: '',
  sni: '',
  alpn: 'h3',
  version: 'v1',
  congestionControl: 'cubic',
  insecure: false,
  caPem: '',
  caName: '',
  datagrams: true,
  handshakeTimeout: '10000',
};

function toOptions(f: FormState): OpenSessionOptions {
  const o: OpenSessionOptions = {
    target: f.target.trim(),
    alpn: f.alpn.trim() === '' ? 'h3' : f.alpn.trim(),
    version: f.version,
    congestionControl: f.congestionControl,
    insecure: f.insecure,
    datagrams: f.datagrams,
  };
  if (f.sni.trim() !== '') o.sni = f.sni.trim();
  if (f.caPem !== '') o.caPem = f.caPem;
  const t = Number(f.handshakeTimeout);
  if (Number.isFinite(t) && t > 0) o.handshakeTimeout = t;
  return o;
}

function fromOptions(o: OpenSessionOptions): FormState {
  return {
    ...INITIAL,
    target: o.target,
    sni: o.sni ?? '',
    alpn: o.alpn ?? 'h3',
    version: o.version ?? 'v1',
    congestionControl: o.congestionControl ?? 'cubic',
    insecure: o.insecure ?? false,
    datagrams: o.datagrams ?? true,
    handshakeTimeout: String(o.handshakeTimeout ?? 10000),
  };
}

function describeTarget(o: OpenSessionOptions): string {
  const extras = [o.alpn && o.alpn !== 'h3' ? `ALPN ${o.alpn}` : null, o.version === 'v2' ? 'QUIC v2' : null];
  if (o.insecure) extras.push('insecure');
  return [o.target, ...extras.filter((x) => x !== null)].join(' · ');
}

/** The connect form: target, TLS and QUIC options, presets, the local server, recent targets. */
export function ConnectView(): ReactNode {
  const presets = useApp((s) => s.presets);
  const recent = useApp((s) => s.recent);
  const localServer = useApp((s) => s.localServer);
  const open = useApp((s) => s.open);
  const startLocalServer = useApp((s) => s.startLocalServer);
  const [form, setForm] = useState<FormState>(INITIAL);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<{ title: string; message: string } | null>(null);
  const id = useId();

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  const connect = async (options: OpenSessionOptions, what: string) => {
    setBusy(what);
    setError(null);
    try {
      await open(options);
    } catch (e) {
      const err = toBridgeError(e);
      setError({ title: errorTitle(err.kind), message: err.message });
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (form.target.trim() === '') {
      setError({ title: 'No target', message: 'Enter a URL (https://host:port/path) or host:port.' });
      return;
    }
    void connect(toOptions(form), 'form');
  };

  const onLocal = async () => {
    setBusy('local');
    setError(null);
    try {
      const info = await startLocalServer();
      await open({
        target: info.target,
        alpn: form.alpn.trim() || 'h3',
        congestionControl: form.congestionControl,
      });
    } catch (e) {
      const err = toBridgeError(e);
      setError({ title: errorTitle(err.kind), message: err.message });
    } finally {
      setBusy(null);
    }
  };

  const onCaFile = async (file: File | undefined) => {
    if (file === undefined) {
      setForm((f) => ({ ...f, caPem: '', caName: '' }));
      return;
    }
    const text = await file.text();
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      setError({ title: 'Not a PEM file', message: `${file.name} has no "BEGIN CERTIFICATE" block.` });
      return;
    }
    setForm((f) => ({ ...f, caPem: text, caName: file.name }));
  };

  const alpnChoices = Array.from(new Set(['h3', ...(localServer?.alpns ?? [])]));

  return (
    <div className="connect">
      <section className="card connect-form" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>New connection</h2>
        <form onSubmit={onSubmit} noValidate>
          <div className="field wide">
            <label htmlFor={`${id}-target`}>Target</label>
            <input
              id={`${id}-target`}
              name="target"
              type="text"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://quic.tech:8443/  or  host:port"
              value={form.target}
              onChange={(e) => set('target', e.target.value)}
              autoFocus
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-sni`}>SNI</label>
            <input
              id={`${id}-sni`}
              type="text"
              spellCheck={false}
              placeholder="from the target"
              value={form.sni}
              onChange={(e) => set('sni', e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-alpn`}>ALPN</label>
            <input
              id={`${id}-alpn`}
              type="text"
              list={`${id}-alpns`}
              spellCheck={false}
              value={form.alpn}
              onChange={(e) => set('alpn', e.target.value)}
            />
            <datalist id={`${id}-alpns`}>
              {alpnChoices.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor={`${id}-version`}>QUIC version</label>
            <select
              id={`${id}-version`}
              value={form.version}
              onChange={(e) => set('version', e.target.value as 'v1' | 'v2')}
            >
              <option value="v1">QUIC v1 (RFC 9000)</option>
              <option value="v2">QUIC v2 (RFC 9369)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-cc`}>Congestion control</label>
            <select
              id={`${id}-cc`}
              value={form.congestionControl}
              onChange={(e) => set('congestionControl', e.target.value as 'cubic' | 'newreno')}
            >
              <option value="cubic">CUBIC (RFC 9438)</option>
              <option value="newreno">NewReno (RFC 9002)</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-hto`}>Handshake timeout (ms)</label>
            <input
              id={`${id}-hto`}
              type="number"
              min={100}
              step={100}
              value={form.handshakeTimeout}
              onChange={(e) => set('handshakeTimeout', e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-ca`}>Extra trust anchors (PEM)</label>
            <input
              id={`${id}-ca`}
              type="file"
              accept=".pem,.crt,.cer,application/x-pem-file"
              onChange={(e) => void onCaFile(e.target.files?.[0])}
            />
            {form.caName !== '' && <span className="hint">{form.caName}</span>}
          </div>
          <div className="field checks wide">
            <label className="check">
              <input
                type="checkbox"
                checked={form.datagrams}
                onChange={(e) => set('datagrams', e.target.checked)}
              />
              Offer DATAGRAM frames (RFC 9221)
            </label>
            <label className={form.insecure ? 'check danger' : 'check'}>
              <input
                type="checkbox"
                name="insecure"
                checked={form.insecure}
                onChange={(e) => set('insecure', e.target.checked)}
              />
              Insecure: do not reject an unverifiable certificate
            </label>
            {form.insecure && (
              <p className="hint danger" role="note">
                The certificate is still checked and its verdict shown, but a failure will not stop the
                connection.
              </p>
            )}
          </div>
          <div className="actions wide">
            <button type="submit" className="primary" disabled={busy !== null}>
              {busy === 'form' ? 'Connecting…' : 'Connect'}
            </button>
            <button type="button" disabled={busy !== null} onClick={() => void onLocal()}>
              {busy === 'local' ? 'Starting…' : 'Start local server and connect'}
            </button>
            {localServer !== null && (
              <span className="hint">
                Local server on {localServer.target} (ALPN {localServer.alpns.join(', ')})
              </span>
            )}
          </div>
        </form>
        {error !== null && (
          <div className="banner error" role="alert">
            <strong>{error.title}</strong>
            <span>{error.message}</span>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby={`${id}-presets`}>
        <h2 id={`${id}-presets`}>Presets</h2>
        <ul className="preset-list">
          {presets.map((p) => (
            <li key={p.name}>
              <button
                type="button"
                className="preset"
                disabled={busy !== null}
                onClick={() => setForm(fromOptions(p.options))}
                title="Fill the form with this preset"
              >
                <span className="preset-name">{p.name}</span>
                <span className="preset-desc">{p.description}</span>
                <code>{describeTarget(p.options)}</code>
              </button>
            </li>
          ))}
          {presets.length === 0 && <li className="empty">No presets.</li>}
        </ul>
      </section>

      <section className="card" aria-labelledby={`${id}-recent`}>
        <h2 id={`${id}-recent`}>Recent targets</h2>
        <RecentList
          recent={recent}
          disabled={busy !== null}
          onPick={(r) => setForm(fromOptions(r.options))}
        />
      </section>
    </div>
  );
}

function RecentList(props: { recent: RecentTarget[]; disabled: boolean; onPick: (r: RecentTarget) => void }) {
  if (props.recent.length === 0) return <p className="empty">Targets you connect to appear here.</p>;
  return (
    <ul className="recent-list">
      {props.recent.map((r) => (
        <li key={`${r.options.target}|${r.options.alpn ?? ''}|${r.lastUsed}`}>
          <button type="button" disabled={props.disabled} onClick={() => props.onPick(r)}>
            <code>{describeTarget(r.options)}</code>
            <span className="hint">{formatDate(r.lastUsed)}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
