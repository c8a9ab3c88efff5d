/**
 * UDP addresses as the connection compares, stores and traces them: equality that survives the
 * many text forms of one IPv6 address (and IPv4-mapped IPv6 from dual-stack sockets), the
 * preferred_address transport parameter's byte form (RFC 9000 §18.2), and qlog's
 * TupleEndpointInfo (draft-ietf-quic-qlog-quic-events-13 §8.5).
 */
import { parseIpAddress } from '../trace/ip.ts';
import type { TupleEndpointInfo } from '../trace/data-types.ts';
import { hex } from '../trace/format.ts';
import type { Address } from './types.ts';

function normalized(text: string): Uint8Array | null {
  try {
    const b = parseIpAddress(text);
    // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) is the IPv4 address a.b.c.d.
    if (b.length === 16 && b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0))
      return b.slice(12);
    return b;
  } catch {
    return null;
  }
}

/** Whether two IP address texts name the same address ("::1" and "0:0::1"; "::ffff:1.2.3.4" and "1.2.3.4"). */
export function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const x = normalized(a);
  const y = normalized(b);
  if (x === null || y === null || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Whether `a` and `b` are the same UDP address (text compared first: the per-packet fast path). */
export function sameAddress(a: Address, b: Address): boolean {
  if (a.port !== b.port) return false;
  return a.address === b.address || sameIp(a.address, b.address);
}

/** A copy of `a` (callers may reuse the objects they pass in). */
export function copyAddress(a: Address): Address {
  return { address: a.address, port: a.port };
}

/** Whether `a` is an IPv6 address (text form). */
export function isIpv6(a: Address): boolean {
  return a.address.includes(':') && normalized(a.address)?.length !== 4;
}

/** The bytes of an address for the preferred_address parameter (RFC 9000 §18.2): 4 or 16. */
export function ipBytes(text: string): Uint8Array {
  return parseIpAddress(text);
}

/** The text of 4 (dotted quad) or 16 (RFC 5952: lower case, longest zero run as "::") address bytes. */
export function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952 §4.2: the longest run (first if tied) of two or more zero groups becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const part = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (best < 0) return part(0, 8);
  return `${part(0, best)}::${part(best + bestLength, 8)}`;
}

/** qlog TupleEndpointInfo (quic-events-13 §8.5) of `a`, with the connection IDs used towards it. */
export function tupleEndpoint(a: Address, cids: readonly Uint8Array[] = []): TupleEndpointInfo {
  const ids = cids.filter((c) => c.length > 0).map((c) => hex(c));
  const info: TupleEndpointInfo = a.address.includes(':')
    ? { ip_v6: a.address, port_v6: a.port }
    : { ip_v4: a.address, port_v4: a.port };
  if (ids.length > 0) info.connection_ids = ids;
  return info;
}
