/**
 * What the server and client endpoints share: UDP sockets driving many sans-IO Connections.
 *
 * - Sockets (sockets.ts): one per local address a path uses. A datagram received on a socket is
 *   passed with `RecvInfo.to` = that socket's address; each datagram a connection sends leaves
 *   from the socket whose address is its `SendInfo.from` (RFC 9000 §9: migration, preferred
 *   address), to its `SendInfo.to` (the server follows a client that moved, §9.3).
 *
 * - Receiving: each datagram goes to its connection (`route`, per subclass) and marks it dirty;
 *   sending waits for the event loop's check phase (setImmediate), so the datagrams read in one
 *   poll are all processed before anything is sent (ACKs cover several packets).
 * - Sending: each dirty connection's `send()` writes straight into a pooled buffer (udp.ts) until
 *   it returns null, until a datagram's pacing time `at` is in the future (the datagram is held
 *   and the connection scheduled for `at`: no busy-wait), or until a per-connection burst is
 *   sent (then the connection goes back in line, after the event loop had a turn).
 * - Time: one setTimeout per endpoint, armed for the earliest deadline in a heap of connections
 *   (conn.timeout(), held datagrams, handshake deadlines); never one timer per connection.
 * - Clock: epoch milliseconds from `performance` (monotonic, sub-ms), so certificate validity
 *   checks and traces see real time.
 */
import type dgram from 'node:dgram';
import { sameAddress } from '../../core/connection/address.ts';
import type { CidEvent } from '../../core/connection/cid.ts';
import type { Address, RecvInfo } from '../../core/connection/types.ts';
import { CidRouter } from '../../core/endpoint/cid-router.ts';
import { DeadlineHeap } from '../../core/endpoint/deadline-heap.ts';
import { EndpointError, socketError } from './errors.ts';
import type { CloseInfo } from './errors.ts';
import { Emitter } from './events.ts';
import { describeClose, QuicConnectionHandle } from './handle.ts';
import { sendFrom, SocketSet } from './sockets.ts';
import type { BoundSocket } from './sockets.ts';
import { clock, enlargeBuffers, SendSlots } from './udp.ts';
import type { SendSlot } from './udp.ts';

export { describeClose, QuicConnectionHandle };
export type { ConnectionEvents } from './handle.ts';

/** One datagram sent or received, for traces (pcapng). `data` is valid during the callback only. */
export interface DatagramEvent {
  direction: 'sent' | 'received';
  data: Uint8Array;
  from: Address;
  to: Address;
  /** Epoch milliseconds. */
  time: number;
}

/** Endpoint counters. */
export interface EndpointStats {
  datagramsReceived: number;
  bytesReceived: number;
  datagramsSent: number;
  bytesSent: number;
  /** Datagrams dropped without an answer, by reason. */
  dropped: Record<string, number>;
  versionNegotiationSent: number;
  retrySent: number;
  statelessResetSent: number;
  refusedSent: number;
  invalidTokenSent: number;
  /** Connections created / currently open / currently in their handshake. */
  connectionsCreated: number;
  connections: number;
  handshakes: number;
  /** Send errors reported by the socket. */
  sendErrors: number;
  /** Datagrams a connection wrote for a local address with no open socket (not sent). */
  unsendable: number;
  /** Open UDP sockets (more than one with migration or a preferred address). */
  sockets: number;
}

/** Events of an endpoint. */
export type EndpointEvents = {
  /** A new connection (server: a client's accepted Initial; client: `connect`). */
  connection: [QuicConnectionHandle];
  /** A datagram was sent or received (after the connection processed it). */
  datagram: [DatagramEvent];
  /** A socket error that is not tied to one connection. */
  error: [EndpointError];
  /** The endpoint closed its sockets. */
  close: [];
};

/** Datagrams one connection sends in a row before the others get a turn. */
const BURST = 32;
/** A datagram is sent now if its pacing time is at most this close (timers have ms precision). */
const PACING_SLACK = 1;
/** Peer addresses remembered per connection for stateless reset detection (its paths, §9). */
const PEERS_PER_CONNECTION = 4;

/** The machinery shared by QuicServerEndpoint and QuicClientEndpoint. */
export abstract class QuicEndpointBase extends Emitter<EndpointEvents> {
  /** The bound sockets; the primary one first. */
  protected readonly sockets = new SocketSet();
  protected readonly handles = new Set<QuicConnectionHandle>();
  protected readonly router: CidRouter<QuicConnectionHandle>;
  protected readonly slots: SendSlots;
  protected readonly counters: EndpointStats = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    bytesSent: 0,
    dropped: {},
    versionNegotiationSent: 0,
    retrySent: 0,
    statelessResetSent: 0,
    refusedSent: 0,
    invalidTokenSent: 0,
    connectionsCreated: 0,
    connections: 0,
    handshakes: 0,
    sendErrors: 0,
    unsendable: 0,
    sockets: 0,
  };
  private readonly heap = new DeadlineHeap<QuicConnectionHandle>();
  /** Connections by the peer addresses they sent to (stateless reset detection). */
  private readonly byPeer = new Map<string, Set<QuicConnectionHandle>>();
  private dirtyList: QuicConnectionHandle[] = [];
  private spareList: QuicConnectionHandle[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly recvInfo: RecvInfo = { from: { address: '', port: 0 }, to: { address: '', port: 0 } };
  private slotStarved = false;
  /** Resolves when the last connection is gone (graceful close). */
  private onEmpty: (() => void) | null = null;
  protected closedSocket = false;

  constructor(cidLength: number, datagramSize: number, seed: Uint8Array) {
    super();
    this.router = new CidRouter<QuicConnectionHandle>(cidLength, seed);
    this.slots = new SendSlots(Math.max(2048, datagramSize), 1024, () => {
      if (this.slotStarved) {
        this.slotStarved = false;
        this.scheduleFlush();
      }
    });
  }

  /** The bound local address of the primary socket (the one new connections use). */
  get address(): Address {
    const p = this.sockets.primary;
    return p === null ? { address: '0.0.0.0', port: 0 } : { ...p.local };
  }

  /** The local addresses of every open socket, the primary one first. */
  get localAddresses(): Address[] {
    return this.sockets.addresses();
  }

  /** Counters (a snapshot). */
  stats(): EndpointStats {
    const c = this.counters;
    return {
      ...c,
      dropped: { ...c.dropped },
      connections: this.handles.size,
      sendErrors: this.slots.errors,
      sockets: this.sockets.list.length,
    };
  }

  /** The connections the endpoint drives. */
  connections(): QuicConnectionHandle[] {
    return [...this.handles];
  }

  /**
   * Finds the connection for a datagram that arrived on `via`, or answers / drops it (stateless)
   * and returns null. `from` is Node's rinfo (it has `address` and `port`).
   */
  protected abstract route(
    datagram: Buffer,
    from: Address,
    via: BoundSocket,
    now: number,
  ): QuicConnectionHandle | null;

  /**
   * Starts receiving on a bound socket whose datagrams arrive at `local` (`connected`: the peer
   * it is connected to, or null) and adds it to the endpoint's sockets.
   */
  protected attach(
    socket: dgram.Socket,
    local: Address,
    role: BoundSocket['role'],
    connected: Address | null,
  ): BoundSocket {
    const now = clock();
    const b: BoundSocket = {
      socket,
      local: { address: local.address, port: local.port },
      connected: connected === null ? null : { address: connected.address, port: connected.port },
      created: now,
      lastSend: now,
      role,
      closed: false,
    };
    enlargeBuffers(socket);
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.receive(msg, rinfo, b));
    socket.on('error', (e: Error) => this.onSocketError(e, b));
    this.sockets.add(b, role === 'primary');
    return b;
  }

  /** A socket's 'error' event (ICMP errors on a connected socket, send failures): reported. */
  protected onSocketError(e: Error, b: BoundSocket): void {
    this.emit('error', socketError(e, `socket ${b.local.address}:${b.local.port}`));
  }

  /** The handshake completed (server: NEW_TOKEN, forget the client's first DCID). */
  protected onEstablished(_h: QuicConnectionHandle, _now: number): void {}

  /** Starts driving a new connection. */
  protected register(h: QuicConnectionHandle, cids: readonly Uint8Array[]): void {
    this.handles.add(h);
    this.notePeer(h, h.peer);
    this.counters.connectionsCreated++;
    this.counters.handshakes++;
    for (const cid of cids) this.addRoute(h, cid);
  }

  /**
   * Remembers that `h` talks to `peer` (its first address, then every address it sends to: the
   * server's preferred address, a client's new address), so a stateless reset from there is
   * recognised (§10.3.1). At most PEERS_PER_CONNECTION, the oldest forgotten first.
   */
  private notePeer(h: QuicConnectionHandle, peer: Address): void {
    h.lastTo = { address: peer.address, port: peer.port };
    const peers = h.peers;
    for (const p of peers) if (sameAddress(p, peer)) return;
    if (peers.length >= PEERS_PER_CONNECTION) this.forgetPeer(h, peers.shift() as Address);
    peers.push(h.lastTo);
    const key = peerKey(peer);
    let set = this.byPeer.get(key);
    if (set === undefined) this.byPeer.set(key, (set = new Set()));
    set.add(h);
  }

  private forgetPeer(h: QuicConnectionHandle, peer: Address): void {
    const key = peerKey(peer);
    const set = this.byPeer.get(key);
    if (set !== undefined && set.delete(h) && set.size === 0) this.byPeer.delete(key);
  }

  /**
   * RFC 9000 §10.3.1: a datagram that matches no connection may be a stateless reset. Each
   * connection that sent to that peer address checks its tail against the peer's reset tokens
   * (in constant time, inside Connection.recv); returns the connection that recognized one, or null.
   */
  protected detectStatelessReset(
    datagram: Uint8Array,
    from: Address,
    to: Address,
    now: number,
  ): QuicConnectionHandle | null {
    // §10.3: at least 21 bytes, and sent with a short header.
    if (datagram.length < 21 || (datagram[0] & 0x80) !== 0) return null;
    const set = this.byPeer.get(peerKey(from));
    if (set === undefined) return null;
    const info = this.recvInfo;
    for (const h of set) {
      if (h.done) continue;
      info.from = from;
      info.to = to;
      h.connection.recv(new Uint8Array(datagram), info, now); // a copy: recv works in place
      if (h.connection.isDraining() || h.connection.isClosed()) {
        h.activity = true;
        this.markDirty(h);
        return h;
      }
    }
    return null;
  }

  protected addRoute(h: QuicConnectionHandle, cid: Uint8Array): void {
    if (this.router.add(cid, h)) h.routes.push(cid);
  }

  protected removeRoute(h: QuicConnectionHandle, cid: Uint8Array): void {
    if (!this.router.remove(cid, h)) return;
    const i = h.routes.findIndex((c) => c.length === cid.length && c.every((b, j) => b === cid[j]));
    if (i >= 0) h.routes.splice(i, 1);
  }

  protected drop(reason: string): void {
    const d = this.counters.dropped;
    d[reason] = (d[reason] ?? 0) + 1;
  }

  /** A socket's 'message' listener: `via` is the socket, its address the datagram's RecvInfo.to. */
  private receive(msg: Buffer, rinfo: dgram.RemoteInfo, via: BoundSocket): void {
    if (via.closed) return;
    const now = clock();
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += msg.length;
    const h = this.route(msg, rinfo, via, now);
    const tracing = this.has('datagram');
    if (h === null) {
      if (tracing) this.traceDatagram('received', msg, rinfo, via.local, now);
      return;
    }
    // recv() removes header protection in place: keep the wire bytes for the trace.
    const wire = tracing ? new Uint8Array(msg) : null;
    const info = this.recvInfo;
    info.from = rinfo;
    info.to = via.local;
    h.connection.recv(msg, info, now);
    // pcapng.ts: a received datagram is written after its processing, so its secrets come first.
    if (wire !== null) this.traceDatagram('received', wire, rinfo, via.local, now);
    h.activity = true;
    this.markDirty(h);
  }

  private traceDatagram(
    direction: 'sent' | 'received',
    data: Uint8Array,
    from: Address,
    to: Address,
    time: number,
  ) {
    this.emit('datagram', {
      direction,
      // A plain Uint8Array view (a Buffer's slice() would be a view too, a trap for listeners).
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      from: { address: from.address, port: from.port },
      to: { address: to.address, port: to.port },
      time,
    });
  }

  /** Queues `h` for the next flush. */
  markDirty(h: QuicConnectionHandle): void {
    if (h.done) return;
    if (!h.dirty) {
      h.dirty = true;
      this.dirtyList.push(h);
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closedSocket) return;
    this.flushScheduled = true;
    setImmediate(this.flushAll);
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    const now = clock();
    const list = this.dirtyList;
    this.dirtyList = this.spareList;
    for (let i = 0; i < list.length; i++) {
      const h = list[i];
      h.dirty = false;
      if (!h.done) this.service(h, now);
    }
    list.length = 0;
    this.spareList = list;
    this.arm(now);
  };

  /** Events, then sends, then routing updates and the next deadline of one connection. */
  private service(h: QuicConnectionHandle, now: number): void {
    const conn = h.connection;
    if (!h.wasEstablished && conn.isEstablished()) {
      h.wasEstablished = true;
      h.handshakeDeadline = null;
      this.counters.handshakes--;
      this.onEstablished(h, now);
      h.resolveEstablished();
      h.notify('established');
    }
    if (h.activity) {
      h.activity = false;
      h.notify('activity');
    }
    if (h.done) return;
    const more = this.sendFrom(h, now);
    for (let e: CidEvent | null = conn.pollCidEvent(); e !== null; e = conn.pollCidEvent()) {
      if (e.kind === 'new') this.addRoute(h, e.cid);
      else this.removeRoute(h, e.cid);
    }
    if (conn.isClosed()) {
      this.finish(h);
      return;
    }
    let deadline = conn.timeout() ?? Infinity;
    if (h.heldSlot !== null && h.heldAt < deadline) deadline = h.heldAt;
    if (h.handshakeDeadline !== null && h.handshakeDeadline < deadline) deadline = h.handshakeDeadline;
    this.heap.schedule(h, deadline === Infinity ? null : deadline);
    if (more) this.markDirty(h);
  }

  /** Sends what `h` has; returns true when it has more (burst or buffers exhausted). */
  private sendFrom(h: QuicConnectionHandle, now: number): boolean {
    const conn = h.connection;
    if (h.heldSlot !== null) {
      if (h.heldAt > now + PACING_SLACK) return false;
      const slot = h.heldSlot;
      h.heldSlot = null;
      this.transmit(slot, h.heldLength, h.heldFrom as Address, h.heldTo as Address, now);
    }
    for (let n = 0; n < BURST; n++) {
      const slot = this.slots.take();
      if (slot === null) {
        this.slotStarved = true;
        return false; // resumed by the slot's return
      }
      const info = conn.send(slot.buf, now);
      if (info === null) {
        this.slots.give(slot);
        return false;
      }
      const to = info.to;
      const last = h.lastTo;
      if (last === null || last.port !== to.port || last.address !== to.address) this.notePeer(h, to);
      if (info.at > now + PACING_SLACK) {
        // RFC 9002 §7.7: hold the datagram until its pacing time.
        h.heldSlot = slot;
        h.heldLength = info.length;
        h.heldFrom = info.from;
        h.heldTo = to;
        h.heldAt = info.at;
        return false;
      }
      this.transmit(slot, info.length, info.from, to, now);
    }
    return true;
  }

  /**
   * Sends `slot.buf[0, length)` from the socket bound to `from` to `to`; the slot returns to the
   * pool in the send callback (or at once when it cannot be sent).
   */
  protected transmit(slot: SendSlot, length: number, from: Address, to: Address, now: number): void {
    const b = this.closedSocket ? null : this.sockets.find(from);
    if (b === null) {
      // No socket has that address (closed since): as if lost on the way, the connection recovers.
      if (!this.closedSocket) this.counters.unsendable++;
      this.slots.give(slot);
      return;
    }
    if (this.has('datagram')) this.traceDatagram('sent', slot.buf.subarray(0, length), b.local, to, now);
    this.counters.datagramsSent++;
    this.counters.bytesSent += length;
    b.lastSend = now;
    try {
      sendFrom(b, slot.buf, length, to, slot.done);
    } catch (e) {
      slot.done(e as Error);
    }
  }

  private arm(now: number): void {
    const next = this.heap.nextDeadline();
    if (next === null || this.closedSocket) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    // An earlier wake-up already armed serves: it re-arms for what is left when it fires.
    if (this.timer !== null && this.timerAt <= next) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(next - now)));
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = clock();
    for (let h = this.heap.popDue(now); h !== null; h = this.heap.popDue(now)) {
      if (h.handshakeDeadline !== null && now >= h.handshakeDeadline) {
        this.abandon(
          h,
          new EndpointError('handshake_timeout', 'the handshake did not complete in time'),
          true,
        );
        continue;
      }
      const t = h.connection.timeout();
      if (t !== null && t <= now) h.connection.onTimeout(now);
      if (!h.dirty) {
        h.dirty = true;
        this.dirtyList.push(h);
      }
    }
    this.flushAll();
  };

  /**
   * Stops driving `h` because of `error`; with `notifyPeer`, a CONNECTION_CLOSE (NO_ERROR) goes
   * out first, best effort.
   */
  protected abandon(h: QuicConnectionHandle, error: EndpointError, notifyPeer: boolean): void {
    if (h.done) return;
    h.failure = error;
    h.connection.close(false, 0, error.message);
    if (notifyPeer) this.sendFrom(h, clock());
    this.finish(h);
  }

  /** Forgets a connection that is gone and reports how it ended. */
  protected finish(h: QuicConnectionHandle): void {
    if (h.done) return;
    h.done = true;
    this.heap.remove(h);
    this.handles.delete(h);
    for (const p of h.peers) this.forgetPeer(h, p);
    h.peers.length = 0;
    for (const cid of h.routes) this.router.remove(cid, h);
    h.routes.length = 0;
    if (h.heldSlot !== null) {
      this.slots.give(h.heldSlot);
      h.heldSlot = null;
    }
    if (!h.wasEstablished) this.counters.handshakes--;
    const conn = h.connection;
    const info: CloseInfo = {
      local: conn.localError(),
      peer: conn.peerError(),
      timedOut: conn.isTimedOut(),
      error: h.failure,
    };
    if (!h.wasEstablished) {
      h.rejectEstablished(
        h.failure ?? new EndpointError('connection_closed', describeClose(info), { closeInfo: info }),
      );
    }
    h.resolveClosed(info);
    h.notify('closed', info);
    if (this.handles.size === 0 && this.onEmpty !== null) this.onEmpty();
  }

  /**
   * Closes every connection (transport NO_ERROR, RFC 9000 §10.2), waits up to `timeout` ms for
   * them to finish closing, then closes the sockets.
   */
  protected async shutdown(reason: string, timeout: number): Promise<void> {
    if (this.closedSocket) return;
    for (const h of this.handles) {
      h.connection.close(false, 0, reason);
      this.markDirty(h);
    }
    if (this.handles.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeout);
        this.onEmpty = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.onEmpty = null;
    }
    for (const h of [...this.handles])
      this.abandon(h, new EndpointError('endpoint_closed', 'the endpoint closed'), false);
    this.closeSocket();
  }

  /**
   * Stops at once: connections are dropped without a CONNECTION_CLOSE (as if the process died;
   * their peers see an idle timeout or a stateless reset) and the sockets close.
   */
  destroy(): void {
    for (const h of [...this.handles])
      this.abandon(h, new EndpointError('endpoint_closed', 'the endpoint was destroyed'), false);
    this.closeSocket();
  }

  /** Closes every socket and the timer at once. */
  protected closeSocket(): void {
    if (this.closedSocket) return;
    this.closedSocket = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.sockets.closeAll();
    this.emit('close');
  }
}

function peerKey(a: Address): string {
  return `${a.address}|${a.port}`;
}
