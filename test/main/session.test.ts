// The session manager against real servers over loopback UDP: the built-in local server (HTTP/3
// and the raw echo protocol), a closed port, a name that does not resolve, a server whose
// certificate is not trusted. Checks the batches the window gets (rate, qlog, series, streams,
// handshake), the actions, the errors, and the exports (qlog parses, tshark decrypts the pcapng).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionManager } from '../../main/session/manager.ts';
import { LocalServer, ECHO_ALPN } from '../../main/session/local-server.ts';
import { Dispatcher, exportAsBytes } from '../../main/ipc/dispatch.ts';
import type {
  SessionBatch,
  SessionId,
  SessionError,
  H3RequestRow,
  StreamRow,
} from '../../main/ipc/contract.ts';
import { MAX_BATCHES_PER_SECOND } from '../../main/ipc/contract.ts';
import { parseJsonSeq } from '../../core/trace/qlog-writer.ts';
import { mergeRequest, mergeStream } from '../../renderer/src/store/store.ts';
import { applySeriesUpdate } from '../../renderer/src/lib/series.ts';
import { clock } from '../../main/endpoint/udp.ts';

/** Collects batches per session, with their arrival times. */
class Recorder {
  readonly batches = new Map<SessionId, { at: number; batch: SessionBatch }[]>();
  private waiters: (() => void)[] = [];

  constructor(manager: SessionManager) {
    manager.onBatch((batch) => {
      let list = this.batches.get(batch.sessionId);
      if (list === undefined) this.batches.set(batch.sessionId, (list = []));
      list.push({ at: clock(), batch });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  of(id: SessionId): SessionBatch[] {
    return (this.batches.get(id) ?? []).map((b) => b.batch);
  }

  /** Waits until `predicate` holds over the session's batches (at most `timeout` ms). */
  async until(id: SessionId, what: string, predicate: (batches: SessionBatch[]) => boolean, timeout = 8000) {
    const deadline = Date.now() + timeout;
    while (!predicate(this.of(id))) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.of(id);
  }
}

const lastState = (bs: SessionBatch[]) => bs[bs.length - 1]?.state;
const errorOf = (bs: SessionBatch[]): SessionError | undefined =>
  bs.find((b) => b.error !== undefined)?.error;
/** A request row as the window folds its updates (a body preview is sent once, then its size). */
const requestRow = (bs: SessionBatch[], requestId: number): H3RequestRow | undefined =>
  bs
    .flatMap((b) => b.requests)
    .filter((r) => r.requestId === requestId)
    .reduce<H3RequestRow | undefined>((row, u) => mergeRequest(row, u), undefined);
/** A stream row as the window folds its updates (what arrived: appended bytes, then its size). */
const streamRow = (bs: SessionBatch[], id: number): StreamRow | undefined =>
  bs
    .flatMap((b) => b.streams)
    .filter((r) => r.id === id)
    .reduce<StreamRow | undefined>((row, u) => mergeStream(row, u), undefined);

describe('session manager over loopback UDP', () => {
  const manager = new SessionManager();
  const recorder = new Recorder(manager);
  const dispatcher = new Dispatcher(manager, {
    transport: 'web',
    appVersion: 'test',
    deliverExport: exportAsBytes,
  });
  let h3Session: SessionId;
  let requestId: number;

  after(async () => {
    await manager.shutdown();
  });

  it('completes the handshake with the local server; batches arrive at most 20 a second', async () => {
    const info = await manager.openSession({ target: 'local' });
    h3Session = info.sessionId;
    assert.equal(info.localServer, true);
    assert.equal(info.options.alpn, 'h3');
    const bs = await recorder.until(h3Session, 'established', (b) => lastState(b) === 'established');
    const qlog = bs.flatMap((b) => b.qlog);
    const names = new Set(qlog.map((e) => e.name));
    for (const n of [
      'quic:connection_started',
      'quic:packet_sent',
      'quic:packet_received',
      'quicscope:tls_message',
    ])
      assert.ok(names.has(n as never), `qlog has ${n}`);
    const hs = bs.filter((b) => b.handshake !== undefined).pop()?.handshake;
    assert.ok(hs !== undefined);
    assert.equal(hs.alpn, 'h3');
    assert.equal(hs.version, '00000001');
    assert.equal(hs.verdict?.ok, true, 'the local server certificate is trusted');
    assert.equal(hs.certificates.length, 1);
    assert.ok(hs.certificates[0].sans.includes('IP:127.0.0.1'));
    assert.ok(hs.transportParameters.remote?.initial_max_data !== undefined);
    // The server's NewSessionTicket may or may not have arrived by the time the state batch does.
    const received = hs.tlsMessages.filter((m) => m.direction === 'received').map((m) => m.type);
    assert.deepEqual(received.slice(0, 5), [
      'server_hello',
      'encrypted_extensions',
      'certificate',
      'certificate_verify',
      'finished',
    ]);
    assert.ok(
      received.slice(5).every((t) => t === 'new_session_ticket'),
      received.join(),
    );
    assert.ok(
      bs.some((b) => (b.series.cwnd?.points.length ?? 0) > 0),
      'a cwnd series',
    );
    assert.ok(
      bs.some((b) => (b.series.rtt_smoothed?.points.length ?? 0) > 0),
      'an RTT series',
    );
    assert.ok(bs.some((b) => b.stats !== null && b.stats.packetsSent > 0));
  });

  it('GETs a page over HTTP/3 and the body arrives in the request row', async () => {
    const r = await dispatcher.dispatch('h3Request', {
      sessionId: h3Session,
      request: { method: 'GET', path: '/page.html', headers: [['accept', 'text/html']] },
    });
    assert.ok(r.ok, JSON.stringify(r));
    requestId = (r.value as { requestId: number }).requestId;
    const bs = await recorder.until(
      h3Session,
      'the response',
      (b) => requestRow(b, requestId)?.state === 'complete',
    );
    const row = requestRow(bs, requestId) as H3RequestRow;
    assert.equal(row.status, 200);
    assert.ok(row.headers.some(([n, v]) => n === 'content-type' && v.startsWith('text/html')));
    assert.match(row.body.text ?? '', /Hello from quicscope/);
    assert.equal(row.body.truncated, false);
    assert.ok(row.completedAt !== null && row.completedAt >= row.sentAt);
    // The request stream's row: RFC 9000 §3 states, bytes both ways.
    const stream = streamRow(bs, row.streamId) as StreamRow;
    assert.equal(stream.kind, 'request');
    assert.ok(stream.bytesReceived >= row.body.size);
    assert.ok(stream.finReceived);
    // HTTP/3's own streams are in the table too.
    assert.ok(bs.flatMap((b) => b.streams).some((s) => s.kind === 'control'));
  });

  it('previews a large body (bounded) with its full size, and echoes a POST body', async () => {
    const big = await dispatcher.dispatch('h3Request', {
      sessionId: h3Session,
      request: { method: 'GET', path: '/300000' },
    });
    assert.ok(big.ok);
    const bigId = (big.value as { requestId: number }).requestId;
    const post = await dispatcher.dispatch('h3Request', {
      sessionId: h3Session,
      request: { method: 'POST', path: '/echo', body: { encoding: 'hex', data: 'cafe f00d' } },
    });
    assert.ok(post.ok);
    const postId = (post.value as { requestId: number }).requestId;
    const bs = await recorder.until(
      h3Session,
      'both responses',
      (b) => requestRow(b, bigId)?.state === 'complete' && requestRow(b, postId)?.state === 'complete',
    );
    const r = requestRow(bs, bigId) as H3RequestRow;
    assert.equal(r.body.size, 300_000);
    assert.equal(r.body.truncated, true);
    assert.equal(r.body.hex.length, 2 * 65_536);
    assert.equal(requestRow(bs, postId)?.body.hex, 'cafef00d');
  });

  it('a snapshot holds what the window folded from the batches: series, request rows, streams', async () => {
    const big = await dispatcher.dispatch('h3Request', {
      sessionId: h3Session,
      request: { method: 'GET', path: '/4000000' },
    });
    assert.ok(big.ok);
    const id = (big.value as { requestId: number }).requestId;
    await recorder.until(h3Session, '4 MB', (b) => requestRow(b, id)?.state === 'complete', 20_000);
    await new Promise((r) => setTimeout(r, 600)); // the last progress updates go out
    const snap = await dispatcher.dispatch('sessionSnapshot', { sessionId: h3Session });
    assert.ok(snap.ok);
    const batch = snap.value as SessionBatch;
    const bs = recorder.of(h3Session);
    assert.equal(batch.snapshot, true);
    assert.equal(batch.seq, bs[bs.length - 1].seq, 'as of the last batch sent');
    assert.deepEqual(batch.qlog, []);
    // Series: every delta applied in order gives exactly main/'s copy, point for point.
    let folded = {};
    for (const b of bs) folded = applySeriesUpdate(folded, b.series);
    assert.deepEqual(folded, applySeriesUpdate({}, batch.series));
    assert.ok(Object.values(batch.series).every((d) => d.reset));
    assert.ok((batch.series.throughput_received?.points.length ?? 0) > 3, 'a throughput series');
    // Request rows: bodies sent once, then their size.
    const row = requestRow(bs, id) as H3RequestRow;
    assert.deepEqual(
      row,
      batch.requests.find((r) => r.requestId === id),
    );
    assert.equal(row.body.size, 4_000_000);
    assert.equal(row.body.hex.length, 2 * 65_536);
    assert.ok(
      bs.some((b) => b.requests.some((r) => r.requestId === id && 'previewUnchanged' in r.body)),
      'an update without the (full) preview',
    );
    const ids = new Set(bs.flatMap((b) => b.streams.map((r) => r.id)));
    assert.deepEqual(
      batch.streams.map((r) => r.id),
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(batch.handshake?.alpn, 'h3');
    const none = await dispatcher.dispatch('sessionSnapshot', { sessionId: 'nope' });
    assert.equal(none.ok ? null : none.error.kind, 'not_found');
  });

  it('refuses raw streams on an HTTP/3 session and bad arguments, with typed errors', async () => {
    const raw = await dispatcher.dispatch('openStream', { sessionId: h3Session, direction: 'bidi' });
    assert.deepEqual(raw.ok ? null : raw.error.kind, 'unsupported');
    const bad = await dispatcher.dispatch('h3Request', {
      sessionId: h3Session,
      request: { method: 'GET', path: 'no slash here' },
    });
    assert.equal(bad.ok ? null : bad.error.kind, 'bad_request');
    const unknown = await dispatcher.dispatch('closeSession', { sessionId: 'nope' });
    assert.equal(unknown.ok ? null : unknown.error.kind, 'not_found');
    const method = await dispatcher.dispatch('format_disk', {});
    assert.equal(method.ok ? null : method.error.kind, 'bad_request');
  });

  it('starts a key update (RFC 9001 §6) and the qlog shows it', async () => {
    const r = await dispatcher.dispatch('keyUpdate', { sessionId: h3Session });
    assert.ok(r.ok);
    // Traffic makes the new keys go out.
    await dispatcher.dispatch('h3Request', { sessionId: h3Session, request: { method: 'GET', path: '/10' } });
    await recorder.until(h3Session, 'a local key update', (b) =>
      b.some((x) => x.qlog.some((e) => e.name === 'quic:key_updated' && e.data.trigger === 'local_update')),
    );
  });

  it('migrates to a new local port (RFC 9000 §9) and the qlog shows the path validated', async () => {
    const info = await dispatcher.dispatch('appInfo', {});
    assert.ok(info.ok);
    assert.equal((info.value as { features: { migration: boolean } }).features.migration, true);
    const r = await dispatcher.dispatch('migrate', { sessionId: h3Session });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const port = (r.value as { localPort: number }).localPort;
    assert.ok(port > 0);
    // Traffic on the new path completes its validation.
    await dispatcher.dispatch('h3Request', { sessionId: h3Session, request: { method: 'GET', path: '/10' } });
    await recorder.until(h3Session, 'the migration validated', (b) =>
      b.some((x) =>
        x.qlog.some((e) => e.name === 'quic:migration_state_updated' && e.data.new === 'migration_complete'),
      ),
    );
  });

  it('exports a qlog (JSON-SEQ, draft -13 events) and a qvis file (qlog 0.3)', async () => {
    const r = await dispatcher.dispatch('exportSession', { sessionId: h3Session, kind: 'qlog' });
    assert.ok(r.ok);
    const file = r.value as { fileName: string; bytes: string; mimeType: string };
    assert.match(file.fileName, /\.sqlog$/);
    assert.equal(file.mimeType, 'application/qlog+json-seq');
    const records = parseJsonSeq(Buffer.from(file.bytes, 'base64').toString('utf8')) as Record<
      string,
      unknown
    >[];
    const header = records[0] as {
      file_schema: string;
      trace: { vantage_point: { type: string }; common_fields: { group_id?: string } };
    };
    assert.equal(header.file_schema, 'urn:ietf:params:qlog:file:sequential');
    assert.equal(header.trace.vantage_point.type, 'client');
    assert.match(
      header.trace.common_fields.group_id ?? '',
      /^[0-9a-f]{16,40}$/,
      'the ODCID groups the trace',
    );
    const names = new Set(records.slice(1).map((e) => e.name));
    for (const n of [
      'quic:connection_started',
      'quic:packet_sent',
      'quic:packet_received',
      'quic:parameters_set',
      'http3:frame_created',
      'http3:frame_parsed',
    ])
      assert.ok(names.has(n), `the qlog has ${n}`);
    const qvis = await dispatcher.dispatch('exportSession', { sessionId: h3Session, kind: 'qvis' });
    assert.ok(qvis.ok);
    const q = parseJsonSeq(Buffer.from((qvis.value as { bytes: string }).bytes, 'base64').toString('utf8'));
    assert.equal((q[0] as { qlog_version: string }).qlog_version, '0.3');
  });

  it('exports SSLKEYLOGFILE and a JSON summary', async () => {
    const keys = await dispatcher.dispatch('exportSession', { sessionId: h3Session, kind: 'keylog' });
    assert.ok(keys.ok);
    const text = Buffer.from((keys.value as { bytes: string }).bytes, 'base64').toString('utf8');
    assert.match(text, /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]+$/m);
    assert.match(text, /^SERVER_TRAFFIC_SECRET_0 /m);
    const sum = await dispatcher.dispatch('exportSession', { sessionId: h3Session, kind: 'summary' });
    assert.ok(sum.ok);
    const json = JSON.parse(Buffer.from((sum.value as { bytes: string }).bytes, 'base64').toString('utf8'));
    assert.equal(json.session.sessionId, h3Session);
    assert.equal(json.handshake.alpn, 'h3');
    assert.ok(json.requests.length >= 3);
    assert.ok(json.qlog.eventsKept > 0);
  });

  const noTshark =
    spawnSync('sh', ['-c', 'command -v tshark']).status !== 0 ? 'tshark is not installed' : false;
  it('exports a pcapng that tshark decrypts: QUIC frames and HTTP/3 frames', { skip: noTshark }, async () => {
    const r = await dispatcher.dispatch('exportSession', { sessionId: h3Session, kind: 'pcapng' });
    assert.ok(r.ok);
    const dir = mkdtempSync(join(tmpdir(), 'quicscope-pcap-'));
    try {
      const path = join(dir, 'session.pcapng');
      writeFileSync(path, Buffer.from((r.value as { bytes: string }).bytes, 'base64'));
      const out = spawnSync(
        'tshark',
        ['-r', path, '-T', 'fields', '-e', 'quic.frame_type', '-e', 'http3.frame_type'],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(out.status, 0, out.stderr);
      const rows = out.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      const quicFrames = new Set(rows.flatMap((c) => (c[0] ?? '').split(',').filter(Boolean).map(Number)));
      const h3Frames = new Set(rows.flatMap((c) => (c[1] ?? '').split(',').filter(Boolean).map(Number)));
      assert.ok(quicFrames.has(0x1e), 'HANDSHAKE_DONE decrypted (a 1-RTT frame)');
      assert.ok(
        [...quicFrames].some((t) => t >= 0x08 && t <= 0x0f),
        'STREAM frames decrypted',
      );
      assert.ok(h3Frames.has(0x04), 'HTTP/3 SETTINGS visible');
      assert.ok(h3Frames.has(0x01), 'HTTP/3 HEADERS visible');
      assert.ok(h3Frames.has(0x00), 'HTTP/3 DATA visible');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes with a code and reason; the last batch says closed, without error', async () => {
    const r = await dispatcher.dispatch('closeSession', { sessionId: h3Session, reason: 'done' });
    assert.ok(r.ok);
    const bs = await recorder.until(h3Session, 'closed', (b) => lastState(b) === 'closed');
    assert.equal(errorOf(bs), undefined);
    assert.ok(bs.flatMap((b) => b.qlog).some((e) => e.name === 'quic:connection_closed'));
  });

  it('kept the batch rate at most 20 a second, with consecutive sequence numbers', () => {
    const list = recorder.batches.get(h3Session) ?? [];
    assert.ok(list.length > 3);
    const minGap = 1000 / MAX_BATCHES_PER_SECOND;
    for (let i = 1; i < list.length; i++) {
      assert.equal(list[i].batch.seq, list[i - 1].batch.seq + 1);
      // setTimeout can fire up to 1 ms early against performance.now().
      assert.ok(list[i].at - list[i - 1].at >= minGap - 1, `gap ${list[i].at - list[i - 1].at} ms`);
    }
  });

  it('raw streams (ALPN quicscope-echo): a bidi stream, a uni stream, text and hex, and a DATAGRAM', async () => {
    const info = await manager.openSession({ target: 'local', alpn: ECHO_ALPN });
    const id = info.sessionId;
    await recorder.until(id, 'established', (b) => lastState(b) === 'established');
    const open = await dispatcher.dispatch('openStream', { sessionId: id, direction: 'bidi' });
    assert.ok(open.ok, JSON.stringify(open));
    const streamId = (open.value as { streamId: number }).streamId;
    assert.equal(streamId, 0);
    await dispatcher.dispatch('sendStream', {
      sessionId: id,
      streamId,
      data: { encoding: 'text', data: 'ping ' },
    });
    await dispatcher.dispatch('sendStream', {
      sessionId: id,
      streamId,
      data: { encoding: 'hex', data: '706f6e67' },
      fin: true,
    });
    const uni = await dispatcher.dispatch('openStream', { sessionId: id, direction: 'uni' });
    assert.ok(uni.ok);
    const uniId = (uni.value as { streamId: number }).streamId;
    assert.equal(uniId, 2);
    await dispatcher.dispatch('sendStream', {
      sessionId: id,
      streamId: uniId,
      data: { encoding: 'text', data: 'one way' },
      fin: true,
    });
    const dg = await dispatcher.dispatch('sendDatagram', {
      sessionId: id,
      data: { encoding: 'text', data: 'dgram!' },
    });
    assert.ok(dg.ok, JSON.stringify(dg));
    const bs = await recorder.until(
      id,
      'the echoes',
      (b) =>
        streamRow(b, 0)?.received?.text === 'ping pong' &&
        streamRow(b, 3)?.received?.text === 'one way' &&
        b.some((x) => x.datagrams.some((d) => d.data.text === 'dgram!')),
    );
    const row = streamRow(bs, 0) as StreamRow;
    assert.equal(row.kind, 'raw');
    assert.equal(row.bytesSent, 9);
    assert.equal(row.finSent, true);
    assert.equal(row.finReceived, true);
    assert.equal(streamRow(bs, 3)?.initiator, 'remote');
    const h3 = await dispatcher.dispatch('h3Request', {
      sessionId: id,
      request: { method: 'GET', path: '/' },
    });
    assert.equal(h3.ok ? null : h3.error.kind, 'unsupported');
    manager.closeSession(id);
  });

  it('a raw stream echoing 1 MB: its 64 KiB preview goes out once, then sizes; a snapshot equals the folded row', async () => {
    const info = await manager.openSession({ target: 'local', alpn: ECHO_ALPN });
    const id = info.sessionId;
    await recorder.until(id, 'established', (b) => lastState(b) === 'established');
    const open = await dispatcher.dispatch('openStream', { sessionId: id, direction: 'bidi' });
    assert.ok(open.ok, JSON.stringify(open));
    const streamId = (open.value as { streamId: number }).streamId;
    const unit = 'quicscope echoes this line — é, €, 𝄞 — over a raw stream.\n';
    const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const sent = await dispatcher.dispatch('sendStream', {
      sessionId: id,
      streamId,
      data: { encoding: 'text', data: text },
      fin: true,
    });
    assert.ok(sent.ok, JSON.stringify(sent));
    const size = (sent.value as { bytes: number }).bytes;
    await recorder.until(id, 'the echo', (b) => streamRow(b, streamId)?.finReceived === true, 20_000);
    await new Promise((r) => setTimeout(r, 600)); // the last progress update goes out
    const bs = recorder.of(id);
    const row = streamRow(bs, streamId) as StreamRow;
    assert.equal(row.received?.size, size);
    assert.equal(row.received?.truncated, true);
    assert.equal(row.received?.hex.length, 2 * 65_536);
    const kept = Buffer.from(text).subarray(0, 65_536).toString();
    // The preview may end inside a multi-byte character: text is the valid prefix (3 bytes at most less).
    const shown = row.received?.text ?? null;
    assert.ok(shown !== null && kept.startsWith(shown), 'the window decoded the text');
    assert.ok(Buffer.byteLength(shown) > 65_536 - 4, `${Buffer.byteLength(shown)} bytes of text`);
    const updates = bs.flatMap((b) => b.streams.filter((r) => r.id === streamId));
    const hexChars = updates.reduce(
      (n, u) => n + (u.received !== null && 'hex' in u.received ? u.received.hex.length : 0),
      0,
    );
    assert.equal(hexChars, 2 * 65_536, 'each previewed byte went out once');
    assert.ok(
      updates.some((u) => u.received !== null && 'previewUnchanged' in u.received),
      'updates with the size only',
    );
    const snap = await dispatcher.dispatch('sessionSnapshot', { sessionId: id });
    assert.ok(snap.ok);
    assert.deepEqual(
      (snap.value as SessionBatch).streams.find((r) => r.id === streamId),
      row,
    );
    manager.closeSession(id);
  });

  it('a name that does not resolve: error kind dns', async () => {
    const info = await manager.openSession({ target: 'no-such-host.invalid:443' });
    const bs = await recorder.until(info.sessionId, 'failed', (b) => lastState(b) === 'failed');
    assert.equal(errorOf(bs)?.kind, 'dns');
  });

  it('a closed UDP port on 127.0.0.1: error kind refused (ICMP port unreachable)', async () => {
    const sock = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) =>
      sock.bind(0, '127.0.0.1', () => resolve(sock.address().port)),
    );
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    const info = await manager.openSession({ target: `127.0.0.1:${port}`, handshakeTimeout: 5000 });
    const bs = await recorder.until(info.sessionId, 'failed', (b) => lastState(b) === 'failed');
    const e = errorOf(bs);
    assert.equal(e?.kind, 'refused', JSON.stringify(e));
    assert.match(e?.message ?? '', /nothing is listening/);
  });

  describe('a server the session does not trust', () => {
    let server: LocalServer;
    before(async () => {
      server = await LocalServer.start();
    });
    after(async () => {
      await server.close();
    });

    it('certificate rejected: the reason and the chain', async () => {
      const info = await manager.openSession({ target: `localhost:${server.info.port}` });
      const bs = await recorder.until(info.sessionId, 'failed', (b) => lastState(b) === 'failed');
      const e = errorOf(bs);
      assert.equal(e?.kind, 'certificate', JSON.stringify(e));
      assert.equal(e?.certificate?.verdict.ok, false);
      assert.ok(e?.certificate?.verdict.reason);
      assert.equal(e?.certificate?.chain.length, 1);
      assert.match(e?.certificate?.chain[0].subject ?? '', /CN=localhost/);
      assert.match(e?.codeName ?? '', /^CRYPTO_ERROR\(/);
    });

    it('insecure mode goes on and still shows the failed verdict', async () => {
      const info = await manager.openSession({ target: `localhost:${server.info.port}`, insecure: true });
      const bs = await recorder.until(info.sessionId, 'established', (b) => lastState(b) === 'established');
      const hs = bs.filter((b) => b.handshake !== undefined).pop()?.handshake;
      assert.equal(hs?.verdict?.ok, false);
      assert.equal(hs?.verdict?.ignored, true);
      manager.closeSession(info.sessionId);
    });

    it('no common ALPN: error kind alpn', async () => {
      const info = await manager.openSession({
        target: `127.0.0.1:${server.info.port}`,
        alpn: 'not-a-protocol',
        insecure: true,
      });
      const bs = await recorder.until(info.sessionId, 'failed', (b) => lastState(b) === 'failed');
      assert.equal(errorOf(bs)?.kind, 'alpn', JSON.stringify(errorOf(bs)));
    });
  });

  it('removes a session: it closes unseen and leaves the list', async () => {
    const info = await manager.openSession({ target: 'local' });
    await recorder.until(info.sessionId, 'established', (b) => lastState(b) === 'established');
    const r = await dispatcher.dispatch('removeSession', { sessionId: info.sessionId });
    assert.ok(r.ok);
    const seen = recorder.of(info.sessionId).length;
    const list = await dispatcher.dispatch('listSessions', {});
    assert.ok(list.ok);
    assert.ok(
      !(list.value as { info: { sessionId: string } }[]).some((s) => s.info.sessionId === info.sessionId),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(recorder.of(info.sessionId).length, seen, 'no batch after removal');
  });

  it('remembers recent targets and lists presets', async () => {
    const recents = await dispatcher.dispatch('recentTargets', {});
    assert.ok(recents.ok);
    const list = recents.value as { options: { target: string } }[];
    assert.ok(list.length >= 3);
    assert.equal(list[0].options.target, 'local', 'newest first');
    assert.ok(list.some((r) => (r.options as { alpn?: string }).alpn === 'not-a-protocol'));
    const presets = await dispatcher.dispatch('listPresets', {});
    assert.ok(presets.ok);
    assert.ok((presets.value as { options: { target: string } }[]).some((p) => p.options.target === 'local'));
    const sessions = await dispatcher.dispatch('listSessions', {});
    assert.ok(sessions.ok && (sessions.value as unknown[]).length >= 5);
  });
});
