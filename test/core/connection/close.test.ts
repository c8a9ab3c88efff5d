import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../../core/connection/connection.ts';
import { buildStatelessResetFor, statelessResetToken } from '../../../core/endpoint/index.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { TransportError } from '../../../core/wire/errors.ts';
import { CLIENT_ADDR, Pair, SERVER_ADDR, configs } from './pair.ts';

describe('RFC 9000 §10.1 idle timeout', () => {
  it('both sides close silently after the smaller idle timeout', () => {
    const p = new Pair(
      configs((c, s) => {
        c.setMaxIdleTimeout(5_000);
        s.setMaxIdleTimeout(10_000);
      }),
    );
    p.handshake();
    p.settle();
    const quietSince = p.now;
    p.runUntil(() => p.client.isClosed() && p.server!.isClosed(), 1000);
    assert.equal(p.client.isTimedOut(), true);
    assert.equal(p.server!.isTimedOut(), true);
    assert.ok(
      p.now - quietSince >= 5_000 && p.now - quietSince < 6_000,
      `closed after ${p.now - quietSince} ms`,
    );
    assert.equal(p.client.peerError(), null);
  });

  it('traffic keeps the connection open past the idle timeout', () => {
    const p = new Pair(configs((c, s) => (c.setMaxIdleTimeout(2_000), s.setMaxIdleTimeout(2_000))));
    p.handshake();
    const start = p.now;
    const buf = new Uint8Array(100);
    for (let i = 0; i < 10; i++) {
      p.client.streamSend(0, new Uint8Array(10), false);
      p.settle();
      while (p.server!.streamRecv(0, buf) !== null);
      p.settle();
      p.now += 1_000;
    }
    assert.ok(p.now - start > 10_000);
    assert.equal(p.client.isClosed(), false);
  });
});

describe('RFC 9000 §10.2 immediate close', () => {
  it('an application close reaches the peer with its code and reason; both end closed', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    p.client.close(true, 42, 'bye');
    p.runUntil(() => p.client.isClosed() && p.server!.isClosed(), 10_000);
    assert.deepEqual(p.client.localError(), { isApp: true, code: 42, reason: 'bye' });
    assert.deepEqual(p.server!.peerError(), { isApp: true, code: 42, reason: 'bye' });
  });

  it('a transport close reaches the peer', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    p.server!.close(false, TransportError.NO_ERROR, 'done');
    p.runUntil(() => p.client.peerError() !== null, 1000);
    assert.deepEqual(p.client.peerError(), { isApp: false, code: 0, reason: 'done' });
    assert.equal(p.client.isDraining(), true);
    // §10.2.2: a draining endpoint sends nothing.
    assert.equal(p.client.send(new Uint8Array(1500), p.now), null);
  });

  it('an application close before the handshake is sent as APPLICATION_ERROR in Initial packets (§10.2.3)', () => {
    const p = new Pair();
    p.flush();
    p.client.close(true, 5, 'not now');
    p.runUntil(() => p.server?.peerError() != null, 1000);
    assert.deepEqual(p.server!.peerError(), {
      isApp: false,
      code: TransportError.APPLICATION_ERROR,
      reason: '',
    });
  });

  it('the closing state answers incoming packets with CONNECTION_CLOSE, then ends after 3 x PTO (§10.2.1)', () => {
    const ct = new MemoryTracer();
    const p = new Pair(configs((c) => c.setTracer(ct)));
    p.handshake();
    p.settle();
    p.client.close(false, TransportError.NO_ERROR, '');
    const buf = new Uint8Array(1500);
    assert.ok(p.client.send(buf, p.now), 'CONNECTION_CLOSE');
    assert.equal(p.client.send(buf, p.now), null, 'once');
    // The server keeps sending (it has not seen the close): the client answers again.
    p.server!.streamSend(1, new Uint8Array(100), false);
    const d = p.server!.send(buf, p.now)!;
    p.client.recv(buf.slice(0, d.length), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.ok(p.client.send(buf, p.now), 'CONNECTION_CLOSE again');
    const until = p.client.timeout()!;
    p.client.onTimeout(until);
    assert.equal(p.client.isClosed(), true);
    assert.ok(ct.find('quic:connection_state_updated', (x) => x.new === 'closed'));
  });
});

describe('RFC 9000 §10.3 stateless reset', () => {
  it('a datagram ending in the peer reset token drains the connection without sending', () => {
    const p = new Pair();
    p.handshake();
    p.settle();
    const server = connectionState(p.server!);
    const out = new Uint8Array(64);
    const token = statelessResetToken(
      server.provider,
      server.config.statelessResetKey!,
      p.client.destinationId(),
    );
    // A 44-byte trigger: the reset is 42 or 43 bytes (RFC 9000 §10.3.3), the tail is the token.
    const n = buildStatelessResetFor(out, 44, token, new Uint8Array(91).fill(0x41));
    p.client.recv(out.slice(0, n), { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.equal(p.client.isDraining(), true);
    assert.equal(p.client.peerError()?.reason, 'stateless reset');
    assert.equal(p.client.send(new Uint8Array(1500), p.now), null);
  });

  it('an undecryptable datagram with another tail is only dropped', () => {
    const p = new Pair();
    p.handshake();
    const junk = new Uint8Array(43).fill(0x41);
    p.client.recv(junk, { from: SERVER_ADDR, to: CLIENT_ADDR }, p.now);
    assert.equal(p.client.isDraining(), false);
    assert.equal(p.client.isClosed(), false);
  });
});
