import { useState, type ReactNode } from 'react';
import type { ExportKind, ExportResult } from '../store/types.ts';
import { useApp } from '../store/store.ts';
import { toBridgeError } from '../bridge/index.ts';
import { errorTitle } from './ErrorBanner.tsx';
import { formatBytes } from '../lib/format.ts';

const KINDS: { kind: ExportKind; label: string; title: string }[] = [
  { kind: 'qlog', label: 'qlog', title: 'qlog (.sqlog, JSON-SEQ, quic-events-13)' },
  { kind: 'qvis', label: 'qvis', title: 'qlog 0.3 JSON for the qvis viewer' },
  { kind: 'keylog', label: 'Key log', title: 'SSLKEYLOGFILE (TLS secrets for Wireshark)' },
  {
    kind: 'pcapng',
    label: 'pcapng',
    title: 'pcapng capture with the TLS secrets embedded (Decryption Secrets Block)',
  },
  { kind: 'summary', label: 'Summary', title: 'JSON summary of the session' },
];

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Web mode: hands the exported bytes to the browser as a download. */
function download(result: ExportResult): void {
  if (result.bytes === null) return;
  const blob = new Blob([base64ToBytes(result.bytes)], { type: result.mimeType });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = result.fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Export buttons: qlog, qvis, SSLKEYLOGFILE, pcapng, JSON summary (download or native save dialog). */
export function ExportBar(props: { sessionId: string }): ReactNode {
  const bridge = useApp((s) => s.bridge);
  const logActivity = useApp((s) => s.logActivity);
  const [busy, setBusy] = useState<ExportKind | null>(null);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);

  const run = async (kind: ExportKind) => {
    if (bridge === null) return;
    setBusy(kind);
    setNote(null);
    try {
      const r = await bridge.invoke('exportSession', { sessionId: props.sessionId, kind });
      if (r.canceled) return;
      download(r);
      const text =
        r.savedPath !== null
          ? `Saved ${r.fileName} to ${r.savedPath}`
          : `Exported ${r.fileName} (${formatBytes(r.size)})`;
      setNote({ ok: true, text });
      logActivity(props.sessionId, 'info', text);
    } catch (e) {
      const err = toBridgeError(e);
      const text = `Export ${kind}: ${errorTitle(err.kind)} — ${err.message}`;
      setNote({ ok: false, text });
      logActivity(props.sessionId, 'error', text);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="export-bar" role="group" aria-label="Export">
      <span className="label">Export</span>
      {KINDS.map((k) => (
        <button
          key={k.kind}
          type="button"
          title={k.title}
          disabled={busy !== null}
          onClick={() => void run(k.kind)}
        >
          {busy === k.kind ? '…' : k.label}
        </button>
      ))}
      {note !== null && (
        <span className={note.ok ? 'hint' : 'hint danger'} role={note.ok ? 'status' : 'alert'}>
          {note.text}
        </span>
      )}
    </div>
  );
}
