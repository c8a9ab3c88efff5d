/**
 * The UDP socket of an endpoint (node:dgram) and its send buffers.
 *
 * dgram.send keeps a reference to the buffer until its callback when the kernel cannot take the
 * datagram at once (libuv queues it), and, for an unconnected socket with the default lookup,
 * always (the address lookup defers the send by a tick). So a single reused send buffer is not
 * safe: a datagram could go out with the bytes of the next one. Instead the connection writes
 * straight into a buffer from a small pool (`SendSlots`), which goes back to the pool in the send
 * callback: no copy and no allocation per datagram. IP literals are resolved synchronously
 * (`lookup` option), which saves a dns.lookup and a tick on every unconnected send.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Address } from '../../core/connection/types.ts';

/** The socket buffer size the endpoints ask for (the host allows up to 4 MiB). */
export const SOCKET_BUFFER_SIZE = 4 * 1024 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** dgram's lookup for IP literals, answered synchronously (anything else is an error: we only send to IPs). */
function literalLookup(host: string, _options: unknown, callback: LookupCallback): void {
  const family = isIP(host);
  if (family === 0) {
    const e = new Error(`not an IP address: ${host}`) as NodeJS.ErrnoException;
    e.code = 'EINVAL';
    callback(e, host, 0);
    return;
  }
  callback(null, host, family);
}

/** Creates a UDP socket of the family of `address` (udp6 for IPv6 text). */
export function createUdpSocket(address: string): dgram.Socket {
  const v6 = isIP(address) === 6;
  return dgram.createSocket({
    type: v6 ? 'udp6' : 'udp4',
    ipv6Only: v6 && address !== '::',
    lookup: literalLookup as unknown as dgram.SocketOptions['lookup'],
  });
}

/** Binds `socket`; resolves with the bound address, rejects with the socket error. */
export function bindSocket(socket: dgram.Socket, address: string, port: number): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      const a = socket.address();
      resolve({ address: a.address, port: a.port });
    });
  });
}

/**
 * A new socket bound to `address`:`port` with its port fixed, for a socket that is connected and
 * may be disconnected later. Linux gives a socket bound to port 0 a new ephemeral port when it
 * is disconnected (connect(AF_UNSPEC) resets a port that bind() did not set explicitly): the
 * connection's local address would change under it. So port 0 is resolved first: bound on a
 * probe socket, released, and bound explicitly (again with another port if something took it).
 */
export async function bindFixedPort(
  address: string,
  port: number,
): Promise<{ socket: dgram.Socket; local: Address }> {
  if (port !== 0) {
    const socket = createUdpSocket(address);
    try {
      return { socket, local: await bindSocket(socket, address, port) };
    } catch (e) {
      closeQuietly(socket);
      throw e;
    }
  }
  for (let attempt = 0; ; attempt++) {
    const probe = createUdpSocket(address);
    let chosen: number;
    try {
      chosen = (await bindSocket(probe, address, 0)).port;
    } finally {
      await new Promise<void>((resolve) => {
        try {
          probe.close(() => resolve());
        } catch {
          resolve(); // never bound
        }
      });
    }
    const socket = createUdpSocket(address);
    try {
      return { socket, local: await bindSocket(socket, address, chosen) };
    } catch (e) {
      closeQuietly(socket);
      if ((e as { code?: string }).code !== 'EADDRINUSE' || attempt >= 4) throw e;
    }
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // never bound, or closed
  }
}

/** Connects `socket` to one peer so the kernel reports ICMP errors to it (ECONNREFUSED). */
export function connectSocket(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.connect(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** Asks for large socket buffers (best effort: the kernel caps them at its maximum). */
export function enlargeBuffers(socket: dgram.Socket, size = SOCKET_BUFFER_SIZE): void {
  try {
    socket.setRecvBufferSize(size);
    socket.setSendBufferSize(size);
  } catch {
    // Not fatal: the defaults work, only with more drops under load.
  }
}

/** A send buffer and the callback that returns it to its pool (made once, reused). */
export interface SendSlot {
  readonly buf: Buffer;
  readonly done: (err: Error | null) => void;
}

/** A bounded pool of send buffers; see the module comment. */
export class SendSlots {
  private readonly free: SendSlot[] = [];
  private created = 0;
  /** Send errors reported by callbacks. */
  errors = 0;
  /** The last send error. */
  lastError: Error | null = null;

  constructor(
    readonly size: number,
    readonly max: number,
    /** Called when a slot comes back (the endpoint resumes sending if it ran out). */
    private readonly onReturn: () => void,
  ) {}

  /** A free slot, or null when `max` are in flight. */
  take(): SendSlot | null {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.created >= this.max) return null;
    this.created++;
    const slot: SendSlot = {
      buf: Buffer.allocUnsafeSlow(this.size),
      done: (err) => {
        if (err) {
          this.errors++;
          this.lastError = err;
        }
        this.free.push(slot);
        this.onReturn();
      },
    };
    return slot;
  }

  /** Puts back a slot that was taken but not sent. */
  give(slot: SendSlot): void {
    this.free.push(slot);
  }

  /** Slots currently in flight (sent, callback pending) or held. */
  get inUse(): number {
    return this.created - this.free.length;
  }
}

/** Milliseconds since the epoch with sub-millisecond resolution, monotonic within the process. */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}
