// Unit tests of the session manager's pure parts: LTTB downsampling, the series store and its deltas,
// target parsing, payloads and previews, the classification of how a session ended, and the
// aggregate's reading of qlog events (stream states, HelloRetryRequest, retransmissions).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lttb } from '../../main/session/lttb.ts';
import { MIN_DELTA_POINTS, SeriesStore } from '../../main/session/series.ts';
import { applySeriesUpdate } from '../../renderer/src/lib/series.ts';
import { parseTarget, authorityOf } from '../../main/session/target.ts';
import { decodePayload, PreviewBuffer, previewOf } from '../../main/session/payload.ts';
import { closeFailure, endpointFailure, RequestFailure } from '../../main/session/failure.ts';
import type { FailureContext } from '../../main/session/failure.ts';
import { SessionAggregate, versionName } from '../../main/session/aggregate.ts';
import { EndpointError } from '../../main/endpoint/errors.ts';
import type { SeriesData, SeriesPoint } from '../../main/ipc/contract.ts';
import type { AnyTraceEvent } from '../../core/trace/index.ts';

describe('LTTB downsampling (Steinarsson 2013)', () => {
  it('picks the largest triangle in each bucket (hand-computed vector)', () => {
    const points: SeriesPoint[] = [
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 5],
      [4, 0],
      [5, 1],
      [6, 0],
    ];
    assert.deepEqual(lttb(points, 4), [
      [0, 0],
      [2, 0],
      [3, 5],
      [6, 0],
    ]);
  });

  it('returns a short series unchanged', () => {
    const points: SeriesPoint[] = [
      [0, 1],
      [1, 2],
    ];
    assert.equal(lttb(points, 10), points);
  });

  it('keeps first and last only for thresholds 2 and below', () => {
    const points: SeriesPoint[] = [
      [0, 1],
      [1, 9],
      [2, 3],
    ];
    assert.deepEqual(lttb(points, 2), [
      [0, 1],
      [2, 3],
    ]);
    assert.deepEqual(lttb(points, 1), [[0, 1]]);
    assert.deepEqual(lttb(points, 0), []);
    assert.throws(() => lttb(points, -1), RangeError);
  });

  it('keeps an isolated spike of a long flat series', () => {
    const points: SeriesPoint[] = Array.from({ length: 10_000 }, (_, i) => [i, i === 6_543 ? 1000 : 0]);
    const out = lttb(points, 100);
    assert.equal(out.length, 100);
    assert.ok(out.some(([t, v]) => t === 6_543 && v === 1000));
  });

  it('property: threshold points, ordered subset of the input, ends kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 400 }),
        fc.integer({ min: 3, max: 500 }),
        (values, threshold) => {
          const points: SeriesPoint[] = values.map((v, i) => [i * 1.5, v]);
          const out = lttb(points, threshold);
          assert.equal(out.length, Math.min(points.length, threshold));
          assert.equal(out[0], points[0]);
          assert.equal(out[out.length - 1], points[points.length - 1]);
          let last = -1;
          for (const p of out) {
            const i = points.indexOf(p);
            assert.ok(i > last, 'points come from the input, in order, once each');
            last = i;
          }
        },
      ),
    );
  });
});

describe('chart series store: deltas to the window, downsampled with LTTB', () => {
  /** The window's side: the renderer's rule, applied to every take() in turn. */
  const follow = (store: SeriesStore, window: SeriesData = {}): SeriesData =>
    applySeriesUpdate(window, store.take());

  it('keeps only the changes of a step series and replaces a point at the same time', () => {
    const s = new SeriesStore();
    s.add('cwnd', 0, 12000);
    s.add('cwnd', 1, 12000);
    s.add('cwnd', 2, 13200);
    s.add('cwnd', 2, 14400);
    assert.deepEqual(s.take().cwnd, {
      reset: false,
      points: [
        [0, 12000],
        [2, 14400],
      ],
    });
    assert.deepEqual(s.take(), {}, 'nothing changed since');
  });

  it('sends only the new points; a value restated at the last time replaces it in the window', () => {
    const s = new SeriesStore();
    s.add('rtt_latest', 1, 10, false);
    s.add('rtt_latest', 2, 11, false);
    let w = follow(s);
    s.add('rtt_latest', 2, 12, false); // the same instant, a newer value
    s.add('rtt_latest', 3, 13, false);
    const d = s.take();
    assert.deepEqual(d.rtt_latest, {
      reset: false,
      points: [
        [2, 12],
        [3, 13],
      ],
    });
    w = applySeriesUpdate(w, d);
    assert.deepEqual(w.rtt_latest, [
      [1, 10],
      [2, 12],
      [3, 13],
    ]);
    assert.deepEqual(s.snapshot().rtt_latest, { reset: true, points: w.rtt_latest });
  });

  it('rounds times and values to 1/1000', () => {
    const s = new SeriesStore();
    s.add('rtt_smoothed', 1.23456789, 0.98765432);
    assert.deepEqual(s.take().rtt_smoothed?.points, [[1.235, 0.988]]);
  });

  it('thins a burst to the chart’s share of the time span, keeping its first and last points', () => {
    const s = new SeriesStore(20_000, 50, 100);
    for (let i = 0; i <= 1000; i++) s.add('bytes_in_flight', i, i % 7, false);
    follow(s);
    // 10 more ms after 1000 ms: 2 x 50 x 10/1010 → at least MIN_DELTA_POINTS.
    for (let i = 1; i <= 100; i++) s.add('bytes_in_flight', 1000 + i / 10, i % 5, false);
    const d = s.take().bytes_in_flight;
    assert.equal(d?.reset, false);
    assert.equal(d?.points.length, MIN_DELTA_POINTS);
    assert.deepEqual(d?.points[0], [1000.1, 1]);
    assert.deepEqual(d?.points[MIN_DELTA_POINTS - 1], [1010, 0]);
  });

  it('downsamples the window’s copy past its bound and sends it whole (reset)', () => {
    const s = new SeriesStore(20_000, 50, 100);
    let w: SeriesData = {};
    let resets = 0;
    for (let step = 0; step < 40; step++) {
      for (let i = 0; i < 10; i++) s.add('rtt_latest', step * 10 + i, Math.sin(step + i), false);
      const d = s.take();
      if (d.rtt_latest?.reset === true) {
        resets++;
        assert.equal(d.rtt_latest.points.length, 50);
      }
      w = applySeriesUpdate(w, d);
      assert.ok((w.rtt_latest?.length ?? 0) <= 100);
    }
    assert.ok(resets >= 2, `resets: ${resets}`);
    assert.deepEqual(s.snapshot().rtt_latest?.points, w.rtt_latest);
  });

  it('property: the window that applies every delta holds exactly the snapshot', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.record({
              dt: fc.integer({ min: 0, max: 50 }),
              v: fc.integer({ min: 0, max: 20 }),
              name: fc.constantFrom('cwnd', 'rtt_latest'),
            }),
            { maxLength: 60 },
          ),
          { maxLength: 30 },
        ),
        (rounds) => {
          const s = new SeriesStore(200, 20, 40);
          const t: Record<string, number> = { cwnd: 0, rtt_latest: 0 };
          let w: SeriesData = {};
          for (const round of rounds) {
            for (const p of round) {
              t[p.name] += p.dt;
              s.add(p.name as 'cwnd' | 'rtt_latest', t[p.name], p.v, p.name === 'cwnd');
            }
            w = applySeriesUpdate(w, s.take());
          }
          const snap = applySeriesUpdate({}, s.snapshot());
          assert.deepEqual(w, snap);
          for (const pts of Object.values(w)) {
            assert.ok(pts.length <= 40);
            for (let i = 1; i < pts.length; i++) assert.ok(pts[i][0] > pts[i - 1][0], 'times increase');
          }
        },
      ),
    );
  });

  it('bounds raw memory by compacting with LTTB; the export downsamples to maxOut points', () => {
    const s = new SeriesStore(1000, 50);
    for (let i = 0; i < 5000; i++) s.add('rtt_latest', i, Math.sin(i / 10), false);
    const out = s.all().rtt_latest as SeriesPoint[];
    assert.equal(out.length, 50);
    assert.equal(out[0][0], 0);
    assert.equal(out[out.length - 1][0], 4999);
  });

  it('ignores non-finite values', () => {
    const s = new SeriesStore();
    s.add('ssthresh', 0, Infinity);
    assert.equal(s.last('ssthresh'), null);
    assert.deepEqual(s.take(), {});
  });
});

describe('targets', () => {
  const cases: [string, { host: string; port: number; path: string }][] = [
    ['https://quic.tech:4433/index.html?x=1', { host: 'quic.tech', port: 4433, path: '/index.html?x=1' }],
    ['https://cloudflare-quic.com', { host: 'cloudflare-quic.com', port: 443, path: '/' }],
    ['https://[::1]:8443/', { host: '::1', port: 8443, path: '/' }],
    ['127.0.0.1:4433', { host: '127.0.0.1', port: 4433, path: '/' }],
    ['Example.COM', { host: 'example.com', port: 443, path: '/' }],
    ['[::1]:99', { host: '::1', port: 99, path: '/' }],
    ['::1', { host: '::1', port: 443, path: '/' }],
    ['localhost:4433/page.html', { host: 'localhost', port: 4433, path: '/page.html' }],
  ];
  for (const [text, want] of cases) it(`parses ${text}`, () => assert.deepEqual(parseTarget(text), want));

  for (const bad of ['', 'http://example.com/', 'host:0', 'host:70000', 'a b:1', '[1.2.3.4]:5', 'host:12x'])
    it(`refuses ${JSON.stringify(bad)} with bad_request`, () => {
      assert.throws(
        () => parseTarget(bad),
        (e: unknown) => e instanceof RequestFailure && e.kind === 'bad_request',
      );
    });

  it('writes :authority with brackets for IPv6 and without the default port (RFC 9114 §4.3.1)', () => {
    assert.equal(authorityOf('::1', 4433), '[::1]:4433');
    assert.equal(authorityOf('example.com', 443), 'example.com');
  });
});

describe('payloads and previews', () => {
  it('decodes text as UTF-8 and hex with separators', () => {
    assert.deepEqual(decodePayload({ encoding: 'text', data: 'hé' }), Uint8Array.of(0x68, 0xc3, 0xa9));
    assert.deepEqual(decodePayload({ encoding: 'hex', data: '0x00 ff:10' }), Uint8Array.of(0, 255, 16));
  });

  it('refuses odd or non-hex digits', () => {
    for (const data of ['abc', 'zz'])
      assert.throws(
        () => decodePayload({ encoding: 'hex', data }),
        (e: unknown) => e instanceof RequestFailure && e.kind === 'bad_request',
      );
  });

  it('keeps the first bytes only and counts the rest', () => {
    const p = new PreviewBuffer(10);
    p.push(new TextEncoder().encode('hello '));
    p.push(new TextEncoder().encode('world, and more'));
    assert.deepEqual(p.preview(), {
      size: 21,
      hex: '68656c6c6f20776f726c',
      text: 'hello worl',
      truncated: true,
    });
  });

  it('shows text cut inside a UTF-8 sequence, and null text for binary', () => {
    const euro = new TextEncoder().encode('a€'); // 61 e2 82 ac
    assert.equal(previewOf(euro.subarray(0, 3), 4).text, 'a');
    assert.equal(previewOf(Uint8Array.of(0xff, 0xfe)).text, null);
  });
});

describe('why a session ended', () => {
  const ctx: FailureContext = { alpn: 'h3', verdict: null, chain: [], closeTrigger: null, established: true };
  const info = (over: Partial<Parameters<typeof closeFailure>[0]>) => ({
    local: null,
    peer: null,
    timedOut: false,
    error: null,
    ...over,
  });

  it('a clean close is no error', () => {
    assert.equal(closeFailure(info({ peer: { isApp: true, code: 0x100, reason: '' } }), ctx), null);
    assert.equal(closeFailure(info({ local: { isApp: false, code: 0, reason: 'bye' } }), ctx), null);
  });

  it('peer CONNECTION_CLOSE: H3 code name and reason (RFC 9114 §8.1)', () => {
    const e = closeFailure(info({ peer: { isApp: true, code: 0x101, reason: 'bad frame' } }), ctx);
    assert.equal(e?.kind, 'peer_close');
    assert.equal(e?.codeName, 'H3_GENERAL_PROTOCOL_ERROR');
    assert.equal(e?.reason, 'bad frame');
    assert.equal(e?.application, true);
  });

  it('peer transport error by its RFC 9000 §20.1 name', () => {
    const e = closeFailure(info({ peer: { isApp: false, code: 0x0a, reason: '' } }), ctx);
    assert.equal(e?.kind, 'peer_close');
    assert.equal(e?.codeName, 'PROTOCOL_VIOLATION');
  });

  it('our certificate alert: certificate, with the verdict and chain (RFC 9001 §4.8)', () => {
    const verdict = { ok: false, reason: 'unknown_ca', message: 'no trust anchor' };
    const e = closeFailure(info({ local: { isApp: false, code: 0x100 + 48, reason: 'unknown CA' } }), {
      ...ctx,
      verdict,
      established: false,
    });
    assert.equal(e?.kind, 'certificate');
    assert.equal(e?.codeName, 'CRYPTO_ERROR(unknown_ca)');
    assert.deepEqual(e?.certificate?.verdict, verdict);
  });

  it('no common ALPN and no common version', () => {
    assert.equal(
      closeFailure(info({ peer: { isApp: false, code: 0x100 + 120, reason: '' } }), ctx)?.kind,
      'alpn',
    );
    assert.equal(
      closeFailure(info({ local: { isApp: false, code: 0x11, reason: 'no common QUIC version' } }), ctx)
        ?.kind,
      'version',
    );
  });

  it('idle timeout after the handshake, timeout before it, stateless reset', () => {
    assert.equal(closeFailure(info({ timedOut: true }), ctx)?.kind, 'idle_timeout');
    assert.equal(closeFailure(info({ timedOut: true }), { ...ctx, established: false })?.kind, 'timeout');
    const reset = info({ peer: { isApp: false, code: 0, reason: 'stateless reset' } });
    assert.equal(closeFailure(reset, { ...ctx, closeTrigger: 'stateless_reset' })?.kind, 'stateless_reset');
  });

  it('endpoint errors: dns, refused, timeout', () => {
    assert.equal(endpointFailure(new EndpointError('dns_failure', 'x'), ctx).kind, 'dns');
    assert.equal(endpointFailure(new EndpointError('refused', 'x'), ctx).kind, 'refused');
    assert.equal(endpointFailure(new EndpointError('handshake_timeout', 'x'), ctx).kind, 'timeout');
  });
});

describe('the aggregate reads qlog events', () => {
  const ev = (time: number, name: string, data: unknown) => ({ time, name, data }) as AnyTraceEvent;

  it('RFC 9000 §3 stream states from stream_state_updated; destroyed keeps the terminal state', () => {
    const a = new SessionAggregate({ origin: 1000, h3: false });
    a.onEvent(ev(1001, 'quic:stream_state_updated', { stream_id: 4, new: 'send', stream_side: 'sending' }));
    a.onEvent(
      ev(1002, 'quic:stream_state_updated', { stream_id: 4, new: 'data_received', stream_side: 'sending' }),
    );
    a.onEvent(
      ev(1003, 'quic:stream_state_updated', { stream_id: 4, new: 'destroyed', stream_side: 'sending' }),
    );
    const [row] = a.takeRows();
    assert.equal(row.id, 4);
    assert.equal(row.initiator, 'local');
    assert.equal(row.direction, 'bidi');
    assert.equal(row.sendState, 'data_received');
    assert.equal(row.finSent, true);
    assert.deepEqual(a.takeRows(), []);
  });

  it('copies Connection.streamStats counters into the row; a snapshot lists every row', () => {
    const a = new SessionAggregate({ origin: 0, h3: false });
    const stats = {
      id: 0,
      send: {
        state: 'send' as const,
        bytesWritten: 10,
        bytesSent: 8,
        bytesAcked: 4,
        bytesRetransmitted: 0,
        credit: 100,
        finSent: false,
        resetCode: null,
        stopSendingCode: 5,
      },
      recv: {
        state: 'reset_received' as const,
        bytesReceived: 3,
        bytesRead: 3,
        finalSize: 3,
        finReceived: false,
        resetCode: 9,
        stopCode: null,
      },
    };
    assert.equal(a.refreshRow(stats), true);
    assert.equal(a.refreshRow(stats), false, 'nothing moved since');
    const [row] = a.takeRows();
    assert.deepEqual(
      [row.bytesSent, row.bytesAcked, row.sendCredit, row.stopReceived, row.bytesReceived, row.resetReceived],
      [8, 4, 100, 5, 3, 9],
    );
    a.row(3);
    assert.deepEqual(
      a.snapshotRows().map((r) => r.id),
      [0, 3],
    );
    assert.deepEqual(
      a.takeRows().map((r) => r.id),
      [3],
      'a snapshot does not consume changes',
    );
  });

  it('server-initiated unidirectional streams have no sending part (RFC 9000 §2.1)', () => {
    const a = new SessionAggregate({ origin: 0, h3: true });
    const row = a.row(3);
    assert.equal(row.initiator, 'remote');
    assert.equal(row.direction, 'uni');
    assert.equal(row.sendState, null);
    a.onEvent(ev(1, 'http3:stream_type_set', { stream_id: 3, stream_type: 'control', initiator: 'remote' }));
    assert.equal(a.takeRows()[0].kind, 'control');
  });

  it('marks a HelloRetryRequest when a second ClientHello is sent (RFC 8446 §4.1.4)', () => {
    const a = new SessionAggregate({ origin: 0, h3: true });
    const tls = (direction: string, type: string) => ({
      direction,
      encryption_level: 'initial',
      message_type: type,
      message_type_value: 1,
      raw: { length: 100 },
    });
    a.onEvent(ev(1, 'quicscope:tls_message', tls('sent', 'client_hello')));
    a.onEvent(ev(2, 'quicscope:tls_message', tls('received', 'server_hello')));
    a.onEvent(ev(3, 'quicscope:tls_message', tls('sent', 'client_hello')));
    const hs = a.takeHandshake();
    assert.deepEqual(
      hs?.tlsMessages.map((m) => m.type),
      ['client_hello', 'hello_retry_request', 'client_hello'],
    );
    assert.ok(hs?.timeline.some((t) => t.label === 'HelloRetryRequest received'));
  });

  it('counts packets that resend stream data as retransmissions', () => {
    const a = new SessionAggregate({ origin: 0, h3: false });
    const sent = (offset: number) => ({
      header: { packet_type: '1RTT' },
      frames: [{ frame_type: 'stream', stream_id: 0, offset, raw: { length: 100 } }],
    });
    a.onEvent(ev(1, 'quic:packet_sent', sent(0)));
    a.onEvent(ev(2, 'quic:packet_sent', sent(100)));
    a.onEvent(ev(3, 'quic:packet_sent', sent(0)));
    assert.equal(a.packetsRetransmitted, 1);
  });

  it('names QUIC versions (RFC 9000, RFC 9369) and greasing ones', () => {
    assert.equal(versionName('00000001'), 'QUIC v1');
    assert.equal(versionName('6b3343cf'), 'QUIC v2');
    assert.equal(versionName('1a2a3a4a'), 'reserved (greasing)');
    assert.equal(versionName('ff00001d'), null);
  });
});
