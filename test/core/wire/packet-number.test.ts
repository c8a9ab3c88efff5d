import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodePacketNumber,
  encodePacketNumberLength,
  readPacketNumber,
  truncatePacketNumber,
  writePacketNumber,
} from '../../../core/wire/packet-number.ts';

describe('RFC 9000 §17.1 and Appendix A.2 packet number encoding', () => {
  it('uses 16 bits for 0xac5c02 after 0xabe8b3 was acknowledged (A.2 example)', () => {
    assert.equal(encodePacketNumberLength(0xac5c02, 0xabe8b3), 2);
    assert.equal(truncatePacketNumber(0xac5c02, 2), 0x5c02);
  });
  it('uses 24 bits for 0xace8fe in the same state (A.2 example)', () => {
    assert.equal(encodePacketNumberLength(0xace8fe, 0xabe8b3), 3);
    assert.equal(truncatePacketNumber(0xace8fe, 3), 0xace8fe);
  });
  it('covers the whole packet number before any acknowledgment', () => {
    assert.equal(encodePacketNumberLength(0, null), 1);
    assert.equal(encodePacketNumberLength(126, null), 1);
    assert.equal(encodePacketNumberLength(127, null), 2); // 128 unacknowledged
    assert.equal(encodePacketNumberLength(0x7ffe, null), 2);
    assert.equal(encodePacketNumberLength(0x7fff, null), 3);
    assert.equal(encodePacketNumberLength(0x7ffffe, null), 3);
    assert.equal(encodePacketNumberLength(0x7fffff, null), 4);
    assert.equal(encodePacketNumberLength(2 ** 40, null), 4);
  });
  it('represents more than twice the unacknowledged range', () => {
    assert.equal(encodePacketNumberLength(1000 + 127, 1000), 1);
    assert.equal(encodePacketNumberLength(1000 + 128, 1000), 2);
  });
});

describe('RFC 9000 Appendix A.3 packet number decoding', () => {
  it('decodes 0x9b32 after 0xa82f30ea as 0xa82f9b32 (A.3 example)', () => {
    assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
  });
  it('decodes the A.2 examples back', () => {
    assert.equal(decodePacketNumber(0xabe8b3, 0x5c02, 16), 0xac5c02);
    assert.equal(decodePacketNumber(0xabe8b3, 0xace8fe, 24), 0xace8fe);
  });
  it('wraps forwards and backwards around the window', () => {
    assert.equal(decodePacketNumber(0xff, 0x01, 8), 0x101); // next window
    assert.equal(decodePacketNumber(0x101, 0xff, 8), 0xff); // previous window
    assert.equal(decodePacketNumber(-1, 0, 8), 0); // first packet
    assert.equal(decodePacketNumber(-1, 0xff, 8), 0xff); // no underflow below 0
  });
  it('decode(truncate(pn)) == pn whenever the length was chosen by encodePacketNumberLength', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.integer({ min: 1, max: 2 ** 24 }),
        fc.boolean(),
        (largestAcked, gap, received) => {
          const pn = largestAcked + gap;
          const len = encodePacketNumberLength(pn, largestAcked);
          // The receiver has seen anything from largestAcked up to pn - 1.
          const largestReceived = received ? pn - 1 : largestAcked;
          assert.equal(decodePacketNumber(largestReceived, truncatePacketNumber(pn, len), len * 8), pn);
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('writes and reads 1..4-byte fields', () => {
    const buf = new Uint8Array(6);
    writePacketNumber(buf, 1, 0x1234_5678_9a, 4);
    assert.deepEqual([...buf], [0, 0x34, 0x56, 0x78, 0x9a, 0]);
    assert.equal(readPacketNumber(buf, 1, 4), 0x3456789a);
    writePacketNumber(buf, 0, 654360564, 3);
    assert.equal(readPacketNumber(buf, 0, 3), 0x00bff4);
  });
});
