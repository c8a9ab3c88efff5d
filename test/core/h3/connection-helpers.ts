/**
 * HTTP/3 over real QUIC Connections on the network simulator (test/helpers/pair.ts): an
 * H3Connection on each side, pumped after every simulator event, a tiny server that answers
 * each complete request through a `respond` function, and a client that records responses.
 * Bodies are hashed as they are read (SHA-256), never re-joined.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { H3Connection } from '../../../core/h3/connection.ts';
import { H3StreamError } from '../../../core/h3/request.ts';
import type { H3ConnectionOptions, H3Event } from '../../../core/h3/connection.ts';
import type { FieldLine } from '../../../core/h3/qpack/decoder.ts';
import { QpackEncoder } from '../../../core/h3/qpack/encoder.ts';
import {
  H3FrameType,
  H3StreamType,
  writeFrameHeader,
  writeHeadersFrame,
  writeSettingsFrame,
} from '../../../core/h3/frames.ts';
import { Writer } from '../../../core/wire/buffer.ts';
import { handshake, makePair } from '../../helpers/pair.ts';
import type { Connection, PairOptions } from '../../helpers/pair.ts';
import { Rng } from '../../helpers/netsim.ts';
import type { Sim } from '../../helpers/netsim.ts';

/** A received message: header sections (interim ones included), body hash and size, trailers. */
export interface Received {
  headers: FieldLine[][];
  trailers: FieldLine[] | null;
  bodyLength: number;
  bodyHash: Hash;
  digest: string;
  finished: boolean;
  reset: { code: number; local: boolean } | null;
  /** `fin` of the last headers event. */
  headersFin: boolean;
}

/** What the server sends back for a request. */
export interface Reply {
  headers: FieldLine[];
  body?: Uint8Array;
  trailers?: FieldLine[];
}

/** A body being written as flow control allows. */
interface Writing {
  h3: H3Connection;
  id: number;
  body: Uint8Array;
  offset: number;
  trailers: FieldLine[] | null;
}

/** Options of an H3 pair. */
export interface H3PairOptions {
  pair?: PairOptions;
  client?: Partial<H3ConnectionOptions>;
  server?: Partial<H3ConnectionOptions>;
  /** Server: the reply to a complete request (default 200 with no body). */
  respond?: (request: Received, streamId: number) => Reply | null;
  /** Server: do not create the server's H3Connection (a raw QUIC server). */
  rawServer?: boolean;
  /** Client: do not create the client's H3Connection (a raw QUIC client). */
  rawClient?: boolean;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Pseudo-random bytes. */
export function randomBody(n: number, seed = 1): Uint8Array {
  return new Rng(seed).fill(new Uint8Array(n));
}

/** A GET (or other method) request's header section. */
export function request(method: string, path: string, extra: FieldLine[] = []): FieldLine[] {
  return [[':method', method], [':scheme', 'https'], [':authority', 'localhost'], [':path', path], ...extra];
}

function newReceived(): Received {
  return {
    headers: [],
    trailers: null,
    bodyLength: 0,
    bodyHash: createHash('sha256'),
    digest: '',
    finished: false,
    reset: null,
    headersFin: false,
  };
}

/** A client and a server H3Connection over the simulator. */
export class H3Pair {
  readonly sim: Sim<Connection>;
  client: H3Connection | null = null;
  server: H3Connection | null = null;
  /** Messages received by each side, by stream ID. */
  readonly atServer = new Map<number, Received>();
  readonly atClient = new Map<number, Received>();
  /** Every event each side's poll returned. */
  readonly clientEvents: H3Event[] = [];
  readonly serverEvents: H3Event[] = [];
  /** Most body bytes recvBody returned in one call (bounded by the read buffer). */
  readonly readBuffer = new Uint8Array(16 * 1024);
  /** Extra step run after the H3 connections are pumped (tests add their own). */
  step: (() => void) | null = null;
  private readonly writing: Writing[] = [];

  constructor(private readonly options: H3PairOptions = {}) {
    const pair = options.pair ?? {};
    this.sim = makePair({
      seed: 7,
      ...pair,
      client: (c) => {
        c.setApplicationProtos(['h3']);
        pair.client?.(c);
      },
      server: (c) => {
        c.setApplicationProtos(['h3']);
        pair.server?.(c);
      },
    });
    this.sim.addApp(() => this.pump());
  }

  /** Client H3Connection (after the handshake). */
  get c(): H3Connection {
    if (this.client === null) throw new Error('no client H3Connection');
    return this.client;
  }

  /** Server H3Connection (after the handshake). */
  get s(): H3Connection {
    if (this.server === null) throw new Error('no server H3Connection');
    return this.server;
  }

  /** Runs the QUIC handshake and lets the H3 streams open. */
  handshake(): this {
    handshake(this.sim);
    this.sim.runFor(50);
    return this;
  }

  /** Runs until `until` holds. */
  run(until: () => boolean, what: string, maxTime = 60_000): void {
    this.sim.run({ until, what, maxTime });
  }

  /** Client: sends a request with an optional body and trailers; returns its stream ID. */
  send(headers: FieldLine[], body?: Uint8Array, trailers?: FieldLine[]): number {
    const noBody = (body === undefined || body.length === 0) && trailers === undefined;
    const id = this.c.sendRequest(headers, noBody);
    this.atClient.set(id, newReceived());
    if (!noBody)
      this.writing.push({
        h3: this.c,
        id,
        body: body ?? new Uint8Array(0),
        offset: 0,
        trailers: trailers ?? null,
      });
    this.writeBodies();
    return id;
  }

  /** The client's record of the response on `id`. */
  response(id: number): Received {
    const r = this.atClient.get(id);
    if (r === undefined) throw new Error(`no response record for stream ${id}`);
    return r;
  }

  private pump(): void {
    const sim = this.sim;
    if (this.client === null && !this.options.rawClient && sim.client.conn !== null) {
      this.client = new H3Connection(sim.client.conn, {
        role: 'client',
        tracer: sim.client.tracer,
        ...this.options.client,
      });
    }
    if (this.server === null && !this.options.rawServer && sim.server.conn !== null) {
      this.server = new H3Connection(sim.server.conn, {
        role: 'server',
        tracer: sim.server.tracer,
        ...this.options.server,
      });
    }
    if (this.client !== null) this.drain(this.client, this.clientEvents, this.atClient);
    if (this.server !== null) this.drain(this.server, this.serverEvents, this.atServer);
    this.writeBodies();
    this.step?.();
  }

  private drain(h3: H3Connection, log: H3Event[], records: Map<number, Received>): void {
    for (let e = h3.poll(this.sim.now); e !== null; e = h3.poll(this.sim.now)) {
      log.push(e);
      if (!('streamId' in e)) continue;
      let r = records.get(e.streamId);
      if (r === undefined) records.set(e.streamId, (r = newReceived()));
      switch (e.kind) {
        case 'headers': {
          // After a request, or after a final (non-1xx) response, a header section is the trailers.
          const trailers = h3.isClient ? r.headers.some(isFinalResponse) : r.headers.length > 0;
          if (trailers) r.trailers = e.headers;
          else r.headers.push(e.headers);
          r.headersFin = e.fin;
          break;
        }
        case 'data':
          for (
            let n = h3.recvBody(e.streamId, this.readBuffer);
            n > 0;
            n = h3.recvBody(e.streamId, this.readBuffer)
          ) {
            r.bodyHash.update(this.readBuffer.subarray(0, n));
            r.bodyLength += n;
          }
          break;
        case 'finished':
          r.finished = true;
          r.digest = r.bodyHash.copy().digest('hex');
          if (!h3.isClient) this.reply(h3, e.streamId, r);
          break;
        case 'reset':
          r.reset = { code: e.code, local: e.local };
          break;
      }
    }
  }

  private reply(h3: H3Connection, id: number, r: Received): void {
    const reply = this.options.respond
      ? this.options.respond(r, id)
      : { headers: [[':status', '200']] as FieldLine[] };
    if (reply === null) return;
    const body = reply.body ?? new Uint8Array(0);
    const noBody = body.length === 0 && reply.trailers === undefined;
    h3.sendResponse(id, reply.headers, noBody);
    if (!noBody) this.writing.push({ h3, id, body, offset: 0, trailers: reply.trailers ?? null });
  }

  private writeBodies(): void {
    let k = 0;
    for (const w of this.writing) {
      if (w.h3.isClosed) continue;
      try {
        if (w.offset < w.body.length) {
          w.offset += w.h3.sendBody(w.id, w.body.subarray(w.offset), w.trailers === null);
          if (w.offset < w.body.length) {
            this.writing[k++] = w;
            continue;
          }
        }
        if (w.trailers !== null) w.h3.sendHeaders(w.id, w.trailers, true);
      } catch (e) {
        if (!(e instanceof H3StreamError)) throw e; // stopped or reset by the peer: give up on it
      }
    }
    this.writing.length = k;
  }
}

function isFinalResponse(headers: FieldLine[]): boolean {
  const status = headers.find(([name]) => name === ':status');
  return status !== undefined && Number(status[1]) >= 200;
}

/** Bytes of a unidirectional stream header followed by a SETTINGS frame (a control stream). */
export function controlStreamBytes(settings: [number, number][] = []): Uint8Array {
  const w = new Writer(new Uint8Array(256));
  w.varint(H3StreamType.CONTROL);
  writeSettingsFrame(w, settings);
  return w.written().slice();
}

/** A HEADERS frame with `headers` QPACK-encoded statically (no dynamic table), for raw peers. */
export function headersFrame(headers: FieldLine[], streamId = 0): Uint8Array {
  const { fieldSection } = new QpackEncoder().encodeFieldSection(streamId, headers);
  const w = new Writer(new Uint8Array(fieldSection.length + 16));
  writeHeadersFrame(w, fieldSection);
  return w.written().slice();
}

/** A DATA frame carrying `body`. */
export function dataFrame(body: Uint8Array): Uint8Array {
  const w = new Writer(new Uint8Array(body.length + 16));
  writeFrameHeader(w, H3FrameType.DATA, body.length);
  w.bytes(body);
  return w.written().slice();
}

/** The application error of the CONNECTION_CLOSE `conn` received, or null. */
export function closeCode(conn: Connection | null): number | null {
  const e = conn?.peerError() ?? null;
  return e !== null && e.isApp ? e.code : null;
}

/** The STOP_SENDING / RESET_STREAM frames `side` sent for `streamId`, as [frame type, error code]. */
export function streamAborts(
  sim: Sim<Connection>,
  side: 'client' | 'server',
  streamId: number,
): [string, number][] {
  const tracer = sim.endpoint(side).tracer;
  if (tracer === undefined) throw new Error('no tracer');
  const out: [string, number][] = [];
  for (const e of tracer.events('quic:packet_sent'))
    for (const f of e.frames ?? [])
      if ((f.frame_type === 'stop_sending' || f.frame_type === 'reset_stream') && f.stream_id === streamId)
        out.push([f.frame_type, f.error_code ?? -1]);
  return out;
}
