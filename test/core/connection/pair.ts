/**
 * An in-memory client ↔ server pair for the connection tests: datagrams are shuttled directly
 * (with a fixed one-way delay on a virtual clock), timers fire when nothing is in flight.
 */
import { Config } from '../../../core/connection/config.ts';
import { accept, connect } from '../../../core/connection/connection.ts';
import type { Connection, ConnectOptions } from '../../../core/connection/connection.ts';
import type { Address } from '../../../core/connection/types.ts';
import { testPki } from '../../helpers/certs.ts';

export const CLIENT_ADDR: Address = { address: '127.0.0.1', port: 50000 };
export const SERVER_ADDR: Address = { address: '127.0.0.1', port: 4433 };

/** Client and server configs that trust each other (test PKI, ALPN 'test'). */
export function configs(tweak?: (client: Config, server: Config) => void): {
  client: Config;
  server: Config;
} {
  const pki = testPki('ec-p256');
  const client = new Config();
  client.setApplicationProtos(['test']);
  client.setCaCertificates(pki.root.pem);
  const server = new Config();
  server.setApplicationProtos(['test']);
  server.setCertificateChain(pki.chainPem);
  server.setPrivateKey(pki.leaf.keyPem);
  tweak?.(client, server);
  return { client, server };
}

interface InFlight {
  data: Uint8Array;
  at: number;
  toServer: boolean;
}

/** A client and a server joined by an in-memory link. */
export class Pair {
  now = 1000;
  readonly client: Connection;
  server: Connection | null = null;
  readonly clientConfig: Config;
  readonly serverConfig: Config;
  /** One-way delay (ms). */
  delay = 5;
  /** Drop filter: return true to lose a datagram. */
  dropIf: ((data: Uint8Array, toServer: boolean, to: Address) => boolean) | null = null;
  /** Makes the server for the first datagram (default: accept without Retry). */
  makeServer: ((first: Uint8Array) => Connection | null) | null = null;
  /** Datagrams delivered, for inspection. */
  delivered = { toServer: 0, toClient: 0 };
  private readonly queue: InFlight[] = [];
  private readonly buf = new Uint8Array(65536);

  constructor(
    cfg = configs(),
    readonly serverName: string | null = 'localhost',
    options: ConnectOptions = {},
    startTime = 1000,
  ) {
    this.now = startTime;
    this.clientConfig = cfg.client;
    this.serverConfig = cfg.server;
    this.client = connect(
      serverName,
      new Uint8Array(8).fill(0xc1),
      CLIENT_ADDR,
      SERVER_ADDR,
      cfg.client,
      this.now,
      options,
    );
  }

  /** Drains both sides' send queues into the link. Returns the number of datagrams sent. */
  flush(): number {
    let n = 0;
    for (let d = this.client.send(this.buf, this.now); d !== null; d = this.client.send(this.buf, this.now)) {
      this.enqueue(this.buf.slice(0, d.length), true, d.at, d.to);
      n++;
      if (n > 100_000) throw new Error('client send loop');
    }
    if (this.server !== null) {
      for (
        let d = this.server.send(this.buf, this.now);
        d !== null;
        d = this.server.send(this.buf, this.now)
      ) {
        this.enqueue(this.buf.slice(0, d.length), false, d.at, d.to);
        n++;
        if (n > 200_000) throw new Error('server send loop');
      }
    }
    return n;
  }

  private enqueue(data: Uint8Array, toServer: boolean, at: number, to: Address): void {
    if (this.dropIf?.(data, toServer, to)) return;
    // Pacing (RFC 9002 §7.7): the datagram leaves at `at`.
    this.queue.push({ data, at: Math.max(this.now, at) + this.delay, toServer });
  }

  /** Delivers one datagram to the server directly (creating it if needed). */
  deliverToServer(data: Uint8Array): void {
    if (this.server === null) {
      if (this.makeServer !== null) {
        this.server = this.makeServer(data);
        if (this.server === null) return;
      } else {
        this.server = accept(
          new Uint8Array(8).fill(0x5e),
          null,
          SERVER_ADDR,
          CLIENT_ADDR,
          this.serverConfig,
          this.now,
        );
      }
    }
    this.delivered.toServer++;
    this.server.recv(data, { from: CLIENT_ADDR, to: SERVER_ADDR }, this.now);
  }

  /** Delivers one datagram to the client directly. */
  deliverToClient(data: Uint8Array): void {
    this.delivered.toClient++;
    this.client.recv(data, { from: SERVER_ADDR, to: CLIENT_ADDR }, this.now);
  }

  /** One step: send, then deliver what is due or advance the clock to the next event. False when idle. */
  step(): boolean {
    this.flush();
    if (this.queue.length > 0) {
      this.queue.sort((a, b) => a.at - b.at);
      const next = this.queue[0].at;
      const timers = this.nextTimer();
      if (timers !== null && timers < next) {
        this.now = timers;
        this.fireTimers();
        return true;
      }
      this.now = Math.max(this.now, next);
      while (this.queue.length > 0 && this.queue[0].at <= this.now) {
        const d = this.queue.shift() as InFlight;
        if (d.toServer) this.deliverToServer(d.data);
        else this.deliverToClient(d.data);
      }
      return true;
    }
    const t = this.nextTimer();
    if (t === null) return false;
    this.now = Math.max(this.now, t);
    this.fireTimers();
    return true;
  }

  private nextTimer(): number | null {
    const a = this.client.timeout();
    const b = this.server?.timeout() ?? null;
    if (a === null) return b;
    if (b === null) return a;
    return Math.min(a, b);
  }

  private fireTimers(): void {
    const a = this.client.timeout();
    if (a !== null && a <= this.now) this.client.onTimeout(this.now);
    const b = this.server?.timeout() ?? null;
    if (b !== null && b <= this.now) this.server?.onTimeout(this.now);
  }

  /** Steps until `done()` or `maxSteps`; returns whether `done()` became true. */
  runUntil(done: () => boolean, maxSteps = 100_000): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      if (!this.step()) return done();
    }
    return done();
  }

  /** Exchanges datagrams until both sides are quiet (no datagram sent, nothing in flight on the link). */
  settle(maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      if (this.flush() === 0 && this.queue.length === 0) return;
      this.step();
    }
  }

  /** Runs the handshake to completion on both sides. */
  handshake(): void {
    const ok = this.runUntil(
      () => this.client.isEstablished() && (this.server?.isEstablished() ?? false),
      10_000,
    );
    if (!ok) {
      throw new Error(
        `handshake did not complete: client ${JSON.stringify(this.client.localError() ?? this.client.peerError())}, server ${JSON.stringify(
          this.server?.localError() ?? this.server?.peerError(),
        )}`,
      );
    }
  }
}
