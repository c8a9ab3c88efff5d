// Our client endpoint against an independent implementation: Debian's ngtcp2 example HTTP/3
// server (gtlsserver, GnuTLS). The handshake, Retry, and an HTTP/3 download through core/h3 run
// over real loopback UDP. Skipped when gtlsserver is missing. Loopback only; the test stops only
// the server process it started.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../../core/connection/config.ts';
import { H3Connection } from '../../../core/h3/connection.ts';
import { QuicClientEndpoint } from '../../../main/endpoint/client.ts';
import type { QuicConnectionHandle } from '../../../main/endpoint/endpoint.ts';
import { testPki } from '../../helpers/certs.ts';

const skip =
  spawnSync('sh', ['-c', 'command -v gtlsserver']).status !== 0
    ? 'gtlsserver (Debian ngtcp2-server) is not installed'
    : false;

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** GETs `path` over HTTP/3 on `h`; resolves with the status and the body length. */
function get(h: QuicConnectionHandle, path: string): Promise<{ status: string; bytes: number }> {
  const h3 = new H3Connection(h.connection, { role: 'client' });
  const id = h3.sendRequest(
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', 'localhost'],
      [':path', path],
    ],
    true,
  );
  h.wake();
  const buf = new Uint8Array(65536);
  let status = '';
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      for (let e = h3.poll(); e !== null; e = h3.poll()) {
        if (e.kind === 'headers' && e.streamId === id)
          status = e.headers.find(([n]) => n === ':status')?.[1] ?? '';
        else if (e.kind === 'data')
          for (let n = h3.recvBody(e.streamId, buf); n > 0; n = h3.recvBody(e.streamId, buf)) bytes += n;
        else if (e.kind === 'finished' && e.streamId === id) return resolve({ status, bytes });
        else if (e.kind === 'closed') return reject(new Error(`HTTP/3 closed: ${JSON.stringify(e.error)}`));
      }
      h.wake();
    };
    h.on('activity', pump);
    pump();
  });
}

/**
 * Waits until something listens on UDP `port` (reads /proc/net/udp), so the first Initial is not
 * answered by ICMP port-unreachable while a loaded machine is still starting the server.
 */
async function waitForUdpBind(port: number, limitMs = 10_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const end = Date.now() + limitMs; Date.now() < end;) {
    if (readFileSync('/proc/net/udp', 'utf8').includes(hex)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing bound UDP port ${port} within ${limitMs} ms`);
}

describe('interop: our client endpoint against ngtcp2 (gtlsserver)', { skip, timeout: 60_000 }, () => {
  let dir = '';
  let config: Config;
  const servers: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'quicscope-endpoint-ngtcp2-'));
    const pki = testPki('ec-p256');
    writeFileSync(join(dir, 'key.pem'), pki.leaf.keyPem);
    writeFileSync(join(dir, 'cert.pem'), pki.chainPem);
    mkdirSync(join(dir, 'www'));
    config = new Config();
    config.setApplicationProtos(['h3']);
    config.setCaCertificates(pki.root.pem);
  });
  after(() => {
    for (const s of servers) if (s.exitCode === null) s.kill('SIGTERM'); // only the children we started
    rmSync(dir, { recursive: true, force: true });
  });

  async function startServer(extra: string[]): Promise<number> {
    const port = await freeUdpPort();
    const args = [
      '-q',
      '-d',
      join(dir, 'www'),
      ...extra,
      '127.0.0.1',
      String(port),
      join(dir, 'key.pem'),
      join(dir, 'cert.pem'),
    ];
    const child = spawn('gtlsserver', args, { stdio: 'ignore' });
    servers.push(child);
    await waitForUdpBind(port);
    return port;
  }

  for (const [name, extra] of [
    ['handshake and an HTTP/3 download', []],
    ['with Retry (-V): the client follows it', ['-V']],
  ] as const) {
    it(name, async () => {
      const port = await startServer([...extra]);
      const client = await QuicClientEndpoint.open({ host: '127.0.0.1', port, config });
      try {
        const h = client.connect({ serverName: 'localhost' });
        await h.established;
        assert.equal(h.connection.applicationProto(), 'h3');
        assert.equal(h.connection.stats().retrySeen, extra.length > 0);
        // gtlsserver answers GET /<N> with N generated bytes.
        assert.deepEqual(await get(h, '/1000000'), { status: '200', bytes: 1_000_000 });
      } finally {
        await client.close();
      }
    });
  }
});
