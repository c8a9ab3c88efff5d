/**
 * The sending part of a stream (RFC 9000 §3.1): the application's bytes until the peer acknowledges
 * them, the ranges to (re)transmit, stream flow control, and the state machine
 * Ready → Send → Data Sent → Data Recvd, or → Reset Sent → Reset Recvd.
 *
 * Data is kept as a list of chunks with their stream offsets. `write` copies the accepted bytes
 * once into shared blocks (small writes coalesce); `writeOwned` keeps the caller's array by
 * reference instead. `emit` hands out subarrays of those chunks, copying only when a range spans
 * two chunks; `emitRange` + `copyRange` let a caller copy straight into a packet. Acknowledged
 * chunks are dropped from the front as soon as everything below them is acknowledged.
 */
import { SendFlowControl } from './flow-control.ts';
import { RangeSet } from './range-set.ts';
import { StreamStoppedError } from './state.ts';
import type { SendState, StreamObserver } from './state.ts';
import { streamTypeOf } from './stream-id.ts';

/** Default cap on bytes a sending part holds (written but not yet acknowledged). */
export const DEFAULT_SEND_BUFFER = 1 << 20;
/** Acknowledged ranges kept above the fully acknowledged prefix; beyond that the newest is forgotten and resent. */
export const MAX_SEND_ACK_RANGES = 512;
const MIN_BLOCK = 1024;
const MAX_BLOCK = 16384;
const EMPTY = new Uint8Array(0);

/** Construction options of a `SendStream`. */
export interface SendStreamOptions {
  /** The peer's initial limit for this stream (the matching initial_max_stream_data_* parameter). */
  maxStreamData: number;
  /** Connection-level credit shared by all streams (MAX_DATA); unlimited when absent. */
  connection?: SendFlowControl | null;
  /** Most bytes held at once (written but not yet acknowledged); default 1 MiB. */
  bufferLimit?: number;
  /** Told of each state transition. */
  observer?: StreamObserver | null;
}

/** A range chosen for a STREAM frame. `retransmit` is true for lost data sent again. */
export interface SendRange {
  offset: number;
  length: number;
  fin: boolean;
  retransmit: boolean;
}

/** A range chosen for a STREAM frame, with its bytes (a subarray of the send buffer when possible). */
export interface SendChunk extends SendRange {
  data: Uint8Array;
}

/** Counters for the diagnostic UI. `copied` counts bytes copied inside the stream (write + spanning emits). */
export interface SendStreamStats {
  written: number;
  sent: number;
  acknowledged: number;
  retransmitted: number;
  copied: number;
}

function chunk(offset: number, length: number, fin: boolean, retransmit: boolean): SendChunk {
  return { offset, length, fin, retransmit, data: EMPTY };
}

/** The sending part of a stream (RFC 9000 §3.1). */
export class SendStream {
  /** RFC 9000 §3.1 state. */
  state: SendState = 'ready';
  /** Stream flow control: the peer's MAX_STREAM_DATA (`max`) against the bytes written (`used`). */
  readonly fc: SendFlowControl;
  /** Most bytes held at once. */
  readonly bufferLimit: number;
  /** The application error code of the RESET_STREAM, once reset. */
  resetCode: number | null = null;
  /** The final size announced in RESET_STREAM (the largest offset sent, §4.5), once reset. */
  finalSize: number | null = null;
  /** The code of the peer's STOP_SENDING, if one arrived (§3.5). */
  stopSendingCode: number | null = null;
  /** A RESET_STREAM is due (see `pollReset`). */
  resetPending = false;
  readonly stats: SendStreamStats = { written: 0, sent: 0, acknowledged: 0, retransmitted: 0, copied: 0 };

  private readonly conn: SendFlowControl | null;
  private readonly observer: StreamObserver | null;
  /** End of the application's data. */
  private written = 0;
  /** Highest offset sent: new data starts here; also the flow control credit consumed (§4.5). */
  private sent = 0;
  /** Everything below is acknowledged and freed. */
  private acked = 0;
  private finWritten = false;
  private finSent = false;
  private finAcked = false;
  private finLost = false;
  /** Acknowledged ranges above `acked`. */
  private readonly ackedRanges = new RangeSet();
  /** Ranges declared lost and not acknowledged since: sent again before new data. */
  private readonly lost = new RangeSet();
  /** Chunk deque: chunks[i] holds stream bytes from starts[i]; entries before `head` are freed. */
  private chunks: Uint8Array[] = [];
  private starts: number[] = [];
  private head = 0;
  /** Index hint for the next lookup (sequential emission). */
  private cursor = 0;
  /** Block that small writes are copied into; the last chunk is a view of it when `tailIsBlock`. */
  private block: Uint8Array | null = null;
  private blockStart = 0;
  private blockUsed = 0;
  private tailIsBlock = false;
  private nextBlock = MIN_BLOCK;
  private readonly addLost = (s: number, e: number): void => {
    this.lost.add(s, e);
  };

  constructor(
    readonly id: number,
    opts: SendStreamOptions,
  ) {
    this.fc = new SendFlowControl(opts.maxStreamData);
    this.conn = opts.connection ?? null;
    this.bufferLimit = opts.bufferLimit ?? DEFAULT_SEND_BUFFER;
    this.observer = opts.observer ?? null;
    this.observer?.({ streamId: id, streamType: streamTypeOf(id), streamSide: 'sending', new: 'ready' });
  }

  // ---- application side ----

  /** Bytes `write` would accept now: bounded by the peer's stream credit and the local buffer cap. */
  capacity(): number {
    if ((this.state !== 'ready' && this.state !== 'send') || this.finWritten) return 0;
    return Math.max(0, Math.min(this.fc.available, this.bufferLimit - (this.written - this.acked)));
  }

  /**
   * Queues `data` (copied) and, if all of it fits, the end of the stream when `fin`. Returns the
   * bytes accepted, bounded by `capacity()`; when the peer's stream credit is what stopped it, a
   * STREAM_DATA_BLOCKED becomes due (once per limit). Throws `StreamStoppedError` once the stream is
   * reset, and a RangeError after the end of the stream was written.
   */
  write(data: Uint8Array, fin = false): number {
    return this.doWrite(data, fin, false);
  }

  /**
   * Like `write`, but keeps `data` (its accepted prefix) by reference: the caller must not modify
   * it afterwards. Saves the copy for large buffers.
   */
  writeOwned(data: Uint8Array, fin = false): number {
    return this.doWrite(data, fin, true);
  }

  /** Ends the stream (a FIN with no more data); same as `write(empty, true)`. */
  finish(): void {
    this.doWrite(EMPTY, true, true);
  }

  /**
   * Abandons sending (RFC 9000 §3.1 "Send RESET_STREAM"): from Ready, Send or Data Sent, moves to
   * Reset Sent, frees the buffer and makes a RESET_STREAM due whose final size is the largest offset
   * sent (§4.5). Returns false (and does nothing) in any other state.
   */
  reset(errorCode: number): boolean {
    return this.doReset(errorCode, 'local');
  }

  // ---- frames from the peer ----

  /**
   * STOP_SENDING (RFC 9000 §3.5, §19.5): the peer no longer reads. Resets the stream with the
   * peer's code; returns true when that makes a RESET_STREAM due.
   */
  onStopSending(errorCode: number): boolean {
    if (this.stopSendingCode === null) this.stopSendingCode = errorCode;
    return this.doReset(errorCode, 'remote');
  }

  /** MAX_STREAM_DATA (RFC 9000 §19.10); limits that do not increase are ignored (§4.1). Returns whether it grew. */
  onMaxStreamData(max: number): boolean {
    return this.fc.onMax(max);
  }

  // ---- sending ----

  /** Offset of the range `emit` would return next, or -1 when there is nothing to send. */
  nextOffset(): number {
    if (this.state !== 'ready' && this.state !== 'send' && this.state !== 'data_sent') return -1;
    if (!this.lost.empty) return this.lost.start(0);
    if (this.finLost) return this.written;
    if (this.sent < this.written && (this.conn === null || this.conn.available > 0)) return this.sent;
    if (this.finWritten && !this.finSent && this.sent === this.written) return this.sent;
    return -1;
  }

  /**
   * Picks the next range for a STREAM frame, at most `maxLength` bytes: lost data first (§13.3),
   * then new data within the connection credit. Updates the state (Ready → Send, → Data Sent with
   * the FIN). Returns null when there is nothing to send. Copy the bytes with `copyRange` (the
   * returned object's `data`, if read, is empty).
   */
  emitRange(maxLength: number): SendRange | null {
    const st = this.state;
    if (st !== 'ready' && st !== 'send' && st !== 'data_sent') return null;
    if (!this.lost.empty) {
      const s = this.lost.start(0);
      const len = Math.min(this.lost.end(0) - s, maxLength);
      if (len <= 0) return null;
      this.lost.remove(s, s + len);
      const fin = this.finSent && !this.finAcked && s + len === this.written;
      if (fin) this.finLost = false;
      this.stats.retransmitted += len;
      return chunk(s, len, fin, true);
    }
    if (this.finLost) {
      this.finLost = false;
      return chunk(this.written, 0, true, true);
    }
    let len = Math.min(this.written - this.sent, maxLength);
    if (this.conn !== null && this.conn.available < len) {
      this.conn.markBlocked(); // RFC 9000 §4.1: blocked by connection flow control
      len = this.conn.available;
    }
    if (len < 0) len = 0;
    const fin = this.finWritten && !this.finSent && this.sent + len === this.written;
    if (len === 0 && !fin) return null;
    const offset = this.sent;
    this.sent += len;
    this.conn?.consume(len);
    this.stats.sent += len;
    if (this.state === 'ready') this.to('send');
    if (fin) {
      this.finSent = true;
      this.to('data_sent');
    }
    return chunk(offset, len, fin, false);
  }

  /** `emitRange` with the bytes: a subarray of the buffer, or one copy when the range spans chunks. */
  emit(maxLength: number): SendChunk | null {
    const r = this.emitRange(maxLength) as SendChunk | null;
    if (r !== null && r.length > 0) r.data = this.slice(r.offset, r.length);
    return r;
  }

  /** Copies `length` bytes from stream offset `offset` (unacknowledged, already emitted) into `out` at `at`. */
  copyRange(offset: number, length: number, out: Uint8Array, at: number): void {
    if (offset < this.acked || offset + length > this.written)
      throw new RangeError(`range ${offset}+${length} is not held by stream ${this.id}`);
    let i = this.find(offset);
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const c = this.chunks[i];
      const rel = pos - this.starts[i];
      const n = Math.min(c.length - rel, end - pos);
      out.set(rel === 0 && n === c.length ? c : c.subarray(rel, rel + n), at);
      at += n;
      pos += n;
      i++;
    }
  }

  /** The STREAM_DATA_BLOCKED limit, if one is due (RFC 9000 §19.13); sending it is Ready → Send (§3.1). */
  pollBlocked(): number | null {
    if (this.state !== 'ready' && this.state !== 'send') return null;
    const limit = this.fc.pollBlocked();
    if (limit !== null && this.state === 'ready') this.to('send');
    return limit;
  }

  /** A STREAM_DATA_BLOCKED with `limit` was lost: due again if still blocked at that limit. */
  onBlockedLost(limit: number): void {
    if (this.state === 'ready' || this.state === 'send') this.fc.onBlockedLost(limit);
  }

  /** The RESET_STREAM to send, if one is due (clears it). */
  pollReset(): { errorCode: number; finalSize: number } | null {
    if (!this.resetPending || this.state !== 'reset_sent') return null;
    this.resetPending = false;
    return { errorCode: this.resetCode as number, finalSize: this.finalSize as number };
  }

  // ---- acknowledgments and loss ----

  /** A STREAM frame [offset, offset + length) (+ FIN) was acknowledged: free what is now acknowledged. */
  onAck(offset: number, length: number, fin: boolean): void {
    if (this.state !== 'send' && this.state !== 'data_sent') return;
    const end = Math.min(offset + length, this.sent);
    if (fin && this.finSent) this.finAcked = true;
    const s = Math.max(offset, this.acked);
    if (end > s) {
      let newly: number;
      if (s === this.acked && this.ackedRanges.empty) {
        newly = end - s;
        this.acked = end;
      } else {
        newly = this.ackedRanges.add(s, end);
        if (this.ackedRanges.start(0) === this.acked) this.acked = (this.ackedRanges.shift() as number[])[1];
      }
      this.lost.remove(s, end);
      if (this.ackedRanges.count > MAX_SEND_ACK_RANGES) {
        // Bound the set: forget the highest range and send it again (safe: it stays unacknowledged).
        const [ls, le] = this.ackedRanges.pop() as [number, number];
        newly -= le - ls;
        this.lost.add(ls, le);
      }
      this.stats.acknowledged += newly;
      this.release();
    }
    if (this.finAcked && this.acked === this.written && this.state === 'data_sent') {
      this.to('data_received'); // RFC 9000 §3.1 "Recv All ACKs"
      this.clearBuffers();
    }
  }

  /** A STREAM frame was declared lost: queue its unacknowledged parts (and FIN) for retransmission (§13.3). */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.state !== 'send' && this.state !== 'data_sent') return;
    const s = Math.max(offset, this.acked);
    const e = Math.min(offset + length, this.sent);
    if (s < e) this.ackedRanges.forEachGap(s, e, this.addLost);
    if (fin && this.finSent && !this.finAcked) this.finLost = true;
  }

  /** The RESET_STREAM was acknowledged: Reset Sent → Reset Recvd (§3.1). */
  onResetAcked(): void {
    if (this.state === 'reset_sent') {
      this.resetPending = false;
      this.to('reset_received');
    }
  }

  /** The RESET_STREAM was lost: due again until acknowledged (§13.3). */
  onResetLost(): void {
    if (this.state === 'reset_sent') this.resetPending = true;
  }

  // ---- queries ----

  /** Lost data or a lost/pending FIN that needs no new connection credit. */
  hasUrgent(): boolean {
    const st = this.state;
    if (st === 'send' || st === 'data_sent') {
      if (!this.lost.empty || this.finLost) return true;
    }
    return (
      (st === 'ready' || st === 'send') && this.finWritten && !this.finSent && this.sent === this.written
    );
  }

  /** Unsent data (within the stream credit by construction): needs connection credit to go. */
  hasNewData(): boolean {
    return (this.state === 'ready' || this.state === 'send') && this.sent < this.written;
  }

  /** Whether the sending part is reset (locally or after STOP_SENDING). */
  get isReset(): boolean {
    return this.state === 'reset_sent' || this.state === 'reset_received';
  }

  /** Whether the part reached a terminal state (Data Recvd or Reset Recvd). */
  get isTerminal(): boolean {
    return this.state === 'data_received' || this.state === 'reset_received';
  }

  /** Bytes held in memory: written and not yet acknowledged as a prefix (0 once reset or done). */
  get bufferedBytes(): number {
    return this.state === 'reset_sent' || this.state === 'reset_received' ? 0 : this.written - this.acked;
  }

  /** End of the application's data (bytes accepted by `write`). */
  get writtenOffset(): number {
    return this.written;
  }

  /** Largest offset sent so far (the flow control credit consumed). */
  get sentOffset(): number {
    return this.sent;
  }

  /** Every byte below this offset is acknowledged. */
  get ackedOffset(): number {
    return this.acked;
  }

  /** Number of chunks held (for tests and diagnostics). */
  get chunkCount(): number {
    return this.chunks.length - this.head;
  }

  // ---- internals ----

  private to(next: SendState, trigger?: 'local' | 'remote'): void {
    const old = this.state;
    this.state = next;
    this.observer?.({
      streamId: this.id,
      streamType: streamTypeOf(this.id),
      streamSide: 'sending',
      old,
      new: next,
      trigger,
    });
  }

  private doWrite(data: Uint8Array, fin: boolean, owned: boolean): number {
    if (this.state === 'reset_sent' || this.state === 'reset_received')
      throw new StreamStoppedError(this.id, this.resetCode as number, this.stopSendingCode !== null);
    if (this.finWritten) throw new RangeError(`stream ${this.id}: write after the end of the stream`);
    const credit = this.fc.available;
    const room = this.bufferLimit - (this.written - this.acked);
    const n = Math.max(0, Math.min(data.length, credit, room));
    if (n > 0) {
      const part = n === data.length ? data : data.subarray(0, n);
      if (owned) this.push(part, false);
      else this.append(part);
      this.written += n;
      this.fc.consume(n);
      this.stats.written += n;
    }
    if (n < data.length && n === credit) this.fc.markBlocked(); // RFC 9000 §4.1, §19.13
    if (n === data.length && fin) this.finWritten = true;
    return n;
  }

  private doReset(errorCode: number, trigger: 'local' | 'remote'): boolean {
    const st = this.state;
    if (st !== 'ready' && st !== 'send' && st !== 'data_sent') return false;
    this.resetCode = errorCode;
    this.finalSize = this.sent; // RFC 9000 §4.5: the flow control credit consumed
    this.resetPending = true;
    this.fc.blockedPending = false;
    this.to('reset_sent', trigger);
    this.clearBuffers();
    return true;
  }

  /** Appends a chunk that starts at the current end of the data. */
  private push(c: Uint8Array, fromBlock: boolean): void {
    this.chunks.push(c);
    this.starts.push(this.written);
    this.tailIsBlock = fromBlock;
  }

  /** Copies `data` into blocks, filling the current block first. */
  private append(data: Uint8Array): void {
    let src = data;
    const block = this.block;
    if (block !== null && this.blockUsed < block.length) {
      const n = Math.min(block.length - this.blockUsed, src.length);
      block.set(n === src.length ? src : src.subarray(0, n), this.blockUsed);
      if (this.tailIsBlock) {
        this.blockUsed += n;
        this.chunks[this.chunks.length - 1] = block.subarray(this.blockStart, this.blockUsed);
      } else {
        this.blockStart = this.blockUsed;
        this.blockUsed += n;
        this.push(block.subarray(this.blockStart, this.blockUsed), true);
      }
      this.stats.copied += n;
      if (n === src.length) return;
      src = src.subarray(n);
    }
    const offset = this.written + (data.length - src.length);
    let chunk: Uint8Array;
    if (src.length >= MAX_BLOCK) {
      chunk = src.slice();
      this.block = null;
      this.tailIsBlock = false;
    } else {
      const nb = new Uint8Array(Math.max(src.length, this.nextBlock));
      this.nextBlock = Math.min(this.nextBlock * 2, MAX_BLOCK);
      nb.set(src);
      this.block = nb;
      this.blockStart = 0;
      this.blockUsed = src.length;
      chunk = nb.subarray(0, src.length);
      this.tailIsBlock = true;
    }
    this.chunks.push(chunk);
    this.starts.push(offset);
    this.stats.copied += src.length;
  }

  /** Index of the chunk holding `offset` (which must be held). */
  private find(offset: number): number {
    const starts = this.starts,
      chunks = this.chunks;
    let i = this.cursor;
    if (i >= this.head && i < chunks.length && starts[i] <= offset) {
      if (offset < starts[i] + chunks[i].length) return i;
      i++;
      if (i < chunks.length && offset < starts[i] + chunks[i].length) return (this.cursor = i);
    }
    let lo = this.head,
      hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return (this.cursor = lo);
  }

  private slice(offset: number, length: number): Uint8Array {
    const i = this.find(offset);
    const c = this.chunks[i];
    const rel = offset - this.starts[i];
    if (rel + length <= c.length) return c.subarray(rel, rel + length);
    const out = new Uint8Array(length);
    this.copyRange(offset, length, out, 0);
    this.stats.copied += length;
    return out;
  }

  /** Drops chunks that lie wholly below `acked`. */
  private release(): void {
    const chunks = this.chunks,
      starts = this.starts;
    let h = this.head;
    while (h < chunks.length && starts[h] + chunks[h].length <= this.acked) {
      chunks[h] = EMPTY;
      h++;
    }
    if (h === chunks.length) {
      chunks.length = 0;
      starts.length = 0;
      this.head = 0;
      this.cursor = 0;
      this.tailIsBlock = false;
      return;
    }
    this.head = h;
    if (h > 32 && h * 2 > chunks.length) {
      chunks.splice(0, h);
      starts.splice(0, h);
      this.cursor = Math.max(0, this.cursor - h);
      this.head = 0;
    }
  }

  private clearBuffers(): void {
    this.chunks = [];
    this.starts = [];
    this.head = 0;
    this.cursor = 0;
    this.block = null;
    this.tailIsBlock = false;
    this.lost.clear();
    this.ackedRanges.clear();
    this.finLost = false;
  }
}
