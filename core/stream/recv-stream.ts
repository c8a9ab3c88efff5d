/**
 * The receiving part of a stream (RFC 9000 §3.2): reassembly, stream flow control, final size
 * checks (§4.5) and the state machine Recv → Size Known → Data Recvd → Data Read, or → Reset Recvd
 * → Reset Read. Memory is bounded by the flow control window: only bytes in [read offset,
 * advertised limit) are ever held.
 */
import { MAX_VARINT } from '../wire/buffer.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import { FrameType } from '../wire/frame-types.ts';
import { RecvFlowControl } from './flow-control.ts';
import { RecvBuffer } from './recv-buffer.ts';
import { StreamResetError } from './state.ts';
import type { RecvState, StreamObserver } from './state.ts';
import { streamTypeOf } from './stream-id.ts';

/** Construction options of a `RecvStream`. */
export interface RecvStreamOptions {
  /** Initial window: the limit we advertised for this stream (initial_max_stream_data_*). */
  window: number;
  /** Largest window auto-tuning may reach; default `window` (no growth). */
  maxWindow?: number;
  /** Connection-level receive flow control shared by all streams; none when absent. */
  connection?: RecvFlowControl | null;
  /** Most out-of-order fragments held (RFC 9000 §21.7); default max(1024, maxWindow / 128). */
  maxFragments?: number;
  /** Told of each state transition. */
  observer?: StreamObserver | null;
}

/** What `read` returns: bytes copied, and whether the end of the stream was reached. */
export interface ReadResult {
  length: number;
  fin: boolean;
}

/** What `readChunk` returns: bytes without a copy, their offset, and whether the stream ended there. */
export interface RecvChunk {
  offset: number;
  data: Uint8Array;
  fin: boolean;
}

/** Counters for the diagnostic UI. `received` counts new bytes stored; `duplicate` bytes already held or read. */
export interface RecvStreamStats {
  received: number;
  duplicate: number;
  read: number;
  discarded: number;
}

const EMPTY = new Uint8Array(0);

function finalSizeError(reason: string, frameType: number): QuicError {
  return new QuicError(TransportError.FINAL_SIZE_ERROR, reason, frameType);
}

/** The receiving part of a stream (RFC 9000 §3.2). */
export class RecvStream {
  /** RFC 9000 §3.2 state. */
  state: RecvState = 'receive';
  /** Stream flow control: `max` is the limit advertised for this stream. */
  readonly fc: RecvFlowControl;
  /** The final size, once known (FIN or RESET_STREAM, §4.5). */
  finalSize: number | null = null;
  /** The peer's RESET_STREAM code, once reset. */
  resetCode: number | null = null;
  /** Our STOP_SENDING code once the application stopped reading (§3.5). */
  stopCode: number | null = null;
  /** A STOP_SENDING is due (see `pollStopSending`). */
  stopPending = false;
  readonly stats: RecvStreamStats = { received: 0, duplicate: 0, read: 0, discarded: 0 };

  private readonly conn: RecvFlowControl | null;
  private readonly observer: StreamObserver | null;
  private readonly buf: RecvBuffer;
  /** Largest offset received (§4.1: what counts toward flow control). */
  private highest = 0;
  private finDelivered = false;

  constructor(
    readonly id: number,
    opts: RecvStreamOptions,
  ) {
    const maxWindow = opts.maxWindow ?? opts.window;
    this.fc = new RecvFlowControl(opts.window, maxWindow);
    this.conn = opts.connection ?? null;
    this.observer = opts.observer ?? null;
    this.buf = new RecvBuffer(opts.maxFragments ?? Math.max(1024, Math.ceil(maxWindow / 128)));
    this.observer?.({ streamId: id, streamType: streamTypeOf(id), streamSide: 'receiving', new: 'receive' });
  }

  // ---- frames from the peer ----

  /**
   * A STREAM frame (RFC 9000 §19.8). Checks the final size rules (§4.5: data beyond the final
   * size, a changed final size, a FIN below data already received → FINAL_SIZE_ERROR) and flow
   * control (beyond our stream or connection limit → FLOW_CONTROL_ERROR), then stores the new
   * bytes (copied) unless the stream is reset, stopped or complete.
   */
  onData(offset: number, data: Uint8Array, fin: boolean): void {
    const ft = FrameType.STREAM;
    const end = offset + data.length;
    if (end > MAX_VARINT)
      throw new QuicError(TransportError.FLOW_CONTROL_ERROR, `stream ${this.id}: offset beyond 2^62-1`, ft); // §19.8
    if (this.finalSize !== null) {
      if (end > this.finalSize)
        throw finalSizeError(`stream ${this.id}: data up to ${end} beyond final size ${this.finalSize}`, ft);
      if (fin && end !== this.finalSize)
        throw finalSizeError(`stream ${this.id}: final size changed from ${this.finalSize} to ${end}`, ft);
    } else if (fin && end < this.highest) {
      throw finalSizeError(`stream ${this.id}: FIN at ${end} below data received up to ${this.highest}`, ft);
    }
    this.advance(end, ft);
    const st = this.state;
    if (fin && this.finalSize === null) {
      this.finalSize = end;
      if (st === 'receive') this.to('size_known', 'remote');
    }
    if (st !== 'receive' && st !== 'size_known') return; // complete or reset: discard (§3.2)
    if (this.stopCode !== null) {
      this.discardUnread(); // §3.5: still counted for flow control, then dropped
      if (this.finalSize !== null) this.to('data_read', 'local');
      return;
    }
    const added = this.buf.insert(offset, data, ft);
    this.stats.received += added;
    this.stats.duplicate += data.length - added;
    if (this.finalSize !== null && this.buf.readOffset + this.buf.bytes === this.finalSize)
      this.to('data_received', 'remote'); // §3.2 "Recv All Data"
  }

  /**
   * RESET_STREAM (RFC 9000 §19.4). The final size must match a known one and cover the data
   * received (§4.5, FINAL_SIZE_ERROR) and fit our limits (FLOW_CONTROL_ERROR). In Recv or Size Known
   * the stream moves to Reset Recvd and its buffer is dropped; the bytes never read are released to
   * connection flow control. In Data Recvd the reset is suppressed (§3.2 allows it): the data stays
   * readable.
   */
  onReset(errorCode: number, finalSize: number): void {
    const ft = FrameType.RESET_STREAM;
    if (this.finalSize !== null && finalSize !== this.finalSize)
      throw finalSizeError(
        `stream ${this.id}: final size changed from ${this.finalSize} to ${finalSize}`,
        ft,
      );
    if (finalSize < this.highest)
      throw finalSizeError(
        `stream ${this.id}: final size ${finalSize} below data received up to ${this.highest}`,
        ft,
      );
    this.advance(finalSize, ft);
    this.finalSize = finalSize;
    const st = this.state;
    if (st !== 'receive' && st !== 'size_known') return;
    this.resetCode = errorCode;
    this.stopPending = false;
    this.discardUnread();
    this.to('reset_received', 'remote');
    if (this.stopCode !== null) this.to('reset_read', 'local'); // nobody is reading: nothing to deliver
  }

  // ---- application side ----

  /**
   * Copies contiguous bytes into `out`. Returns null when nothing is readable (yet); `fin` is true
   * once the whole stream has been read (Data Recvd → Data Read, §3.2). Throws `StreamResetError`
   * once the peer reset the stream (Reset Recvd → Reset Read).
   */
  read(out: Uint8Array): ReadResult | null {
    if (this.state === 'reset_received') {
      this.to('reset_read', 'local');
      throw new StreamResetError(this.id, this.resetCode as number);
    }
    if (this.state === 'reset_read') throw new StreamResetError(this.id, this.resetCode as number);
    if (this.stopCode !== null) return null;
    const n = this.buf.readInto(out, 0, out.length);
    return this.afterRead(n);
  }

  /** Like `read` but returns the next contiguous chunk itself (no copy), up to `max` bytes. */
  readChunk(max = Infinity): RecvChunk | null {
    if (this.state === 'reset_received' || this.state === 'reset_read') {
      if (this.state === 'reset_received') this.to('reset_read', 'local');
      throw new StreamResetError(this.id, this.resetCode as number);
    }
    if (this.stopCode !== null) return null;
    const offset = this.buf.readOffset;
    const data = this.buf.readChunk(max) ?? EMPTY;
    const r = this.afterRead(data.length);
    return r === null ? null : { offset, data, fin: r.fin };
  }

  /**
   * The application stops reading (RFC 9000 §3.5): buffered and future data is discarded but still
   * counted for flow control (its credit is released to the connection). A STOP_SENDING becomes due
   * if the stream is in Recv or Size Known. Returns whether it did.
   */
  stopSending(errorCode: number): boolean {
    if (this.stopCode !== null) return false;
    const st = this.state;
    if (st === 'data_read' || st === 'reset_read') return false;
    this.stopCode = errorCode;
    this.discardUnread();
    if (st === 'reset_received') {
      this.to('reset_read', 'local');
      return false;
    }
    if (st === 'data_received') {
      this.to('data_read', 'local');
      return false;
    }
    this.stopPending = true;
    if (this.finalSize !== null) this.to('data_read', 'local'); // Size Known: everything is accounted for
    return true;
  }

  /** The STOP_SENDING code, if one is due (clears it). */
  pollStopSending(): number | null {
    if (!this.stopPending) return null;
    this.stopPending = false;
    return this.stopCode;
  }

  /** A STOP_SENDING was lost: due again while the stream is in Recv or Size Known (§3.5). */
  onStopSendingLost(): void {
    if (this.stopCode !== null && this.resetCode === null && this.finalSize === null) this.stopPending = true;
  }

  // ---- queries ----

  /** Whether `read` would return something or throw: bytes, the end of the stream, or a reset. */
  get isReadable(): boolean {
    if (this.stopCode !== null) return false;
    if (this.state === 'reset_received') return true;
    if (this.buf.readable) return true;
    return this.state === 'data_received' && !this.finDelivered;
  }

  /** Whether a MAX_STREAM_DATA should be sent: still in Recv (§3.3), reading, and half the window consumed. */
  get wantsWindowUpdate(): boolean {
    return this.state === 'receive' && this.stopCode === null && this.fc.shouldUpdate();
  }

  /** Whether the part reached a terminal state (Data Read or Reset Read). */
  get isTerminal(): boolean {
    return this.state === 'data_read' || this.state === 'reset_read';
  }

  /** Bytes held in the reassembly buffer (never more than the window). */
  get bufferedBytes(): number {
    return this.buf.bytes;
  }

  /** Out-of-order fragments held. */
  get fragments(): number {
    return this.buf.fragments;
  }

  /** Offset of the next byte the application will read. */
  get readOffset(): number {
    return this.buf.readOffset;
  }

  /** Largest offset received. */
  get highestOffset(): number {
    return this.highest;
  }

  /** Whether nothing has been received yet (RFC 9000 §3.4 Table 2 note *1: "idle"). */
  get isIdle(): boolean {
    return this.highest === 0 && this.finalSize === null && this.state === 'receive';
  }

  // ---- internals ----

  private to(next: RecvState, trigger?: 'local' | 'remote'): void {
    const old = this.state;
    this.state = next;
    this.observer?.({
      streamId: this.id,
      streamType: streamTypeOf(this.id),
      streamSide: 'receiving',
      old,
      new: next,
      trigger,
    });
  }

  /** Counts credit up to `end` at stream and connection level (§4.1: the highest offset received). */
  private advance(end: number, frameType: number): void {
    if (end <= this.highest) return;
    const delta = end - this.highest;
    this.fc.receive(delta, `stream ${this.id}`, frameType);
    this.conn?.receive(delta, 'connection', frameType);
    this.highest = end;
  }

  /** Drops unread data up to the highest offset (or final size) and releases its credit. */
  private discardUnread(): void {
    const to = this.finalSize ?? this.highest;
    const n = to - this.buf.readOffset;
    if (n <= 0) return;
    this.buf.discard(to);
    this.stats.discarded += n;
    this.fc.consume(n);
    this.conn?.consume(n);
  }

  private afterRead(n: number): ReadResult | null {
    if (n > 0) {
      this.stats.read += n;
      this.fc.consume(n);
      this.conn?.consume(n);
    }
    const fin = this.finalSize !== null && this.buf.readOffset === this.finalSize;
    if (fin && this.state === 'data_received') {
      if (!this.finDelivered) {
        this.finDelivered = true;
        this.to('data_read', 'local'); // §3.2 "App Read All Data"
        return { length: n, fin: true };
      }
    }
    return n > 0 ? { length: n, fin: false } : null;
  }
}
