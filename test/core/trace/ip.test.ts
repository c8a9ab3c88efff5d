import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  internetChecksum,
  ipv4Mapped,
  parseIpAddress,
  writeIpUdp,
  ipUdpLength,
} from '../../../core/trace/ip.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

/** An independent one's-complement sum (RFC 1071 §4.1 style, 32-bit words folded at the end). */
function onesSum(parts: Uint8Array[]): number {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 1);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  let sum = 0;
  for (let i = 0; i < o; i += 2) sum += all[i] * 256 + all[i + 1];
  while (sum >= 0x10000) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function u16(v: number): Uint8Array {
  return Uint8Array.of(v >> 8, v & 0xff);
}

/** Checks a packet written by writeIpUdp as a receiver would; returns the UDP payload. */
function verify(pkt: Uint8Array): { v6: boolean; srcPort: number; dstPort: number; payload: Uint8Array } {
  const v6 = pkt[0] >> 4 === 6;
  let udp: number;
  let pseudo: Uint8Array[];
  if (v6) {
    assert.equal(pkt[6], 17, 'next header UDP');
    const payloadLength = pkt[4] * 256 + pkt[5];
    assert.equal(payloadLength, pkt.length - 40);
    udp = 40;
    const len = pkt.length - 40;
    // RFC 8200 §8.1 pseudo-header: src, dst, 32-bit length, 3 zero bytes, next header.
    pseudo = [pkt.subarray(8, 40), Uint8Array.of(0, 0, len >> 8, len & 0xff, 0, 0, 0, 17)];
  } else {
    assert.equal(pkt[0], 0x45);
    assert.equal(pkt[2] * 256 + pkt[3], pkt.length, 'IPv4 total length');
    assert.equal(pkt[9], 17, 'protocol UDP');
    assert.equal(onesSum([pkt.subarray(0, 20)]), 0xffff, 'IPv4 header checksum');
    udp = 20;
    pseudo = [pkt.subarray(12, 20), Uint8Array.of(0, 17), u16(pkt.length - 20)];
  }
  const udpLength = pkt[udp + 4] * 256 + pkt[udp + 5];
  assert.equal(udpLength, pkt.length - udp, 'UDP length');
  assert.notEqual(pkt[udp + 6] * 256 + pkt[udp + 7], 0, 'a checksum is present');
  assert.equal(onesSum([...pseudo, pkt.subarray(udp)]), 0xffff, 'UDP checksum');
  return {
    v6,
    srcPort: pkt[udp] * 256 + pkt[udp + 1],
    dstPort: pkt[udp + 2] * 256 + pkt[udp + 3],
    payload: pkt.subarray(udp + 8),
  };
}

describe('IP address text forms (RFC 4291 §2.2, dotted IPv4)', () => {
  const good: [string, string][] = [
    ['127.0.0.1', '7f000001'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:db8::7', '20010db8000000000000000000000007'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '20010db885a3000000008a2e03707334'],
    ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['[::1]', '00000000000000000000000000000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
  ];
  for (const [text, bytes] of good) {
    it(`parses ${text}`, () => assert.equal(toHex(parseIpAddress(text)), bytes));
  }
  it('rejects what is not an address', () => {
    for (const bad of [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.-4',
      '1::2::3',
      ':::',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '::1.2.3',
    ]) {
      assert.throws(() => parseIpAddress(bad), RangeError, bad);
    }
  });
  it('IPv4-mapped IPv6 (RFC 4291 §2.5.5.2)', () => {
    assert.equal(toHex(ipv4Mapped(parseIpAddress('10.1.2.3'))), '00000000000000000000ffff0a010203');
  });
});

describe('RFC 1071 Internet checksum', () => {
  it('§3 numerical example: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d', () => {
    assert.equal(internetChecksum(fromHex('0001f203f4f5f6f7')), 0x220d);
  });
  it('pads an odd trailing byte with zero', () => {
    assert.equal(internetChecksum(fromHex('0001f203f4f5f6')), internetChecksum(fromHex('0001f203f4f5f600')));
  });
});

describe('synthetic IPv4 / IPv6 + UDP packets', () => {
  it('RFC 791 IPv4 header, byte-exact (the classic 192.168.0.1 → .199 example, checksum b861)', () => {
    const out = new Uint8Array(115);
    const n = writeIpUdp(
      out,
      0,
      parseIpAddress('192.168.0.1'),
      1234,
      parseIpAddress('192.168.0.199'),
      53,
      new Uint8Array(87),
      { identification: 0 },
    );
    assert.equal(n, 115);
    assert.equal(toHex(out.subarray(0, 20)), '4500007300004000401' + '1b861c0a80001c0a800c7');
    assert.deepEqual(verify(out).payload, new Uint8Array(87));
  });

  it('IPv6 fixed header: version 6, ECN in the traffic class, payload length, next header 17, hop limit', () => {
    const payload = Uint8Array.of(1, 2, 3);
    const out = new Uint8Array(ipUdpLength(true, payload.length));
    writeIpUdp(out, 0, parseIpAddress('::1'), 4433, parseIpAddress('2001:db8::7'), 50000, payload, {
      ecn: 2,
    });
    assert.equal(toHex(out.subarray(0, 8)), '60200000000b1140');
    assert.equal(toHex(out.subarray(40, 46)), '1151c350000b');
    const v = verify(out);
    assert.deepEqual([v.v6, v.srcPort, v.dstPort], [true, 4433, 50000]);
  });

  it('IPv4 carries the ECN codepoint in the low bits of the second byte (RFC 3168 §5)', () => {
    const out = new Uint8Array(ipUdpLength(false, 0));
    writeIpUdp(out, 0, parseIpAddress('10.0.0.1'), 1, parseIpAddress('10.0.0.2'), 2, new Uint8Array(0), {
      ecn: 3,
    });
    assert.equal(out[1], 3);
    verify(out);
  });

  it('a UDP checksum that computes to zero is sent as ffff (RFC 768)', () => {
    const src = parseIpAddress('10.0.0.1');
    const dst = parseIpAddress('10.0.0.2');
    const payload = new Uint8Array(2);
    const out = new Uint8Array(ipUdpLength(false, 2));
    // Choose the last payload word so that the sum over pseudo-header and segment is ffff.
    const sum0 = onesSum([src, dst, Uint8Array.of(0, 17), u16(10), u16(7), u16(9), u16(10), u16(0), payload]);
    payload.set(u16(0xffff - sum0));
    writeIpUdp(out, 0, src, 7, dst, 9, payload);
    assert.equal(toHex(out.subarray(26, 28)), 'ffff');
    verify(out);
  });

  it('writes at an offset, and refuses mixed families, short buffers and oversized datagrams', () => {
    const v4 = parseIpAddress('127.0.0.1');
    const v6 = parseIpAddress('::1');
    const out = new Uint8Array(100);
    assert.equal(writeIpUdp(out, 4, v4, 1, v4, 2, Uint8Array.of(9)), 29);
    assert.deepEqual(verify(out.subarray(4, 33)).payload, Uint8Array.of(9));
    assert.throws(() => writeIpUdp(out, 0, v4, 1, v6, 2, new Uint8Array(1)), RangeError);
    assert.throws(() => writeIpUdp(out, 80, v4, 1, v4, 2, new Uint8Array(1)), RangeError);
    const big = new Uint8Array(70000);
    assert.throws(() => writeIpUdp(big, 0, v4, 1, v4, 2, new Uint8Array(65508)), RangeError);
    assert.equal(writeIpUdp(big, 0, v4, 1, v4, 2, new Uint8Array(65507)), 65535);
    assert.throws(() => writeIpUdp(big, 0, v6, 1, v6, 2, new Uint8Array(65528)), RangeError);
    assert.equal(writeIpUdp(big, 0, v6, 1, v6, 2, new Uint8Array(65527)), 40 + 65535);
  });

  it('property: every packet verifies (lengths, IPv4 header checksum, UDP checksum)', () => {
    const addr = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
    );
    fc.assert(
      fc.property(
        addr,
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 1500 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 0xffff }),
        (src, sp, dp, payload, ecn, id) => {
          const dst = src.map((x) => x ^ 0x5a);
          const out = new Uint8Array(ipUdpLength(src.length === 16, payload.length));
          writeIpUdp(out, 0, src, sp, dst, dp, payload, { ecn, identification: id });
          const v = verify(out);
          assert.equal(v.srcPort, sp);
          assert.equal(v.dstPort, dp);
          assert.deepEqual(v.payload, payload);
        },
      ),
      { numRuns: 300 },
    );
  });
});
