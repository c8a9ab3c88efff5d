// The window's logic that needs no DOM, in Node: qlog packet rows and labels, the bounded packet
// log, how batches fold into a session view, chart data (merging, bucketing, the variance band,
// ticks), formatting and input parsing, and error normalisation across the Electron bridge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { H3RequestRow, QlogEvent, SessionBatch, SessionInfo } from '../../main/ipc/contract.ts';
import { BridgeError } from '../../main/ipc/contract.ts';
import { PacketLog, MAX_PACKETS } from '../../renderer/src/store/packet-log.ts';
import {
  mergeRequest,
  needsSnapshot,
  newView,
  reduceBatch,
  type SessionView,
} from '../../renderer/src/store/store.ts';
import {
  emptyMarkers,
  frameLabel,
  framesSummary,
  packetRow,
  updateMarkers,
} from '../../renderer/src/lib/qlog.ts';
import {
  addVarianceBand,
  applySeriesUpdate,
  byteTicks,
  mergeSeries,
  niceTicks,
  valueAt,
} from '../../renderer/src/lib/series.ts';
import {
  formatBits,
  formatBytes,
  formatCount,
  isHexPayload,
  parseHeaderLines,
  tlsMessageName,
  versionLabel,
} from '../../renderer/src/lib/format.ts';
import { toBridgeError } from '../../renderer/src/bridge/errors.ts';

function pkt(
  time: number,
  dir: 'sent' | 'received',
  type: string,
  pn: number,
  frames: unknown[] = [],
): QlogEvent {
  return {
    time,
    name: dir === 'sent' ? 'quic:packet_sent' : 'quic:packet_received',
    data: { header: { packet_type: type, packet_number: pn }, frames, raw: { length: 1200 } },
  } as QlogEvent;
}

function lost(type: string, pn: number): QlogEvent {
  return {
    time: 0,
    name: 'quic:packet_lost',
    data: { header: { packet_type: type, packet_number: pn } },
  } as QlogEvent;
}

describe('qlog packet events as packet log rows (quic-events-13 §5.5, §5.6)', () => {
  it('flattens packet_sent and packet_received; ignores other events', () => {
    const row = packetRow(pkt(1.5, 'sent', 'initial', 3, [{ frame_type: 'ping' }]), 7);
    assert.deepEqual(row, {
      index: 7,
      time: 1.5,
      direction: 'sent',
      type: 'initial',
      pn: 3,
      size: 1200,
      frames: [{ frame_type: 'ping' }],
      versions: undefined,
      trigger: undefined,
      lost: false,
    });
    assert.equal(packetRow({ time: 0, name: 'quic:mtu_updated', data: { new: 1400 } }, 0), null);
  });

  it('labels frames as RFC 9000 §19 names them', () => {
    assert.equal(
      frameLabel({ frame_type: 'stream', stream_id: 4, offset: 10, raw: { length: 5 }, fin: true }),
      'STREAM 4 off=10 len=5 FIN',
    );
    assert.equal(
      frameLabel({ frame_type: 'ack', acked_ranges: [[0, 3], [5]], ack_delay: 0.25 }),
      'ACK 0–3, 5 delay=0.25ms',
    );
    assert.equal(
      frameLabel({
        frame_type: 'connection_close',
        error_space: 'application',
        error: 'unknown',
        error_code: 0x101,
        reason: 'bye',
      }),
      'CONNECTION_CLOSE unknown (0x101) "bye"',
    );
    assert.equal(
      framesSummary([{ frame_type: 'ping' }, { frame_type: 'padding' }, { frame_type: 'padding' }]),
      'PING PADDING×2',
    );
  });

  it('marks Retry, Version Negotiation, HelloRetryRequest, 0-RTT and handshake confirmation', () => {
    const m = emptyMarkers();
    assert.ok(
      updateMarkers(m, { time: 1, name: 'quic:packet_received', data: { header: { packet_type: 'retry' } } }),
    );
    assert.ok(
      !updateMarkers(m, {
        time: 2,
        name: 'quic:packet_received',
        data: { header: { packet_type: 'retry' } },
      }),
    );
    assert.ok(updateMarkers(m, pkt(3, 'sent', '0RTT', 0)));
    assert.ok(
      updateMarkers(m, {
        time: 4,
        name: 'quicscope:tls_message',
        data: {
          direction: 'received',
          encryption_level: 'initial',
          message_type: 'hello_retry_request' as 'server_hello',
          message_type_value: 2,
          raw: {},
        },
      }),
    );
    assert.ok(
      updateMarkers(m, {
        time: 9,
        name: 'quic:connection_state_updated',
        data: { new: 'handshake_confirmed' },
      }),
    );
    assert.deepEqual(
      [m.retry, m.zeroRttSent, m.helloRetryRequest, m.versionNegotiation, m.handshakeConfirmedAt],
      [true, true, true, false, 9],
    );
  });
});

describe('the packet log', () => {
  it('RFC 9002 §6.1: marks the sent packet a packet_lost names, per packet number space', () => {
    const log = new PacketLog();
    for (let pn = 0; pn < 10; pn++) log.add(pkt(pn, 'sent', '1RTT', pn));
    log.add(pkt(10, 'sent', 'handshake', 4));
    log.add(pkt(11, 'received', '1RTT', 4));
    assert.ok(log.add(lost('handshake', 4)));
    assert.ok(log.rows[10].lost);
    assert.ok(!log.rows[4].lost && !log.rows[11].lost, 'same number, other space or direction');
    assert.ok(log.add(lost('0RTT', 7)), '0-RTT and 1-RTT share the application data space');
    assert.ok(log.rows[7].lost);
    assert.ok(!log.add(lost('1RTT', 99)));
    assert.equal(log.lost, 2);
  });

  it('stays bounded: the oldest fifth goes past MAX_PACKETS, indices stay absolute', () => {
    const log = new PacketLog();
    for (let pn = 0; pn <= MAX_PACKETS; pn++) log.add(pkt(pn, 'sent', '1RTT', pn));
    assert.equal(log.total, MAX_PACKETS + 1);
    assert.equal(log.first, MAX_PACKETS / 5);
    assert.equal(log.rows.length, MAX_PACKETS + 1 - MAX_PACKETS / 5);
    assert.equal(log.at(log.first)?.pn, MAX_PACKETS / 5);
    assert.equal(log.at(0), undefined);
    assert.ok(log.add(lost('1RTT', MAX_PACKETS)));
    assert.ok(!log.add(lost('1RTT', 0)), 'a dropped packet cannot be marked');
  });
});

describe('folding batches into a session view', () => {
  const info = { sessionId: 's1', host: 'h', port: 1, path: '/' } as SessionInfo;
  const view = (): SessionView => newView(info);
  const batch = (seq: number, over: Partial<SessionBatch> = {}): SessionBatch => ({
    sessionId: 's1',
    seq,
    time: seq,
    state: 'established',
    qlog: [],
    qlogSkipped: 0,
    series: {},
    streams: [],
    requests: [],
    datagrams: [],
    stats: null,
    ...over,
  });

  it('appends packets and series deltas, upserts streams, counts missed batches', () => {
    let v = reduceBatch(
      view(),
      batch(0, {
        qlog: [pkt(0, 'sent', 'initial', 0)],
        series: { cwnd: { reset: false, points: [[0, 1]] } },
      }),
    );
    const before = v.series;
    v = reduceBatch(
      v,
      batch(3, {
        series: {
          cwnd: { reset: false, points: [[5, 2]] },
          rtt_min: { reset: false, points: [[5, 1]] },
        },
        streams: [{ id: 0, bytesSent: 1, received: null } as SessionBatch['streams'][0]],
      }),
    );
    assert.deepEqual(before.cwnd, [[0, 1]], 'the previous view is not changed');
    v = reduceBatch(
      v,
      batch(4, {
        streams: [{ id: 0, bytesSent: 9, received: null } as SessionBatch['streams'][0]],
        qlogSkipped: 7,
      }),
    );
    assert.equal(v.packets.total, 1);
    assert.deepEqual(v.series.cwnd, [
      [0, 1],
      [5, 2],
    ]);
    assert.deepEqual(v.series.rtt_min, [[5, 1]]);
    assert.equal(v.streams[0].bytesSent, 9);
    assert.equal(v.missedBatches, 2);
    assert.equal(v.qlogSkipped, 7);
    assert.equal(v.state, 'established');
  });

  it('a series delta replaces a point restated at the same time; reset replaces the series', () => {
    let data = applySeriesUpdate(
      {},
      {
        rtt_latest: {
          reset: false,
          points: [
            [1, 5],
            [2, 6],
          ],
        },
      },
    );
    const same = data.rtt_latest;
    data = applySeriesUpdate(data, { cwnd: { reset: false, points: [[2, 9]] } });
    assert.equal(data.rtt_latest, same, 'an unchanged series keeps its array');
    data = applySeriesUpdate(data, {
      rtt_latest: {
        reset: false,
        points: [
          [2, 7],
          [3, 8],
        ],
      },
    });
    assert.deepEqual(data.rtt_latest, [
      [1, 5],
      [2, 7],
      [3, 8],
    ]);
    data = applySeriesUpdate(data, {
      rtt_latest: {
        reset: true,
        points: [
          [1, 5],
          [3, 8],
        ],
      },
    });
    assert.deepEqual(data.rtt_latest, [
      [1, 5],
      [3, 8],
    ]);
  });

  it('a request update without its preview keeps the preview the window has, with the new size', () => {
    const row: H3RequestRow = {
      requestId: 1,
      streamId: 0,
      method: 'GET',
      path: '/big',
      sentAt: 1,
      headersAt: 2,
      completedAt: null,
      state: 'headers',
      status: 200,
      headers: [],
      body: { size: 2, hex: '6869', text: 'hi', truncated: false },
      error: null,
    };
    const grown = mergeRequest(row, {
      ...row,
      state: 'complete',
      body: { size: 900, previewUnchanged: true },
    });
    assert.deepEqual(grown.body, { size: 900, hex: '6869', text: 'hi', truncated: true });
    assert.equal(grown.state, 'complete');
    assert.deepEqual(mergeRequest(undefined, row), row);
  });

  it('a raw stream’s preview arrives as appended bytes, then sizes; the window decodes its text', () => {
    const row = (received: SessionBatch['streams'][0]['received']) =>
      ({ id: 1, kind: 'raw', finReceived: false, received }) as SessionBatch['streams'][0];
    let v = reduceBatch(view(), batch(0, { streams: [row({ size: 3, appendAt: 0, hex: '6869e2' })] }));
    assert.deepEqual(v.streams[1].received, { size: 3, hex: '6869e2', text: null, truncated: false });
    v = reduceBatch(v, batch(1, { streams: [row({ size: 6, appendAt: 3, hex: '82ac21' })] }));
    assert.deepEqual(v.streams[1].received, { size: 6, hex: '6869e282ac21', text: 'hi€!', truncated: false });
    v = reduceBatch(v, batch(2, { streams: [row({ size: 7000, previewUnchanged: true })] }));
    assert.deepEqual(v.streams[1].received, {
      size: 7000,
      hex: '6869e282ac21',
      text: 'hi€!',
      truncated: true,
    });
  });

  it('asks for a snapshot after a gap; a snapshot replaces series, rows and handshake', () => {
    let v = reduceBatch(view(), batch(0, { series: { cwnd: { reset: false, points: [[0, 1]] } } }));
    assert.equal(needsSnapshot(v, batch(1)), false);
    assert.equal(needsSnapshot(v, batch(3)), true);
    assert.equal(needsSnapshot(view(), batch(5)), true, 'a window that joined late');
    v = reduceBatch(v, batch(3, { series: { cwnd: { reset: false, points: [[9, 9]] } } }));
    const snap = batch(3, {
      snapshot: true,
      state: 'closed',
      series: {
        cwnd: {
          reset: true,
          points: [
            [0, 1],
            [4, 2],
            [9, 9],
          ],
        },
      },
      streams: [{ id: 4, bytesSent: 3, received: null } as SessionBatch['streams'][0]],
    });
    assert.equal(needsSnapshot(v, snap), false);
    v = reduceBatch(v, snap);
    assert.deepEqual(v.series.cwnd, [
      [0, 1],
      [4, 2],
      [9, 9],
    ]);
    assert.deepEqual(Object.keys(v.streams), ['4']);
    assert.equal(v.state, 'closed');
    assert.equal(v.lastSeq, 3);
    assert.equal(v.packets.total, 0, 'the packet log is not resent');
    assert.equal(needsSnapshot(v, { ...snap, seq: 2 }), true, 'a stale snapshot asks again');
  });

  it('keeps the handshake timeline to the packets before confirmation and a few after', () => {
    const qlog: QlogEvent[] = [pkt(0, 'sent', 'initial', 0), pkt(1, 'received', 'initial', 0)];
    qlog.push({ time: 2, name: 'quic:connection_state_updated', data: { new: 'handshake_confirmed' } });
    for (let pn = 0; pn < 50; pn++) qlog.push(pkt(3 + pn, 'received', '1RTT', pn));
    const v = reduceBatch(view(), batch(0, { qlog }));
    assert.equal(v.packets.total, 52);
    assert.equal(v.handshakePackets.length, 2 + 6);
    assert.equal(v.markers.handshakeConfirmedAt, 2);
  });
});

describe('chart data', () => {
  it('merges series on their union of times while small', () => {
    const rows = mergeSeries(
      {
        cwnd: [
          [0, 10],
          [2, 20],
        ],
        bytes_in_flight: [[1, 5]],
      },
      ['cwnd', 'bytes_in_flight'],
    );
    assert.deepEqual(rows, [
      { t: 0, cwnd: 10 },
      { t: 1, bytes_in_flight: 5 },
      { t: 2, cwnd: 20 },
    ]);
  });

  it('buckets long series to at most maxRows rows and keeps each bucket’s peak', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1e5, noNaN: true }),
            fc.double({ min: 0, max: 1e9, noNaN: true }),
          ),
          {
            minLength: 1,
            maxLength: 400,
          },
        ),
        fc.integer({ min: 2, max: 50 }),
        (raw, maxRows) => {
          const pts = raw.slice().sort((a, b) => a[0] - b[0]) as [number, number][];
          const rows = mergeSeries({ cwnd: pts }, ['cwnd'], maxRows);
          assert.ok(rows.length <= maxRows + 1, `${rows.length} rows`);
          const peak = Math.max(...pts.map((p) => p[1]));
          assert.equal(Math.max(...rows.map((r) => r.cwnd as number)), peak, 'the maximum survives');
          for (let i = 1; i < rows.length; i++)
            assert.ok(rows[i].t >= rows[i - 1].t, 'rows are in time order');
        },
      ),
    );
  });

  it('RFC 9002 §5.3: the band is smoothed_rtt ± rttvar, rttvar taken as a step function', () => {
    const series = {
      rtt_smoothed: [
        [0, 10],
        [10, 12],
      ] as [number, number][],
      rtt_variance: [
        [0, 4],
        [5, 1],
      ] as [number, number][],
    };
    const rows = addVarianceBand(mergeSeries(series, ['rtt_smoothed']), series);
    assert.deepEqual(
      rows.map((r) => r.band),
      [
        [6, 14],
        [11, 13],
      ],
    );
    assert.equal(valueAt(series.rtt_variance, -1), undefined);
  });

  it('picks round ticks that cover the range', () => {
    assert.deepEqual(niceTicks(0, 1000, 5), [0, 250, 500, 750, 1000]);
    assert.deepEqual(niceTicks(0, 0.9, 5), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(niceTicks(0, 2, 5, 1), [0, 1, 2], 'whole numbers for counts');
    assert.deepEqual(
      byteTicks(19.5 * 1024),
      [0, 5, 10, 15, 20].map((k) => k * 1024),
      'KiB, not 4.88 KiB',
    );
    assert.deepEqual(byteTicks(700), [0, 200, 400, 600, 800]);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e12, noNaN: true }),
        (lo, rawSpan) => {
          // Chart ranges, not ones finer than a double resolves at that magnitude.
          const span = Math.max(rawSpan, lo * 1e-6);
          const t = niceTicks(lo, lo + span, 5);
          assert.ok(
            t[0] <= lo && t[t.length - 1] >= lo + span * 0.999999,
            `${t} covers [${lo}, ${lo + span}]`,
          );
          assert.ok(t.length <= 7);
        },
      ),
    );
  });
});

describe('formatting and input', () => {
  it('formats sizes, rates, counts, versions and TLS message names', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(104857600), '100 MiB');
    assert.equal(formatBits(2_400_000_000), '2.40 Gbit/s');
    for (const n of [0, 7, 999, 1000, 1234567, -42, 1e15])
      assert.equal(formatCount(n), n.toLocaleString('en-US'));
    assert.equal(versionLabel('00000001'), 'QUIC v1 (0x00000001)');
    assert.equal(versionLabel('6b3343cf'), 'QUIC v2 (0x6b3343cf)');
    assert.equal(tlsMessageName('hello_retry_request'), 'HelloRetryRequest');
  });

  it('accepts hex payloads with spaces and colons, not odd or non-hex ones', () => {
    assert.ok(isHexPayload('de ad:BE ef'));
    assert.ok(!isHexPayload('abc'));
    assert.ok(!isHexPayload('zz'));
  });

  it('parses "name: value" header lines (lowercase names) and rejects malformed ones', () => {
    assert.deepEqual(parseHeaderLines('Accept: text/html\n\nx-a: b: c'), {
      headers: [
        ['accept', 'text/html'],
        ['x-a', 'b: c'],
      ],
      error: null,
    });
    assert.match(parseHeaderLines('no colon').error ?? '', /line 1/);
    assert.match(parseHeaderLines('bad name: x').error ?? '', /bad field name/);
  });
});

describe('errors across the Electron bridge', () => {
  it('turns the preload’s JSON message back into a BridgeError with its kind', () => {
    const e = toBridgeError(
      new Error(`Error invoking remote method: ${JSON.stringify({ kind: 'dns', message: 'no such host' })}`),
    );
    assert.ok(e instanceof BridgeError);
    assert.equal(e.kind, 'dns');
    assert.equal(e.message, 'no such host');
    assert.equal(toBridgeError({ kind: 'unsupported', message: 'x' }).kind, 'unsupported');
    assert.equal(toBridgeError(new Error('plain')).kind, 'internal');
    const same = new BridgeError('io', 'down');
    assert.equal(toBridgeError(same), same);
  });
});
