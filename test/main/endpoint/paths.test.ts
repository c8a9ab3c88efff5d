// Connection paths over real UDP on 127.0.0.1 (RFC 9000 §9): a client migrating to a new socket
// mid-transfer, a refused migration, the server's preferred address (§9.6), a NAT rebinding the
// server follows (§9.3), and endpoints that close every socket they opened.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectionState } from '../../../core/connection/connection.ts';
import { MigrationError } from '../../../core/connection/migration.ts';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import { EndpointError } from '../../../main/endpoint/errors.ts';
import { QuicServerEndpoint } from '../../../main/endpoint/server.ts';
import type { ServerEndpointOptions } from '../../../main/endpoint/server.ts';
import { echo, echoRoundTrip, endpointConfigs, rawSocket } from './harness.ts';
import { download, eventually, natRelay, portIsFree, sha256, source } from './paths-harness.ts';

const HOST = '127.0.0.1';
const PAYLOAD = randomBytes(4 * 1024 * 1024);

async function setup(
  options: Partial<ServerEndpointOptions> = {},
  onConnection = source(PAYLOAD),
): Promise<{ server: QuicServerEndpoint; client: QuicClientEndpoint; port: number }> {
  const { client: clientConfig, server: config } = endpointConfigs();
  const server = await QuicServerEndpoint.listen({ host: HOST, port: 0, config, onConnection, ...options });
  const client = await QuicClientEndpoint.open({
    host: HOST,
    port: server.address.port,
    config: clientConfig,
  });
  return { server, client, port: server.address.port };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('RFC 9000 §9.2 a client migrates to a new UDP socket (QuicClientEndpoint.migrate)', () => {
  it('mid-download: the data arrives whole, the server follows the new port, the old socket closes', async () => {
    const { server, client } = await setup();
    try {
      let sent = 0;
      const fromPorts = new Set<number>();
      client.on('datagram', (e) => {
        if (e.direction !== 'sent') return;
        sent++;
        fromPorts.add(e.from.port);
      });
      const h = client.connect();
      await h.established;
      const oldLocal = client.address;
      let migration: Promise<{ address: string; port: number }> | null = null;
      const r = await download(h, PAYLOAD.length, (n) => {
        if (migration === null && n >= 1024 * 1024) migration = h.migrate();
      });
      assert.ok(migration !== null, 'migrate() was called mid-transfer');
      const newLocal = await (migration as Promise<{ address: string; port: number }>);
      assert.equal(r.length, PAYLOAD.length);
      assert.equal(r.sha, sha256(PAYLOAD));
      assert.equal(newLocal.address, HOST, 'the interface address, not 0.0.0.0');
      assert.notEqual(newLocal.port, oldLocal.port);
      // (Validation normally lands mid-transfer; on a loaded machine it may take a moment more.)
      assert.ok(await eventually(() => h.connection.stats().migrationsValidated === 1, 3000));
      // The connection keeps working on the new socket (which also shows the server its new port).
      assert.equal((await download(h, 1000, undefined, 4)).sha, sha256(PAYLOAD.subarray(0, 1000)));
      const st = h.connection.stats();
      assert.equal(st.migrationsInitiated, 1);
      assert.equal(st.migrationsFailed, 0);
      assert.deepEqual(st.localAddress, newLocal);
      const serverConn = server.connections()[0].connection.stats();
      assert.deepEqual(serverConn.peerAddress, newLocal);
      assert.ok(serverConn.pathChanges >= 1);
      // RFC 9000 §9.4: the client reads its old socket's backlog interleaved with the new socket,
      // so the server's newer packets are acknowledged first. That is reordering across paths,
      // not loss: before per-path loss detection the server declared 380-830 packets lost here
      // (about 1 MB sent again, the window halved); now it declares only real losses.
      const spurious = connectionState(server.connections()[0].connection).recovery.reordering.spuriousLosses;
      assert.ok(spurious <= 16, `the server declared ${spurious} packets lost that arrived`);
      assert.ok(serverConn.packetsLost <= 64, `the server declared ${serverConn.packetsLost} packets lost`);
      // The old socket closes once no path uses it: its port is free again, the new one primary.
      assert.ok(
        await eventually(() => client.localAddresses.length === 1, 4000),
        `still open: ${JSON.stringify(client.localAddresses)}`,
      );
      assert.deepEqual(client.address, newLocal);
      assert.ok(await portIsFree(HOST, oldLocal.port));
      // A new connection uses the new socket.
      const h2 = client.connect();
      await h2.established;
      assert.equal((await download(h2, 5000)).length, 5000);
      assert.equal(h2.connection.stats().localAddress.port, newLocal.port);
      const es = client.stats();
      assert.equal(es.unsendable, 0);
      assert.equal(es.sockets, 1);
      // Every datagram went out from one of the two sockets, and each was counted once.
      assert.deepEqual([...fromPorts].sort(), [oldLocal.port, newLocal.port].sort());
      assert.equal(es.datagramsSent, sent);
      assert.equal(es.sendErrors, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a server with disable_active_migration: migrate() rejects with "migration_refused", the connection goes on', async () => {
    const { client: clientConfig, server: config } = endpointConfigs();
    config.setDisableActiveMigration(true);
    const server = await QuicServerEndpoint.listen({ host: HOST, port: 0, config, onConnection: echo });
    const client = await QuicClientEndpoint.open({
      host: HOST,
      port: server.address.port,
      config: clientConfig,
    });
    try {
      const h = client.connect();
      await h.established;
      await echoRoundTrip(h, Buffer.from('confirm the handshake (HANDSHAKE_DONE arrives first)'));
      const e = await rejection(client.migrate(h));
      assert.ok(e instanceof EndpointError, String(e));
      assert.equal(e.code, 'migration_refused');
      assert.match(e.message, /disable_active_migration/);
      assert.ok(e.cause instanceof MigrationError);
      assert.equal(e.cause.kind, 'disabled_by_peer');
      assert.equal(client.localAddresses.length, 1, 'the socket bound for it is closed again');
      const back = await echoRoundTrip(h, Buffer.from('still here'), 4);
      assert.equal(Buffer.from(back).toString(), 'still here');
      assert.equal(h.connection.stats().migrationsInitiated, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('before the handshake is confirmed, and on a server handle, migrate() rejects with a typed error', async () => {
    const silent = await rawSocket(HOST); // never answers: the handshake cannot complete
    const early = await QuicClientEndpoint.open({
      host: HOST,
      port: silent.socket.address().port,
      config: endpointConfigs().client,
    });
    const { server, client } = await setup();
    try {
      const e = await rejection(early.migrate(early.connect()));
      assert.ok(e instanceof EndpointError);
      assert.equal(e.code, 'migration_refused');
      assert.equal((e.cause as MigrationError).kind, 'handshake_not_confirmed');
      assert.equal(early.stats().sockets, 1);
      const h = client.connect();
      await h.established;
      const onServer = await rejection(server.connections()[0].migrate());
      assert.ok(onServer instanceof EndpointError);
      assert.equal(onServer.code, 'migration_refused');
      assert.equal(server.stats().sockets, 1);
    } finally {
      await early.close({ timeout: 0 });
      silent.close();
      await client.close();
      await server.close();
    }
  });
});

describe('RFC 9000 §9.6 the server preferred address over UDP', () => {
  it('the server listens on a second port and offers it; the client moves there and the transfer completes', async () => {
    const { server, client, port } = await setup({ preferredAddress: { ipv4: { address: HOST, port: 0 } } });
    try {
      const [preferred] = server.preferredAddresses;
      assert.equal(preferred.address, HOST);
      assert.ok(preferred.port !== 0 && preferred.port !== port);
      assert.equal(server.stats().sockets, 2);
      const h = client.connect();
      await h.established;
      const r = await download(h, 2 * 1024 * 1024);
      assert.equal(r.sha, sha256(PAYLOAD.subarray(0, 2 * 1024 * 1024)));
      const st = h.connection.stats();
      assert.equal(st.peerAddress.port, preferred.port);
      assert.equal(st.migrationsValidated, 1);
      // The server answers from the preferred socket: its side of the path is that address.
      const ss = server.connections()[0].connection.stats();
      assert.deepEqual(ss.localAddress, preferred);
      // The client kept its address: disconnecting its socket (to send to the preferred address)
      // did not give it a new port, so the server saw no client move, only its own (§9.6.2).
      assert.deepEqual(ss.peerAddress, client.address);
      assert.deepEqual(st.localAddress, client.address);
      assert.equal(ss.pathChanges, 1);
      assert.equal(client.stats().unsendable + server.stats().unsendable, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a stateless reset from the preferred address is recognised (RFC 9000 §10.3.1)', async () => {
    const key = randomBytes(32);
    const { server, client } = await setup({
      statelessResetKey: key,
      preferredAddress: { ipv4: { address: HOST, port: 0 } },
    });
    let restarted: QuicServerEndpoint | null = null;
    try {
      const [preferred] = server.preferredAddresses;
      const h = client.connect();
      await h.established;
      await download(h, 100_000);
      assert.equal(h.connection.stats().peerAddress.port, preferred.port);
      server.destroy(); // state lost, nothing sent
      restarted = await QuicServerEndpoint.listen({
        host: HOST,
        port: preferred.port,
        config: endpointConfigs().server,
        statelessResetKey: key,
      });
      h.streamSend(4, Buffer.from('after the restart'), true);
      const info = await h.closed;
      assert.ok(restarted.stats().statelessResetSent >= 1);
      assert.equal(info.timedOut, false);
    } finally {
      await client.close();
      await restarted?.close();
      await server.close();
    }
  });
});

describe('RFC 9000 §9.3 the server follows a NAT rebinding over UDP', () => {
  it("the client's source port changes mid-download (a relay rebinds): the transfer completes on the new port", async () => {
    const { server, client: direct, port } = await setup();
    await direct.close(); // this test's client goes through the relay
    const relay = await natRelay(HOST, { address: HOST, port });
    const { client: clientConfig } = endpointConfigs();
    const client = await QuicClientEndpoint.open({ host: HOST, port: relay.port, config: clientConfig });
    try {
      const h = client.connect();
      await h.established;
      let rebound: Promise<number> | null = null;
      const r = await download(h, PAYLOAD.length, (n) => {
        if (rebound === null && n >= 1024 * 1024) rebound = relay.rebind();
      });
      assert.equal(r.sha, sha256(PAYLOAD));
      const newPort = await (rebound as unknown as Promise<number>);
      // One more exchange, all of it through the new port.
      assert.equal((await download(h, 1000, undefined, 4)).length, 1000);
      const ss = server.connections()[0].connection.stats();
      assert.ok(ss.pathChanges >= 1);
      assert.equal(ss.peerAddress.port, newPort);
      assert.equal(h.connection.stats().pathChanges, 0, 'the client did not move');
    } finally {
      await client.close();
      await server.close();
      relay.close();
    }
  });
});

describe('endpoints close every socket they opened', () => {
  it('client (after a migration) and server (with a preferred address)', async () => {
    const { server, client } = await setup({ preferredAddress: { ipv4: { address: HOST, port: 0 } } });
    const h = client.connect();
    await h.established;
    await download(h, 10_000);
    const newLocal = await client.migrate(h);
    const ports = [...client.localAddresses.map((a) => a.port), ...server.localAddresses.map((a) => a.port)];
    assert.equal(ports.length, 4);
    assert.ok(ports.includes(newLocal.port));
    await client.close();
    await server.close();
    assert.equal(client.stats().sockets + server.stats().sockets, 0);
    for (const p of ports) assert.ok(await portIsFree(HOST, p), `port ${p} is still bound`);
  });
});
