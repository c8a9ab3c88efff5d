// Interop, feature by feature: our client through the real CLI (`quicscope get`) against ngtcp2's
// example HTTP/3 server (Debian gtlsserver 0.12, GnuTLS) on 127.0.0.1 — Version Negotiation from
// an unknown version, key updates we initiate, resumption and 0-RTT across two runs, active
// migration to a new local port, the server's preferred_address, and path MTU discovery.
// (The v2 → v1 fallback and Retry are in client-ngtcp2.test.ts.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  fileDigest,
  freeUdpPort,
  makeWorkspace,
  ngtcp2,
  numberAfter,
  qlogEvents,
  runCli,
  startGtlsServer,
  stopAll,
} from './peers.ts';
import type { Workspace } from './peers.ts';

const peers = ngtcp2();
const skip = 'missing' in peers ? `${peers.missing}: skipped` : false;

describe('interop features: quicscope get → ngtcp2 server (gtlsserver)', { skip, timeout: 180_000 }, () => {
  let ws: Workspace;
  let server: string;
  let port = 0;
  let n = 0;

  before(async () => {
    if ('missing' in peers) return;
    server = peers.server;
    ws = makeWorkspace('qs-feat-client', 2);
    port = (await startGtlsServer(server, ws)).port;
  });

  after(async () => {
    await stopAll();
    ws?.cleanup();
  });

  const url = (p: number, path: string): string => `https://127.0.0.1:${p}/${path}`;
  /** `quicscope get --ca <cert> -v ...`; asserts exit 0. */
  async function get(args: string[], limitMs = 60_000): Promise<string> {
    const r = await runCli(['get', '--ca', ws.certFile, '-v', ...args], limitMs);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  it('RFC 9000 §6: an unknown first version draws Version Negotiation, then v1 succeeds', async () => {
    const out = await get(['--quic-version', '0x1a2a3a4a', url(port, 'index.html')]);
    assert.match(out, /^200 /m);
    assert.match(out, /QUIC v1 .*\n.*version negotiation yes/);
  });

  it('RFC 9001 §6: a key update every 1 MB we receive, over a 10 MiB download', async () => {
    const dir = join(ws.dir, `ku${n++}`);
    const out = await get(['--key-update-after', '1000000', '--out', dir, url(port, '10M.bin')], 90_000);
    assert.deepEqual(fileDigest(join(dir, '10M.bin')), ws.files.get('10M.bin'));
    assert.ok(numberAfter(out, 'key updates') >= 5, out);
    assert.match(out, /key update initiated after \d+ bytes/);
  });

  describe('resumption and 0-RTT over two runs with --session-file --early-data', () => {
    let second = '';
    let qlogDir = '';

    before(async () => {
      if ('missing' in peers) return;
      const session = join(ws.dir, 'session.json');
      const first = await get(['--session-file', session, '--early-data', url(port, 'index.html')]);
      assert.match(first, /resumed no/);
      qlogDir = join(ws.dir, 'zrtt-qlog');
      second = await get([
        '--session-file',
        session,
        '--early-data',
        '--qlog-dir',
        qlogDir,
        url(port, 'index.html'),
      ]);
    });

    it('RFC 8446 §2.2: the second run resumes and the server accepts early data', () => {
      assert.match(second, /^200 /m);
      assert.match(second, /resumed yes/);
      assert.match(second, /early data accepted/);
      assert.match(second, /offered a session ticket/);
    });

    it('RFC 9001 §4.6.1: the request goes out in a 0-RTT packet (qlog packet_sent 0RTT with a STREAM frame)', () => {
      const [q] = qlogEvents(qlogDir);
      const zeroRtt = q.events.filter(
        (e) => e.name === 'quic:packet_sent' && e.data.header?.packet_type === '0RTT',
      );
      assert.ok(
        zeroRtt.some((e) => e.data.frames?.some((f) => f.frame_type === 'stream' && f.stream_id === 0)),
        `0-RTT packets sent: ${JSON.stringify(zeroRtt.map((e) => e.data.frames))}`,
      );
    });
  });

  it('RFC 9000 §9: migration to a new local port after 2 MB; the 10 MiB download stays whole', async () => {
    const dir = join(ws.dir, `mig${n++}`);
    const out = await get(['--migrate-after', '2000000', '--out', dir, url(port, '10M.bin')], 90_000);
    assert.deepEqual(fileDigest(join(dir, '10M.bin')), ws.files.get('10M.bin'));
    const moved = /migrated to local port (\d+) after \d+ bytes/.exec(out);
    assert.ok(moved !== null, out);
    assert.equal(numberAfter(out, 'local port'), Number(moved[1]));
    assert.ok(numberAfter(out, 'migrations') >= 1, out);
  });

  describe('RFC 9000 §9.6: the server offers a preferred_address', () => {
    let preferred = 0;
    let r: { code: number | null; stdout: string; stderr: string };

    // One 1 MB download: long enough for the move to be validated before the transfer ends.
    before(async () => {
      if ('missing' in peers) return;
      preferred = await freeUdpPort();
      const p = (await startGtlsServer(server, ws, [`--preferred-ipv4-addr=127.0.0.1:${preferred}`])).port;
      r = await runCli(['get', '--ca', ws.certFile, '-v', url(p, '1000000')]);
    });

    it('our client validates it and moves there: the peer at the end is the preferred port', () => {
      assert.match(r.stdout, /migrations 1 validated \/ 1 initiated/, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`peer 127\\.0\\.0\\.1:${preferred}$`, 'm'), r.stdout);
    });

    it('the download over the preferred address completes', () => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^200 .* 1\.00 MB {2}stream 0$/m);
    });
  });

  it('RFC 9000 §14.3: path MTU discovery rises above 1200 (--max-udp-payload 1500)', async () => {
    const out = await get(['--max-udp-payload', '1500', url(port, '1000000')]);
    const pmtu = numberAfter(out, 'path MTU');
    assert.ok(pmtu > 1200 && pmtu <= 1500, out);
  });
});
