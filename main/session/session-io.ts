/**
 * The data actions of a session: HTTP/3 requests (response headers and a bounded body preview
 * with the total size), raw streams (ALPN other than h3: text/hex payloads out, previews of what
 * comes back), DATAGRAM frames (RFC 9221), key update (RFC 9001 §6) and migration (RFC 9000 §9).
 * Writes that flow control holds back wait in per-stream queues and go out as credit arrives.
 */
import { StreamError } from '../../core/connection/connection.ts';
import type { Connection } from '../../core/connection/connection.ts';
import { DatagramError } from '../../core/connection/datagram.ts';
import { MigrationError } from '../../core/connection/migration.ts';
import type { H3Connection, H3Event } from '../../core/h3/connection.ts';
import { h3ErrorName } from '../../core/h3/errors.ts';
import type { FieldLine } from '../../core/h3/qpack/decoder.ts';
import { H3StreamError } from '../../core/h3/request.ts';
import { EndpointError } from '../endpoint/errors.ts';
import { clock } from '../endpoint/udp.ts';
import type { H3RequestInit, H3RequestRow, H3RequestUpdate, Payload } from '../ipc/contract.ts';
import { PROGRESS_INTERVAL } from './aggregate.ts';
import { RequestFailure } from './failure.ts';
import { decodePayload, PreviewBuffer, previewOf } from './payload.ts';
import type { Session } from './session.ts';
import { authorityOf } from './target.ts';

const EMPTY = new Uint8Array(0);
/** Most HTTP/3 requests a session keeps rows for (the oldest finished ones are forgotten). */
const MAX_REQUESTS = 1000;

/** An HTTP/3 request in progress. */
interface RequestState {
  row: H3RequestRow;
  body: PreviewBuffer;
}

/** Bytes waiting for flow control on one stream. */
interface WriteQueue {
  chunks: Uint8Array[];
  bytes: number;
  fin: boolean;
  /** Request body of an H3 stream (sent with sendBody) rather than raw stream data. */
  h3: boolean;
}

/** The data side of a Session. */
export class SessionIo {
  private readonly requests = new Map<number, RequestState>();
  /** Requests whose state changed (next batch) and whose body only grew (at most every PROGRESS_INTERVAL ms). */
  private readonly changed = new Set<RequestState>();
  private readonly progressed = new Set<RequestState>();
  private lastProgress = -Infinity;
  private nextRequestId = 1;
  private readonly queues = new Map<number, WriteQueue>();
  private readonly scratch = new Uint8Array(64 * 1024);
  /** The IDs our next raw streams get (RFC 9000 §2.1: client bidi 0, 4, 8...; uni 2, 6, 10...). */
  private readonly nextStream = { bidi: 0, uni: 2 };

  constructor(private readonly session: Session) {}

  private established(what: string): Connection {
    const s = this.session;
    const conn = s.connection;
    if (conn === null || s.state !== 'established')
      throw new RequestFailure(
        'invalid_state',
        `${what}: the session is ${s.state}${s.state === 'handshaking' ? ' (wait for the handshake)' : ''}`,
      );
    return conn;
  }

  private wake(): void {
    this.session.handle?.wake();
  }

  // ---- pumping ----

  /** Reads everything that arrived and writes what is queued. */
  pump(): void {
    const s = this.session;
    const conn = s.connection;
    if (conn === null) return;
    if (s.h3 !== null) this.pumpH3(s.h3);
    else this.pumpRaw(conn);
    this.pumpDatagrams(conn);
    if (this.queues.size > 0) this.writeQueued(conn);
  }

  private pumpH3(h3: H3Connection): void {
    const now = clock();
    for (let e = h3.poll(now); e !== null; e = h3.poll(now)) this.onH3Event(h3, e);
  }

  private onH3Event(h3: H3Connection, e: H3Event): void {
    switch (e.kind) {
      case 'headers': {
        const r = this.requests.get(e.streamId);
        if (r === undefined) return;
        const status = e.headers.find(([n]) => n === ':status')?.[1];
        if (r.row.status === null) {
          if (status === undefined) return;
          const code = Number(status);
          if (code >= 100 && code < 200) return; // interim response (RFC 9114 §4.1)
          r.row.status = code;
          r.row.headers = e.headers.filter(([n]) => !n.startsWith(':'));
          r.row.headersAt = this.session.now();
          r.row.state = 'headers';
        } else r.row.headers.push(...e.headers); // trailers
        if (e.fin) this.complete(r);
        this.changed.add(r);
        return;
      }
      case 'data': {
        const r = this.requests.get(e.streamId);
        for (let n = h3.recvBody(e.streamId, this.scratch); n > 0; n = h3.recvBody(e.streamId, this.scratch))
          r?.body.push(this.scratch.subarray(0, n));
        if (r !== undefined) this.progressed.add(r);
        return;
      }
      case 'finished': {
        const r = this.requests.get(e.streamId);
        if (r !== undefined) this.complete(r);
        return;
      }
      case 'reset': {
        const r = this.requests.get(e.streamId);
        if (r === undefined || r.row.state === 'complete') return;
        const who = e.local ? 'we reset' : 'the server reset';
        this.failRequest(
          r,
          `${who} the stream with ${h3ErrorName(e.code)}${e.reason ? `: ${e.reason}` : ''}`,
        );
        return;
      }
      case 'closed':
        this.onClosed(`the connection closed (${h3ErrorName(e.error.code)})`);
        return;
      default:
        return;
    }
  }

  private complete(r: RequestState): void {
    if (r.row.state === 'complete' || r.row.state === 'failed') return;
    r.row.state = 'complete';
    r.row.completedAt = this.session.now();
    this.changed.add(r);
  }

  private failRequest(r: RequestState, why: string): void {
    r.row.state = 'failed';
    r.row.error = why;
    r.row.completedAt = this.session.now();
    this.changed.add(r);
  }

  /** Fails the requests still open when the connection ends. */
  onClosed(why: string): void {
    for (const r of this.requests.values())
      if (r.row.state === 'pending' || r.row.state === 'headers') this.failRequest(r, why);
    this.queues.clear();
  }

  private pumpRaw(conn: Connection): void {
    const agg = this.session.aggregate;
    for (let id = conn.acceptStream(); id !== null; id = conn.acceptStream()) agg.row(id);
    for (const id of conn.readable()) {
      const preview = agg.receivedPreview(id);
      try {
        for (;;) {
          const r = conn.streamRecv(id, this.scratch);
          if (r === null) break;
          preview.push(this.scratch.subarray(0, r.length));
          if (r.fin || r.length === 0) break;
        }
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
        // A reset: the row shows the code (pollStreams / stream_state_updated).
      }
      agg.touchRow(id, true);
    }
  }

  private pumpDatagrams(conn: Connection): void {
    if (conn.dgramQueueLengths().recv === 0) return;
    for (;;) {
      const len = conn.dgramRecvFrontLen();
      if (len === null) break;
      const buf = len <= this.scratch.length ? this.scratch : new Uint8Array(len);
      const n = conn.dgramRecv(buf);
      if (n === null) break;
      const data = buf.subarray(0, n);
      const kept = data.subarray(0, Math.min(n, 4096));
      this.session.addDatagramRow({ time: this.session.now(), data: previewOf(kept, n) });
    }
  }

  private writeQueued(conn: Connection): void {
    const h3 = this.session.h3;
    for (const [id, q] of this.queues) {
      try {
        while (q.chunks.length > 0) {
          const chunk = q.chunks[0];
          const last = q.chunks.length === 1;
          const n =
            q.h3 && h3 !== null
              ? h3.sendBody(id, chunk, last && q.fin)
              : conn.streamSend(id, chunk, last && q.fin);
          q.bytes -= n;
          if (n < chunk.length) {
            q.chunks[0] = chunk.subarray(n);
            break;
          }
          q.chunks.shift();
        }
      } catch (e) {
        if (!(e instanceof StreamError || e instanceof H3StreamError)) throw e;
        q.chunks.length = 0; // stopped or closed: nothing more goes out (the row shows why)
        q.bytes = 0;
      }
      if (q.chunks.length === 0) this.queues.delete(id);
    }
    this.wake();
  }

  /** Updates the `queued` counts of the stream rows. */
  refreshRows(): void {
    const agg = this.session.aggregate;
    for (const row of agg.allRows()) {
      const queued = this.queues.get(row.id)?.bytes ?? 0;
      if (row.queued !== queued) {
        row.queued = queued;
        agg.touchRow(row.id, true);
      }
    }
  }

  /**
   * The request rows that changed since the last call (copies); body progress at most every
   * PROGRESS_INTERVAL ms. Bodies are updates of the window's preview (PreviewBuffer.update): the
   * bytes previewed since the previous update, then only the size once the preview is full.
   */
  takeRequests(now = Infinity): H3RequestUpdate[] {
    if (this.progressed.size > 0 && now - this.lastProgress >= PROGRESS_INTERVAL) {
      for (const r of this.progressed) this.changed.add(r);
      this.progressed.clear();
      this.lastProgress = now;
    }
    if (this.changed.size === 0) return [];
    const out: H3RequestUpdate[] = [];
    for (const r of this.changed) {
      out.push({ ...r.row, headers: [...r.row.headers], body: r.body.update() });
      this.progressed.delete(r);
    }
    this.changed.clear();
    return out;
  }

  /** Whether rows wait for their next progress update. */
  get pending(): boolean {
    return this.progressed.size > 0;
  }

  /** Every request row kept (for the summary export). */
  allRequests(): H3RequestRow[] {
    return [...this.requests.values()].map((r) => ({
      ...r.row,
      headers: [...r.row.headers],
      body: r.body.preview(),
    }));
  }

  // ---- actions ----

  /** Opens our next stream of `direction` (raw ALPN only); returns its ID. */
  openStream(direction: 'bidi' | 'uni'): number {
    const conn = this.established('open a stream');
    if (this.session.h3 !== null)
      throw new RequestFailure(
        'unsupported',
        'an HTTP/3 session’s streams belong to HTTP/3: send a request, or connect with another ALPN for raw streams',
      );
    const id = this.nextStream[direction];
    conn.streamSend(id, EMPTY, false);
    if (conn.streamStats(id) === null)
      throw new RequestFailure(
        'blocked',
        `the server’s stream limit allows no new ${direction === 'bidi' ? 'bidirectional' : 'unidirectional'} stream now (RFC 9000 §4.6)`,
      );
    this.nextStream[direction] = id + 4;
    this.session.aggregate.row(id);
    this.session.scheduleFlush();
    return id;
  }

  /** Queues `data` on stream `id` (raw ALPN), `fin` ending it; returns the byte count. */
  sendStream(id: number, data: Payload, fin: boolean): number {
    const conn = this.established('send on a stream');
    if (this.session.h3 !== null)
      throw new RequestFailure('unsupported', 'raw stream data cannot be sent on an HTTP/3 session');
    const bytes = decodePayload(data);
    // RFC 9000 §2.1: bit 1 set is unidirectional, bit 0 set is server-initiated.
    if (id % 2 === 1 && Math.floor(id / 2) % 2 === 1)
      throw new RequestFailure(
        'bad_request',
        `stream ${id} is the server’s unidirectional stream: receive-only for us`,
      );
    if (conn.streamStats(id) === null) throw new RequestFailure('not_found', `stream ${id} is not open`);
    const q = this.queues.get(id);
    if (q !== undefined && q.fin)
      throw new RequestFailure('invalid_state', `stream ${id} was already ended (FIN)`);
    this.enqueue(id, bytes, fin, false);
    this.writeQueued(conn);
    this.session.scheduleFlush();
    return bytes.length;
  }

  private enqueue(id: number, bytes: Uint8Array, fin: boolean, h3: boolean): void {
    let q = this.queues.get(id);
    if (q === undefined) this.queues.set(id, (q = { chunks: [], bytes: 0, fin: false, h3 }));
    // An empty chunk still carries a FIN.
    if (bytes.length > 0 || fin) q.chunks.push(bytes);
    q.bytes += bytes.length;
    q.fin = q.fin || fin;
  }

  /** Aborts stream `id`: RESET_STREAM ('write'), STOP_SENDING ('read') or both (RFC 9000 §3.5). */
  resetStream(id: number, code: number, direction: 'write' | 'read' | 'both'): void {
    const conn = this.established('reset a stream');
    if (conn.streamStats(id) === null) throw new RequestFailure('not_found', `stream ${id} is not open`);
    this.queues.delete(id);
    try {
      if (direction !== 'read') conn.streamShutdown(id, 'write', code);
      if (direction !== 'write') conn.streamShutdown(id, 'read', code);
    } catch (e) {
      if (e instanceof StreamError) throw new RequestFailure('bad_request', e.message);
      throw e;
    }
    this.wake();
    this.session.scheduleFlush();
  }

  /** Sends an HTTP/3 request; the response arrives in batches. */
  h3Request(init: H3RequestInit): { requestId: number; streamId: number } {
    this.established('send a request');
    const h3 = this.session.h3;
    if (h3 === null)
      throw new RequestFailure(
        'unsupported',
        `HTTP/3 requests need ALPN h3; this session uses ${this.session.info.options.alpn}`,
      );
    const info = this.session.info;
    // Bring the H3 layer's clock (its qlog times) up to now before it writes.
    this.pumpH3(h3);
    const body = init.body === undefined ? EMPTY : decodePayload(init.body);
    const headers: FieldLine[] = [
      [':method', init.method],
      [':scheme', 'https'],
      [':authority', authorityOf(info.options.sni || info.host, info.port)],
      [':path', init.path],
    ];
    for (const [name, value] of init.headers ?? []) headers.push([name.toLowerCase(), value]);
    if (body.length > 0 && !headers.some(([n]) => n === 'content-length'))
      headers.push(['content-length', String(body.length)]);
    let streamId: number;
    try {
      streamId = h3.sendRequest(headers, body.length === 0);
    } catch (e) {
      if (e instanceof H3StreamError)
        throw new RequestFailure(e.kind === 'blocked' ? 'blocked' : 'invalid_state', e.message);
      if (e instanceof RangeError) throw new RequestFailure('bad_request', e.message);
      throw e;
    }
    const row: H3RequestRow = {
      requestId: this.nextRequestId++,
      streamId,
      method: init.method,
      path: init.path,
      sentAt: this.session.now(),
      headersAt: null,
      completedAt: null,
      state: 'pending',
      status: null,
      headers: [],
      body: previewOf(EMPTY),
      error: null,
    };
    const r: RequestState = { row, body: new PreviewBuffer() };
    this.requests.set(streamId, r);
    this.forgetOldRequests();
    this.changed.add(r);
    if (body.length > 0) {
      this.enqueue(streamId, body, true, true);
      this.writeQueued(this.session.connection as Connection);
    }
    this.wake();
    this.session.scheduleFlush();
    return { requestId: row.requestId, streamId };
  }

  private forgetOldRequests(): void {
    if (this.requests.size <= MAX_REQUESTS) return;
    for (const [id, r] of this.requests) {
      if (this.requests.size <= MAX_REQUESTS) break;
      if (r.row.state === 'complete' || r.row.state === 'failed') this.requests.delete(id);
    }
  }

  /** Sends one DATAGRAM frame (RFC 9221). */
  sendDatagram(data: Payload): number {
    const conn = this.established('send a datagram');
    const bytes = decodePayload(data);
    let queued: boolean;
    try {
      queued = conn.dgramSend(bytes);
    } catch (e) {
      if (e instanceof DatagramError) {
        const kind =
          e.kind === 'too_large'
            ? 'bad_request'
            : e.kind === 'connection_closed'
              ? 'invalid_state'
              : 'unsupported';
        const why =
          e.kind === 'disabled'
            ? 'DATAGRAM frames were not enabled for this session'
            : e.kind === 'unsupported'
              ? 'the server does not support DATAGRAM frames (no max_datagram_frame_size, RFC 9221 §3)'
              : e.message;
        throw new RequestFailure(kind, why);
      }
      throw e;
    }
    if (!queued) throw new RequestFailure('blocked', 'the datagram send queue is full');
    this.wake();
    return bytes.length;
  }

  /**
   * Moves the connection to a new local UDP port (RFC 9000 §9.2): a second socket, path validation,
   * then the old socket closes. Resolves with the new local port.
   */
  async migrate(): Promise<number> {
    this.established('migrate');
    const { endpoint, handle } = this.session;
    if (endpoint === null || handle === null)
      throw new RequestFailure('invalid_state', 'the session has no connection');
    try {
      const local = await endpoint.migrate(handle);
      this.session.scheduleFlush();
      return local.port;
    } catch (e) {
      if (e instanceof EndpointError && e.code === 'migration_refused') {
        const kind = e.cause instanceof MigrationError ? e.cause.kind : null;
        throw new RequestFailure(kind === 'disabled_by_peer' ? 'unsupported' : 'invalid_state', e.message);
      }
      throw e;
    }
  }

  /** Starts a key update (RFC 9001 §6). */
  keyUpdate(): boolean {
    const conn = this.established('update keys');
    const started = conn.initiateKeyUpdate();
    this.wake();
    return started;
  }
}
