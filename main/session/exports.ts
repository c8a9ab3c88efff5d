/**
 * A session's exports: qlog (.sqlog, JSON-SEQ, draft-13 events: main-schema-14 §5), qvis (qlog 0.3
 * JSON-SEQ for the qvis viewer), SSLKEYLOGFILE, pcapng (synthetic IP/UDP headers, the secrets in
 * Decryption Secrets Blocks) and a JSON summary. The qlog holds the events the session kept
 * (at most MAX_RETAINED_QLOG; the summary says how many were dropped).
 */
import type { ExportKind } from '../ipc/contract.ts';
import { MAX_RETAINED_QLOG } from '../ipc/contract.ts';
import { HTTP3_EVENT_SCHEMA } from '../../core/trace/h3-events.ts';
import { QLOG_JSON_SEQ_MEDIA_TYPE, QlogJsonSeqWriter } from '../../core/trace/qlog-writer.ts';
import { QvisWriter } from '../../core/trace/qvis-writer.ts';
import type { Session } from './session.ts';

/** An export's bytes and how to save them. */
export interface ExportFile {
  fileName: string;
  mimeType: string;
  data: Uint8Array;
}

const utf8 = new TextEncoder();

/** Builds export `kind` of `session`. */
export function buildExport(session: Session, kind: ExportKind): ExportFile {
  const base = fileBase(session);
  switch (kind) {
    case 'qlog':
      return {
        fileName: `${base}.sqlog`,
        mimeType: QLOG_JSON_SEQ_MEDIA_TYPE,
        data: utf8.encode(qlogText(session, false)),
      };
    case 'qvis':
      return {
        fileName: `${base}.qvis.sqlog`,
        mimeType: QLOG_JSON_SEQ_MEDIA_TYPE,
        data: utf8.encode(qlogText(session, true)),
      };
    case 'keylog':
      return {
        fileName: `${base}.keys.txt`,
        mimeType: 'text/plain',
        data: utf8.encode(session.capture.keylog.toString()),
      };
    case 'pcapng':
      return { fileName: `${base}.pcapng`, mimeType: 'application/x-pcapng', data: session.capture.pcapng() };
    case 'summary':
      return {
        fileName: `${base}.summary.json`,
        mimeType: 'application/json',
        data: utf8.encode(JSON.stringify(summary(session), null, 2) + '\n'),
      };
  }
}

/** "quicscope-HOST-PORT-ODCID" (safe for file systems). */
function fileBase(session: Session): string {
  const host = session.info.host.replace(/[^A-Za-z0-9.-]/g, '_');
  return `quicscope-${host}-${session.info.port}-${session.odcid ?? session.info.sessionId}`;
}

/** The session's kept qlog events as one JSON-SEQ text (draft -13, or qlog 0.3 for qvis). */
function qlogText(session: Session, qvis: boolean): string {
  const parts: string[] = [];
  const sink = (chunk: string): void => {
    parts.push(chunk);
  };
  const info = session.info;
  const title = `quicscope client → ${info.host}:${info.port}`;
  const description = `ALPN ${info.options.alpn}, started ${new Date(info.startedAt).toISOString()}`;
  const odcid = session.odcid ?? undefined;
  const writer = qvis
    ? new QvisWriter(sink, {
        vantagePoint: 'client',
        title,
        description,
        odcid,
        referenceTime: session.origin,
      })
    : new QlogJsonSeqWriter(sink, {
        vantagePoint: 'client',
        title,
        description,
        odcid,
        referenceTime: session.origin,
        eventSchemas: [HTTP3_EVENT_SCHEMA],
      });
  for (const e of session.capture.qlog.all()) writer.event(e.time, e.name, e.data);
  return parts.join('');
}

/** The JSON summary: target, outcome, handshake, stats, streams, requests and downsampled series. */
function summary(session: Session): Record<string, unknown> {
  const agg = session.aggregate;
  const capture = session.capture;
  return {
    tool: 'quicscope',
    session: session.info,
    odcid: session.odcid,
    state: session.state,
    error: session.error,
    handshake: agg.handshake,
    stats: session.stats(),
    streams: agg.snapshotRows(),
    requests: session.io.allRequests(),
    series: agg.series.all(),
    qlog: {
      eventsKept: capture.qlog.size,
      eventsDropped: capture.qlog.dropped,
      limit: MAX_RETAINED_QLOG,
    },
    capture: {
      datagrams: capture.datagramsCaptured,
      datagramsSkipped: capture.datagramsSkipped,
      bytes: capture.captureBytes,
      secrets: capture.keylog.size,
    },
  };
}
