// Unreliable datagrams (RFC 9221) between our client and server over the network simulator:
// negotiation by max_datagram_frame_size (§3), DATAGRAM frames sent and received (§4), lost
// ones never sent again (§5.2), congestion control (§5.4), bounded queues and size limits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionState } from '../../core/connection/connection.ts';
import { DatagramError, TransportError } from '../../core/index.ts';
import type { MemoryTracer } from '../../core/trace/tracer.ts';
import { frameCount, handshake, makePair } from '../helpers/pair.ts';
import type { PairOptions } from '../helpers/pair.ts';
import type { Connection } from '../helpers/pair.ts';
import type { Sim } from '../helpers/netsim.ts';

function pair(options: PairOptions = {}, recv = 1024, send = 1024): Sim<Connection> {
  return makePair({
    ...options,
    client: (c) => {
      c.enableDgram(true, recv, send);
      options.client?.(c);
    },
    server: (c) => {
      c.enableDgram(true, recv, send);
      options.server?.(c);
    },
  });
}

/** A datagram whose first 4 bytes number it. */
function numbered(i: number, length: number): Uint8Array {
  const d = new Uint8Array(length).fill(i & 0xff);
  new DataView(d.buffer).setUint32(0, i);
  return d;
}

/** Every datagram waiting at `conn`, in order. */
function drain(conn: Connection): Uint8Array[] {
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (let n = conn.dgramRecv(buf); n !== null; n = conn.dgramRecv(buf)) out.push(buf.slice(0, n));
  return out;
}

function expectDatagramError(fn: () => unknown, kind: DatagramError['kind']): void {
  assert.throws(fn, (e: unknown) => e instanceof DatagramError && e.kind === kind);
}

describe('RFC 9221 §3 negotiation: max_datagram_frame_size', () => {
  it('both sides advertise 65535 when enabled; DATAGRAM frames flow both ways', () => {
    const sim = pair({ seed: 701 });
    handshake(sim);
    const client = sim.client.c;
    const server = sim.server.c;
    assert.equal(client.peerTransportParameters()?.maxDatagramFrameSize, 65535);
    assert.equal(server.peerTransportParameters()?.maxDatagramFrameSize, 65535);
    for (let i = 0; i < 20; i++) {
      assert.equal(client.dgramSend(numbered(i, 500)), true);
      assert.equal(server.dgramSend(numbered(100 + i, 300)), true);
    }
    sim.runFor(200);
    const atServer = drain(server);
    const atClient = drain(client);
    assert.deepEqual(
      atServer,
      Array.from({ length: 20 }, (_, i) => numbered(i, 500)),
    );
    assert.deepEqual(
      atClient,
      Array.from({ length: 20 }, (_, i) => numbered(100 + i, 300)),
    );
    assert.equal(client.stats().datagramsSent, 20);
    assert.equal(client.stats().datagramsReceived, 20);
    assert.equal(server.stats().datagramsReceived, 20);
    assert.equal(frameCount(sim, 'client', 'datagram'), 20);
    assert.equal(frameCount(sim, 'server', 'datagram', 'received'), 20);
    // qlog datagram_data_moved (quic-events §5.16): application → transport, transport → application.
    const ct = sim.client.tracer as MemoryTracer;
    const st = sim.server.tracer as MemoryTracer;
    assert.equal(
      ct.count('quic:datagram_data_moved', (d) => d.from === 'application' && d.to === 'transport'),
      20,
    );
    assert.equal(
      st.count('quic:datagram_data_moved', (d) => d.from === 'transport' && d.to === 'application'),
      20,
    );
    assert.equal(
      st.find('quic:datagram_data_moved', (d) => d.to === 'application')?.raw?.length,
      500,
      'raw.length is the datagram data only',
    );
  });

  it('without enableDgram: no parameter, dgramSend refuses (disabled), the peer sees no support', () => {
    const sim = makePair({ seed: 702, client: (c) => c.enableDgram(true) });
    handshake(sim);
    assert.equal(sim.server.c.localTransportParameters()?.maxDatagramFrameSize, null);
    expectDatagramError(() => sim.server.c.dgramSend(new Uint8Array(10)), 'disabled');
    assert.equal(sim.client.c.dgramMaxWritableLen(), null);
    expectDatagramError(() => sim.client.c.dgramSend(new Uint8Array(10)), 'unsupported');
  });

  it('before the peer transport parameters arrive, nothing can be sent (§3)', () => {
    const sim = pair({ seed: 703 });
    expectDatagramError(() => sim.client.c.dgramSend(new Uint8Array(1)), 'unsupported');
  });

  it('a closed connection refuses datagrams', () => {
    const sim = pair({ seed: 704 });
    handshake(sim);
    sim.client.c.close(true, 0, 'bye');
    expectDatagramError(() => sim.client.c.dgramSend(new Uint8Array(1)), 'connection_closed');
  });

  it('an empty datagram is allowed (§4)', () => {
    const sim = pair({ seed: 705 });
    handshake(sim);
    assert.equal(sim.client.c.dgramSend(new Uint8Array(0)), true);
    sim.runFor(100);
    assert.equal(sim.server.c.dgramRecvFrontLen(), 0);
    assert.equal(sim.server.c.dgramRecv(new Uint8Array(0)), 0);
    assert.equal(sim.server.c.dgramRecv(new Uint8Array(10)), null);
  });
});

describe('RFC 9221 §3, §5 size limits', () => {
  it('dgramMaxWritableLen: one packet at the current datagram size; larger throws too_large', () => {
    const sim = pair({ seed: 711, client: (c) => c.enablePmtud(false) });
    handshake(sim);
    const c = sim.client.c;
    const max = c.dgramMaxWritableLen();
    // 1350 bytes - short header (1 + 8-byte DCID + 4-byte packet number) - tag - type - Length.
    assert.equal(max, 1350 - 1 - 8 - 4 - 16 - 1 - 2);
    expectDatagramError(() => c.dgramSend(new Uint8Array((max as number) + 1)), 'too_large');
    assert.equal(c.dgramSend(new Uint8Array(max as number)), true);
    sim.runFor(100);
    assert.equal(sim.server.c.dgramRecvFrontLen(), max);
  });

  it("the peer's max_datagram_frame_size bounds the whole frame (type, Length, data)", () => {
    const sim = pair({ seed: 712, server: (c) => c.setMaxDatagramFrameSize(100) });
    handshake(sim);
    // 1 (type) + 2 (Length of 97) + 97 = 100.
    assert.equal(sim.client.c.dgramMaxWritableLen(), 97);
    expectDatagramError(() => sim.client.c.dgramSend(new Uint8Array(98)), 'too_large');
    assert.equal(sim.client.c.dgramSend(new Uint8Array(97)), true);
    sim.runFor(100);
    assert.equal(sim.server.c.dgramRecvFrontLen(), 97);
    assert.equal(sim.server.c.localError(), null);
  });

  it('a DATAGRAM frame larger than what we advertised is a PROTOCOL_VIOLATION (§3)', () => {
    const sim = pair({ seed: 713, server: (c) => c.setMaxDatagramFrameSize(100) });
    handshake(sim);
    // Make the client believe the server accepts more (a misbehaving peer).
    (connectionState(sim.client.c).peerParams as { maxDatagramFrameSize: number }).maxDatagramFrameSize =
      1000;
    assert.equal(sim.client.c.dgramSend(new Uint8Array(98)), true);
    sim.runFor(200);
    const err = sim.server.c.localError();
    assert.equal(err?.code, TransportError.PROTOCOL_VIOLATION);
    assert.match(err?.reason ?? '', /max_datagram_frame_size/);
    assert.equal(sim.client.c.peerError()?.code, TransportError.PROTOCOL_VIOLATION);
  });

  it('a DATAGRAM frame when we did not advertise support is a PROTOCOL_VIOLATION (§3)', () => {
    const sim = makePair({ seed: 714, client: (c) => c.enableDgram(true) });
    handshake(sim);
    (connectionState(sim.client.c).peerParams as { maxDatagramFrameSize: number }).maxDatagramFrameSize =
      65535;
    assert.equal(sim.client.c.dgramSend(new Uint8Array(10)), true);
    sim.runFor(200);
    assert.equal(sim.server.c.localError()?.code, TransportError.PROTOCOL_VIOLATION);
    assert.equal(sim.client.c.peerError()?.code, TransportError.PROTOCOL_VIOLATION);
  });
});

describe('RFC 9221 §5 queues: bounded, oldest received dropped, newest sent refused', () => {
  it('the send queue refuses the newest datagram when full', () => {
    const sim = pair({ seed: 721 }, 1024, 4);
    handshake(sim);
    const c = sim.client.c;
    for (let i = 0; i < 4; i++) assert.equal(c.dgramSend(numbered(i, 100)), true);
    assert.equal(c.dgramSend(numbered(4, 100)), false);
    assert.deepEqual(c.dgramQueueLengths(), { recv: 0, send: 4 });
    sim.runFor(100);
    assert.deepEqual(
      drain(sim.server.c).map((d) => d[3]),
      [0, 1, 2, 3],
    );
    assert.equal(c.dgramQueueLengths().send, 0);
    assert.equal(c.dgramSend(numbered(5, 100)), true, 'room again once sent');
  });

  it('the receive queue keeps the newest datagrams when the application does not read', () => {
    const sim = pair({ seed: 722 }, 3, 1024);
    handshake(sim);
    for (let i = 0; i < 10; i++) sim.client.c.dgramSend(numbered(i, 200));
    sim.runFor(100);
    const s = sim.server.c;
    assert.equal(s.stats().datagramsReceived, 10);
    assert.equal(s.stats().datagramsDropped, 7);
    assert.deepEqual(s.dgramQueueLengths(), { recv: 3, send: 0 });
    assert.deepEqual(
      drain(s).map((d) => d[3]),
      [7, 8, 9],
    );
  });

  it('dgramRecv into a buffer too small is a RangeError and keeps the datagram', () => {
    const sim = pair({ seed: 723 });
    handshake(sim);
    sim.client.c.dgramSend(numbered(1, 50));
    sim.runFor(100);
    assert.throws(() => sim.server.c.dgramRecv(new Uint8Array(49)), RangeError);
    assert.equal(sim.server.c.dgramRecv(new Uint8Array(50)), 50);
  });
});

describe('RFC 9221 §5.2, §5.4 loss and congestion control', () => {
  it('20% loss: some datagrams are lost and none is sent twice', () => {
    const sim = pair({ seed: 731, link: { loss: 0.2 } });
    handshake(sim, { maxTime: 120_000 });
    const total = 200;
    // One datagram every 5 ms of virtual time.
    for (let i = 0; i < total; i++) sim.at(sim.now + i * 5, () => sim.client.c.dgramSend(numbered(i, 400)));
    sim.runFor(total * 5 + 2000);
    const received = drain(sim.server.c).map((d) => new DataView(d.buffer).getUint32(0));
    const st = sim.client.c.stats();
    assert.equal(st.datagramsSent, total);
    assert.equal(frameCount(sim, 'client', 'datagram'), total, 'each datagram in one frame, never resent');
    assert.ok(received.length < total && received.length > total / 2, `received ${received.length}`);
    assert.equal(new Set(received).size, received.length, 'no duplicates');
    assert.deepEqual(
      received,
      [...received].sort((a, b) => a - b),
      'in order (no reordering on this link)',
    );
    assert.ok(st.packetsLost > 0, 'the losses were detected (ack-eliciting packets, RFC 9002)');
    assert.equal(sim.client.c.localError(), null);
  });

  it('datagram packets count in flight and wait for the congestion window', () => {
    const sim = pair({ seed: 732 });
    handshake(sim);
    sim.runFor(500);
    const c = sim.client.c;
    assert.equal(c.stats().bytesInFlight, 0);
    for (let i = 0; i < 100; i++) c.dgramSend(numbered(i, 1000));
    const buf = new Uint8Array(65536);
    let sent = 0;
    for (let d = c.send(buf, sim.now); d !== null; d = c.send(buf, sim.now)) sent += d.length;
    const st = c.stats();
    assert.equal(st.bytesInFlight, sent, 'in flight');
    assert.ok(st.bytesInFlight <= st.cwnd, 'within the congestion window');
    assert.ok(c.dgramQueueLengths().send > 0, 'the rest waits for acknowledgments');
  });
});
