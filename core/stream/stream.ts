/**
 * A stream as the StreamMap holds it: its ID, its sending and/or receiving part (RFC 9000 §3: a
 * unidirectional stream has one, a bidirectional stream both), and the links of the send queues.
 */
import type { RecvStream } from './recv-stream.ts';
import type { SendStream } from './send-stream.ts';
import { compositeState } from './state.ts';
import type { CompositeState } from './state.ts';
import { streamTypeOf } from './stream-id.ts';
import type { StreamType } from './stream-id.ts';

/** A link in an intrusive doubly linked queue: O(1) push, remove and front, no allocation. */
export class QueueNode {
  prev: QueueNode | null = null;
  next: QueueNode | null = null;
  linked = false;
  constructor(readonly stream: Stream) {}
}

/** A FIFO of streams; a stream is in it at most once (round-robin send scheduling). */
export class StreamQueue {
  private head: QueueNode | null = null;
  private tail: QueueNode | null = null;
  /** Number of streams queued. */
  size = 0;

  /** The stream at the front, or null. */
  get front(): Stream | null {
    return this.head === null ? null : this.head.stream;
  }

  /** Appends `n` (which must not be linked). */
  push(n: QueueNode): void {
    n.prev = this.tail;
    n.next = null;
    if (this.tail === null) this.head = n;
    else this.tail.next = n;
    this.tail = n;
    n.linked = true;
    this.size++;
  }

  /** Unlinks `n` (which must be linked). */
  remove(n: QueueNode): void {
    if (n.prev === null) this.head = n.next;
    else n.prev.next = n.next;
    if (n.next === null) this.tail = n.prev;
    else n.next.prev = n.prev;
    n.prev = n.next = null;
    n.linked = false;
    this.size--;
  }

  /** Puts `n` in the queue when `want`, out of it otherwise; `toBack` moves an already queued node to the back. */
  set(n: QueueNode, want: boolean, toBack: boolean): void {
    if (want) {
      if (!n.linked) this.push(n);
      else if (toBack && n !== this.tail) {
        this.remove(n);
        this.push(n);
      }
    } else if (n.linked) this.remove(n);
  }
}

/** One stream of a connection. */
export class Stream {
  /** 'bidirectional' or 'unidirectional' (from the ID, §2.1). */
  readonly type: StreamType;
  /** Link in the queue of streams with lost data (or a lone FIN) to send. */
  readonly urgentNode: QueueNode = new QueueNode(this);
  /** Link in the queue of streams with new data to send. */
  readonly activeNode: QueueNode = new QueueNode(this);
  /** The application was told (by a thrown StreamStoppedError) that the peer sent STOP_SENDING. */
  stopNotified = false;

  constructor(
    readonly id: number,
    /** True when this endpoint opened the stream. */
    readonly local: boolean,
    /** The sending part, unless this is the peer's unidirectional stream. */
    readonly send: SendStream | null,
    /** The receiving part, unless this is our unidirectional stream. */
    readonly recv: RecvStream | null,
  ) {
    this.type = streamTypeOf(id);
  }

  /** RFC 9000 §3.4 Table 2 composite state, for the diagnostic UI and qlog's base states. */
  get state(): CompositeState {
    const idle =
      (this.send === null || (this.send.state === 'ready' && this.send.writtenOffset === 0)) &&
      (this.recv === null || this.recv.isIdle);
    return compositeState(this.send?.state ?? null, this.recv?.state ?? null, idle);
  }

  /** Whether both parts are terminal (§3.1, §3.2) and nothing remains to be sent for them. */
  get isFinished(): boolean {
    const s = this.send,
      r = this.recv;
    return (
      (s === null || (s.isTerminal && !s.resetPending)) && (r === null || (r.isTerminal && !r.stopPending))
    );
  }
}
