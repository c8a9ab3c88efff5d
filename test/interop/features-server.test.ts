// Interop, feature by feature: ngtcp2's example HTTP/3 client (Debian gtlsclient 0.12, GnuTLS)
// against our server through the real CLI (`quicscope serve -v --early-data`) on 127.0.0.1 —
// Version Negotiation for an unknown version, key updates the client initiates, resumption with
// 0-RTT across two runs, and the client's migration to a new local port, with and without path
// validation on its side (NAT rebinding). gtlsclient exits 0 even when it fails, so every case
// checks the downloaded bytes; our side is checked in the server's -v log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  fileDigest,
  makeWorkspace,
  ngtcp2,
  numberAfter,
  runGtlsClient,
  serverConnectionLog,
  startQuicscopeServer,
  stopAll,
} from './peers.ts';
import type { Child, Workspace } from './peers.ts';

const peers = ngtcp2();
const skip = 'missing' in peers ? `${peers.missing}: skipped` : false;

describe('interop features: ngtcp2 client (gtlsclient) → quicscope serve', { skip, timeout: 180_000 }, () => {
  let ws: Workspace;
  let client: string;
  let server: Child;
  let port = 0;

  before(async () => {
    if ('missing' in peers) return;
    client = peers.client;
    ws = makeWorkspace('qs-feat-server', 2);
    ({ child: server, port } = await startQuicscopeServer([
      '--dir',
      ws.www,
      '--cert',
      ws.certFile,
      '--key',
      ws.keyFile,
      '--early-data',
      '-v',
    ]));
  });

  after(async () => {
    await stopAll();
    ws?.cleanup();
  });

  /** Runs gtlsclient for `paths` and returns its result with our server's lines for that connection. */
  async function fetch(paths: string[], extra: string[] = [], quiet = true) {
    const mark = server.stdout.length;
    const r = await runGtlsClient(client, ws, port, paths, { extra, quiet, limitMs: 60_000 });
    const ours = await serverConnectionLog(server, mark);
    return { ...r, ...ours };
  }

  it('RFC 9000 §6.1: an unknown version is answered with Version Negotiation; the client retries in v1', async () => {
    const r = await fetch(['index.html'], ['-v', '0x1a2a3a4a', '--preferred-versions', 'v1'], false);
    assert.deepEqual(fileDigest(join(r.dir, 'index.html')), ws.files.get('index.html'));
    assert.match(r.log, /version=0x1a2a3a4a type=Initial/);
    assert.match(r.log, /type=VN/);
    assert.match(r.log, /pkt rx 0 VN v=0x00000001/);
    assert.match(r.log, /the negotiated version is 0x00000001/);
    assert.match(r.connected, /connected: QUIC v1 /);
  });

  it('RFC 9001 §6: the client updates its keys every 5 ms of a 10 MiB download; we follow', async () => {
    const r = await fetch(['10M.bin'], ['--key-update=5ms'], false);
    assert.deepEqual(fileDigest(join(r.dir, '10M.bin')), ws.files.get('10M.bin'));
    assert.match(r.log, /Initiate key update/);
    assert.match(r.log, /key update confirmed/);
    assert.ok(numberAfter(r.closed, 'key updates') > 0, r.closed);
  });

  it('RFC 9001 §4.6: the second run resumes and its request in 0-RTT is accepted', async () => {
    const f = join(ws.dir, 'gtls-session');
    const tp = join(ws.dir, 'gtls-tp');
    const extra = [`--session-file=${f}`, `--tp-file=${tp}`];
    const first = await fetch(['index.html'], extra, false);
    assert.deepEqual(fileDigest(join(first.dir, 'index.html')), ws.files.get('index.html'));
    assert.doesNotMatch(first.log, /type=0RTT/);
    const second = await fetch(['index.html'], extra, false);
    assert.deepEqual(fileDigest(join(second.dir, 'index.html')), ws.files.get('index.html'));
    // The request (stream 0, with FIN) went in a 0-RTT packet.
    assert.match(second.log, /frm tx \d+ 0RTT STREAM\(0x0b\) id=0x0 fin=1/);
    assert.match(second.connected, / resumed 0-RTT accepted/);
  });

  it('RFC 9000 §9: the client migrates to a new local port during a 10 MiB download', async () => {
    // ngtcp2 gives up on path validation after max(3 PTO, 6 initial RTTs): with the 1 ms initial RTT
    // of the other cases a loaded machine (CI) can miss that; 100 ms leaves room.
    const r = await fetch(['10M.bin'], ['--change-local-addr=10ms', '--initial-rtt=100ms'], false);
    assert.deepEqual(fileDigest(join(r.dir, '10M.bin')), ws.files.get('10M.bin'));
    assert.match(r.log, /Path validation against path .* succeeded/);
    assert.ok(numberAfter(r.closed, 'path changes') >= 1, r.closed);
  });

  // gtlsclient --nat-rebinding moves to a new port without telling anyone and ignores what still
  // arrives at the old one; it sends from the new port only when it has something to send. In a
  // pure download that may be never — ngtcp2's own server then stalls until the idle timeout too —
  // so the client uploads a body with its GET (our server reads and drops it) while it downloads.
  it('RFC 9000 §9.3: a NAT rebinding during a 10 MiB download; we validate the new path and go on', async () => {
    const r = await fetch(
      ['10M.bin'],
      [
        '--nat-rebinding',
        '--change-local-addr=10ms',
        '--initial-rtt=100ms',
        '-m',
        'GET',
        '-d',
        join(ws.www, '10M.bin'),
      ],
    );
    assert.deepEqual(fileDigest(join(r.dir, '10M.bin')), ws.files.get('10M.bin'));
    const moved = /path changes (\d+) \(now (\S+)\)/.exec(r.closed);
    assert.ok(moved !== null && Number(moved[1]) >= 1, r.closed);
    assert.ok(!r.closed.startsWith(`${moved[2]} `), `the final peer is a new address: ${r.closed}`);
  });
});
