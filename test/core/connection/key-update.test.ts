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

/** Packets sent per 1-RTT key phase (qlog key_phase: the update generation). */
function packetsPerPhase(t: MemoryTracer): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of t.events('quic:packet_sent')) {
    const phase = e.header.key_phase;
    if (e.header.packet_type === '1RTT' && phase !== undefined) m.set(phase, (m.get(phase) ?? 0) + 1);
  }
  return m;
}

describe('RFC 9001 §6.6 automatic key update before the confidentiality limit', () => {
  it('updates by itself at 3/4 of the limit (test limit 400 packets); the peer follows', () => {
    const ct = new MemoryTracer({ maxEvents: 100_000 });
    const st = new MemoryTracer({ maxEvents: 100_000 });
    const p = new Pair(
      configs((c, s) => {
        c.setAeadLimitsForTesting({ confidentiality: 400 });
        c.setTracer(ct);
        s.setTracer(st);
      }),
    );
    p.handshake();
    exchange(p, p.client, p.server!, 0, 1_000_000);
    const updates = p.client.stats().keyUpdates;
    assert.ok(updates >= 2, `${updates} key updates for ${p.client.stats().packetsSent} packets`);
    assert.equal(p.server!.stats().keyUpdates, updates, 'the server followed each one');
    assert.equal(p.client.isClosed() || p.client.isDraining(), false);
    const auto = ct.events('quic:key_updated').filter((e) => e.trigger === 'local_update');
    assert.equal(auto.length, 2 * updates, 'client and server 1-RTT secrets, once per update');
    assert.ok(st.find('quic:key_updated', (d) => d.trigger === 'remote_update' && d.key_phase === 1));
    // No key sealed more than the limit; every finished phase was replaced at 3/4 of it.
    const perPhase = packetsPerPhase(ct);
    for (const [phase, n] of perPhase) {
      assert.ok(n < 400, `phase ${phase}: ${n} packets`);
      if (phase < updates) assert.ok(n >= 300 && n <= 310, `phase ${phase} replaced after ${n} packets`);
    }
  });

  it('a downloading receiver, sending mostly ACKs, updates its keys too', () => {
    const ct = new MemoryTracer({ maxEvents: 100_000 });
    const p = new Pair(
      configs((c) => {
        c.setAeadLimitsForTesting({ confidentiality: 64 });
        c.setTracer(ct);
      }),
    );
    p.handshake();
    p.settle();
    exchange(p, p.server!, p.client, 1, 600_000);
    assert.ok(p.client.stats().keyUpdates >= 2, `${p.client.stats().keyUpdates} updates`);
    assert.equal(p.client.localError(), null);
    for (const [phase, n] of packetsPerPhase(ct)) assert.ok(n < 64, `phase ${phase}: ${n} packets`);
  });

  it('§6.1: with nothing of the current phase acknowledged, a PING elicits the ACK the update needs', () => {
    const ct = new MemoryTracer({ maxEvents: 10_000 });
    const p = new Pair(
      configs((c) => {
        c.setAeadLimitsForTesting({ confidentiality: 64 });
        c.setTracer(ct);
      }),
    );
    p.handshake();
    p.settle();
    assert.equal(p.client.initiateKeyUpdate(), true);
    p.flush();
    assert.equal(p.client.stats().keyUpdates, 1);
    // As if 48 ACK-only packets had gone out in the new phase (never acknowledged by themselves).
    const keys = connectionState(p.client).oneRtt!;
    keys.sealedInPhase = 48;
    p.settle();
    assert.equal(p.client.stats().keyUpdates, 2, 'the update went ahead once the PING was acknowledged');
    const pings = ct
      .events('quic:packet_sent')
      .filter((e) => e.header.key_phase === 1 && e.frames?.some((f) => f.frame_type === 'ping'));
    assert.equal(pings.length, 1);
  });

  it('closes with AEAD_LIMIT_REACHED when no update is possible before the limit (nothing acknowledged)', () => {
    const ct = new MemoryTracer({ maxEvents: 100_000 });
    const p = new Pair(
      configs((c) => {
        c.setAeadLimitsForTesting({ confidentiality: 16 });
        c.setTracer(ct);
      }),
    );
    p.handshake();
    p.settle();
    // From now on nothing the client sends arrives: no packet of its current phase is acknowledged.
    p.dropIf = (_d, toServer) => toServer;
    p.client.streamSend(0, new Uint8Array(200_000), false);
    p.runUntil(() => p.client.localError() !== null, 100_000);
    assert.equal(p.client.localError()?.code, TransportError.AEAD_LIMIT_REACHED);
    assert.ok(
      ct.find('quic:connection_closed', (d) => d.error_code === TransportError.AEAD_LIMIT_REACHED),
      'qlog connection_closed',
    );
    for (const [phase, n] of packetsPerPhase(ct)) assert.ok(n <= 16, `phase ${phase}: ${n} packets`);
  });

  it('closes with AEAD_LIMIT_REACHED once forged packets exceed the integrity limit (test limit 3)', () => {
    const p = new Pair(configs((_c, s) => s.setAeadLimitsForTesting({ integrity: 3 })));
    p.handshake();
    p.settle();
    const dcid = p.server!.sourceId();
    const forge = (i: number) => {
      const forged = new Uint8Array(60).fill(i + 1);
      forged[0] = 0x40 | (i & 4); // short header, either key phase
      forged.set(dcid, 1);
      p.server!.recv(forged, { from: CLIENT_ADDR, to: SERVER_ADDR }, p.now);
    };
    for (let i = 0; i < 3; i++) forge(i);
    assert.equal(p.server!.localError(), null, 'three failures are within the limit');
    assert.equal(p.server!.stats().packetsDropped >= 3, true);
    forge(3);
    assert.equal(p.server!.localError()?.code, TransportError.AEAD_LIMIT_REACHED);
  });
});

describe('Config.setAeadLimitsForTesting', () => {
  it('checks its arguments and null restores the RFC 9001 §6.6 limits', () => {
    const { client } = configs();
    assert.throws(() => client.setAeadLimitsForTesting({ confidentiality: 8 }), RangeError);
    assert.throws(() => client.setAeadLimitsForTesting({ integrity: -1 }), RangeError);
    assert.throws(() => client.setAeadLimitsForTesting({ integrity: 1.5 }), TypeError);
    client.setAeadLimitsForTesting({ integrity: 10 });
    assert.deepEqual(client.aeadLimitsForTesting, { integrity: 10 });
    client.setAeadLimitsForTesting(null);
    assert.equal(client.aeadLimitsForTesting, null);
  });
});
