/**
 * The types a StreamMap is configured with and speaks: the transport parameters it needs, its
 * options, the control frames it asks the connection to send, and its counters.
 */
import type {
  DataBlockedFrame,
  MaxDataFrame,
  MaxStreamDataFrame,
  MaxStreamsFrame,
  ResetStreamFrame,
  StopSendingFrame,
  StreamDataBlockedFrame,
  StreamsBlockedFrame,
} from '../wire/frame-types.ts';
import type { StreamObserver } from './state.ts';
import type { Role } from './stream-id.ts';

/** The flow control and stream limit transport parameters (RFC 9000 §18.2), ours or the peer's. */
export interface StreamLimits {
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
}

/** StreamMap configuration. */
export interface StreamMapOptions {
  /** This endpoint's role: decides which stream IDs are local (§2.1). */
  role: Role;
  /** The limits this endpoint advertises in its transport parameters. */
  local: StreamLimits;
  /** The peer's limits when already known (e.g. remembered for 0-RTT); see `setPeerLimits`. */
  peer?: StreamLimits | null;
  /** Auto-tuning cap for a stream's receive window; default max(16 MiB, initial). */
  maxStreamWindow?: number;
  /** Auto-tuning cap for the connection's receive window; default max(24 MiB, initial_max_data). */
  maxConnectionWindow?: number;
  /** Per-stream cap on unacknowledged bytes held for sending; default 1 MiB. */
  sendBufferLimit?: number;
  /** Told of every stream state transition (qlog stream_state_updated). */
  observer?: StreamObserver | null;
}

/** Frames the StreamMap asks the connection to send (shapes from core/wire/frame-types.ts). */
export type StreamControlFrame =
  | ResetStreamFrame
  | StopSendingFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame;

/** Upper bound on the encoded size of any `StreamControlFrame` (RESET_STREAM: 1 + 3 × 8 bytes). */
export const MAX_CONTROL_FRAME_SIZE = 25;
/** Stream counts, for the diagnostic UI. */
export interface StreamMapStats {
  openedLocal: number;
  openedPeer: number;
  closed: number;
}
