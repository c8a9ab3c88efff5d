// RFC 9221 DATAGRAM frames between our client and server endpoints over UDP on 127.0.0.1: the
// server echoes each datagram it receives; the client sends a burst and counts what comes back.
// Datagrams are unreliable (never retransmitted), so the test asserts on what the API promises:
// each echo is byte-equal to a datagram that was sent, nothing arrives twice, and the counters agree.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import type { QuicConnectionHandle } from '../../../main/endpoint/endpoint.ts';
import { QuicServerEndpoint } from '../../../main/endpoint/server.ts';
import { endpointConfigs } from './harness.ts';

const HOST = '127.0.0.1';

/** Echoes every datagram back on the connection it came from. */
function echoDatagrams(h: QuicConnectionHandle): void {
  const buf = new Uint8Array(65536);
  h.on('activity', () => {
    for (let n = h.connection.dgramRecv(buf); n !== null; n = h.connection.dgramRecv(buf))
      h.connection.dgramSend(buf.subarray(0, n));
    h.wake();
  });
}

describe('RFC 9221 DATAGRAM over UDP: our client ↔ our server', () => {
  let server: QuicServerEndpoint;
  let client: QuicClientEndpoint;
  let configs: ReturnType<typeof endpointConfigs>;

  before(async () => {
    configs = endpointConfigs();
    configs.server.enableDgram(true, 256, 256);
    configs.client.enableDgram(true, 1024, 256);
    server = await QuicServerEndpoint.listen({
      host: HOST,
      port: 0,
      config: configs.server,
      onConnection: echoDatagrams,
    });
    client = await QuicClientEndpoint.open({ host: HOST, port: server.address.port, config: configs.client });
  });
  after(async () => {
    await client?.close();
    await server?.close();
  });

  it('a burst of 200 datagrams is echoed: each echo equals a datagram sent, none twice', async () => {
    const h = client.connect({ serverName: 'localhost' });
    await h.established;
    const conn = h.connection;
    const max = conn.dgramMaxWritableLen();
    assert.ok(max !== null && max >= 1000, `max datagram ${max}`);
    const sent = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const d = new Uint8Array(8 + (i % 900));
      new DataView(d.buffer).setUint32(0, i);
      d.fill(i & 0xff, 4);
      sent.set(Buffer.from(d).toString('hex'), i);
      // The send queue holds 256: all 200 fit.
      assert.equal(conn.dgramSend(d), true);
    }
    h.wake();
    const seen = new Set<number>();
    const buf = new Uint8Array(65536);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        resolve();
      };
      // Unreliable: stop when all came back, or when nothing more arrived for a while.
      let timer = setTimeout(done, 2000);
      const off = h.on('activity', () => {
        for (let n = conn.dgramRecv(buf); n !== null; n = conn.dgramRecv(buf)) {
          const i = sent.get(Buffer.from(buf.subarray(0, n)).toString('hex'));
          assert.ok(i !== undefined, 'an echo equals a datagram that was sent');
          assert.ok(!seen.has(i), `datagram ${i} arrived twice`);
          seen.add(i);
        }
        clearTimeout(timer);
        timer = seen.size === 200 ? setTimeout(done, 0) : setTimeout(done, 500);
      });
    });
    // Loopback loses nothing unless the socket buffers overflow; most must come back.
    assert.ok(seen.size >= 150, `${seen.size} of 200 echoed`);
    const st = conn.stats();
    assert.equal(st.datagramsSent, 200);
    assert.equal(st.datagramsReceived, seen.size + conn.dgramQueueLengths().recv);
    const serverConn = server.connections()[0].connection.stats();
    assert.ok(serverConn.datagramsReceived >= seen.size);
    h.close();
  });

  it('a datagram larger than the peer allows is refused at the API with a typed error', async () => {
    const h = client.connect({ serverName: 'localhost' });
    await h.established;
    const max = h.connection.dgramMaxWritableLen() as number;
    assert.throws(() => h.connection.dgramSend(new Uint8Array(max + 1)), { name: 'DatagramError' });
    h.close();
  });
});
