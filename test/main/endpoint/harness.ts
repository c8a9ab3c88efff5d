/**
 * Helpers of the loopback endpoint tests: trusted Configs, an echo server, a bidi-stream echo
 * round trip from a client, and a raw UDP socket for crafted datagrams.
 */
import dgram from 'node:dgram';
import { Config } from '../../../core/connection/config.ts';
import type { QuicConnectionHandle } from '../../../main/endpoint/endpoint.ts';
import { QuicServerEndpoint } from '../../../main/endpoint/server.ts';
import type { ServerEndpointOptions } from '../../../main/endpoint/server.ts';
import { testPki } from '../../helpers/certs.ts';

/** A client and a server Config that trust each other (ALPN 'echo'). */
export function endpointConfigs(version?: number): { client: Config; server: Config } {
  const pki = testPki('ec-p256');
  const client = new Config(version);
  client.setApplicationProtos(['echo']);
  client.setCaCertificates(pki.root.pem);
  const server = new Config(version);
  server.setApplicationProtos(['echo']);
  server.setCertificateChain(pki.chainPem);
  server.setPrivateKey(pki.leaf.keyPem);
  return { client, server };
}

/** Echoes every bidi stream a client opens, ending it when the client ends its side. */
export function echo(h: QuicConnectionHandle): void {
  const buf = new Uint8Array(65536);
  const pending = new Map<number, Uint8Array[]>();
  h.on('activity', () => {
    const conn = h.connection;
    for (let id = conn.acceptStream(); id !== null; id = conn.acceptStream()) pending.set(id, []);
    for (const id of conn.readable()) {
      const chunks = pending.get(id) ?? [];
      pending.set(id, chunks);
      for (let r = conn.streamRecv(id, buf); r !== null; r = conn.streamRecv(id, buf)) {
        if (r.length > 0) chunks.push(buf.slice(0, r.length));
        if (r.fin) {
          const all = Buffer.concat(chunks);
          pending.delete(id);
          h.streamSend(id, all, true);
          break;
        }
      }
    }
  });
}

/** Starts an echo server on `host` (port 0). */
export async function echoServer(
  host: string,
  options: Partial<ServerEndpointOptions> = {},
  version?: number,
): Promise<{ server: QuicServerEndpoint; clientConfig: Config }> {
  const { client, server: config } = endpointConfigs(version);
  const server = await QuicServerEndpoint.listen({ host, port: 0, config, onConnection: echo, ...options });
  return { server, clientConfig: client };
}

/** Sends `data` on the client's next bidi stream and resolves with what comes back (until FIN). */
export function echoRoundTrip(h: QuicConnectionHandle, data: Uint8Array, id = 0): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const buf = new Uint8Array(65536);
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const write = (): void => {
      if (offset < data.length) {
        offset += h.streamSend(id, data.subarray(offset), true);
      }
    };
    const off = h.on('activity', () => {
      write();
      const conn = h.connection;
      if (!conn.readable().includes(id)) return;
      for (let r = conn.streamRecv(id, buf); r !== null; r = conn.streamRecv(id, buf)) {
        if (r.length > 0) chunks.push(buf.slice(0, r.length));
        if (r.fin) {
          off();
          resolve(Buffer.concat(chunks));
          return;
        }
      }
    });
    h.closed.then((info) => reject(new Error(`closed before the echo completed: ${JSON.stringify(info)}`)));
    write();
  });
}

/** A raw UDP socket on `host`, collecting what it receives. */
export async function rawSocket(host: string): Promise<{
  socket: dgram.Socket;
  received: Buffer[];
  next: (timeoutMs?: number) => Promise<Buffer | null>;
  close: () => void;
}> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const received: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | null = null;
  socket.on('message', (m) => {
    if (waiter !== null) {
      const w = waiter;
      waiter = null;
      w(m);
    } else received.push(m);
  });
  return {
    socket,
    received,
    next: (timeoutMs = 1000) =>
      new Promise((resolve) => {
        const queued = received.shift();
        if (queued !== undefined) return resolve(queued);
        const t = setTimeout(() => {
          waiter = null;
          resolve(null);
        }, timeoutMs);
        waiter = (b) => {
          clearTimeout(t);
          resolve(b);
        };
      }),
    close: () => socket.close(),
  };
}

/** Sends one datagram from a raw socket. */
export function sendRaw(socket: dgram.Socket, data: Uint8Array, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, host, (e) => (e ? reject(e) : resolve())));
}
