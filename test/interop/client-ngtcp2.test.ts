// Interop: our client, driven through the real CLI (`quicscope get`), against ngtcp2's example
// HTTP/3 server (Debian gtlsserver, GnuTLS) on 127.0.0.1: handshake with certificate
// verification, a 10 MiB download with equal SHA-256, 60 files multiplexed on one connection,
// ChaCha20-Poly1305 forced, X25519 and P-256, loss injected by the server, Retry, and a QUIC v2
// start that falls back to v1 by Version Negotiation (ngtcp2 0.12 has no RFC 9369 v2).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseJsonSeq } from '../../core/trace/qlog-writer.ts';
import { join } from 'node:path';
import { fileDigest, makeWorkspace, ngtcp2, runCli, startGtlsServer, stopAll } from './peers.ts';
import type { Workspace } from './peers.ts';

const peers = ngtcp2();
const skip = 'missing' in peers ? `${peers.missing}: skipped` : false;
const CHACHA_ONLY = '--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305';

describe('interop: quicscope get ↔ ngtcp2 server (gtlsserver)', { skip, timeout: 240_000 }, () => {
  let ws: Workspace;
  let server: string;
  let port = 0;

  before(async () => {
    if ('missing' in peers) return;
    server = peers.server;
    ws = makeWorkspace('qs-interop-client');
    port = (await startGtlsServer(server, ws)).port;
  });

  after(async () => {
    await stopAll();
    ws?.cleanup();
  });

  const url = (p: number, path: string): string => `https://127.0.0.1:${p}/${path}`;

  it('RFC 9001 handshake, certificate verified against --ca, and a GET', async () => {
    const out = join(ws.dir, 'hs');
    const r = await runCli(['get', '--ca', ws.certFile, '-v', '--out', out, url(port, 'index.html')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^200 https:\/\/127\.0\.0\.1:\d+\/index\.html/m);
    assert.match(r.stdout, /QUIC v1 {2}ALPN h3 {2}TLS_AES_128_GCM_SHA256/);
    assert.deepEqual(fileDigest(join(out, 'index.html')), ws.files.get('index.html'));
  });

  it('a 10 MiB download arrives whole (SHA-256 equal)', async () => {
    const out = join(ws.dir, 'big');
    const r = await runCli(['get', '--ca', ws.certFile, '--out', out, url(port, '10M.bin')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fileDigest(join(out, '10M.bin')), ws.files.get('10M.bin'));
    assert.match(r.stdout, /10\.5 MB in /);
  });

  it('60 files multiplexed on one connection (RFC 9114 §4.1 concurrent requests)', async () => {
    const out = join(ws.dir, 'many');
    const names = [...ws.files.keys()].filter((n) => n.startsWith('m'));
    assert.ok(names.length >= 50);
    const r = await runCli([
      'get',
      '--ca',
      ws.certFile,
      '-v',
      '--out',
      out,
      ...names.map((n) => url(port, n)),
    ]);
    assert.equal(r.code, 0, r.stderr);
    // One connection summary, every response on its own stream.
    assert.equal(r.stdout.match(/QUIC v1 {2}ALPN h3/g)?.length, 1);
    const streams = new Set([...r.stdout.matchAll(/stream (\d+)/g)].map((m) => Number(m[1])));
    assert.equal(streams.size, names.length);
    for (const n of names) assert.deepEqual(fileDigest(join(out, n)), ws.files.get(n), n);
  });

  it('X25519 key exchange (--group x25519)', async () => {
    const r = await runCli(['get', '--ca', ws.certFile, '--group', 'x25519', '-v', url(port, '1000')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /group x25519/);
  });

  it('a QUIC v2 start falls back to v1 through Version Negotiation (RFC 9368 §2.1)', async () => {
    const r = await runCli(['get', '--ca', ws.certFile, '--quic-version', '2', '-v', url(port, '1000')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /QUIC v1 .*\n.*version negotiation yes/);
  });

  it('ChaCha20-Poly1305 forced on both sides', async () => {
    const { child, port: p } = await startGtlsServer(server, ws, [CHACHA_ONLY]);
    try {
      const r = await runCli([
        'get',
        '--ca',
        ws.certFile,
        '--cipher',
        'chacha20',
        '-v',
        '--out',
        join(ws.dir, 'cc'),
        url(p, 'm1.bin'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /TLS_CHACHA20_POLY1305_SHA256/);
      assert.deepEqual(fileDigest(join(ws.dir, 'cc', 'm1.bin')), ws.files.get('m1.bin'));
    } finally {
      await child.stop();
    }
  });

  it('P-256 key exchange: the server allows only SECP256R1 (HelloRetryRequest) and --group p256', async () => {
    const { child, port: p } = await startGtlsServer(server, ws, ['--groups=-GROUP-ALL:+GROUP-SECP256R1']);
    try {
      for (const args of [[], ['--group', 'p256']]) {
        const r = await runCli(['get', '--ca', ws.certFile, ...args, '-v', url(p, '1000')]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /group secp256r1/);
      }
    } finally {
      await child.stop();
    }
  });

  it('a 10 MiB download while the server drops 5% of what it sends and receives', async () => {
    const { child, port: p } = await startGtlsServer(server, ws, ['-t', '0.05', '-r', '0.05']);
    try {
      const out = join(ws.dir, 'loss');
      const r = await runCli(['get', '--ca', ws.certFile, '-v', '--out', out, url(p, '10M.bin')], 90_000);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fileDigest(join(out, '10M.bin')), ws.files.get('10M.bin'));
      // The server dropped some of our packets (and we saw losses or acknowledged retransmissions).
      const lost = /lost (\d+)\/(\d+) packets/.exec(r.stdout);
      assert.ok(lost !== null, r.stdout);
    } finally {
      await child.stop();
    }
  });

  it('Retry (RFC 9000 §8.1.2): the server validates our address first', async () => {
    const { child, port: p } = await startGtlsServer(server, ws, ['-V']);
    try {
      const r = await runCli(['get', '--ca', ws.certFile, '-v', url(p, 'index.html')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /retry yes/);
    } finally {
      await child.stop();
    }
  });

  it('traces: one qlog per connection, key log lines, and a pcapng', async () => {
    const qlogDir = join(ws.dir, 'qlog');
    const keylog = join(ws.dir, 'keys.log');
    const pcap = join(ws.dir, 'cap.pcapng');
    const r = await runCli([
      'get',
      '--ca',
      ws.certFile,
      '--qlog-dir',
      qlogDir,
      '--keylog',
      keylog,
      '--pcap',
      pcap,
      url(port, 'index.html'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const qlogs = readdirSync(qlogDir);
    assert.equal(qlogs.length, 1, JSON.stringify(qlogs));
    assert.match(qlogs[0], /^[0-9a-f]{16,40}_client\.sqlog$/);
    const records = parseJsonSeq(readFileSync(join(qlogDir, qlogs[0]), 'utf8')) as { name?: string }[];
    assert.equal(
      (records[0] as { file_schema?: string }).file_schema,
      'urn:ietf:params:qlog:file:sequential',
    );
    const names = new Set(records.map((e) => e.name));
    for (const n of ['quic:packet_sent', 'quic:packet_received', 'http3:frame_created', 'http3:frame_parsed'])
      assert.ok(names.has(n), `${n} in ${JSON.stringify([...names])}`);
    const keys = readFileSync(keylog, 'utf8');
    assert.match(keys, /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]+$/m, keys);
    assert.match(keys, /^SERVER_TRAFFIC_SECRET_0 /m);
    const cap = readFileSync(pcap);
    assert.equal(cap.readUInt32LE(0), 0x0a0d0d0a); // Section Header Block
    assert.ok(cap.includes(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET')), 'a Decryption Secrets Block');
  });
});
