/**
 * Request streams (RFC 9114 §4.1, §6.1): for each client-initiated bidirectional stream, the
 * frame reader (stream-reader.ts) and message state (stream-state.ts) of what is received, and
 * the framing of what is sent. Bodies are never buffered here: `recvBody` reads DATA payload from
 * QUIC into the caller's buffer, and `sendBody` hands the caller's bytes to QUIC after a DATA frame
 * header sized to what QUIC accepts now, keeping the frame consistent when it accepts less.
 */
import { Writer } from '../wire/buffer.ts';
import { H3Error, H3ErrorCode } from './errors.ts';
import { H3FrameType, frameHeaderLength, writeDataFrameHeader, writeHeadersFrame } from './frames.ts';
import { checkRequest, checkResponse, checkTrailers } from './message.ts';
import { Outbox } from './outbox.ts';
import type { StreamSink } from './outbox.ts';
import type { FieldLine, QpackDecoder, UnblockedSection } from './qpack/decoder.ts';
import { fieldSectionSize } from './qpack/encoder.ts';
import type { QpackEncoder } from './qpack/encoder.ts';
import { qlogFields, qlogUnknownFrame } from './qlog.ts';
import type { H3Settings } from './settings.ts';
import { MessageState } from './stream-state.ts';
import { RequestStreamReader } from './stream-reader.ts';
import { streamErrorOf } from './transport.ts';
import type { H3Transport } from './transport.ts';
import type { QlogEventMap, QlogEventName } from '../trace/events.ts';
import type { H3Event } from './connection.ts';

/** Why a stream call cannot proceed: no stream credit yet, the peer stopped it, GOAWAY, or closed. */
export type H3StreamErrorKind = 'blocked' | 'stopped' | 'goaway' | 'closed';

/** A send that cannot be done now (a caller's mistake is a RangeError instead). */
export class H3StreamError extends Error {
  override readonly name = 'H3StreamError';
  constructor(
    readonly streamId: number,
    readonly kind: H3StreamErrorKind,
    message: string,
    /** The peer's STOP_SENDING code for 'stopped'. */
    readonly code: number | null = null,
  ) {
    super(message);
  }
}

/** What request streams need of their connection. */
export interface RequestHost {
  readonly quic: H3Transport;
  readonly isClient: boolean;
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  readonly localSettings: Readonly<H3Settings>;
  readonly goawayReceived: number | null;
  readonly goawaySent: number | null;
  readonly tracing: boolean;
  /** Set when the QPACK decoder may have decoder-stream bytes to send. */
  decoderOutput: boolean;
  queue(e: H3Event): number;
  pendingEvent(seq: number): H3Event | null;
  trace<N extends QlogEventName>(name: N, data: QlogEventMap[N]): void;
  sendEncoderStream(bytes: Uint8Array): void;
  start(): boolean;
  checkFieldSectionSize(size: number): void;
}

/** One request stream. */
export interface RequestStream {
  readonly id: number;
  readonly reader: RequestStreamReader;
  readonly msg: MessageState;
  readonly sink: StreamSink;
  readonly out: Outbox;
  /** Nothing more will be read: the end was read, the stream was reset, or we stopped reading. */
  recvDone: boolean;
  /** A HEADERS frame waits for QPACK encoder-stream inserts (RFC 9204 §2.2.1). */
  blocked: boolean;
  /** A 'data' event was returned and recvBody has not drained the stream since. */
  armed: boolean;
  /** Sequence number of the last 'headers' event, -1 once something else followed it. */
  headersSeq: number;
  /** What we may send next: the header section, body (and trailers), or only the end. */
  sendPhase: 'headers' | 'body' | 'trailers';
  /** The application ended the stream (or it was stopped): nothing more may be sent. */
  finQueued: boolean;
  /** Our FIN went to QUIC, or the stream was reset. */
  sendDone: boolean;
  /** Payload bytes of our current DATA frame still to be handed to QUIC. */
  dataRemaining: number;
  /** The peer's STOP_SENDING code, once a send failed on it. */
  stopCode: number | null;
}

type Progress = 'data' | 'wait' | 'stop';

const EMPTY = new Uint8Array(0);

/** The request streams of one HTTP/3 connection. */
export class RequestStreams {
  private readonly streams = new Map<number, RequestStream>();
  private readonly pendingOut = new Set<number>();
  private readonly unblocked: number[] = [];
  private readonly headerBuf = new Uint8Array(16);
  private nextRequestId = 0;
  /** Server: the lowest request stream ID above every one seen (RFC 9114 §5.2 GOAWAY default). */
  nextPeerRequest = 0;
  /** Remember finished streams until QUIC forgets them (see `allDelivered`); set by a graceful shutdown. */
  trackLingering = false;
  private readonly lingering = new Set<number>();

  constructor(
    private readonly host: RequestHost,
    private readonly scratch: Uint8Array,
  ) {}

  /** Number of request streams held. */
  get size(): number {
    return this.streams.size;
  }

  /** Processes a readable request stream. */
  onReadable(id: number): void {
    const st = this.streams.get(id) ?? (this.host.isClient ? null : this.accept(id));
    // A client reads only its own requests: a readable stream it does not hold is one it is done with.
    if (st !== null) this.pump(st);
  }

  /** Reads body bytes into `out` (see H3Connection.recvBody). */
  recvBody(id: number, out: Uint8Array): number {
    const st = this.streams.get(id);
    if (st === undefined || st.recvDone || st.blocked) return 0;
    let n = 0;
    try {
      while (n < out.length) {
        if (st.reader.dataRemaining === 0 && this.advance(st) !== 'data') break;
        const k = st.reader.readData(n === 0 ? out : out.subarray(n));
        if (k === 0) break;
        n += k;
      }
    } catch (e) {
      if (!this.onStreamFailure(st, e)) throw e;
    }
    if (n < out.length) st.armed = false; // drained: the next bytes raise a new 'data' event
    return n;
  }

  /** Client: a new request (see H3Connection.sendRequest). */
  sendRequest(headers: FieldLine[], fin: boolean): number {
    const host = this.host;
    if (!host.start()) throw new H3StreamError(-1, 'blocked', 'the QUIC connection is not established yet');
    const id = this.nextRequestId;
    // RFC 9114 §5.2: no new requests at or above the peer's GOAWAY.
    if (host.goawayReceived !== null && id >= host.goawayReceived)
      throw new H3StreamError(id, 'goaway', `the server sent GOAWAY ${host.goawayReceived}`);
    const info = checkRequest(headers);
    if (typeof info === 'string') throw new RangeError(`invalid request: ${info}`);
    host.checkFieldSectionSize(fieldSectionSize(headers));
    if (host.quic.streamCapacity(id) === 0)
      throw new H3StreamError(
        id,
        'blocked',
        `request stream ${id} cannot be opened now (stream limit or flow control)`,
      );
    const st = this.create(id, new MessageState(false, info.method));
    this.nextRequestId += 4;
    if (host.tracing)
      host.trace('http3:stream_type_set', { initiator: 'local', stream_id: id, stream_type: 'request' });
    st.sendPhase = 'body';
    this.writeHeaders(st, headers, fin);
    return id;
  }

  /** Server: a response header section (see H3Connection.sendResponse). */
  sendResponse(id: number, headers: FieldLine[], fin: boolean): void {
    const st = this.sendable(id);
    if (st.sendPhase !== 'headers') throw new RangeError(`a final response was already sent on stream ${id}`);
    const info = checkResponse(headers);
    if (typeof info === 'string') throw new RangeError(`invalid response: ${info}`);
    if (info.status < 200 && fin) throw new RangeError('an interim response cannot end the stream'); // §4.1
    this.host.checkFieldSectionSize(fieldSectionSize(headers));
    if (info.status >= 200) st.sendPhase = 'body';
    this.writeHeaders(st, headers, fin);
  }

  /** The response (server, when none was sent) or the trailers (see H3Connection.sendHeaders). */
  sendHeaders(id: number, headers: FieldLine[], fin: boolean): void {
    const st = this.sendable(id);
    if (st.sendPhase === 'headers') return this.sendResponse(id, headers, fin);
    if (st.sendPhase === 'trailers') throw new RangeError(`trailers were already sent on stream ${id}`);
    const bad = checkTrailers(headers);
    if (bad !== null) throw new RangeError(`invalid trailers: ${bad}`);
    if (st.dataRemaining > 0)
      throw new H3StreamError(
        id,
        'blocked',
        `a DATA frame on stream ${id} is incomplete: send the rest of it first`,
      );
    this.host.checkFieldSectionSize(fieldSectionSize(headers));
    st.sendPhase = 'trailers';
    this.writeHeaders(st, headers, fin);
  }

  /** Body bytes in DATA frames (see H3Connection.sendBody). */
  sendBody(id: number, data: Uint8Array, fin: boolean): number {
    const st = this.sendable(id);
    if (st.sendPhase === 'trailers' && data.length === 0 && fin) {
      st.finQueued = true;
      this.send(st, EMPTY, true);
      return 0;
    }
    if (st.sendPhase !== 'body')
      throw new RangeError(
        st.sendPhase === 'headers'
          ? `send the response on stream ${id} first`
          : `no DATA after trailers (stream ${id})`,
      );
    try {
      return this.writeBody(st, data, fin);
    } catch (e) {
      throw this.sendFailure(st, e);
    }
  }

  /** Abandons stream `id` in both directions with `code` (RFC 9114 §4.1.1). */
  cancel(id: number, code: number): void {
    const st = this.streams.get(id);
    if (st !== undefined) this.abort(st, code);
  }

  /** Server, after GOAWAY `goaway`: rejects the requests at or above it (RFC 9114 §5.2). */
  rejectFrom(goaway: number): void {
    for (const st of [...this.streams.values()]) {
      if (st.id < goaway) continue;
      this.abort(st, H3ErrorCode.H3_REQUEST_REJECTED);
      this.host.queue({
        kind: 'reset',
        streamId: st.id,
        code: H3ErrorCode.H3_REQUEST_REJECTED,
        local: true,
        reason: 'GOAWAY',
      });
    }
  }

  /** A field section the QPACK encoder stream unblocked. */
  onUnblocked(s: UnblockedSection): void {
    const st = this.streams.get(s.streamId);
    if (st === undefined || !st.blocked) return;
    st.blocked = false;
    if ('error' in s) {
      this.streamError(st, s.error.code, s.error.reason);
      return;
    }
    try {
      this.deliverHeaders(st, s.headers);
    } catch (e) {
      if (!this.onStreamFailure(st, e)) throw e;
      return;
    }
    this.unblocked.push(st.id);
  }

  /** Continues reading the streams that were unblocked. */
  advanceUnblocked(): void {
    while (this.unblocked.length > 0) {
      const st = this.streams.get(this.unblocked.shift() as number);
      if (st !== undefined) this.pump(st);
    }
  }

  /** Retries what QUIC did not accept before. */
  flush(): void {
    for (const id of this.pendingOut) {
      const st = this.streams.get(id);
      if (st === undefined) {
        this.pendingOut.delete(id);
        continue;
      }
      let done: boolean;
      try {
        done = st.out.flush(st.sink);
      } catch (e) {
        const err = this.sendFailure(st, e);
        if (err instanceof H3StreamError && err.kind === 'stopped') continue; // the peer stopped it
        throw e;
      }
      this.afterSend(st, done);
    }
  }

  /** Forgets every stream (the connection is closed). */
  clear(): void {
    this.streams.clear();
    this.pendingOut.clear();
    this.unblocked.length = 0;
    this.lingering.clear();
  }

  // ---- receiving ----

  private create(id: number, msg: MessageState): RequestStream {
    const quic = this.host.quic;
    const reader = new RequestStreamReader((out) => quic.streamRecv(id, out), {
      isClient: this.host.isClient,
      // An encoded section is rarely much larger than the decoded size SETTINGS limits (§4.2.2).
      maxHeadersLength: Math.min(2 * this.host.localSettings.maxFieldSectionSize + 1024, 1 << 24),
      scratch: this.scratch,
    });
    const st: RequestStream = {
      id,
      reader,
      msg,
      sink: (data, fin) => quic.streamSend(id, data, fin),
      out: new Outbox(),
      recvDone: false,
      blocked: false,
      armed: false,
      headersSeq: -1,
      sendPhase: 'headers',
      finQueued: false,
      sendDone: false,
      dataRemaining: 0,
      stopCode: null,
    };
    this.streams.set(id, st);
    return st;
  }

  /** Server: a new request stream from the client, or null when it is rejected (§5.2). */
  private accept(id: number): RequestStream | null {
    const host = this.host;
    if (id >= this.nextPeerRequest) this.nextPeerRequest = id + 4;
    if (host.goawaySent !== null && id >= host.goawaySent) {
      // §5.2: requests at or above our GOAWAY are rejected without processing.
      host.quic.streamShutdown(id, 'read', H3ErrorCode.H3_REQUEST_REJECTED);
      host.quic.streamShutdown(id, 'write', H3ErrorCode.H3_REQUEST_REJECTED);
      return null;
    }
    if (host.tracing)
      host.trace('http3:stream_type_set', { initiator: 'remote', stream_id: id, stream_type: 'request' });
    return this.create(id, new MessageState(true));
  }

  private pump(st: RequestStream): void {
    let r: Progress;
    try {
      r = this.advance(st);
    } catch (e) {
      if (!this.onStreamFailure(st, e)) throw e;
      return;
    }
    if (r === 'data' && !st.armed) {
      st.armed = true;
      st.headersSeq = -1;
      this.host.queue({ kind: 'data', streamId: st.id });
    }
  }

  /** Reads frames until DATA payload is next, the source is dry, or the stream is done or blocked. */
  private advance(st: RequestStream): Progress {
    const host = this.host;
    for (;;) {
      if (st.recvDone || st.blocked) return 'stop';
      if (st.reader.dataRemaining > 0) return 'data';
      const item = st.reader.next();
      if (item === null) return 'wait';
      switch (item.type) {
        case 'data':
          st.msg.onData(item.length);
          if (host.tracing)
            host.trace('http3:frame_parsed', {
              stream_id: st.id,
              frame: { frame_type: 'data', raw: { payload_length: item.length } },
            });
          break;
        case 'unknown':
          if (host.tracing)
            host.trace('http3:frame_parsed', {
              stream_id: st.id,
              frame: qlogUnknownFrame(item.frameType, item.length),
            });
          break;
        case 'headers': {
          host.decoderOutput = true; // a Section Acknowledgment may follow (RFC 9204 §4.4.1)
          const r = host.decoder.decodeFieldSection(st.id, item.fieldSection);
          if ('blocked' in r) {
            st.blocked = true;
            return 'stop';
          }
          this.deliverHeaders(st, r.headers);
          break;
        }
        case 'end': {
          st.msg.onEnd();
          st.recvDone = true;
          const last = st.headersSeq >= 0 ? host.pendingEvent(st.headersSeq) : null;
          if (last !== null && last.kind === 'headers') last.fin = true;
          host.queue({ kind: 'finished', streamId: st.id });
          this.maybeCollect(st);
          return 'stop';
        }
      }
    }
  }

  private deliverHeaders(st: RequestStream, headers: FieldLine[]): void {
    const host = this.host;
    if (host.tracing)
      host.trace('http3:frame_parsed', {
        stream_id: st.id,
        frame: { frame_type: 'headers', headers: qlogFields(headers) },
      });
    st.msg.onHeaders(headers);
    st.headersSeq = host.queue({ kind: 'headers', streamId: st.id, headers, fin: false });
  }

  /** Handles a stream-level failure (our stream error, the peer's reset); false for anything else. */
  private onStreamFailure(st: RequestStream, e: unknown): boolean {
    if (e instanceof H3Error && e.scope === 'stream') {
      this.streamError(st, e.code, e.reason);
      return true;
    }
    const se = streamErrorOf(e);
    if (se === null || se.kind !== 'reset') return false;
    // RESET_STREAM from the peer; RFC 9204 §2.2.2.2: cancel what the decoder may hold for it.
    st.recvDone = true;
    st.blocked = false;
    this.host.decoder.cancelStream(st.id);
    this.host.decoderOutput = true;
    this.host.queue({ kind: 'reset', streamId: st.id, code: se.code ?? 0, local: false, reason: '' });
    this.maybeCollect(st);
    return true;
  }

  /** RFC 9114 §8: a stream error aborts reading and resets sending with `code`. */
  private streamError(st: RequestStream, code: number, reason: string): void {
    this.abort(st, code);
    this.host.queue({ kind: 'reset', streamId: st.id, code, local: true, reason });
  }

  private abort(st: RequestStream, code: number): void {
    const quic = this.host.quic;
    st.finQueued = true;
    st.blocked = false;
    if (!st.recvDone) {
      st.recvDone = true;
      this.host.decoder.cancelStream(st.id); // RFC 9204 §2.2.2.2
      this.host.decoderOutput = true;
      quic.streamShutdown(st.id, 'read', code);
    }
    if (!st.sendDone) {
      st.sendDone = true;
      quic.streamShutdown(st.id, 'write', code);
    }
    st.out.clear();
    this.maybeCollect(st);
  }

  private maybeCollect(st: RequestStream): void {
    if (!st.recvDone || !st.sendDone) return;
    this.streams.delete(st.id);
    this.pendingOut.delete(st.id);
    if (this.trackLingering) this.lingering.add(st.id);
  }

  /**
   * Whether QUIC has forgotten every stream we finished since `trackLingering` was set: all their
   * data was acknowledged, so closing the connection now loses nothing (a CONNECTION_CLOSE
   * abandons unacknowledged stream data, RFC 9000 §10.2). Core's Connection reports a forgotten
   * stream by refusing it as 'stream_closed'.
   */
  allDelivered(): boolean {
    for (const id of this.lingering) {
      try {
        this.host.quic.streamCapacity(id);
        return false;
      } catch (e) {
        if (streamErrorOf(e)?.kind !== 'stream_closed') throw e;
        this.lingering.delete(id);
      }
    }
    return true;
  }

  // ---- sending ----

  private sendable(id: number): RequestStream {
    const st = this.streams.get(id);
    if (st === undefined) throw new RangeError(`no open request stream ${id}`);
    if (st.stopCode !== null)
      throw new H3StreamError(id, 'stopped', `the peer stopped stream ${id}`, st.stopCode);
    if (st.finQueued) throw new RangeError(`stream ${id} is already finished for sending`);
    return st;
  }

  private writeHeaders(st: RequestStream, headers: FieldLine[], fin: boolean): void {
    const host = this.host;
    const { fieldSection, encoderStream } = host.encoder.encodeFieldSection(st.id, headers);
    host.sendEncoderStream(encoderStream); // RFC 9204 §2.1.2: inserts go ahead of the references
    const frame = new Uint8Array(
      frameHeaderLength(H3FrameType.HEADERS, fieldSection.length) + fieldSection.length,
    );
    writeHeadersFrame(new Writer(frame), fieldSection);
    if (host.tracing)
      host.trace('http3:frame_created', {
        stream_id: st.id,
        frame: {
          frame_type: 'headers',
          headers: qlogFields(headers),
          raw: { payload_length: fieldSection.length },
        },
      });
    if (fin) st.finQueued = true;
    this.send(st, frame, fin);
  }

  private send(st: RequestStream, bytes: Uint8Array, fin: boolean): void {
    let done: boolean;
    try {
      done = st.out.send(st.sink, bytes, fin);
    } catch (e) {
      throw this.sendFailure(st, e);
    }
    this.afterSend(st, done);
  }

  private afterSend(st: RequestStream, done: boolean): void {
    if (!done) {
      this.pendingOut.add(st.id);
      return;
    }
    this.pendingOut.delete(st.id);
    if (st.finQueued && !st.sendDone) {
      st.sendDone = true;
      this.maybeCollect(st);
    }
  }

  /** DATA frames sized to QUIC's current capacity; the body itself is passed through, not copied. */
  private writeBody(st: RequestStream, data: Uint8Array, fin: boolean): number {
    const host = this.host;
    const quic = host.quic;
    const id = st.id;
    if (st.out.pending) {
      const done = st.out.flush(st.sink);
      this.afterSend(st, done);
      if (!done) return 0;
    }
    let sent = 0;
    for (;;) {
      if (st.dataRemaining > 0) {
        // Continue the DATA frame whose header is out (QUIC took less than announced before).
        const n = Math.min(st.dataRemaining, data.length - sent);
        if (n === 0) break;
        const k = quic.streamSend(
          id,
          sent === 0 && n === data.length ? data : data.subarray(sent, sent + n),
          false,
        );
        sent += k;
        st.dataRemaining -= k;
        if (k < n) return sent;
        continue;
      }
      const rest = data.length - sent;
      if (rest === 0) break;
      const capacity = quic.streamCapacity(id);
      const length = Math.min(rest, capacity - frameHeaderLength(H3FrameType.DATA, Math.min(rest, capacity)));
      if (length <= 0) {
        quic.streamSend(id, EMPTY, false); // no credit: raises 'stopped' if the peer sent STOP_SENDING
        return sent;
      }
      const w = new Writer(this.headerBuf);
      writeDataFrameHeader(w, length); // RFC 9114 §7.2.1
      const header = w.written();
      if (host.tracing)
        host.trace('http3:frame_created', {
          stream_id: id,
          frame: { frame_type: 'data', raw: { payload_length: length } },
        });
      const k = quic.streamSend(id, header, false);
      st.dataRemaining = length;
      if (k < header.length) {
        st.out.push(header.slice(k));
        this.pendingOut.add(id);
        return sent;
      }
    }
    if (fin && st.dataRemaining === 0) {
      st.finQueued = true;
      this.afterSend(st, st.out.send(st.sink, EMPTY, true));
    }
    return sent;
  }

  /** A send failed: the peer's STOP_SENDING becomes an H3StreamError; other errors pass through. */
  private sendFailure(st: RequestStream, e: unknown): unknown {
    const se = streamErrorOf(e);
    if (se !== null && (se.kind === 'stopped' || se.kind === 'reset')) {
      st.stopCode = se.code ?? 0;
      st.finQueued = true;
      st.sendDone = true;
      st.out.clear();
      this.pendingOut.delete(st.id);
      this.maybeCollect(st);
      return new H3StreamError(st.id, 'stopped', `the peer stopped stream ${st.id}`, st.stopCode);
    }
    if (se !== null && se.kind === 'connection_closed')
      return new H3StreamError(st.id, 'closed', 'the connection is closed');
    return e;
  }
}
