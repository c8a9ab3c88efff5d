import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { concatBytes, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { TlsAlert } from '../../../core/tls/alerts.ts';
import { CryptoBufferExceededError, HandshakeBuffer } from '../../../core/tls/handshake-buffer.ts';
import type { RawHandshakeMessage } from '../../../core/tls/handshake-buffer.ts';
import { simple } from './vectors-tls13-draft07.ts';

/** The server's encrypted flight of draft-ietf-tls-tls13-vectors-07 §3: EE, Certificate, CV, Finished. */
const FLIGHT = [
  simple.encryptedExtensions,
  simple.certificate,
  simple.certificateVerify,
  simple.serverFinished,
];
const STREAM = concatBytes(...FLIGHT.map((m) => fromHex(m)));

function drain(b: HandshakeBuffer, out: RawHandshakeMessage[]): void {
  for (let m = b.next(); m !== null; m = b.next()) out.push(m);
}

const isBufferExceeded = (e: unknown) =>
  e instanceof CryptoBufferExceededError &&
  e instanceof QuicError &&
  e.code === TransportError.CRYPTO_BUFFER_EXCEEDED;

describe('RFC 9001 §4.1.3 handshake messages split across CRYPTO frames', () => {
  it('yields each whole message with its type, body and raw bytes', () => {
    const b = new HandshakeBuffer();
    b.push(STREAM);
    const out: RawHandshakeMessage[] = [];
    drain(b, out);
    assert.deepEqual(
      out.map((m) => toHex(m.raw)),
      FLIGHT,
    );
    assert.deepEqual(
      out.map((m) => m.type),
      [8, 11, 15, 20],
    );
    assert.deepEqual(out[1].body, out[1].raw.subarray(4));
    assert.equal(b.buffered, 0);
    b.checkEmpty('Handshake');
  });

  it('any split of the stream into chunks gives the same messages (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          cuts.sort((a, b) => a - b);
          const b = new HandshakeBuffer();
          const out: RawHandshakeMessage[] = [];
          let prev = 0;
          for (const c of [...cuts, STREAM.length]) {
            b.push(STREAM.subarray(prev, c));
            drain(b, out);
            prev = c;
          }
          assert.deepEqual(
            out.map((m) => toHex(m.raw)),
            FLIGHT,
          );
          assert.equal(b.buffered, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns copies: a message stays intact after later pushes', () => {
    const b = new HandshakeBuffer();
    const data = Uint8Array.from(STREAM);
    b.push(data.subarray(0, 50));
    const first = b.next()!;
    data.fill(0xee);
    b.push(new Uint8Array(3000).fill(0x01).subarray(0, 10));
    assert.equal(toHex(first.raw), simple.encryptedExtensions);
  });

  it('waits for the rest of a message; a partial message left at a key change is unexpected_message', () => {
    const b = new HandshakeBuffer();
    b.push(fromHex(simple.serverFinished).subarray(0, 3));
    assert.equal(b.next(), null);
    b.push(fromHex(simple.serverFinished).subarray(3, 20));
    assert.equal(b.next(), null);
    assert.equal(b.buffered, 20);
    assert.throws(
      () => b.checkEmpty('Handshake'),
      (e: unknown) => e instanceof TlsAlert && e.alert === 10,
    );
  });

  it('RFC 9000 §7.5: a message larger than the limit is CRYPTO_BUFFER_EXCEEDED as soon as its header is seen', () => {
    const b = new HandshakeBuffer(1000);
    b.push(fromHex('0b00'));
    assert.throws(() => b.push(fromHex('03e9')), isBufferExceeded); // 1001 bytes declared
    const ok = new HandshakeBuffer(1000);
    ok.push(fromHex('0b0003e8'));
    assert.equal(ok.next(), null);
    // a second message in the same push is checked too
    const second = new HandshakeBuffer(1000);
    assert.throws(() => second.push(fromHex('14000001ff' + '0bffffff')), isBufferExceeded);
  });

  it('more buffered bytes than the limit is CRYPTO_BUFFER_EXCEEDED', () => {
    const b = new HandshakeBuffer(65536, 100);
    b.push(new Uint8Array([0x0b, 0, 0, 200]));
    b.push(new Uint8Array(96));
    assert.throws(() => b.push(new Uint8Array(1)), isBufferExceeded);
  });

  it('compacts and grows without losing bytes over many messages', () => {
    const b = new HandshakeBuffer();
    const out: RawHandshakeMessage[] = [];
    for (let i = 0; i < 200; i++) {
      // each push ends mid-way through the next message
      const msg = fromHex(`14000020${(i & 0xff).toString(16).padStart(2, '0').repeat(32)}`);
      b.push(msg.subarray(0, 10));
      b.push(msg.subarray(10));
      drain(b, out);
    }
    assert.equal(out.length, 200);
    assert.ok(out.every((m, i) => m.body.length === 32 && m.body.every((x) => x === (i & 0xff))));
  });
});
