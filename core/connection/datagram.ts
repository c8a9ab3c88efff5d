/**
 * Unreliable datagrams (RFC 9221): DATAGRAM frames sent from a bounded queue and received into
 * a bounded queue.
 *
 * - Enabled by Config.enableDgram(true, recvQueueLen, sendQueueLen): we then advertise
 *   max_datagram_frame_size (65535 unless setMaxDatagramFrameSize says otherwise, §3).
 * - dgramSend queues a copy; it returns false when the send queue is full (the newest is
 *   refused: the application decides what to drop), and throws a DatagramError when datagrams
 *   are disabled, the peer did not advertise max_datagram_frame_size (§3; known once its
 *   transport parameters arrived), the connection is closing, or the datagram is larger than
 *   dgramMaxWritableLen().
 * - Frames go out in 1-RTT packets, before STREAM data (§5: "as soon as possible"), under the
 *   congestion controller (§5.4); a queued datagram that no longer fits a packet (the PMTU
 *   shrank) is dropped. They are ack-eliciting and count in flight, and are never retransmitted
 *   (§5.2): the packet's loss is detected as usual but nothing is queued again.
 * - Received frames: a PROTOCOL_VIOLATION when we did not advertise support or the frame
 *   (type, length and data) exceeds what we advertised (§3); otherwise a copy is queued. When
 *   the receive queue is full the oldest datagram is dropped: unreliable data goes stale.
 * - qlog: quic:datagram_data_moved application → transport (dgramSend) and transport →
 *   application (dgramRecv); DATAGRAM frames appear in packet_sent / packet_received.
 */
import { TAG_LENGTH } from '../crypto/keys.ts';
import { toQlogFrame } from '../trace/frames.ts';
import { varintLength } from '../wire/buffer.ts';
import type { Writer } from '../wire/buffer.ts';
import { protocolViolation } from '../wire/errors.ts';
import { FrameType } from '../wire/frame-types.ts';
import type { PacketFill } from './frames-out.ts';
import type { ConnState } from './state.ts';

/** RFC 9221 §3: the RECOMMENDED max_datagram_frame_size (any frame that fits a packet). */
export const DEFAULT_MAX_DATAGRAM_FRAME_SIZE = 65535;

/** Why a dgramSend call was refused (a caller's mistake or the connection's state). */
export type DatagramErrorKind = 'disabled' | 'unsupported' | 'too_large' | 'connection_closed';

/** A datagram the application asked to send that cannot be sent at all. */
export class DatagramError extends Error {
  override readonly name = 'DatagramError';
  constructor(
    readonly kind: DatagramErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A bounded FIFO of byte strings (a ring: O(1) push and shift). */
class ByteQueue {
  private readonly items: (Uint8Array | undefined)[];
  private head = 0;
  length = 0;
  bytes = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<Uint8Array | undefined>(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  peek(): Uint8Array | undefined {
    return this.length > 0 ? this.items[this.head] : undefined;
  }

  push(d: Uint8Array): void {
    this.items[(this.head + this.length) % this.capacity] = d;
    this.length++;
    this.bytes += d.length;
  }

  shift(): Uint8Array | undefined {
    if (this.length === 0) return undefined;
    const d = this.items[this.head] as Uint8Array;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    this.bytes -= d.length;
    return d;
  }

  clear(): void {
    while (this.length > 0) this.shift();
  }
}

/** A connection's datagram queues and counters. */
export class DatagramQueues {
  readonly recv: ByteQueue;
  readonly send: ByteQueue;
  /** DATAGRAM frames sent and received. */
  sent = 0;
  received = 0;
  /** Datagrams dropped: received ones evicted from a full queue, queued ones that no longer fit. */
  dropped = 0;

  constructor(recvQueueLen: number, sendQueueLen: number) {
    this.recv = new ByteQueue(recvQueueLen);
    this.send = new ByteQueue(sendQueueLen);
  }
}

/** The largest `n` whose DATAGRAM frame with a Length field (1 + varint + n bytes) fits `room`. */
function payloadFitting(room: number): number {
  let n = room - 1 - varintLength(Math.max(0, room));
  while (n > 0 && 1 + varintLength(n) + n > room) n--;
  return Math.max(0, n);
}

/**
 * The largest datagram dgramSend accepts now: within the peer's max_datagram_frame_size (§3)
 * and one 1-RTT packet at the current maximum datagram size (§5: no fragmentation); null when
 * datagrams cannot be sent (disabled, or the peer's parameters lack max_datagram_frame_size).
 */
export function dgramMaxWritableLen(s: ConnState): number | null {
  const limit = s.peerParams?.maxDatagramFrameSize ?? null;
  if (s.dgram === null || limit === null || limit === 0) return null;
  // A short header: first byte, DCID, a packet number of up to 4 bytes; then the AEAD tag.
  const packetRoom = s.maxDatagramSize - 1 - s.peerCids.dcid.length - 4 - TAG_LENGTH;
  return Math.min(payloadFitting(limit), payloadFitting(packetRoom));
}

/** Connection.dgramSend: queues a copy of `data` (see the module comment). */
export function dgramSend(s: ConnState, data: Uint8Array): boolean {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
  const q = s.dgram;
  if (q === null) throw new DatagramError('disabled', 'datagrams are not enabled (Config.enableDgram)');
  if (s.isClosingOrGone) throw new DatagramError('connection_closed', 'the connection is closed');
  const max = dgramMaxWritableLen(s);
  if (max === null)
    throw new DatagramError(
      'unsupported',
      s.peerParams === null
        ? "the peer's transport parameters have not arrived yet"
        : 'the peer does not accept DATAGRAM frames (no max_datagram_frame_size)',
    );
  if (data.length > max)
    throw new DatagramError(
      'too_large',
      `a datagram of ${data.length} bytes exceeds the ${max} writable now`,
    );
  if (q.send.full) return false;
  q.send.push(data.slice());
  if (s.trace)
    s.tracer.event(s.now, 'quic:datagram_data_moved', {
      from: 'application',
      to: 'transport',
      raw: { length: data.length },
    });
  return true;
}

/** Connection.dgramRecv: the oldest received datagram copied into `out`; null when none. */
export function dgramRecv(s: ConnState, out: Uint8Array): number | null {
  const q = s.dgram;
  if (q === null) return null;
  const d = q.recv.peek();
  if (d === undefined) return null;
  if (d.length > out.length)
    throw new RangeError(`the next datagram has ${d.length} bytes; the buffer holds ${out.length}`);
  q.recv.shift();
  out.set(d);
  if (s.trace)
    s.tracer.event(s.now, 'quic:datagram_data_moved', {
      from: 'transport',
      to: 'application',
      raw: { length: d.length },
    });
  return d.length;
}

/** Whether datagrams wait to be sent. */
export function hasDatagramsToSend(s: ConnState): boolean {
  return s.dgram !== null && s.dgram.send.length > 0;
}

/** Writes queued DATAGRAM frames (type 0x31, with Length) into a 1-RTT packet while they fit. */
export function writeDatagrams(s: ConnState, w: Writer, end: number, fill: PacketFill): void {
  const q = s.dgram;
  if (q === null) return;
  for (let d = q.send.peek(); d !== undefined; d = q.send.peek()) {
    const max = dgramMaxWritableLen(s);
    if (max === null || d.length > max) {
      // §5: no fragmentation: a datagram that no longer fits (smaller PMTU) is dropped.
      q.send.shift();
      q.dropped++;
      continue;
    }
    const size = 1 + varintLength(d.length) + d.length;
    if (end - w.offset < size) return; // the next packet
    q.send.shift();
    w.u8(FrameType.DATAGRAM_LEN).varint(d.length).bytes(d);
    // §5.2: ack-eliciting, but nothing is noted for retransmission.
    fill.ackEliciting = true;
    q.sent++;
    if (fill.qlog !== null) fill.qlog.push(toQlogFrame({ type: 'datagram', data: d }));
  }
}

/**
 * A received DATAGRAM frame of `frameSize` bytes on the wire (type, Length, data) whose type
 * byte was `wireType` (RFC 9221 §3, §5). Raises a PROTOCOL_VIOLATION QuicError when not allowed.
 */
export function onDatagramFrame(s: ConnState, data: Uint8Array, frameSize: number, wireType: number): void {
  const q = s.dgram;
  const limit = s.localParams?.maxDatagramFrameSize ?? null;
  // RFC 9221 §3: we did not advertise max_datagram_frame_size.
  if (q === null || limit === null || limit === 0)
    throw protocolViolation('DATAGRAM frame without max_datagram_frame_size', wireType);
  // RFC 9221 §3: larger than the max_datagram_frame_size we sent.
  if (frameSize > limit)
    throw protocolViolation(
      `DATAGRAM frame of ${frameSize} bytes exceeds max_datagram_frame_size ${limit}`,
      wireType,
    );
  q.received++;
  if (q.recv.full) {
    q.recv.shift();
    q.dropped++;
  }
  q.recv.push(data.slice()); // the datagram buffer is the caller's: keep a copy
}
