/**
 * The packet log of one session: packet_sent / packet_received qlog events as rows, appended in
 * place (no copy per batch) and bounded; quic:packet_lost marks the sent row it names.
 */
import type { QlogEvent } from '../../../main/ipc/contract.ts';
import { packetRow, type PacketRow } from '../lib/qlog.ts';

/** Most packets the window keeps per session (the oldest fifth is dropped past it). */
export const MAX_PACKETS = 150_000;

function spaceOf(type: string): string | null {
  if (type === 'initial') return 'initial';
  if (type === 'handshake') return 'handshake';
  if (type === '0RTT' || type === '1RTT') return 'application_data';
  return null;
}

/** An append-only, bounded list of packet rows with lookup of sent packets by number. */
export class PacketLog {
  /** Rows, oldest first; `rows[i].index === first + i`. */
  rows: PacketRow[] = [];
  /** Index of rows[0] (grows when the head is trimmed). */
  first = 0;
  /** Rows ever added. */
  total = 0;
  lost = 0;
  /** The row the last quic:packet_lost marked (null if it named no packet we have). */
  lastLost: PacketRow | null = null;
  /** Sent rows per packet number space, in packet-number order (RFC 9000 §12.3: numbers increase). */
  private readonly sent = new Map<string, PacketRow[]>();

  /** Adds the packet of `ev` (if it is a packet event) or applies a packet_lost; true if changed. */
  add(ev: QlogEvent): boolean {
    if (ev.name === 'quic:packet_lost')
      return this.markLost(ev.data.header?.packet_type, ev.data.header?.packet_number);
    const row = packetRow(ev, this.total);
    if (row === null) return false;
    this.total++;
    this.rows.push(row);
    if (row.direction === 'sent' && row.pn !== null) {
      const space = spaceOf(row.type);
      if (space !== null) {
        let list = this.sent.get(space);
        if (list === undefined) this.sent.set(space, (list = []));
        list.push(row);
      }
    }
    if (this.rows.length > MAX_PACKETS) this.trim();
    return true;
  }

  /** The row with absolute index `i`, if still kept. */
  at(i: number): PacketRow | undefined {
    return this.rows[i - this.first];
  }

  private markLost(type: string | undefined, pn: number | undefined): boolean {
    this.lastLost = null;
    if (type === undefined || pn === undefined) return false;
    const list = this.sent.get(spaceOf(type) ?? '');
    if (list === undefined) return false;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = list[mid].pn as number;
      if (p === pn) {
        if (!list[mid].lost) {
          list[mid].lost = true;
          this.lost++;
        }
        this.lastLost = list[mid];
        return true;
      }
      if (p < pn) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  private trim(): void {
    const drop = Math.floor(MAX_PACKETS / 5);
    this.rows = this.rows.slice(drop);
    this.first += drop;
    for (const [space, list] of this.sent) {
      let k = 0;
      while (k < list.length && list[k].index < this.first) k++;
      this.sent.set(space, list.slice(k));
    }
  }
}
