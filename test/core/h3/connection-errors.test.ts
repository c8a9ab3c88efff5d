// HTTP/3 error handling over real QUIC Connections (RFC 9114 §4.1.2, §6, §7, §8): stream errors
// reset only their stream; connection errors close QUIC with the H3 code. Misbehaving peers are a
// real QUIC Connection writing raw bytes (frames built with core/h3/frames.ts and QPACK).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { H3ErrorCode } from '../../../core/h3/errors.ts';
import { H3StreamError } from '../../../core/h3/request.ts';
import {
  H3FrameParser,
  H3FrameType,
  H3StreamType,
  reservedCodepoint,
  writeFrameHeader,
  writeGoawayFrame,
  writeMaxPushIdFrame,
  writeCancelPushFrame,
  writePushPromiseFrame,
  writeSettingsFrame,
} from '../../../core/h3/frames.ts';
import { QpackDecoder } from '../../../core/h3/qpack/decoder.ts';
import type { FieldLine } from '../../../core/h3/qpack/decoder.ts';
import { QpackEncoder } from '../../../core/h3/qpack/encoder.ts';
import { Writer, concatBytes } from '../../../core/wire/buffer.ts';
import type { Connection } from '../../helpers/pair.ts';
import {
  H3Pair,
  closeCode,
  controlStreamBytes,
  dataFrame,
  headersFrame,
  request,
  streamAborts,
} from './connection-helpers.ts';
import type { Received } from './connection-helpers.ts';

const E = H3ErrorCode;

function build(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(new Uint8Array(4096));
  write(w);
  return w.written().slice();
}

/** Everything readable on `id` now, appended to `into`; returns whether the FIN was read. */
function drain(conn: Connection, id: number, into: Uint8Array[]): boolean {
  const buf = new Uint8Array(4096);
  for (;;) {
    const r = conn.streamRecv(id, buf);
    if (r === null) return false;
    into.push(buf.slice(0, r.length));
    if (r.fin) return true;
  }
}

/** The header sections of a response read raw (static QPACK: the raw peer allows no dynamic table). */
function responseHeaders(bytes: Uint8Array, streamId: number): FieldLine[][] {
  const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
  const out: FieldLine[][] = [];
  for (const f of new H3FrameParser('request').feed(bytes))
    if (f.type === 'headers') {
      const r = decoder.decodeFieldSection(streamId, f.fieldSection);
      if ('headers' in r) out.push(r.headers);
    }
  return out;
}

/** A pair whose client is a raw QUIC connection (with a control stream), after the handshake. */
function rawClient(): H3Pair {
  const p = new H3Pair({ rawClient: true }).handshake();
  p.sim.client.c.streamSend(2, controlStreamBytes(), false);
  return p;
}

/** Runs until the client has received a CONNECTION_CLOSE; returns its application error code. */
function clientSeesClose(p: H3Pair): number | null {
  p.run(() => p.sim.client.c.peerError() !== null, 'the CONNECTION_CLOSE at the client');
  return closeCode(p.sim.client.conn);
}

/** Runs until the server has received a CONNECTION_CLOSE; returns its application error code. */
function serverSeesClose(p: H3Pair): number | null {
  p.run(() => p.sim.server.c.peerError() !== null, 'the CONNECTION_CLOSE at the server');
  return closeCode(p.sim.server.conn);
}

describe('RFC 9114 §4.1.2 malformed requests are stream errors H3_MESSAGE_ERROR', () => {
  it('missing :path, an uppercase field name, a Content-Length mismatch: only those streams are reset', () => {
    const p = rawClient();
    const c = p.sim.client.c;
    const noPath = request('GET', '/').filter(([n]) => n !== ':path');
    c.streamSend(0, headersFrame(noPath, 0), true);
    c.streamSend(4, headersFrame([...request('GET', '/'), ['X-Upper', '1']], 4), true);
    c.streamSend(
      8,
      concatBytes(
        headersFrame(request('POST', '/', [['content-length', '10']]), 8),
        dataFrame(new Uint8Array(4)),
      ),
      true,
    );
    c.streamSend(12, headersFrame(request('GET', '/fine'), 12), true);
    const got: Uint8Array[] = [];
    let fin = false;
    p.step = () => {
      if (!fin) fin = drain(c, 12, got);
    };
    p.run(() => fin, 'the response to the valid request');
    for (const id of [0, 4, 8]) {
      const r = p.atServer.get(id);
      assert.deepEqual(r?.reset, { code: E.H3_MESSAGE_ERROR, local: true }, `stream ${id}`);
      // RESET_STREAM; no STOP_SENDING, as the whole request had arrived (RFC 9000 §3.5: Data Recvd).
      assert.deepEqual(
        streamAborts(p.sim, 'server', id),
        [['reset_stream', E.H3_MESSAGE_ERROR]],
        `stream ${id}`,
      );
    }
    assert.equal((p.atServer.get(12) as Received).finished, true);
    assert.deepEqual(responseHeaders(concatBytes(...got), 12), [[[':status', '200']]]);
    assert.equal(c.peerError(), null);
    assert.equal(p.s.isClosed, false);
  });

  it('a malformed response (uppercase name) is refused by the client on that stream only', () => {
    const p = new H3Pair({ rawServer: true }).handshake();
    const s = p.sim.server.c;
    s.streamSend(3, controlStreamBytes(), false);
    const a = p.send(request('GET', '/a'));
    const b = p.send(request('GET', '/b'));
    p.run(() => s.readable().includes(b), 'the requests at the server');
    s.streamSend(
      a,
      headersFrame(
        [
          [':status', '200'],
          ['Server', 'x'],
        ],
        a,
      ),
      true,
    );
    s.streamSend(b, headersFrame([[':status', '200']], b), true);
    p.run(() => p.response(a).reset !== null && p.response(b).finished, 'both outcomes');
    assert.deepEqual(p.response(a).reset, { code: E.H3_MESSAGE_ERROR, local: true });
    // Nothing left to abort on the wire: the request was sent and the response received in full.
    assert.deepEqual(streamAborts(p.sim, 'client', a), []);
    assert.equal(p.response(b).reset, null);
    assert.equal(p.c.isClosed, false);
  });

  it('a Content-Length larger than the body sent by an H3 client: the server resets the stream', () => {
    const p = new H3Pair().handshake();
    const id = p.c.sendRequest(request('POST', '/', [['content-length', '10']]), false);
    p.atClient.set(id, { ...(p.atClient.get(id) as Received) });
    p.c.sendBody(id, new Uint8Array(5), false);
    p.run(() => p.atServer.get(id)?.bodyLength === 5, 'the body');
    p.c.sendBody(id, new Uint8Array(0), true);
    p.run(() => p.atServer.get(id)?.reset != null, 'the stream error');
    assert.deepEqual(p.atServer.get(id)?.reset, { code: E.H3_MESSAGE_ERROR, local: true });
    p.run(() => p.clientEvents.some((e) => e.kind === 'reset'), 'the reset at the client');
    assert.ok(
      p.clientEvents.some(
        (e) => e.kind === 'reset' && e.streamId === id && e.code === E.H3_MESSAGE_ERROR && !e.local,
      ),
    );
  });
});

describe('RFC 9114 §4.2.2 SETTINGS_MAX_FIELD_SECTION_SIZE', () => {
  it('the client will not send a header section over the server limit', () => {
    const p = new H3Pair({ server: { maxFieldSectionSize: 500 } }).handshake();
    assert.equal(p.c.peerSettings.maxFieldSectionSize, 500);
    assert.throws(
      () => p.c.sendRequest(request('GET', '/', [['x-big', 'v'.repeat(400)]]), true),
      /over the peer's limit/,
    );
    assert.equal(typeof p.c.sendRequest(request('GET', '/'), true), 'number');
  });

  it('a larger section from a peer that ignores the limit is refused on its stream: H3_EXCESSIVE_LOAD', () => {
    const p = new H3Pair({ rawClient: true, server: { maxFieldSectionSize: 500 } }).handshake();
    const c = p.sim.client.c;
    c.streamSend(2, controlStreamBytes(), false);
    c.streamSend(0, headersFrame(request('GET', '/', [['x-big', 'v'.repeat(600)]])), true);
    c.streamSend(4, headersFrame(request('GET', '/ok'), 4), true);
    p.run(() => p.atServer.get(0)?.reset != null && p.atServer.get(4)?.finished === true, 'both requests');
    assert.deepEqual(p.atServer.get(0)?.reset, { code: E.H3_EXCESSIVE_LOAD, local: true });
    assert.equal(c.peerError(), null);
  });
});

describe('RFC 9114 §4.1 and §7 frame errors close the connection', () => {
  it('DATA before HEADERS on a request stream: H3_FRAME_UNEXPECTED', () => {
    const p = rawClient();
    p.sim.client.c.streamSend(
      0,
      concatBytes(dataFrame(new Uint8Array(3)), headersFrame(request('GET', '/'))),
      true,
    );
    assert.equal(clientSeesClose(p), E.H3_FRAME_UNEXPECTED);
    assert.ok(
      p.serverEvents.some(
        (e) => e.kind === 'closed' && e.error.local && e.error.code === E.H3_FRAME_UNEXPECTED,
      ),
    );
  });

  it('a request stream that ends inside a frame: H3_FRAME_ERROR (§7.1)', () => {
    const p = rawClient();
    const frame = headersFrame(request('GET', '/'));
    p.sim.client.c.streamSend(0, frame.subarray(0, frame.length - 2), true);
    assert.equal(clientSeesClose(p), E.H3_FRAME_ERROR);
  });

  it('a SETTINGS frame on a request stream: H3_FRAME_UNEXPECTED (Table 1)', () => {
    const p = rawClient();
    p.sim.client.c.streamSend(
      0,
      build((w) => writeSettingsFrame(w, [])),
      false,
    );
    assert.equal(clientSeesClose(p), E.H3_FRAME_UNEXPECTED);
  });

  it('§7.2.5 PUSH_PROMISE to a client that sent no MAX_PUSH_ID: H3_ID_ERROR', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const id = p.send(request('GET', '/'));
    p.run(() => p.atServer.get(id)?.finished === true, 'the request');
    const fieldSection = new QpackEncoder().encodeFieldSection(id, request('GET', '/pushed')).fieldSection;
    p.sim.server.c.streamSend(
      id,
      build((w) => writePushPromiseFrame(w, 0, fieldSection)),
      false,
    );
    assert.equal(serverSeesClose(p), E.H3_ID_ERROR);
    assert.ok(p.c.isClosed);
  });
});

describe('RFC 9114 §6.2 unidirectional streams', () => {
  it('§6.2.1 a second control stream: connection error H3_STREAM_CREATION_ERROR', () => {
    const p = new H3Pair().handshake();
    p.sim.client.c.streamSend(14, controlStreamBytes(), false); // after the client's 2, 6, 10
    assert.equal(clientSeesClose(p), E.H3_STREAM_CREATION_ERROR);
    const closed = p.clientEvents.find((e) => e.kind === 'closed');
    assert.deepEqual(closed?.kind === 'closed' && closed.error, {
      local: false,
      isApp: true,
      code: E.H3_STREAM_CREATION_ERROR,
      reason: 'a second control stream (14)',
    });
  });

  it('a second QPACK encoder stream: H3_STREAM_CREATION_ERROR (RFC 9204 §4.2)', () => {
    const p = new H3Pair().handshake();
    p.sim.client.c.streamSend(14, Uint8Array.of(H3StreamType.QPACK_ENCODER), false);
    assert.equal(clientSeesClose(p), E.H3_STREAM_CREATION_ERROR);
  });

  it('an unknown (reserved) stream type is ignored: STOP_SENDING H3_STREAM_CREATION_ERROR, requests go on', () => {
    const p = new H3Pair({
      respond: () => ({ headers: [[':status', '200']], body: new Uint8Array(10) }),
    }).handshake();
    const type = reservedCodepoint(5);
    p.sim.client.c.streamSend(
      14,
      build((w) => w.varint(type).bytes(new Uint8Array(100).fill(7))),
      false,
    );
    p.sim.client.c.streamSend(
      18,
      build((w) => w.varint(0x54)),
      true,
    ); // an unknown, non-reserved type, then FIN
    const id = p.send(request('GET', '/'));
    p.run(() => p.response(id).finished, 'the response');
    p.run(() => streamAborts(p.sim, 'server', 14).length > 0, 'the STOP_SENDING');
    assert.deepEqual(streamAborts(p.sim, 'server', 14), [['stop_sending', E.H3_STREAM_CREATION_ERROR]]);
    assert.equal(p.response(id).bodyLength, 10);
    assert.equal(p.s.isClosed, false);
    const types = p.sim.server.tracer!.events('http3:stream_type_set').filter((e) => e.stream_id >= 14);
    assert.deepEqual(
      types.map((e) => [e.stream_id, e.stream_type, e.stream_type_bytes]),
      [
        [14, 'reserved', type],
        [18, 'unknown', 0x54],
      ],
    );
  });

  it('§6.2.1 closing the control stream: H3_CLOSED_CRITICAL_STREAM (FIN or reset)', () => {
    const fin = rawClient();
    fin.sim.client.c.streamSend(2, new Uint8Array(0), true);
    assert.equal(clientSeesClose(fin), E.H3_CLOSED_CRITICAL_STREAM);
    const reset = new H3Pair().handshake();
    reset.sim.client.c.streamShutdown(2, 'write', E.H3_NO_ERROR);
    assert.equal(clientSeesClose(reset), E.H3_CLOSED_CRITICAL_STREAM);
  });

  it('RFC 9204 §4.2 closing a QPACK stream: H3_CLOSED_CRITICAL_STREAM', () => {
    const p = new H3Pair().handshake();
    p.sim.server.c.streamShutdown(11, 'write', E.H3_NO_ERROR); // the server's decoder stream
    assert.equal(serverSeesClose(p), E.H3_CLOSED_CRITICAL_STREAM);
  });

  it('§6.2.1 a control stream whose first frame is not SETTINGS: H3_MISSING_SETTINGS', () => {
    const p = new H3Pair({ rawClient: true }).handshake();
    p.sim.client.c.streamSend(
      2,
      build((w) => writeGoawayFrame(w.varint(H3StreamType.CONTROL), 0)),
      false,
    );
    assert.equal(clientSeesClose(p), E.H3_MISSING_SETTINGS);
  });

  it('§7.2.4 a second SETTINGS frame: H3_FRAME_UNEXPECTED; an HTTP/2 setting: H3_SETTINGS_ERROR', () => {
    const twice = new H3Pair({ rawClient: true }).handshake();
    twice.sim.client.c.streamSend(
      2,
      concatBytes(
        controlStreamBytes(),
        build((w) => writeSettingsFrame(w, [])),
      ),
      false,
    );
    assert.equal(clientSeesClose(twice), E.H3_FRAME_UNEXPECTED);
    const h2 = new H3Pair({ rawClient: true }).handshake();
    // SETTINGS_ENABLE_PUSH (0x02) = 1, which writeSettingsFrame refuses to write.
    h2.sim.client.c.streamSend(
      2,
      Uint8Array.of(H3StreamType.CONTROL, H3FrameType.SETTINGS, 2, 0x02, 1),
      false,
    );
    assert.equal(clientSeesClose(h2), E.H3_SETTINGS_ERROR);
  });

  it('§6.2.2 push streams: from a client H3_STREAM_CREATION_ERROR; to a client without MAX_PUSH_ID H3_ID_ERROR', () => {
    const fromClient = new H3Pair().handshake();
    fromClient.sim.client.c.streamSend(14, Uint8Array.of(H3StreamType.PUSH, 0), false);
    assert.equal(clientSeesClose(fromClient), E.H3_STREAM_CREATION_ERROR);
    const fromServer = new H3Pair().handshake();
    fromServer.sim.server.c.streamSend(15, Uint8Array.of(H3StreamType.PUSH, 0), false); // after 3, 7, 11
    assert.equal(serverSeesClose(fromServer), E.H3_ID_ERROR);
  });

  it('§6.1 a server-initiated bidirectional stream: H3_STREAM_CREATION_ERROR', () => {
    const p = new H3Pair().handshake();
    p.sim.server.c.streamSend(1, headersFrame([[':status', '200']]), false);
    assert.equal(serverSeesClose(p), E.H3_STREAM_CREATION_ERROR);
  });
});

describe('RFC 9114 §7.2 control frames', () => {
  /** A pair whose server is a raw QUIC connection writing `control` on its control stream. */
  const rawServerControl = (...frames: Uint8Array[]): H3Pair => {
    const p = new H3Pair({ rawServer: true }).handshake();
    p.sim.server.c.streamSend(3, concatBytes(controlStreamBytes(), ...frames), false);
    return p;
  };

  it('§5.2 a GOAWAY whose ID increases: H3_ID_ERROR', () => {
    const goaway = (id: number) => build((w) => writeGoawayFrame(w, id));
    const p = rawServerControl(goaway(8), goaway(12));
    assert.equal(serverSeesClose(p), E.H3_ID_ERROR);
    assert.deepEqual(
      p.clientEvents.filter((e) => e.kind === 'goaway'),
      [{ kind: 'goaway', id: 8 }],
    );
  });

  it('§7.2.6 a server GOAWAY with an ID that is not a client bidirectional stream: H3_ID_ERROR', () => {
    const p = rawServerControl(build((w) => writeGoawayFrame(w, 5)));
    assert.equal(serverSeesClose(p), E.H3_ID_ERROR);
  });

  it('§7.2.7 MAX_PUSH_ID from a server: H3_FRAME_UNEXPECTED', () => {
    const p = rawServerControl(build((w) => writeMaxPushIdFrame(w, 3)));
    assert.equal(serverSeesClose(p), E.H3_FRAME_UNEXPECTED);
  });

  it('§7.2.3 CANCEL_PUSH for a push never promised: H3_ID_ERROR', () => {
    const p = rawClient();
    p.sim.client.c.streamSend(
      2,
      build((w) => writeCancelPushFrame(w, 0)),
      false,
    );
    assert.equal(clientSeesClose(p), E.H3_ID_ERROR);
  });

  it('§7.2.8 reserved and unknown frame types on the control and request streams are ignored', () => {
    const p = rawClient();
    const c = p.sim.client.c;
    const unknown = (type: number, n: number) =>
      build((w) => {
        writeFrameHeader(w, type, n);
        w.bytes(new Uint8Array(n));
      });
    c.streamSend(2, concatBytes(unknown(reservedCodepoint(1), 5), unknown(0x4242, 0)), false);
    c.streamSend(
      0,
      concatBytes(unknown(reservedCodepoint(2), 3), headersFrame(request('GET', '/')), unknown(0x77, 9)),
      true,
    );
    p.run(() => p.atServer.get(0)?.finished === true, 'the request');
    assert.equal(p.s.isClosed, false);
    const parsed = p.sim.server
      .tracer!.events('http3:frame_parsed')
      .map((e) => `${e.stream_id}:${e.frame.frame_type}`);
    assert.ok(
      ['2:reserved', '2:unknown', '0:reserved', '0:headers', '0:unknown'].every((f) => parsed.includes(f)),
      String(parsed),
    );
  });
});

describe('RFC 9114 §5.2 requests after our GOAWAY, §4.1.1 resets', () => {
  it('a request at or above the server GOAWAY ID is rejected with H3_REQUEST_REJECTED', () => {
    const p = rawClient();
    p.s.sendGoaway(0);
    p.sim.client.c.streamSend(0, headersFrame(request('GET', '/')), true);
    p.run(() => streamAborts(p.sim, 'server', 0).length > 0, 'the rejection');
    assert.deepEqual(streamAborts(p.sim, 'server', 0), [['reset_stream', E.H3_REQUEST_REJECTED]]);
    assert.equal(p.atServer.get(0), undefined); // never reached the application
  });

  it('the server resets a response: the client reports the peer reset with its code', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const id = p.send(request('GET', '/'));
    p.run(() => p.atServer.get(id)?.finished === true, 'the request');
    p.s.sendResponse(id, [[':status', '200']], false);
    p.s.sendBody(id, new Uint8Array(100), false);
    p.s.cancel(id, E.H3_REQUEST_CANCELLED);
    p.run(() => p.response(id).reset !== null, 'the reset');
    assert.deepEqual(p.response(id).reset, { code: E.H3_REQUEST_CANCELLED, local: false });
    assert.equal(p.c.isClosed, false);
  });

  it('a request aborted while its body is still coming: STOP_SENDING and RESET_STREAM both go out', () => {
    const p = new H3Pair({ respond: () => null }).handshake();
    const id = p.c.sendRequest(request('POST', '/', [['content-length', '3']]), false);
    p.c.sendBody(id, new Uint8Array(2), false);
    p.run(() => p.atServer.get(id)?.bodyLength === 2, 'the first body bytes');
    p.c.sendBody(id, new Uint8Array(2), false); // one byte over the Content-Length
    p.run(() => p.atServer.get(id)?.reset != null, 'the stream error');
    p.run(() => streamAborts(p.sim, 'server', id).length === 2, 'the abort frames');
    assert.deepEqual(streamAborts(p.sim, 'server', id).sort(), [
      ['reset_stream', E.H3_MESSAGE_ERROR],
      ['stop_sending', E.H3_MESSAGE_ERROR],
    ]);
    p.run(
      () => p.clientEvents.some((e) => e.kind === 'reset' && e.streamId === id),
      'the reset at the client',
    );
    assert.throws(
      () => p.c.sendBody(id, new Uint8Array(1), true),
      (e: unknown) => e instanceof H3StreamError && e.kind === 'stopped' && e.code === E.H3_MESSAGE_ERROR,
    );
  });
});
