import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { connect } from '../../../core/connection/connection.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { isReservedVersion, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import { EndpointError } from '../../../main/endpoint/errors.ts';
import { QuicServerEndpoint } from '../../../main/endpoint/server.ts';
import { echo, echoRoundTrip, echoServer, endpointConfigs, rawSocket, sendRaw } from './harness.ts';

const HOST = '127.0.0.1';

describe('RFC 9000 §8.1.2 Retry at the server endpoint', () => {
  it('validates the client with a Retry, then completes the handshake and echoes', async () => {
    const { server, clientConfig } = await echoServer(HOST, { retry: true });
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const h = client.connect();
      await h.established;
      assert.equal(h.connection.stats().retrySeen, true);
      assert.equal(server.stats().retrySent, 1);
      assert.equal(Buffer.from(await echoRoundTrip(h, Buffer.from('after retry'))).toString(), 'after retry');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('§8.1.3: hands out a NEW_TOKEN; the next connection presenting it skips the Retry', async () => {
    const { server, clientConfig } = await echoServer(HOST, { retry: true });
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const first = client.connect();
      await first.established;
      const token = await new Promise<Uint8Array>((resolve) => {
        const check = (): void => {
          const t = first.connection.newToken();
          if (t !== null) resolve(t);
        };
        first.on('activity', check);
        check();
      });
      const second = client.connect({ token });
      await second.established;
      assert.equal(second.connection.stats().retrySeen, false);
      assert.equal(server.stats().retrySent, 1, 'only the first connection was sent a Retry');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

/** A 1200-byte long-header datagram of `version` with the given CIDs. */
function crafted(version: number, dcid: Uint8Array, scid: Uint8Array, size = 1200): Uint8Array {
  const d = new Uint8Array(size);
  d[0] = 0xc0;
  new DataView(d.buffer).setUint32(1, version);
  d[5] = dcid.length;
  d.set(dcid, 6);
  d[6 + dcid.length] = scid.length;
  d.set(scid, 7 + dcid.length);
  return d;
}

describe('RFC 9000 §6 Version Negotiation from the server endpoint', () => {
  it('answers an Initial of version 0x1a2a3a4a from a raw socket; ignores a smaller one', async () => {
    const { server } = await echoServer(HOST);
    const raw = await rawSocket(HOST);
    try {
      const dcid = randomBytes(8);
      const scid = randomBytes(5);
      await sendRaw(raw.socket, crafted(0x1a2a3a4a, dcid, scid), server.address.port, HOST);
      const answer = await raw.next();
      assert.ok(answer !== null, 'a Version Negotiation packet');
      const h = parseHeader(answer, 0, 0);
      assert.ok(h.type === 'version_negotiation');
      assert.deepEqual(Buffer.from(h.dcid), scid);
      assert.deepEqual(Buffer.from(h.scid), dcid);
      assert.ok(h.versions.includes(QUIC_VERSION_1) && h.versions.includes(QUIC_VERSION_2));
      assert.ok(h.versions.some(isReservedVersion));
      assert.equal(server.stats().versionNegotiationSent, 1);
      // §5.2.2: under 1200 bytes, dropped.
      await sendRaw(raw.socket, crafted(0x1a2a3a4a, dcid, scid, 1000), server.address.port, HOST);
      await sendRaw(raw.socket, crafted(0, dcid, scid, 1200), server.address.port, HOST);
      assert.equal(await raw.next(300), null);
      assert.equal(server.stats().dropped.unsupported_version_too_small, 1);
      assert.equal(server.stats().dropped.version_negotiation, 1);
    } finally {
      raw.close();
      await server.close();
    }
  });
});

describe('RFC 9000 §10.3 stateless reset from the server endpoint', () => {
  it('answers a short header to an unknown CID with a smaller reset ending in HMAC(key, CID)', async () => {
    const key = randomBytes(32);
    const { server } = await echoServer(HOST, { statelessResetKey: key });
    const raw = await rawSocket(HOST);
    try {
      const d = randomBytes(100);
      d[0] = 0x40 | (d[0] & 0x3f);
      await sendRaw(raw.socket, d, server.address.port, HOST);
      const reset = await raw.next();
      assert.ok(reset !== null);
      assert.ok(reset.length < 100 && reset.length >= 21);
      assert.equal(reset[0] & 0xc0, 0x40);
      const token = createHmac('sha256', key).update(d.subarray(1, 9)).digest().subarray(0, 16);
      assert.deepEqual(reset.subarray(reset.length - 16), token);
      // §10.3.3: a datagram of 21 bytes cannot be answered by a smaller reset.
      await sendRaw(raw.socket, d.subarray(0, 21), server.address.port, HOST);
      assert.equal(await raw.next(300), null);
      assert.equal(server.stats().statelessResetSent, 1);
    } finally {
      raw.close();
      await server.close();
    }
  });

  it('a restarted server (same key and port) resets the connections it lost; the client stops', async () => {
    const key = randomBytes(32);
    const { server, clientConfig } = await echoServer(HOST, { statelessResetKey: key });
    const port = server.address.port;
    const client = await QuicClientEndpoint.open({ host: HOST, port, config: clientConfig });
    let restarted: QuicServerEndpoint | null = null;
    try {
      const h = client.connect();
      await h.established;
      await echoRoundTrip(h, Buffer.from('before'));
      server.destroy(); // lost all state, sent nothing
      const { server: config } = endpointConfigs();
      restarted = await QuicServerEndpoint.listen({
        host: HOST,
        port,
        config,
        statelessResetKey: key,
        onConnection: echo,
      });
      h.streamSend(4, Buffer.from('after the restart'), true);
      const info = await h.closed;
      assert.ok(restarted.stats().statelessResetSent >= 1);
      assert.equal(info.timedOut, false);
      assert.ok(h.connection.isClosed());
    } finally {
      await client.close();
      await restarted?.close();
    }
  });
});

describe('RFC 9000 §5.2.2 bounds on connections and handshakes', () => {
  it('refuses a connection over maxConnections with CONNECTION_REFUSED', async () => {
    const { server, clientConfig } = await echoServer(HOST, { maxConnections: 1 });
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      await client.connect().established;
      const second = client.connect();
      const e = await second.established.then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(e instanceof EndpointError);
      assert.equal(e.code, 'connection_closed');
      assert.equal(e.closeInfo?.peer?.code, TransportError.CONNECTION_REFUSED);
      assert.equal(server.stats().refusedSent, 1);
      assert.equal(server.connections().length, 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses a connection while maxHandshakes handshakes are in progress', async () => {
    const { server, clientConfig } = await echoServer(HOST, { maxHandshakes: 1 });
    const raw = await rawSocket(HOST);
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      // A client that sends its Initial and never answers holds the only handshake slot.
      const stalled = connect(
        'localhost',
        randomBytes(8),
        raw.socket.address(),
        server.address,
        clientConfig,
        Date.now(),
      );
      const buf = new Uint8Array(1500);
      const first = stalled.send(buf, Date.now());
      assert.ok(first !== null);
      await sendRaw(raw.socket, buf.subarray(0, first.length), server.address.port, HOST);
      assert.ok((await raw.next()) !== null, 'the server answered the stalled client');
      assert.equal(server.stats().handshakes, 1);
      const e = await client.connect().established.then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(e instanceof EndpointError && e.closeInfo?.peer?.code === TransportError.CONNECTION_REFUSED);
    } finally {
      raw.close();
      await client.close();
      await server.close({ timeout: 200 });
    }
  });
});

describe('RFC 9000 §10.2 graceful shutdown of the server endpoint', () => {
  it('closes every connection with NO_ERROR, waits for them, then closes the socket', async () => {
    const { server, clientConfig } = await echoServer(HOST);
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const handles = [client.connect(), client.connect()];
      await Promise.all(handles.map((h) => h.established));
      let socketClosed = false;
      server.on('close', () => (socketClosed = true));
      await server.close({ reason: 'maintenance' });
      assert.equal(socketClosed, true);
      assert.equal(server.connections().length, 0);
      assert.equal(server.listening, false);
      const infos = await Promise.all(handles.map((h) => h.closed));
      for (const info of infos)
        assert.deepEqual(info.peer, { isApp: false, code: TransportError.NO_ERROR, reason: 'maintenance' });
    } finally {
      await client.close();
    }
  });
});
