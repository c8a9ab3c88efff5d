/**
 * Synthetic IPv4 / IPv6 + UDP headers for packet captures (pcapng.ts): address parsing, the
 * Internet checksum (RFC 1071), the IPv4 header (RFC 791) and the UDP header with its checksum over
 * the pseudo-header (RFC 768 for IPv4; RFC 8200 §8.1 for IPv6, where it is mandatory).
 */

/** A UDP endpoint: an IPv4 or IPv6 address as text, and a port. */
export interface SocketAddress {
  address: string;
  port: number;
}

/** IPv4 header length without options (RFC 791 §3.1). */
export const IPV4_HEADER_LENGTH = 20;
/** IPv6 fixed header length (RFC 8200 §3). */
export const IPV6_HEADER_LENGTH = 40;
/** UDP header length (RFC 768). */
export const UDP_HEADER_LENGTH = 8;
/** IP protocol number of UDP. */
const PROTO_UDP = 17;

function invalid(address: string): never {
  throw new RangeError(`not an IP address: ${JSON.stringify(address)}`);
}

function parseIpv4Into(text: string, out: Uint8Array, offset: number, original: string): void {
  const parts = text.split('.');
  if (parts.length !== 4) invalid(original);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) invalid(original);
    const v = Number(p);
    if (v > 255) invalid(original);
    out[offset + i] = v;
  }
}

function parseGroups(text: string, original: string): number[] {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && p.includes('.')) {
      // RFC 4291 §2.2 form 3: the last 32 bits as a dotted IPv4 address.
      const v4 = new Uint8Array(4);
      parseIpv4Into(p, v4, 0, original);
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) invalid(original);
      groups.push(parseInt(p, 16));
    }
  }
  return groups;
}

/**
 * The bytes of an IP address: 4 for IPv4 ("127.0.0.1"), 16 for IPv6 in any RFC 4291 §2.2 text form
 * ("::1", "2001:db8::1", full forms, "::ffff:1.2.3.4"), with optional [brackets] and %zone.
 * A RangeError for anything else (a caller's mistake: addresses come from the socket layer).
 */
export function parseIpAddress(address: string): Uint8Array {
  let text = address;
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const out = new Uint8Array(4);
    parseIpv4Into(text, out, 0, address);
    return out;
  }
  const halves = text.split('::');
  if (halves.length > 2) invalid(address);
  const head = parseGroups(halves[0], address);
  const tail = halves.length === 2 ? parseGroups(halves[1], address) : [];
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) invalid(address);
  const groups = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

/** An IPv4 address as its IPv4-mapped IPv6 form ::ffff:a.b.c.d (RFC 4291 §2.5.5.2). */
export function ipv4Mapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

/** Adds bytes [start, end) as big-endian 16-bit words to a running one's-complement sum. */
function sum16(buf: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (i < end) acc += buf[i] << 8; // an odd trailing byte is padded with zero (RFC 1071)
  return acc;
}

/** Folds a running sum to 16 bits and complements it (RFC 1071 §4.1). */
function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** The Internet checksum (RFC 1071) of bytes [start, end). */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return finish(sum16(buf, start, end, 0));
}

/** Per-packet fields of the synthetic IP header. */
export interface IpFields {
  /** The ECN codepoint (RFC 3168 §5): 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  ecn?: number;
  /** IPv4 Identification. */
  identification?: number;
  /** IPv4 TTL / IPv6 Hop Limit (default 64). */
  ttl?: number;
}

/** Bytes that `writeIpUdp` writes for a payload of `payloadLength` bytes. */
export function ipUdpLength(v6: boolean, payloadLength: number): number {
  return (v6 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH) + UDP_HEADER_LENGTH + payloadLength;
}

/**
 * Writes an IPv4 (4-byte addresses) or IPv6 (16-byte) packet carrying one UDP datagram into `out`
 * at `offset`, checksums included; returns the bytes written. Both addresses must be the same family.
 */
export function writeIpUdp(
  out: Uint8Array,
  offset: number,
  src: Uint8Array,
  srcPort: number,
  dst: Uint8Array,
  dstPort: number,
  payload: Uint8Array,
  fields: IpFields = {},
): number {
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) {
    throw new RangeError('source and destination must both be IPv4 or both IPv6');
  }
  const v6 = src.length === 16;
  const udpLength = UDP_HEADER_LENGTH + payload.length;
  const total = ipUdpLength(v6, payload.length);
  if (v6 ? udpLength > 0xffff : total > 0xffff) throw new RangeError(`datagram too large: ${payload.length}`);
  if (offset + total > out.length) throw new RangeError('output buffer too small');
  const ecn = (fields.ecn ?? 0) & 3;
  const ttl = fields.ttl ?? 64;
  let p = offset;
  if (v6) {
    // RFC 8200 §3: version 6, traffic class (DSCP 0 + ECN), flow label 0.
    out[p] = 0x60;
    out[p + 1] = ecn << 4;
    out[p + 2] = 0;
    out[p + 3] = 0;
    out[p + 4] = udpLength >> 8; // Payload Length: everything after the fixed header
    out[p + 5] = udpLength & 0xff;
    out[p + 6] = PROTO_UDP;
    out[p + 7] = ttl;
    out.set(src, p + 8);
    out.set(dst, p + 24);
    p += IPV6_HEADER_LENGTH;
  } else {
    const id = (fields.identification ?? 0) & 0xffff;
    out[p] = 0x45; // RFC 791: version 4, IHL 5 words
    out[p + 1] = ecn; // DSCP 0 + ECN
    out[p + 2] = total >> 8;
    out[p + 3] = total & 0xff;
    out[p + 4] = id >> 8;
    out[p + 5] = id & 0xff;
    out[p + 6] = 0x40; // Don't Fragment (QUIC sets DF, RFC 9000 §14), offset 0
    out[p + 7] = 0;
    out[p + 8] = ttl;
    out[p + 9] = PROTO_UDP;
    out[p + 10] = 0;
    out[p + 11] = 0;
    out.set(src, p + 12);
    out.set(dst, p + 16);
    const sum = internetChecksum(out, p, p + IPV4_HEADER_LENGTH);
    out[p + 10] = sum >> 8;
    out[p + 11] = sum & 0xff;
    p += IPV4_HEADER_LENGTH;
  }
  const udp = p;
  out[udp] = srcPort >> 8;
  out[udp + 1] = srcPort & 0xff;
  out[udp + 2] = dstPort >> 8;
  out[udp + 3] = dstPort & 0xff;
  out[udp + 4] = udpLength >> 8;
  out[udp + 5] = udpLength & 0xff;
  out[udp + 6] = 0;
  out[udp + 7] = 0;
  out.set(payload, udp + UDP_HEADER_LENGTH);
  // Pseudo-header: addresses, protocol, UDP length (RFC 768; RFC 8200 §8.1 for IPv6).
  let acc = sum16(src, 0, src.length, 0);
  acc = sum16(dst, 0, dst.length, acc);
  acc += PROTO_UDP + udpLength;
  acc = sum16(out, udp, udp + udpLength, acc);
  let sum = finish(acc);
  if (sum === 0) sum = 0xffff; // RFC 768: a computed zero is sent as all ones (0 means "none")
  out[udp + 6] = sum >> 8;
  out[udp + 7] = sum & 0xff;
  return total;
}
