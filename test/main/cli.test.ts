// The quicscope CLI in-process: option tables, --help, usage errors, and `get` against an
// in-process HTTP/3 file server on 127.0.0.1 — bodies saved whole, exit status, and the one-line
// errors for refused ports, handshake timeouts, certificate problems, DNS failures and HTTP statuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../core/connection/config.ts';
import { COMMANDS, mainHelp } from '../../main/cli/index.ts';
import { parseListen } from '../../main/cli/serve.ts';
import { outputName } from '../../main/cli/get.ts';
import { UsageError } from '../../main/cli/options.ts';
import { ProgressBar, formatBytes, formatMs, formatRate } from '../../main/cli/output.ts';
import { fetchAll } from '../../main/h3/fetch.ts';
import { generatedBytes } from '../../main/h3/files.ts';
import { testPki } from '../helpers/certs.ts';
import { runMain, startServer, tempDir } from './cli-helpers.ts';

describe('quicscope CLI: option tables and --help', () => {
  it('`quicscope --help` lists every command and every flag', async () => {
    const r = await runMain(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.out, mainHelp());
    for (const { spec } of COMMANDS) {
      assert.match(r.out, new RegExp(`^  ${spec.name} `, 'm'));
      for (const o of spec.options) assert.ok(r.out.includes(`--${o.name}`), `${spec.name} --${o.name}`);
    }
  });

  for (const name of ['get', 'serve']) {
    it(`\`quicscope ${name} --help\` describes each option of its table`, async () => {
      const r = await runMain([name, '--help']);
      assert.equal(r.code, 0);
      const spec = COMMANDS.find((c) => c.spec.name === name)?.spec;
      assert.ok(spec !== undefined);
      assert.match(r.out, new RegExp(`^usage: quicscope ${name} `));
      for (const o of spec.options) {
        const line = r.out.split('\n').find((l) => l.includes(`--${o.name}`));
        assert.ok(line !== undefined, o.name);
        if (o.short !== undefined) assert.ok(line.includes(`-${o.short}, --${o.name}`));
        for (const c of o.choices ?? []) assert.ok(r.out.includes(c), `${o.name} ${c}`);
      }
    });
  }

  const usage: [string[], RegExp][] = [
    [[], /^usage: quicscope/],
    [['fetch', 'x'], /unknown command 'fetch'/],
    [['get'], /missing URL/],
    [['get', '--bogus', 'https://127.0.0.1/'], /--bogus/],
    [
      ['get', '--cipher', 'rc4', 'https://127.0.0.1/'],
      /--cipher must be one of aes128gcm, aes256gcm, chacha20/,
    ],
    [['get', '--quic-version', '3', 'https://127.0.0.1/'], /--quic-version takes 1, 2 or a hex version/],
    [['get', '--preferred-versions', '1,0x1a2a3a4a', 'https://127.0.0.1/'], /only 1 and 2 are spoken/],
    [['get', '--preferred-versions', '2,2', 'https://127.0.0.1/'], /repeats a version/],
    [['get', '--early-data', 'https://127.0.0.1/'], /--early-data needs --session-file/],
    [['get', '--max-udp-payload', '1100', 'https://127.0.0.1/'], /1200\.\.65527/],
    [['get', '--key-update-after', 'lots', 'https://127.0.0.1/'], /whole number/],
    [['serve', '--quic-versions', '3'], /--quic-versions takes 1, 2/],
    [['serve', '--preferred-address', 'nowhere'], /--preferred-address takes HOST:PORT/],
    [['get', 'http://127.0.0.1/'], /not an https URL/],
    [['get', 'not a url'], /not a URL/],
    [['get', '--handshake-timeout', 'soon', 'https://127.0.0.1/'], /whole number/],
    [['get', '--ca', '/nonexistent/ca.pem', 'https://127.0.0.1/'], /cannot read --ca/],
    [['serve', '--listen', '4433'], /HOST:PORT/],
    [['serve', '--cert', 'c.pem'], /--cert and --key go together/],
    [['serve', 'extra'], /unexpected argument 'extra'/],
  ];
  for (const [args, message] of usage) {
    it(`usage error, exit status 2: quicscope ${args.join(' ')}`, async () => {
      const r = await runMain(args);
      assert.equal(r.code, 2);
      assert.match(r.out + r.err, message);
    });
  }

  it('--listen takes HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListen('127.0.0.1:4433'), { host: '127.0.0.1', port: 4433 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('localhost:8443'), { host: '127.0.0.1', port: 8443 });
    assert.throws(() => parseListen('::1:4433'), UsageError);
    assert.throws(() => parseListen('127.0.0.1:70000'), UsageError);
  });

  it('sizes, rates and durations in human units; the progress bar redraws one line', () => {
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1_234_567), '1.23 MB');
    assert.equal(formatBytes(104_857_600), '105 MB');
    assert.equal(formatRate(1_000_000, 1000), '8.0 Mbit/s');
    assert.equal(formatRate(300_000_000, 1000), '2.40 Gbit/s');
    assert.equal(formatMs(0.5), '500 µs');
    assert.equal(formatMs(12.34), '12.3 ms');
    assert.equal(formatMs(4560), '4.56 s');
    let text = '';
    const bar = new ProgressBar((t) => (text += t), 100);
    bar.update({ received: 500_000, expected: 1_000_000, done: 1, total: 3 });
    assert.ok(text.endsWith('bit/s\x1b[K'), JSON.stringify(text));
    assert.match(text, /^\r\[#{20} {20}\] {2}50% 500 kB\/1\.00 MB {2}1\/3 done {2}\S+ [kMG]?bit\/s/);
    text = '';
    bar.clear();
    assert.equal(text, '\r\x1b[K');
  });

  it('--out names a body after the last path component (index.html for none)', () => {
    assert.equal(outputName(new URL('https://h/a/b/file.bin?x=1')), 'file.bin');
    assert.equal(outputName(new URL('https://h/')), 'index.html');
    assert.equal(outputName(new URL('https://h/dir/')), 'dir');
    assert.equal(outputName(new URL('https://h/%2e%2e')), 'index.html');
  });
});

describe('quicscope get ↔ an HTTP/3 file server on loopback', () => {
  const pki = testPki('ec-p256');
  const tmp = tempDir('qs-cli');
  const ca = tmp.file('ca.pem', pki.root.pem);
  let good: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    tmp.file('hello.txt', 'hello over h3\n');
    good = await startServer(pki.chainPem, pki.leaf.keyPem, { dir: tmp.dir });
  });
  after(async () => {
    await good.server.close();
    tmp.cleanup();
  });

  it('saves each body whole in --out and prints a summary per connection; exit 0', async () => {
    const out = join(tmp.dir, 'out1');
    const r = await runMain(['get', '--ca', ca, '--out', out, good.url('/hello.txt'), good.url('/300000')]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(out, 'hello.txt'), 'utf8'), 'hello over h3\n');
    assert.deepEqual(readFileSync(join(out, '300000')), Buffer.from(generatedBytes(300_000)));
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^127\.0\.0\.1:\d+ {2}QUIC v1 {2}ALPN h3 {2}TLS_AES_128_GCM_SHA256 {2}handshake [\d.]+ [µm]?s {2}300 kB in .* \(.*bit\/s\) {2}RTT .* {2}lost \d+\/\d+ packets$/,
    );
  });

  it('an HTTP error status: one line naming it, the body not saved, exit 1', async () => {
    const out = join(tmp.dir, 'out2');
    const r = await runMain([
      'get',
      '--ca',
      ca,
      '--out',
      out,
      good.url('/hello.txt'),
      good.url('/missing.txt'),
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `quicscope: ${good.url('/missing.txt')}: HTTP 404\n`);
    assert.ok(existsSync(join(out, 'hello.txt')));
    assert.ok(!existsSync(join(out, 'missing.txt')));
  });

  it('--quic-version 2 speaks QUIC v2 (RFC 9369); --cipher and --group pick the TLS parameters', async () => {
    const r = await runMain([
      'get',
      '--ca',
      ca,
      '--quic-version',
      '2',
      '--cipher',
      'aes256gcm',
      '--group',
      'p256',
      '--cc',
      'newreno',
      '-v',
      good.url('/10'),
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /QUIC v2 {2}ALPN h3 {2}TLS_AES_256_GCM_SHA384/);
    assert.match(r.out, /group secp256r1/);
    assert.match(r.out, /congestion control newreno/);
    assert.match(r.out, /^200 https:\/\/127\.0\.0\.1:\d+\/10 {2}10 B {2}stream 0$/m);
  });

  it('a refused port (ICMP port unreachable): one line, exit 1', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    const port = s.address().port;
    await new Promise<void>((res) => s.close(() => res()));
    const r = await runMain([
      'get',
      '--ca',
      ca,
      `https://127.0.0.1:${port}/a`,
      `https://127.0.0.1:${port}/b`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `quicscope: 127.0.0.1:${port}: connection refused (nothing listens on that UDP port)\n`,
    );
  });

  it('a server that never answers: handshake timeout, exit 1', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    try {
      const port = s.address().port;
      const r = await runMain([
        'get',
        '--ca',
        ca,
        '--handshake-timeout',
        '300',
        `https://127.0.0.1:${port}/`,
      ]);
      assert.equal(r.code, 1);
      assert.equal(r.err, `quicscope: 127.0.0.1:${port}: handshake timed out: no answer from the server\n`);
    } finally {
      s.close();
    }
  });

  const certCases: [string, () => [string, string], RegExp][] = [
    [
      'unknown CA',
      () => [pki.unknownCa.pem, pki.unknownCa.keyPem],
      /certificate problem: unknown CA: no trusted issuer 'CN=quicscope unknown root/,
    ],
    [
      'expired',
      () => [pki.expired.pem + pki.intermediate.pem, pki.expired.keyPem],
      /certificate problem: certificate expired: .*expired at 1960/,
    ],
    [
      'wrong host',
      () => [pki.wrongHost.pem + pki.intermediate.pem, pki.wrongHost.keyPem],
      /certificate problem: wrong host: certificate is not valid for '127\.0\.0\.1'/,
    ],
  ];
  for (const [what, identity, message] of certCases) {
    it(`certificate problem (${what}): the reason in one line, exit 1`, async () => {
      const [chain, key] = identity();
      const bad = await startServer(chain, key);
      try {
        const r = await runMain(['get', '--ca', ca, bad.url('/1')]);
        assert.equal(r.code, 1);
        assert.match(r.err, message);
        assert.equal(r.err.split('\n').length, 2); // one line
        assert.equal(r.out, '');
      } finally {
        await bad.server.close();
      }
    });
  }

  it('--insecure accepts a certificate that does not verify', async () => {
    const bad = await startServer(pki.unknownCa.pem, pki.unknownCa.keyPem);
    try {
      const r = await runMain(['get', '--insecure', bad.url('/1')]);
      assert.equal(r.code, 0, r.err);
    } finally {
      await bad.server.close();
    }
  });

  it('IPv6: a server on [::1] and a URL with an IPv6 literal', async (t) => {
    let v6: Awaited<ReturnType<typeof startServer>>;
    try {
      v6 = await startServer(pki.chainPem, pki.leaf.keyPem, { host: '::1' });
    } catch {
      t.skip('no IPv6 loopback on this host');
      return;
    }
    try {
      const r = await runMain(['get', '--ca', ca, '-v', `https://[::1]:${v6.port}/4321`]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^\\[::1\\]:${v6.port} {2}QUIC v1`, 'm'));
      assert.match(r.out, /^200 https:\/\/\[::1\]:\d+\/4321 {2}4\.32 kB/m);
      assert.doesNotMatch(r.out, /ended:/);
    } finally {
      await v6.server.close();
    }
  });

  it('a name that does not resolve: a DNS failure, not a timeout', async () => {
    const config = new Config();
    config.setCaCertificates(pki.root.pem);
    const lookup = async (host: string): Promise<{ address: string }> => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const r = await fetchAll(['https://no-such-host.invalid:4433/'], { config, lookup });
    assert.equal(r.ok, false);
    assert.equal(r.connections[0].error?.kind, 'dns');
    assert.equal(r.responses[0].error?.message, 'cannot resolve no-such-host.invalid: ENOTFOUND');
  });

  it('--qlog-dir, --keylog and --pcap write the traces of the connection', async () => {
    const qlogDir = join(tmp.dir, 'qlog');
    const keylog = join(tmp.dir, 'keys.txt');
    const pcap = join(tmp.dir, 'trace.pcapng');
    const r = await runMain([
      'get',
      '--ca',
      ca,
      '--qlog-dir',
      qlogDir,
      '--keylog',
      keylog,
      '--pcap',
      pcap,
      good.url('/5000'),
    ]);
    assert.equal(r.code, 0, r.err);
    const keys = readFileSync(keylog, 'utf8').trim().split('\n');
    assert.deepEqual(keys.map((l) => l.split(' ')[0]).sort(), [
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
    assert.ok(readFileSync(pcap).includes(Buffer.from(keys[0])));
    assert.deepEqual(
      readdirSync(qlogDir).map((f) => /^[0-9a-f]+_client\.sqlog$/.test(f)),
      [true],
    );
  });
});
