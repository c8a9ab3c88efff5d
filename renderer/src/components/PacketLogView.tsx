import { useId, useRef, useState, type ReactNode } from 'react';
import type { PacketLog } from '../store/packet-log.ts';
import {
  FRAME_TYPES,
  PACKET_TYPES,
  PACKET_TYPE_LABEL,
  frameLabel,
  framesSummary,
  hasFrame,
  type PacketRow,
} from '../lib/qlog.ts';
import { formatCount, formatOffset } from '../lib/format.ts';
import { VirtualList } from './VirtualList.tsx';

interface Filter {
  direction: '' | 'sent' | 'received';
  type: string;
  frame: string;
}

function matches(row: PacketRow, f: Filter): boolean {
  if (f.direction !== '' && row.direction !== f.direction) return false;
  if (f.type !== '' && row.type !== f.type) return false;
  if (f.frame !== '' && !hasFrame(row, f.frame)) return false;
  return true;
}

interface FilterCache {
  key: string;
  log: PacketLog;
  first: number;
  scanned: number;
  indices: number[];
}

/** Absolute packet indices matching the filter, extended incrementally as the log grows. */
function useFiltered(log: PacketLog, filter: Filter): number[] {
  const cache = useRef<FilterCache | null>(null);
  const key = `${filter.direction}|${filter.type}|${filter.frame}`;
  let c = cache.current;
  if (c === null || c.key !== key || c.log !== log || c.first !== log.first) {
    c = { key, log, first: log.first, scanned: log.first, indices: [] };
    cache.current = c;
  }
  const all = key === '||';
  for (let i = c.scanned; i < log.total; i++) {
    const row = log.at(i);
    if (row !== undefined && (all || matches(row, filter))) c.indices.push(i);
  }
  c.scanned = log.total;
  return c.indices;
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function PacketDetail(props: { row: PacketRow }): ReactNode {
  const r = props.row;
  return (
    <div className="packet-detail" aria-live="polite" data-testid="packet-detail">
      <h3>
        {r.direction === 'sent' ? 'Sent' : 'Received'} {PACKET_TYPE_LABEL[r.type] ?? r.type} packet
        {r.pn !== null ? ` #${r.pn}` : ''}
        {r.lost && <span className="badge bad">declared lost</span>}
      </h3>
      <dl className="kv">
        <dt>Time</dt>
        <dd>{formatOffset(r.time)} ms</dd>
        <dt>Size</dt>
        <dd>{r.size === null ? '—' : `${r.size} bytes`}</dd>
        {r.trigger !== undefined && (
          <>
            <dt>Trigger</dt>
            <dd>{r.trigger}</dd>
          </>
        )}
        {r.versions !== undefined && (
          <>
            <dt>Versions</dt>
            <dd>{r.versions.join(', ')}</dd>
          </>
        )}
      </dl>
      <h4>Frames ({r.frames.length})</h4>
      <ol className="frames-list">
        {r.frames.map((f, i) => (
          <li key={i}>
            <div className="frame-title">{frameLabel(f)}</div>
            <pre className="frame-json">{JSON.stringify(f, null, 2)}</pre>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The packet log: every packet_sent / packet_received event, filterable, virtualised; select one for its frames. */
export function PacketLogView(props: { log: PacketLog; version: number }): ReactNode {
  const { log } = props;
  const id = useId();
  const [filter, setFilter] = useState<Filter>({ direction: '', type: '', frame: '' });
  const [selected, setSelected] = useState<number | null>(null);
  const [follow, setFollow] = useState(true);
  const indices = useFiltered(log, filter);
  const selectedPos = selected === null ? -1 : lowerBound(indices, selected);
  const selectedRow = selected === null ? undefined : log.at(selected);
  const setF = <K extends keyof Filter>(k: K, v: Filter[K]) => setFilter((f) => ({ ...f, [k]: v }));

  return (
    <div className="packet-log">
      <div className="card packet-list-card">
        <div className="toolbar" role="group" aria-label="Packet filters">
          <label htmlFor={`${id}-dir`}>Direction</label>
          <select
            id={`${id}-dir`}
            value={filter.direction}
            onChange={(e) => setF('direction', e.target.value as Filter['direction'])}
          >
            <option value="">both</option>
            <option value="sent">sent</option>
            <option value="received">received</option>
          </select>
          <label htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} value={filter.type} onChange={(e) => setF('type', e.target.value)}>
            <option value="">any</option>
            {PACKET_TYPES.map((t) => (
              <option key={t} value={t}>
                {PACKET_TYPE_LABEL[t]}
              </option>
            ))}
          </select>
          <label htmlFor={`${id}-frame`}>Frame</label>
          <select id={`${id}-frame`} value={filter.frame} onChange={(e) => setF('frame', e.target.value)}>
            <option value="">any</option>
            {FRAME_TYPES.map((t) => (
              <option key={t} value={t}>
                {t.toUpperCase()}
              </option>
            ))}
          </select>
          <label className="check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
            Follow newest
          </label>
          <span className="hint" data-testid="packet-count">
            {formatCount(indices.length)} of {formatCount(log.total)} packets
            {log.first > 0 ? ` (oldest ${formatCount(log.first)} dropped)` : ''}
            {log.lost > 0 ? ` · ${formatCount(log.lost)} lost` : ''}
          </span>
        </div>
        <div className="pkt-head" aria-hidden="true">
          <span>Time (ms)</span>
          <span>Dir</span>
          <span>Type</span>
          <span>PN</span>
          <span>Size</span>
          <span>Frames</span>
        </div>
        <VirtualList
          items={indices}
          rowHeight={24}
          label="Packets"
          className="packets"
          follow={follow}
          selectedIndex={selectedPos < indices.length && indices[selectedPos] === selected ? selectedPos : -1}
          onSelect={(i) => {
            setSelected(indices[i]);
            setFollow(false);
          }}
          rowKey={(idx) => idx}
          renderRow={(idx) => {
            const r = log.at(idx);
            if (r === undefined) return null;
            return (
              <div className={`pkt-row ${r.direction} t-${r.type}${r.lost ? ' lost' : ''}`}>
                <span>{formatOffset(r.time)}</span>
                <span aria-label={r.direction}>{r.direction === 'sent' ? '→' : '←'}</span>
                <span>{PACKET_TYPE_LABEL[r.type] ?? r.type}</span>
                <span>{r.pn ?? ''}</span>
                <span>{r.size ?? ''}</span>
                <span className="frames">{framesSummary(r.frames)}</span>
              </div>
            );
          }}
        />
      </div>
      <div className="card packet-detail-card">
        {selectedRow !== undefined ? (
          <PacketDetail row={selectedRow} />
        ) : (
          <p className="empty">
            Select a packet (click, or focus the list and use the arrow keys) to see its frames.
          </p>
        )}
      </div>
    </div>
  );
}
