/**
 * A pcapng writer (the PCAP Next Generation capture format, draft-ietf-opsawg-pcapng) for the
 * datagrams of a session, with the TLS secrets embedded in Decryption Secrets Blocks so that
 * Wireshark / tshark open one file and show QUIC in plaintext.
 *
 * Layout: a Section Header Block, one Interface Description Block (LINKTYPE_RAW: each packet starts
 * with an IPv4 or IPv6 header), then Enhanced Packet Blocks, one per UDP datagram, each wrapped in
 * synthetic IP + UDP headers (ip.ts), and Decryption Secrets Blocks written before the first packet
 * that needs them. All blocks are little-endian, padded to 32 bits and end with their total length.
 * Sans-IO: every block goes to the sink as its own Uint8Array, which the sink may keep.
 */
import { ipUdpLength, ipv4Mapped, parseIpAddress, writeIpUdp, type SocketAddress } from './ip.ts';
import type { KeyLog } from './keylog.ts';

/** Block types (pcapng §4). */
export const PcapngBlockType = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  ENHANCED_PACKET: 0x00000006,
  DECRYPTION_SECRETS: 0x0000000a,
} as const;

/** Byte-order magic of the Section Header Block. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** LINKTYPE_RAW: packets begin with an IPv4 or IPv6 header. */
export const LINKTYPE_RAW = 101;
/** Secrets type of a TLS key log in a Decryption Secrets Block ('TLSK'). */
export const SECRETS_TYPE_TLS_KEYLOG = 0x544c534b;

// Option codes (pcapng §3.5 and the per-block option lists).
const OPT_ENDOFOPT = 0;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;

/** Options of a PcapngWriter. */
export interface PcapngOptions {
  /** Timestamp resolution: microseconds (the pcapng default) or nanoseconds. */
  timestampResolution?: 'us' | 'ns';
  /** if_name of the single interface (default "quicscope"). */
  interfaceName?: string;
  /** shb_userappl (default "quicscope"). */
  application?: string;
  /** A key log whose new lines are written as a Decryption Secrets Block before each packet. */
  keylog?: KeyLog;
}

/** One captured datagram's addresses and IP fields. */
export interface DatagramInfo {
  from: SocketAddress;
  to: SocketAddress;
  /** Sets the epb_flags direction (inbound = received by us, outbound = sent by us). */
  direction?: 'inbound' | 'outbound';
  /** ECN codepoint of the IP header: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  ecn?: number;
}

const pad4 = (n: number): number => (n + 3) & ~3;

function u32le(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}

const utf8 = new TextEncoder();

/** Encodes options (code, length, value padded to 32 bits) followed by opt_endofopt. */
function encodeOptions(options: readonly [code: number, value: Uint8Array][]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  let size = 4;
  for (const [, v] of options) size += 4 + pad4(v.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const [code, v] of options) {
    view.setUint16(p, code, true);
    view.setUint16(p + 2, v.length, true);
    out.set(v, p + 4);
    p += 4 + pad4(v.length);
  }
  view.setUint16(p, OPT_ENDOFOPT, true);
  view.setUint16(p + 2, 0, true);
  return out;
}

/** Allocates a block: type, total length, `body` bytes (padded), trailing total length. */
function newBlock(type: number, bodyLength: number): { block: Uint8Array; view: DataView } {
  const total = 12 + pad4(bodyLength);
  const block = new Uint8Array(total);
  const view = new DataView(block.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  view.setUint32(total - 4, total, true);
  return { block, view };
}

// epb_flags bits 0-1: direction, 01 inbound, 10 outbound (pcapng §4.3.1).
const NO_OPTIONS = new Uint8Array(0);
const INBOUND = encodeOptions([[EPB_FLAGS, u32le(1)]]);
const OUTBOUND = encodeOptions([[EPB_FLAGS, u32le(2)]]);

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`bad UDP port: ${port}`);
}

/** Writes a pcapng capture of UDP datagrams with their TLS secrets; see the module comment. */
export class PcapngWriter {
  private readonly nanoseconds: boolean;
  private readonly keylog: KeyLog | undefined;
  private identification = 0;
  private readonly addresses = new Map<string, Uint8Array>();

  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    options: PcapngOptions = {},
  ) {
    this.nanoseconds = options.timestampResolution === 'ns';
    this.keylog = options.keylog;
    sink(this.sectionHeader(options.application ?? 'quicscope'));
    sink(this.interfaceDescription(options.interfaceName ?? 'quicscope'));
  }

  private sectionHeader(application: string): Uint8Array {
    const options = encodeOptions([[SHB_USERAPPL, utf8.encode(application)]]);
    const { block, view } = newBlock(PcapngBlockType.SECTION_HEADER, 16 + options.length);
    view.setUint32(8, PCAPNG_BYTE_ORDER_MAGIC, true);
    view.setUint16(12, 1, true); // major version
    view.setUint16(14, 0, true); // minor version
    view.setBigInt64(16, -1n, true); // section length: not specified
    block.set(options, 24);
    return block;
  }

  private interfaceDescription(name: string): Uint8Array {
    // if_tsresol: 10^-6 (the default, written anyway for clarity) or 10^-9.
    const options = encodeOptions([
      [IF_NAME, utf8.encode(name)],
      [IF_TSRESOL, Uint8Array.of(this.nanoseconds ? 9 : 6)],
    ]);
    const { block, view } = newBlock(PcapngBlockType.INTERFACE_DESCRIPTION, 8 + options.length);
    view.setUint16(8, LINKTYPE_RAW, true);
    view.setUint16(10, 0, true); // reserved
    view.setUint32(12, 0, true); // SnapLen 0: no limit
    block.set(options, 16);
    return block;
  }

  /** Writes a Decryption Secrets Block holding key log text (NSS format); nothing if empty. */
  writeSecrets(keylogText: string): void {
    if (keylogText === '') return;
    const secrets = utf8.encode(keylogText);
    const { block, view } = newBlock(PcapngBlockType.DECRYPTION_SECRETS, 8 + secrets.length);
    view.setUint32(8, SECRETS_TYPE_TLS_KEYLOG, true);
    view.setUint32(12, secrets.length, true);
    block.set(secrets, 16);
    this.sink(block);
  }

  private address(text: string): Uint8Array {
    let bytes = this.addresses.get(text);
    if (bytes === undefined) {
      bytes = parseIpAddress(text);
      if (this.addresses.size >= 64) this.addresses.clear();
      this.addresses.set(text, bytes);
    }
    return bytes;
  }

  /**
   * Writes one UDP datagram seen at `timeMs` (epoch milliseconds) as an Enhanced Packet Block,
   * preceded by a Decryption Secrets Block when the key log has new lines. An IPv4 address paired
   * with an IPv6 one is written in its IPv4-mapped form.
   *
   * Wireshark only uses secrets from a block that comes before the packet (checked with tshark
   * 4.0, one pass and two), and a received datagram can carry packets whose keys are derived
   * while it is processed (a coalesced ServerHello + Handshake, Finished + 1-RTT): write a
   * received datagram after the connection has processed it, a sent one when it is sent.
   */
  writeDatagram(timeMs: number, payload: Uint8Array, info: DatagramInfo): void {
    if (this.keylog !== undefined && this.keylog.pending > 0) this.writeSecrets(this.keylog.takeNew());
    checkPort(info.from.port);
    checkPort(info.to.port);
    let src = this.address(info.from.address);
    let dst = this.address(info.to.address);
    if (src.length !== dst.length) {
      if (src.length === 4) src = ipv4Mapped(src);
      else dst = ipv4Mapped(dst);
    }
    const packetLength = ipUdpLength(src.length === 16, payload.length);
    const options =
      info.direction === undefined ? NO_OPTIONS : info.direction === 'inbound' ? INBOUND : OUTBOUND;
    const { block, view } = newBlock(
      PcapngBlockType.ENHANCED_PACKET,
      20 + pad4(packetLength) + options.length,
    );
    const [high, low] = this.timestamp(timeMs);
    view.setUint32(8, 0, true); // interface 0
    view.setUint32(12, high, true);
    view.setUint32(16, low, true);
    view.setUint32(20, packetLength, true); // captured length
    view.setUint32(24, packetLength, true); // original length
    writeIpUdp(block, 28, src, info.from.port, dst, info.to.port, payload, {
      ecn: info.ecn,
      identification: this.identification++ & 0xffff,
    });
    block.set(options, 28 + pad4(packetLength));
    this.sink(block);
  }

  /** Epoch ms → the 64-bit timestamp in if_tsresol units, as [high, low] 32-bit halves. */
  private timestamp(timeMs: number): [number, number] {
    if (!Number.isFinite(timeMs) || timeMs < 0) throw new RangeError(`bad timestamp: ${timeMs}`);
    if (this.nanoseconds) {
      // Nanoseconds since 1970 exceed 2^53: split the milliseconds before scaling.
      const units = BigInt(Math.floor(timeMs)) * 1_000_000n + BigInt(Math.round((timeMs % 1) * 1e6));
      return [Number(units >> 32n), Number(units & 0xffffffffn)];
    }
    // Microseconds since 1970 stay below 2^53 (exact in a double) until the year 2255. Scaling the
    // fraction alone avoids a second rounding (an epoch-ms double has ~0.24 µs of precision).
    const us = Math.floor(timeMs) * 1000 + Math.round((timeMs % 1) * 1000);
    const high = Math.floor(us / 0x1_0000_0000);
    return [high, us - high * 0x1_0000_0000];
  }
}
