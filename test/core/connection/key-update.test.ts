import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../../core/connection/connection.ts';
import type { Connection } from '../../../core/connection/connection.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

/** Sends `n` bytes from `from` on stream `id` and reads them on `to`; returns when all arrived. */
function exchange(p: Pair, from: Connection, to: Connection, id: number, n: number): void {
  const buf = new Uint8Array(65536);
  let sent = 0;
  let got = 0;
  const ok = p.runUntil(() => {
    if (sent < n) sent += from.streamSend(id, new Uint8Array(n - sent).fill(7), false);
    while (to.readable().includes(id)) {
      const r = to.streamRecv(id, buf);
      if (r === null || r.length === 0) break;
      got += r.length;
    }
    return got >= n;
  }, 50_000);
  assert.ok(ok, `exchanged ${got} of ${n}`);
}

describe('RFC 9001 §6 key update', () => {
  it('the peer follows a key update we initiate; data keeps flowing', () => {
    const ct = new MemoryTracer();
    const st = new MemoryTracer();
    const p = new Pair(configs((c, s) => (c.setTracer(ct), s.setTracer(st))));
    p.handshake();
    exchange(p, p.client, p.server!, 0, 10_000);
    assert.equal(p.client.initiateKeyUpdate(), true);
    exchange(p, p.client, p.server!, 0, 10_000);
    exchange(p, p.server!, p.client, 0, 10_000);
    assert.equal(p.client.stats().keyUpdates, 1);
    assert.equal(p.server!.stats().keyUpdates, 1, 'the server responded to the update');
    assert.equal(p.client.stats().keyPhase, 1);
    assert.ok(st.find('quic:key_updated', (d) => d.trigger === 'remote_update'));
    assert.ok(ct.find('quic:key_updated', (d) => d.trigger === 'local_update'));
    assert.ok(st.find('quic:packet_received', (d) => d.header.key_phase === 1));
  });

  it('updates repeatedly, from either side, each after the previous one was acknowledged', () => {
    const p = new Pair();
    p.handshake();
    for (let i = 0; i < 4; i++) {
      const initiator = i % 2 === 0 ? p.client : p.server!;
      exchange(p, p.client, p.server!, 0, 5_000);
      exchange(p, p.server!, p.client, 0, 5_000);
      initiator.initiateKeyUpdate();
      exchange(p, p.client, p.server!, 0, 5_000);
      exchange(p, p.server!, p.client, 0, 5_000);
    }
    assert.equal(p.client.stats().keyUpdates, 4);
    assert.equal(p.server!.stats().keyUpdates, 4);
    assert.equal(p.client.isClosed(), false);
  });

  it('keeps the previous read keys for 3 x PTO, then discards them (§6.5)', () => {
    const st = new MemoryTracer();
    const p = new Pair(configs((_c, s) => s.setTracer(st)));
    p.handshake();
    exchange(p, p.client, p.server!, 0, 1_000);
    p.client.initiateKeyUpdate();
    exchange(p, p.client, p.server!, 0, 1_000);
    const s = connectionState(p.server!);
    assert.ok(s.oneRtt!.previous !== null, 'old keys kept');
    p.runUntil(() => s.oneRtt!.previous === null, 1_000);
    assert.equal(s.oneRtt!.previous, null);
    assert.ok(st.find('quic:key_discarded', (d) => d.key_type === 'client_1rtt_secret'));
  });

  it('a key update is not initiated before the handshake is confirmed', () => {
    const p = new Pair();
    assert.equal(p.client.initiateKeyUpdate(), false);
    p.handshake();
    p.settle();
    exchange(p, p.client, p.server!, 0, 1_000);
    assert.equal(p.client.stats().keyUpdates, 1, 'the pending request runs once allowed');
  });
});

describe('RFC 9001 §6.6 AEAD limits', () => {
  it('closes with AEAD_LIMIT_REACHED when forged packets reach the integrity limit', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    const s = connectionState(p.server!);
    s.integrityLimit = 5; // test hook: the real limit is 2^52 for AES-GCM
    const dcid = p.server!.sourceId();
    for (let i = 0; i < 6; i++) {
      const forged = new Uint8Array(60).fill(i + 1);
      forged[0] = 0x40;
      forged.set(dcid, 1);
      p.server!.recv(forged, { from: CLIENT_ADDR, to: SERVER_ADDR }, p.now);
    }
    assert.equal(p.server!.localError()?.code, TransportError.AEAD_LIMIT_REACHED);
  });
});
