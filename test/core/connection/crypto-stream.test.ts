import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CryptoRecvBuffer,
  CryptoSendBuffer,
  MAX_CRYPTO_BUFFER,
  RangeSet,
} from '../../../core/connection/crypto-stream.ts';
import { concatBytes } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('RangeSet', () => {
  it('merges, removes and answers containment', () => {
    const s = new RangeSet();
    s.add(10, 20);
    s.add(30, 40);
    s.add(20, 30);
    assert.deepEqual(s.r, [10, 40]);
    s.remove(15, 25);
    assert.deepEqual(s.r, [10, 15, 25, 40]);
    assert.equal(s.contains(25, 40), true);
    assert.equal(s.contains(14, 26), false);
  });
});

describe('RFC 9000 §19.6 CRYPTO send buffer', () => {
  it('emits new data in order, then lost data first, skipping what was acknowledged', () => {
    const s = new CryptoSendBuffer();
    const data = bytes(300);
    s.write(data);
    const a = s.emit(100);
    const b = s.emit(100);
    const c = s.emit(1000);
    assert.deepEqual([a?.offset, b?.offset, c?.offset], [0, 100, 200]);
    assert.equal(c?.data.length, 100);
    assert.equal(s.emit(100), null);
    s.onAck(100, 100);
    s.onLost(0, 300);
    const r1 = s.emit(1000);
    assert.deepEqual([r1?.offset, r1?.data.length], [0, 100]);
    assert.deepEqual(r1?.data, data.subarray(0, 100));
    const r2 = s.emit(1000);
    assert.deepEqual([r2?.offset, r2?.data.length], [200, 100]);
    assert.equal(s.hasData, false);
  });

  it('requeues everything unacknowledged for a probe', () => {
    const s = new CryptoSendBuffer();
    s.write(bytes(50));
    s.emit(50);
    s.onAck(0, 10);
    s.requeueUnacked();
    const r = s.emit(100);
    assert.deepEqual([r?.offset, r?.data.length], [10, 40]);
    assert.equal(s.hasUnacked, true);
    s.onAck(10, 40);
    assert.equal(s.hasUnacked, false);
  });
});

describe('RFC 9000 §7.5 CRYPTO receive buffer', () => {
  it('property: shuffled, duplicated, overlapping chunks deliver the exact bytes in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 400 })), { maxLength: 40 }),
        fc.integer(),
        (n, extra, seed) => {
          const data = bytes(n, seed & 0xff);
          // A covering set of chunks plus random overlapping ones, shuffled.
          const chunks: [number, number][] = [];
          for (let o = 0; o < n; o += 97) chunks.push([o, Math.min(n, o + 97)]);
          for (const [o, l] of extra) chunks.push([o % n, Math.min(n, (o % n) + l)]);
          chunks.sort((x, y) => ((x[0] * 7919 + seed) % 101) - ((y[0] * 7919 + seed) % 101));
          const r = new CryptoRecvBuffer();
          const out: Uint8Array[] = [];
          for (const [s, e] of chunks) out.push(...r.onData(s, data.slice(s, e)));
          assert.deepEqual(concatBytes(...out), data);
          assert.equal(r.buffered, 0);
        },
      ),
    );
  });

  it('raises CRYPTO_BUFFER_EXCEEDED for data too far ahead', () => {
    const r = new CryptoRecvBuffer();
    assert.throws(
      () => r.onData(MAX_CRYPTO_BUFFER, bytes(10)),
      (e: unknown) => e instanceof QuicError && e.code === TransportError.CRYPTO_BUFFER_EXCEEDED,
    );
  });

  it('ignores data already delivered', () => {
    const r = new CryptoRecvBuffer();
    assert.equal(r.onData(0, bytes(10)).length, 1);
    assert.equal(r.onData(0, bytes(10)).length, 0);
    assert.deepEqual(r.onData(5, bytes(10)), [bytes(10).subarray(5)]);
  });
});
