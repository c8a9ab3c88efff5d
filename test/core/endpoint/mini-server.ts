/**
 * A sans-IO server built from the endpoint helpers (CidRouter + Acceptor) and real Connections,
 * with a client on an in-memory link and a virtual clock: how an embedder wires them, and the
 * harness of the acceptor tests.
 */
import { accept, connect } from '../../../core/connection/connection.ts';
import type { Connection, ConnectOptions } from '../../../core/connection/connection.ts';
import { Config, QUIC_VERSION_1 } from '../../../core/connection/config.ts';
import type { Address } from '../../../core/connection/types.ts';
import { Acceptor } from '../../../core/endpoint/acceptor.ts';
import type { AcceptorDecision, AcceptorOptions } from '../../../core/endpoint/acceptor.ts';
import { CidRouter } from '../../../core/endpoint/cid-router.ts';
import { QuicError } from '../../../core/wire/errors.ts';
import { newDatagramRouting, parseDatagramRouting } from '../../../core/wire/packet.ts';
import { testPki } from '../../helpers/certs.ts';

export const CLIENT_ADDR: Address = { address: '192.0.2.1', port: 40000 };
export const SERVER_ADDR: Address = { address: '192.0.2.2', port: 443 };

/** Client and server Configs that trust each other. */
export function testConfigs(version = QUIC_VERSION_1): { client: Config; server: Config } {
  const pki = testPki('ec-p256');
  const client = new Config(version);
  client.setApplicationProtos(['test']);
  client.setCaCertificates(pki.root.pem);
  const server = new Config(version);
  server.setApplicationProtos(['test']);
  server.setCertificateChain(pki.chainPem);
  server.setPrivateKey(pki.leaf.keyPem);
  return { client, server };
}

/** A server of many connections, fed datagrams one at a time. */
export class MiniServer {
  readonly router: CidRouter<Connection>;
  readonly acceptor: Acceptor;
  readonly connections: Connection[] = [];
  /** Every decision taken for an unroutable datagram. */
  readonly decisions: AcceptorDecision[] = [];
  admit = true;
  private readonly routing = newDatagramRouting();
  private readonly out = new Uint8Array(1500);

  constructor(
    readonly config: Config,
    options: Omit<AcceptorOptions, 'cidLength'>,
  ) {
    // The versions the server accepts are its Config's (RFC 9000 §6.1: others get VN).
    this.acceptor = new Acceptor({ cidLength: 8, versions: config.supportedVersions(), ...options });
    this.router = new CidRouter(8);
    if (options.statelessResetKey !== null) config.setStatelessResetKey(options.statelessResetKey);
  }

  /** Processes one datagram; returns the datagrams to send back (stateless answers or the connection's). */
  receive(datagram: Uint8Array, from: Address, now: number): Uint8Array[] {
    let r;
    try {
      r = parseDatagramRouting(datagram, this.router.cidLength, this.routing);
    } catch (e) {
      if (e instanceof QuicError) return [];
      throw e;
    }
    let conn = this.router.lookup(datagram, r.dcidOffset, r.dcidLength);
    if (conn === undefined) {
      const d = this.acceptor.decide(datagram, r, from, now, this.out, this.admit);
      this.decisions.push(d);
      if (d.kind === 'drop') return [];
      if (d.kind === 'respond') return [this.out.slice(0, d.length)];
      conn = accept(d.scid, d.odcid, SERVER_ADDR, from, this.config, now, {
        addressValidated: d.addressValidated,
      });
      this.connections.push(conn);
      this.router.add(d.scid, conn);
      this.router.add(d.dcid, conn);
    }
    conn.recv(datagram, { from, to: SERVER_ADDR }, now);
    for (let e = conn.pollCidEvent(); e !== null; e = conn.pollCidEvent()) {
      if (e.kind === 'new') this.router.add(e.cid, conn);
      else this.router.remove(e.cid, conn);
    }
    return this.drain(conn, now);
  }

  drain(conn: Connection, now: number): Uint8Array[] {
    const sent: Uint8Array[] = [];
    for (let d = conn.send(this.out, now); d !== null; d = conn.send(this.out, now))
      sent.push(this.out.slice(0, d.length));
    return sent;
  }
}

/** A client Connection talking to a MiniServer over a lossless in-memory link. */
export class Link {
  now = 1_700_000_000_000;
  readonly client: Connection;
  private readonly buf = new Uint8Array(1500);
  /** Datagrams the server sent back, in order. */
  readonly toClient: Uint8Array[] = [];

  constructor(
    public server: MiniServer,
    clientConfig: Config,
    options: ConnectOptions = {},
    readonly clientAddress: Address = CLIENT_ADDR,
  ) {
    this.client = connect(
      'localhost',
      new Uint8Array(8).fill(0xc1),
      clientAddress,
      SERVER_ADDR,
      clientConfig,
      this.now,
      options,
    );
  }

  /** The client's pending datagrams. */
  clientDatagrams(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let d = this.client.send(this.buf, this.now); d !== null; d = this.client.send(this.buf, this.now))
      out.push(this.buf.slice(0, d.length));
    return out;
  }

  /** Exchanges datagrams until neither side sends or `done()`; 2 ms per hop. */
  run(done: () => boolean = () => false, rounds = 50): boolean {
    for (let i = 0; i < rounds && !done(); i++) {
      const up = this.clientDatagrams();
      this.now += 2;
      const down: Uint8Array[] = [];
      for (const d of up) down.push(...this.server.receive(d, this.clientAddress, this.now));
      for (const c of this.server.connections) down.push(...this.server.drain(c, this.now));
      this.now += 2;
      for (const d of down) {
        this.toClient.push(d);
        this.client.recv(d.slice(), { from: SERVER_ADDR, to: this.clientAddress }, this.now);
      }
      if (up.length === 0 && down.length === 0) break;
    }
    return done();
  }
}
