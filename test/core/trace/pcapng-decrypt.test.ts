// End to end: a real QUIC + HTTP/3 exchange between ngtcp2's example client and server (Debian
// packages ngtcp2-client, ngtcp2-server) is relayed through a loopback UDP relay that records each
// datagram; the client's SSLKEYLOGFILE goes into a KeyLog; PcapngWriter writes the capture with a
// Decryption Secrets Block; tshark must then decrypt the Handshake and 1-RTT packets, which it
// cannot do from the same capture without the block. Skipped when a tool is missing. Loopback only.
// (Our own connection will add the same check with quicscope's client and server.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter } from '../../../core/trace/pcapng.ts';
import { KeyLog } from '../../../core/trace/keylog.ts';

const TOOLS = ['gtlsserver', 'gtlsclient', 'tshark', 'openssl'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip =
  missing.length === 0
    ? false
    : `missing ${missing.join(', ')} (Debian: ngtcp2-server ngtcp2-client tshark openssl): skipping the decryption check`;

interface Recorded {
  time: number;
  fromClient: boolean;
  data: Uint8Array;
}

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

/** Relays client ↔ server on loopback and records every datagram with its epoch-ms time. */
async function startRelay(serverPort: number) {
  const records: Recorded[] = [];
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: { address: string; port: number } | null = null;
  const now = () => performance.timeOrigin + performance.now();
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    records.push({ time: now(), fromClient: true, data: new Uint8Array(msg) });
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (client === null) return;
    records.push({ time: now(), fromClient: false, data: new Uint8Array(msg) });
    front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  return {
    port: front.address().port,
    records,
    clientPort: () => client?.port ?? 0,
    close: () => {
      front.close();
      back.close();
    },
  };
}

function exited(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('pcapng Decryption Secrets Block: tshark decrypts a real QUIC session', { skip }, () => {
  let dir = '';
  let server: ChildProcess | null = null;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'quicscope-dsb-'));
  });
  after(() => {
    if (server !== null && server.exitCode === null) server.kill('SIGTERM'); // only the child we started
    rmSync(dir, { recursive: true, force: true });
  });

  it('with the secrets block, Handshake and 1-RTT frames are visible; without it, they are not', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const gen = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
    ]); // prettier-ignore
    assert.equal(gen.status, 0, String(gen.stderr));
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'hello.txt'), 'hello from ngtcp2\n');

    const serverPort = await freeUdpPort();
    server = spawn('gtlsserver', ['-q', '-d', www, '127.0.0.1', String(serverPort), key, cert], {
      stdio: 'ignore',
    });
    const relay = await startRelay(serverPort);
    await new Promise((r) => setTimeout(r, 200)); // let the server bind
    const keys = join(dir, 'keys.txt');
    const client = spawn(
      'gtlsclient',
      ['-q', '--exit-on-all-streams-close', `--download=${dir}`, '127.0.0.1', String(relay.port)].concat(
        `https://127.0.0.1:${relay.port}/hello.txt`,
      ),
      { stdio: 'ignore', env: { ...process.env, SSLKEYLOGFILE: keys } },
    );
    const code = await exited(client, 20_000);
    await new Promise((r) => setTimeout(r, 100)); // the last datagrams in flight
    relay.close();
    server.kill('SIGTERM');
    assert.equal(code, 0, 'gtlsclient finished');
    assert.equal(readFileSync(join(dir, 'hello.txt'), 'utf8'), 'hello from ngtcp2\n');

    const keylog = new KeyLog();
    assert.ok(keylog.addText(readFileSync(keys, 'utf8')) >= 4, 'GnuTLS wrote the TLS 1.3 secrets');

    const write = (withSecrets: boolean): string => {
      const chunks: Uint8Array[] = [];
      const w = new PcapngWriter((b) => chunks.push(b), withSecrets ? { keylog } : {});
      const c = { address: '127.0.0.1', port: relay.clientPort() };
      const s = { address: '127.0.0.1', port: serverPort };
      for (const r of relay.records) {
        w.writeDatagram(r.time, r.data, r.fromClient ? { from: c, to: s } : { from: s, to: c });
      }
      const path = join(dir, withSecrets ? 'with.pcapng' : 'without.pcapng');
      writeFileSync(path, Buffer.concat(chunks));
      return path;
    };
    // quic.header_form 0 = short header (1-RTT); quic.frame_type lists the decrypted frames.
    const frames = (path: string): { short: boolean; types: number[] }[] => {
      const r = spawnSync(
        'tshark',
        ['-r', path, '-T', 'fields', '-e', 'quic.header_form', '-e', 'quic.frame_type'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [forms, types] = line.split('\t');
          return {
            short: forms.split(',').every((f) => f === '0'), // only 1-RTT packets in this datagram
            types: types === '' || types === undefined ? [] : types.split(',').map(Number),
          };
        });
    };
    const withSecrets = frames(write(true));
    const without = frames(write(false));
    assert.equal(withSecrets.length, relay.records.length);
    const shortTypes = (rows: typeof withSecrets) => rows.filter((r) => r.short).flatMap((r) => r.types);
    // RFC 9000 §19: HANDSHAKE_DONE (0x1e) and STREAM (0x08-0x0f) travel only in 1-RTT packets.
    assert.ok(shortTypes(withSecrets).includes(0x1e), 'HANDSHAKE_DONE decrypted');
    assert.ok(
      shortTypes(withSecrets).some((t) => t >= 0x08 && t <= 0x0f),
      'STREAM frames decrypted',
    );
    assert.deepEqual(shortTypes(without), [], 'nothing decrypts without the secrets');
  });
});
