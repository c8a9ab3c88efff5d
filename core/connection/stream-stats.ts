/**
 * Read-only snapshots of a connection's streams for tools and the diagnostic UI
 * (`Connection.streamStats(id)`, `Connection.streams()`): the RFC 9000 §3 state of each part, its
 * byte counters, the peer's flow-control credit (§4.1), and the FIN, RESET_STREAM and
 * STOP_SENDING facts. Plain objects, made on each call: nothing in them changes afterwards.
 */
import type { RecvState, SendState } from '../stream/state.ts';
import type { Stream } from '../stream/stream.ts';

/** The sending part of a stream (RFC 9000 §3.1). */
export interface SendPartStats {
  state: SendState;
  /** Bytes the application wrote. */
  bytesWritten: number;
  /** The largest offset sent (the stream flow-control credit used, §4.1). */
  bytesSent: number;
  /** Bytes the peer acknowledged. */
  bytesAcked: number;
  /** Bytes sent again after a loss. */
  bytesRetransmitted: number;
  /** Bytes the peer's MAX_STREAM_DATA still lets us send on this stream (§4.1). */
  credit: number;
  /** The FIN was sent (§3.1 Data Sent, Data Recvd). */
  finSent: boolean;
  /** The code of the RESET_STREAM we sent (§19.4), or null. */
  resetCode: number | null;
  /** The code of the peer's STOP_SENDING (§19.5), or null. */
  stopSendingCode: number | null;
}

/** The receiving part of a stream (RFC 9000 §3.2). */
export interface RecvPartStats {
  state: RecvState;
  /** New bytes received (duplicates not counted). */
  bytesReceived: number;
  /** Bytes the application read. */
  bytesRead: number;
  /** The final size, once a FIN or RESET_STREAM told it (§4.5), or null. */
  finalSize: number | null;
  /** A FIN arrived (the stream was not reset). */
  finReceived: boolean;
  /** The code of the peer's RESET_STREAM (§19.4), or null. */
  resetCode: number | null;
  /** The code of the STOP_SENDING we sent (§19.5), or null. */
  stopCode: number | null;
}

/** One stream: its ID and each part it has (a unidirectional stream has one, §2.1). */
export interface StreamStats {
  id: number;
  /** Null for a unidirectional stream the peer opened. */
  send: SendPartStats | null;
  /** Null for a unidirectional stream we opened. */
  recv: RecvPartStats | null;
}

/** A snapshot of `st`. */
export function streamStatsOf(st: Stream): StreamStats {
  const send = st.send;
  const recv = st.recv;
  return {
    id: st.id,
    send:
      send === null
        ? null
        : {
            state: send.state,
            bytesWritten: send.writtenOffset,
            bytesSent: send.sentOffset,
            bytesAcked: send.stats.acknowledged,
            bytesRetransmitted: send.stats.retransmitted,
            credit: Math.max(0, send.fc.available),
            // RFC 9000 §3.1: Data Sent and Data Recvd come after the FIN was sent.
            finSent: send.state === 'data_sent' || send.state === 'data_received',
            resetCode: send.resetCode,
            stopSendingCode: send.stopSendingCode,
          },
    recv:
      recv === null
        ? null
        : {
            state: recv.state,
            bytesReceived: recv.stats.received,
            bytesRead: recv.stats.read,
            finalSize: recv.finalSize,
            finReceived: recv.finalSize !== null && recv.resetCode === null,
            resetCode: recv.resetCode,
            stopCode: recv.stopCode,
          },
  };
}
