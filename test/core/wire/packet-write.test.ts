import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { Writer, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { readPacketNumber } from '../../../core/wire/packet-number.ts';
import {
  MIN_STATELESS_RESET_LENGTH,
  buildRetryPseudoPacket,
  buildStatelessReset,
  buildVersionNegotiation,
  patchLength,
  statelessResetTokenCandidate,
  writeLongHeader,
  writeRetry,
  writeShortHeader,
} from '../../../core/wire/packet-write.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';

const CLIENT_DCID = fromHex('8394c8f03e515708');
const SERVER_SCID = fromHex('f067a5502a4262b5');
const EMPTY = new Uint8Array(0);

function written(f: (w: Writer) => unknown, size = 64): string {
  const w = new Writer(new Uint8Array(size));
  f(w);
  return toHex(w.written());
}

describe('RFC 9000 §17.2 writing long headers (RFC 9001 A.2/A.3, RFC 9369 A.2/A.3)', () => {
  it('writes the v1 client Initial header byte-exact', () => {
    let pnOffset = -1;
    const hex = written((w) => {
      pnOffset = writeLongHeader(w, {
        type: 'initial',
        version: QUIC_VERSION_1,
        dcid: CLIENT_DCID,
        scid: EMPTY,
        pnLength: 4,
        pn: 2,
        payloadLength: 1178, // 1162 bytes of frames + 16-byte tag
      });
    });
    assert.equal(hex, 'c300000001088394c8f03e5157080000449e00000002');
    assert.equal(pnOffset, 18);
  });
  it('writes the v1 server Initial header byte-exact', () => {
    const hex = written((w) =>
      writeLongHeader(w, {
        type: 'initial',
        version: QUIC_VERSION_1,
        dcid: EMPTY,
        scid: SERVER_SCID,
        pnLength: 2,
        pn: 1,
        payloadLength: 0x75 - 2,
      }),
    );
    assert.equal(hex, 'c1000000010008f067a5502a4262b50040750001');
  });
  it('writes the v2 client and server Initial headers with type bits 0b01', () => {
    const client = written((w) =>
      writeLongHeader(w, {
        type: 'initial',
        version: QUIC_VERSION_2,
        dcid: CLIENT_DCID,
        scid: EMPTY,
        token: EMPTY,
        pnLength: 4,
        pn: 2,
        payloadLength: 1178,
      }),
    );
    assert.equal(client, 'd36b3343cf088394c8f03e5157080000449e00000002');
    const server = written((w) =>
      writeLongHeader(w, {
        type: 'initial',
        version: QUIC_VERSION_2,
        dcid: EMPTY,
        scid: SERVER_SCID,
        pnLength: 2,
        pn: 1,
        payloadLength: 0x73,
      }),
    );
    assert.equal(server, 'd16b3343cf0008f067a5502a4262b50040750001');
  });
  it('writes a 2-byte Length placeholder that patchLength fills in', () => {
    const w = new Writer(new Uint8Array(64));
    const pnOffset = writeLongHeader(w, {
      type: 'handshake',
      version: QUIC_VERSION_1,
      dcid: CLIENT_DCID,
      scid: SERVER_SCID,
      pnLength: 1,
      pn: 0x1ff,
    });
    assert.equal(toHex(w.buf.subarray(pnOffset - 2, pnOffset + 1)), '4000ff');
    patchLength(w.buf, pnOffset - 2, 0x3fff);
    assert.equal(toHex(w.buf.subarray(pnOffset - 2, pnOffset)), '7fff');
    assert.throws(() => patchLength(w.buf, pnOffset - 2, 0x4000), RangeError);
    assert.throws(() => patchLength(w.buf, 63, 1), RangeError);
  });
  it('clears the QUIC bit only when asked (RFC 9287 §3.1)', () => {
    const hex = written((w) =>
      writeLongHeader(w, {
        type: '0rtt',
        version: QUIC_VERSION_1,
        dcid: EMPTY,
        scid: EMPTY,
        pnLength: 1,
        pn: 0,
        payloadLength: 20,
        quicBit: false,
      }),
    );
    assert.equal(hex, '90' + '00000001' + '0000' + '4015' + '00');
  });
  it("rejects a caller's mistakes with RangeError", () => {
    const w = new Writer(new Uint8Array(64));
    const base = { version: QUIC_VERSION_1, scid: EMPTY, pnLength: 1, pn: 0 } as const;
    assert.throws(
      () => writeLongHeader(w, { ...base, type: 'initial', dcid: new Uint8Array(21) }),
      RangeError,
    );
    assert.throws(
      () => writeLongHeader(w, { ...base, type: 'handshake', dcid: EMPTY, token: fromHex('01') }),
      RangeError,
    );
    assert.throws(
      () => writeLongHeader(w, { ...base, type: 'initial', dcid: EMPTY, payloadLength: 16383 }),
      RangeError,
    );
    assert.throws(
      () => writeLongHeader(w, { ...base, type: 'initial', dcid: EMPTY, version: 0x1a2a3a4a }),
      RangeError,
    );
    assert.throws(
      () => writeLongHeader(new Writer(new Uint8Array(8)), { ...base, type: 'initial', dcid: EMPTY }),
      RangeError,
    );
  });
});

describe('RFC 9000 §17.3.1 writing short headers', () => {
  it('writes the RFC 9001 A.5 header 4200bff4', () => {
    let pnOffset = -1;
    const hex = written((w) => {
      pnOffset = writeShortHeader(w, {
        dcid: EMPTY,
        spin: false,
        keyPhase: false,
        pnLength: 3,
        pn: 654360564,
      });
    });
    assert.equal(hex, '4200bff4');
    assert.equal(pnOffset, 1);
  });
  it('sets spin and key phase bits, and clears the QUIC bit when asked', () => {
    const dcid = fromHex('0102030405060708');
    const hex = written((w) =>
      writeShortHeader(w, { dcid, spin: true, keyPhase: 1, pnLength: 1, pn: 0x1234 }),
    );
    assert.equal(hex, '64' + '0102030405060708' + '34');
    const greased = written((w) =>
      writeShortHeader(w, { dcid, spin: false, keyPhase: 0, pnLength: 2, pn: 7, quicBit: false }),
    );
    assert.equal(greased, '01' + '0102030405060708' + '0007');
  });
});

describe('property: parseHeader reads back what the writers wrote', () => {
  const cid = fc.uint8Array({ maxLength: 20 });
  it('long headers (v1 and v2, all three protected types)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(QUIC_VERSION_1, QUIC_VERSION_2),
        fc.constantFrom('initial' as const, '0rtt' as const, 'handshake' as const),
        cid,
        cid,
        fc.uint8Array({ maxLength: 100 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        (version, type, dcid, scid, tok, pnLength, pn, payloadLength, quicBit) => {
          const token = type === 'initial' ? tok : EMPTY;
          const buf = new Uint8Array(1400);
          const w = new Writer(buf);
          const pnOffset = writeLongHeader(w, {
            type,
            version,
            dcid,
            scid,
            token,
            pnLength,
            pn,
            payloadLength,
            quicBit,
          });
          w.fill(0xee, payloadLength);
          const datagram = buf.subarray(0, w.offset);
          const h = parseHeader(datagram, 0, 0, true);
          assert.ok(h.type === type);
          if (h.type !== 'initial' && h.type !== '0rtt' && h.type !== 'handshake') return;
          assert.equal(h.version, version);
          assert.deepEqual(h.dcid, dcid);
          assert.deepEqual(h.scid, scid);
          assert.deepEqual(h.token, token);
          assert.equal(h.pnOffset, pnOffset);
          assert.equal(h.length, pnLength + payloadLength);
          assert.equal(h.end, datagram.length);
          assert.equal((h.firstByte & 0x40) !== 0, quicBit);
          assert.equal(h.firstByte & 0x0c, 0, 'reserved bits 0');
          assert.equal(readPacketNumber(datagram, pnOffset, pnLength), pn % 2 ** (8 * pnLength));
        },
      ),
      { numRuns: 500 },
    );
  });
  it('short headers', () => {
    fc.assert(
      fc.property(
        cid,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        fc.maxSafeNat(),
        (dcid, spin, keyPhase, pnLength, pn) => {
          const w = new Writer(new Uint8Array(64));
          const pnOffset = writeShortHeader(w, { dcid, spin, keyPhase, pnLength, pn });
          w.fill(0, 20);
          const h = parseHeader(w.written(), 0, dcid.length);
          assert.ok(h.type === '1rtt');
          if (h.type !== '1rtt') return;
          assert.deepEqual(h.dcid, dcid);
          assert.equal(h.spin, spin);
          assert.equal(h.pnOffset, pnOffset);
          assert.equal((h.firstByte & 0x04) !== 0, keyPhase);
          assert.equal(h.firstByte & 0x18, 0, 'reserved bits 0');
          assert.equal(readPacketNumber(w.buf, pnOffset, pnLength), pn % 2 ** (8 * pnLength));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RFC 9000 §17.2.1 Version Negotiation', () => {
  it('echoes the swapped CIDs and lists the versions; the first byte has form and 0x40 set', () => {
    const out = new Uint8Array(64);
    const n = buildVersionNegotiation(out, SERVER_SCID, CLIENT_DCID, [QUIC_VERSION_1, QUIC_VERSION_2], 0xff);
    assert.equal(
      toHex(out.subarray(0, n)),
      'ff' + '00000000' + '08f067a5502a4262b5' + '088394c8f03e515708' + '00000001' + '6b3343cf',
    );
    assert.equal(out[0] & 0xc0, 0xc0);
    const m = buildVersionNegotiation(out, EMPTY, EMPTY, [0x0a0a0a0a], 0x00);
    assert.equal(toHex(out.subarray(0, m)), 'c0' + '00000000' + '00' + '00' + '0a0a0a0a');
    const h = parseHeader(out.subarray(0, m), 0, 0);
    assert.ok(h.type === 'version_negotiation');
  });
  it('parses back with CIDs of up to 255 bytes (RFC 8999 §6)', () => {
    const out = new Uint8Array(600);
    const dcid = new Uint8Array(255).fill(7);
    const scid = new Uint8Array(200).fill(9);
    const n = buildVersionNegotiation(out, dcid, scid, [QUIC_VERSION_2, QUIC_VERSION_1], 0x5a);
    const h = parseHeader(out.subarray(0, n), 0, 0);
    assert.ok(h.type === 'version_negotiation');
    if (h.type !== 'version_negotiation') return;
    assert.deepEqual(h.dcid, dcid);
    assert.deepEqual(h.scid, scid);
    assert.deepEqual(h.versions, [QUIC_VERSION_2, QUIC_VERSION_1]);
  });
  it('refuses an empty version list, CIDs over 255 bytes and a short buffer', () => {
    const out = new Uint8Array(64);
    assert.throws(() => buildVersionNegotiation(out, EMPTY, EMPTY, [], 0), RangeError);
    assert.throws(
      () => buildVersionNegotiation(new Uint8Array(600), new Uint8Array(256), EMPTY, [1], 0),
      RangeError,
    );
    assert.throws(() => buildVersionNegotiation(new Uint8Array(10), EMPTY, EMPTY, [1], 0), RangeError);
  });
});

// RFC 9001 §5.8 and RFC 9369 §3.3.3: the fixed Retry integrity keys and nonces.
const RETRY_KEYS: Record<number, { key: string; nonce: string }> = {
  [QUIC_VERSION_1]: { key: 'be0c690b9f66575a1d766b54e368c84e', nonce: '461599d35d632bf2239825bb' },
  [QUIC_VERSION_2]: { key: '8fb4b01b56ac48e260fbcbcead7ccc92', nonce: 'd86969bc2d7c6d9990efb04a' },
};

function retryTag(version: number, pseudo: Uint8Array): string {
  const k = RETRY_KEYS[version];
  const c = createCipheriv('aes-128-gcm', fromHex(k.key), fromHex(k.nonce));
  c.setAAD(pseudo);
  c.final();
  return toHex(c.getAuthTag());
}

describe('RFC 9000 §17.2.5 Retry and RFC 9001 §5.8 the Retry pseudo-packet', () => {
  const vectors = [
    [
      'v1 (RFC 9001 A.4)',
      QUIC_VERSION_1,
      'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
    ],
    [
      'v2 (RFC 9369 A.4)',
      QUIC_VERSION_2,
      'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6',
    ],
  ] as const;
  for (const [name, version, hex] of vectors) {
    it(`rebuilds the ${name} Retry byte-exact, its tag computed over the pseudo-packet`, () => {
      const w = new Writer(new Uint8Array(64));
      const n = writeRetry(w, {
        version,
        dcid: EMPTY,
        scid: SERVER_SCID,
        token: new TextEncoder().encode('token'),
        unused: 0x0f,
      });
      const withoutTag = w.written();
      assert.equal(n, withoutTag.length);
      const pseudo = buildRetryPseudoPacket(CLIENT_DCID, withoutTag);
      assert.equal(toHex(pseudo), '08' + toHex(CLIENT_DCID) + toHex(withoutTag));
      w.bytes(fromHex(retryTag(version, pseudo)));
      assert.equal(toHex(w.written()), hex);
    });
  }
  it('refuses an empty token and CIDs over 20 bytes', () => {
    const w = new Writer(new Uint8Array(64));
    const r = { version: QUIC_VERSION_1, dcid: EMPTY, scid: SERVER_SCID, token: fromHex('01') };
    assert.throws(() => writeRetry(w, { ...r, token: EMPTY }), RangeError);
    assert.throws(() => writeRetry(w, { ...r, scid: new Uint8Array(21) }), RangeError);
    assert.throws(() => buildRetryPseudoPacket(new Uint8Array(21), EMPTY), RangeError);
  });
});

describe('RFC 9000 §10.3 Stateless Reset', () => {
  const token = fromHex('00112233445566778899aabbccddeeff');
  it('builds form 0, fixed 1, unpredictable bits, then the token', () => {
    const out = new Uint8Array(64);
    const random = new Uint8Array(64).fill(0xff);
    assert.equal(buildStatelessReset(out, token, 43, random), 43);
    assert.equal(out[0], 0x7f); // 0b01 then six random bits
    assert.ok(out.subarray(1, 27).every((b) => b === 0xff));
    assert.equal(toHex(out.subarray(27, 43)), toHex(token));
    random.fill(0x80);
    buildStatelessReset(out, token, 21, random);
    assert.equal(out[0], 0x40);
    assert.equal(toHex(out.subarray(5, 21)), toHex(token));
  });
  it('is detected by its trailing 16 bytes, and parses like a short header', () => {
    const out = new Uint8Array(30);
    buildStatelessReset(out, token, 30, new Uint8Array(14).fill(0x33));
    assert.equal(toHex(statelessResetTokenCandidate(out) ?? EMPTY), toHex(token));
    assert.equal(parseHeader(out, 0, 8).type, '1rtt');
  });
  it('finds no candidate in a datagram shorter than 21 bytes (§10.3.1)', () => {
    assert.equal(statelessResetTokenCandidate(new Uint8Array(MIN_STATELESS_RESET_LENGTH - 1)), null);
    assert.equal(statelessResetTokenCandidate(new Uint8Array(21))?.length, 16);
  });
  it("rejects a caller's mistakes with RangeError", () => {
    const out = new Uint8Array(64);
    const random = new Uint8Array(64);
    assert.throws(() => buildStatelessReset(out, token, 20, random), RangeError);
    assert.throws(() => buildStatelessReset(out, token.subarray(1), 30, random), RangeError);
    assert.throws(() => buildStatelessReset(new Uint8Array(25), token, 30, random), RangeError);
    assert.throws(() => buildStatelessReset(out, token, 30, new Uint8Array(13)), RangeError);
  });
});
