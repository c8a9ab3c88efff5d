/**
 * A small promise-based HTTP/3 client over the UDP client endpoint and core/h3's H3Connection:
 * `H3ClientConnection.open()` makes one QUIC connection, `request()` sends a request on it and
 * resolves with the response once its body has arrived (or failed). Requests beyond the server's
 * stream limit wait in line and go out as streams free up (RFC 9000 §4.6). Bodies are handed to
 * the caller chunk by chunk (`onData`) straight from QUIC's buffers, or collected when asked.
 * `fetchAll` (fetch.ts) builds on this for the CLI and the desktop app.
 */
import type { Config } from '../../core/connection/config.ts';
import type { Address, ConnectionStats, TlsInfo } from '../../core/connection/types.ts';
import { H3Connection } from '../../core/h3/connection.ts';
import type { H3Event } from '../../core/h3/connection.ts';
import { h3ErrorName } from '../../core/h3/errors.ts';
import type { FieldLine } from '../../core/h3/qpack/decoder.ts';
import { H3StreamError } from '../../core/h3/request.ts';
import type { SessionTicket } from '../../core/tls/session.ts';
import type { Tracer } from '../../core/trace/tracer.ts';
import { QuicClientEndpoint } from '../endpoint/client.ts';
import type { ClientEndpointOptions } from '../endpoint/client.ts';
import type { QuicConnectionHandle } from '../endpoint/endpoint.ts';
import type { CloseInfo } from '../endpoint/errors.ts';
import { clock } from '../endpoint/udp.ts';
import { describeCloseInfo, describeFailure } from './errors.ts';
import type { FailureInfo } from './errors.ts';
import { SessionTraces } from './traces.ts';
import type { TraceOptions } from './traces.ts';

/** Options of `H3ClientConnection.open`. */
export interface H3ClientOptions {
  /** Server host name or IP literal, and UDP port. */
  host: string;
  port: number;
  /** A client Config; ALPN is set to h3. */
  config: Config;
  /** SNI and certificate name (default: `host`). */
  serverName?: string | null;
  /** ms the handshake may take (default 10 000). */
  handshakeTimeout?: number;
  /** Resolve to IPv4 or IPv6 only. */
  family?: 4 | 6;
  /** Trace files (qlog, key log, pcapng); or a SessionTraces shared by several connections. */
  traces?: TraceOptions | SessionTraces;
  /** A ticket to resume with, a NEW_TOKEN token. */
  sessionTicket?: SessionTicket | null;
  token?: Uint8Array | null;
  /** Host name resolution (tests); default node:dns lookup. */
  lookup?: ClientEndpointOptions['lookup'];
  /**
   * With a ticket that allows 0-RTT (and `config.enableEarlyData()`), resolve `open` at once so
   * that the first requests go in 0-RTT packets (RFC 9001 §4.6.1); if the server rejects them,
   * the connection sends them again in 1-RTT (§4.6.2).
   */
  earlyData?: boolean;
}

/** Options of one request. */
export interface H3RequestOptions {
  /** Default GET. */
  method?: string;
  /** :authority (default `host[:port]` of the connection). */
  authority?: string;
  /** Extra header fields (lowercase names). */
  headers?: FieldLine[];
  /** A request body (sent in full, as flow control allows). */
  body?: Uint8Array;
  /** Called with the final response header section. */
  onHeaders?: (response: H3Response) => void;
  /** Called with each body chunk; `chunk` is valid only during the call (copy to keep it). */
  onData?: (chunk: Uint8Array, response: H3Response) => void;
  /** Keep the whole body in `response.body`. */
  collect?: boolean;
}

/** A response, filled in as it arrives. */
export interface H3Response {
  readonly path: string;
  readonly method: string;
  /** The request stream, -1 while the request waits for stream credit. */
  streamId: number;
  /** The final status, null before the headers. */
  status: number | null;
  /** The final response header section. */
  headers: FieldLine[];
  trailers: FieldLine[] | null;
  /** Body bytes received. */
  bodyLength: number;
  /** The content-length the server announced, or null. */
  contentLength: number | null;
  /** The body when `collect` was set. */
  body: Uint8Array | null;
  /** The stream ended normally (FIN after the message). */
  complete: boolean;
  /** Why the response failed (reset, connection closed), or null. */
  error: FailureInfo | null;
  /** Epoch ms: request sent, final headers received, end received. */
  sentAt: number | null;
  headersAt: number | null;
  finishedAt: number | null;
}

/** Whether a response arrived whole (complete, 2xx, body length as announced). */
export function responseOk(r: H3Response): boolean {
  return (
    r.complete &&
    r.error === null &&
    r.status !== null &&
    r.status >= 200 &&
    r.status < 300 &&
    (r.contentLength === null || r.contentLength === r.bodyLength || r.method === 'HEAD')
  );
}

/** What a connection did, for the summary. */
export interface ConnectionSummary {
  /** host:port as asked, and the address connected to. */
  origin: string;
  remote: string;
  version: number;
  tls: TlsInfo;
  stats: ConnectionStats;
  /** Epoch ms the connection started and ended (or now). */
  startedAt: number;
  endedAt: number;
}

interface Pending {
  response: H3Response;
  options: H3RequestOptions;
  resolve: (r: H3Response) => void;
  /** Bytes of the request body accepted so far. */
  bodyOffset: number;
  /** The body's chunks when collecting (joined once, at the end). */
  chunks: Uint8Array[] | null;
}

const READ_BUFFER = 64 * 1024;

/** One HTTP/3 connection: see the module comment. */
export class H3ClientConnection {
  readonly h3: H3Connection;
  /** Requests waiting for stream credit, requests on their stream, request bodies being sent. */
  private readonly queue: Pending[] = [];
  private readonly active = new Map<number, Pending>();
  private readonly writing: Pending[] = [];
  private readonly buf = new Uint8Array(READ_BUFFER);
  private inCallback = false;
  private closing = false;
  private closeError: FailureInfo | null = null;
  private endedAt: number | null = null;
  private readonly authority: string;

  private constructor(
    readonly endpoint: QuicClientEndpoint,
    readonly handle: QuicConnectionHandle,
    readonly startedAt: number,
    private readonly options: H3ClientOptions,
    private readonly traces: SessionTraces | null,
    tracerForH3: Tracer | undefined,
  ) {
    this.h3 = new H3Connection(handle.connection, { role: 'client', tracer: tracerForH3 });
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.authority = options.port === 443 ? host : `${host}:${options.port}`;
    handle.on('activity', this.onActivity);
    handle.on('established', this.onActivity);
    void handle.closed.then((info) => this.onClosed(info));
  }

  /**
   * Resolves the host, opens a UDP socket, and completes the QUIC handshake. Rejects with an
   * EndpointError ('dns_failure', 'refused', 'handshake_timeout', 'connection_closed' for a TLS
   * failure such as a certificate problem) when it cannot.
   */
  static async open(options: H3ClientOptions): Promise<H3ClientConnection> {
    const config = options.config;
    config.setApplicationProtos(['h3']);
    const traces =
      options.traces instanceof SessionTraces
        ? options.traces
        : options.traces !== undefined
          ? new SessionTraces(options.traces, 'client')
          : null;
    const ownTraces = traces !== null && !(options.traces instanceof SessionTraces);
    if (ownTraces) traces.configure(config);
    const endpointOptions: ClientEndpointOptions = {
      host: options.host,
      port: options.port,
      config,
      handshakeTimeout: options.handshakeTimeout ?? 10_000,
    };
    if (options.family !== undefined) endpointOptions.family = options.family;
    if (options.lookup !== undefined) endpointOptions.lookup = options.lookup;
    let endpoint: QuicClientEndpoint;
    try {
      endpoint = await QuicClientEndpoint.open(endpointOptions);
    } catch (e) {
      if (ownTraces) traces.close();
      throw e;
    }
    traces?.capture(endpoint);
    const previous = config.tracer;
    traces?.prepare(config);
    const startedAt = clock();
    let handle: QuicConnectionHandle;
    try {
      handle = endpoint.connect({
        serverName: options.serverName === undefined ? options.host : options.serverName,
        sessionTicket: options.sessionTicket ?? null,
        token: options.token ?? null,
      });
    } finally {
      if (traces !== null) config.setTracer(previous); // the connection took its own qlog
    }
    const tracer = traces?.attach(handle, config);
    const client = new H3ClientConnection(
      endpoint,
      handle,
      startedAt,
      options,
      ownTraces ? traces : null,
      tracer,
    );
    // 0-RTT: the requests go out before the handshake completes; a failure then ends them instead.
    if (options.earlyData === true && handle.connection.isInEarlyData()) return client;
    try {
      await handle.established;
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /** Sends a request; resolves with the response once it is complete or has failed (never rejects). */
  request(path: string, options: H3RequestOptions = {}): Promise<H3Response> {
    const response: H3Response = {
      path,
      method: options.method ?? 'GET',
      streamId: -1,
      status: null,
      headers: [],
      trailers: null,
      bodyLength: 0,
      contentLength: null,
      body: null,
      complete: false,
      error: null,
      sentAt: null,
      headersAt: null,
      finishedAt: null,
    };
    return new Promise((resolve) => {
      const p: Pending = { response, options, resolve, bodyOffset: 0, chunks: options.collect ? [] : null };
      if (this.closeError !== null || this.h3.isClosed) {
        this.fail(p, this.closeError ?? { kind: 'closed', message: 'the connection is closed' });
        return;
      }
      this.queue.push(p);
      this.pump();
    });
  }

  /** The QUIC version, TLS parameters and counters of the connection. */
  summary(): ConnectionSummary {
    const conn = this.handle.connection;
    const stats = conn.stats();
    const peer = this.handle.peer;
    return {
      origin: this.options.host.includes(':')
        ? `[${this.options.host}]:${this.options.port}`
        : `${this.options.host}:${this.options.port}`,
      remote: peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`,
      version: stats.version,
      tls: conn.tlsInfo(),
      stats,
      startedAt: this.startedAt,
      endedAt: this.endedAt ?? clock(),
    };
  }

  /**
   * Moves the connection to a new local port (RFC 9000 §9, path validation first); resolves with
   * the new local address, rejects with an EndpointError when the peer forbids it or no socket opens.
   */
  migrate(): Promise<Address> {
    return this.endpoint.migrate(this.handle);
  }

  /** The session ticket the server sent (for resumption), if any. */
  sessionTicket(): SessionTicket | null {
    return this.handle.connection.sessionTicket();
  }

  /** Why the connection failed, or null while it is fine or closed cleanly. */
  get failure(): FailureInfo | null {
    return this.closeError;
  }

  /**
   * Closes the connection (HTTP/3 H3_NO_ERROR, RFC 9114 §5.3) and the socket; resolves once done.
   * Requests still open fail.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.h3.isClosed && this.handle.isOpen && this.handle.wasEstablished) {
      this.h3.close();
      this.handle.wake();
    }
    await this.endpoint.close({ timeout: 500 });
    this.endedAt ??= clock();
    this.traces?.close();
  }

  // ---- internals ----

  private readonly onActivity = (): void => {
    this.inCallback = true;
    try {
      this.pump();
    } finally {
      this.inCallback = false;
    }
  };

  private pump(): void {
    const h3 = this.h3;
    const now = clock();
    for (let e = h3.poll(now); e !== null; e = h3.poll(now)) this.onEvent(e, now);
    this.sendQueued(now);
    this.writeBodies();
    // Inside the endpoint's callback it sends next anyway; otherwise wake it.
    if (!this.inCallback) this.handle.wake();
  }

  private sendQueued(now: number): void {
    while (this.queue.length > 0 && !this.h3.isClosed) {
      const p = this.queue[0];
      const o = p.options;
      const headers: FieldLine[] = [
        [':method', p.response.method],
        [':scheme', 'https'],
        [':authority', o.authority ?? this.authority],
        [':path', p.response.path],
        ...(o.headers ?? []),
      ];
      const hasBody = o.body !== undefined && o.body.length > 0;
      if (hasBody && !(o.headers ?? []).some(([n]) => n === 'content-length'))
        headers.push(['content-length', String((o.body as Uint8Array).length)]);
      let id: number;
      try {
        id = this.h3.sendRequest(headers, !hasBody);
      } catch (e) {
        if (e instanceof H3StreamError && e.kind === 'blocked') return; // RFC 9000 §4.6: wait for MAX_STREAMS
        this.queue.shift();
        this.fail(
          p,
          e instanceof H3StreamError ? { kind: 'stream', message: e.message } : describeFailure(e),
        );
        continue;
      }
      this.queue.shift();
      p.response.streamId = id;
      p.response.sentAt = now;
      this.active.set(id, p);
      if (hasBody) this.writing.push(p);
    }
  }

  private writeBodies(): void {
    let k = 0;
    for (const p of this.writing) {
      const body = p.options.body as Uint8Array;
      try {
        p.bodyOffset += this.h3.sendBody(p.response.streamId, body.subarray(p.bodyOffset), true);
      } catch (e) {
        if (!(e instanceof H3StreamError)) throw e;
        continue; // stopped: the response (or reset) tells the rest
      }
      if (p.bodyOffset < body.length) this.writing[k++] = p;
    }
    this.writing.length = k;
  }

  private onEvent(e: H3Event, now: number): void {
    if (e.kind === 'closed') {
      const peer = this.handle.connection.peerError();
      const d = describeCloseInfo({
        local: e.error.local ? e.error : null,
        // The transport's own record tells a stateless reset from a CONNECTION_CLOSE.
        peer: e.error.local ? null : peer?.statelessReset === true ? peer : e.error,
        timedOut: this.handle.connection.isTimedOut(),
        error: null,
      });
      if (d !== null) this.failAll(d);
      else if (this.active.size > 0 || this.queue.length > 0)
        this.failAll({ kind: 'closed', message: 'the connection closed before the responses' });
      return;
    }
    if (!('streamId' in e)) return;
    const p = this.active.get(e.streamId);
    if (p === undefined) return;
    const r = p.response;
    switch (e.kind) {
      case 'headers': {
        const status = Number(e.headers.find(([n]) => n === ':status')?.[1]);
        if (r.status !== null) r.trailers = e.headers;
        else if (status >= 200) {
          r.status = status;
          r.headers = e.headers;
          r.headersAt = now;
          const cl = e.headers.find(([n]) => n === 'content-length')?.[1];
          r.contentLength = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null;
          p.options.onHeaders?.(r);
        }
        break;
      }
      case 'data': {
        const chunks = p.chunks;
        for (
          let n = this.h3.recvBody(e.streamId, this.buf);
          n > 0;
          n = this.h3.recvBody(e.streamId, this.buf)
        ) {
          const chunk = this.buf.subarray(0, n);
          r.bodyLength += n;
          p.options.onData?.(chunk, r);
          if (chunks !== null) chunks.push(chunk.slice());
        }
        break;
      }
      case 'finished':
        r.complete = true;
        r.finishedAt = now;
        if (p.chunks !== null) r.body = p.chunks.length === 1 ? p.chunks[0] : Buffer.concat(p.chunks);
        this.active.delete(e.streamId);
        p.resolve(r);
        break;
      case 'reset':
        this.active.delete(e.streamId);
        this.fail(p, {
          kind: 'stream',
          message: `stream ${e.streamId} reset by ${e.local ? 'us' : 'the server'} with ${h3ErrorName(e.code)}${e.reason ? `: ${e.reason}` : ''}`,
        });
        break;
    }
  }

  private fail(p: Pending, error: FailureInfo): void {
    p.response.error = error;
    p.response.finishedAt ??= clock();
    p.resolve(p.response);
  }

  private failAll(error: FailureInfo): void {
    this.closeError ??= error;
    for (const p of this.active.values()) this.fail(p, error);
    this.active.clear();
    for (const p of this.queue) this.fail(p, error);
    this.queue.length = 0;
    this.writing.length = 0;
  }

  private onClosed(info: CloseInfo): void {
    this.endedAt ??= clock();
    // Our own close() cut the closing period short (RFC 9000 §10.2): not a failure.
    const cut = this.closing && info.error !== null && info.error.code === 'endpoint_closed';
    const d = cut ? null : describeCloseInfo(info);
    // Drain the last events (a 'closed' one among them) before failing what is left.
    this.inCallback = true;
    try {
      const now = clock();
      for (let e = this.h3.poll(now); e !== null; e = this.h3.poll(now)) this.onEvent(e, now);
    } finally {
      this.inCallback = false;
    }
    if (this.active.size > 0 || this.queue.length > 0)
      this.failAll(d ?? { kind: 'closed', message: 'the connection closed' });
    else if (d !== null) this.closeError ??= d;
  }
}
