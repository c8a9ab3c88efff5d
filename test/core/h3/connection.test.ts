// HTTP/3 over real QUIC Connections (client and server over the network simulator): requests and
// responses with bodies, concurrency, trailers, SETTINGS and QPACK's dynamic table, GOAWAY, flow
// control, qlog events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../../core/connection/connection.ts';
import { H3ErrorCode } from '../../../core/h3/errors.ts';
import { H3SettingId, reservedCodepoint } from '../../../core/h3/frames.ts';
import { H3StreamError } from '../../../core/h3/request.ts';
import type { FieldLine } from '../../../core/h3/qpack/decoder.ts';
import { H3Pair, randomBody, request, sha256 } from './connection-helpers.ts';
import type { Received } from './connection-helpers.ts';

const MiB = 1024 * 1024;

function header(r: Received | FieldLine[], name: string): string | undefined {
  const fields = Array.isArray(r) ? r : r.headers[r.headers.length - 1];
  return fields.find(([n]) => n === name)?.[1];
}

/** A server that answers GET /n with n bytes (seeded by n) and POST with the SHA-256 of the request body. */
function files(request: Received): { headers: FieldLine[]; body?: Uint8Array } {
  const method = header(request.headers[0], ':method');
  const path = header(request.headers[0], ':path') as string;
  if (method === 'POST')
    return {
      headers: [
        [':status', '200'],
        ['x-body-sha256', request.digest],
        ['x-body-length', String(request.bodyLength)],
      ],
    };
  const n = Number(path.slice(1));
  const body = randomBody(n, n + 1);
  return {
    headers: [
      [':status', '200'],
      ['content-length', String(n)],
    ],
    body,
  };
}

describe('RFC 9114 §4.1 request and response over QUIC', () => {
  for (const size of [0, 1, MiB]) {
    it(`GET with a ${size}-byte response body (SHA-256 equal)`, () => {
      const p = new H3Pair({ respond: files }).handshake();
      const id = p.send(request('GET', `/${size}`));
      assert.equal(id, 0);
      p.run(() => p.response(id).finished, 'the response');
      const r = p.response(id);
      assert.equal(header(r, ':status'), '200');
      assert.equal(r.bodyLength, size);
      assert.equal(r.digest, sha256(randomBody(size, size + 1)));
      assert.equal(p.sim.client.c.localError(), null);
      assert.equal(p.sim.server.c.localError(), null);
    });

    it(`POST with a ${size}-byte request body (SHA-256 equal)`, () => {
      const p = new H3Pair({ respond: files }).handshake();
      const body = randomBody(size, 99);
      const id = p.send(request('POST', '/upload', [['content-length', String(size)]]), body);
      p.run(() => p.response(id).finished, 'the response');
      const r = p.response(id);
      assert.equal(header(r, 'x-body-length'), String(size));
      assert.equal(header(r, 'x-body-sha256'), sha256(body));
      const atServer = p.atServer.get(id) as Received;
      assert.equal(header(atServer.headers[0], ':method'), 'POST');
    });
  }

  it('a GET without body arrives as one header section with fin, then finished', () => {
    const p = new H3Pair({ respond: files }).handshake();
    const id = p.send(request('GET', '/10'));
    p.run(() => p.response(id).finished, 'the response');
    const kinds = p.serverEvents.filter((e) => 'streamId' in e && e.streamId === id).map((e) => e.kind);
    assert.deepEqual(kinds, ['headers', 'finished']);
    assert.equal((p.atServer.get(id) as Received).headersFin, true);
    assert.equal(p.response(id).headersFin, false); // a body follows the response headers
  });

  it('100 concurrent requests on one connection', () => {
    const p = new H3Pair({ respond: files }).handshake();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push(p.send(request('GET', `/${1000 + i * 37}`)));
    assert.deepEqual(
      ids,
      Array.from({ length: 100 }, (_, i) => 4 * i),
    );
    p.run(() => ids.every((id) => p.response(id).finished), 'all 100 responses');
    ids.forEach((id, i) => {
      const n = 1000 + i * 37;
      assert.equal(p.response(id).bodyLength, n, `stream ${id}`);
      assert.equal(p.response(id).digest, sha256(randomBody(n, n + 1)), `stream ${id}`);
    });
    assert.equal(p.c.isClosed, false);
  });

  it('trailers after the body, both ways (§4.1 trailer section)', () => {
    const body = randomBody(5000, 3);
    const p = new H3Pair({
      respond: (req) => ({
        headers: [[':status', '200']],
        body: randomBody(3000, 4),
        trailers: [
          ['x-request-trailer-seen', req.trailers?.[0]?.[1] ?? 'none'],
          ['grpc-status', '0'],
        ],
      }),
    }).handshake();
    const id = p.send(request('POST', '/t'), body, [['x-checksum', sha256(body).slice(0, 16)]]);
    p.run(() => p.response(id).finished, 'the response');
    const atServer = p.atServer.get(id) as Received;
    assert.deepEqual(atServer.trailers, [['x-checksum', sha256(body).slice(0, 16)]]);
    assert.equal(atServer.digest, sha256(body));
    const r = p.response(id);
    assert.equal(r.digest, sha256(randomBody(3000, 4)));
    assert.deepEqual(r.trailers, [
      ['x-request-trailer-seen', sha256(body).slice(0, 16)],
      ['grpc-status', '0'],
    ]);
    assert.equal(r.headersFin, true); // the trailers end the stream
  });

  it('interim responses (1xx) before the final response', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    p.step = () => {
      for (const [id, r] of p.atServer)
        if (r.finished && !r.reset && p.s.isClosed === false && !(r as { answered?: boolean }).answered) {
          (r as { answered?: boolean }).answered = true;
          p.s.sendResponse(
            id,
            [
              [':status', '103'],
              ['link', '</style.css>; rel=preload'],
            ],
            false,
          );
          p.s.sendResponse(id, [[':status', '200']], true);
        }
    };
    const id = p.send(request('GET', '/'));
    p.run(() => p.response(id).finished, 'the response');
    assert.deepEqual(
      p.response(id).headers.map((h) => header(h, ':status')),
      ['103', '200'],
    );
  });

  it('HEAD: Content-Length without content is not malformed (§4.1.2)', () => {
    const p = new H3Pair({
      respond: () => ({
        headers: [
          [':status', '200'],
          ['content-length', '12345'],
        ],
      }),
    }).handshake();
    const id = p.send(request('HEAD', '/big'));
    p.run(() => p.response(id).finished, 'the response');
    assert.equal(p.response(id).reset, null);
    assert.equal(p.response(id).bodyLength, 0);
  });

  it('the client cancels a request (§4.1.1): RESET_STREAM and STOP_SENDING with H3_REQUEST_CANCELLED', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const id = p.c.sendRequest(request('POST', '/slow'), false); // the body never comes
    p.run(() => p.atServer.get(id)?.headers.length === 1, 'the request headers');
    p.c.cancel(id);
    p.run(() => (p.atServer.get(id) as Received).reset !== null, 'the reset at the server');
    assert.deepEqual((p.atServer.get(id) as Received).reset, {
      code: H3ErrorCode.H3_REQUEST_CANCELLED,
      local: false,
    });
    assert.throws(() => p.c.sendBody(id, new Uint8Array(1), true), RangeError);
    // The server learns that its response is not wanted when it tries to send it.
    assert.throws(
      () => p.s.sendResponse(id, [[':status', '200']], true),
      (e: unknown) =>
        e instanceof H3StreamError && e.kind === 'stopped' && e.code === H3ErrorCode.H3_REQUEST_CANCELLED,
    );
    // The connection carries on.
    const next = p.send(request('GET', '/'));
    p.run(() => p.atServer.get(next)?.finished === true, 'the next request');
    assert.equal(p.c.isClosed, false);
  });
});

describe('RFC 9114 §7.2.4 SETTINGS and RFC 9204 QPACK dynamic table', () => {
  it('each side receives the other SETTINGS, reserved setting included (§7.2.4.1)', () => {
    const p = new H3Pair({
      client: { maxFieldSectionSize: 20000, qpackMaxTableCapacity: 1000, qpackBlockedStreams: 5 },
    }).handshake();
    const atServer = p.serverEvents.find((e) => e.kind === 'settings');
    assert.ok(atServer !== undefined && atServer.kind === 'settings');
    assert.equal(atServer.settings.get(H3SettingId.MAX_FIELD_SECTION_SIZE), 20000);
    assert.equal(atServer.settings.get(H3SettingId.QPACK_MAX_TABLE_CAPACITY), 1000);
    assert.equal(atServer.settings.get(H3SettingId.QPACK_BLOCKED_STREAMS), 5);
    assert.ok(
      [...atServer.settings.keys()].some((id) => id >= 0x21 && (id - 0x21) % 0x1f === 0),
      'a reserved setting',
    );
    assert.deepEqual(p.s.peerSettings, {
      maxFieldSectionSize: 20000,
      qpackMaxTableCapacity: 1000,
      qpackBlockedStreams: 5,
    });
    assert.equal(p.c.peerSettingsReceived, true);
    assert.equal(p.c.peerSettings.qpackMaxTableCapacity, 4096);
  });

  it('repeated header fields are inserted once and then referenced: the encoder stream carries the inserts', () => {
    const p = new H3Pair({ respond: files }).handshake();
    const extra: FieldLine[] = [
      ['user-agent', 'quicscope-test/1.0 (an agent string long enough to be worth indexing)'],
      ['x-session', 'c0ffee-'.repeat(8)],
    ];
    const tracer = p.sim.client.tracer!;
    const encoderStreamBytes = (): number => {
      let n = 0;
      for (const e of tracer.events('quic:packet_sent'))
        for (const f of e.frames ?? [])
          if (f.frame_type === 'stream' && f.stream_id === 6) n += f.raw?.length ?? 0;
      return n;
    };
    const first = p.send(request('GET', '/1', extra));
    p.run(() => p.response(first).finished, 'the first response');
    const inserts = p.c.encoder.table.insertCount;
    const encoderBytes = encoderStreamBytes();
    // The client's encoder stream (6) carried the inserts: the long values went there, once.
    assert.ok(inserts >= 3, `${inserts} inserts`); // :authority, user-agent, x-session
    assert.ok(encoderBytes > 100, `encoder stream bytes ${encoderBytes}`);
    assert.equal(p.s.decoder.table.insertCount, inserts);
    const second = p.send(request('GET', '/2', extra));
    p.run(() => p.response(second).finished, 'the second response');
    // The second request references the entries: no new insert, no encoder-stream bytes.
    assert.equal(p.c.encoder.table.insertCount, inserts);
    assert.equal(encoderStreamBytes(), encoderBytes);
    assert.ok(p.c.encoder.knownReceivedCount >= inserts, 'the decoder acknowledged the inserts');
    const sizes = tracer
      .events('http3:frame_created')
      .filter((e) => e.frame.frame_type === 'headers' && (e.stream_id === first || e.stream_id === second))
      .map((e) => e.frame.raw?.payload_length ?? 0);
    assert.equal(sizes.length, 2);
    assert.ok(sizes[1] <= 12, `HEADERS payloads ${sizes}`); // five field lines in a dozen bytes
  });

  it('with the dynamic table off (capacity 0) the encoder uses static and literal fields only', () => {
    const p = new H3Pair({ respond: files, server: { qpackMaxTableCapacity: 0 } }).handshake();
    const id = p.send(request('GET', '/5', [['user-agent', 'x'.repeat(40)]]));
    p.run(() => p.response(id).finished, 'the response');
    assert.equal(p.c.encoder.table.insertCount, 0);
    assert.equal(p.s.decoder.table.insertCount, 0);
    assert.equal(p.response(id).digest, sha256(randomBody(5, 6)));
  });

  it('a field section that arrives before its inserts waits, then is decoded (RFC 9204 §2.2.1 blocked streams)', () => {
    // A tiny unidirectional window at the server holds the client's encoder stream back, while the
    // request streams are free: the HEADERS reference entries the server's decoder does not have yet.
    const p = new H3Pair({
      respond: files,
      pair: { server: (c) => c.setInitialMaxStreamDataUni(40) },
    }).handshake();
    let blocked = 0;
    const decode = p.s.decoder.decodeFieldSection.bind(p.s.decoder);
    p.s.decoder.decodeFieldSection = (id, bytes) => {
      const r = decode(id, bytes);
      if ('blocked' in r) blocked++;
      return r;
    };
    const extra: FieldLine[] = [
      ['x-long-header-one', 'a'.repeat(60)],
      ['x-long-header-two', 'b'.repeat(60)],
    ];
    const ids = [p.send(request('GET', '/7', extra)), p.send(request('GET', '/8', extra))];
    p.run(() => ids.every((id) => p.response(id).finished), 'both responses');
    assert.ok(blocked >= 1, `${blocked} blocked sections`);
    assert.equal(p.response(ids[1]).digest, sha256(randomBody(8, 9)));
    const atServer = p.atServer.get(ids[0]) as Received;
    assert.deepEqual(atServer.headers[0].slice(4), extra);
  });

  it('under 5% loss, 40 requests sharing headers complete (sections may block on inserts, RFC 9204 §2.2.1)', () => {
    const p = new H3Pair({ respond: files, pair: { seed: 21, link: { loss: 0.05 } } }).handshake();
    const ids: number[] = [];
    for (let i = 0; i < 40; i++)
      ids.push(
        p.send(
          request('GET', `/${200 + i}`, [
            ['x-client', 'loss-test'],
            ['x-n', String(i % 5)],
          ]),
        ),
      );
    p.run(() => ids.every((id) => p.response(id).finished), 'all responses', 300_000);
    ids.forEach((id, i) => assert.equal(p.response(id).digest, sha256(randomBody(200 + i, 201 + i))));
  });
});

describe('RFC 9114 §5.2 GOAWAY and connection shutdown', () => {
  it('server GOAWAY: requests below the ID complete, those at or above are rejected, no new requests', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const a = p.send(request('GET', '/a'));
    const b = p.send(request('GET', '/b'));
    p.run(
      () => p.atServer.get(a)?.finished === true && p.atServer.get(b)?.finished === true,
      'both requests',
    );
    p.s.sendGoaway(4);
    p.s.sendResponse(a, [[':status', '200']], true);
    p.run(() => p.response(a).finished && p.response(b).reset !== null, 'the response and the rejection');
    assert.deepEqual(p.response(b).reset, { code: H3ErrorCode.H3_REQUEST_REJECTED, local: false });
    assert.deepEqual(
      p.clientEvents.filter((e) => e.kind === 'goaway'),
      [{ kind: 'goaway', id: 4 }],
    );
    assert.throws(
      () => p.c.sendRequest(request('GET', '/c'), true),
      (e: unknown) => e instanceof H3StreamError && e.kind === 'goaway',
    );
    assert.throws(() => p.s.sendGoaway(8), RangeError); // §5.2: the ID never increases
  });

  it('graceful shutdown: GOAWAY, the open request finishes, then CONNECTION_CLOSE with H3_NO_ERROR', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const a = p.send(request('GET', '/a'));
    p.run(() => p.atServer.get(a)?.finished === true, 'the request');
    p.s.shutdown();
    assert.equal(p.s.goawaySent, 4);
    p.run(() => p.c.goawayReceived === 4, 'the GOAWAY');
    assert.equal(p.s.isClosed, false);
    p.s.sendResponse(a, [[':status', '204']], true);
    p.run(() => p.c.isClosed, 'the close');
    const closed = p.clientEvents.find((e) => e.kind === 'closed');
    assert.deepEqual(closed, {
      kind: 'closed',
      error: { local: false, isApp: true, code: H3ErrorCode.H3_NO_ERROR, reason: 'shutdown' },
    });
    assert.equal(p.response(a).finished, true);
  });

  it('client GOAWAY carries a push ID; the server reports it', () => {
    const p = new H3Pair().handshake();
    p.c.sendGoaway();
    p.run(() => p.serverEvents.some((e) => e.kind === 'goaway'), 'the GOAWAY');
    assert.equal(p.s.goawayReceived, 0);
  });
});

describe('RFC 9000 §4 flow control under HTTP/3', () => {
  it('a 4 MiB response through 16 KiB stream windows: intact, and the receive buffer stays within the window', () => {
    const size = 4 * MiB;
    const p = new H3Pair({
      respond: files,
      pair: {
        client: (c) => {
          // Every initial stream window small: auto-tuning grows a window up to the largest of them.
          c.setInitialMaxStreamDataBidiLocal(16 * 1024);
          c.setInitialMaxStreamDataBidiRemote(16 * 1024);
          c.setInitialMaxStreamDataUni(16 * 1024);
          c.setMaxStreamWindow(16 * 1024);
          c.setInitialMaxData(64 * 1024);
          c.setMaxConnectionWindow(64 * 1024);
        },
      },
    }).handshake();
    let maxBuffered = 0;
    let maxSendCall = 0;
    const sendBody = p.s.sendBody.bind(p.s);
    p.s.sendBody = (id, data, fin) => {
      const n = sendBody(id, data, fin);
      maxSendCall = Math.max(maxSendCall, n);
      return n;
    };
    const id = p.send(request('GET', `/${size}`));
    const state = connectionState(p.sim.client.c);
    p.step = () => {
      const st = state.streams.get(id);
      if (st?.recv) maxBuffered = Math.max(maxBuffered, st.recv.bufferedBytes);
    };
    p.run(() => p.response(id).finished, 'the response', 600_000);
    assert.equal(p.response(id).bodyLength, size);
    assert.equal(p.response(id).digest, sha256(randomBody(size, size + 1)));
    assert.ok(maxBuffered <= 16 * 1024, `QUIC buffered ${maxBuffered} bytes`);
    assert.ok(maxSendCall <= 16 * 1024, `sendBody took ${maxSendCall} bytes in one call`);
  });

  it('a request body written while flow control blocks: sendBody returns what QUIC took, nothing is lost', () => {
    const body = randomBody(300_000, 5);
    const p = new H3Pair({
      respond: files,
      pair: {
        server: (c) => {
          c.setInitialMaxStreamDataBidiLocal(5000);
          c.setInitialMaxStreamDataBidiRemote(5000);
          c.setInitialMaxStreamDataUni(5000);
          c.setMaxStreamWindow(5000);
        },
      },
    }).handshake();
    const id = p.c.sendRequest(request('POST', '/up'), false);
    p.atClient.set(id, p.atClient.get(id) ?? (undefined as never));
    let offset = 0;
    let calls = 0;
    let zeroes = 0;
    p.step = () => {
      if (offset >= body.length || p.c.isClosed) return;
      const n = p.c.sendBody(id, body.subarray(offset), true);
      calls++;
      if (n === 0) zeroes++;
      offset += n;
    };
    p.run(() => p.atServer.get(id)?.finished === true, 'the upload');
    assert.equal((p.atServer.get(id) as Received).digest, sha256(body));
    assert.ok(calls > 10 && zeroes > 0, `${calls} calls, ${zeroes} returned 0`);
  });
});

describe('draft-ietf-quic-qlog-h3-events-13 events', () => {
  it('parameters_set, stream_type_set, frame_created and frame_parsed (GREASE included)', () => {
    const p = new H3Pair({ respond: files }).handshake();
    const id = p.send(request('GET', '/100'));
    p.run(() => p.response(id).finished, 'the response');
    const client = p.sim.client.tracer!;
    const server = p.sim.server.tracer!;
    const local = client.events('http3:parameters_set').find((e) => e.initiator === 'local');
    assert.equal(local?.max_table_capacity, 4096);
    assert.equal(local?.blocked_streams_count, 16);
    assert.equal(local?.max_field_section_size, 65536);
    assert.ok(
      server
        .events('http3:parameters_set')
        .some((e) => e.initiator === 'remote' && e.max_table_capacity === 4096),
    );
    const types = client
      .events('http3:stream_type_set')
      .map((e) => `${e.initiator}:${e.stream_id}:${e.stream_type}`);
    for (const t of [
      'local:2:control',
      'local:6:qpack_encode',
      'local:10:qpack_decode',
      'remote:3:control',
      'remote:7:qpack_encode',
      'remote:11:qpack_decode',
      'local:0:request',
    ])
      assert.ok(types.includes(t), `${t} in ${types}`);
    const created = client.events('http3:frame_created').map((e) => e.frame.frame_type);
    assert.deepEqual(created.slice(0, 2), ['settings', 'reserved']);
    assert.ok(created.includes('headers'));
    const parsed = client.events('http3:frame_parsed').map((e) => `${e.stream_id}:${e.frame.frame_type}`);
    for (const f of ['3:settings', '3:reserved', '0:headers', '0:data'])
      assert.ok(parsed.includes(f), `${f} in ${parsed}`);
    const headers = client.events('http3:frame_parsed').find((e) => e.frame.frame_type === 'headers');
    assert.deepEqual(headers?.frame.frame_type === 'headers' && headers.frame.headers[0], {
      name: ':status',
      value: '200',
    });
    const reserved = server.events('http3:frame_parsed').find((e) => e.frame.frame_type === 'reserved');
    assert.ok(
      reserved?.frame.frame_type === 'reserved' && (reserved.frame.frame_type_bytes - 0x21) % 0x1f === 0,
    );
  });

  it('grease: false sends no reserved setting or frame', () => {
    const p = new H3Pair({ client: { grease: false } }).handshake();
    const settings = p.serverEvents.find((e) => e.kind === 'settings');
    assert.ok(settings?.kind === 'settings');
    assert.ok(![...settings.settings.keys()].some((id) => id >= 0x21 && (id - 0x21) % 0x1f === 0));
    assert.ok(
      !p.sim.client.tracer!.events('http3:frame_created').some((e) => e.frame.frame_type === 'reserved'),
    );
    assert.equal(reservedCodepoint(0), 0x21);
  });
});
