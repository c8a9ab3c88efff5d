/**
 * A real client and server Connection over the network simulator (quinn's Pair, aioquic's
 * client_and_server): test certificates, a seeded crypto provider (every random byte the stack
 * draws comes from the simulation seed, and ed25519 signatures have a fixed size, so datagram
 * sizes and therefore the network's drop decisions replay exactly), and MemoryTracers whose last
 * events a failing run prints.
 *
 *   const sim = makePair({ seed: 7, link: { loss: 0.05 } });
 *   handshake(sim);
 *   const r = transfer(sim, { bytes: 1_000_000 });
 */
import { accept, Config, connect, QUIC_VERSION_1, StreamError } from '../../core/index.ts';
import type { Connection } from '../../core/index.ts';
// The connection's internal state: a test hook of core/connection (not part of the package API).
import { connectionState } from '../../core/connection/connection.ts';
import { defaultProvider } from '../../core/crypto/index.ts';
import type { CryptoProvider, KeyType } from '../../core/crypto/provider.ts';
import { streamTypeOf } from '../../core/stream/stream-id.ts';
import { MemoryTracer } from '../../core/trace/tracer.ts';
import { testPki } from './certs.ts';
import { Rng, Sim } from './netsim.ts';
import type { SimOptions } from './netsim.ts';
import type { TransferOptions } from './netsim-transfer.ts';

export { handshake, transfer, expectedHash, streamId } from './netsim-transfer.ts';
export type { Connection };

/** Options of a pair: the network's, plus the two Configs. */
export interface PairOptions extends SimOptions {
  /** QUIC version (default v1). */
  version?: number;
  /** Adjusts the client's / server's Config after the defaults are set. */
  client?: (config: Config) => void;
  server?: (config: Config) => void;
  /** Attach MemoryTracers holding this many events (default 2000; 0: no tracing). */
  traceEvents?: number;
  /** Certificate key type (default ed25519: fixed-size signatures). */
  keyType?: KeyType;
  /** Server name the client asks for (default 'localhost'). */
  serverName?: string | null;
  /** Do not seed the crypto provider (use the runtime's randomness). */
  unseeded?: boolean;
}

/** A Config whose connections draw their randomness from a seeded generator. */
class SeededConfig extends Config {
  constructor(
    version: number,
    private readonly seeded: CryptoProvider | null,
  ) {
    super(version);
  }

  override provider(): CryptoProvider {
    return this.seeded ?? super.provider();
  }
}

/** The default provider with `randomBytes` drawn from `rng`. */
export function seededProvider(rng: Rng): CryptoProvider {
  return { ...defaultProvider, name: 'seeded', randomBytes: (n: number) => rng.fill(new Uint8Array(n)) };
}

/** The Configs of a pair (exported so tests can build extra connections the same way). */
export function pairConfigs(
  options: PairOptions = {},
  provider: CryptoProvider | null = null,
): { client: Config; server: Config } {
  const version = options.version ?? QUIC_VERSION_1;
  const pki = testPki(options.keyType ?? 'ed25519');
  const client = new SeededConfig(version, provider);
  client.setApplicationProtos(['quicscope-test']);
  client.setCaCertificates(pki.root.pem);
  const server = new SeededConfig(version, provider);
  server.setApplicationProtos(['quicscope-test']);
  server.setCertificateChain(pki.chainPem);
  server.setPrivateKey(pki.leaf.keyPem);
  options.client?.(client);
  options.server?.(server);
  return { client, server };
}

/** A client connecting to a server over a simulated network; the server is accepted at its first datagram. */
export function makePair(options: PairOptions = {}): Sim<Connection> {
  const seed = options.seed ?? 1;
  const provider = options.unseeded === true ? null : seededProvider(new Rng(seed ^ 0x5eed));
  const configs = pairConfigs(options, provider);
  const events = options.traceEvents ?? 2000;
  const tracers =
    events > 0
      ? { client: new MemoryTracer({ maxEvents: events }), server: new MemoryTracer({ maxEvents: events }) }
      : undefined;
  if (tracers) {
    configs.client.setTracer(tracers.client);
    configs.server.setTracer(tracers.server);
  }
  const ids = new Rng(seed ^ 0xc1d);
  const cid = () => ids.fill(new Uint8Array(8));
  return new Sim<Connection>(
    (ctx) =>
      connect(
        options.serverName === undefined ? 'localhost' : options.serverName,
        cid(),
        ctx.local,
        ctx.peer,
        configs.client,
        ctx.now,
      ),
    (ctx) => accept(cid(), null, ctx.local, ctx.peer, configs.server, ctx.now),
    // NETSIM_TIMER_SLACK=0.001 fires timers 1 µs late (as an OS would), to look past a "due at exactly now" bug.
    { timerSlack: Number(process.env.NETSIM_TIMER_SLACK ?? 0), ...options, tracers },
  );
}

/** For `transfer`: a throw that means "this stream cannot be opened yet" (the peer's MAX_STREAMS). */
export function isStreamLimit(e: unknown): boolean {
  return e instanceof StreamError && e.kind === 'not_open';
}

/** For `transfer`: whether our stream `id` exists (an empty FIN opens it only within MAX_STREAMS). */
export function streamOpened(conn: Connection, id: number): boolean {
  return id < connectionState(conn).streams.nextLocalId(streamTypeOf(id));
}

/** Transfer options every e2e test wants with real connections. */
export function withLimits(options: TransferOptions<Connection>): TransferOptions<Connection> {
  return { isBlocked: isStreamLimit, streamOpened, ...options };
}

/** RFC 9000 §8.1: before validating the client's address, the server sent at most 3x what it received. */
export function amplificationRespected(sim: Sim<Connection>): boolean {
  const a = sim.amplification;
  return a.serverSent <= 3 * a.serverReceived;
}

/** How many frames of `frameType` the side's tracer saw in packets it sent (or received). */
export function frameCount(
  sim: Sim<Connection>,
  side: 'client' | 'server',
  frameType: string,
  direction: 'sent' | 'received' = 'sent',
): number {
  const tracer = sim.endpoint(side).tracer;
  if (tracer === undefined) throw new RangeError('the pair has no tracers (traceEvents: 0)');
  let n = 0;
  const name = direction === 'sent' ? 'quic:packet_sent' : 'quic:packet_received';
  for (const e of tracer.events(name)) for (const f of e.frames ?? []) if (f.frame_type === frameType) n++;
  return n;
}
