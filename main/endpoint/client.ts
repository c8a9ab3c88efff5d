/**
 * A QUIC client over one UDP socket connected to one server (IPv4 or IPv6), carrying one or more
 * connections to it. The socket is connected (`socket.connect`) so that the kernel reports ICMP
 * errors: a closed port surfaces as ECONNREFUSED, which fails the handshakes in progress with a
 * typed EndpointError('refused') instead of a silent timeout.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { connect } from '../../core/connection/connection.ts';
import type { ConnectOptions } from '../../core/connection/connection.ts';
import type { Config } from '../../core/connection/config.ts';
import type { Address } from '../../core/connection/types.ts';
import type { SessionTicket } from '../../core/tls/session.ts';
import { newDatagramRouting, parseDatagramRouting } from '../../core/wire/packet.ts';
import type { DatagramRouting } from '../../core/wire/packet.ts';
import { QuicConnectionHandle, QuicEndpointBase } from './endpoint.ts';
import { EndpointError, socketError } from './errors.ts';
import { bindSocket, clock, connectSocket, createUdpSocket, enlargeBuffers } from './udp.ts';

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
    const socket = createUdpSocket(address);
    this.socket = socket;
    try {
      this.localAddress = await bindSocket(
        socket,
        isIP(address) === 6 ? '::' : '0.0.0.0',
        this.options.localPort ?? 0,
      );
      await connectSocket(socket, address, port);
      // The local address the kernel picked for this peer.
      const a = socket.address();
      this.localAddress = { address: a.address, port: a.port };
    } catch (e) {
      this.state = 'closed';
      this.closeSocket();
      throw socketError(e, `cannot open a UDP socket to ${address}:${port}`);
    }
    this.connectedPeer = true;
    this.remoteAddress = { address, port };
    enlargeBuffers(socket);
    socket.on('message', this.onMessage);
    socket.on('error', this.onSocketError);
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
    const conn = connect(serverName, scid, this.localAddress, peer, this.options.config, now, connectOptions);
    const handle = new QuicConnectionHandle(conn, peer, this, now + this.handshakeTimeout);
    this.register(handle, [scid]);
    this.emit('connection', handle);
    this.markDirty(handle);
    return handle;
  }

  protected route(datagram: Buffer, from: Address, now: number): QuicConnectionHandle | null {
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
      if (this.detectStatelessReset(datagram, from, now) === null) this.drop('unknown_connection_id');
      return null;
    }
    return h;
  }

  /** ICMP errors on the connected socket: fatal to handshakes in progress. */
  private readonly onSocketError = (e: Error): void => {
    const error = socketError(e, `${this.remoteAddress?.address}:${this.remoteAddress?.port}`);
    if (error.code === 'refused' || error.code === 'unreachable') {
      for (const h of [...this.handles]) if (!h.wasEstablished) this.abandon(h, error, false);
    }
    this.emit('error', error);
  };

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
