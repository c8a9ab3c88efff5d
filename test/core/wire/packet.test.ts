import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { concatBytes, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import {
  keyPhase,
  newDatagramRouting,
  packetNumberLength,
  parseDatagramRouting,
  parseHeader,
  reservedBitsSet,
  splitCoalesced,
  type PacketHeader,
} from '../../../core/wire/packet.ts';
import { decodePacketNumber, readPacketNumber } from '../../../core/wire/packet-number.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';

const isViolation = (e: unknown): boolean =>
  e instanceof QuicError && e.code === TransportError.PROTOCOL_VIOLATION;

const CLIENT_DCID = '8394c8f03e515708';
const SERVER_SCID = 'f067a5502a4262b5';

// RFC 9001 Appendix A.2 / RFC 9369 Appendix A.2: the protected client Initial starts with this
// header and the header-protection sample; the rest of the 1200 bytes does not matter here.
const V1_CLIENT_PREFIX = 'c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9b';
const V2_CLIENT_PREFIX = 'd76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071';
// RFC 9001 Appendix A.3 / RFC 9369 Appendix A.3: the complete protected server Initials.
const V1_SERVER_INITIAL =
  'cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c697975' +
  '54780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bde' +
  'd74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407d' +
  'd074ee';
const V2_SERVER_INITIAL =
  'dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698baeea26b91eb761d9b89237b' +
  'bf87263017915358230035f7fd3945d88965cf17f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e' +
  '42757507698075b2c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca84bed8521' +
  'e2e140';
// RFC 9001 Appendix A.4 and RFC 9369 Appendix A.4: Retry packets.
const V1_RETRY = 'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba';
const V2_RETRY = 'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6';
// RFC 9001 Appendix A.5: the 21-byte ChaCha20 short-header packet (empty DCID).
const V1_SHORT = '4cfe4189655e5cd55c41f69080575d7999c25a5bfb';

function clientInitial(prefix: string): Uint8Array {
  const d = new Uint8Array(1200);
  d.set(fromHex(prefix));
  return d;
}

function long(h: PacketHeader) {
  assert.ok(h.type === 'initial' || h.type === '0rtt' || h.type === 'handshake', h.type);
  return h;
}

/** Removes AES header protection (RFC 9001 §5.4.1, §5.4.3) with node:crypto: phase two. */
function unprotect(packet: Uint8Array, h: { pnOffset: number }, hpKey: string, isLong: boolean) {
  const sample = packet.subarray(h.pnOffset + 4, h.pnOffset + 20);
  const c = createCipheriv('aes-128-ecb', fromHex(hpKey), null);
  const mask = c.update(sample);
  const first = packet[0] ^ (mask[0] & (isLong ? 0x0f : 0x1f));
  const pnLen = packetNumberLength(first);
  const pnBytes = packet.slice(h.pnOffset, h.pnOffset + pnLen);
  for (let i = 0; i < pnLen; i++) pnBytes[i] ^= mask[1 + i];
  return { first, pnLen, pn: readPacketNumber(pnBytes, 0, pnLen) };
}

describe('RFC 9001 Appendix A and RFC 9369 Appendix A headers, before header protection', () => {
  it('parses the v1 client Initial (A.2): DCID 8394c8f03e515708, Length 1182', () => {
    const d = clientInitial(V1_CLIENT_PREFIX);
    const h = long(parseHeader(d, 0, 8));
    assert.equal(h.type, 'initial');
    assert.equal(h.version, QUIC_VERSION_1);
    assert.equal(toHex(h.dcid), CLIENT_DCID);
    assert.equal(h.scid.length, 0);
    assert.equal(h.token.length, 0);
    assert.equal(h.length, 1182);
    assert.equal(h.pnOffset, 18);
    assert.equal(h.start, 0);
    assert.equal(h.end, 1200);
    assert.equal(h.dcid.buffer, d.buffer, 'a subarray, not a copy');
    // Phase two: header protection off gives the unprotected header c3...00000002.
    const u = unprotect(d, h, '9f50449e04a0e810283a1e9933adedd2', true);
    assert.equal(u.first, 0xc3);
    assert.equal(u.pnLen, 4);
    assert.equal(decodePacketNumber(-1, u.pn, 32), 2);
    assert.ok(!reservedBitsSet(u.first));
  });

  it('parses the unprotected v1 client Initial header (A.2)', () => {
    const d = clientInitial('c300000001088394c8f03e5157080000449e00000002');
    const h = long(parseHeader(d, 0, 0));
    assert.equal(packetNumberLength(h.firstByte), 4);
    assert.equal(readPacketNumber(d, h.pnOffset, 4), 2);
  });

  it('parses the v1 server Initial (A.3): SCID f067a5502a4262b5, packet number 1', () => {
    const d = fromHex(V1_SERVER_INITIAL);
    const h = long(parseHeader(d, 0, 0));
    assert.equal(h.type, 'initial');
    assert.equal(h.dcid.length, 0);
    assert.equal(toHex(h.scid), SERVER_SCID);
    assert.equal(h.token.length, 0);
    assert.equal(h.length, 0x75);
    assert.equal(h.pnOffset, 18);
    assert.equal(h.end, d.length);
    const u = unprotect(d, h, 'c206b8d9b9f0f37644430b490eeaa314', true);
    assert.equal(u.first, 0xc1);
    assert.equal(u.pnLen, 2);
    assert.equal(u.pn, 1);
  });

  it('parses the v2 client Initial with type bits 0b01 (RFC 9369 A.2)', () => {
    const d = clientInitial(V2_CLIENT_PREFIX);
    const h = long(parseHeader(d, 0, 8));
    assert.equal(h.type, 'initial');
    assert.equal(h.version, QUIC_VERSION_2);
    assert.equal(toHex(h.dcid), CLIENT_DCID);
    assert.equal(h.length, 1182);
    assert.equal(h.end, 1200);
    const u = unprotect(d, h, '45b95e15235d6f45a6b19cbcb0294ba9', true);
    assert.equal(u.first, 0xd3);
    assert.equal(u.pn, 2);
  });

  it('parses the v2 server Initial (RFC 9369 A.3)', () => {
    const d = fromHex(V2_SERVER_INITIAL);
    const h = long(parseHeader(d, 0, 0));
    assert.equal(h.type, 'initial');
    assert.equal(h.version, QUIC_VERSION_2);
    assert.equal(toHex(h.scid), SERVER_SCID);
    assert.equal(h.end, d.length);
    const u = unprotect(d, h, 'edf6d05c83121201b436e16877593c3a', true);
    assert.equal(u.first, 0xd1);
    assert.equal(u.pn, 1);
  });

  for (const [name, hex, version] of [
    ['v1 Retry (RFC 9001 A.4)', V1_RETRY, QUIC_VERSION_1],
    ['v2 Retry with type bits 0b00 (RFC 9369 A.4)', V2_RETRY, QUIC_VERSION_2],
  ] as const) {
    it(`parses the ${name}: token and integrity tag`, () => {
      const h = parseHeader(fromHex(hex), 0, 0);
      assert.equal(h.type, 'retry');
      if (h.type !== 'retry') return;
      assert.equal(h.version, version);
      assert.equal(h.dcid.length, 0);
      assert.equal(toHex(h.scid), SERVER_SCID);
      assert.equal(new TextDecoder().decode(h.token), 'token');
      assert.equal(toHex(h.integrityTag), hex.slice(-32));
    });
  }

  it('parses the short header of RFC 9001 A.5 (empty DCID)', () => {
    const d = fromHex(V1_SHORT);
    const h = parseHeader(d, 0, 0);
    assert.equal(h.type, '1rtt');
    if (h.type !== '1rtt') return;
    assert.equal(h.dcid.length, 0);
    assert.equal(h.pnOffset, 1);
    assert.equal(h.end, 21);
    assert.equal(h.spin, false);
    // Unprotected: 4200bff4 — key phase 0, 3-byte packet number 0x00bff4.
    assert.equal(packetNumberLength(0x42), 3);
    assert.equal(keyPhase(0x42), 0);
    assert.equal(keyPhase(0x46), 1);
    assert.equal(decodePacketNumber(654360563, 0x00bff4, 24), 654360564);
  });
});

describe('RFC 9000 §17.2 long headers: malformed input', () => {
  it('rejects every truncation of the A.3 server Initial with PROTOCOL_VIOLATION', () => {
    const d = fromHex(V1_SERVER_INITIAL);
    for (let n = 0; n < d.length; n++) {
      assert.throws(() => parseHeader(d.subarray(0, n), 0, 0), isViolation, `length ${n}`);
    }
  });
  it('rejects a Retry cut before a token and a full tag, and every truncated Version Negotiation', () => {
    // A Retry has no Length: a shorter one only moves the token/tag boundary (the tag check
    // in crypto then fails); what cannot hold a 1-byte token and a 16-byte tag is malformed.
    const retry = fromHex(V1_RETRY);
    for (let n = 0; n < 15 + 1 + 16; n++) {
      assert.throws(() => parseHeader(retry.subarray(0, n), 0, 0), isViolation, `length ${n}`);
    }
    const cut = parseHeader(retry.subarray(0, retry.length - 1), 0, 0);
    assert.ok(cut.type === 'retry' && cut.token.length === 4);
    const vn = fromHex('800000000004' + '08090a0b' + '03010203' + '00000001');
    assert.equal(parseHeader(vn, 0, 0).type, 'version_negotiation');
    for (let n = 0; n < vn.length; n++)
      assert.throws(() => parseHeader(vn.subarray(0, n), 0, 0), isViolation);
  });
  it('rejects a Length larger than the datagram', () => {
    const d = fromHex(V1_SERVER_INITIAL);
    assert.throws(() => parseHeader(d.subarray(0, d.length - 1), 0, 0), /exceeds/);
  });
  it('rejects a Length of 0 and a token longer than the datagram', () => {
    assert.throws(() => parseHeader(fromHex('c000000001000000' + '00'), 0, 0), isViolation);
    assert.throws(() => parseHeader(fromHex('c0000000010000' + '05aabb' + '01' + '00'), 0, 0), isViolation);
  });
  it('rejects v1 and v2 connection IDs over 20 bytes', () => {
    for (const version of ['00000001', '6b3343cf']) {
      const dcid21 = fromHex(`c0${version}15${'11'.repeat(21)}00000100`);
      assert.throws(() => parseHeader(dcid21, 0, 0), isViolation);
      const scid21 = fromHex(`c0${version}0015${'11'.repeat(21)}000100`);
      assert.throws(() => parseHeader(scid21, 0, 0), isViolation);
      const first = version === '00000001' ? 'c0' : 'd0'; // Initial in v1 / v2
      const ok = fromHex(`${first}${version}14${'11'.repeat(20)}14${'22'.repeat(20)}000100`);
      assert.equal(parseHeader(ok, 0, 0).type, 'initial');
    }
  });
  it('reads an unknown version with 255-byte CIDs, for Version Negotiation (RFC 8999 §5.1)', () => {
    const d = concatBytes(
      fromHex('c51a2a3a4a'),
      new Uint8Array([255]),
      new Uint8Array(255).fill(1),
      new Uint8Array([255]),
      new Uint8Array(255).fill(2),
      new Uint8Array(700),
    );
    const h = parseHeader(d, 0, 8);
    assert.equal(h.type, 'unsupported_version');
    if (h.type !== 'unsupported_version') return;
    assert.equal(h.version, 0x1a2a3a4a);
    assert.equal(h.dcid.length, 255);
    assert.equal(h.scid.length, 255);
    assert.equal(h.scid[0], 2);
    assert.equal(h.end, d.length);
  });
  it('rejects a 0 QUIC bit unless grease_quic_bit was advertised (RFC 9287 §3)', () => {
    const d = fromHex(V1_SERVER_INITIAL);
    d[0] &= ~0x40;
    assert.throws(() => parseHeader(d, 0, 0), isViolation);
    assert.equal(parseHeader(d, 0, 0, true).type, 'initial');
    const s = fromHex(V1_SHORT);
    s[0] &= ~0x40;
    assert.throws(() => parseHeader(s, 0, 0), isViolation);
    assert.equal(parseHeader(s, 0, 0, true).type, '1rtt');
  });
  it('rejects a Retry without a token or without a full tag (RFC 9000 §17.2.5.2)', () => {
    const noToken = fromHex('ff000000010008f067a5502a4262b5' + '00'.repeat(16));
    assert.throws(() => parseHeader(noToken, 0, 0), /empty token/);
    const shortTag = fromHex('ff000000010008f067a5502a4262b5' + '00'.repeat(15));
    assert.throws(() => parseHeader(shortTag, 0, 0), isViolation);
  });
  it('rejects Version Negotiation with no versions or a truncated version (RFC 8999 §6)', () => {
    const vn = '80' + '00000000' + '00' + '00'; // form bit, version 0, empty CIDs
    assert.throws(() => parseHeader(fromHex(vn), 0, 0), /truncated version list/);
    assert.throws(() => parseHeader(fromHex(vn + '000001'), 0, 0), isViolation);
    assert.throws(() => parseHeader(fromHex(vn + '00000001' + '6b33'), 0, 0), isViolation);
    const h = parseHeader(fromHex(vn + '00000001' + '6b3343cf'), 0, 0);
    assert.equal(h.type, 'version_negotiation');
    if (h.type === 'version_negotiation') assert.deepEqual(h.versions, [1, QUIC_VERSION_2]);
  });
  it('rejects a short header without a packet number', () => {
    assert.throws(() => parseHeader(fromHex('40' + '11'.repeat(8)), 0, 8), isViolation);
    assert.throws(() => parseHeader(new Uint8Array(0), 0, 0), isViolation);
  });
  it('reads 0-RTT and Handshake types in both versions', () => {
    const cases: [string, string][] = [
      ['d0' + '00000001' + '0000' + '0100', '0rtt'],
      ['e0' + '00000001' + '0000' + '0100', 'handshake'],
      ['e0' + '6b3343cf' + '0000' + '0100', '0rtt'],
      ['f0' + '6b3343cf' + '0000' + '0100', 'handshake'],
    ];
    for (const [hex, type] of cases) {
      const h = long(parseHeader(fromHex(hex), 0, 0));
      assert.equal(h.type, type, hex);
      assert.equal(h.token.length, 0);
      assert.equal(h.length, 1);
      assert.equal(h.pnOffset, 8);
      assert.equal(h.end, 9);
    }
  });
});

describe('RFC 9000 §5.2 routing a datagram without a connection', () => {
  it('finds the DCID, SCID and token of an Initial as offsets', () => {
    const c = parseDatagramRouting(clientInitial(V1_CLIENT_PREFIX), 8);
    assert.deepEqual(
      [c.type, c.dcidOffset, c.dcidLength, c.scidLength, c.tokenLength],
      ['initial', 6, 8, 0, 0],
    );
    const r = parseDatagramRouting(fromHex(V1_SERVER_INITIAL), 8);
    assert.equal(r.long, true);
    assert.equal(r.version, QUIC_VERSION_1);
    assert.equal(r.type, 'initial');
    assert.equal(r.dcidLength, 0);
    assert.equal(r.scidOffset, 7);
    assert.equal(r.scidLength, 8);
    assert.equal(r.tokenLength, 0);
    const withToken = fromHex('c0000000010401020304000474657374' + '4001' + '00');
    const t = parseDatagramRouting(withToken, 8);
    assert.equal(toHex(withToken.subarray(t.dcidOffset, t.dcidOffset + t.dcidLength)), '01020304');
    assert.equal(t.scidLength, 0);
    assert.equal(
      new TextDecoder().decode(withToken.subarray(t.tokenOffset, t.tokenOffset + t.tokenLength)),
      'test',
    );
  });
  it('reuses the result object and resets fields a short header does not have', () => {
    const out = newDatagramRouting();
    const withToken = fromHex('c0000000010401020304000474657374' + '4001' + '00');
    assert.equal(parseDatagramRouting(withToken, 4, out), out);
    assert.equal(out.tokenLength, 4);
    const short = fromHex('41' + 'aabbccdd' + '00');
    assert.equal(parseDatagramRouting(short, 4, out), out);
    assert.equal(out.long, false);
    assert.equal(out.version, null);
    assert.equal(out.type, '1rtt');
    assert.equal(out.dcidOffset, 1);
    assert.equal(out.dcidLength, 4);
    assert.equal(out.tokenLength, 0);
    assert.equal(out.scidLength, 0);
  });
  it('reports unknown versions and Version Negotiation, and the v2 Retry type', () => {
    assert.equal(parseDatagramRouting(fromHex('c01a2a3a4a0000'), 0).type, 'unsupported_version');
    assert.equal(parseDatagramRouting(fromHex('800000000000000000000001'), 0).type, 'version_negotiation');
    assert.equal(parseDatagramRouting(fromHex(V2_RETRY), 0).type, 'retry');
  });
  it('rejects truncated and oversized fields with PROTOCOL_VIOLATION', () => {
    const d = fromHex('c0000000010401020304000474657374' + '4001' + '00');
    for (let n = 0; n < 16; n++) assert.throws(() => parseDatagramRouting(d.subarray(0, n), 4), isViolation);
    assert.throws(
      () => parseDatagramRouting(fromHex(`c000000001${'15'}${'11'.repeat(21)}00`), 0),
      isViolation,
    );
    assert.throws(() => parseDatagramRouting(fromHex('4011'), 1), isViolation);
  });
});

describe('RFC 9000 §12.2 coalesced packets', () => {
  it('splits a server Initial followed by a short-header packet', () => {
    const server = fromHex(V1_SERVER_INITIAL);
    const short = fromHex(V1_SHORT);
    const d = concatBytes(server, short);
    const parts = splitCoalesced(d, 0);
    assert.deepEqual(
      parts.map((p) => [p.start, p.end, p.header?.type, p.sameDcid]),
      [
        [0, server.length, 'initial', true],
        [server.length, d.length, '1rtt', true],
      ],
    );
  });
  it('reports a packet whose DCID differs from the first one', () => {
    const client = clientInitial(V1_CLIENT_PREFIX);
    const server = fromHex(V1_SERVER_INITIAL);
    const parts = splitCoalesced(concatBytes(client, server), 8);
    assert.equal(parts.length, 2);
    assert.equal(parts[0].sameDcid, true);
    assert.equal(parts[1].sameDcid, false);
    assert.equal(parts[1].header?.type, 'initial');
    assert.equal(parts[1].end, 1200 + server.length);
  });
  it('ends with an error entry at trailing garbage, keeping the packets before it', () => {
    const server = fromHex(V1_SERVER_INITIAL);
    const parts = splitCoalesced(concatBytes(server, new Uint8Array(30)), 0);
    assert.equal(parts.length, 2);
    assert.equal(parts[0].header?.type, 'initial');
    assert.equal(parts[1].header, null);
    assert.ok(isViolation(parts[1].error));
    assert.deepEqual([parts[1].start, parts[1].end], [server.length, server.length + 30]);
  });
  it('throws when the first packet is malformed', () => {
    assert.throws(() => splitCoalesced(new Uint8Array(30), 0), isViolation);
  });
  it('treats a Retry as running to the end of the datagram', () => {
    const parts = splitCoalesced(fromHex(V1_RETRY), 0);
    assert.equal(parts.length, 1);
    assert.equal(parts[0].end, fromHex(V1_RETRY).length);
  });
});
