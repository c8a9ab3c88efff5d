/**
 * What goes into one packet (RFC 9000 §13): the ACK first, then control frames, CRYPTO data and
 * STREAM data (round-robin through the StreamMap), a PING when a probe has nothing else. Frames
 * are written straight into the datagram buffer; STREAM data is copied once, from the send buffer
 * into the packet. Every retransmittable frame is noted in the packet's SentPayload.
 */
import { toQlogFrame } from '../trace/frames.ts';
import type { QlogFrame } from '../trace/frames.ts';
import type { Writer } from '../wire/buffer.ts';
import {
  FrameType,
  cryptoFrameCapacity,
  encodeFrame,
  frameLength,
  streamFrameCapacity,
  writeAckFrame,
  writeCryptoFrameHeader,
  writeStreamFrameHeader,
} from '../wire/frames.ts';
import type { ConnectionCloseFrame, Frame } from '../wire/frames.ts';
import { autoTuneRtt } from '../stream/flow-control.ts';
import { MAX_CONTROL_FRAME_SIZE } from '../stream/stream-map.ts';
import { PacketNumberSpace } from './state.ts';
import type { ConnState, PacketSpace } from './state.ts';
import { Sent } from './types.ts';
import type { SentPayload } from './types.ts';

/** The packet being filled. */
export interface PacketFill {
  readonly type: 'initial' | 'handshake' | '0rtt' | '1rtt';
  /** Ack-eliciting frames may be added (congestion window or probe allows it). */
  readonly elicit: boolean;
  /** An ACK frame may be added. */
  readonly ack: boolean;
  /** This packet is a PTO probe: it must be ack-eliciting (PING if nothing else). */
  readonly probe: boolean;
  /** Set when something ack-eliciting was written. */
  ackEliciting: boolean;
  readonly payload: SentPayload;
  /** qlog frames, when tracing. */
  readonly qlog: QlogFrame[] | null;
}

/** The largest CRYPTO offset we plan for when sizing frames (offsets stay far below 2^30). */
const CRYPTO_OFFSET_BOUND = 0x3fff_ffff;
/** Below this much room, no new STREAM frame is started. */
const MIN_STREAM_ROOM = 24;

function note(fill: PacketFill, f: Frame, s: ConnState, space: PacketNumberSpace): void {
  if (fill.qlog !== null)
    fill.qlog.push(toQlogFrame(f, { ackDelayExponent: space === 2 ? s.config.ackDelayExponent : 3 }));
}

function writeControl(
  w: Writer,
  end: number,
  f: Frame,
  fill: PacketFill,
  s: ConnState,
  space: PacketNumberSpace,
): boolean {
  if (end - w.offset < frameLength(f)) return false;
  encodeFrame(w, f);
  fill.ackEliciting = true;
  note(fill, f, s, space);
  return true;
}

/** Writes the ACK frame of `space` if one is wanted and fits; returns whether it did. */
export function writeAck(
  s: ConnState,
  space: PacketSpace,
  w: Writer,
  end: number,
  fill: PacketFill,
  now: number,
): boolean {
  if (!fill.ack || !space.acks.ackPending) return false;
  const delayed = space.id === PacketNumberSpace.ApplicationData;
  const exponent = delayed ? s.config.ackDelayExponent : 3;
  const ack = space.acks.ackFrame(now, exponent, end - w.offset, delayed);
  if (ack === null) return false;
  writeAckFrame(w, ack);
  fill.payload.ackLargest = ack.largestAcknowledged;
  if (fill.qlog !== null) note(fill, { type: 'ack', ...ack, ranges: ack.ranges.slice() }, s, space.id);
  return true;
}

/** Writes CRYPTO frames (lost ranges first) while they fit. */
export function writeCrypto(
  s: ConnState,
  space: PacketSpace,
  w: Writer,
  end: number,
  fill: PacketFill,
): void {
  const buf = space.cryptoSend;
  while (buf.hasData) {
    const cap = cryptoFrameCapacity(end - w.offset, CRYPTO_OFFSET_BOUND);
    if (cap <= 0) return;
    const c = buf.emit(cap);
    if (c === null) return;
    writeCryptoFrameHeader(w, c.offset, c.data.length);
    w.bytes(c.data);
    fill.payload.frames.push({ k: Sent.Crypto, offset: c.offset, length: c.data.length });
    fill.ackEliciting = true;
    if (fill.qlog !== null) note(fill, { type: 'crypto', offset: c.offset, data: c.data }, s, space.id);
  }
}

/** Writes the connection's control frames (1-RTT only: HANDSHAKE_DONE, path, CID, token frames). */
export function writeConnectionControl(s: ConnState, w: Writer, end: number, fill: PacketFill): void {
  const app = PacketNumberSpace.ApplicationData;
  const frames = fill.payload.frames;
  if (s.handshakeDonePending && s.isServer && s.handshakeComplete) {
    if (writeControl(w, end, { type: 'handshake_done' }, fill, s, app)) {
      s.handshakeDonePending = false;
      frames.push({ k: Sent.HandshakeDone });
    }
  }
  let responded = false;
  while (s.pathResponses.length > 0) {
    if (!writeControl(w, end, { type: 'path_response', data: s.pathResponses[0] }, fill, s, app)) break;
    s.pathResponses.shift();
    responded = true;
  }
  // RFC 9000 §9.3.3: answer a PATH_CHALLENGE with a non-probing packet (it moves the peer back
  // to this path if the challenge followed a spurious migration).
  // A liveness check (path.ts) is a PING as well.
  if (responded || s.pingPending) {
    writePing(s, w, end, fill, app);
    s.pingPending = false;
  }
  const challenge = s.pathChallengePending;
  if (challenge !== null && writeControl(w, end, { type: 'path_challenge', data: challenge }, fill, s, app))
    s.pathChallengePending = null;
  const pendingNew = s.localCids.pendingNew;
  while (pendingNew.length > 0) {
    const e = s.localCids.get(pendingNew[0]);
    if (e !== undefined) {
      const f: Frame = {
        type: 'new_connection_id',
        sequenceNumber: e.seq,
        retirePriorTo: 0,
        connectionId: e.cid,
        statelessResetToken: e.token,
      };
      if (!writeControl(w, end, f, fill, s, app)) break;
      frames.push({ k: Sent.NewConnectionId, seq: e.seq });
    }
    pendingNew.shift();
  }
  const pendingRetire = s.peerCids.pendingRetire;
  while (pendingRetire.length > 0) {
    const seq = pendingRetire[0];
    if (!writeControl(w, end, { type: 'retire_connection_id', sequenceNumber: seq }, fill, s, app)) break;
    frames.push({ k: Sent.RetireConnectionId, seq });
    pendingRetire.shift();
  }
  while (s.pendingNewTokens.length > 0) {
    const token = s.pendingNewTokens[0];
    if (!writeControl(w, end, { type: 'new_token', token }, fill, s, app)) break;
    frames.push({ k: Sent.NewToken, token });
    s.pendingNewTokens.shift();
  }
}

/** Writes the flow control and stream state frames the StreamMap owes the peer. */
export function writeStreamControl(
  s: ConnState,
  w: Writer,
  end: number,
  fill: PacketFill,
  now: number,
): void {
  const streams = s.streams;
  // Window auto-tuning judges against min_rtt: the smoothed RTT includes the window's own queue.
  const rtt = autoTuneRtt(s.recovery.rtt);
  while (end - w.offset >= MAX_CONTROL_FRAME_SIZE && streams.hasControlFrames()) {
    const f = streams.pollControlFrame(now, rtt);
    if (f === null) break;
    encodeFrame(w, f);
    fill.ackEliciting = true;
    fill.payload.frames.push({ k: Sent.StreamControl, f });
    note(fill, f, s, PacketNumberSpace.ApplicationData);
  }
}

/** Writes STREAM frames, round-robin over the streams with data, while they fit. */
export function writeStreams(s: ConnState, w: Writer, end: number, fill: PacketFill): void {
  const streams = s.streams;
  let misses = 0;
  for (let guard = 0; guard < 4096; guard++) {
    const room = end - w.offset;
    if (room < MIN_STREAM_ROOM) return;
    const st = streams.nextSendable();
    if (st === null) return;
    const send = st.send;
    if (send === null) return;
    const next = send.nextOffset();
    const cap = streamFrameCapacity(room, st.id, next < 0 ? 0 : next, true);
    if (cap < 0) return;
    const r = streams.emitRange(st, cap);
    if (r === null) {
      if (++misses > 8) return;
      continue;
    }
    writeStreamFrameHeader(w, st.id, r.offset, r.length, r.fin, true);
    if (r.length > 0) send.copyRange(r.offset, r.length, w.buf, w.offset);
    w.offset += r.length;
    fill.payload.frames.push({ k: Sent.Stream, id: st.id, offset: r.offset, length: r.length, fin: r.fin });
    fill.ackEliciting = true;
    if (r.retransmit) s.stats.streamBytesRetransmitted += r.length;
    if (fill.qlog !== null)
      note(
        fill,
        {
          type: 'stream',
          streamId: st.id,
          offset: r.offset,
          data: w.buf.subarray(w.offset - r.length, w.offset),
          fin: r.fin,
        },
        s,
        PacketNumberSpace.ApplicationData,
      );
  }
}

/** A PING, so that a probe (or a packet that must elicit an ACK) is ack-eliciting (RFC 9002 §6.2.4). */
export function writePing(
  s: ConnState,
  w: Writer,
  end: number,
  fill: PacketFill,
  space: PacketNumberSpace,
): void {
  if (end - w.offset < 1) return;
  w.u8(FrameType.PING);
  fill.ackEliciting = true;
  fill.payload.frames.push({ k: Sent.Ping });
  note(fill, { type: 'ping' }, s, space);
}

/** The CONNECTION_CLOSE for `space` (RFC 9000 §10.2.3: an application close before 1-RTT is APPLICATION_ERROR). */
export function closeFrameFor(s: ConnState, oneRtt: boolean): ConnectionCloseFrame {
  const c = s.closeFrame;
  if (c === null)
    return {
      type: 'connection_close',
      errorSpace: 'transport',
      errorCode: 0,
      frameType: 0,
      reason: new Uint8Array(0),
    };
  const reason = new TextEncoder().encode(c.reason);
  if (c.isApp && oneRtt)
    return { type: 'connection_close', errorSpace: 'application', errorCode: c.code, reason };
  if (c.isApp)
    return {
      type: 'connection_close',
      errorSpace: 'transport',
      errorCode: 0x0c,
      frameType: 0,
      reason: new Uint8Array(0),
    };
  return {
    type: 'connection_close',
    errorSpace: 'transport',
    errorCode: c.code,
    frameType: c.frameType,
    reason,
  };
}
