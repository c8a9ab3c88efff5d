import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { Pair, configs } from './pair.ts';

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function transfer(p: Pair, n: number, maxSteps = 300_000): { ok: boolean; hashOk: boolean } {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 131) & 0xff;
  const h = createHash('sha256');
  let sent = 0;
  let got = 0;
  const buf = new Uint8Array(65536);
  const ok = p.runUntil(() => {
    if (p.client.isEstablished() && sent < n) sent += p.client.streamSend(0, data.subarray(sent), true);
    while (p.server?.readable().includes(0)) {
      const r = p.server.streamRecv(0, buf);
      if (r === null || r.length === 0) break;
      h.update(buf.subarray(0, r.length));
      got += r.length;
    }
    return got === n;
  }, maxSteps);
  return { ok, hashOk: ok && h.digest('hex') === createHash('sha256').update(data).digest('hex') };
}

describe('RFC 9002 loss detection and recovery over a connection', () => {
  it('a lost client Initial is sent again on PTO (§6.2.4)', () => {
    const ct = new MemoryTracer();
    const p = new Pair(configs((c) => c.setTracer(ct)));
    let first = true;
    p.dropIf = (_d, toServer) => {
      if (toServer && first) {
        first = false;
        return true;
      }
      return false;
    };
    p.handshake();
    assert.ok(
      ct.find('quic:packet_sent', (d) => d.trigger === 'pto_probe' && d.header.packet_type === 'initial'),
    );
  });

  it('a lost server flight is recovered (client anti-deadlock probe and server PTO)', () => {
    const p = new Pair();
    let dropped = 0;
    p.dropIf = (_d, toServer) => !toServer && dropped++ < 2;
    p.handshake();
    assert.equal(p.client.applicationProto(), 'test');
  });

  it('completes a 500 kB transfer with 10% loss each way, retransmitting lost stream data (§13.3)', () => {
    const rand = prng(7);
    const p = new Pair();
    p.dropIf = () => rand() < 0.1;
    const r = transfer(p, 500_000);
    assert.ok(r.ok && r.hashOk);
    const st = p.client.stats();
    assert.ok(st.packetsLost > 0, 'losses detected');
    assert.ok(st.streamBytesRetransmitted > 0, 'data retransmitted');
    assert.ok(st.ssthresh !== null, 'the congestion window was reduced');
  });

  it('recovers from tail loss with PTO probes (§6.2)', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    // The whole first flight of stream data is lost (and any PMTU probe): only a PTO can recover it.
    p.dropIf = (_d, toServer) => toServer && p.client.stats().probesSent === 0;
    const r = transfer(p, 5_000);
    assert.ok(r.ok);
    assert.ok(p.client.stats().probesSent > 0);
  });

  it('paces: release times (`at`) are in the future under load and never go backwards (§7.7)', () => {
    const p = new Pair();
    p.handshake();
    const buf = new Uint8Array(1500);
    let last = -Infinity;
    let paced = 0;
    for (let round = 0; round < 50; round++) {
      p.client.streamSend(0, new Uint8Array(20_000), false);
      for (let d = p.client.send(buf, p.now); d !== null; d = p.client.send(buf, p.now)) {
        assert.ok(d.at >= last, `at ${d.at} after ${last}`);
        if (d.at > p.now) paced++;
        last = d.at;
        p.deliverToServer(buf.slice(0, d.length));
      }
      for (let d = p.server!.send(buf, p.now); d !== null; d = p.server!.send(buf, p.now))
        p.deliverToClient(buf.slice(0, d.length));
      p.server!.streamRecv(0, new Uint8Array(1 << 20));
      p.now += 2;
    }
    assert.ok(paced > 0, 'some datagrams were paced');
  });

  it('runs with NewReno and without pacing', () => {
    const rand = prng(11);
    const p = new Pair(
      configs((c) => {
        c.setCongestionControl('newreno');
        c.enablePacing(false);
      }),
    );
    p.dropIf = () => rand() < 0.05;
    const r = transfer(p, 300_000);
    assert.ok(r.ok && r.hashOk);
    assert.equal(p.client.stats().congestionControl, 'newreno');
  });
});
