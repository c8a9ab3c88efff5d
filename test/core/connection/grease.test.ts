// Greasing helpers (RFC 9287 §3.1, RFC 9000 §18.1): the random QUIC bit source and the reserved
// transport parameter, with a scripted random source.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultProvider } from '../../../core/crypto/index.ts';
import type { CryptoProvider } from '../../../core/crypto/provider.ts';
import { QuicBitGrease, greaseTransportParameter } from '../../../core/connection/grease.ts';
import { Writer } from '../../../core/wire/buffer.ts';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  isReservedTransportParameterId,
} from '../../../core/wire/transport-params.ts';

/** A provider whose randomBytes returns the scripted bytes, in order. */
function scripted(...bytes: number[]): CryptoProvider & { drawn: number } {
  const queue = [...bytes];
  const p = {
    ...defaultProvider,
    drawn: 0,
    randomBytes(n: number): Uint8Array {
      p.drawn += n;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = queue.shift() ?? 0;
      return out;
    },
  };
  return p;
}

describe('RFC 9287 §3.1 an unpredictable QUIC bit', () => {
  it('stays 1 until the peer advertised grease_quic_bit (no randomness drawn)', () => {
    const p = scripted();
    const g = new QuicBitGrease(p);
    for (let i = 0; i < 100; i++) assert.equal(g.next(), true);
    assert.equal(p.drawn, 0);
  });

  it('once enabled, each packet takes the next random bit (32 per draw of 4 bytes)', () => {
    const p = scripted(0b1010_0110, 0xff, 0x00, 0x0f, 0x01);
    const g = new QuicBitGrease(p);
    g.enabled = true;
    const bits = Array.from({ length: 40 }, () => (g.next() ? 1 : 0));
    assert.deepEqual(bits.slice(0, 8), [0, 1, 1, 0, 0, 1, 0, 1]);
    assert.deepEqual(bits.slice(8, 16), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(bits.slice(16, 24), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(bits.slice(24, 32), [1, 1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(bits.slice(32, 34), [1, 0]);
    assert.equal(p.drawn, 8);
  });
});

describe('RFC 9000 §18.1 reserved transport parameters', () => {
  it('about half the time nothing (the low bit of the first random byte is 0)', () => {
    assert.equal(greaseTransportParameter(scripted(0x02, 5)), undefined);
  });

  it('otherwise 2 bytes choosing N plus 0..16 bytes of value', () => {
    const g = greaseTransportParameter(scripted(0x01, 16 + 17 * 3, 0x12, 0x34, 9, 9, 9));
    assert.ok(g !== undefined);
    assert.equal(g.length, 2 + 16);
    assert.deepEqual([...g.subarray(0, 3)], [0x12, 0x34, 9]);
    assert.equal(greaseTransportParameter(scripted(0x01, 17))?.length, 2, 'a 0-byte value');
  });

  it('the encoded parameter has a reserved id 31 * N + 27, and the peer keeps it as unknown', () => {
    for (let n = 0; n < 50; n++) {
      const grease = greaseTransportParameter(scripted(0x01, n, n * 7, n * 13, 1, 2, 3, 4, 5));
      const w = new Writer(new Uint8Array(512));
      encodeTransportParameters(w, defaultTransportParameters(), 'client', { grease });
      const p = decodeTransportParameters(w.written(), 'client');
      assert.equal(p.unknownParameters.length, 1);
      const u = p.unknownParameters[0];
      assert.ok(isReservedTransportParameterId(u.id), `id ${u.id}`);
      assert.equal(u.id, 31 * (((n * 7) & 0xff) * 256 + ((n * 13) & 0xff)) + 27);
      assert.equal(u.value.length, n % 17);
    }
  });
});
