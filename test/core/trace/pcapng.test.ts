import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter, SECRETS_TYPE_TLS_KEYLOG, type DatagramInfo } from '../../../core/trace/pcapng.ts';
import { KeyLog } from '../../../core/trace/keylog.ts';
import { fromHex } from '../../../core/wire/buffer.ts';
import { V1 } from '../crypto/vectors.ts';

// ------------------------------------------------------------------------------------------
// A small, independent pcapng reader: block framing, options, and the IP/UDP inside each EPB.

interface Block {
  type: number;
  body: DataView; // the bytes between the total-length fields
  bytes: Uint8Array;
}

function readBlocks(file: Uint8Array): Block[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const blocks: Block[] = [];
  let p = 0;
  while (p < file.length) {
    const type = view.getUint32(p, true);
    const total = view.getUint32(p + 4, true);
    assert.equal(total % 4, 0, `block at ${p}: length ${total} is 32-bit aligned`);
    assert.ok(total >= 12 && p + total <= file.length, `block at ${p} fits`);
    assert.equal(view.getUint32(p + total - 4, true), total, `block at ${p}: trailing length`);
    blocks.push({
      type,
      body: new DataView(file.buffer, file.byteOffset + p + 8, total - 12),
      bytes: file.subarray(p, p + total),
    });
    p += total;
  }
  assert.equal(p, file.length);
  return blocks;
}

/** Options from `offset` in a block body: code → value; checks padding and opt_endofopt. */
function readOptions(body: DataView, offset: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let p = offset;
  if (p === body.byteLength) return out;
  for (;;) {
    const code = body.getUint16(p, true);
    const len = body.getUint16(p + 2, true);
    if (code === 0) {
      assert.equal(len, 0);
      assert.equal(p + 4, body.byteLength, 'opt_endofopt ends the options');
      return out;
    }
    out.set(code, new Uint8Array(body.buffer, body.byteOffset + p + 4, len));
    p += 4 + ((len + 3) & ~3);
  }
}

function sum16(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

interface Packet {
  ts: bigint;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  ecn: number;
  payload: Uint8Array;
  flags?: number;
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return b.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}

function readPacket(block: Block): Packet {
  const body = block.body;
  assert.equal(body.getUint32(0, true), 0, 'interface 0');
  const ts = (BigInt(body.getUint32(4, true)) << 32n) | BigInt(body.getUint32(8, true));
  const caplen = body.getUint32(12, true);
  assert.equal(body.getUint32(16, true), caplen, 'not truncated');
  const pkt = new Uint8Array(body.buffer, body.byteOffset + 20, caplen);
  const options = readOptions(body, 20 + ((caplen + 3) & ~3));
  const flags = options.get(2);
  let udp: Uint8Array;
  let src: Uint8Array;
  let dst: Uint8Array;
  let ecn: number;
  if (pkt[0] >> 4 === 4) {
    assert.equal(pkt[0] & 0x0f, 5, 'IHL');
    assert.equal((pkt[2] << 8) | pkt[3], caplen, 'IPv4 total length');
    assert.equal(pkt[9], 17);
    assert.equal(sum16(pkt.subarray(0, 20)), 0xffff, 'IPv4 header checksum');
    src = pkt.subarray(12, 16);
    dst = pkt.subarray(16, 20);
    ecn = pkt[1] & 3;
    udp = pkt.subarray(20);
  } else {
    assert.equal(pkt[0] >> 4, 6);
    assert.equal((pkt[4] << 8) | pkt[5], caplen - 40, 'IPv6 payload length');
    assert.equal(pkt[6], 17);
    src = pkt.subarray(8, 24);
    dst = pkt.subarray(24, 40);
    ecn = (pkt[1] >> 4) & 3;
    udp = pkt.subarray(40);
  }
  assert.equal((udp[4] << 8) | udp[5], udp.length, 'UDP length');
  const pseudo = sum16(src) + sum16(dst) + 17 + udp.length;
  const check = sum16(udp) + pseudo;
  assert.equal(sum16(Uint8Array.of(check >> 24, check >> 16, check >> 8, check)), 0xffff, 'UDP checksum');
  return {
    ts,
    src: ipText(src),
    dst: ipText(dst),
    srcPort: (udp[0] << 8) | udp[1],
    dstPort: (udp[2] << 8) | udp[3],
    ecn,
    payload: udp.subarray(8),
    flags:
      flags === undefined ? undefined : new DataView(flags.buffer, flags.byteOffset, 4).getUint32(0, true),
  };
}

function capture(
  build: (w: PcapngWriter) => void,
  options: ConstructorParameters<typeof PcapngWriter>[1] = {},
) {
  const chunks: Uint8Array[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), options);
  build(w);
  const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    file.set(c, o);
    o += c.length;
  }
  return { chunks, file };
}

const CLIENT = { address: '127.0.0.1', port: 50000 };
const SERVER = { address: '127.0.0.1', port: 4433 };
const T0 = 1_700_000_000_000; // epoch ms
const RANDOM = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

describe('pcapng capture with Decryption Secrets Blocks', () => {
  it('Section Header Block: magic, version 1.0, unspecified section length, shb_userappl', () => {
    const { file, chunks } = capture(() => {});
    assert.equal(chunks.length, 2, 'SHB and IDB are written at construction');
    const [shb, idb] = readBlocks(file);
    assert.equal(shb.type, 0x0a0d0d0a);
    assert.equal(shb.body.getUint32(0, true), 0x1a2b3c4d);
    assert.equal(shb.body.getUint16(4, true), 1);
    assert.equal(shb.body.getUint16(6, true), 0);
    assert.equal(shb.body.getBigInt64(8, true), -1n);
    assert.equal(new TextDecoder().decode(readOptions(shb.body, 16).get(4)), 'quicscope');
    assert.equal(idb.type, 1);
  });

  it('Interface Description Block: LINKTYPE_RAW (101), no snap limit, if_tsresol 6 (µs) or 9 (ns)', () => {
    for (const [res, code] of [
      ['us', 6],
      ['ns', 9],
    ] as const) {
      const [, idb] = readBlocks(capture(() => {}, { timestampResolution: res, interfaceName: 'lo' }).file);
      assert.equal(idb.body.getUint16(0, true), 101);
      assert.equal(idb.body.getUint16(2, true), 0);
      assert.equal(idb.body.getUint32(4, true), 0);
      const options = readOptions(idb.body, 8);
      assert.deepEqual([...options.get(9)!], [code]);
      assert.equal(new TextDecoder().decode(options.get(2)), 'lo');
    }
  });

  it('Enhanced Packet Blocks: IPv4/UDP around each datagram, µs timestamps, direction flags, ECN', () => {
    const a = fromHex(V1.clientInitial.protectedPacket);
    const b = Uint8Array.of(1, 2, 3, 4, 5); // odd length: padded
    const { file } = capture((w) => {
      w.writeDatagram(T0 + 0.5, a, { from: CLIENT, to: SERVER, direction: 'outbound', ecn: 2 });
      w.writeDatagram(T0 + 12.0004, b, { from: SERVER, to: CLIENT, direction: 'inbound' }); // ≈ 12.000488 as a double
      w.writeDatagram(T0 + 13, b, { from: SERVER, to: CLIENT });
    });
    const epbs = readBlocks(file).slice(2);
    assert.deepEqual(
      epbs.map((e) => e.type),
      [6, 6, 6],
    );
    const [p1, p2, p3] = epbs.map(readPacket);
    assert.equal(p1.ts, 1_700_000_000_000_500n);
    assert.equal(p2.ts, 1_700_000_000_012_000n); // rounded to the µs
    assert.deepEqual(
      [p1.src, p1.srcPort, p1.dst, p1.dstPort, p1.ecn],
      ['127.0.0.1', 50000, '127.0.0.1', 4433, 2],
    );
    assert.deepEqual(
      [p2.src, p2.srcPort, p2.dst, p2.dstPort, p2.ecn],
      ['127.0.0.1', 4433, '127.0.0.1', 50000, 0],
    );
    assert.deepEqual(p1.payload, a);
    assert.deepEqual(p2.payload, b);
    assert.equal(p1.flags, 2, 'epb_flags outbound');
    assert.equal(p2.flags, 1, 'epb_flags inbound');
    assert.equal(p3.flags, undefined);
  });

  it('nanosecond timestamps keep sub-microsecond precision beyond 2^53', () => {
    // T0 + 0.5 + 2^-12 ms is exact as a double: 500 244.140625 ns after T0.
    const { file } = capture(
      (w) => w.writeDatagram(T0 + 0.5 + 2 ** -12, Uint8Array.of(0), { from: CLIENT, to: SERVER }),
      { timestampResolution: 'ns' },
    );
    assert.equal(readPacket(readBlocks(file)[2]).ts, 1_700_000_000_000_500_244n);
  });

  it('IPv6 addresses, and IPv4 paired with IPv6 written as IPv4-mapped', () => {
    const { file } = capture((w) => {
      w.writeDatagram(T0, Uint8Array.of(7), {
        from: { address: '::1', port: 443 },
        to: { address: '2001:db8::1', port: 9 },
      });
      w.writeDatagram(T0, Uint8Array.of(8), {
        from: { address: '192.0.2.1', port: 1 },
        to: { address: '::1', port: 2 },
      });
    });
    const [p1, p2] = readBlocks(file).slice(2).map(readPacket);
    assert.deepEqual([p1.src, p1.dst], ['0:0:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:1']);
    assert.deepEqual([p2.src, p2.dst], ['0:0:0:0:0:ffff:c000:201', '0:0:0:0:0:0:0:1']);
  });

  it('Decryption Secrets Block: type 0x0A, secrets type TLSK, the key log text; before the packets it decrypts', () => {
    const keylog = new KeyLog();
    keylog.add('CLIENT_HANDSHAKE_TRAFFIC_SECRET', RANDOM, new Uint8Array(32).fill(1));
    keylog.add('SERVER_HANDSHAKE_TRAFFIC_SECRET', RANDOM, new Uint8Array(32).fill(2));
    const first = keylog.toString();
    const { file } = capture(
      (w) => {
        w.writeDatagram(T0, Uint8Array.of(1), { from: CLIENT, to: SERVER });
        w.writeDatagram(T0 + 1, Uint8Array.of(2), { from: SERVER, to: CLIENT }); // no new secrets: no DSB
        keylog.add('CLIENT_TRAFFIC_SECRET_0', RANDOM, new Uint8Array(32).fill(3));
        keylog.add('CLIENT_TRAFFIC_SECRET_0', RANDOM, new Uint8Array(32).fill(3)); // duplicate
        w.writeDatagram(T0 + 2, Uint8Array.of(3), { from: CLIENT, to: SERVER });
        w.writeSecrets(''); // nothing to write
      },
      { keylog },
    );
    const blocks = readBlocks(file);
    assert.deepEqual(
      blocks.map((b) => b.type),
      [0x0a0d0d0a, 1, 0x0a, 6, 6, 0x0a, 6],
    );
    const secrets = blocks
      .filter((b) => b.type === 0x0a)
      .map((b) => {
        assert.equal(b.body.getUint32(0, true), SECRETS_TYPE_TLS_KEYLOG);
        assert.equal(SECRETS_TYPE_TLS_KEYLOG, 0x544c534b); // 'TLSK'
        const len = b.body.getUint32(4, true);
        assert.ok(8 + len <= b.body.byteLength && b.body.byteLength - (8 + len) < 4, 'padded to 32 bits');
        return new TextDecoder().decode(new Uint8Array(b.body.buffer, b.body.byteOffset + 8, len));
      });
    assert.deepEqual(secrets, [
      first,
      `CLIENT_TRAFFIC_SECRET_0 ${Buffer.from(RANDOM).toString('hex')} ${'03'.repeat(32)}\n`,
    ]);
  });

  it('refuses bad ports, addresses and times (caller mistakes: RangeError)', () => {
    capture((w) => {
      assert.throws(
        () =>
          w.writeDatagram(T0, Uint8Array.of(1), { from: { address: '1.2.3.4', port: 65536 }, to: SERVER }),
        RangeError,
      );
      assert.throws(
        () =>
          w.writeDatagram(T0, Uint8Array.of(1), { from: { address: 'example.com', port: 1 }, to: SERVER }),
        RangeError,
      );
      assert.throws(() => w.writeDatagram(NaN, Uint8Array.of(1), { from: CLIENT, to: SERVER }), RangeError);
      assert.throws(
        () => w.writeDatagram(T0, new Uint8Array(65508), { from: CLIENT, to: SERVER }),
        RangeError,
      );
    });
  });
});

// ------------------------------------------------------------------------------------------
// Wireshark's own reader (tshark), when installed (Debian package tshark; CI installs it).

const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
const haveTshark = tshark.status === 0;
const skipTshark = haveTshark
  ? false
  : 'tshark is not installed (apt-get install tshark): skipping Wireshark checks';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('tshark reads our pcapng', { skip: skipTshark }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'quicscope-pcapng-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('RFC 9001 A.2/A.3 Initials between the right addresses and ports, checksums good, decrypted to ClientHello / ServerHello', () => {
    const keylog = new KeyLog();
    keylog.add('CLIENT_HANDSHAKE_TRAFFIC_SECRET', RANDOM, new Uint8Array(32).fill(9));
    const v6 = (port: number): DatagramInfo['from'] => ({ address: '::1', port });
    const { file } = capture(
      (w) => {
        w.writeDatagram(T0, fromHex(V1.clientInitial.protectedPacket), {
          from: CLIENT,
          to: SERVER,
          direction: 'outbound',
        });
        w.writeDatagram(T0 + 5, fromHex(V1.serverInitial.protectedPacket), {
          from: SERVER,
          to: CLIENT,
          direction: 'inbound',
        });
        w.writeDatagram(T0 + 6, fromHex(V1.clientInitial.protectedPacket), {
          from: v6(50001),
          to: v6(443),
          ecn: 1,
        });
      },
      { keylog },
    );
    const path = join(dir, 'initials.pcapng');
    writeFileSync(path, file);
    const fields = ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport'];
    fields.push('ip.checksum.status', 'udp.checksum.status', 'quic.long.packet_type', 'tls.handshake.type');
    const out = run('tshark', [
      '-r',
      path,
      '-o',
      'ip.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-T',
      'fields',
      ...fields.flatMap((f) => ['-e', f]),
    ]);
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.equal(rows.length, 3);
    // checksum status 1 = Good; QUIC long packet type 0 = Initial; TLS handshake 1 = ClientHello, 2 = ServerHello.
    assert.deepEqual(rows[0], ['1', '127.0.0.1', '127.0.0.1', '', '', '50000', '4433', '1', '1', '0', '1']);
    assert.deepEqual(rows[1], ['2', '127.0.0.1', '127.0.0.1', '', '', '4433', '50000', '1', '1', '0', '2']);
    // The same Initial again (same CIDs and packet number) over IPv6: Wireshark sees a duplicate and
    // does not decrypt it twice, so only the IPv6/UDP fields and the QUIC header are checked.
    assert.deepEqual(rows[2].slice(0, 10), ['3', '', '', '::1', '::1', '50001', '443', '', '1', '0']);
    // The capture holds one Decryption Secrets Block (capinfos ships with tshark, in wireshark-common).
    const info = spawnSync('capinfos', [path], { encoding: 'utf8' });
    if (info.status === 0) {
      assert.match(info.stdout, /Number of decryption secrets in file: 1/);
      assert.match(info.stdout, /Raw IP/);
    }
  });
});
