import { useMemo, type ReactNode } from 'react';
import type { StreamRow } from '../store/types.ts';
import { formatBytes } from '../lib/format.ts';

function stateText(s: string | null): string {
  return s === null ? '—' : s.replace(/_/g, ' ');
}

function endText(r: StreamRow): string {
  const parts: string[] = [];
  if (r.finSent) parts.push('FIN sent');
  if (r.finReceived) parts.push('FIN received');
  if (r.resetSent !== null) parts.push(`RESET_STREAM sent (${r.resetSent})`);
  if (r.resetReceived !== null) parts.push(`RESET_STREAM received (${r.resetReceived})`);
  if (r.stopSent !== null) parts.push(`STOP_SENDING sent (${r.stopSent})`);
  if (r.stopReceived !== null) parts.push(`STOP_SENDING received (${r.stopReceived})`);
  return parts.join(', ');
}

/** RFC 9000 §2.1: the two low bits of a stream id say who opened it and in which direction. */
function idLabel(id: number): string {
  return `${id} (0x${id.toString(16)})`;
}

/** Every stream: id, initiator, direction, RFC 9000 §3 states, bytes, flow-control credit, FIN or reset. */
export function StreamsTable(props: { streams: Record<number, StreamRow> }): ReactNode {
  const rows = useMemo(() => Object.values(props.streams).sort((a, b) => a.id - b.id), [props.streams]);
  if (rows.length === 0) return <p className="empty card">No stream yet.</p>;
  return (
    <div className="card table-scroll">
      <table className="data streams" data-testid="streams-table">
        <caption className="sr-only">Streams</caption>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">Opened by</th>
            <th scope="col">Dir</th>
            <th scope="col">Carries</th>
            <th scope="col">Send state</th>
            <th scope="col">Receive state</th>
            <th scope="col" className="num">
              Sent
            </th>
            <th scope="col" className="num">
              Acked
            </th>
            <th scope="col" className="num">
              Received
            </th>
            <th scope="col" className="num">
              Credit
            </th>
            <th scope="col" className="num">
              Queued
            </th>
            <th scope="col">End</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">{idLabel(r.id)}</th>
              <td>{r.initiator === 'local' ? 'us' : 'peer'}</td>
              <td>{r.direction}</td>
              <td>{r.kind.replace(/_/g, ' ')}</td>
              <td>{stateText(r.sendState)}</td>
              <td>{stateText(r.recvState)}</td>
              <td className="num">{formatBytes(r.bytesSent)}</td>
              <td className="num">{formatBytes(r.bytesAcked)}</td>
              <td className="num">{formatBytes(r.bytesReceived)}</td>
              <td className="num">{r.sendCredit === null ? '—' : formatBytes(r.sendCredit)}</td>
              <td className="num">{r.queued > 0 ? formatBytes(r.queued) : ''}</td>
              <td>{endText(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
