import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import type { DatagramEvent } from '../../../main/endpoint/endpoint.ts';
import { QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { echoRoundTrip, echoServer } from './harness.ts';

async function hasIpv6Loopback(): Promise<boolean> {
  const s = dgram.createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
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

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('UDP endpoints over loopback: handshake and a bidirectional stream echo', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`on ${host}`, async (t) => {
      if (host === '::1' && !(await hasIpv6Loopback())) {
        t.skip('this host has no IPv6 loopback');
        return;
      }
      const { server, clientConfig } = await echoServer(host);
      const client = await QuicClientEndpoint.open({ host, port: server.address.port, config: clientConfig });
      try {
        const h = client.connect();
        await h.established;
        assert.equal(h.connection.applicationProto(), 'echo');
        const data = randomBytes(200_000);
        const back = await echoRoundTrip(h, data);
        assert.equal(back.length, data.length);
        assert.equal(sha(back), sha(data));
        assert.equal(server.connections().length, 1);
        const st = client.stats();
        assert.ok(st.datagramsSent > 0 && st.datagramsReceived > 0);
      } finally {
        await client.close();
        await server.close();
      }
    });
  }

  it('in QUIC v2 (RFC 9369), several connections on one client socket', async () => {
    const { server, clientConfig } = await echoServer('127.0.0.1', {}, QUIC_VERSION_2);
    const client = await QuicClientEndpoint.open({
      host: '127.0.0.1',
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const handles = [client.connect(), client.connect(), client.connect()];
      await Promise.all(handles.map((h) => h.established));
      const results = await Promise.all(handles.map((h, i) => echoRoundTrip(h, Buffer.from(`hello ${i}`))));
      assert.deepEqual(
        results.map((r) => Buffer.from(r).toString()),
        ['hello 0', 'hello 1', 'hello 2'],
      );
      assert.equal(server.connections().length, 3);
      assert.equal(handles[0].connection.stats().version, QUIC_VERSION_2);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('reports every datagram to the trace hook, wire bytes included', async () => {
    const { server, clientConfig } = await echoServer('127.0.0.1');
    const client = await QuicClientEndpoint.open({
      host: '127.0.0.1',
      port: server.address.port,
      config: clientConfig,
    });
    const seen: DatagramEvent[] = [];
    client.on('datagram', (e) => seen.push({ ...e, data: e.data.slice() }));
    try {
      const h = client.connect();
      await h.established;
      await echoRoundTrip(h, Buffer.from('ping'));
      const sent = seen.filter((e) => e.direction === 'sent');
      const received = seen.filter((e) => e.direction === 'received');
      assert.equal(sent.length, client.stats().datagramsSent);
      assert.equal(received.length, client.stats().datagramsReceived);
      // The first datagram is the client Initial as it went on the wire: long header, v1, ≥ 1200 bytes.
      assert.equal(sent[0].data[0] & 0xf0, 0xc0);
      assert.ok(sent[0].data.length >= 1200);
      assert.equal(sent[0].to.port, server.address.port);
      // Received datagrams are reported with their protected header (the server's Initial).
      assert.equal(received[0].data[0] & 0xb0, 0x80);
      assert.equal(received[0].from.port, server.address.port);
      assert.ok(received.every((e) => e.time > 1.6e12));
    } finally {
      await client.close();
      await server.close();
    }
  });
});
