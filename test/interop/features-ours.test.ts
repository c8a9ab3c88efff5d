// Every transport feature between our own client and server over real UDP on 127.0.0.1, both
// through the CLI (`quicscope get` → `quicscope serve`): QUIC v2 direct, compatible v1 → v2
// negotiation, Version Negotiation from an unknown version, Retry then NEW_TOKEN, key updates,
// resumption with 0-RTT accepted and rejected, active migration, preferred_address,
// disable_active_migration, and path MTU discovery up to 1500 bytes. (Stateless reset is in
// features-reset.test.ts.) Our side needs no peer binary, so nothing here is skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedBytes } from '../../main/h3/files.ts';
import {
  fileDigest,
  makeWorkspace,
  numberAfter,
  qlogEvents,
  runCli,
  serverConnectionLog,
  sha256,
  startQuicscopeServer,
  stopAll,
  waitFor,
} from './peers.ts';
import type { Child, Workspace } from './peers.ts';

/** SHA-256 and size of the body `GET /<size>` returns. */
const generated = (size: number): { sha256: string; size: number } => ({
  sha256: sha256(generatedBytes(size)),
  size,
});

interface Server {
  child: Child;
  port: number;
}

describe('interop features: quicscope get → quicscope serve over UDP', { timeout: 180_000 }, () => {
  let ws: Workspace;
  let tmp: string;
  /** -v --early-data, 1500-byte datagrams, a secret file shared with `noEarly`. */
  let main: Server;
  /** -v --quic-versions 2,1: moves v1 clients to v2. */
  let v2first: Server;
  /** -v --retry. */
  let retry: Server;
  /** -v, same secret file as `main` but no --early-data, and --disable-active-migration. */
  let noEarly: Server;
  /** -v --preferred-address 127.0.0.1:0. */
  let preferred: Server;
  let preferredPort = 0;
  let n = 0;

  before(async () => {
    ws = makeWorkspace('qs-feat-ours', 2);
    tmp = mkdtempSync(join(tmpdir(), 'qs-feat-ours-'));
    const secret = join(tmp, 'secret');
    writeFileSync(secret, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    const common = ['--dir', ws.www, '--cert', ws.certFile, '--key', ws.keyFile, '-v'];
    [main, v2first, retry, noEarly, preferred] = await Promise.all([
      startQuicscopeServer([...common, '--early-data', '--max-udp-payload', '1500', '--secret-file', secret]),
      startQuicscopeServer([...common, '--quic-versions', '2,1']),
      startQuicscopeServer([...common, '--retry']),
      startQuicscopeServer([...common, '--secret-file', secret, '--disable-active-migration']),
      startQuicscopeServer([...common, '--preferred-address', '127.0.0.1:0']),
    ]);
    // Printed just after the "listening" line.
    await waitFor(
      () => /^preferred address udp 127\.0\.0\.1:\d+$/m.test(preferred.child.stdout),
      10_000,
      'the preferred address',
    );
    preferredPort = Number(/^preferred address udp 127\.0\.0\.1:(\d+)$/m.exec(preferred.child.stdout)?.[1]);
  });

  after(async () => {
    await stopAll();
    ws?.cleanup();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  const url = (s: Server, path: string): string => `https://127.0.0.1:${s.port}/${path}`;

  /**
   * `quicscope get --ca <cert> -v ...` against `s` (asserting exit 0), with the server's lines
   * for that connection.
   */
  async function get(s: Server, args: string[], limitMs = 60_000) {
    const mark = s.child.stdout.length;
    const r = await runCli(['get', '--ca', ws.certFile, '-v', ...args], limitMs);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const server = await serverConnectionLog(s.child, mark);
    return { out: r.stdout, ...server };
  }

  describe('versions (RFC 9000 §6, RFC 9368, RFC 9369)', () => {
    it('QUIC v2 directly (--quic-version 2)', async () => {
      const r = await get(main, ['--quic-version', '2', url(main, 'index.html')]);
      assert.match(r.out, /^200 /m);
      assert.match(r.out, /QUIC v2 .*\n.*version negotiation no/);
      assert.match(r.connected, /connected: QUIC v2 /);
    });

    describe('compatible negotiation: a v1 client, `serve --quic-versions 2,1`', () => {
      let r: Awaited<ReturnType<typeof get>>;
      let qlogDir = '';

      before(async () => {
        qlogDir = join(ws.dir, 'compat-qlog');
        r = await get(v2first, ['--qlog-dir', qlogDir, url(v2first, 'index.html')]);
      });

      it('RFC 9368 §2.3: the connection moves to v2', () => {
        assert.match(r.out, /^200 /m);
        assert.match(r.out, /QUIC v2 .*\n.*version negotiation compatible, from QUIC v1/);
        assert.match(r.connected, /connected: QUIC v2 .*\(compatible from QUIC v1\)/);
      });

      it("RFC 9369 §4.1: the server's first v2 Initial decrypts (no decryption_failure in our qlog)", () => {
        const [q] = qlogEvents(qlogDir);
        const drops = q.events.filter(
          (e) => e.name === 'quic:packet_dropped' && e.data.trigger === 'decryption_failure',
        );
        assert.deepEqual(drops, []);
      });
    });

    it('RFC 9000 §6.2: an unknown first version draws Version Negotiation, then v1', async () => {
      const r = await get(main, ['--quic-version', '0x1a2a3a4a', url(main, 'index.html')]);
      assert.match(r.out, /^200 /m);
      assert.match(r.out, /QUIC v1 .*\n.*version negotiation yes/);
      assert.match(r.connected, /connected: QUIC v1 /);
    });
  });

  it('RFC 9000 §8.1.2, §8.1.3: Retry on the first run; its NEW_TOKEN spares the second run one', async () => {
    const session = join(ws.dir, 'retry-session.json');
    const first = await get(retry, ['--session-file', session, url(retry, 'index.html')]);
    assert.match(first.out, /retry yes/);
    const second = await get(retry, ['--session-file', session, url(retry, 'index.html')]);
    assert.match(second.out, /offered a NEW_TOKEN token/);
    assert.match(second.out, /retry no/);
  });

  it('RFC 9001 §6: a key update every 1 MB over a 10 MiB download', async () => {
    const dir = join(ws.dir, `ku${n++}`);
    const r = await get(main, ['--key-update-after', '1000000', '--out', dir, url(main, '10M.bin')], 90_000);
    assert.deepEqual(fileDigest(join(dir, '10M.bin')), ws.files.get('10M.bin'));
    assert.ok(numberAfter(r.out, 'key updates') >= 5, r.out);
    assert.ok(numberAfter(r.closed, 'key updates') >= 5, r.closed);
  });

  describe('resumption and 0-RTT (RFC 8446 §2.3, RFC 9001 §4.6)', () => {
    let first: Awaited<ReturnType<typeof get>>;
    let second: Awaited<ReturnType<typeof get>>;
    let qlogDir = '';

    before(async () => {
      const session = join(ws.dir, 'zrtt-session.json');
      qlogDir = join(ws.dir, 'zrtt-qlog');
      first = await get(main, ['--session-file', session, '--early-data', url(main, 'index.html')]);
      second = await get(main, [
        '--session-file',
        session,
        '--early-data',
        '--qlog-dir',
        qlogDir,
        url(main, 'index.html'),
      ]);
    });

    it('two runs with --session-file --early-data: the second resumes, 0-RTT accepted', () => {
      assert.match(first.out, /resumed no/);
      assert.match(second.out, /^200 /m);
      assert.match(second.out, /resumed yes {2}early data accepted/);
      assert.match(second.connected, / resumed 0-RTT accepted/);
    });

    it('the request of the second run goes out in a 0-RTT packet (qlog packet_sent 0RTT with a STREAM frame)', () => {
      const [q] = qlogEvents(qlogDir);
      const zeroRtt = q.events.filter(
        (e) => e.name === 'quic:packet_sent' && e.data.header?.packet_type === '0RTT',
      );
      assert.ok(
        zeroRtt.some((e) => e.data.frames?.some((f) => f.frame_type === 'stream' && f.stream_id === 0)),
        `0-RTT packets sent: ${JSON.stringify(zeroRtt.map((e) => e.data.frames))}`,
      );
    });

    it('a server without --early-data resumes but rejects 0-RTT; the requests still succeed', async () => {
      // The ticket `main` (0-RTT allowed) gave the second run above, presented to `noEarly`, which
      // shares its ticket key (--secret-file) but not --early-data.
      const session = join(ws.dir, 'reject-session.json');
      const json = JSON.parse(readFileSync(join(ws.dir, 'zrtt-session.json'), 'utf8')) as {
        servers: Record<string, unknown>;
      };
      json.servers[`127.0.0.1:${noEarly.port}`] = json.servers[`127.0.0.1:${main.port}`];
      writeFileSync(session, JSON.stringify(json));
      const dir = join(ws.dir, `rej${n++}`);
      const r = await get(noEarly, [
        '--session-file',
        session,
        '--early-data',
        '--out',
        dir,
        url(noEarly, 'index.html'),
        url(noEarly, 'm1.bin'),
      ]);
      assert.match(r.out, /resumed yes {2}early data rejected/);
      assert.match(r.connected, / resumed 0-RTT rejected/);
      for (const f of ['index.html', 'm1.bin']) assert.deepEqual(fileDigest(join(dir, f)), ws.files.get(f));
      // Its own tickets do not offer 0-RTT at all.
      const again = await get(noEarly, [
        '--session-file',
        session,
        '--early-data',
        url(noEarly, 'index.html'),
      ]);
      assert.match(again.out, /resumed yes {2}early data not_offered/);
    });
  });

  describe('connection migration (RFC 9000 §9)', () => {
    it('--migrate-after 1000000: a new local port, validated; a 4 MB download stays whole', async () => {
      const dir = join(ws.dir, `mig${n++}`);
      const r = await get(main, ['--migrate-after', '1000000', '--out', dir, url(main, '4000000')], 90_000);
      assert.deepEqual(fileDigest(join(dir, '4000000')), generated(4_000_000));
      const moved = /migrated to local port (\d+) after \d+ bytes/.exec(r.out);
      assert.ok(moved !== null, r.out);
      assert.match(r.out, /migrations 1 validated \/ 1 initiated/);
      assert.match(r.closed, new RegExp(`path changes 1 \\(now 127\\.0\\.0\\.1:${moved[1]}\\)`));
    });

    it('RFC 9000 §9.6: `serve --preferred-address`: the client moves there', async () => {
      const dir = join(ws.dir, `pa${n++}`);
      const r = await get(preferred, ['--out', dir, url(preferred, '2000000')], 90_000);
      assert.deepEqual(fileDigest(join(dir, '2000000')), generated(2_000_000));
      assert.match(r.out, new RegExp(`peer 127\\.0\\.0\\.1:${preferredPort}$`, 'm'));
      assert.match(r.out, /migrations 1 validated \/ 1 initiated/);
    });

    it('RFC 9000 §18.2: `serve --disable-active-migration`: the client does not move, the download stays whole', async () => {
      const dir = join(ws.dir, `nomig${n++}`);
      const r = await get(
        noEarly,
        ['--migrate-after', '1000000', '--out', dir, url(noEarly, '4000000')],
        90_000,
      );
      assert.deepEqual(fileDigest(join(dir, '4000000')), generated(4_000_000));
      assert.match(r.out, /migration failed: .*disable_active_migration/);
      assert.match(r.out, /migrations 0 validated \/ 0 initiated {2}path changes 0/);
      assert.doesNotMatch(r.closed, /path changes/);
    });
  });

  it('RFC 9000 §14.3: path MTU discovery reaches 1500 with --max-udp-payload 1500 on both sides', async () => {
    const r = await get(main, ['--max-udp-payload', '1500', url(main, '1000000')]);
    assert.match(r.out, /path MTU 1500 \(search_complete\)/);
    assert.equal(numberAfter(r.closed, 'path MTU'), 1500, r.closed);
  });
});
