/**
 * A QUIC server over a UDP socket (IPv4 or IPv6), and one more per preferred address it offers
 * (RFC 9000 §9.6): datagrams from every socket go to the same routing, with `RecvInfo.to` = the
 * socket's address, and each datagram leaves from the socket of its `SendInfo.from` (so a
 * connection answers from its preferred address once the client moved there). Routes datagrams by every CID its connections
 * issued (RFC 9000 §5.2), answers what matches no connection statelessly (core/endpoint Acceptor:
 * Version Negotiation §6, Retry §8.1.2, stateless reset §10.3, refusals §5.2.2), bounds its
 * connections and handshakes, hands out NEW_TOKEN tokens (§8.1.3) and shuts down gracefully.
 *
 * Over its bounds (maxConnections, maxHandshakes), a client Initial is answered with an Initial
 * carrying CONNECTION_CLOSE(CONNECTION_REFUSED), rate-limited (RFC 9000 §5.2.2 "SHOULD"): the
 * client learns at once instead of timing out; past the rate limit such Initials are dropped.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { accept } from '../../core/connection/connection.ts';
import type { Config } from '../../core/connection/config.ts';
import type { Address } from '../../core/connection/types.ts';
import { Acceptor } from '../../core/endpoint/acceptor.ts';
import { ResponseRateLimiter } from '../../core/endpoint/stateless-reset.ts';
import type { ResponseRateLimiterOptions } from '../../core/endpoint/stateless-reset.ts';
import { TokenKey } from '../../core/endpoint/token.ts';
import { bytesEqual } from '../../core/wire/buffer.ts';
import { newDatagramRouting, parseDatagramRouting } from '../../core/wire/packet.ts';
import type { DatagramRouting } from '../../core/wire/packet.ts';
import { QuicConnectionHandle, QuicEndpointBase } from './endpoint.ts';
import { socketError } from './errors.ts';
import type { BoundSocket } from './sockets.ts';
import { bindSocket, createUdpSocket } from './udp.ts';

/** The preferred addresses a server offers (RFC 9000 §9.6, §18.2); port 0: any free port. */
export interface PreferredAddresses {
  ipv4?: Address;
  ipv6?: Address;
}

/** Options of a QuicServerEndpoint. */
export interface ServerEndpointOptions {
  /** Local address to bind ('127.0.0.1', '::1', '0.0.0.0', '::'). */
  host: string;
  /** Local port (0: any). */
  port: number;
  /** A server Config (certificate chain and private key set). */
  config: Config;
  /** Send a Retry to clients without a valid token (RFC 9000 §8.1.2). Default false. */
  retry?: boolean;
  /** Most connections at once (default 1000). */
  maxConnections?: number;
  /** Most connections still in their handshake (default 100). */
  maxHandshakes?: number;
  /**
   * Stateless reset key (≥ 16 bytes; default random): keep it across restarts to reset the old
   * connections. It is set on `config` (setStatelessResetKey) so the connections' tokens match.
   */
  statelessResetKey?: Uint8Array;
  /** 32-byte key of Retry and NEW_TOKEN tokens (default random). */
  tokenKey?: Uint8Array;
  /** Send a NEW_TOKEN after each handshake (RFC 9000 §8.1.3). Default true. */
  newTokens?: boolean;
  /** Length of the CIDs we issue (8..20, default 8). */
  cidLength?: number;
  /** ms a handshake may take before the server gives up on it (default 10 000). */
  handshakeTimeout?: number;
  /** Limits on stateless answers (resets, Version Negotiation, refusals). */
  rateLimit?: ResponseRateLimiterOptions;
  /** Called for each new connection (the same as the 'connection' event). */
  onConnection?: (connection: QuicConnectionHandle) => void;
  /**
   * Preferred addresses to offer (RFC 9000 §9.6): the server also listens on each (port 0: any;
   * the bound port is the one offered) and sets them on `config` (setPreferredAddress). Each must
   * be a concrete IP of its family (not 0.0.0.0 or ::: the client sends to it).
   */
  preferredAddress?: PreferredAddresses;
}

/** A QUIC server endpoint: `await QuicServerEndpoint.listen({ host, port, config })`. */
export class QuicServerEndpoint extends QuicEndpointBase {
  private readonly acceptor: Acceptor;
  private readonly tokenKey: TokenKey;
  private readonly config: Config;
  private readonly maxConnections: number;
  private readonly maxHandshakes: number;
  private readonly handshakeTimeout: number;
  private readonly newTokens: boolean;
  private readonly routing: DatagramRouting = newDatagramRouting();
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private readonly preferredBound: PreferredAddresses = {};

  constructor(private readonly options: ServerEndpointOptions) {
    const cidLength = options.cidLength ?? 8;
    super(cidLength, options.config.maxUdpPayloadSize, randomBytes(8));
    const pref = options.preferredAddress;
    if (pref !== undefined) {
      checkPreferred(pref.ipv4, 4);
      checkPreferred(pref.ipv6, 6);
      if (pref.ipv4 === undefined && pref.ipv6 === undefined)
        throw new RangeError('preferredAddress needs ipv4 or ipv6');
    }
    this.config = options.config;
    if (options.config.certificateChain.length === 0)
      throw new RangeError('a server Config needs setCertificateChain() and setPrivateKey()');
    const resetKey = options.statelessResetKey ?? randomBytes(32);
    // RFC 9000 §10.3.2: the connections derive the reset tokens they advertise from the same key.
    options.config.setStatelessResetKey(resetKey);
    this.tokenKey = new TokenKey(options.tokenKey ?? randomBytes(32), options.config.provider());
    this.acceptor = new Acceptor({
      cidLength,
      statelessResetKey: resetKey,
      tokenKey: this.tokenKey,
      retry: options.retry ?? false,
      limiter: new ResponseRateLimiter(options.rateLimit),
      provider: options.config.provider(),
      // RFC 9000 §6.1: Initials of a version the Config does not accept get Version Negotiation.
      versions: options.config.supportedVersions(),
    });
    this.maxConnections = options.maxConnections ?? 1000;
    this.maxHandshakes = options.maxHandshakes ?? 100;
    this.handshakeTimeout = options.handshakeTimeout ?? 10_000;
    this.newTokens = options.newTokens ?? true;
    if (options.onConnection !== undefined) this.on('connection', options.onConnection);
  }

  /** Creates a server and binds its socket. */
  static async listen(options: ServerEndpointOptions): Promise<QuicServerEndpoint> {
    const s = new QuicServerEndpoint(options);
    await s.listen();
    return s;
  }

  /**
   * Binds the socket, and one per preferred address, whose bound addresses are then set on the
   * Config (rejects with an EndpointError 'socket_error' when one cannot be bound).
   */
  async listen(): Promise<Address> {
    if (this.state !== 'new') throw new RangeError('listen() was already called');
    this.state = 'listening';
    const { host, port } = this.options;
    await this.bindOne(host, port, 'primary');
    const pref = this.options.preferredAddress;
    if (pref !== undefined) {
      const bound: PreferredAddresses = {};
      if (pref.ipv4 !== undefined)
        bound.ipv4 = await this.bindOne(pref.ipv4.address, pref.ipv4.port, 'preferred');
      if (pref.ipv6 !== undefined)
        bound.ipv6 = await this.bindOne(pref.ipv6.address, pref.ipv6.port, 'preferred');
      // RFC 9000 §18.2: the connections offer the addresses actually bound.
      this.config.setPreferredAddress(bound);
      Object.assign(this.preferredBound, bound);
    }
    return this.address;
  }

  private async bindOne(host: string, port: number, role: BoundSocket['role']): Promise<Address> {
    const socket = createUdpSocket(host);
    let local: Address;
    try {
      local = await bindSocket(socket, host, port);
    } catch (e) {
      this.state = 'closed';
      try {
        socket.close();
      } catch {
        // never bound
      }
      this.closeSocket();
      throw socketError(e, `cannot bind ${host}:${port}`);
    }
    if (this.closedSocket) {
      socket.close(); // destroyed while binding
      throw socketError(new Error('the server was closed'), `cannot bind ${host}:${port}`);
    }
    this.attach(socket, local, role, null);
    return local;
  }

  /** The preferred addresses the server listens on and offers (RFC 9000 §9.6), as bound: IPv4 first. */
  get preferredAddresses(): Address[] {
    const p = this.preferredBound;
    const out: Address[] = [];
    if (p.ipv4 !== undefined) out.push({ ...p.ipv4 });
    if (p.ipv6 !== undefined) out.push({ ...p.ipv6 });
    return out;
  }

  protected route(
    datagram: Buffer,
    from: Address,
    via: BoundSocket,
    now: number,
  ): QuicConnectionHandle | null {
    let r: DatagramRouting;
    try {
      r = parseDatagramRouting(datagram, this.router.cidLength, this.routing);
    } catch {
      this.drop('malformed'); // RFC 9000 §5.2: not even routable
      return null;
    }
    const h = this.router.lookup(datagram, r.dcidOffset, r.dcidLength);
    if (h !== undefined) return h;
    if (this.state !== 'listening') {
      this.drop('shutting_down');
      return null;
    }
    // RFC 9000 §10.3.1: perhaps the client's stateless reset for one of its connections.
    if (r.type === '1rtt' && this.detectStatelessReset(datagram, from, via.local, now) !== null) return null;
    const slot = this.slots.take();
    if (slot === null) {
      this.drop('no_buffer');
      return null;
    }
    const admit = this.handles.size < this.maxConnections && this.counters.handshakes < this.maxHandshakes;
    const d = this.acceptor.decide(datagram, r, from, now, slot.buf, admit);
    if (d.kind === 'drop') {
      this.slots.give(slot);
      this.drop(d.reason);
      return null;
    }
    if (d.kind === 'respond') {
      const c = this.counters;
      if (d.packet === 'version_negotiation') c.versionNegotiationSent++;
      else if (d.packet === 'retry') c.retrySent++;
      else if (d.packet === 'stateless_reset') c.statelessResetSent++;
      else if (d.packet === 'connection_refused') c.refusedSent++;
      else c.invalidTokenSent++;
      this.transmit(slot, d.length, via.local, from, now); // from the socket it arrived on
      return null;
    }
    this.slots.give(slot);
    const peer = { address: from.address, port: from.port };
    // A fresh CID that collides with a routed one (2^-64) would steal its datagrams: pick again.
    let scid = d.scid;
    while (d.odcid === null && this.router.has(scid)) scid = this.acceptor.newCid();
    // RFC 9000 §8.1: a valid NEW_TOKEN token validates the address (lifts the 3x limit).
    const conn = accept(scid, d.odcid, via.local, peer, this.config, now, {
      addressValidated: d.addressValidated,
    });
    const handle = new QuicConnectionHandle(conn, peer, this, now + this.handshakeTimeout);
    const cids = [scid];
    if (!bytesEqual(d.dcid, scid)) {
      // The client sends to its first DCID until our first Initial reaches it (RFC 9000 §7.2).
      handle.initialDcid = d.dcid;
      cids.push(d.dcid);
    }
    this.register(handle, cids);
    this.emit('connection', handle);
    return handle;
  }

  protected override onEstablished(h: QuicConnectionHandle, now: number): void {
    // The handshake is confirmed at the server once it completes (RFC 9001 §4.1.2): the client
    // no longer uses its first DCID.
    if (h.initialDcid !== null) {
      this.removeRoute(h, h.initialDcid);
      h.initialDcid = null;
    }
    // RFC 9000 §8.1.3: a token for the client's next connection, bound to its address.
    if (this.newTokens) {
      // RFC 9369 §5: bound to this connection's version; another version's Initial ignores it.
      const version = h.connection.stats().version;
      h.connection.sendNewToken(this.tokenKey.mintNewToken({ clientAddress: h.peer, now, version }));
    }
  }

  /**
   * Graceful shutdown: stops accepting, closes every connection with NO_ERROR, waits for them
   * (at most `timeout` ms, default 2000) and closes the socket.
   */
  async close(options: { reason?: string; timeout?: number } = {}): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    await this.shutdown(options.reason ?? 'server shutting down', options.timeout ?? 2000);
    this.state = 'closed';
  }

  /** Stops at once, without closing connections (see QuicEndpointBase.destroy). */
  override destroy(): void {
    this.state = 'closed';
    super.destroy();
  }

  /** Whether the server is accepting connections. */
  get listening(): boolean {
    return this.state === 'listening';
  }
}

/** A preferred address must be a concrete IP of its family (RFC 9000 §18.2: the client sends to it). */
function checkPreferred(a: Address | undefined, family: 4 | 6): void {
  if (a === undefined) return;
  if (a === null || typeof a !== 'object' || isIP(a.address) !== family)
    throw new RangeError(`the IPv${family} preferred address must be an IPv${family} literal`);
  if (a.address === '0.0.0.0' || /^[0:]+$/.test(a.address))
    throw new RangeError(`a preferred address cannot be unspecified (${a.address})`);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535)
    throw new RangeError(`invalid preferred port ${a.port}`);
}
