import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { StreamError, connectionState } from '../../../core/connection/connection.ts';
import type { Connection } from '../../../core/connection/connection.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { Pair, configs } from './pair.ts';

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function sha(parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Writes `data` on (conn, id) as credit allows; reads everything readable on the other side. */
class Flow {
  sent = 0;
  readonly got: Uint8Array[] = [];
  fin = false;
  constructor(
    readonly from: () => Connection,
    readonly to: () => Connection,
    readonly id: number,
    readonly data: Uint8Array,
  ) {}

  pump(buf: Uint8Array): void {
    if (this.sent < this.data.length || this.sent === 0)
      this.sent += this.from().streamSend(this.id, this.data.subarray(this.sent), true);
    const to = this.to();
    while (to.readable().includes(this.id)) {
      const r = to.streamRecv(this.id, buf);
      if (r === null) break;
      this.got.push(buf.slice(0, r.length));
      if (r.fin) this.fin = true;
      if (r.fin || r.length === 0) break;
    }
  }

  get received(): number {
    return this.got.reduce((a, b) => a + b.length, 0);
  }
}

function run(p: Pair, flows: Flow[], maxSteps = 200_000): void {
  const buf = new Uint8Array(65536);
  const ok = p.runUntil(() => {
    for (const f of flows) f.pump(buf);
    return flows.every((f) => f.fin);
  }, maxSteps);
  assert.ok(
    ok,
    `flows incomplete: ${flows.map((f) => `${f.id}: ${f.sent} sent, ${f.received} received`).join('; ')}`,
  );
}

describe('RFC 9000 §2-§3 streams over a connection', () => {
  it('transfers 1 MB each way on a bidirectional stream (SHA-256 equal)', () => {
    const p = new Pair();
    p.handshake();
    const up = pattern(1 << 20, 1);
    const down = pattern(1 << 20, 2);
    const f1 = new Flow(
      () => p.client,
      () => p.server!,
      0,
      up,
    );
    const f2 = new Flow(
      () => p.server!,
      () => p.client,
      0,
      down,
    );
    run(p, [f1]);
    run(p, [f1, f2]);
    assert.equal(sha(f1.got), sha([up]));
    assert.equal(sha(f2.got), sha([down]));
  });

  it('carries unidirectional streams in both directions', () => {
    const p = new Pair();
    p.handshake();
    const a = new Flow(
      () => p.client,
      () => p.server!,
      2,
      pattern(50_000, 3),
    );
    const b = new Flow(
      () => p.server!,
      () => p.client,
      3,
      pattern(70_000, 4),
    );
    run(p, [a, b]);
    assert.equal(sha(a.got), sha([a.data]));
    assert.equal(sha(b.got), sha([b.data]));
  });

  it('round-robins 40 concurrent streams to completion', () => {
    const p = new Pair();
    p.handshake();
    const flows: Flow[] = [];
    for (let i = 0; i < 40; i++)
      flows.push(
        new Flow(
          () => p.client,
          () => p.server!,
          i * 4,
          pattern(20_000, i),
        ),
      );
    run(p, flows);
    for (const f of flows) assert.equal(sha(f.got), sha([f.data]));
  });

  it('STOP_SENDING makes the peer reset the stream (RFC 9000 §3.5)', () => {
    const p = new Pair();
    p.handshake();
    p.client.streamSend(0, pattern(1000, 1), false);
    p.settle();
    p.server!.streamShutdown(0, 'read', 7);
    p.settle();
    assert.throws(
      () => p.client.streamSend(0, pattern(10, 1)),
      (e: unknown) => e instanceof StreamError && e.kind === 'stopped' && e.code === 7,
    );
  });

  it('RESET_STREAM reaches the reader with its code (RFC 9000 §3.2)', () => {
    const p = new Pair();
    p.handshake();
    p.client.streamSend(0, pattern(1000, 1), false);
    p.settle();
    p.client.streamShutdown(0, 'write', 9);
    p.settle();
    const buf = new Uint8Array(2000);
    assert.throws(
      () => {
        for (;;) if (p.server!.streamRecv(0, buf) === null) break;
      },
      (e: unknown) => e instanceof StreamError && e.kind === 'reset' && e.code === 9,
    );
  });

  it('a flow-controlled transfer completes with MAX_DATA / MAX_STREAM_DATA and signals blocking (§4)', () => {
    const st = new MemoryTracer();
    const ct = new MemoryTracer();
    const p = new Pair(
      configs((c, s) => {
        s.setInitialMaxData(16_000);
        s.setInitialMaxStreamDataBidiRemote(4_000);
        s.setMaxStreamWindow(8_000);
        s.setMaxConnectionWindow(32_000);
        s.setTracer(st);
        c.setTracer(ct);
      }),
    );
    p.handshake();
    const f = new Flow(
      () => p.client,
      () => p.server!,
      0,
      pattern(200_000, 5),
    );
    run(p, [f]);
    assert.equal(sha(f.got), sha([f.data]));
    const sentFrames = st.events('quic:packet_sent').flatMap((e) => e.frames ?? []);
    assert.ok(sentFrames.some((x) => x.frame_type === 'max_stream_data'));
    assert.ok(sentFrames.some((x) => x.frame_type === 'max_data'));
    const clientFrames = ct.events('quic:packet_sent').flatMap((e) => e.frames ?? []);
    assert.ok(
      clientFrames.some((x) => x.frame_type === 'stream_data_blocked' || x.frame_type === 'data_blocked'),
    );
  });

  it('renews the peer stream limit (MAX_STREAMS) as streams finish (§4.6)', () => {
    const p = new Pair(configs((_c, s) => s.setInitialMaxStreamsBidi(2)));
    p.handshake();
    const flows: Flow[] = [];
    const buf = new Uint8Array(4096);
    let opened = 0;
    const answered = new Set<number>();
    const ok = p.runUntil(() => {
      // Open streams as the limit allows; a refused stream returns 0 (STREAMS_BLOCKED is sent).
      while (opened < 6) {
        const id = opened * 4;
        if (p.client.streamSend(id, new Uint8Array([opened]), true) === 0) break;
        flows.push(
          new Flow(
            () => p.client,
            () => p.server!,
            id,
            new Uint8Array([opened]),
          ),
        );
        flows[flows.length - 1].sent = 1;
        opened++;
      }
      for (const f of flows) f.pump(buf);
      // The server answers each stream with a FIN so the stream can finish.
      for (const f of flows) {
        if (f.fin && !answered.has(f.id)) {
          p.server!.streamSend(f.id, new Uint8Array(0), true);
          answered.add(f.id);
        }
      }
      for (const f of flows)
        while (p.client.readable().includes(f.id) && p.client.streamRecv(f.id, buf) !== null);
      return opened === 6 && flows.every((f) => f.fin);
    }, 50_000);
    assert.ok(ok, `opened ${opened}`);
  });
});

describe('RFC 9000 §4 limits enforced on the peer', () => {
  it('a peer opening streams beyond MAX_STREAMS gets STREAM_LIMIT_ERROR (§4.6)', () => {
    const p = new Pair(configs((_c, s) => s.setInitialMaxStreamsBidi(2)));
    p.handshake();
    // Test hook: the client believes the server allowed 10 streams (as a misbehaving peer would).
    connectionState(p.client).streams.onMaxStreams('bidirectional', 10);
    for (let i = 0; i < 3; i++) p.client.streamSend(i * 4, new Uint8Array([1]), false);
    p.runUntil(() => p.client.peerError() !== null, 10_000);
    assert.equal(p.server!.localError()?.code, TransportError.STREAM_LIMIT_ERROR);
    assert.equal(p.client.peerError()?.code, TransportError.STREAM_LIMIT_ERROR);
  });

  it('a peer sending beyond MAX_DATA gets FLOW_CONTROL_ERROR (§4.1)', () => {
    const p = new Pair(configs((_c, s) => s.setInitialMaxData(10_000)));
    p.handshake();
    // Test hook: the client believes it has far more connection credit than the server gave.
    connectionState(p.client).streams.onMaxData(1 << 30);
    p.client.streamSend(0, pattern(30_000, 1), false);
    p.runUntil(() => p.client.peerError() !== null, 10_000);
    assert.equal(p.server!.localError()?.code, TransportError.FLOW_CONTROL_ERROR);
    assert.equal(p.client.peerError()?.code, TransportError.FLOW_CONTROL_ERROR);
  });

  it('a peer sending beyond MAX_STREAM_DATA gets FLOW_CONTROL_ERROR (§4.1)', () => {
    const p = new Pair(configs((_c, s) => s.setInitialMaxStreamDataBidiRemote(5_000)));
    p.handshake();
    p.client.streamSend(0, new Uint8Array(10), false);
    connectionState(p.client)
      .streams.get(0)!
      .send!.onMaxStreamData(1 << 30);
    p.client.streamSend(0, pattern(20_000, 1), false);
    p.runUntil(() => p.client.peerError() !== null, 10_000);
    assert.equal(p.server!.localError()?.code, TransportError.FLOW_CONTROL_ERROR);
  });
});

describe('stream API errors (StreamError)', () => {
  it('rejects invalid IDs, the wrong direction and streams not yet open', () => {
    const p = new Pair();
    p.handshake();
    const kind = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof StreamError, String(e));
        return e.kind;
      }
      return 'none';
    };
    const buf = new Uint8Array(10);
    assert.equal(
      kind(() => p.client.streamSend(-1, buf)),
      'invalid_stream',
    );
    assert.equal(
      kind(() => p.client.streamSend(3, buf)),
      'wrong_direction',
    ); // the server's uni stream
    assert.equal(
      kind(() => p.client.streamRecv(2, buf)),
      'wrong_direction',
    ); // our own uni stream
    assert.equal(
      kind(() => p.client.streamSend(8, buf)),
      'not_open',
    ); // 0 and 4 come first
    assert.equal(
      kind(() => p.client.streamRecv(1, buf)),
      'not_open',
    ); // the server has not opened 1
    assert.equal(p.client.streamSend(0, buf), 10);
    assert.equal(
      kind(() => p.client.streamSend(0, buf)),
      'none',
    );
  });
});
