/**
 * Helpers of the path tests (migration, preferred address, NAT rebinding over loopback UDP): a
 * server that sends N bytes of a shared payload on each bidi stream the client opens with "N",
 * a client download that hashes what arrives and calls back at a byte count, a UDP relay whose
 * outbound port can change (a NAT rebinding), and a check that a port is free again.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import type { QuicConnectionHandle } from '../../../main/endpoint/endpoint.ts';

/** Serves `payload.subarray(0, N)` on each bidi stream whose request reads "N" (then FIN). */
export function source(payload: Uint8Array): (h: QuicConnectionHandle) => void {
  return (h) => {
    const buf = new Uint8Array(64);
    const requests = new Map<number, string>();
    const sending = new Map<number, { offset: number; end: number }>();
    h.on('activity', () => {
      const conn = h.connection;
      for (let id = conn.acceptStream(); id !== null; id = conn.acceptStream()) requests.set(id, '');
      for (const id of conn.readable()) {
        for (let r = conn.streamRecv(id, buf); r !== null; r = conn.streamRecv(id, buf)) {
          const text = (requests.get(id) ?? '') + Buffer.from(buf.subarray(0, r.length)).toString();
          requests.set(id, text);
          if (r.fin) {
            requests.delete(id);
            sending.set(id, { offset: 0, end: Math.min(payload.length, Number(text)) });
            break;
          }
        }
      }
      for (const [id, s] of sending) {
        while (s.offset < s.end) {
          const n = conn.streamSend(id, payload.subarray(s.offset, Math.min(s.end, s.offset + 65536)), false);
          if (n === 0) break;
          s.offset += n;
        }
        if (s.offset === s.end) {
          conn.streamSend(id, new Uint8Array(0), true);
          sending.delete(id);
        }
      }
      // Called while the endpoint services the connection: it sends next.
    });
  };
}

/** Downloads `bytes` on stream `id`; resolves with the SHA-256 of what arrived and its length. */
export function download(
  h: QuicConnectionHandle,
  bytes: number,
  onProgress: (received: number) => void = () => {},
  id = 0,
): Promise<{ sha: string; length: number }> {
  return new Promise((resolve, reject) => {
    const buf = new Uint8Array(65536);
    const hash = createHash('sha256');
    let length = 0;
    const off = h.on('activity', () => {
      const conn = h.connection;
      if (!conn.readable().includes(id)) return;
      for (let r = conn.streamRecv(id, buf); r !== null; r = conn.streamRecv(id, buf)) {
        if (r.length > 0) {
          hash.update(buf.subarray(0, r.length));
          length += r.length;
          onProgress(length);
        }
        if (r.fin) {
          off();
          resolve({ sha: hash.digest('hex'), length });
          return;
        }
      }
    });
    void h.closed.then((info) => reject(new Error(`closed mid-download: ${JSON.stringify(info)}`)));
    h.streamSend(id, Buffer.from(String(bytes)), true);
  });
}

/** SHA-256 in hex. */
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function bound(host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

/**
 * A UDP relay on `host` between one client and `server`: what the client sends goes out from the
 * relay's current outbound socket; `rebind()` switches to a new outbound socket (a NAT giving the
 * flow a new port). Answers to any outbound socket go back to the client.
 */
export async function natRelay(
  host: string,
  server: { address: string; port: number },
): Promise<{
  port: number;
  rebind: () => Promise<number>;
  outboundPorts: () => number[];
  close: () => void;
}> {
  const front = await bound(host);
  const outbound: dgram.Socket[] = [];
  let client: { address: string; port: number } | null = null;
  const addOutbound = async (): Promise<number> => {
    const s = await bound(host);
    s.on('message', (m) => {
      if (client !== null) front.send(m, client.port, client.address);
    });
    outbound.push(s);
    return s.address().port;
  };
  await addOutbound();
  front.on('message', (m, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    outbound[outbound.length - 1].send(m, server.port, server.address);
  });
  return {
    port: front.address().port,
    rebind: addOutbound,
    outboundPorts: () => outbound.map((s) => s.address().port),
    close: () => {
      front.close();
      for (const s of outbound) s.close();
    },
  };
}

/** Whether a UDP port on `host` can be bound (its socket is closed), checked by binding it. */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port, address: host, exclusive: true }, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      s.close();
    } catch {
      // never bound
    }
  }
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passed; returns its last result. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
