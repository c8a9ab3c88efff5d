/**
 * A connection driven by an endpoint (endpoint.ts): the sans-IO Connection plus promises and
 * events for the layers above, and the endpoint's per-connection bookkeeping (scheduling, the
 * datagram held for its pacing time, routed CIDs).
 */
import type { Connection } from '../../core/connection/connection.ts';
import type { Address } from '../../core/connection/types.ts';
import type { Scheduled } from '../../core/endpoint/deadline-heap.ts';
import { EndpointError } from './errors.ts';
import type { CloseInfo } from './errors.ts';
import { Emitter } from './events.ts';
import type { SendSlot } from './udp.ts';

/** Events of one connection. */
export type ConnectionEvents = {
  /** The handshake completed. */
  established: [];
  /** Datagrams were processed: streams may be readable, writable, or the state changed. */
  activity: [];
  /** The connection is gone (closed, drained, timed out, refused...). */
  closed: [CloseInfo];
};

/** Options of a client's migration to a new local socket (`QuicClientEndpoint.migrate`). */
export interface MigrateOptions {
  /** The new socket's local port (default 0: any). */
  localPort?: number;
  /** The new socket's local IP (default: the interface address the endpoint's socket uses). */
  localAddress?: string;
}

/** What a handle needs of its endpoint. */
export interface HandleEndpoint {
  markDirty(h: QuicConnectionHandle): void;
  /** Client endpoints only. */
  migrate?(h: QuicConnectionHandle, options?: MigrateOptions): Promise<Address>;
}

const NOOP = (): void => {};

/** A connection driven by an endpoint: the core Connection plus promises, events and scheduling. */
export class QuicConnectionHandle extends Emitter<ConnectionEvents> implements Scheduled {
  /** Resolves when the handshake completes; rejects with an EndpointError if it never does. */
  readonly established: Promise<void>;
  /** Resolves with how the connection ended. */
  readonly closed: Promise<CloseInfo>;

  /** @internal Heap bookkeeping (Scheduled). */
  deadline = 0;
  /** @internal */
  heapIndex = -1;
  /** @internal A datagram waiting for its pacing time. */
  heldSlot: SendSlot | null = null;
  /** @internal */
  heldLength = 0;
  /** @internal */
  heldFrom: Address | null = null;
  /** @internal */
  heldTo: Address | null = null;
  /** @internal The peer address of the last datagram it sent. */
  lastTo: Address | null = null;
  /** @internal The peer addresses it sent to, newest last (stateless reset detection). */
  readonly peers: Address[] = [];
  /** @internal */
  heldAt = 0;
  /** @internal */
  dirty = false;
  /** @internal Datagrams arrived since the last 'activity' event. */
  activity = false;
  /** @internal The CIDs routed to it (server and client routers). */
  readonly routes: Uint8Array[] = [];
  /** @internal The client's first DCID, routed until the handshake completes (server). */
  initialDcid: Uint8Array | null = null;
  /** @internal */
  handshakeDeadline: number | null;
  /** @internal */
  wasEstablished = false;
  /** @internal */
  done = false;
  /** @internal Why the endpoint ended it, if it did. */
  failure: EndpointError | null = null;
  /** @internal */
  resolveEstablished: () => void = NOOP;
  /** @internal */
  rejectEstablished: (e: EndpointError) => void = NOOP;
  /** @internal */
  resolveClosed: (info: CloseInfo) => void = NOOP;

  constructor(
    /** The sans-IO connection: streams, stats, TLS info. Call `wake()` after using it. */
    readonly connection: Connection,
    /** The peer's address when the connection started. */
    readonly peer: Address,
    private readonly endpoint: HandleEndpoint,
    handshakeDeadline: number | null,
  ) {
    super();
    this.handshakeDeadline = handshakeDeadline;
    this.established = new Promise<void>((resolve, reject) => {
      this.resolveEstablished = resolve;
      this.rejectEstablished = reject;
    });
    this.established.catch(NOOP); // a caller that never awaits it must not get an unhandled rejection
    this.closed = new Promise<CloseInfo>((resolve) => (this.resolveClosed = resolve));
  }

  /** Tells the endpoint the application used the connection (wrote, read, closed): it sends what is due. */
  wake(): void {
    this.endpoint.markDirty(this);
  }

  /** Writes to a stream and wakes the endpoint; returns the bytes accepted (see Connection.streamSend). */
  streamSend(id: number, data: Uint8Array, fin = false): number {
    const n = this.connection.streamSend(id, data, fin);
    this.wake();
    return n;
  }

  /**
   * Client: moves the connection to a new local socket (RFC 9000 §9.2); see
   * QuicClientEndpoint.migrate. Rejects with EndpointError 'migration_refused' on a server.
   */
  migrate(options?: MigrateOptions): Promise<Address> {
    if (this.endpoint.migrate === undefined)
      return Promise.reject(
        new EndpointError('migration_refused', 'only a client migrates a connection (RFC 9000 §9)'),
      );
    return this.endpoint.migrate(this, options);
  }

  /** Closes the connection (application error `code` by default, RFC 9000 §10.2) and wakes the endpoint. */
  close(code = 0, reason = '', app = true): void {
    if (this.done) return;
    this.connection.close(app, code, reason);
    this.wake();
  }

  /** Whether the endpoint still drives it. */
  get isOpen(): boolean {
    return !this.done;
  }

  /** @internal */
  notify<K extends keyof ConnectionEvents>(event: K, ...args: ConnectionEvents[K]): void {
    this.emit(event, ...args);
  }
}

/** A one-line description of how a connection ended. */
export function describeClose(info: CloseInfo): string {
  if (info.error !== null) return info.error.message;
  if (info.timedOut) return 'idle timeout';
  const e = info.peer ?? info.local;
  if (e === null) return 'closed';
  const who = info.peer !== null ? 'peer' : 'local';
  return `${who} closed with ${e.isApp ? 'application' : 'transport'} error 0x${e.code.toString(16)}${e.reason ? `: ${e.reason}` : ''}`;
}
