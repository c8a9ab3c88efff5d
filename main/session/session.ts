/**
 * One client session of the desktop app: a real QUIC connection (core Connection on a
 * QuicClientEndpoint over UDP), with an H3Connection when the ALPN is h3, its qlog stream kept
 * (bounded) and aggregated, and update batches for the window at most MAX_BATCHES_PER_SECOND a
 * second. The actions (streams, requests, datagrams, key update, migration, close) live here;
 * HTTP/3 requests and raw streams are in session-io.ts.
 */
import { readFileSync } from 'node:fs';
import { Config, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../core/connection/config.ts';
import type { Connection } from '../../core/connection/connection.ts';
import type { ConnectionStats } from '../../core/connection/types.ts';
import { getProvider } from '../../core/crypto/index.ts';
import { H3Connection } from '../../core/h3/connection.ts';
import { H3ErrorCode } from '../../core/h3/errors.ts';
import { certificateSummary, parseCertificate } from '../../core/tls/x509.ts';
import type { AnyTraceEvent, QlogEventMap, QlogEventName, Tracer } from '../../core/trace/index.ts';
import { MAX_BATCHES_PER_SECOND, MAX_QLOG_PER_BATCH } from '../ipc/contract.ts';
import type {
  CertificateSummary,
  CertificateVerdictInfo,
  DatagramRow,
  OpenSessionOptions,
  QlogEvent,
  SessionBatch,
  SessionError,
  SeriesUpdate,
  SessionInfo,
  SessionState,
  SessionSummary,
} from '../ipc/contract.ts';
import type { QuicConnectionHandle } from '../endpoint/endpoint.ts';
import { QuicClientEndpoint } from '../endpoint/client.ts';
import { EndpointError } from '../endpoint/errors.ts';
import type { CloseInfo } from '../endpoint/errors.ts';
import { clock } from '../endpoint/udp.ts';
import { SessionAggregate } from './aggregate.ts';
import { SessionCapture } from './capture.ts';
import { closeFailure, endpointFailure, RequestFailure } from './failure.ts';
import type { FailureContext } from './failure.ts';
import { SessionIo } from './session-io.ts';
import type { Target } from './target.ts';
import { hexOf } from './payload.ts';

/** Defaults of OpenSessionOptions. */
export const SESSION_DEFAULTS = {
  alpn: 'h3',
  version: 'v1',
  insecure: false,
  congestionControl: 'cubic',
  datagrams: true,
  handshakeTimeout: 10_000,
  idleTimeout: 30_000,
} as const;

/** Least time between two series updates in batches (ms). */
export const SERIES_INTERVAL = 250;

/** The most DATAGRAM rows a session keeps for one batch (older ones are dropped). */
const MAX_DATAGRAM_ROWS = 200;

/** What a Session needs from its manager. */
export interface SessionEnvironment {
  /** Delivers a batch to the windows. */
  onBatch(batch: SessionBatch): void;
  /** Extra trust anchors (PEM), e.g. the local server's certificate. */
  extraCaPem: string | null;
  /** Host name resolution (tests); default node:dns lookup. */
  lookup?: (host: string, options: { family?: 4 | 6 }) => Promise<{ address: string }>;
}

/** One client session: see the module comment. */
export class Session {
  readonly info: SessionInfo;
  state: SessionState = 'resolving';
  error: SessionError | null = null;
  readonly capture = new SessionCapture();
  readonly aggregate: SessionAggregate;
  /** The endpoint-clock time of time 0. */
  readonly origin: number;
  /** The Original Destination Connection ID (hex), from the first Initial. */
  odcid: string | null = null;
  endpoint: QuicClientEndpoint | null = null;
  handle: QuicConnectionHandle | null = null;
  h3: H3Connection | null = null;
  readonly io: SessionIo;
  private readonly config: Config;
  private readonly tracer: Tracer;
  private pendingQlog: QlogEvent[] = [];
  private qlogSkipped = 0;
  private datagramRows: DatagramRow[] = [];
  private errorSent = false;
  private seq = 0;
  private lastFlush = -Infinity;
  private flushTimer: NodeJS.Timeout | null = null;
  private established = false;
  private certificates: CertificateSummary[] = [];
  private lastStats: ConnectionStats | null = null;
  private ended = false;
  /** The batch of the ended session went out: no more batches. */
  private finalSent = false;
  private lastSeries = -Infinity;

  constructor(
    id: string,
    options: OpenSessionOptions,
    target: Target,
    localServer: boolean,
    private readonly env: SessionEnvironment,
  ) {
    this.origin = clock();
    const o = {
      sni: options.sni ?? target.host,
      alpn: options.alpn ?? SESSION_DEFAULTS.alpn,
      version: options.version ?? SESSION_DEFAULTS.version,
      insecure: options.insecure ?? SESSION_DEFAULTS.insecure,
      congestionControl: options.congestionControl ?? SESSION_DEFAULTS.congestionControl,
      datagrams: options.datagrams ?? SESSION_DEFAULTS.datagrams,
      handshakeTimeout: options.handshakeTimeout ?? SESSION_DEFAULTS.handshakeTimeout,
      idleTimeout: options.idleTimeout ?? SESSION_DEFAULTS.idleTimeout,
      target: options.target,
      caFile: options.caFile ?? null,
    };
    this.info = {
      sessionId: id,
      options: o,
      host: target.host,
      port: target.port,
      path: target.path,
      startedAt: Date.now(),
      localServer,
    };
    this.aggregate = new SessionAggregate({ origin: this.origin, h3: o.alpn === 'h3' });
    this.tracer = {
      enabled: true,
      event: <N extends QlogEventName>(time: number, name: N, data: QlogEventMap[N]) =>
        this.onTrace({ time, name, data } as AnyTraceEvent),
    };
    this.config = this.buildConfig(options);
    this.io = new SessionIo(this);
  }

  private buildConfig(options: OpenSessionOptions): Config {
    const o = this.info.options;
    const config = new Config(o.version === 'v2' ? QUIC_VERSION_2 : QUIC_VERSION_1);
    config.setApplicationProtos([o.alpn]);
    config.verifyPeer(!o.insecure);
    let pem = '';
    if (options.caPem !== undefined) pem += options.caPem + '\n';
    if (options.caFile !== undefined) {
      try {
        pem += readFileSync(options.caFile, 'utf8') + '\n';
      } catch (e) {
        throw new RequestFailure('bad_request', `cannot read the CA file: ${(e as Error).message}`);
      }
    }
    if (this.env.extraCaPem !== null) pem += this.env.extraCaPem + '\n';
    if (pem !== '') {
      try {
        config.setCaCertificates(pem);
      } catch (e) {
        throw new RequestFailure('bad_request', `CA certificates: ${(e as Error).message}`);
      }
    }
    config.setCongestionControl(o.congestionControl);
    config.setMaxIdleTimeout(o.idleTimeout);
    if (o.datagrams) config.enableDgram(true);
    config.setTracer(this.tracer);
    config.setKeylog((line) => this.capture.keylogLine(line));
    return config;
  }

  /** The Connection, once started. */
  get connection(): Connection | null {
    return this.handle?.connection ?? null;
  }

  /** A one-line view for the session list. */
  summary(): SessionSummary {
    return { info: this.info, state: this.state, error: this.error };
  }

  // ---- lifecycle ----

  /** Resolves, opens the socket, starts the handshake; resolves once the session is established or failed. */
  async start(): Promise<void> {
    const o = this.info.options;
    let endpoint: QuicClientEndpoint;
    try {
      const options: ConstructorParameters<typeof QuicClientEndpoint>[0] = {
        host: this.info.host,
        port: this.info.port,
        config: this.config,
        handshakeTimeout: o.handshakeTimeout,
      };
      if (this.env.lookup !== undefined) options.lookup = this.env.lookup;
      endpoint = await QuicClientEndpoint.open(options);
    } catch (e) {
      this.fail(e instanceof EndpointError ? endpointFailure(e, this.failureContext()) : internal(e));
      return;
    }
    if (this.ended) {
      await endpoint.close({ timeout: 0 });
      return;
    }
    this.endpoint = endpoint;
    endpoint.on('datagram', (ev) => this.capture.datagram(ev));
    this.setState('connecting');
    const handle = endpoint.connect({ serverName: o.sni === '' ? null : o.sni });
    this.handle = handle;
    // The first Initial's DCID is the Original Destination Connection ID (RFC 9000 §7.3).
    this.odcid = hexOf(handle.connection.destinationId());
    if (o.alpn === 'h3')
      this.h3 = new H3Connection(handle.connection, { role: 'client', tracer: this.tracer });
    this.setState('handshaking');
    handle.on('established', this.onEstablished);
    handle.on('activity', this.pump);
    void handle.closed.then((info) => this.onClosed(info));
    try {
      await handle.established;
    } catch {
      // onClosed reports it.
      await handle.closed;
    }
  }

  private readonly onEstablished = (): void => {
    this.established = true;
    this.setState('established');
    this.fillTls();
    this.pump();
  };

  /** Reads what arrived, writes what is queued, schedules a batch. */
  readonly pump = (): void => {
    if (this.handle === null) return;
    this.io.pump();
    this.scheduleFlush();
  };

  private fillTls(): void {
    const conn = this.connection;
    if (conn === null) return;
    const hs = this.aggregate.handshake;
    const tls = conn.tlsInfo();
    hs.cipher = tls.cipherSuite ?? hs.cipher;
    hs.group = tls.group;
    hs.alpn = tls.alpn ?? hs.alpn;
    hs.serverName = tls.serverName;
    hs.resumed = tls.resumed;
    const chain = conn.peerCertificateChain();
    if (chain.length > 0 && this.certificates.length === 0) {
      const provider = getProvider('default');
      this.certificates = chain.map((der) => {
        try {
          return certificateSummary(parseCertificate(der), provider);
        } catch (e) {
          return unparsable(der.length, (e as Error).message);
        }
      });
    }
    hs.certificates = this.certificates;
    hs.verdict = verdictInfo(conn);
    this.aggregate.touchHandshake();
  }

  private failureContext(): FailureContext {
    return {
      alpn: this.connection?.applicationProto() ?? this.info.options.alpn,
      verdict: this.aggregate.handshake.verdict,
      chain: this.certificates,
      closeTrigger: this.aggregate.closeTrigger,
      established: this.established,
    };
  }

  private onClosed(info: CloseInfo): void {
    this.fillTls();
    this.io.pump();
    const error = closeFailure(info, this.failureContext());
    if (error?.certificate !== undefined && this.aggregate.handshake.verdict === null) {
      this.aggregate.handshake.verdict = error.certificate.verdict;
      this.aggregate.touchHandshake();
    }
    this.io.onClosed(error?.message ?? 'the connection closed');
    this.finish(error);
    void this.endpoint?.close({ timeout: 0 });
  }

  private fail(error: SessionError): void {
    this.finish(error);
    void this.endpoint?.close({ timeout: 0 });
  }

  private finish(error: SessionError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.setState(error !== null && !this.established ? 'failed' : 'closed');
    this.scheduleFlush(); // the last batch (at the usual pace)
  }

  /** Whether the session is over (closed or failed). */
  get isEnded(): boolean {
    return this.ended;
  }

  private setState(state: SessionState): void {
    if (this.state === state) return;
    this.state = state;
    this.scheduleFlush();
  }

  /** Closes the connection with an application error `code` (default H3_NO_ERROR / 0). */
  close(code?: number, reason = ''): void {
    if (code !== undefined && (!Number.isSafeInteger(code) || code < 0 || code > 2 ** 62 - 1))
      throw new RequestFailure('bad_request', `not a QUIC error code: ${code}`);
    const handle = this.handle;
    if (handle === null || this.ended) {
      if (!this.ended) {
        this.finish(null);
        void this.endpoint?.close({ timeout: 0 });
      }
      return;
    }
    this.setState('closing');
    if (this.h3 !== null) this.h3.close(code ?? H3ErrorCode.H3_NO_ERROR, reason);
    else handle.close(code ?? 0, reason);
    handle.wake();
  }

  /** Drops the connection at once (app shutdown). */
  destroy(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.ended = true;
    this.finalSent = true;
    this.endpoint?.destroy();
  }

  // ---- qlog and batches ----

  private onTrace(e: AnyTraceEvent): void {
    this.capture.qlog.event(e.time, e.name, e.data);
    this.aggregate.onEvent(e);
    if (e.name === 'quic:stream_state_updated') {
      // Counters at each transition: a short stream may come and go between two batches.
      const st = this.connection?.streamStats(e.data.stream_id) ?? null;
      if (st !== null && this.aggregate.refreshRow(st)) this.aggregate.touchRow(st.id, true);
    }
    if (this.pendingQlog.length < MAX_QLOG_PER_BATCH)
      this.pendingQlog.push({ time: round3(e.time - this.origin), name: e.name, data: e.data } as QlogEvent);
    else this.qlogSkipped++;
    this.scheduleFlush();
  }

  /** Queues a received DATAGRAM row for the next batch. */
  addDatagramRow(row: DatagramRow): void {
    if (this.datagramRows.length >= MAX_DATAGRAM_ROWS) this.datagramRows.shift();
    this.datagramRows.push(row);
    this.scheduleFlush();
  }

  /** ms since session start now. */
  now(): number {
    return round3(clock() - this.origin);
  }

  /** Schedules a batch, no sooner than 1/MAX_BATCHES_PER_SECOND s after the previous one. */
  scheduleFlush(): void {
    if (this.flushTimer !== null || this.finalSent) return;
    const wait = Math.max(0, Math.ceil(this.lastFlush + 1000 / MAX_BATCHES_PER_SECOND - clock()));
    this.flushTimer = setTimeout(this.flush, wait);
  }

  private readonly flush = (): void => {
    this.flushTimer = null;
    if (this.finalSent) return;
    if (this.ended) this.finalSent = true;
    const now = clock();
    const conn = this.connection;
    const agg = this.aggregate;
    if (conn !== null) {
      for (const st of conn.streams()) if (agg.refreshRow(st)) agg.touchRow(st.id, true);
      this.io.refreshRows();
      this.lastStats = conn.stats();
      agg.sample(this.lastStats, now);
    }
    const batch: SessionBatch = {
      sessionId: this.info.sessionId,
      seq: this.seq++,
      time: round3(now - this.origin),
      state: this.state,
      qlog: this.pendingQlog,
      qlogSkipped: this.qlogSkipped,
      series: this.takeSeries(now),
      streams: agg.takeRows(now),
      requests: this.io.takeRequests(now),
      datagrams: this.datagramRows,
      stats: this.lastStats,
    };
    const handshake = agg.takeHandshake();
    if (handshake !== undefined) batch.handshake = handshake;
    if (this.error !== null && !this.errorSent) {
      batch.error = this.error;
      this.errorSent = true;
    }
    this.pendingQlog = [];
    this.qlogSkipped = 0;
    this.datagramRows = [];
    // The pace is measured between deliveries (building a batch takes a little time).
    this.lastFlush = clock();
    this.env.onBatch(batch);
    // Progress held back by the rate limit goes in a later batch even if nothing else happens.
    if (agg.rowsPending || this.io.pending || agg.series.dirty) this.scheduleFlush();
  };

  /**
   * The changed series, at most every SERIES_INTERVAL ms (each update carries whole downsampled
   * series: sending them with every batch would dominate the traffic during a transfer).
   */
  private takeSeries(now: number): SeriesUpdate {
    if (!this.finalSent && now - this.lastSeries < SERIES_INTERVAL) return {};
    if (!this.aggregate.series.dirty) return {};
    this.lastSeries = now;
    return this.aggregate.series.take();
  }

  /**
   * Everything the window shows now, as one batch (the `sessionSnapshot` request): whole series as
   * of the last batch sent, every stream and request row, the handshake, the state and error.
   */
  snapshot(): SessionBatch {
    const agg = this.aggregate;
    const batch: SessionBatch = {
      sessionId: this.info.sessionId,
      // The series copies are those of the last batch sent: later batches apply on top.
      seq: this.seq - 1,
      time: this.now(),
      state: this.state,
      qlog: [],
      qlogSkipped: 0,
      series: agg.series.snapshot(),
      streams: agg.snapshotRows(),
      requests: this.io.allRequests(),
      datagrams: [],
      handshake: structuredClone(agg.handshake),
      stats: this.stats(),
      snapshot: true,
    };
    if (this.error !== null) batch.error = this.error;
    return batch;
  }

  /** The latest stats (null before the connection exists). */
  stats(): ConnectionStats | null {
    const conn = this.connection;
    return conn === null ? this.lastStats : conn.stats();
  }
}

/** The verdict on the peer's chain in the contract's shape, once TLS checked it. */
function verdictInfo(conn: Connection): CertificateVerdictInfo | null {
  const v = conn.peerCertificateVerdict();
  if (v === null) return null;
  const out: CertificateVerdictInfo = { ok: v.ok };
  if (v.reason !== undefined) out.reason = v.reason;
  if (v.message !== undefined) out.message = v.message;
  if (v.ignored !== undefined) out.ignored = v.ignored;
  return out;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function internal(e: unknown): SessionError {
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

function unparsable(length: number, why: string): CertificateSummary {
  return {
    subject: `(unparsable certificate: ${why})`,
    issuer: '',
    serial: '',
    sans: [],
    notBefore: '',
    notAfter: '',
    keyType: 'unknown',
    keyBits: 0,
    fingerprintSha256: '',
    signatureAlgorithm: `${length} bytes`,
    isCA: false,
    selfIssued: false,
  };
}
