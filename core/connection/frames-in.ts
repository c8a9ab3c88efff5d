/**
 * Frame dispatch for a decrypted packet (RFC 9000 §12.4, §19): each frame is checked against
 * RFC 9000 Table 3 (`frameAllowedIn`), then handed to the stream map, the CID sets, loss recovery,
 * TLS or the connection's own state.
 */
import { toQlogFrame } from '../trace/frames.ts';
import type { QlogFrame } from '../trace/frames.ts';
import { hex } from '../trace/format.ts';
import { Reader } from '../wire/buffer.ts';
import { protocolViolation } from '../wire/errors.ts';
import { decodeFrame, frameAllowedIn, frameTypeName, isAckEliciting, FrameType } from '../wire/frames.ts';
import type { Frame, FramePacketType } from '../wire/frames.ts';
import { enterDraining } from './close.ts';
import { onDatagramFrame } from './datagram.ts';
import { onAckFrame } from './delivery.ts';
import { confirmHandshake, receiveCrypto } from './handshake.ts';
import { isBidirectional, isLocallyInitiated, streamIndex } from '../stream/stream-id.ts';
import { onPathChallenge, onPathResponse } from './path.ts';
import type { ConnState, PacketSpace } from './state.ts';

/** What processing a packet's frames found. */
export interface FramesResult {
  ackEliciting: boolean;
  /** Only probing frames (RFC 9000 §9.1): such a packet does not move the connection to a new path. */
  probingOnly: boolean;
  /** The frames as qlog, when tracing. */
  qlog: QlogFrame[] | null;
}

/**
 * Decodes and processes every frame of `payload`, a packet of `type` received in `space` with
 * destination CID `dcid` (`closing`: only CONNECTION_CLOSE is acted on). Raises a QuicError for
 * any violation (the caller closes).
 */
export function processFrames(
  s: ConnState,
  payload: Uint8Array,
  type: FramePacketType,
  space: PacketSpace,
  dcid: Uint8Array,
  now: number,
  closing = false,
): FramesResult {
  // RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
  if (payload.length === 0) throw protocolViolation('packet without frames');
  const r = new Reader(payload);
  const result: FramesResult = { ackEliciting: false, probingOnly: true, qlog: s.trace ? [] : null };
  while (!r.done) {
    const wireType = payload[r.offset];
    const frameStart = r.offset;
    const f = decodeFrame(r);
    // RFC 9000 §12.4, Table 3: a frame in a packet type that may not carry it.
    if (!frameAllowedIn(wireType, type))
      throw protocolViolation(`${frameTypeName(wireType)} frame in a ${type} packet`, wireType);
    if (isAckEliciting(wireType)) result.ackEliciting = true;
    if (!isProbingFrame(f)) result.probingOnly = false;
    if (result.qlog !== null)
      result.qlog.push(toQlogFrame(f, { ackDelayExponent: s.ackExponentFor(space.id) }));
    // RFC 9000 §10.2.1: in the closing state only a CONNECTION_CLOSE matters.
    // RFC 9221 §3: the DATAGRAM limit covers the whole frame (type, Length and data).
    if (!closing && f.type === 'datagram') onDatagramFrame(s, f.data, r.offset - frameStart, wireType);
    else if (!closing) onFrame(s, f, space, dcid, now);
    else if (f.type === 'connection_close') enterDraining(s, f, now);
    // After CONNECTION_CLOSE nothing else in the packet matters.
    if (s.phase.kind === 'draining') break;
  }
  return result;
}

function isProbingFrame(f: Frame): boolean {
  // RFC 9000 §9.1 (Table 3 "P").
  return (
    f.type === 'padding' ||
    f.type === 'new_connection_id' ||
    f.type === 'path_challenge' ||
    f.type === 'path_response'
  );
}

/** Notes a peer-initiated stream ID (after the StreamMap accepted the frame). */
function notePeerStream(s: ConnState, id: number): void {
  if (isLocallyInitiated(id, s.isServer ? 'server' : 'client')) return;
  const d = isBidirectional(id) ? 0 : 1;
  const n = streamIndex(id) + 1;
  if (n > s.peerStreamsSeen[d]) s.peerStreamsSeen[d] = n;
}

function onFrame(s: ConnState, f: Frame, space: PacketSpace, dcid: Uint8Array, now: number): void {
  switch (f.type) {
    case 'padding':
    case 'ping':
      return;
    case 'ack':
      onAckFrame(s, space, f, now);
      return;
    case 'crypto':
      receiveCrypto(s, space.id, space.cryptoRecv.onData(f.offset, f.data), now);
      return;
    case 'stream':
      s.streams.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
      notePeerStream(s, f.streamId);
      return;
    case 'reset_stream':
      s.streams.onResetStream(f.streamId, f.errorCode, f.finalSize);
      notePeerStream(s, f.streamId);
      return;
    case 'stop_sending':
      s.streams.onStopSending(f.streamId, f.errorCode);
      notePeerStream(s, f.streamId);
      return;
    case 'max_data':
      s.streams.onMaxData(f.maximum);
      return;
    case 'max_stream_data':
      s.streams.onMaxStreamData(f.streamId, f.maximum);
      notePeerStream(s, f.streamId);
      return;
    case 'max_streams':
      s.streams.onMaxStreams(f.streamType, f.maximum);
      return;
    case 'data_blocked':
      s.streams.onDataBlocked(f.limit);
      return;
    case 'stream_data_blocked':
      s.streams.onStreamDataBlocked(f.streamId, f.limit);
      notePeerStream(s, f.streamId);
      return;
    case 'streams_blocked':
      s.streams.onStreamsBlocked(f.streamType, f.limit);
      return;
    case 'new_token':
      // RFC 9000 §19.7: only servers send NEW_TOKEN.
      if (s.isServer) throw protocolViolation('NEW_TOKEN from a client', FrameType.NEW_TOKEN);
      s.newToken = f.token.slice();
      return;
    case 'new_connection_id':
      s.peerCids.onNewConnectionId(f);
      if (s.trace)
        s.tracer.event(now, 'quic:connection_id_updated', { initiator: 'remote', new: hex(f.connectionId) });
      return;
    case 'retire_connection_id':
      s.localCids.onRetire(f.sequenceNumber, dcid);
      return;
    case 'path_challenge':
      // RFC 9000 §8.2.2: answer with the same data, on the path it arrived on (path.ts).
      onPathChallenge(s, f.data, now);
      return;
    case 'path_response':
      onPathResponse(s, f.data, now);
      return;
    case 'connection_close':
      enterDraining(s, f, now);
      return;
    case 'handshake_done':
      // RFC 9000 §19.20: a server receiving HANDSHAKE_DONE is a PROTOCOL_VIOLATION.
      if (s.isServer) throw protocolViolation('HANDSHAKE_DONE from a client', FrameType.HANDSHAKE_DONE);
      confirmHandshake(s, now);
      return;
    case 'datagram':
      // Handled by processFrames (onDatagramFrame needs the frame's size on the wire).
      return;
  }
}
