/**
 * A one-connection server endpoint for the simulator that answers, before a connection exists,
 * as a UDP endpoint would: Version Negotiation for a version its Config does not accept
 * (RFC 9000 §6.1, through core/endpoint's `negotiateVersion`), optionally a Retry first
 * (RFC 9000 §8.1.2), then a Connection for the client's Initial. Also the pair of Configs and the
 * Sim for the version negotiation tests.
 */
import { accept, connect } from '../../core/connection/connection.ts';
import type { Connection } from '../../core/connection/connection.ts';
import type { Config } from '../../core/connection/config.ts';
import type { Address, RecvInfo } from '../../core/connection/types.ts';
import { buildRetryPacket } from '../../core/endpoint/retry.ts';
import {
  negotiateVersion,
  VERSION_NEGOTIATION_RANDOM_BYTES,
} from '../../core/endpoint/version-negotiation.ts';
import { MemoryTracer } from '../../core/trace/tracer.ts';
import { bytesEqual } from '../../core/wire/buffer.ts';
import { parseDatagramRouting } from '../../core/wire/packet.ts';
import { Rng, Sim } from './netsim.ts';
import type { SimOptions } from './netsim.ts';
import type { StreamConnection } from './netsim-transfer.ts';
import { pairConfigs, seededProvider } from './pair.ts';

const CID_LENGTH = 8;

/** Options of a VnServer. */
export interface VnServerOptions {
  /** Answer the first Initial with a Retry (in its version, RFC 9369 §4.1). */
  retry?: boolean;
}

/** The server side of a version negotiation test: VN / Retry answers, then one Connection. */
export class VnServer implements StreamConnection {
  conn: Connection | null = null;
  /** Version Negotiation packets sent, and the versions of the datagrams that caused them. */
  vnSent = 0;
  readonly vnFor: number[] = [];
  retrySent = 0;
  private readonly queue: { bytes: Uint8Array; to: Address }[] = [];
  private retryScid: Uint8Array | null = null;
  private odcid: Uint8Array | null = null;
  private readonly rng: Rng;

  constructor(
    readonly config: Config,
    readonly local: Address,
    seed: number,
    private readonly options: VnServerOptions = {},
  ) {
    this.rng = new Rng(seed);
  }

  recv(datagram: Uint8Array, info: RecvInfo, now: number): number {
    if (this.conn === null && !this.beforeConnection(datagram, info, now)) return datagram.length;
    return (this.conn as Connection).recv(datagram, info, now);
  }

  /** Answers a datagram for no connection; true when a connection now exists to take it. */
  private beforeConnection(datagram: Uint8Array, info: RecvInfo, now: number): boolean {
    const out = new Uint8Array(1500);
    const random = this.rng.fill(new Uint8Array(VERSION_NEGOTIATION_RANDOM_BYTES));
    // RFC 9000 §6.1: a version we do not accept gets Version Negotiation with our versions.
    const n = negotiateVersion(datagram, out, random, this.config.supportedVersions());
    if (n > 0) {
      this.vnSent++;
      this.vnFor.push(new DataView(datagram.buffer, datagram.byteOffset).getUint32(1));
      this.queue.push({ bytes: out.slice(0, n), to: info.from });
      return false;
    }
    let r;
    try {
      r = parseDatagramRouting(datagram, CID_LENGTH);
    } catch {
      return false;
    }
    if (r.type !== 'initial' || r.version === null) return false;
    const dcid = datagram.slice(r.dcidOffset, r.dcidOffset + r.dcidLength);
    const scid = datagram.slice(r.scidOffset, r.scidOffset + r.scidLength);
    if (this.options.retry === true) {
      if (this.retryScid === null) {
        this.retryScid = this.rng.fill(new Uint8Array(CID_LENGTH));
        this.odcid = dcid;
        const len = buildRetryPacket(out, {
          version: r.version,
          clientScid: scid,
          odcid: dcid,
          retryScid: this.retryScid,
          token: new Uint8Array([0x52, 1, 2, 3]),
        });
        this.retrySent++;
        this.queue.push({ bytes: out.slice(0, len), to: info.from });
        return false;
      }
      if (!bytesEqual(dcid, this.retryScid) || r.tokenLength === 0) return false;
      this.conn = accept(this.retryScid, this.odcid, info.to, info.from, this.config, now);
      return true;
    }
    this.conn = accept(this.rng.fill(new Uint8Array(CID_LENGTH)), null, info.to, info.from, this.config, now);
    return true;
  }

  send(out: Uint8Array, now: number): { length: number; from: Address; to: Address; at: number } | null {
    const q = this.queue.shift();
    if (q !== undefined) {
      out.set(q.bytes);
      return { length: q.bytes.length, from: this.local, to: q.to, at: now };
    }
    return this.conn?.send(out, now) ?? null;
  }

  timeout(): number | null {
    return this.conn?.timeout() ?? null;
  }

  onTimeout(now: number): void {
    this.conn?.onTimeout(now);
  }

  isClosed(): boolean {
    return this.conn?.isClosed() ?? false;
  }

  isEstablished(): boolean {
    return this.conn?.isEstablished() ?? false;
  }

  stats(): object {
    return this.conn?.stats() ?? { vnSent: this.vnSent, retrySent: this.retrySent };
  }

  localError(): unknown {
    return this.conn?.localError() ?? null;
  }

  peerError(): unknown {
    return this.conn?.peerError() ?? null;
  }

  streamSend(id: number, data: Uint8Array, fin: boolean): number {
    return (this.conn as Connection).streamSend(id, data, fin);
  }

  streamRecv(id: number, out: Uint8Array): { length: number; fin: boolean } | null {
    return (this.conn as Connection).streamRecv(id, out);
  }

  readable(): Iterable<number> {
    return this.conn?.readable() ?? [];
  }
}

/** Options of a version negotiation simulation. */
export interface VnSimOptions extends SimOptions {
  /** The client's Config version (default v1). */
  version?: number;
  client?: (config: Config) => void;
  server?: (config: Config) => void;
  serverOptions?: VnServerOptions;
}

/** A simulation: our client against a VnServer, both traced (MemoryTracers), seeded randomness. */
export function makeVnSim(options: VnSimOptions = {}): {
  sim: Sim<StreamConnection>;
  client: () => Connection;
  server: () => VnServer;
  tracers: { client: MemoryTracer; server: MemoryTracer };
} {
  const seed = options.seed ?? 1;
  const provider = seededProvider(new Rng(seed ^ 0x5eed));
  const configs = pairConfigs(
    { version: options.version, client: options.client, server: options.server },
    provider,
  );
  const tracers = {
    client: new MemoryTracer({ maxEvents: 4000 }),
    server: new MemoryTracer({ maxEvents: 4000 }),
  };
  configs.client.setTracer(tracers.client);
  configs.server.setTracer(tracers.server);
  const scid = new Rng(seed ^ 0xc1d).fill(new Uint8Array(CID_LENGTH));
  let server: VnServer | null = null;
  const sim = new Sim<StreamConnection>(
    (ctx) => connect('localhost', scid, ctx.local, ctx.peer, configs.client, ctx.now),
    (ctx) => (server = new VnServer(configs.server, ctx.local, seed ^ 0x7e5, options.serverOptions)),
    { ...options, tracers },
  );
  return {
    sim,
    client: () => sim.client.c as unknown as Connection,
    server: () => {
      if (server === null) throw new Error('no server yet');
      return server;
    },
    tracers,
  };
}
