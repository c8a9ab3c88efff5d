/**
 * Connection throughput: a 100 MB transfer on one stream from a client to a server in one process,
 * datagrams shuttled directly from send() to recv() (no sockets, no simulated delay, the real
 * clock as `now`), so the figure is the CPU cost of both ends. In the same run: the crypto
 * ceiling, 1200 bytes / (seal + open time of one 1200-byte 1-RTT packet), and our ratio to it.
 *
 *   npm run bench -- transfer            (TRANSFER_MB=20 for a shorter run)
 */

import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { Config } from '../core/connection/config.ts';
import { accept, connect } from '../core/connection/connection.ts';
import type { Connection } from '../core/connection/connection.ts';
import { TLS_AES_128_GCM_SHA256, derivePacketKeys } from '../core/crypto/keys.ts';
import { nodeProvider } from '../core/crypto/node.ts';
import { openPayload, protectPacket, unprotectHeader } from '../core/crypto/packet-protection.ts';
import { QUIC_VERSION_1 } from '../core/wire/version.ts';
import { testPki } from '../test/helpers/certs.ts';
import type { Bench } from './harness.ts';

const MB = 1e6;
const CLIENT = { address: '127.0.0.1', port: 50000 };
const SERVER = { address: '127.0.0.1', port: 4433 };

function configs(payload: number): { client: Config; server: Config } {
  const pki = testPki('ec-p256');
  const client = new Config();
  client.setApplicationProtos(['bench']);
  client.setCaCertificates(pki.root.pem);
  client.setMaxUdpPayloadSize(payload);
  const server = new Config();
  server.setApplicationProtos(['bench']);
  server.setCertificateChain(pki.chainPem);
  server.setPrivateKey(pki.leaf.keyPem);
  server.setMaxUdpPayloadSize(payload);
  return { client, server };
}

interface Result {
  seconds: number;
  datagrams: number;
  bytesOnWire: number;
}

/** Transfers `total` bytes client → server; returns the wall time of the transfer (handshake excluded). */
function transfer(total: number, payload: number): Result {
  const cfg = configs(payload);
  const clock = (): number => performance.now();
  const client = connect('localhost', new Uint8Array(8).fill(1), CLIENT, SERVER, cfg.client, clock());
  let server: Connection | null = null;
  const buf = new Uint8Array(65536);
  const recvBuf = new Uint8Array(1 << 20);
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  let sent = 0;
  let received = 0;
  let fin = false;
  let datagrams = 0;
  let bytesOnWire = 0;
  let start = 0;

  const pump = (from: Connection, to: () => Connection, toServer: boolean): number => {
    let n = 0;
    for (let d = from.send(buf, clock()); d !== null; d = from.send(buf, clock())) {
      const dst = to();
      dst.recv(
        buf.subarray(0, d.length),
        toServer ? { from: CLIENT, to: SERVER } : { from: SERVER, to: CLIENT },
        clock(),
      );
      n++;
      bytesOnWire += d.length;
    }
    return n;
  };
  const serverOf = (): Connection => {
    if (server === null)
      server = accept(new Uint8Array(8).fill(2), null, SERVER, CLIENT, cfg.server, clock());
    return server;
  };

  for (let guard = 0; !fin; guard++) {
    if (guard > 50_000_000) throw new Error('transfer did not finish');
    if (client.isEstablished() && sent < total) {
      if (start === 0) start = clock();
      for (;;) {
        const want = Math.min(chunk.length - (sent % chunk.length), total - sent);
        const n = client.streamSend(
          0,
          chunk.subarray(sent % chunk.length, (sent % chunk.length) + want),
          sent + want === total,
        );
        sent += n;
        if (n === 0 || sent === total) break;
      }
    }
    let moved = pump(client, serverOf, true);
    if (server !== null) {
      const s: Connection = server;
      moved += pump(s, () => client, false);
      while (s.readable().includes(0)) {
        const r = s.streamRecv(0, recvBuf);
        if (r === null) break;
        received += r.length;
        if (r.fin) fin = true;
        if (r.length === 0) break;
      }
    }
    datagrams += moved;
    if (moved === 0) {
      // Nothing to send: let timers (delayed ACKs, PTO) run.
      const now = clock();
      const srv = server as Connection | null;
      const t = Math.min(client.timeout() ?? Infinity, srv?.timeout() ?? Infinity);
      if (t <= now) {
        client.onTimeout(now);
        srv?.onTimeout(now);
      }
    }
    if (client.isClosed() || (server !== null && (server as Connection).isClosed()))
      throw new Error(`connection closed: ${JSON.stringify(client.localError() ?? client.peerError())}`);
  }
  if (received !== total) throw new Error(`received ${received} of ${total}`);
  return { seconds: (clock() - start) / 1000, datagrams, bytesOnWire };
}

/** Seal + open of one 1200-byte 1-RTT packet (µs), node provider, AES-128-GCM. */
function cryptoPerPacket(bench: Bench): { seal: number; open: number } {
  const keys = derivePacketKeys(
    nodeProvider,
    TLS_AES_128_GCM_SHA256,
    QUIC_VERSION_1,
    new Uint8Array(32).fill(9),
  );
  const PACKET = 1200;
  const PN_OFFSET = 9;
  const HEADER = 13;
  const PAYLOAD = PACKET - HEADER - 16;
  const tx = new Uint8Array(PACKET);
  const seal = bench.measure(
    'crypto_ceiling.seal_1200B',
    (i) => {
      tx[0] = 0x43;
      protectPacket(keys, tx, 0, PN_OFFSET, 4, PAYLOAD, i);
    },
    { iterations: 20_000, rateUnit: 'pkt/s' },
  );
  const rx = new Uint8Array(PACKET);
  rx[0] = 0x43;
  protectPacket(keys, rx, 0, PN_OFFSET, 4, PAYLOAD, 7);
  const hdr = rx.slice(0, HEADER);
  const open = bench.measure(
    'crypto_ceiling.open_1200B',
    () => {
      rx.set(hdr);
      const h = unprotectHeader(keys.hp, rx, 0, PN_OFFSET);
      if (h === null || openPayload(keys, rx, 0, PN_OFFSET, h.pnLength, PACKET, 7) === null)
        throw new Error('bench: open failed');
    },
    { iterations: 20_000, rateUnit: 'pkt/s' },
  );
  return { seal: seal.usPerOp, open: open.usPerOp };
}

/** Runs the transfer group. */
export function run(bench: Bench): void {
  const totalMb = Number(process.env.TRANSFER_MB ?? 100);
  const total = Math.round(totalMb * MB);
  const c = cryptoPerPacket(bench);
  const ceiling = 1200 / (c.seal + c.open); // bytes per µs = MB/s
  bench.note(
    `crypto ceiling: 1200 B / (seal ${c.seal.toFixed(2)} + open ${c.open.toFixed(2)} µs) = ${ceiling.toFixed(0)} MB/s`,
  );
  transfer(2 * MB, 1350); // warm-up (JIT)
  for (const payload of [1350, 1452]) {
    const runs: number[] = [];
    let last: Result | null = null;
    for (let i = 0; i < 3; i++) {
      last = transfer(total, payload);
      runs.push(total / MB / last.seconds);
    }
    runs.sort((a, b) => a - b);
    const mbps = runs[1];
    bench.note(
      `transfer.${totalMb}MB_${payload}B: ${mbps.toFixed(1)} MB/s (median of 3: ${runs.map((r) => r.toFixed(1)).join(', ')}), ` +
        `${last!.datagrams} datagrams, ${(mbps / ceiling).toFixed(3)} of the crypto ceiling`,
    );
  }
}
