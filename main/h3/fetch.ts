/**
 * `fetchAll(urls, options)`: fetches every URL over HTTP/3, one QUIC connection per origin
 * (host:port), all requests of a connection at once (multiplexed), all origins in parallel.
 * Bodies go to per-URL sinks (files, hashes, the UI) or are collected or discarded. It never
 * rejects for a network or HTTP failure: each response and each connection says what went wrong.
 */
import type { Config } from '../../core/connection/config.ts';
import type { Address } from '../../core/connection/types.ts';
import type { SessionTicket } from '../../core/tls/session.ts';
import { H3ClientConnection } from './client.ts';
import type { ConnectionSummary, H3ClientOptions, H3Response } from './client.ts';
import { describeFailure } from './errors.ts';
import type { FailureInfo } from './errors.ts';
import { SessionTraces } from './traces.ts';
import type { TraceOptions } from './traces.ts';

/** Where one response body goes. */
export interface BodySink {
  /** A chunk, valid only during the call. */
  write(chunk: Uint8Array): void;
  /** The response is over (`ok`: arrived whole with a 2xx status). */
  end(response: H3Response): void;
}

/** Progress over all the URLs of a fetchAll. */
export interface FetchProgress {
  /** Body bytes received so far, and the sum of the announced lengths (null while one is unknown). */
  received: number;
  expected: number | null;
  /** Responses finished (either way) / asked for. */
  done: number;
  total: number;
}

/** Resumption state per origin (host:port): what to offer, and where what the server sends goes. */
export interface ResumeStore {
  /** The ticket (RFC 8446 §4.6.1) and NEW_TOKEN token (RFC 9000 §8.1.3) to offer to `origin`. */
  lookup(origin: string): { ticket: SessionTicket | null; token: Uint8Array | null };
  /** The latest ticket and token `origin` gave on a connection of QUIC `version` (null: none new). */
  store(origin: string, version: number, ticket: SessionTicket | null, token: Uint8Array | null): void;
}

/** Options of fetchAll. */
export interface FetchAllOptions {
  /** The client Config shared by the connections. */
  config: Config;
  /** ms a handshake may take (default 10 000). */
  handshakeTimeout?: number;
  family?: 4 | 6;
  /** Trace files for the whole run. */
  traces?: TraceOptions;
  /** A sink per URL, asked for when its final response headers arrive (null: discard). */
  sink?: (url: URL, index: number, response: H3Response) => BodySink | null;
  /** Keep each body in `response.body`. */
  collect?: boolean;
  /** Called as bytes arrive (at most every `progressInterval` ms, default 100) and at the end. */
  onProgress?: (p: FetchProgress) => void;
  progressInterval?: number;
  /** Extra request header fields. */
  headers?: [string, string][];
  /** Host name resolution (tests). */
  lookup?: H3ClientOptions['lookup'];
  /** Resume with remembered tickets and tokens, and remember the new ones. */
  resume?: ResumeStore;
  /** Send the requests in 0-RTT when the ticket allows it (RFC 9001 §4.6; needs `resume`). */
  earlyData?: boolean;
  /** Initiate a key update (RFC 9001 §6) each time another this many body bytes arrived on a connection. */
  keyUpdateAfter?: number;
  /** Move to a new local port (RFC 9000 §9) once this many body bytes arrived on a connection. */
  migrateAfter?: number;
}

/** One fetched URL. */
export interface FetchedResponse {
  url: string;
  /** The response, or null when the connection never came up (see `error`). */
  response: H3Response | null;
  /** Why it failed (connection, stream, or an HTTP status outside 2xx), or null. */
  error: FailureInfo | null;
  /** Which connection of the result carried it. */
  connection: number;
}

/** One connection of a fetchAll. */
export interface FetchedConnection {
  origin: string;
  /** Its summary, or null when it never came up. */
  summary: ConnectionSummary | null;
  /** Why it failed to come up or ended badly, or null. */
  error: FailureInfo | null;
  /** Epoch ms of the first request sent and the last response finished. */
  firstRequestAt: number | null;
  lastResponseAt: number | null;
  /** Body bytes received on it. */
  bodyBytes: number;
  /** What happened on it that the options asked for: resumption offered, key updates, migration. */
  notes: string[];
}

/** What fetchAll returns. */
export interface FetchAllResult {
  responses: FetchedResponse[];
  connections: FetchedConnection[];
  /** Every response arrived whole with a 2xx status. */
  ok: boolean;
}

interface Target {
  url: URL;
  index: number;
  host: string;
  port: number;
}

/** Parses a URL for fetchAll: https only; returns the host (brackets removed) and port. */
export function parseTarget(text: string): { url: URL; host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`not a URL: ${text}`);
  }
  if (url.protocol !== 'https:') throw new RangeError(`not an https URL: ${text}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new RangeError(`no host in ${text}`);
  return { url, host, port: url.port === '' ? 443 : Number(url.port) };
}

/** host:port, with brackets around an IPv6 literal. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The failure an HTTP status outside 2xx is. */
function statusFailure(r: H3Response): FailureInfo | null {
  if (r.error !== null) return r.error;
  if (r.status === null) return { kind: 'stream', message: 'no response headers' };
  if (r.status < 200 || r.status >= 300) return { kind: 'http', message: `HTTP ${r.status}` };
  if (!r.complete) return { kind: 'stream', message: 'the response ended early' };
  if (r.contentLength !== null && r.method !== 'HEAD' && r.bodyLength !== r.contentLength)
    return {
      kind: 'stream',
      message: `body of ${r.bodyLength} bytes, content-length said ${r.contentLength}`,
    };
  return null;
}

/** Fetches every URL; see the module comment. Rejects only for a URL that is not https. */
export async function fetchAll(urls: readonly string[], options: FetchAllOptions): Promise<FetchAllResult> {
  const groups = new Map<string, Target[]>();
  urls.forEach((text, index) => {
    const { url, host, port } = parseTarget(text);
    const key = `${host}|${port}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push({ url, index, host, port });
  });
  const traces = options.traces === undefined ? null : new SessionTraces(options.traces, 'client');
  traces?.configure(options.config);
  const responses: FetchedResponse[] = urls.map((url) => ({
    url,
    response: null,
    error: null,
    connection: -1,
  }));
  const connections: FetchedConnection[] = [];
  const progress: FetchProgress = { received: 0, expected: null, done: 0, total: urls.length };
  const expected = new Map<number, number | null>();
  let lastProgress = 0;
  const interval = options.progressInterval ?? 100;
  const report = (force: boolean): void => {
    if (options.onProgress === undefined) return;
    const now = performance.now();
    if (!force && now - lastProgress < interval) return;
    lastProgress = now;
    let sum = 0;
    let known = expected.size === urls.length;
    for (const v of expected.values()) {
      if (v === null) known = false;
      else sum += v;
    }
    progress.expected = known ? sum : null;
    options.onProgress(progress);
  };

  const runGroup = async (targets: Target[], ci: number): Promise<void> => {
    const first = targets[0];
    const record: FetchedConnection = {
      origin: hostPort(first.host, first.port),
      summary: null,
      error: null,
      firstRequestAt: null,
      lastResponseAt: null,
      bodyBytes: 0,
      notes: [],
    };
    connections[ci] = record;
    let client: H3ClientConnection;
    try {
      const open: H3ClientOptions = {
        host: first.host,
        port: first.port,
        config: options.config,
        handshakeTimeout: options.handshakeTimeout ?? 10_000,
      };
      if (options.resume !== undefined) {
        const { ticket, token } = options.resume.lookup(record.origin);
        open.sessionTicket = ticket;
        open.token = token;
        if (ticket !== null) record.notes.push('offered a session ticket');
        if (token !== null) record.notes.push('offered a NEW_TOKEN token');
        open.earlyData = options.earlyData === true && ticket !== null;
      }
      if (traces !== null) open.traces = traces;
      if (options.family !== undefined) open.family = options.family;
      if (options.lookup !== undefined) open.lookup = options.lookup;
      client = await H3ClientConnection.open(open);
    } catch (e) {
      record.error = describeFailure(e);
      for (const t of targets) {
        responses[t.index] = { url: t.url.href, response: null, error: record.error, connection: ci };
        progress.done++;
      }
      report(true);
      return;
    }
    const triggers = new Triggers(client, options, record);
    await Promise.all(
      targets.map(async (t) => {
        let sink: BodySink | null = null;
        const r = await client.request(t.url.pathname + t.url.search, {
          headers: options.headers ?? [],
          collect: options.collect === true,
          onHeaders: (res) => {
            sink = options.sink?.(t.url, t.index, res) ?? null;
            expected.set(t.index, res.contentLength);
            record.firstRequestAt ??= res.sentAt;
          },
          onData: (chunk) => {
            progress.received += chunk.length;
            record.bodyBytes += chunk.length;
            sink?.write(chunk);
            triggers.check(record.bodyBytes);
            report(false);
          },
        });
        if (r.sentAt !== null && (record.firstRequestAt === null || r.sentAt < record.firstRequestAt))
          record.firstRequestAt = r.sentAt;
        if (r.finishedAt !== null && (record.lastResponseAt === null || r.finishedAt > record.lastResponseAt))
          record.lastResponseAt = r.finishedAt;
        if (!expected.has(t.index)) expected.set(t.index, 0);
        responses[t.index] = { url: t.url.href, response: r, error: statusFailure(r), connection: ci };
        (sink as BodySink | null)?.end(r);
        progress.done++;
        report(false);
      }),
    );
    await triggers.settled();
    await client.close();
    record.summary = client.summary();
    record.error = client.failure;
    if (options.resume !== undefined) {
      const conn = client.handle.connection;
      options.resume.store(record.origin, record.summary.version, conn.sessionTicket(), conn.newToken());
    }
  };

  try {
    await Promise.all([...groups.values()].map((targets, ci) => runGroup(targets, ci)));
  } finally {
    traces?.close();
  }
  report(true);
  return { responses, connections, ok: responses.every((r) => r.error === null) };
}

/** The actions `keyUpdateAfter` and `migrateAfter` ask for, fired as body bytes arrive. */
class Triggers {
  private readonly keyUpdateEvery: number;
  private nextKeyUpdate: number;
  private migrateAt: number;
  private migration: Promise<void> | null = null;

  constructor(
    private readonly client: H3ClientConnection,
    options: FetchAllOptions,
    private readonly record: FetchedConnection,
  ) {
    this.keyUpdateEvery = options.keyUpdateAfter ?? Infinity;
    this.nextKeyUpdate = this.keyUpdateEvery;
    this.migrateAt = options.migrateAfter ?? Infinity;
  }

  /** Called with the body bytes received so far on the connection. */
  check(received: number): void {
    if (received >= this.nextKeyUpdate && this.client.handle.isOpen) {
      // false while the previous update is unconfirmed (RFC 9001 §6.1): try again on the next chunk.
      if (this.client.handle.connection.initiateKeyUpdate()) {
        this.client.handle.wake();
        this.record.notes.push(`key update initiated after ${received} bytes`);
        this.nextKeyUpdate = received + this.keyUpdateEvery;
      }
    }
    if (received >= this.migrateAt && this.migration === null) {
      this.migrateAt = Infinity;
      this.migration = this.client.migrate().then(
        (local: Address) =>
          void this.record.notes.push(`migrated to local port ${local.port} after ${received} bytes`),
        (e: unknown) => void this.record.notes.push(`migration failed: ${(e as Error).message}`),
      );
    }
  }

  /** Resolves when a migration in progress has settled. */
  async settled(): Promise<void> {
    await this.migration;
  }
}
