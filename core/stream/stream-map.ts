/**
 * StreamMap: every stream of a connection, the stream limits of both endpoints (RFC 9000 §4.6),
 * connection-level flow control (§4.1), the checks each stream frame must pass (§19.4-§19.13),
 * round-robin send scheduling, and the control frames the connection owes the peer.
 *
 * The Connection drives it:
 * - frames in: `onStreamFrame`, `onResetStream`, `onStopSending`, `onMaxData`, `onMaxStreamData`,
 *   `onMaxStreams`, `onDataBlocked`, `onStreamDataBlocked`, `onStreamsBlocked`;
 * - STREAM frames out: `nextSendable()` then `emit()` (or `emitRange()` + `stream.send.copyRange()`),
 *   and `onStreamAcked` / `onStreamLost` from loss detection;
 * - control frames out: `pollControlFrame(now, rtt)` until null (each fits in
 *   `MAX_CONTROL_FRAME_SIZE` bytes), then `onControlAcked` / `onControlLost` (§13.3 retransmission);
 * - application: `open`, `write`, `read`, `reset`, `stopSending`, `readable`, `writable`, `accept`.
 * Streams are forgotten once both parts are terminal and the application has read everything; frames
 * for forgotten streams are ignored.
 */
import { QuicError, TransportError } from '../wire/errors.ts';
import { FrameType } from '../wire/frame-types.ts';
import { RecvFlowControl, SendFlowControl } from './flow-control.ts';
import { RecvStream } from './recv-stream.ts';
import type { ReadResult, RecvChunk } from './recv-stream.ts';
import { DEFAULT_SEND_BUFFER, SendStream } from './send-stream.ts';
import type { SendChunk, SendRange } from './send-stream.ts';
import { StreamStoppedError } from './state.ts';
import type { StreamObserver } from './state.ts';
import { MAX_CONTROL_FRAME_SIZE } from './stream-map-types.ts';
import type {
  StreamControlFrame,
  StreamLimits,
  StreamMapOptions,
  StreamMapStats,
} from './stream-map-types.ts';
import { StreamTypeLimits } from './stream-limits.ts';
import { Stream, StreamQueue } from './stream.ts';
import {
  canReceive,
  canSend,
  isLocallyInitiated,
  isUnidirectional,
  streamIdOf,
  streamIndex,
} from './stream-id.ts';
import type { Role, StreamType } from './stream-id.ts';

export { MAX_CONTROL_FRAME_SIZE };
export type { StreamControlFrame, StreamLimits, StreamMapOptions, StreamMapStats };

/** The largest Maximum Streams value (RFC 9000 §19.11, §19.14). */
const MAX_STREAMS = 2 ** 60;
const TYPES: readonly StreamType[] = ['bidirectional', 'unidirectional'];

function stateError(reason: string, frameType: number): QuicError {
  return new QuicError(TransportError.STREAM_STATE_ERROR, reason, frameType);
}

/** All the streams of one connection. */
export class StreamMap {
  readonly role: Role;
  /** Connection send credit (the peer's MAX_DATA). */
  readonly connSend: SendFlowControl;
  /** Connection receive window (our MAX_DATA). */
  readonly connRecv: RecvFlowControl;
  readonly stats: StreamMapStats = { openedLocal: 0, openedPeer: 0, closed: 0 };

  private readonly local: StreamLimits;
  private peer: StreamLimits | null = null;
  private readonly maxStreamWindow: number;
  private readonly sendBufferLimit: number;
  private readonly observer: StreamObserver | null;
  private readonly streams = new Map<number, Stream>();
  /** Stream counts and limits: index 0 bidirectional, 1 unidirectional. */
  private readonly limits: readonly [StreamTypeLimits, StreamTypeLimits];
  private maxDataPending = false;
  private readonly pendingReset = new Set<number>();
  private readonly pendingStop = new Set<number>();
  private readonly pendingMaxStreamData = new Set<number>();
  private readonly pendingBlocked = new Set<number>();
  private readonly urgent = new StreamQueue();
  private readonly active = new StreamQueue();
  private readonly readableSet = new Set<number>();
  private readonly writableSet = new Set<number>();
  private accepted: number[] = [];
  private acceptHead = 0;

  constructor(opts: StreamMapOptions) {
    this.role = opts.role;
    this.local = { ...opts.local };
    const l = this.local;
    this.maxStreamWindow = Math.max(
      opts.maxStreamWindow ?? 16 << 20,
      l.initialMaxStreamDataBidiLocal,
      l.initialMaxStreamDataBidiRemote,
      l.initialMaxStreamDataUni,
    );
    this.connRecv = new RecvFlowControl(
      l.initialMaxData,
      Math.max(opts.maxConnectionWindow ?? 24 << 20, l.initialMaxData),
    );
    this.connSend = new SendFlowControl(0);
    this.sendBufferLimit = opts.sendBufferLimit ?? DEFAULT_SEND_BUFFER;
    this.observer = opts.observer ?? null;
    this.limits = [
      new StreamTypeLimits(l.initialMaxStreamsBidi),
      new StreamTypeLimits(l.initialMaxStreamsUni),
    ];
    if (opts.peer) this.setPeerLimits(opts.peer);
  }

  /** Applies the peer's transport parameters; limits only ever grow (existing streams get the new credit). */
  setPeerLimits(peer: StreamLimits): void {
    this.peer = { ...peer };
    this.connSend.onMax(peer.initialMaxData);
    this.limits[0].raisePeerMax(peer.initialMaxStreamsBidi);
    this.limits[1].raisePeerMax(peer.initialMaxStreamsUni);
    for (const s of this.streams.values()) {
      if (s.send !== null) {
        s.send.onMaxStreamData(this.sendCredit(s.id));
        this.refresh(s);
      }
    }
  }

  // ---- application side ----

  /**
   * Opens a local stream of `type` and returns its ID, or null when the peer's limit is reached
   * (a STREAMS_BLOCKED then becomes due, once per limit: §4.6, §19.14).
   */
  open(type: StreamType = 'bidirectional'): number | null {
    const index = this.limits[type === 'bidirectional' ? 0 : 1].open();
    if (index === null) return null;
    const id = streamIdOf(this.role, type, index);
    this.stats.openedLocal++;
    this.refresh(this.create(id, true));
    return id;
  }

  /** The ID the next `open(type)` would return (whether or not the limit allows it). */
  nextLocalId(type: StreamType = 'bidirectional'): number {
    return streamIdOf(this.role, type, this.limits[type === 'bidirectional' ? 0 : 1].opened);
  }

  /** How many more local streams of `type` the peer's limit allows now. */
  openable(type: StreamType = 'bidirectional'): number {
    const l = this.limits[type === 'bidirectional' ? 0 : 1];
    return Math.max(0, l.peerMax - l.opened);
  }

  /** The next stream the peer opened that the application has not accepted yet, or null. */
  accept(): number | null {
    if (this.acceptHead >= this.accepted.length) return null;
    const id = this.accepted[this.acceptHead++];
    if (this.acceptHead === this.accepted.length) {
      this.accepted = [];
      this.acceptHead = 0;
    }
    return id;
  }

  /** The stream with `id`, if it is held (not yet forgotten). */
  get(id: number): Stream | undefined {
    return this.streams.get(id);
  }

  /** Number of streams held. */
  get size(): number {
    return this.streams.size;
  }

  /** All held streams, in creation order. */
  values(): IterableIterator<Stream> {
    return this.streams.values();
  }

  /** Writes (a copy of) `data` to stream `id`; see `SendStream.write`. Returns the bytes accepted. */
  write(id: number, data: Uint8Array, fin = false): number {
    return this.doWrite(id, data, fin, false);
  }

  /** Writes `data` by reference (the caller must not modify it); see `SendStream.writeOwned`. */
  writeOwned(id: number, data: Uint8Array, fin = false): number {
    return this.doWrite(id, data, fin, true);
  }

  /** Reads from stream `id` into `out`; see `RecvStream.read` (throws StreamResetError after a reset). */
  read(id: number, out: Uint8Array): ReadResult | null {
    const s = this.appStream(id, 'read');
    try {
      return (s.recv as RecvStream).read(out);
    } finally {
      this.refresh(s);
    }
  }

  /** Reads the next contiguous chunk of stream `id` without copying; see `RecvStream.readChunk`. */
  readChunk(id: number, max = Infinity): RecvChunk | null {
    const s = this.appStream(id, 'read');
    try {
      return (s.recv as RecvStream).readChunk(max);
    } finally {
      this.refresh(s);
    }
  }

  /** Abandons sending on `id` (a RESET_STREAM becomes due, §3.1). Returns false if already terminal or reset. */
  reset(id: number, errorCode: number): boolean {
    const s = this.appStream(id, 'write');
    const r = (s.send as SendStream).reset(errorCode);
    this.refresh(s);
    return r;
  }

  /** Stops reading `id` (a STOP_SENDING becomes due in Recv / Size Known, §3.5). */
  stopSending(id: number, errorCode: number): boolean {
    const s = this.appStream(id, 'read');
    const r = (s.recv as RecvStream).stopSending(errorCode);
    this.refresh(s);
    return r;
  }

  /** IDs of streams with something to read: bytes, the end of the stream, or a reset to report. */
  readable(): number[] {
    return Array.from(this.readableSet);
  }

  /** IDs of streams that accept writes now, plus those stopped by the peer that the application was not told of yet. */
  writable(): number[] {
    return Array.from(this.writableSet);
  }

  // ---- frames from the peer ----

  /** STREAM (RFC 9000 §19.8). */
  onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean): void {
    const s = this.receivingPart(id, FrameType.STREAM, 'STREAM');
    if (s === null) return;
    (s.recv as RecvStream).onData(offset, data, fin);
    this.refresh(s);
  }

  /** RESET_STREAM (RFC 9000 §19.4). */
  onResetStream(id: number, errorCode: number, finalSize: number): void {
    const s = this.receivingPart(id, FrameType.RESET_STREAM, 'RESET_STREAM');
    if (s === null) return;
    (s.recv as RecvStream).onReset(errorCode, finalSize);
    this.refresh(s);
  }

  /** STREAM_DATA_BLOCKED (RFC 9000 §19.13): checked and creates the stream; otherwise informational. */
  onStreamDataBlocked(id: number, _limit: number): void {
    const s = this.receivingPart(id, FrameType.STREAM_DATA_BLOCKED, 'STREAM_DATA_BLOCKED');
    if (s !== null) this.refresh(s);
  }

  /** STOP_SENDING (RFC 9000 §19.5): resets our sending part with the peer's code (§3.5). */
  onStopSending(id: number, errorCode: number): void {
    const s = this.sendingPart(id, FrameType.STOP_SENDING, 'STOP_SENDING');
    if (s === null) return;
    (s.send as SendStream).onStopSending(errorCode);
    this.refresh(s);
  }

  /** MAX_STREAM_DATA (RFC 9000 §19.10). */
  onMaxStreamData(id: number, max: number): void {
    const s = this.sendingPart(id, FrameType.MAX_STREAM_DATA, 'MAX_STREAM_DATA');
    if (s === null) return;
    (s.send as SendStream).onMaxStreamData(max);
    this.refresh(s);
  }

  /** MAX_DATA (RFC 9000 §19.9); a limit that does not grow is ignored. */
  onMaxData(max: number): void {
    this.connSend.onMax(max);
  }

  /** MAX_STREAMS (RFC 9000 §19.11); above 2^60 is a FRAME_ENCODING_ERROR, a limit that does not grow is ignored. */
  onMaxStreams(type: StreamType, max: number): void {
    const ft = type === 'bidirectional' ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI;
    if (max > MAX_STREAMS)
      throw new QuicError(TransportError.FRAME_ENCODING_ERROR, `MAX_STREAMS ${max} exceeds 2^60`, ft);
    this.limits[type === 'bidirectional' ? 0 : 1].raisePeerMax(max);
  }

  /** DATA_BLOCKED (RFC 9000 §19.12): informational (our MAX_DATA is sent without waiting for it, §4.2). */
  onDataBlocked(_limit: number): void {}

  /** STREAMS_BLOCKED (RFC 9000 §19.14): above 2^60 is a STREAM_LIMIT_ERROR; prompts a pending MAX_STREAMS. */
  onStreamsBlocked(type: StreamType, limit: number): void {
    const ft = type === 'bidirectional' ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI;
    if (limit > MAX_STREAMS)
      throw new QuicError(TransportError.STREAM_LIMIT_ERROR, `STREAMS_BLOCKED ${limit} exceeds 2^60`, ft);
    this.limits[type === 'bidirectional' ? 0 : 1].onPeerBlocked();
  }

  // ---- sending STREAM frames ----

  /**
   * The stream whose turn it is to send: streams with lost data first, then streams with new data
   * in round-robin order (if there is connection credit; otherwise a DATA_BLOCKED becomes due).
   */
  nextSendable(): Stream | null {
    const u = this.urgent.front;
    if (u !== null) return u;
    const a = this.active.front;
    if (a === null) return null;
    if (this.connSend.available > 0) return a;
    this.connSend.markBlocked(); // RFC 9000 §4.1, §19.12
    return null;
  }

  /** Emits the next range of `stream` (see `SendStream.emit`) and moves it to the back of its queue. */
  emit(stream: Stream, maxLength: number): SendChunk | null {
    const c = (stream.send as SendStream).emit(maxLength);
    this.refresh(stream, c !== null);
    return c;
  }

  /** Like `emit` without the bytes: copy them with `stream.send.copyRange`. */
  emitRange(stream: Stream, maxLength: number): SendRange | null {
    const r = (stream.send as SendStream).emitRange(maxLength);
    this.refresh(stream, r !== null);
    return r;
  }

  /** A STREAM frame sent on `id` was acknowledged. */
  onStreamAcked(id: number, offset: number, length: number, fin: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || s.send === null) return;
    s.send.onAck(offset, length, fin);
    this.refresh(s);
  }

  /** A STREAM frame sent on `id` was declared lost. */
  onStreamLost(id: number, offset: number, length: number, fin: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || s.send === null) return;
    s.send.onLost(offset, length, fin);
    this.refresh(s);
  }

  // ---- control frames ----

  /** Whether `pollControlFrame` has something (cheap; for deciding to build a packet). */
  hasControlFrames(): boolean {
    return (
      this.pendingReset.size > 0 ||
      this.pendingStop.size > 0 ||
      this.maxDataPending ||
      this.connRecv.shouldUpdate() ||
      this.pendingMaxStreamData.size > 0 ||
      this.limits[0].maxStreamsPending ||
      this.limits[1].maxStreamsPending ||
      this.connSend.blockedPending ||
      this.pendingBlocked.size > 0 ||
      this.limits[0].blockedPending ||
      this.limits[1].blockedPending
    );
  }

  /**
   * The next control frame owed to the peer, or null. `now` and `rtt` (ms) drive window
   * auto-tuning. Window updates are computed when polled, so they carry the freshest limit.
   */
  pollControlFrame(now: number, rtt: number): StreamControlFrame | null {
    for (const id of this.pendingReset) {
      this.pendingReset.delete(id);
      const r = this.streams.get(id)?.send?.pollReset();
      if (r) return { type: 'reset_stream', streamId: id, errorCode: r.errorCode, finalSize: r.finalSize };
    }
    for (const id of this.pendingStop) {
      this.pendingStop.delete(id);
      const s = this.streams.get(id);
      const code = s?.recv?.pollStopSending() ?? null;
      if (code !== null) {
        this.maybeCollect(s as Stream);
        return { type: 'stop_sending', streamId: id, errorCode: code };
      }
    }
    const conn = this.connRecv;
    if (this.maxDataPending || conn.shouldUpdate()) {
      this.maxDataPending = false;
      return { type: 'max_data', maximum: conn.shouldUpdate() ? conn.update(now, rtt) : conn.max };
    }
    for (const id of this.pendingMaxStreamData) {
      this.pendingMaxStreamData.delete(id);
      const recv = this.streams.get(id)?.recv;
      if (!recv || recv.state !== 'receive' || recv.stopCode !== null) continue;
      let maximum = recv.fc.max;
      if (recv.fc.shouldUpdate()) {
        maximum = recv.fc.update(now, rtt);
        // Keep the connection window ahead of the stream windows it serves.
        conn.ensureWindow(recv.fc.window * 1.5);
      }
      return { type: 'max_stream_data', streamId: id, maximum };
    }
    for (let d = 0; d < 2; d++) {
      const maximum = this.limits[d].pollMaxStreams();
      if (maximum !== null) return { type: 'max_streams', streamType: TYPES[d], maximum };
    }
    const limit = this.connSend.pollBlocked();
    if (limit !== null) return { type: 'data_blocked', limit };
    for (const id of this.pendingBlocked) {
      this.pendingBlocked.delete(id);
      const l = this.streams.get(id)?.send?.pollBlocked() ?? null;
      if (l !== null) return { type: 'stream_data_blocked', streamId: id, limit: l };
    }
    for (let d = 0; d < 2; d++) {
      const l = this.limits[d].pollBlocked();
      if (l !== null) return { type: 'streams_blocked', streamType: TYPES[d], limit: l };
    }
    return null;
  }

  /** A control frame from `pollControlFrame` was acknowledged (RESET_STREAM: Reset Sent → Reset Recvd). */
  onControlAcked(f: StreamControlFrame): void {
    if (f.type !== 'reset_stream') return;
    const s = this.streams.get(f.streamId);
    if (s === undefined || s.send === null) return;
    s.send.onResetAcked();
    this.refresh(s);
  }

  /** A control frame was declared lost: queue it again if still current (RFC 9000 §13.3). */
  onControlLost(f: StreamControlFrame): void {
    switch (f.type) {
      case 'reset_stream': {
        const s = this.streams.get(f.streamId);
        s?.send?.onResetLost();
        if (s) this.refresh(s);
        return;
      }
      case 'stop_sending': {
        const s = this.streams.get(f.streamId);
        s?.recv?.onStopSendingLost();
        if (s) this.refresh(s);
        return;
      }
      case 'max_data':
        if (f.maximum === this.connRecv.max) this.maxDataPending = true;
        return;
      case 'max_stream_data': {
        const recv = this.streams.get(f.streamId)?.recv;
        if (recv && recv.state === 'receive' && recv.stopCode === null && f.maximum === recv.fc.max)
          this.pendingMaxStreamData.add(f.streamId);
        return;
      }
      case 'max_streams':
        this.limits[f.streamType === 'bidirectional' ? 0 : 1].onMaxStreamsLost(f.maximum);
        return;
      case 'data_blocked':
        this.connSend.onBlockedLost(f.limit);
        return;
      case 'stream_data_blocked': {
        const s = this.streams.get(f.streamId);
        s?.send?.onBlockedLost(f.limit);
        if (s) this.refresh(s);
        return;
      }
      case 'streams_blocked':
        this.limits[f.streamType === 'bidirectional' ? 0 : 1].onBlockedLost(f.limit);
        return;
    }
  }

  // ---- internals ----

  /** The peer's credit for our sending part of `id` (RFC 9000 §18.2: named from the peer's side). */
  private sendCredit(id: number): number {
    const p = this.peer;
    if (p === null) return 0;
    if (isUnidirectional(id)) return p.initialMaxStreamDataUni;
    return isLocallyInitiated(id, this.role)
      ? p.initialMaxStreamDataBidiRemote
      : p.initialMaxStreamDataBidiLocal;
  }

  /** Our initial window for the receiving part of `id`. */
  private recvWindow(id: number): number {
    const l = this.local;
    if (isUnidirectional(id)) return l.initialMaxStreamDataUni;
    return isLocallyInitiated(id, this.role)
      ? l.initialMaxStreamDataBidiLocal
      : l.initialMaxStreamDataBidiRemote;
  }

  private create(id: number, local: boolean): Stream {
    const observer = this.observer;
    const send = canSend(id, this.role)
      ? new SendStream(id, {
          maxStreamData: this.sendCredit(id),
          connection: this.connSend,
          bufferLimit: this.sendBufferLimit,
          observer,
        })
      : null;
    const recv = canReceive(id, this.role)
      ? new RecvStream(id, {
          window: this.recvWindow(id),
          maxWindow: this.maxStreamWindow,
          connection: this.connRecv,
          observer,
        })
      : null;
    const s = new Stream(id, local, send, recv);
    this.streams.set(id, s);
    return s;
  }

  /** The stream whose receiving part a STREAM, RESET_STREAM or STREAM_DATA_BLOCKED frame addresses. */
  private receivingPart(id: number, ft: number, name: string): Stream | null {
    if (isLocallyInitiated(id, this.role)) {
      // RFC 9000 §19.4, §19.8, §19.13: not on a send-only stream
      if (isUnidirectional(id)) throw stateError(`${name} on send-only stream ${id}`, ft);
      return this.localStream(id, ft, name);
    }
    return this.peerStream(id, ft);
  }

  /** The stream whose sending part a STOP_SENDING or MAX_STREAM_DATA frame addresses. */
  private sendingPart(id: number, ft: number, name: string): Stream | null {
    if (!isLocallyInitiated(id, this.role)) {
      // RFC 9000 §19.5, §19.10: not on a receive-only stream
      if (isUnidirectional(id)) throw stateError(`${name} on receive-only stream ${id}`, ft);
      return this.peerStream(id, ft);
    }
    return this.localStream(id, ft, name);
  }

  private localStream(id: number, ft: number, name: string): Stream | null {
    // RFC 9000 §19.4, §19.5, §19.8, §19.10: a locally initiated stream that has not yet been created
    if (streamIndex(id) >= this.limits[isUnidirectional(id) ? 1 : 0].opened)
      throw stateError(`${name} on stream ${id}, which we have not opened`, ft);
    return this.streams.get(id) ?? null; // forgotten: ignore
  }

  private peerStream(id: number, ft: number): Stream | null {
    const d = isUnidirectional(id) ? 1 : 0;
    const lim = this.limits[d];
    const index = streamIndex(id);
    if (index >= lim.localMax)
      throw new QuicError(
        TransportError.STREAM_LIMIT_ERROR, // RFC 9000 §4.6, §19.11
        `peer opened stream ${id} beyond its limit of ${lim.localMax} ${TYPES[d]} streams`,
        ft,
      );
    if (index < lim.peerOpened) return this.streams.get(id) ?? null; // forgotten: ignore
    // RFC 9000 §2.1, §3.2: opening a stream opens every lower-numbered stream of its type.
    const kind = id % 4;
    let s: Stream | null = null;
    for (let i = lim.peerOpened; i <= index; i++) {
      s = this.create(i * 4 + kind, false);
      this.accepted.push(s.id);
      this.stats.openedPeer++;
      if (i < index) this.refresh(s);
    }
    lim.peerOpenedUpTo(index);
    return s;
  }

  private appStream(id: number, op: 'read' | 'write'): Stream {
    const s = this.streams.get(id);
    if (s === undefined) throw new RangeError(`no stream ${id}`);
    if (op === 'read' ? s.recv === null : s.send === null)
      throw new RangeError(`stream ${id} cannot be ${op === 'read' ? 'read' : 'written'} by this endpoint`);
    return s;
  }

  private doWrite(id: number, data: Uint8Array, fin: boolean, owned: boolean): number {
    const s = this.appStream(id, 'write');
    const send = s.send as SendStream;
    try {
      return owned ? send.writeOwned(data, fin) : send.write(data, fin);
    } catch (e) {
      if (e instanceof StreamStoppedError) s.stopNotified = true;
      throw e;
    } finally {
      this.refresh(s);
    }
  }

  /** Brings the queues, the readable / writable sets and the pending frames up to date with `s`. */
  private refresh(s: Stream, toBack = false): void {
    const id = s.id;
    const send = s.send,
      recv = s.recv;
    if (send !== null) {
      if (send.resetPending) this.pendingReset.add(id);
      if (send.fc.blockedPending) this.pendingBlocked.add(id);
      const writable =
        send.capacity() > 0 || (send.isReset && send.stopSendingCode !== null && !s.stopNotified);
      if (writable) this.writableSet.add(id);
      else this.writableSet.delete(id);
      this.urgent.set(s.urgentNode, send.hasUrgent(), toBack);
      this.active.set(s.activeNode, send.hasNewData(), toBack);
    }
    if (recv !== null) {
      if (recv.isReadable) this.readableSet.add(id);
      else this.readableSet.delete(id);
      if (recv.stopPending) this.pendingStop.add(id);
      if (recv.wantsWindowUpdate) this.pendingMaxStreamData.add(id);
    }
    this.maybeCollect(s);
  }

  /** Forgets `s` once it is finished; a peer stream returns its credit (MAX_STREAMS, §4.6). */
  private maybeCollect(s: Stream): void {
    if (!s.isFinished || !this.streams.has(s.id)) return;
    const id = s.id;
    this.streams.delete(id);
    if (s.urgentNode.linked) this.urgent.remove(s.urgentNode);
    if (s.activeNode.linked) this.active.remove(s.activeNode);
    this.readableSet.delete(id);
    this.writableSet.delete(id);
    this.pendingMaxStreamData.delete(id);
    this.pendingBlocked.delete(id);
    this.stats.closed++;
    const o = this.observer;
    if (o !== null) {
      if (s.send !== null)
        o({ streamId: id, streamType: s.type, streamSide: 'sending', old: s.send.state, new: 'destroyed' });
      if (s.recv !== null)
        o({ streamId: id, streamType: s.type, streamSide: 'receiving', old: s.recv.state, new: 'destroyed' });
    }
    // Keep the peer's concurrency constant: one more stream for each one finished (§4.6).
    if (!s.local) this.limits[isUnidirectional(id) ? 1 : 0].peerStreamClosed();
  }
}
