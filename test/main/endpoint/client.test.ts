import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import { EndpointError } from '../../../main/endpoint/errors.ts';
import { echoRoundTrip, echoServer, endpointConfigs, rawSocket } from './harness.ts';

const HOST = '127.0.0.1';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

/** A port with nothing bound to it (bound once, then released). */
async function closedPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, HOST, resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('client endpoint errors a user can act on', () => {
  it('a closed port fails the handshake with EndpointError "refused" (ICMP via the connected socket)', async () => {
    const { client: config } = endpointConfigs();
    const client = await QuicClientEndpoint.open({ host: HOST, port: await closedPort(), config });
    try {
      const errors: EndpointError[] = [];
      client.on('error', (e) => errors.push(e));
      const e = await rejection(client.connect().established);
      assert.ok(e instanceof EndpointError, String(e));
      assert.equal(e.code, 'refused');
      assert.equal(errors[0]?.code, 'refused');
      assert.equal(client.connections().length, 0);
    } finally {
      await client.close();
    }
  });

  it('a server that never answers fails the handshake with "handshake_timeout"', async () => {
    const silent = await rawSocket(HOST); // receives and ignores everything
    const { client: config } = endpointConfigs();
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: silent.socket.address().port,
      config,
      handshakeTimeout: 300,
    });
    try {
      const h = client.connect();
      const e = await rejection(h.established);
      assert.ok(e instanceof EndpointError);
      assert.equal(e.code, 'handshake_timeout');
      const info = await h.closed;
      assert.equal(info.error?.code, 'handshake_timeout');
      assert.ok(silent.received.length >= 1, 'the Initial was sent');
    } finally {
      silent.close();
      await client.close();
    }
  });

  it('a name that does not resolve fails open() with "dns_failure"', async () => {
    const { client: config } = endpointConfigs();
    // An injected resolver (no DNS traffic leaves the machine in tests).
    const lookup = async (host: string): Promise<{ address: string }> => {
      const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as NodeJS.ErrnoException;
      e.code = 'ENOTFOUND';
      throw e;
    };
    const e = await rejection(
      QuicClientEndpoint.open({ host: 'no-such-host.invalid', port: 443, config, lookup }),
    );
    assert.ok(e instanceof EndpointError);
    assert.equal(e.code, 'dns_failure');
    assert.match(e.message, /no-such-host\.invalid/);
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOTFOUND');
  });

  it('a host name resolves through the lookup (localhost → loopback) and connects', async () => {
    const { server, clientConfig } = await echoServer(HOST);
    const lookup = async (): Promise<{ address: string }> => ({ address: HOST });
    const client = await QuicClientEndpoint.open({
      host: 'localhost',
      port: server.address.port,
      config: clientConfig,
      lookup,
    });
    try {
      assert.deepEqual(client.remote, { address: HOST, port: server.address.port });
      const h = client.connect();
      await h.established;
      // The SNI the server received is the name, not the resolved address.
      assert.equal(server.connections()[0].connection.tlsInfo().serverName, 'localhost');
      assert.equal(Buffer.from(await echoRoundTrip(h, Buffer.from('hi'))).toString(), 'hi');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a local port in use fails open() with "socket_error"; connect() after close() is refused', async () => {
    const { client: config } = endpointConfigs();
    const first = await QuicClientEndpoint.open({ host: HOST, port: 9, config });
    const e = await rejection(
      QuicClientEndpoint.open({ host: HOST, port: 9, config, localPort: first.address.port }),
    );
    assert.ok(e instanceof EndpointError);
    assert.equal(e.code, 'socket_error');
    await first.close();
    assert.throws(
      () => first.connect(),
      (err: unknown) => err instanceof EndpointError && err.code === 'endpoint_closed',
    );
  });

  it('the server closing a connection resolves closed with its application error', async () => {
    const { server, clientConfig } = await echoServer(HOST);
    server.on('connection', (h) => h.on('established', () => h.close(0x42, 'bye')));
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const h = client.connect();
      const info = await h.closed;
      assert.deepEqual(info.peer, { isApp: true, code: 0x42, reason: 'bye' });
      assert.equal(info.error, null);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
