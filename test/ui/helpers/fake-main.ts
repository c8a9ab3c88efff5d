/**
 * A scripted stand-in for main/ in web mode, for the component tests: it serves renderer/dist with a
 * strict CSP and speaks the contract (main/ipc/contract.ts) over a WebSocket at /ws?token=…,
 * answering requests and sending batches it makes up. Each target name picks a scenario, so the
 * window can be checked against states a real server rarely produces (Retry, HelloRetryRequest, a
 * rejected chain, a peer's CONNECTION_CLOSE) deterministically.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, normalize, extname } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CONTRACT_VERSION,
  MAX_SERIES_POINTS,
  MAX_WINDOW_SERIES_POINTS,
  type ClientMessage,
  type QlogEvent,
  type RequestArgs,
  type RequestName,
  type RequestOutcome,
  type ServerMessage,
  type SessionBatch,
  type SessionInfo,
  type StreamRow,
  type H3RequestRow,
  type HandshakeInfo,
  type SessionError,
  type CertificateSummary,
  type SeriesData,
  type SeriesName,
  type SeriesPoint,
  type SeriesUpdate,
  type SessionSummary,
} from '../../../main/ipc/contract.ts';
import { applySeriesUpdate } from '../../../renderer/src/lib/series.ts';
import { mergeRequest, mergeStream } from '../../../renderer/src/store/store.ts';
import type { ConnectionStats } from '../../../core/connection/types.ts';

/** The CSP the fake serves: as strict as main/web's (no inline script or style, same-origin only). */
export const STRICT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DIST = join(import.meta.dirname, '..', '..', '..', 'renderer', 'dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Number of 1-RTT packets the "fake.test" scenario logs (enough to need virtualisation). */
export const FAKE_PACKETS = 6000;

const CHAIN: CertificateSummary[] = [
  {
    subject: 'CN=fake.test',
    issuer: 'CN=Fake Test CA',
    serial: '0a1b2c',
    sans: ['DNS:fake.test', 'IP:127.0.0.1'],
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2027-01-01T00:00:00Z',
    keyType: 'ec-p256',
    keyBits: 256,
    fingerprintSha256: 'AB:CD:EF',
    signatureAlgorithm: 'ecdsa-with-SHA256',
    isCA: false,
    selfIssued: false,
  },
  {
    subject: 'CN=Fake Test CA',
    issuer: 'CN=Fake Test CA',
    serial: '01',
    sans: [],
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2036-01-01T00:00:00Z',
    keyType: 'ec-p256',
    keyBits: 256,
    fingerprintSha256: '12:34:56',
    signatureAlgorithm: 'ecdsa-with-SHA256',
    isCA: true,
    selfIssued: true,
  },
];

function stats(over: Partial<ConnectionStats> = {}): ConnectionStats {
  return {
    packetsSent: 40,
    packetsReceived: FAKE_PACKETS,
    packetsLost: 1,
    packetsDropped: 0,
    bytesSent: 4000,
    bytesReceived: 7_000_000,
    bytesLost: 1200,
    streamBytesRetransmitted: 1100,
    probesSent: 0,
    cwnd: 120_000,
    bytesInFlight: 3000,
    ssthresh: null,
    minRtt: 0.4,
    smoothedRtt: 0.9,
    latestRtt: 0.8,
    rttVariance: 0.2,
    ptoCount: 0,
    handshakeDuration: 3.2,
    streamsOpenedLocal: 1,
    streamsOpenedRemote: 3,
    keyPhase: 0,
    keyUpdates: 0,
    pathChanges: 0,
    earlyData: 'none',
    retrySeen: true,
    version: 1,
    originalVersion: 1,
    versionNegotiationSeen: false,
    versionNegotiationIgnored: 0,
    compatibleVersionSwitch: false,
    congestionControl: 'cubic',
    pmtu: 1452,
    pmtudState: 'search_complete',
    pmtuProbesSent: 2,
    pmtuProbesLost: 0,
    pmtuBlackHoles: 0,
    datagramsSent: 0,
    datagramsReceived: 0,
    datagramsDropped: 0,
    ackEcnReceived: 0,
    ...over,
  } as ConnectionStats;
}

function packet(
  time: number,
  dir: 'sent' | 'received',
  type: string,
  pn: number | undefined,
  frames: unknown[],
): QlogEvent {
  return {
    time,
    name: dir === 'sent' ? 'quic:packet_sent' : 'quic:packet_received',
    data: {
      header: { packet_type: type, packet_number: pn },
      frames,
      raw: { length: type === '1RTT' ? 1252 : 1200 },
    },
  } as QlogEvent;
}

function tls(
  time: number,
  direction: 'sent' | 'received',
  level: string,
  type: string,
  length: number,
): QlogEvent {
  return {
    time,
    name: 'quicscope:tls_message',
    data: { direction, encryption_level: level, message_type: type, message_type_value: 0, raw: { length } },
  } as QlogEvent;
}

function handshakeInfo(done: boolean): HandshakeInfo {
  return {
    timeline: [
      { time: 0, label: 'Initial sent' },
      { time: 0.5, label: 'Retry received', detail: 'token 32 bytes' },
      { time: 1.2, label: 'HelloRetryRequest received', detail: 'group secp256r1' },
      ...(done ? [{ time: 3.2, label: 'handshake complete' }] : []),
    ],
    tlsMessages: [
      { time: 0, direction: 'sent', level: 'initial', type: 'client_hello', length: 280 },
      { time: 1.2, direction: 'received', level: 'initial', type: 'hello_retry_request', length: 88 },
      { time: 1.3, direction: 'sent', level: 'initial', type: 'client_hello', length: 310 },
      { time: 2.1, direction: 'received', level: 'initial', type: 'server_hello', length: 123 },
      { time: 2.2, direction: 'received', level: 'handshake', type: 'encrypted_extensions', length: 90 },
      { time: 2.3, direction: 'received', level: 'handshake', type: 'certificate', length: 800 },
      { time: 2.4, direction: 'received', level: 'handshake', type: 'certificate_verify', length: 79 },
      { time: 2.5, direction: 'received', level: 'handshake', type: 'finished', length: 36 },
      { time: 2.6, direction: 'sent', level: 'handshake', type: 'finished', length: 36 },
    ],
    version: '00000001',
    versionName: 'QUIC v1',
    versionNegotiation: null,
    cipher: 'TLS_AES_128_GCM_SHA256',
    group: 'secp256r1',
    alpn: 'h3',
    serverName: 'fake.test',
    resumed: false,
    transportParameters: {
      local: { initial_max_data: 1_048_576, max_idle_timeout: 30000, initial_source_connection_id: 'aabb' },
      remote: { initial_max_data: 2_097_152, max_idle_timeout: 10000, max_udp_payload_size: 1472 },
    },
    certificates: CHAIN,
    verdict: { ok: true },
  };
}

function streamRow(id: number, over: Partial<StreamRow> = {}): StreamRow {
  return {
    id,
    initiator: id % 2 === 0 ? 'local' : 'remote',
    direction: id & 2 ? 'uni' : 'bidi',
    kind: 'request',
    sendState: 'data_recvd' as StreamRow['sendState'],
    recvState: 'data_read' as StreamRow['recvState'],
    bytesSent: 40,
    bytesAcked: 40,
    bytesReceived: 7_000_000,
    sendCredit: 1_000_000,
    queued: 0,
    finSent: true,
    finReceived: true,
    resetSent: null,
    resetReceived: null,
    stopSent: null,
    stopReceived: null,
    received: null,
    ...over,
  };
}

function emptyBatch(
  sessionId: string,
  seq: number,
  time: number,
  state: SessionBatch['state'],
): SessionBatch {
  return {
    sessionId,
    seq,
    time,
    state,
    qlog: [],
    qlogSkipped: 0,
    series: {},
    streams: [],
    requests: [],
    datagrams: [],
    stats: null,
  };
}

/** The batches of the "fake.test" scenario: Retry, HRR, a handshake, then FAKE_PACKETS 1-RTT packets. */
function happyBatches(id: string): SessionBatch[] {
  const b0 = emptyBatch(id, 0, 1, 'handshaking');
  b0.qlog = [
    packet(0, 'sent', 'initial', 0, [
      { frame_type: 'crypto', offset: 0, raw: { length: 280 } },
      { frame_type: 'padding', raw: { payload_length: 900 } },
    ]),
    tls(0, 'sent', 'initial', 'client_hello', 280),
    {
      time: 0.5,
      name: 'quic:packet_received',
      data: { header: { packet_type: 'retry', token: { raw: { length: 32 } } }, raw: { length: 60 } },
    } as QlogEvent,
    packet(0.6, 'sent', 'initial', 1, [{ frame_type: 'crypto', offset: 0, raw: { length: 280 } }]),
    tls(1.2, 'received', 'initial', 'hello_retry_request', 88),
    packet(1.2, 'received', 'initial', 0, [
      { frame_type: 'ack', acked_ranges: [[1]] },
      { frame_type: 'crypto', offset: 0, raw: { length: 88 } },
    ]),
  ];
  b0.handshake = handshakeInfo(false);
  const b1 = emptyBatch(id, 1, 5, 'established');
  b1.qlog = [
    packet(2.1, 'received', 'handshake', 0, [{ frame_type: 'crypto', offset: 0, raw: { length: 1000 } }]),
    packet(2.6, 'sent', 'handshake', 0, [
      { frame_type: 'ack', acked_ranges: [[0]] },
      { frame_type: 'crypto', offset: 0, raw: { length: 36 } },
    ]),
    packet(3.0, 'sent', '0RTT', 0, [
      { frame_type: 'stream', stream_id: 0, offset: 0, raw: { length: 40 }, fin: true },
    ]),
    { time: 3.2, name: 'quic:connection_state_updated', data: { new: 'handshake_confirmed' } } as QlogEvent,
    packet(3.2, 'received', '1RTT', 0, [{ frame_type: 'handshake_done' }]),
  ];
  for (let i = 1; i <= FAKE_PACKETS; i++) {
    b1.qlog.push(
      packet(3.2 + i * 0.01, 'received', '1RTT', i, [
        { frame_type: 'stream', stream_id: 0, offset: (i - 1) * 1200, raw: { length: 1200 } },
      ]),
    );
  }
  b1.qlog.push({
    time: 70,
    name: 'quic:packet_lost',
    data: { header: { packet_type: '0RTT', packet_number: 0 } },
  } as QlogEvent);
  b1.handshake = handshakeInfo(true);
  const pts = (f: (i: number) => number) => ({
    reset: false,
    points: Array.from({ length: 50 }, (_, i): SeriesPoint => [i * 2, f(i)]),
  });
  b1.series = {
    cwnd: pts((i) => 12000 + i * 2000),
    bytes_in_flight: pts((i) => 3000 + (i % 5) * 1000),
    rtt_latest: pts((i) => 0.8 + (i % 3) * 0.1),
    rtt_smoothed: pts(() => 0.9),
    rtt_min: pts(() => 0.4),
    rtt_variance: pts(() => 0.2),
    packets_sent: pts((i) => i),
    packets_lost: pts((i) => (i > 30 ? 1 : 0)),
    packets_retransmitted: pts((i) => (i > 31 ? 1 : 0)),
    throughput_received: pts((i) => 1e6 * i),
    throughput_sent: pts((i) => 1e4 * i),
  };
  b1.streams = [
    streamRow(0),
    streamRow(3, { kind: 'control', direction: 'uni', sendState: null, finReceived: false }),
  ];
  b1.stats = stats();
  return [b0, b1];
}

function failure(id: string, error: SessionError): SessionBatch[] {
  const b = emptyBatch(id, 0, 2, 'failed');
  b.error = error;
  return [b];
}

/**
 * The "stream.test:SECONDS" scenario: a busy transfer, batches at 20/s for SECONDS seconds, each
 * with SNI (default 2500) 1-RTT packet events and a point per 10 ms appended to every series (a
 * series past MAX_WINDOW_SERIES_POINTS is thinned and sent whole), as main/ sends during a fast
 * download. For measuring the window's own cost.
 */
function streamBatches(id: string, seconds: number, perBatch: number, send: (b: SessionBatch) => void): void {
  let seq = 0;
  let pn = 0;
  const start = Date.now();
  const copies = new Map<string, SeriesPoint[]>();
  let lastT = 0;
  const series = (name: SeriesName, t: number, f: (x: number) => number) => {
    const copy = copies.get(name) ?? [];
    const points: SeriesPoint[] = [];
    for (let x = lastT + 10; x <= t; x += 10) points.push([x, f(x)]);
    copy.push(...points);
    if (copy.length <= MAX_WINDOW_SERIES_POINTS) {
      copies.set(name, copy);
      return { reset: false, points };
    }
    const every = copy.length / MAX_SERIES_POINTS;
    const thinned = Array.from({ length: MAX_SERIES_POINTS }, (_, i) => copy[Math.floor(i * every)]);
    copies.set(name, thinned);
    return { reset: true, points: thinned.slice() };
  };
  const timer = setInterval(() => {
    const t = Date.now() - start;
    const b = emptyBatch(id, seq++, t, t / 1000 >= seconds ? 'closed' : 'established');
    for (let i = 0; i < perBatch; i++) {
      const dir = i % 3 === 0 ? 'sent' : 'received';
      b.qlog.push(
        packet(
          t,
          dir,
          '1RTT',
          pn++,
          dir === 'sent'
            ? [{ frame_type: 'ack', acked_ranges: [[pn - 10, pn - 1]], ack_delay: 0.1 }]
            : [{ frame_type: 'stream', stream_id: 0, offset: pn * 1200, raw: { length: 1200 } }],
        ),
      );
    }
    const tt = Math.floor(t / 10) * 10;
    const update: SeriesUpdate = {
      cwnd: series('cwnd', tt, (x) => 50_000 + ((x * 37) % 90_000)),
      bytes_in_flight: series('bytes_in_flight', tt, (x) => 20_000 + ((x * 53) % 60_000)),
      ssthresh: series('ssthresh', tt, () => 80_000),
      rtt_latest: series('rtt_latest', tt, (x) => 1 + ((x * 7) % 13) / 10),
      rtt_smoothed: series('rtt_smoothed', tt, (x) => 1.5 + ((x * 3) % 5) / 10),
      rtt_min: series('rtt_min', tt, () => 0.8),
      rtt_variance: series('rtt_variance', tt, (x) => 0.2 + ((x * 11) % 3) / 10),
      packets_sent: series('packets_sent', tt, (x) => x * 30),
      packets_lost: series('packets_lost', tt, (x) => Math.floor(x / 500)),
      packets_retransmitted: series('packets_retransmitted', tt, (x) => Math.floor(x / 600)),
      throughput_sent: series('throughput_sent', tt, (x) => 1e6 + ((x * 13) % 7) * 1e5),
      throughput_received: series('throughput_received', tt, (x) => 4e8 + ((x * 17) % 9) * 1e7),
    };
    lastT = Math.max(lastT, tt);
    b.series = update;
    b.stats = stats({ bytesReceived: pn * 800 });
    send(b);
    if (t / 1000 >= seconds) clearInterval(timer);
  }, 50);
}

type Handler = (args: never) => unknown;

/** A running fake main/: its URL (with the token) and how to stop it. */
export interface FakeMain {
  url: string;
  token: string;
  /** Requests received, in order (method names). */
  calls: string[];
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 (a random port). */
export async function startFakeMain(): Promise<FakeMain> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('renderer/dist is not built');
  const token = 'fake-token-0123456789';
  const calls: string[] = [];
  const sockets = new Set<WebSocket>();
  const sessions = new Map<string, SessionInfo>();
  let nextSession = 1;
  let nextRequest = 1;
  const seqs = new Map<string, number>();

  /** Each session as the batches sent so far make it: what `sessionSnapshot` answers. */
  const folded = new Map<
    string,
    {
      last: SessionBatch;
      series: SeriesData;
      streams: Map<number, StreamRow>;
      requests: Map<number, H3RequestRow>;
    }
  >();
  const broadcast = (batch: SessionBatch) => {
    let f = folded.get(batch.sessionId);
    if (f === undefined)
      folded.set(batch.sessionId, (f = { last: batch, series: {}, streams: new Map(), requests: new Map() }));
    f.series = applySeriesUpdate(f.series, batch.series);
    for (const r of batch.streams) f.streams.set(r.id, mergeStream(f.streams.get(r.id), r));
    for (const r of batch.requests) f.requests.set(r.requestId, mergeRequest(f.requests.get(r.requestId), r));
    f.last = {
      ...batch,
      handshake: batch.handshake ?? f.last.handshake,
      error: batch.error ?? f.last.error,
      stats: batch.stats ?? f.last.stats,
    };
    const msg: ServerMessage = { type: 'batch', batch };
    for (const ws of sockets) ws.send(JSON.stringify(msg));
  };
  const snapshot = (id: string): SessionBatch => {
    const f = folded.get(id);
    if (f === undefined) return { ...emptyBatch(id, -1, 0, 'connecting'), snapshot: true };
    const series: SeriesUpdate = {};
    for (const [name, points] of Object.entries(f.series))
      series[name as SeriesName] = { reset: true, points };
    const snap: SessionBatch = {
      ...f.last,
      qlog: [],
      qlogSkipped: 0,
      datagrams: [],
      series,
      streams: [...f.streams.values()],
      requests: [...f.requests.values()],
      snapshot: true,
    };
    if (snap.error === undefined) delete snap.error;
    if (snap.handshake === undefined) delete snap.handshake;
    return snap;
  };
  const later = (batches: SessionBatch[]) => {
    batches.forEach((b, i) => setTimeout(() => broadcast(b), 30 + i * 60));
    const last = batches[batches.length - 1];
    seqs.set(last.sessionId, last.seq + 1);
  };
  const nextBatch = (id: string, state: SessionBatch['state']): SessionBatch => {
    const seq = seqs.get(id) ?? 0;
    seqs.set(id, seq + 1);
    return emptyBatch(id, seq, 10 + seq, state);
  };
  const fail = (kind: string, message: string) => {
    throw Object.assign(new Error(message), { kind });
  };

  const handlers: Partial<Record<RequestName, Handler>> = {
    appInfo: () => ({
      contractVersion: CONTRACT_VERSION,
      appVersion: '0.1.0-fake',
      transport: 'web',
      features: { datagrams: true, keyUpdate: true, migration: false },
    }),
    listPresets: () => [
      {
        name: 'quic.tech',
        description: 'Cloudflare quiche test server',
        options: { target: 'quic.tech:8443' },
      },
      { name: 'Local server', description: 'quicscope serve on 127.0.0.1', options: { target: 'local' } },
    ],
    recentTargets: () => [
      { options: { target: 'fake.test:4433', alpn: 'h3' }, lastUsed: Date.UTC(2026, 10, 1) },
    ],
    listSessions: () =>
      [...sessions.values()].map((info): SessionSummary => ({
        info,
        state: folded.get(info.sessionId)?.last.state ?? 'connecting',
        error: folded.get(info.sessionId)?.last.error ?? null,
      })),
    sessionSnapshot: ({ sessionId }: RequestArgs<'sessionSnapshot'>) => {
      if (!sessions.has(sessionId)) fail('not_found', `no session ${sessionId}`);
      return snapshot(sessionId);
    },
    startLocalServer: () => ({
      host: '127.0.0.1',
      port: 4433,
      target: 'fake.test:4433',
      spki: 'x',
      alpns: ['h3', 'echo'],
    }),
    openSession: ({ options }: RequestArgs<'openSession'>) => {
      const target = options.target;
      if (target === '') fail('bad_request', 'empty target');
      const [host, port = '443'] = target.split(':');
      const sessionId = `s${nextSession++}`;
      const info: SessionInfo = {
        sessionId,
        options: {
          target,
          sni: options.sni ?? host,
          alpn: options.alpn ?? 'h3',
          version: options.version ?? 'v1',
          insecure: options.insecure ?? false,
          congestionControl: options.congestionControl ?? 'cubic',
          datagrams: options.datagrams ?? true,
          handshakeTimeout: options.handshakeTimeout ?? 10000,
          idleTimeout: options.idleTimeout ?? 30000,
          caFile: null,
        },
        host,
        port: Number(port),
        path: '/',
        startedAt: Date.now(),
        localServer: false,
      };
      sessions.set(sessionId, info);
      if (host === 'nxdomain.invalid') {
        later(failure(sessionId, { kind: 'dns', message: `${host}: ENOTFOUND (no such host)` }));
      } else if (host === 'badcert.test') {
        later(
          failure(sessionId, {
            kind: 'certificate',
            message: 'the server certificate was rejected: unknown_ca',
            code: 0x130,
            codeName: 'CRYPTO_ERROR(unknown_ca)',
            application: false,
            certificate: {
              verdict: { ok: false, reason: 'unknown_ca', message: 'no trust anchor for CN=Fake Test CA' },
              chain: CHAIN,
            },
          }),
        );
      } else if (host === 'close.test') {
        later(
          failure(sessionId, {
            kind: 'peer_close',
            message: 'the peer closed the connection',
            code: 0x101,
            codeName: 'H3_GENERAL_PROTOCOL_ERROR',
            reason: 'bad frame on control stream',
            application: true,
          }),
        );
      } else if (host === 'stream.test') {
        streamBatches(sessionId, Number(port), Number(options.sni ?? 2500), broadcast);
      } else later(happyBatches(sessionId));
      return info;
    },
    h3Request: ({ sessionId, request }: RequestArgs<'h3Request'>) => {
      const requestId = nextRequest++;
      const streamId = 4 * requestId;
      const body = `<html>fake body of ${request.path}</html>`;
      const hex = Buffer.from(body).toString('hex');
      const row: H3RequestRow = {
        requestId,
        streamId,
        method: request.method,
        path: request.path,
        sentAt: 10,
        headersAt: 11,
        completedAt: 12,
        state: 'complete',
        status: 200,
        headers: [
          [':status', '200'],
          ['content-type', 'text/html'],
        ],
        body: { size: body.length, hex, text: body, truncated: false },
        error: null,
      };
      const b = nextBatch(sessionId, 'established');
      // As main/ sends it (contract v3): the body's bytes appended, the window decodes the text.
      b.requests = [{ ...row, body: { size: body.length, appendAt: 0, hex } }];
      setTimeout(() => broadcast(b), 20);
      return { requestId, streamId };
    },
    openStream: () => ({ streamId: 8 }),
    sendStream: ({ data }: RequestArgs<'sendStream'>) => ({ bytes: data.data.length }),
    sendDatagram: ({ data }: RequestArgs<'sendDatagram'>) => ({ bytes: data.data.length }),
    keyUpdate: () => ({ initiated: true }),
    migrate: () => fail('unsupported', 'migration is not available in this build'),
    closeSession: ({ sessionId }: RequestArgs<'closeSession'>) => {
      const b = nextBatch(sessionId, 'closed');
      setTimeout(() => broadcast(b), 10);
      return null;
    },
    removeSession: ({ sessionId }: RequestArgs<'removeSession'>) => {
      sessions.delete(sessionId);
      return null;
    },
    exportSession: ({ kind }: RequestArgs<'exportSession'>) => {
      const text = kind === 'qlog' ? '\u001e{"qlog_version":"0.4"}\n' : `fake ${kind}\n`;
      return {
        fileName: `fake.${kind === 'qlog' ? 'sqlog' : kind}`,
        mimeType: 'application/octet-stream',
        size: text.length,
        bytes: Buffer.from(text).toString('base64'),
        savedPath: null,
        canceled: false,
      };
    },
  };

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (path === '/index.html' && url.searchParams.get('token') !== token) {
      res.writeHead(403).end('token required');
      return;
    }
    const file = normalize(join(DIST, path));
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': STRICT_CSP,
      'x-content-type-options': 'nosniff',
    });
    res.end(readFileSync(file));
  };

  const server: Server = createServer(serve);
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws' || url.searchParams.get('token') !== token) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'hello', contractVersion: CONTRACT_VERSION } satisfies ServerMessage));
      ws.on('message', (raw) => {
        const msg = JSON.parse(String(raw)) as ClientMessage;
        calls.push(msg.method);
        let outcome: RequestOutcome;
        try {
          const h = handlers[msg.method];
          if (h === undefined)
            throw Object.assign(new Error(`${msg.method} not scripted`), { kind: 'unsupported' });
          outcome = { ok: true, value: h(msg.args as never) as never };
        } catch (e) {
          const err = e as Error & { kind?: string };
          outcome = {
            ok: false,
            error: { kind: (err.kind ?? 'internal') as 'internal', message: err.message },
          };
        }
        ws.send(JSON.stringify({ type: 'result', id: msg.id, outcome } satisfies ServerMessage));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    calls,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
