/**
 * The HTTP/3 connection (RFC 9114) over a QUIC connection, quiche-style and sans-IO: the caller
 * pumps it with `poll()` after feeding datagrams to QUIC, and reads events. Requests and responses
 * go out with `sendRequest` / `sendResponse` / `sendHeaders` / `sendBody`; bodies come in through
 * `recvBody`, straight from QUIC into the caller's buffer (request.ts). Connection errors close
 * QUIC with the H3 code (`close(true, code, reason)`); stream errors reset only their stream.
 *
 *   const h3 = new H3Connection(conn, { role: 'client' });
 *   const id = h3.sendRequest([[':method', 'GET'], [':scheme', 'https'], [':authority', host], [':path', '/']], true);
 *   for (let e = h3.poll(now); e !== null; e = h3.poll(now)) if (e.kind === 'data') h3.recvBody(e.streamId, buf);
 */
import type { QlogEventMap, QlogEventName } from '../trace/events.ts';
import type { HTTP3StreamType } from '../trace/h3-events.ts';
import type { Tracer } from '../trace/tracer.ts';
import { Writer } from '../wire/buffer.ts';
import { H3Error, H3ErrorCode } from './errors.ts';
import {
  H3StreamType,
  frameHeaderLength,
  reservedCodepoint,
  settingsFrameLength,
  writeFrameHeader,
  writeGoawayFrame,
  writeSettingsFrame,
  writeStreamType,
} from './frames.ts';
import { Outbox } from './outbox.ts';
import { QpackDecoder } from './qpack/decoder.ts';
import type { FieldLine, UnblockedSection } from './qpack/decoder.ts';
import { QpackEncoder } from './qpack/encoder.ts';
import { H3StreamError, RequestStreams } from './request.ts';
import {
  DEFAULT_SETTINGS,
  peerSettings,
  qlogParametersSet,
  qlogSettings,
  settingsToSend,
} from './settings.ts';
import type { H3Settings } from './settings.ts';
import { streamErrorOf } from './transport.ts';
import type { H3Transport, TransportErrorInfo } from './transport.ts';
import { UniStreams } from './uni-streams.ts';

/** How the connection ended: our close (`local`) or the peer's, with the QUIC error. */
export interface H3CloseInfo extends TransportErrorInfo {
  local: boolean;
}

/** What `poll()` reports. */
export type H3Event =
  /** A header section: request or response (interim ones included), or trailers. `fin`: nothing follows. */
  | { kind: 'headers'; streamId: number; headers: FieldLine[]; fin: boolean }
  /** Body bytes are available: call `recvBody` until it returns 0 (no new 'data' event before). */
  | { kind: 'data'; streamId: number }
  /** The message on the stream is complete (its end was read). */
  | { kind: 'finished'; streamId: number }
  /** The stream was reset by the peer, or by us for a stream error (`local`), with `code`. */
  | { kind: 'reset'; streamId: number; code: number; local: boolean; reason: string }
  /** The peer's GOAWAY (RFC 9114 §5.2): a stream ID from a server, a push ID from a client. */
  | { kind: 'goaway'; id: number }
  /** The peer's SETTINGS (RFC 9114 §7.2.4), identifier → value. */
  | { kind: 'settings'; settings: ReadonlyMap<number, number> }
  /** The connection is closed; no event follows. */
  | { kind: 'closed'; error: H3CloseInfo };

/** Options of an H3Connection. */
export interface H3ConnectionOptions {
  role: 'client' | 'server';
  /** Our SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2); default 64 KiB. */
  maxFieldSectionSize?: number;
  /** Our SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §5); default 4096 (0 turns the dynamic table off). */
  qpackMaxTableCapacity?: number;
  /** Our SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5); default 16. */
  qpackBlockedStreams?: number;
  /** Send a reserved setting and a reserved frame type (RFC 9114 §7.2.4.1, §7.2.8); default true. */
  grease?: boolean;
  /** Receives the http3 qlog events (parameters_set, stream_type_set, frame_created, frame_parsed). */
  tracer?: Tracer;
}

let instances = 0;

/** An HTTP/3 connection over a QUIC connection (client or server). */
export class H3Connection {
  readonly isClient: boolean;
  /** Our QPACK encoder (its dynamic table follows the peer's SETTINGS) and decoder. */
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  /** Our settings, and the peer's (defaults until its SETTINGS arrive, RFC 9114 §7.2.4.2). */
  readonly localSettings: Readonly<H3Settings>;
  peerSettings: Readonly<H3Settings> = DEFAULT_SETTINGS;
  /** The peer's SETTINGS arrived. */
  peerSettingsReceived = false;
  /** The ID of the last GOAWAY received / sent, or null. */
  goawayReceived: number | null = null;
  goawaySent: number | null = null;
  /** The time given to the last `poll(now)`: the time of trace events. */
  now = 0;
  /** @internal The QPACK decoder may have decoder-stream bytes to send. */
  decoderOutput = false;

  private readonly tracer: Tracer | null;
  private readonly grease: number | null;
  private started = false;
  private closeInfo: H3CloseInfo | null = null;
  private events: H3Event[] = [];
  private eventHead = 0;
  private queued = 0;
  private taken = 0;
  private readonly uniOut = new Map<number, Outbox>();
  private readonly uniPending = new Set<number>();
  private controlId = -1;
  private encoderId = -1;
  private decoderId = -1;
  private readonly requests: RequestStreams;
  private readonly uni: UniStreams;
  private graceful = false;

  constructor(
    readonly quic: H3Transport,
    options: H3ConnectionOptions,
  ) {
    if (options.role !== 'client' && options.role !== 'server')
      throw new RangeError('role must be client or server');
    this.isClient = options.role === 'client';
    const local: H3Settings = {
      maxFieldSectionSize: options.maxFieldSectionSize ?? 64 * 1024,
      qpackMaxTableCapacity: options.qpackMaxTableCapacity ?? 4096,
      qpackBlockedStreams: options.qpackBlockedStreams ?? 16,
    };
    for (const [k, v] of Object.entries(local))
      if (!Number.isInteger(v) || v < 0 || v > 2 ** 62 - 1) throw new RangeError(`invalid ${k}: ${v}`);
    this.localSettings = Object.freeze(local);
    this.encoder = new QpackEncoder();
    this.decoder = new QpackDecoder({
      maxTableCapacity: local.qpackMaxTableCapacity,
      maxBlockedStreams: local.qpackBlockedStreams,
      maxFieldSectionSize: local.maxFieldSectionSize,
    });
    this.tracer = options.tracer?.enabled ? options.tracer : null;
    this.grease = options.grease === false ? null : ((++instances * 0x9e3779b1) >>> 0) % 0x10000;
    const scratch = new Uint8Array(16 * 1024);
    this.requests = new RequestStreams(this, scratch);
    this.uni = new UniStreams(quic, this, scratch);
    this.start();
  }

  // ---- events ----

  /**
   * Processes what QUIC has received and returns the next event, or null when there is none now.
   * Call it after each `recv` / timer (until null), with the current time for the trace.
   */
  poll(now?: number): H3Event | null {
    if (now !== undefined) this.now = now;
    if (this.eventHead === this.events.length && this.closeInfo === null) this.pump();
    if (this.eventHead === this.events.length) return null;
    const e = this.events[this.eventHead++];
    this.taken++;
    if (this.eventHead === this.events.length) {
      this.events = [];
      this.eventHead = 0;
    }
    return e;
  }

  /** Whether the connection is closed (the 'closed' event is queued or was returned). */
  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /**
   * Reads body bytes of `streamId` into `out` straight from QUIC; returns the bytes read, 0 when
   * none are available now (then wait for the next 'data' event) or the stream is done.
   */
  recvBody(streamId: number, out: Uint8Array): number {
    if (this.closeInfo !== null) return 0;
    try {
      const n = this.requests.recvBody(streamId, out);
      this.flushDecoder();
      return n;
    } catch (e) {
      this.fail(e);
      return 0;
    }
  }

  // ---- sending ----

  /**
   * Client: sends a request header section on a new request stream (RFC 9114 §4.1), ending the
   * stream when `fin`. Returns the stream ID. Raises RangeError for an invalid request (§4.3.1)
   * and H3StreamError when it cannot be sent now ('blocked': no stream credit; 'goaway').
   */
  sendRequest(headers: FieldLine[], fin: boolean): number {
    if (!this.isClient) throw new RangeError('only a client sends requests');
    this.checkUsable();
    return this.requests.sendRequest(headers, fin);
  }

  /** Server: sends a response header section (interim 1xx, then final) on request stream `streamId`. */
  sendResponse(streamId: number, headers: FieldLine[], fin: boolean): void {
    if (this.isClient) throw new RangeError('only a server sends responses');
    this.checkUsable();
    this.requests.sendResponse(streamId, headers, fin);
  }

  /** Sends a header section: the response (server) if none was sent yet, else the trailers (§4.1). */
  sendHeaders(streamId: number, headers: FieldLine[], fin: boolean): void {
    this.checkUsable();
    this.requests.sendHeaders(streamId, headers, fin);
  }

  /**
   * Sends body bytes in DATA frames, as many as QUIC accepts now; returns that count (0 when
   * blocked: call again when the stream is writable). The body goes to QUIC without being copied
   * into a bigger buffer. `fin` ends the stream once all of `data` is accepted. Raises
   * H3StreamError('stopped') after the peer's STOP_SENDING (with H3_NO_ERROR: a server that
   * answered without needing the rest of the request, RFC 9114 §4.1).
   */
  sendBody(streamId: number, data: Uint8Array, fin: boolean): number {
    this.checkUsable();
    return this.requests.sendBody(streamId, data, fin);
  }

  /** Cancels a request (RFC 9114 §4.1.1): STOP_SENDING and RESET_STREAM with `code`. */
  cancel(streamId: number, code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    if (this.closeInfo !== null) return;
    this.requests.cancel(streamId, code);
  }

  /**
   * Sends GOAWAY (RFC 9114 §5.2, §7.2.6). Server: `id` is the first request stream ID it will not
   * process (default: the next one it has not seen); streams at or above it are rejected.
   * Client: a push ID (default 0: we accept no push). IDs never increase.
   */
  sendGoaway(id?: number): void {
    this.checkUsable();
    if (!this.started) throw new H3StreamError(-1, 'blocked', 'the QUIC connection is not established yet');
    const goaway = id ?? (this.isClient ? 0 : this.requests.nextPeerRequest);
    if (!Number.isInteger(goaway) || goaway < 0 || goaway > 2 ** 62 - 1)
      throw new RangeError(`invalid GOAWAY ID ${goaway}`);
    if (!this.isClient && goaway % 4 !== 0)
      throw new RangeError('a server GOAWAY carries a client bidirectional stream ID');
    if (this.goawaySent !== null && goaway > this.goawaySent)
      throw new RangeError('GOAWAY IDs must not increase'); // §5.2
    const frame = new Uint8Array(3 + 8);
    const w = new Writer(frame);
    writeGoawayFrame(w, goaway);
    this.goawaySent = goaway;
    if (this.tracer)
      this.trace('http3:frame_created', {
        stream_id: this.controlId,
        frame: { frame_type: 'goaway', id: goaway },
      });
    this.sendUni(this.controlId, w.written());
    if (!this.isClient) this.requests.rejectFrom(goaway); // §5.2: cancel what will not be processed
  }

  /** Graceful shutdown (RFC 9114 §5.2): GOAWAY now, then close with H3_NO_ERROR once no request is open. */
  shutdown(): void {
    if (this.closeInfo !== null) return;
    if (this.goawaySent === null) this.sendGoaway();
    this.graceful = true;
    this.requests.trackLingering = true;
    this.pump();
  }

  /** Closes the connection now (RFC 9114 §5.3) with an HTTP/3 error code (default H3_NO_ERROR). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    if (this.closeInfo !== null) return;
    this.quic.close(true, code, reason);
    this.setClosed({ local: true, isApp: true, code, reason });
  }

  // ---- internals shared with RequestStreams and UniStreams ----

  /** @internal Queues an event; returns its sequence number. */
  queue(e: H3Event): number {
    this.events.push(e);
    return this.queued++;
  }

  /** @internal The queued event with sequence number `seq`, if `poll` has not returned it yet. */
  pendingEvent(seq: number): H3Event | null {
    if (seq < this.taken || seq >= this.queued) return null;
    return this.events[this.eventHead + (seq - this.taken)];
  }

  /** @internal Emits a trace event (callers check `tracing` first). */
  trace<N extends QlogEventName>(name: N, data: QlogEventMap[N]): void {
    this.tracer?.event(this.now, name, data);
  }

  /** @internal Whether trace events are wanted. */
  get tracing(): boolean {
    return this.tracer !== null;
  }

  /** @internal Sends encoder-stream instructions (RFC 9204 §4.3). */
  sendEncoderStream(bytes: Uint8Array): void {
    if (bytes.length > 0) this.sendUni(this.encoderId, bytes);
  }

  /**
   * @internal Opens the H3 streams once QUIC is established, or at once for a client in 0-RTT
   * (RFC 9114 §7.2.4.2: it then complies with the default settings until the server's arrive);
   * false while it cannot.
   */
  start(): boolean {
    if (this.started) return true;
    if (this.closeInfo !== null) return false;
    if (!this.quic.isEstablished() && !(this.isClient && this.quic.isInEarlyData?.() === true)) return false;
    this.started = true;
    // Our first three unidirectional streams: control, QPACK encoder, QPACK decoder (§6.2).
    const base = this.isClient ? 2 : 3;
    this.controlId = base;
    this.encoderId = base + 4;
    this.decoderId = base + 8;
    const settings = settingsToSend(this.localSettings, this.grease);
    const g = this.grease;
    const greaseLength = g === null ? 0 : frameHeaderLength(reservedCodepoint(g), g % 4) + (g % 4);
    const w = new Writer(new Uint8Array(1 + settingsFrameLength(settings) + greaseLength));
    writeStreamType(w, H3StreamType.CONTROL);
    writeSettingsFrame(w, settings); // §6.2.1: SETTINGS first
    if (g !== null) {
      writeFrameHeader(w, reservedCodepoint(g), g % 4); // §7.2.8: a reserved frame type
      w.fill(g & 0xff, g % 4);
    }
    if (this.tracer) {
      this.trace('http3:parameters_set', qlogParametersSet(settings, 'local'));
      this.trace('http3:stream_type_set', { initiator: 'local', stream_id: base, stream_type: 'control' });
      this.trace('http3:frame_created', {
        stream_id: base,
        frame: { frame_type: 'settings', settings: qlogSettings(settings) },
      });
      if (g !== null) {
        const frame = {
          frame_type: 'reserved' as const,
          frame_type_bytes: reservedCodepoint(g),
          raw: { payload_length: g % 4 },
        };
        this.trace('http3:frame_created', { stream_id: base, frame });
      }
      this.trace('http3:stream_type_set', {
        initiator: 'local',
        stream_id: base + 4,
        stream_type: 'qpack_encode',
      });
      this.trace('http3:stream_type_set', {
        initiator: 'local',
        stream_id: base + 8,
        stream_type: 'qpack_decode',
      });
    }
    this.sendUni(this.controlId, w.written());
    this.sendUni(this.encoderId, Uint8Array.of(H3StreamType.QPACK_ENCODER));
    this.sendUni(this.decoderId, Uint8Array.of(H3StreamType.QPACK_DECODER));
    return true;
  }

  /** @internal UniStreamsHost: a peer stream's type. */
  onStreamType(streamId: number, type: HTTP3StreamType, typeBytes: number): void {
    if (!this.tracer) return;
    const known = type !== 'unknown' && type !== 'reserved';
    this.trace('http3:stream_type_set', {
      initiator: 'remote',
      stream_id: streamId,
      stream_type: type,
      ...(known ? {} : { stream_type_bytes: typeBytes }),
    });
  }

  /** @internal UniStreamsHost: a control frame was parsed. */
  onFrameParsed(streamId: number, frame: QlogEventMap['http3:frame_parsed']['frame']): void {
    if (this.tracer) this.trace('http3:frame_parsed', { stream_id: streamId, frame });
  }

  /** @internal UniStreamsHost: the peer's SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5). */
  onSettings(settings: Map<number, number>): void {
    const peer = peerSettings(settings);
    this.peerSettings = Object.freeze(peer);
    this.peerSettingsReceived = true;
    // RFC 9114 §7.2.4.2: the encoder used the defaults (no dynamic table) until now.
    this.encoder.applyPeerSettings(peer.qpackMaxTableCapacity, peer.qpackBlockedStreams);
    if (this.tracer) this.trace('http3:parameters_set', qlogParametersSet(settings, 'remote'));
    this.queue({ kind: 'settings', settings });
  }

  /** @internal UniStreamsHost: the peer's GOAWAY (RFC 9114 §5.2, §7.2.6). */
  onGoaway(id: number): void {
    if (this.isClient && id % 4 !== 0)
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY with ${id}, not a client bidirectional stream ID`);
    if (this.goawayReceived !== null && id > this.goawayReceived)
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY ID ${id} above the previous ${this.goawayReceived}`);
    this.goawayReceived = id;
    this.queue({ kind: 'goaway', id });
  }

  /** @internal UniStreamsHost: field sections the encoder stream unblocked (RFC 9204 §2.2.1). */
  onUnblocked(sections: UnblockedSection[]): void {
    for (const s of sections) this.requests.onUnblocked(s);
  }

  /** @internal RFC 9114 §4.2.2: do not send a field section over the peer's SETTINGS_MAX_FIELD_SECTION_SIZE. */
  checkFieldSectionSize(size: number): void {
    if (size > this.peerSettings.maxFieldSectionSize)
      throw new RangeError(
        `field section of ${size} bytes over the peer's limit of ${this.peerSettings.maxFieldSectionSize}`,
      );
  }

  /** @internal A failure while processing: connection errors close QUIC; transport closure ends us. */
  fail(e: unknown): void {
    if (e instanceof H3Error) {
      // RFC 9114 §8: a connection error closes QUIC with the H3 code.
      if (this.closeInfo !== null) return;
      this.quic.close(true, e.code, e.reason);
      this.setClosed({ local: true, isApp: true, code: e.code, reason: e.reason });
      return;
    }
    const se = streamErrorOf(e);
    if (se !== null && se.kind === 'connection_closed') {
      if (!this.checkTransportClosed())
        this.setClosed({ local: true, isApp: false, code: 0, reason: 'connection closed' });
      return;
    }
    throw e;
  }

  // ---- private ----

  private checkUsable(): void {
    if (this.closeInfo !== null) throw new H3StreamError(-1, 'closed', 'the connection is closed');
  }

  private pump(): void {
    try {
      if (this.checkTransportClosed() || !this.start()) return;
      this.flushOut();
      const quic = this.quic;
      for (const id of quic.readable()) {
        const kind = id & 3;
        if (kind === 0) this.requests.onReadable(id);
        else if (kind === 1) {
          // RFC 9114 §6.1: HTTP/3 has no server-initiated bidirectional streams.
          if (this.isClient)
            throw new H3Error(
              H3ErrorCode.H3_STREAM_CREATION_ERROR,
              `server-initiated bidirectional stream ${id}`,
            );
        } else if (kind === (this.isClient ? 3 : 2)) this.uni.process(id);
        if (this.closeInfo !== null) return;
      }
      this.requests.advanceUnblocked();
      this.flushDecoder();
      this.flushOut();
      // §5.2: once every accepted request is done and its data delivered, close with H3_NO_ERROR.
      if (
        this.graceful &&
        this.requests.size === 0 &&
        this.uniPending.size === 0 &&
        this.requests.allDelivered()
      )
        this.close(H3ErrorCode.H3_NO_ERROR, 'shutdown');
    } catch (e) {
      this.fail(e);
    }
  }

  private checkTransportClosed(): boolean {
    if (this.closeInfo !== null) return true;
    const q = this.quic;
    const peer = q.peerError();
    if (peer === null && q.isClosed?.() !== true && q.isDraining?.() !== true) return false;
    const info = peer ?? q.localError?.() ?? { isApp: false, code: 0, reason: '' };
    this.setClosed({ local: peer === null, isApp: info.isApp, code: info.code, reason: info.reason });
    return true;
  }

  private setClosed(info: H3CloseInfo): void {
    this.closeInfo = info;
    this.uniPending.clear();
    this.requests.clear();
    this.queue({ kind: 'closed', error: info });
  }

  private sendUni(id: number, bytes: Uint8Array): void {
    let out = this.uniOut.get(id);
    if (out === undefined) this.uniOut.set(id, (out = new Outbox()));
    if (!out.send((data, fin) => this.quic.streamSend(id, data, fin), bytes, false)) this.uniPending.add(id);
  }

  private flushDecoder(): void {
    if (!this.started || !this.decoderOutput) return;
    this.decoderOutput = false;
    const bytes = this.decoder.takeDecoderStream(); // RFC 9204 §4.4
    if (bytes.length > 0) this.sendUni(this.decoderId, bytes);
  }

  private flushOut(): void {
    for (const id of this.uniPending) {
      const out = this.uniOut.get(id) as Outbox;
      if (out.flush((data, fin) => this.quic.streamSend(id, data, fin))) this.uniPending.delete(id);
    }
    this.requests.flush();
  }
}
