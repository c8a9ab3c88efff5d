/**
 * A QUIC client over a UDP socket connected to one server (IPv4 or IPv6), carrying one or more
 * connections to it. The socket is connected (`socket.connect`) so that the kernel reports ICMP
 * errors: a closed port surfaces as ECONNREFUSED, which fails the handshakes in progress with a
 * typed EndpointError('refused') instead of a silent timeout.
 *
 * Paths (RFC 9000 §9): a connected socket neither sends to nor receives from another address, so
 * the first datagram a connection sends to another server address (its preferred address, §9.6)
 * disconnects the socket (sockets.ts); from then on it sends with an explicit address. Doing it
 * then, and not at handshake confirmation, keeps ICMP reporting for every connection that never
 * moves. `migrate()` binds a new socket (connected to the server too) and moves a connection
 * there (§9.2); a socket no connection's path uses any more closes once it has been idle for
 * 3 PTO (the server's §9.3.3 probe of the old path is answered meanwhile).
 */
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { connect } from '../../core/connection/connection.ts';
import { MigrationError } from '../../core/connection/migration.ts';
import type { ConnectOptions } from '../../core/connection/connection.ts';
import type { Config } from '../../core/connection/config.ts';
import type { Address } from '../../core/connection/types.ts';
import type { SessionTicket } from '../../core/tls/session.ts';
import { newDatagramRouting, parseDatagramRouting } from '../../core/wire/packet.ts';
import type { DatagramRouting } from '../../core/wire/packet.ts';
import { QuicConnectionHandle, QuicEndpointBase } from './endpoint.ts';
import { EndpointError, socketError } from './errors.ts';
import type { MigrateOptions } from './handle.ts';
import type { BoundSocket } from './sockets.ts';
import { bindFixedPort, clock, connectSocket } from './udp.ts';

/** How often idle sockets are looked for while the endpoint has more than one. */
const SWEEP_INTERVAL = 500;
/** A socket no path uses closes after this long without a send (at least; 3 PTO if longer). */
const MIN_RETIRE_IDLE = 1000;
/** A migration's socket waits this long (at least; 6 PTO if longer) for its path to be validated. */
const MIN_MIGRATION_GRACE = 4000;
/** max_ack_delay assumed in the PTO estimate (RFC 9000 §18.2 default). */
const MAX_ACK_DELAY = 25;

/** Options of a QuicClientEndpoint. */
export interface ClientEndpointOptions {
  /** The server: a host name (resolved with dns.lookup) or an IP literal. */
  host: string;
  port: number;
  /** A client Config. */
  config: Config;
  /** Resolve to IPv4 or IPv6 only. */
  family?: 4 | 6;
  /** Local port (default: any). */
  localPort?: number;
  /** ms before a handshake in progress fails with 'handshake_timeout' (default 10 000). */
  handshakeTimeout?: number;
  /** Length of the CIDs we issue (8..20, default 8). */
  cidLength?: number;
  /** Resolves `host` (default: node:dns lookup, which follows /etc/hosts and the system resolver). */
  lookup?: (host: string, options: { family?: 4 | 6 }) => Promise<{ address: string }>;
}

/** Per-connection options of `QuicClientEndpoint.connect`. */
export interface ClientConnectOptions {
  /** SNI and the name the certificate must match (default: the endpoint's host). Null: none. */
  serverName?: string | null;
  /** A NEW_TOKEN token from an earlier connection (RFC 9000 §8.1.3). */
  token?: Uint8Array | null;
  /** A session ticket from an earlier connection, to resume. */
  sessionTicket?: SessionTicket | null;
  /** Length of the first, random DCID (8..20). */
  initialDcidLength?: number;
}

/** A client endpoint: `const c = await QuicClientEndpoint.open({ host, port, config })`. */
export class QuicClientEndpoint extends QuicEndpointBase {
  private readonly routing: DatagramRouting = newDatagramRouting();
  private remoteAddress: Address | null = null;
  private readonly handshakeTimeout: number;
  private readonly cidLength: number;
  private state: 'new' | 'open' | 'closed' = 'new';
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ClientEndpointOptions) {
    const cidLength = options.cidLength ?? 8;
    if (!Number.isInteger(cidLength) || cidLength < 8 || cidLength > 20)
      throw new RangeError('cidLength must be 8..20');
    super(cidLength, options.config.maxUdpPayloadSize, randomBytes(8));
    this.cidLength = cidLength;
    this.handshakeTimeout = options.handshakeTimeout ?? 10_000;
  }

  /** Creates a client endpoint: resolves the host, binds and connects the socket. */
  static async open(options: ClientEndpointOptions): Promise<QuicClientEndpoint> {
    const c = new QuicClientEndpoint(options);
    await c.open();
    return c;
  }

  /** The server's resolved address. */
  get remote(): Address {
    if (this.remoteAddress === null) throw new RangeError('the endpoint is not open');
    return { ...this.remoteAddress };
  }

  /**
   * Resolves the host and connects the socket. Rejects with EndpointError 'dns_failure' when the
   * name does not resolve, 'socket_error' when the socket cannot be set up.
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new RangeError('open() was already called');
    this.state = 'open';
    const { host, port, family } = this.options;
    let address: string;
    if (isIP(host) !== 0) address = host;
    else {
      try {
        const resolve = this.options.lookup ?? lookup;
        address = (await resolve(host, family === undefined ? {} : { family })).address;
      } catch (e) {
        this.state = 'closed';
        throw new EndpointError(
          'dns_failure',
          `cannot resolve ${host}: ${(e as { code?: string }).code ?? e}`,
          {
            cause: e,
          },
        );
      }
    }
    let socket: dgram.Socket | null = null;
    let local: Address;
    try {
      // A fixed port: disconnecting (sockets.ts) must not change it.
      const wildcard = isIP(address) === 6 ? '::' : '0.0.0.0';
      socket = (await bindFixedPort(wildcard, this.options.localPort ?? 0)).socket;
      await connectSocket(socket, address, port);
      // The local address the kernel picked for this peer (0.0.0.0 until connected).
      const a = socket.address();
      local = { address: a.address, port: a.port };
    } catch (e) {
      this.state = 'closed';
      if (socket !== null) closeQuietly(socket);
      this.closeSocket();
      throw socketError(e, `cannot open a UDP socket to ${address}:${port}`);
    }
    this.remoteAddress = { address, port };
    this.attach(socket, local, 'primary', this.remoteAddress);
  }

  /** Starts a connection to the server; await `handle.established`. */
  connect(options: ClientConnectOptions = {}): QuicConnectionHandle {
    if (this.state !== 'open' || this.remoteAddress === null)
      throw new EndpointError('endpoint_closed', 'the endpoint is not open');
    const now = clock();
    let scid = randomBytes(this.cidLength);
    while (this.router.has(scid)) scid = randomBytes(this.cidLength);
    const connectOptions: ConnectOptions = {
      token: options.token ?? null,
      sessionTicket: options.sessionTicket ?? null,
    };
    if (options.initialDcidLength !== undefined) connectOptions.initialDcidLength = options.initialDcidLength;
    const serverName = options.serverName === undefined ? this.options.host : options.serverName;
    const peer = this.remote;
    const conn = connect(serverName, scid, this.address, peer, this.options.config, now, connectOptions);
    const handle = new QuicConnectionHandle(conn, peer, this, now + this.handshakeTimeout);
    this.register(handle, [scid]);
    this.emit('connection', handle);
    this.markDirty(handle);
    // The trust anchors (the system roots: tens of ms to parse, once per process) are needed when
    // the server's Certificate arrives: parse them while the first flight is on the wire.
    const config = this.options.config;
    setImmediate(() => config.trustAnchors());
    return handle;
  }

  /**
   * Moves `handle`'s connection to a new local socket (RFC 9000 §9.2): binds a UDP socket (on
   * `options.localAddress`, default the interface address the endpoint's socket uses; port
   * `options.localPort`, default any), connects it to the server, and has the connection probe the
   * new path; the connection moves there once the path is validated (`stats().migrationsValidated`),
   * and the old socket closes when no path uses it any more. Resolves with the new local address.
   * Rejects with EndpointError 'migration_refused' when the connection cannot migrate (its
   * `cause` is the core MigrationError: disabled_by_peer, handshake_not_confirmed, no_spare_cid...),
   * 'socket_error' when the socket cannot be bound, 'endpoint_closed' / 'connection_closed'.
   */
  async migrate(handle: QuicConnectionHandle, options: MigrateOptions = {}): Promise<Address> {
    if (this.state !== 'open') throw new EndpointError('endpoint_closed', 'the endpoint is not open');
    if (!this.handles.has(handle) || handle.done)
      throw new EndpointError('connection_closed', 'the connection is not open on this endpoint');
    const conn = handle.connection;
    const peer = conn.stats().peerAddress;
    const ip = options.localAddress ?? this.address.address;
    const port = options.localPort ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new RangeError(`invalid local port ${port}`);
    if (isIP(ip) === 0) throw new RangeError(`the local address must be an IP address: ${ip}`);
    let socket: dgram.Socket | null = null;
    let local: Address;
    try {
      socket = (await bindFixedPort(ip, port)).socket;
      // Connected, like the first socket: ICMP errors are reported, and the address the kernel
      // uses towards the server is known (a socket bound to 0.0.0.0 reports 0.0.0.0 otherwise).
      await connectSocket(socket, peer.address, peer.port);
      const a = socket.address();
      local = { address: a.address, port: a.port };
    } catch (e) {
      if (socket !== null) closeQuietly(socket);
      throw socketError(e, `cannot bind a UDP socket on ${ip}:${port} towards ${peer.address}:${peer.port}`);
    }
    if (this.state !== 'open' || handle.done) {
      closeQuietly(socket);
      if (this.state !== 'open') throw new EndpointError('endpoint_closed', 'the endpoint closed');
      throw new EndpointError('connection_closed', 'the connection closed');
    }
    const bound = this.attach(socket, local, 'migration', peer);
    try {
      conn.migrate(local, clock());
    } catch (e) {
      this.sockets.close(bound);
      if (e instanceof MigrationError)
        throw new EndpointError('migration_refused', `migration refused: ${e.message}`, { cause: e });
      throw e;
    }
    handle.wake();
    this.armSweep();
    return { address: local.address, port: local.port };
  }

  protected route(
    datagram: Buffer,
    from: Address,
    via: BoundSocket,
    now: number,
  ): QuicConnectionHandle | null {
    let r: DatagramRouting;
    try {
      r = parseDatagramRouting(datagram, this.cidLength, this.routing);
    } catch {
      this.drop('malformed');
      return null;
    }
    const h = this.router.lookup(datagram, r.dcidOffset, r.dcidLength);
    if (h === undefined) {
      // A stateless reset carries no CID of ours (RFC 9000 §10.3); a client never answers statelessly.
      if (this.detectStatelessReset(datagram, from, via.local, now) === null)
        this.drop('unknown_connection_id');
      return null;
    }
    return h;
  }

  /**
   * ICMP errors on a socket connected to the server: fatal to handshakes in progress (they all go
   * to the server's address). Later, on a path, they are only reported: loss recovery and path
   * validation decide.
   */
  protected override onSocketError(e: Error, b: BoundSocket): void {
    const peer = b.connected ?? this.remoteAddress;
    const error = socketError(e, peer === null ? 'socket error' : `${peer.address}:${peer.port}`);
    const remote = this.remoteAddress;
    const toServer =
      b.connected !== null &&
      remote !== null &&
      b.connected.port === remote.port &&
      b.connected.address === remote.address;
    if (toServer && (error.code === 'refused' || error.code === 'unreachable')) {
      for (const h of [...this.handles]) if (!h.wasEstablished) this.abandon(h, error, false);
    }
    this.emit('error', error);
  }

  private armSweep(): void {
    if (this.sweepTimer !== null || this.closedSocket || this.sockets.list.length < 2) return;
    this.sweepTimer = setTimeout(this.sweep, SWEEP_INTERVAL);
    this.sweepTimer.unref();
  }

  /**
   * Closes the sockets no connection needs: not the local address of any connection's active
   * path, nothing sent from it for 3 PTO (§9.3.3 probes of the old path answered), and for a
   * migration's socket, its validation given time (§8.2.4). The primary socket closes only when
   * another one carries a connection; that one becomes the primary (new connections use it).
   */
  private readonly sweep = (): void => {
    this.sweepTimer = null;
    if (this.closedSocket) return;
    const now = clock();
    const inUse = new Set<BoundSocket>();
    let pto = 0;
    for (const h of this.handles) {
      if (h.done) continue;
      const st = h.connection.stats();
      const b = this.sockets.find(st.localAddress);
      if (b !== null) inUse.add(b);
      // RFC 9002 §6.2.1.
      const p = st.smoothedRtt + Math.max(4 * st.rttVariance, 1) + MAX_ACK_DELAY;
      if (p > pto) pto = p;
    }
    const idle = Math.max(MIN_RETIRE_IDLE, 3 * pto);
    const grace = Math.max(MIN_MIGRATION_GRACE, 6 * pto);
    for (const b of [...this.sockets.list]) {
      if (inUse.has(b) || now - b.lastSend < idle) continue;
      if (b.role === 'migration' && now - b.created < grace) continue;
      if (b === this.sockets.primary) {
        let next: BoundSocket | null = null;
        for (const c of this.sockets.list) if (inUse.has(c)) next = c; // the newest in use
        if (next === null) continue; // the endpoint keeps a socket for new connections
        this.sockets.promote(next);
      }
      this.sockets.close(b);
    }
    this.armSweep();
  };

  protected override closeSocket(): void {
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    super.closeSocket();
  }

  /**
   * Closes every connection (NO_ERROR), waits for them to finish closing (at most `timeout` ms,
   * default 1000), then closes the socket.
   */
  async close(options: { reason?: string; timeout?: number } = {}): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.shutdown(options.reason ?? 'client closing', options.timeout ?? 1000);
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
