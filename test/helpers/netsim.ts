/**
 * A deterministic in-process network simulator (quinn's Pair, aioquic's client_and_server, with a
 * network in between): a client and a server sans-IO connection, a virtual clock, an event queue
 * and two link directions (netsim-link.ts). The driver calls send() until null, puts datagrams on
 * the wire at max(now, at), delivers them with recv() at their arrival time, fires onTimeout()
 * when timeout() is reached, and stops on a condition, when both sides are closed, or at a limit
 * — then it fails loudly with diagnostics (virtual time, both sides' stats and errors, link
 * counters, the last trace events) instead of hanging.
 *
 *   const sim = new Sim(clientConn, (ctx) => accept(scid, null, ctx.local, ctx.peer, config, ctx.now));
 *   sim.run({ until: () => sim.client.conn!.isEstablished(), what: 'handshake' });
 */
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import { EventQueue, Link, Rng, formatAddress, hasPacketType, sameAddress } from './netsim-link.ts';
import type { Address, Direction, DropReason, LinkConfig, SimDatagram } from './netsim-link.ts';

export * from './netsim-link.ts';

/** What the simulator needs of a connection (the sans-IO contract of core/connection). */
export interface SimConnection {
  recv(datagram: Uint8Array, info: { from: Address; to: Address }, now: number): number;
  send(out: Uint8Array, now: number): { length: number; from: Address; to: Address; at: number } | null;
  timeout(): number | null;
  onTimeout(now: number): void;
  isClosed(): boolean;
  isEstablished(): boolean;
  stats?(): object;
  localError?(): unknown;
  peerError?(): unknown;
}

/** Which endpoint. */
export type Side = 'client' | 'server';

/** What a factory is told when the simulator creates a connection. */
export interface CreateContext {
  now: number;
  /** The endpoint's own address, and its peer's as the endpoint sees it. */
  local: Address;
  peer: Address;
  /** For the server: the first datagram, which caused the creation. */
  datagram: Uint8Array | null;
}

/** A connection, or a function that makes one (the server's runs at the first datagram's arrival). */
export type ConnectionSource<C> = C | ((ctx: CreateContext) => C);

/** Options of a simulation. */
export interface SimOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Virtual time at the start, ms (default 0). */
  startTime?: number;
  /** Both directions. */
  link?: Partial<LinkConfig>;
  /** One direction, on top of `link`. */
  c2s?: Partial<LinkConfig>;
  s2c?: Partial<LinkConfig>;
  clientAddress?: Address;
  serverAddress?: Address;
  /** Size of the buffer handed to send() (default 65527). */
  sendBufferSize?: number;
  /** Tracers attached to the connections, shown in diagnostics. */
  tracers?: { client?: MemoryTracer; server?: MemoryTracer };
  /** Keep copies of the last N delivered datagrams per direction (for replay tests; default 0). */
  history?: number;
  /**
   * How an endpoint honours send()'s `at`: 'fifo' (default) holds its datagrams in one queue, each
   * leaving at max(now, at, the previous one's departure), as an event loop with a send queue does;
   * 'exact' sends each at max(now, at), so release times that go backwards reorder on the wire.
   */
  pacing?: 'fifo' | 'exact';
  /**
   * Fire timers this many ms after their deadline (default 0: exactly at it, the strictest test;
   * an OS timer is always a little late, which hides "due at exactly `now`" bugs).
   */
  timerSlack?: number;
}

/** Limits and stop condition of one `run`. */
export interface RunOptions<C extends SimConnection = SimConnection> {
  /** Stop as soon as this holds (checked before each step). */
  until?: (sim: Sim<C>) => boolean;
  /** What is being waited for, for diagnostics. */
  what?: string;
  /** Fail when virtual time would pass now + maxTime ms (default 600 000: ten virtual minutes). */
  maxTime?: number;
  /** Fail after this many steps (default 5 000 000). */
  maxEvents?: number;
  /** With no `until`: stop when both are closed (default). With `until`, closing first fails. */
  allowClose?: boolean;
}

/** A loud failure of a simulation, with the diagnostics in its message. */
export class SimError extends Error {
  override name = 'SimError';
}

type Event =
  | { kind: 'depart'; d: SimDatagram }
  | { kind: 'arrive'; dir: Direction; bytes: Uint8Array; from: Address; to: Address; injected: boolean }
  | { kind: 'call'; fn: () => void };

const DEFAULT_CLIENT: Address = { address: '10.0.0.1', port: 50_000 };
const DEFAULT_SERVER: Address = { address: '10.0.0.2', port: 443 };

/** One endpoint of the simulation. */
export class SimEndpoint<C extends SimConnection = SimConnection> {
  /** The connection (null for a server not created yet). */
  conn: C | null = null;
  /** The address the peer sees (differs from `local` after a NAT rebinding). */
  external: Address;
  /** Earlier external addresses still delivered to, until their time (a NAT's old mapping). */
  oldMappings: { address: Address; until: number }[] = [];
  /**
   * More addresses the endpoint owns, without NAT (a second interface or socket, a server's
   * preferred address): datagrams to them are delivered (with that `to`), and datagrams it sends
   * from them leave with that source.
   */
  extraAddresses: Address[] = [];
  /** Flights (send bursts that produced something) so far. */
  flights = 0;
  /** Datagrams sent by this endpoint so far. */
  datagrams = 0;
  /** The endpoint's send buffer (reused). */
  readonly out: Uint8Array;
  /** Latest `at` send() returned, and the departure time of the last datagram. */
  maxAt = -Infinity;
  lastDeparture = -Infinity;
  /** Datagrams whose `at` was earlier than one send() returned before (release times going backwards). */
  pacingInversions = 0;
  /** Stuck-timer detection. */
  lastTimerAt = -Infinity;
  sameTimeFires = 0;

  constructor(
    readonly side: Side,
    readonly local: Address,
    bufferSize: number,
    readonly tracer: MemoryTracer | undefined,
  ) {
    this.external = { ...local };
    this.out = new Uint8Array(bufferSize);
  }

  /** The connection, or an error when it does not exist yet. */
  get c(): C {
    if (this.conn === null) throw new SimError(`the ${this.side} connection does not exist yet`);
    return this.conn;
  }
}

/** Byte counts of the server before the client's address is validated (RFC 9000 §8.1). */
export interface AmplificationCounters {
  /** Whether a datagram with a Handshake packet from the client has reached the server. */
  validated: boolean;
  /** Bytes the server received from the client, and sent to it, before that. */
  serverReceived: number;
  serverSent: number;
}

/** The simulation: two endpoints, two link directions, a clock and an event queue. */
export class Sim<C extends SimConnection = SimConnection> {
  /** Virtual time, ms. */
  now: number;
  /** Steps taken (events processed and timer rounds). */
  steps = 0;
  readonly rng: Rng;
  readonly client: SimEndpoint<C>;
  readonly server: SimEndpoint<C>;
  readonly c2s: Link;
  readonly s2c: Link;
  /** Server bytes before address validation (checked by the amplification tests). */
  readonly amplification: AmplificationCounters = { validated: false, serverReceived: 0, serverSent: 0 };
  /** The last delivered datagrams per direction (copies, oldest first), when `history` > 0. */
  readonly history: Record<Direction, Uint8Array[]> = { c2s: [], s2c: [] };
  private readonly historySize: number;
  private readonly queue = new EventQueue<Event>();
  private readonly apps: ((sim: Sim<C>) => void)[] = [];
  private readonly serverSource: ConnectionSource<C>;
  private readonly fifo: boolean;
  private readonly timerSlack: number;

  constructor(client: ConnectionSource<C>, server: ConnectionSource<C>, options: SimOptions = {}) {
    this.now = options.startTime ?? 0;
    this.rng = new Rng(options.seed ?? 1);
    const size = options.sendBufferSize ?? 65527;
    this.client = new SimEndpoint<C>(
      'client',
      options.clientAddress ?? DEFAULT_CLIENT,
      size,
      options.tracers?.client,
    );
    this.server = new SimEndpoint<C>(
      'server',
      options.serverAddress ?? DEFAULT_SERVER,
      size,
      options.tracers?.server,
    );
    this.c2s = new Link('c2s', { ...options.link, ...options.c2s }, this.rng.fork());
    this.s2c = new Link('s2c', { ...options.link, ...options.s2c }, this.rng.fork());
    this.historySize = options.history ?? 0;
    this.fifo = (options.pacing ?? 'fifo') === 'fifo';
    this.timerSlack = options.timerSlack ?? 0;
    this.serverSource = server;
    this.client.conn = this.create(client, this.client, this.server.external, null);
    if (typeof server !== 'function') this.server.conn = server;
  }

  /** The endpoint on `side`. */
  endpoint(side: Side): SimEndpoint<C> {
    return side === 'client' ? this.client : this.server;
  }

  /** Registers an application step, run after every event (before the endpoints send). Returns its remover. */
  addApp(app: (sim: Sim<C>) => void): () => void {
    this.apps.push(app);
    return () => {
      const i = this.apps.indexOf(app);
      if (i >= 0) this.apps.splice(i, 1);
    };
  }

  /** Runs `fn` at virtual time `time` (absolute). */
  at(time: number, fn: () => void): void {
    this.queue.push(Math.max(time, this.now), { kind: 'call', fn });
  }

  /** Delivers `bytes` to `side` at `time` (default now), bypassing the link: garbage, replays. */
  inject(side: Side, bytes: Uint8Array, options: { time?: number; from?: Address } = {}): void {
    const to = this.endpoint(side);
    const from = options.from ?? this.endpoint(side === 'client' ? 'server' : 'client').external;
    const dir: Direction = side === 'server' ? 'c2s' : 's2c';
    this.queue.push(Math.max(options.time ?? this.now, this.now), {
      kind: 'arrive',
      dir,
      bytes: bytes.slice(),
      from,
      to: to.external,
      injected: true,
    });
  }

  /**
   * NAT rebinding: from now on the peer sees `side` at `address`. Datagrams to the old address
   * are lost, or still delivered for `keepOldFor` ms (a NAT that keeps the old mapping a while).
   */
  rebind(side: Side, address: Address, keepOldFor = 0): void {
    const ep = this.endpoint(side);
    if (keepOldFor > 0) ep.oldMappings.push({ address: ep.external, until: this.now + keepOldFor });
    ep.external = { ...address };
  }

  /** Gives `side` another address (see SimEndpoint.extraAddresses): a client migrating, a preferred address. */
  addAddress(side: Side, address: Address): void {
    this.endpoint(side).extraAddresses.push({ ...address });
  }

  /**
   * Black-holes `address` (or lifts it with `on` false): every datagram from or to it is lost
   * (counted as a 'script' drop) — an interface that went down, a path that does not work.
   */
  blackhole(address: Address, on = true): void {
    this.blackholes = this.blackholes.filter((a) => !sameAddress(a, address));
    if (on) this.blackholes.push({ ...address });
  }

  private blackholes: Address[] = [];

  /** Both connections exist and are closed. */
  bothClosed(): boolean {
    const { conn: client } = this.client;
    const { conn: server } = this.server;
    return client !== null && server !== null && client.isClosed() && server.isClosed();
  }

  /** Runs until `until` holds (or, without one, until both are closed); fails loudly at a limit. */
  run(options: RunOptions<C> = {}): void {
    const { until, what = until ? 'the condition' : 'both connections to close' } = options;
    const deadline = this.now + (options.maxTime ?? 600_000);
    const maxSteps = this.steps + (options.maxEvents ?? 5_000_000);
    this.step(() => undefined); // let the apps and endpoints act at the start time
    for (;;) {
      if (until !== undefined && until(this)) return;
      const client = this.client.conn;
      const server = this.server.conn;
      if (client !== null && client.isClosed() && (server === null || server.isClosed())) {
        if (until === undefined || options.allowClose === true) return;
        this.fail(`both connections closed before ${what}`);
      }
      if (this.steps >= maxSteps) this.fail(`event limit reached while waiting for ${what}`);
      const timer = Math.min(this.timerOf(this.client), this.timerOf(this.server));
      const next = Math.min(this.queue.peekTime(), timer);
      if (next === Infinity)
        this.fail(`nothing left to happen (no event, no timer) while waiting for ${what}`);
      if (next > deadline) this.fail(`virtual time limit (${deadline} ms) reached while waiting for ${what}`);
      this.now = Math.max(this.now, next);
      if (this.queue.peekTime() <= timer) {
        const e = this.queue.pop()!;
        this.step(() => this.handle(e.value));
      } else {
        this.step(() => {
          this.fireTimer(this.client);
          this.fireTimer(this.server);
        });
      }
    }
  }

  /** Runs for `ms` of virtual time (or until both close). */
  runFor(ms: number, options: Omit<RunOptions<C>, 'until'> = {}): void {
    const end = this.now + ms;
    this.at(end, () => undefined);
    this.run({ ...options, until: () => this.now >= end, what: `${ms} ms to pass`, allowClose: true });
  }

  /** The diagnostics a failure shows: time, both sides, the links, the last trace events. */
  diagnostics(): string {
    const lines = [
      `virtual time ${this.now.toFixed(3)} ms after ${this.steps} steps; ${this.queue.size} queued events`,
    ];
    for (const ep of [this.client, this.server]) {
      const c = ep.conn;
      if (c === null) {
        lines.push(`${ep.side}: not created`);
        continue;
      }
      lines.push(
        `${ep.side} ${formatAddress(ep.local)} (seen as ${formatAddress(ep.external)}): ` +
          `established=${safe(() => c.isEstablished())} closed=${safe(() => c.isClosed())} ` +
          `timeout=${safe(() => c.timeout())} localError=${safe(() => c.localError?.())} ` +
          `peerError=${safe(() => c.peerError?.())} pacingInversions=${ep.pacingInversions}`,
      );
      if (c.stats) lines.push(`  stats ${safe(() => c.stats?.())}`);
    }
    for (const link of [this.c2s, this.s2c]) lines.push(`${link.dir} ${JSON.stringify(link.counters)}`);
    lines.push(`amplification ${JSON.stringify(this.amplification)}`);
    for (const ep of [this.client, this.server]) {
      if (ep.tracer === undefined) continue;
      const events = ep.tracer.all().slice(-25);
      lines.push(`last ${events.length} trace events of the ${ep.side}:`);
      for (const e of events)
        lines.push(
          `  ${e.time.toFixed(3)} ${e.name} ${truncate(
            safe(() => e.data),
            300,
          )}`,
        );
    }
    return lines.join('\n');
  }

  /** Throws a SimError with `message` and the diagnostics. */
  fail(message: string, cause?: unknown): never {
    throw new SimError(`${message}\n${this.diagnostics()}`, cause === undefined ? undefined : { cause });
  }

  // -------------------------------------------------------------------------------------------

  private create(
    source: ConnectionSource<C>,
    ep: SimEndpoint<C>,
    peer: Address,
    datagram: Uint8Array | null,
  ): C {
    if (typeof source !== 'function') return source;
    const make = source as (ctx: CreateContext) => C;
    try {
      return make({ now: this.now, local: ep.local, peer, datagram });
    } catch (e) {
      this.fail(`creating the ${ep.side} connection threw: ${String(e)}`, e);
    }
  }

  private timerOf(ep: SimEndpoint<C>): number {
    const c = ep.conn;
    if (c === null || c.isClosed()) return Infinity;
    let t: number | null;
    try {
      t = c.timeout();
    } catch (e) {
      this.threw(ep, 'timeout', e);
    }
    return t === null ? Infinity : t + this.timerSlack;
  }

  private fireTimer(ep: SimEndpoint<C>): void {
    const c = ep.conn;
    if (c === null || c.isClosed()) return;
    const t = this.call(ep, 'timeout', () => c.timeout());
    if (t === null || t + this.timerSlack > this.now) return;
    if (this.now === ep.lastTimerAt) {
      if (++ep.sameTimeFires > 1000)
        this.fail(`the ${ep.side}'s timer stays due at ${this.now} after onTimeout`);
    } else {
      ep.lastTimerAt = this.now;
      ep.sameTimeFires = 0;
    }
    this.call(ep, 'onTimeout', () => c.onTimeout(this.now));
  }

  private step(body: () => void): void {
    this.steps++;
    body();
    for (const app of this.apps) app(this);
    this.flush(this.client);
    this.flush(this.server);
  }

  private handle(e: Event): void {
    if (e.kind === 'call') return e.fn();
    if (e.kind === 'depart') return this.depart(e.d);
    this.arrive(e.dir, e.bytes, e.from, e.to, e.injected);
  }

  /** Calls send() until null and puts the datagrams on the link at max(now, at). */
  private flush(ep: SimEndpoint<C>): void {
    const c = ep.conn;
    if (c === null || c.isClosed()) return;
    const dir: Direction = ep.side === 'client' ? 'c2s' : 's2c';
    const flight = ep.flights;
    let n = 0;
    for (;;) {
      let info: ReturnType<SimConnection['send']>;
      try {
        info = c.send(ep.out, this.now);
      } catch (e) {
        this.threw(ep, 'send', e);
      }
      if (info === null) break;
      if (++n > 100_000) this.fail(`the ${ep.side}'s send() does not return null`);
      if (info.length <= 0 || info.length > ep.out.length)
        this.fail(`the ${ep.side}'s send() returned length ${info.length}`);
      const bytes = this.copy(ep.out, info.length);
      const at = Number.isFinite(info.at) ? info.at : this.now;
      if (at < ep.maxAt - 1e-9) ep.pacingInversions++;
      ep.maxAt = Math.max(ep.maxAt, at);
      const departAt = Math.max(this.now, at, this.fifo ? ep.lastDeparture : -Infinity);
      ep.lastDeparture = departAt;
      if (ep.side === 'server' && !this.amplification.validated)
        this.amplification.serverSent += bytes.length;
      const d: SimDatagram = {
        dir,
        index: ep.datagrams++,
        flight,
        bytes,
        // The network sees the sender's external address (NAT), whatever it believes its own is.
        from: sameAddress(info.from, ep.local) ? ep.external : info.from,
        to: info.to,
        sentAt: this.now,
        departAt,
      };
      if (d.departAt > this.now) this.queue.push(d.departAt, { kind: 'depart', d });
      else this.depart(d);
    }
    if (n > 0) ep.flights++;
  }

  private depart(d: SimDatagram): void {
    const link = d.dir === 'c2s' ? this.c2s : this.s2c;
    link.admit(d, this.scheduleArrival);
  }

  private slab = new Uint8Array(0);
  private slabUsed = 0;

  /** A private copy of `src[0..n)`, carved from a shared slab (one allocation per MiB, not per datagram). */
  private copy(src: Uint8Array, n: number): Uint8Array {
    if (this.slabUsed + n > this.slab.length) {
      this.slab = new Uint8Array(Math.max(1 << 20, n));
      this.slabUsed = 0;
    }
    const view = this.slab.subarray(this.slabUsed, this.slabUsed + n);
    view.set(src.subarray(0, n));
    this.slabUsed += (n + 7) & ~7;
    return view;
  }

  private readonly scheduleArrival = (d: SimDatagram, time: number, bytes: Uint8Array): void => {
    this.queue.push(time, { kind: 'arrive', dir: d.dir, bytes, from: d.from, to: d.to, injected: false });
  };

  private routable(ep: SimEndpoint<C>, to: Address): boolean {
    if (sameAddress(to, ep.external)) return true;
    for (const a of ep.extraAddresses) if (sameAddress(to, a)) return true;
    for (const m of ep.oldMappings) if (m.until > this.now && sameAddress(to, m.address)) return true;
    return false;
  }

  private arrive(dir: Direction, bytes: Uint8Array, from: Address, to: Address, injected: boolean): void {
    const ep = dir === 'c2s' ? this.server : this.client;
    const link = dir === 'c2s' ? this.c2s : this.s2c;
    let reason: DropReason | null = null;
    if (this.blackholes.some((a) => sameAddress(a, from) || sameAddress(a, to))) reason = 'script';
    else if (!this.routable(ep, to)) reason = 'unroutable';
    else {
      if (ep.conn === null) ep.conn = this.create(this.serverSource, ep, from, bytes);
      if (ep.conn.isClosed()) reason = 'closed';
    }
    if (reason !== null) {
      if (!injected) link.counters.dropped[reason]++;
      return;
    }
    const c = ep.conn as C;
    if (!injected) {
      link.counters.delivered++;
      link.counters.deliveredBytes += bytes.length;
    }
    if (this.historySize > 0) {
      const h = this.history[dir];
      h.push(bytes.slice());
      if (h.length > this.historySize) h.shift();
    }
    if (dir === 'c2s' && !injected && !this.amplification.validated) {
      this.amplification.serverReceived += bytes.length;
      // RFC 9000 §8.1: a Handshake packet from the client proves it owns the address.
      if (hasPacketType(bytes, 'handshake')) this.amplification.validated = true;
    }
    try {
      const extra = ep.extraAddresses.find((a) => sameAddress(a, to));
      c.recv(bytes, { from, to: extra ?? ep.local }, this.now);
    } catch (e) {
      this.threw(ep, 'recv', e);
    }
  }

  private call<T>(ep: SimEndpoint<C>, method: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.threw(ep, method, e);
    }
  }

  private threw(ep: SimEndpoint<C>, method: string, e: unknown): never {
    const detail = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
    this.fail(`the ${ep.side}'s ${method}() threw ${detail}`, e);
  }
}

function safe(fn: () => unknown): string {
  try {
    return JSON.stringify(fn(), (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v,
    );
  } catch (e) {
    return `<threw ${String(e)}>`;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
