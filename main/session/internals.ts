/**
 * The few things the window shows that the Connection API does not expose yet, read from its
 * internal state (`connectionState`, "for tests and tools in this repository"): per-stream
 * counters and credit, the certificate verdict, the next stream ID. Kept in this one file so that
 * a public API (e.g. `conn.streamStats(id)`, `conn.peerCertificateVerdict()`) can replace it.
 */
import { connectionState } from '../../core/connection/connection.ts';
import type { Connection } from '../../core/connection/connection.ts';
import type { CertificateVerdictInfo, StreamRow } from '../ipc/contract.ts';

/** Refreshes the live counters of every open stream into its row; calls `changed` for rows that moved. */
export function pollStreams(
  conn: Connection,
  row: (id: number) => StreamRow,
  changed: (id: number) => void,
): void {
  const s = connectionState(conn);
  for (const st of s.streams.values()) if (refresh(st, row(st.id))) changed(st.id);
}

/** Refreshes one stream's row if the stream still exists; true when the row changed. */
export function pollStream(conn: Connection, id: number, r: StreamRow): boolean {
  const st = connectionState(conn).streams.get(id);
  return st !== undefined && refresh(st, r);
}

type LiveStream = NonNullable<ReturnType<ReturnType<typeof connectionState>['streams']['get']>>;

function refresh(st: LiveStream, r: StreamRow): boolean {
  // States come from quic:stream_state_updated (in order); only counters are read here.
  let moved = false;
  const send = st.send;
  if (send !== null) {
    const sent = send.sentOffset;
    const acked = send.stats.acknowledged;
    const credit = Math.max(0, send.fc.available);
    // RFC 9000 §3.1: Data Sent and Data Recvd come after the FIN was sent.
    const finSent = send.state === 'data_sent' || send.state === 'data_received';
    if (
      r.bytesSent !== sent ||
      r.bytesAcked !== acked ||
      r.sendCredit !== credit ||
      r.finSent !== finSent ||
      r.resetSent !== send.resetCode ||
      r.stopReceived !== send.stopSendingCode
    ) {
      r.bytesSent = sent;
      r.bytesAcked = acked;
      r.sendCredit = credit;
      r.finSent = finSent;
      r.resetSent = send.resetCode;
      r.stopReceived = send.stopSendingCode;
      moved = true;
    }
  }
  const recv = st.recv;
  if (recv !== null) {
    const received = recv.stats.received;
    const finReceived = recv.finalSize !== null && recv.resetCode === null;
    if (
      r.bytesReceived !== received ||
      r.finReceived !== finReceived ||
      r.resetReceived !== recv.resetCode ||
      r.stopSent !== recv.stopCode
    ) {
      r.bytesReceived = received;
      r.finReceived = finReceived;
      r.resetReceived = recv.resetCode;
      r.stopSent = recv.stopCode;
      moved = true;
    }
  }
  return moved;
}

/** The verdict on the peer's certificate chain, once TLS checked it. */
export function certificateVerdict(conn: Connection): CertificateVerdictInfo | null {
  const v = connectionState(conn).certificateVerdict;
  if (v === null) return null;
  const out: CertificateVerdictInfo = { ok: v.ok };
  if (v.reason !== undefined) out.reason = v.reason;
  if (v.message !== undefined) out.message = v.message;
  if (v.ignored !== undefined) out.ignored = v.ignored;
  return out;
}

/** The ID our next stream of that direction gets (RFC 9000 §2.1). */
export function nextLocalStreamId(conn: Connection, direction: 'bidi' | 'uni'): number {
  return connectionState(conn).streams.nextLocalId(direction === 'bidi' ? 'bidirectional' : 'unidirectional');
}

/** Whether stream `id` exists (opened and not yet forgotten). */
export function streamExists(conn: Connection, id: number): boolean {
  return connectionState(conn).streams.get(id) !== undefined;
}

/**
 * The peer's certificate chain (DER, leaf first). When TLS rejects the chain, the connection
 * closes before it takes the TLS events queued with the rejection, so `peerCertificateChain()` is
 * still empty: the TLS session's own copy is read then (core/connection/handshake.ts
 * processTlsEvents is skipped when tls.receive throws).
 */
export function peerCertificateChain(conn: Connection): readonly Uint8Array[] {
  const chain = conn.peerCertificateChain();
  if (chain.length > 0) return chain;
  return connectionState(conn).tls?.peerCertificates ?? [];
}
