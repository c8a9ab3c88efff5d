import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pair } from './pair.ts';

const MIB = 1024 * 1024;

function established(): Pair {
  const p = new Pair();
  p.handshake();
  p.settle();
  return p;
}

describe('RFC 9000 §3 stream states and counters through Connection.streamStats / streams', () => {
  it('a bidirectional stream ended with FIN: bytes sent, acknowledged, received; credit used', () => {
    const p = established();
    const data = new Uint8Array(3000).fill(7);
    assert.equal(p.client.streamSend(0, data, true), 3000);
    const before = p.client.streamStats(0);
    assert.equal(before?.send?.state, 'ready', 'nothing sent yet (§3.1 Ready)');
    assert.equal(before?.send?.bytesWritten, 3000);
    assert.equal(before?.send?.bytesSent, 0);
    assert.equal(before?.recv?.state, 'receive');
    p.settle();

    const c = p.client.streamStats(0);
    assert.equal(c?.id, 0);
    assert.equal(c?.send?.state, 'data_received', '§3.1 Data Recvd: all acknowledged');
    assert.equal(c?.send?.bytesSent, 3000);
    assert.equal(c?.send?.bytesAcked, 3000);
    assert.equal(c?.send?.finSent, true);
    // §4.1: the server's initial_max_stream_data_bidi_remote (1 MiB) less what was sent.
    assert.equal(c?.send?.credit, MIB - 3000);
    assert.equal(c?.send?.resetCode, null);

    const s = p.server?.streamStats(0);
    assert.equal(s?.recv?.state, 'data_received', '§3.2 Data Recvd: all bytes, not read yet');
    assert.equal(s?.recv?.bytesReceived, 3000);
    assert.equal(s?.recv?.bytesRead, 0);
    assert.equal(s?.recv?.finalSize, 3000);
    assert.equal(s?.recv?.finReceived, true);
    assert.equal(s?.send?.state, 'ready');
  });

  it('a unidirectional stream has one part on each side (§2.1)', () => {
    const p = established();
    p.client.streamSend(2, new Uint8Array([1, 2, 3]), false);
    p.settle();
    const c = p.client.streamStats(2);
    assert.equal(c?.recv, null);
    assert.equal(c?.send?.state, 'send');
    const s = p.server?.streamStats(2);
    assert.equal(s?.send, null);
    assert.equal(s?.recv?.bytesReceived, 3);
    assert.equal(s?.recv?.finReceived, false);
  });

  it('RESET_STREAM and STOP_SENDING codes on both sides (§3.5, §19.4, §19.5)', () => {
    const p = established();
    p.client.streamSend(0, new Uint8Array(100), false);
    p.client.streamSend(4, new Uint8Array(100), false);
    p.settle();
    p.client.streamShutdown(0, 'write', 7);
    p.server?.streamShutdown(4, 'read', 9);
    p.settle();
    assert.equal(p.client.streamStats(0)?.send?.resetCode, 7);
    assert.equal(p.client.streamStats(0)?.send?.state, 'reset_received');
    assert.equal(p.server?.streamStats(0)?.recv?.resetCode, 7);
    assert.equal(p.server?.streamStats(0)?.recv?.finReceived, false, 'a reset is not a FIN');
    assert.equal(p.server?.streamStats(4)?.recv?.stopCode, 9);
    // §3.5: STOP_SENDING makes the sender reset with the same code.
    assert.equal(p.client.streamStats(4)?.send?.stopSendingCode, 9);
    assert.equal(p.client.streamStats(4)?.send?.resetCode, 9);
  });

  it('streams() lists the held streams oldest first; unknown IDs give null; snapshots do not change', () => {
    const p = established();
    assert.deepEqual(p.client.streams(), []);
    assert.throws(() => p.client.streamSend(4, new Uint8Array(0), false), /not open/);
    p.client.streamSend(0, new Uint8Array(10), false);
    p.client.streamSend(2, new Uint8Array(10), false);
    const snap = p.client.streamStats(0);
    p.settle();
    assert.deepEqual(
      p.client.streams().map((s) => s.id),
      [0, 2],
    );
    assert.equal(p.client.streamStats(8), null);
    assert.equal(p.client.streamStats(1), null, 'the server opened none');
    assert.equal(snap?.send?.bytesSent, 0, 'a snapshot is a copy');
    assert.equal(p.client.streamStats(0)?.send?.bytesSent, 10);
  });
});
