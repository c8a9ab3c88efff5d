/**
 * The UDP sockets of one endpoint, one per local address a connection path uses (RFC 9000 §9):
 * the endpoint's first socket, a client's sockets for `migrate()`, a server's sockets for its
 * preferred addresses (§9.6). Each socket has the address datagrams on it arrive at (what
 * `RecvInfo.to` reports) and leave from (what `SendInfo.from` names); sending looks the socket up
 * by that address.
 *
 * A socket may be connected to one peer (the client's: ICMP errors surface as ECONNREFUSED). A
 * connected socket can neither send to nor receive from another address, so the first datagram
 * a connection sends elsewhere (the server's preferred address, a probe) disconnects it first.
 * Such a socket must have been bound with an explicit port (udp.ts bindFixedPort): Linux gives a
 * socket bound to port 0 a new port when it is disconnected.
 */
import type dgram from 'node:dgram';
import { sameAddress } from '../../core/connection/address.ts';
import type { Address } from '../../core/connection/types.ts';

/** One bound socket of an endpoint. */
export interface BoundSocket {
  readonly socket: dgram.Socket;
  /** Where datagrams on it arrive (RecvInfo.to) and leave from (SendInfo.from). */
  readonly local: Address;
  /** The peer the socket is connected to (it sends without an address), or null. */
  connected: Address | null;
  /** When it was bound and when a datagram last left from it (clock() ms). */
  readonly created: number;
  lastSend: number;
  /** Why it exists, for the rules that close idle sockets. */
  readonly role: 'primary' | 'migration' | 'preferred';
  closed: boolean;
}

/** The sockets of an endpoint, found by local address. */
export class SocketSet {
  /** Every open socket; the first is the one new connections use (`primary`). */
  readonly list: BoundSocket[] = [];

  /** The socket new connections use (the client's `connect()`, the server's first address). */
  get primary(): BoundSocket | null {
    return this.list.length > 0 ? this.list[0] : null;
  }

  /** Adds an open socket (last, or first when `primary`). */
  add(b: BoundSocket, primary = false): void {
    if (primary) this.list.unshift(b);
    else this.list.push(b);
  }

  /** Makes `b` the socket new connections use. */
  promote(b: BoundSocket): void {
    const i = this.list.indexOf(b);
    if (i > 0) {
      this.list.splice(i, 1);
      this.list.unshift(b);
    }
  }

  /**
   * The socket whose address is `from` (a SendInfo.from): the primary first (the per-datagram
   * fast path compares port and text), then the others; null when none (closed since).
   */
  find(from: Address): BoundSocket | null {
    const list = this.list;
    const first = list.length > 0 ? list[0] : null;
    if (first !== null && first.local.port === from.port && first.local.address === from.address)
      return first;
    for (let i = 0; i < list.length; i++) if (sameAddress(list[i].local, from)) return list[i];
    return null;
  }

  /** Closes `b` and forgets it. */
  close(b: BoundSocket): void {
    const i = this.list.indexOf(b);
    if (i >= 0) this.list.splice(i, 1);
    closeQuietly(b);
  }

  /** Closes every socket. */
  closeAll(): void {
    for (const b of this.list) closeQuietly(b);
    this.list.length = 0;
  }

  /** The local addresses, primary first. */
  addresses(): Address[] {
    return this.list.map((b) => ({ address: b.local.address, port: b.local.port }));
  }
}

/**
 * Sends `buf[0, length)` from `b` to `to`: without an address on a socket connected to `to`; a
 * socket connected elsewhere is disconnected first (Node ≥ 12), for good. Throws what dgram throws.
 */
export function sendFrom(
  b: BoundSocket,
  buf: Buffer,
  length: number,
  to: Address,
  callback: (err: Error | null) => void,
): void {
  const peer = b.connected;
  if (peer !== null) {
    if (peer.port === to.port && (peer.address === to.address || sameAddress(peer, to))) {
      b.socket.send(buf, 0, length, callback);
      return;
    }
    disconnect(b);
  }
  b.socket.send(buf, 0, length, to.port, to.address, callback);
}

/** Disconnects a connected socket (it then sends with an address, and receives from anyone). */
export function disconnect(b: BoundSocket): void {
  if (b.connected === null) return;
  b.connected = null;
  try {
    b.socket.disconnect();
  } catch {
    // ERR_SOCKET_DGRAM_NOT_CONNECTED: nothing to undo
  }
}

function closeQuietly(b: BoundSocket): void {
  if (b.closed) return;
  b.closed = true;
  try {
    b.socket.close();
  } catch {
    // already closed
  }
}
