/**
 * Bytes the HTTP/3 layer has committed to a stream but QUIC has not accepted yet (flow control):
 * frame headers, HEADERS frames, control and QPACK stream data. Chunks are kept by reference and
 * handed to QUIC in order; nothing is re-joined. Request bodies never go here: sendBody passes
 * the caller's bytes to QUIC directly and reports how many were taken.
 */

/** Sends `data` on the stream (with `fin`), returning the bytes accepted. */
export type StreamSink = (data: Uint8Array, fin: boolean) => number;

const EMPTY = new Uint8Array(0);

/** An ordered queue of pending stream bytes, plus a pending FIN. */
export class Outbox {
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes queued and not yet accepted. */
  bytes = 0;
  /** A FIN to send after the queued bytes. */
  fin = false;

  /** Whether bytes or a FIN are still to be sent. */
  get pending(): boolean {
    return this.bytes > 0 || this.fin;
  }

  /** Drops everything queued (the stream was reset or stopped). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
    this.fin = false;
  }

  /** Queues `data` (kept by reference: the caller must not modify it). */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.bytes += data.length;
  }

  /**
   * Sends `data` after what is queued: directly when nothing is, queueing the rest. With `fin`,
   * the stream ends after it. Returns true when all of it (and the FIN) went to QUIC.
   */
  send(sink: StreamSink, data: Uint8Array, fin: boolean): boolean {
    if (!this.pending) {
      const n = sink(data, fin);
      if (n === data.length) return true;
      this.push(n === 0 ? data : data.subarray(n));
    } else this.push(data);
    if (fin) this.fin = true;
    return this.flush(sink);
  }

  /** Sends as much as QUIC takes; returns true when everything (and the FIN) was accepted. */
  flush(sink: StreamSink): boolean {
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head];
      const last = this.head === this.chunks.length - 1;
      const n = sink(c, last && this.fin);
      this.bytes -= n;
      if (n < c.length) {
        this.chunks[this.head] = c.subarray(n);
        return false;
      }
      this.head++;
      if (last) {
        this.chunks = [];
        this.head = 0;
        this.fin = false;
        return true;
      }
    }
    if (this.fin) {
      sink(EMPTY, true);
      this.fin = false;
    }
    return true;
  }
}
