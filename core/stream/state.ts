/**
 * Stream states (RFC 9000 §3), spelled as qlog's StreamState (draft-ietf-quic-qlog-quic-events-13
 * §5.13), the transition observer that feeds `stream_state_updated`, and the errors the stream API
 * raises to the application (not to the peer: those are `QuicError`s).
 */
import type { StreamType } from '../wire/frame-types.ts';

/** Sending part (RFC 9000 §3.1, Figure 2): Ready → Send → Data Sent → Data Recvd; Reset Sent → Reset Recvd. */
export type SendState = 'ready' | 'send' | 'data_sent' | 'data_received' | 'reset_sent' | 'reset_received';

/** Receiving part (RFC 9000 §3.2, Figure 3): Recv → Size Known → Data Recvd → Data Read; Reset Recvd → Reset Read. */
export type RecvState =
  'receive' | 'size_known' | 'data_received' | 'data_read' | 'reset_received' | 'reset_read';

/** Composite state of a stream (RFC 9000 §3.4 Table 2; qlog BaseStreamStates plus the half-closed pair). */
export type CompositeState = 'idle' | 'open' | 'half_closed_local' | 'half_closed_remote' | 'closed';

/** Every qlog StreamState (§5.13): base, granular, and 'destroyed' (state freed). */
export type StreamState = SendState | RecvState | CompositeState | 'destroyed';

/** One stream state transition, shaped like qlog's QUICStreamStateUpdated (camelCase). */
export interface StreamStateUpdate {
  streamId: number;
  streamType: StreamType;
  streamSide: 'sending' | 'receiving';
  /** Absent when the part was just created. */
  old?: StreamState;
  new: StreamState;
  /** Who caused it when that is meaningful: the application ('local') or a peer frame ('remote'). */
  trigger?: 'local' | 'remote';
}

/** Called once per transition (never per byte). */
export type StreamObserver = (update: StreamStateUpdate) => void;

/** Whether a sending part is in a terminal state (Data Recvd or Reset Recvd, §3.1). */
export function isSendTerminal(s: SendState): boolean {
  return s === 'data_received' || s === 'reset_received';
}

/** Whether a receiving part is in a terminal state (Data Read or Reset Read, §3.2). */
export function isRecvTerminal(s: RecvState): boolean {
  return s === 'data_read' || s === 'reset_read';
}

/**
 * RFC 9000 §3.4 Table 2 for a bidirectional stream. A unidirectional stream has one part (pass
 * null for the other) and is 'open' until that part is terminal, then 'closed'. `idle` is for a part
 * that has neither sent nor received anything yet (Table 2 note *1).
 */
export function compositeState(send: SendState | null, recv: RecvState | null, idle = false): CompositeState {
  if (idle) return 'idle';
  if (send === null) return recv === null || isRecvTerminal(recv) ? 'closed' : 'open';
  if (recv === null) return isSendTerminal(send) ? 'closed' : 'open';
  const sendDone = send === 'data_received' || send === 'reset_sent' || send === 'reset_received';
  const recvDone = recv !== 'receive' && recv !== 'size_known';
  if (sendDone && recvDone) return 'closed';
  if (sendDone) return 'half_closed_local';
  if (recvDone) return 'half_closed_remote';
  return 'open';
}

/**
 * Raised to the application by `RecvStream.read` once the peer has reset the stream (RFC 9000
 * §3.2: "App Read Reset"), carrying the peer's application error code.
 */
export class StreamResetError extends Error {
  override readonly name = 'StreamResetError';
  constructor(
    readonly streamId: number,
    readonly errorCode: number,
  ) {
    super(`stream ${streamId} was reset by the peer with application error 0x${errorCode.toString(16)}`);
  }
}

/**
 * Raised to the application by `SendStream.write` once the sending part is reset, either by the
 * application itself or because the peer sent STOP_SENDING (`byPeer`, RFC 9000 §3.5).
 */
export class StreamStoppedError extends Error {
  override readonly name = 'StreamStoppedError';
  constructor(
    readonly streamId: number,
    readonly errorCode: number,
    readonly byPeer: boolean,
  ) {
    super(
      byPeer
        ? `peer sent STOP_SENDING on stream ${streamId} with application error 0x${errorCode.toString(16)}`
        : `stream ${streamId} was reset locally with application error 0x${errorCode.toString(16)}`,
    );
  }
}
