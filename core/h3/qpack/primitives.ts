/**
 * QPACK primitives (RFC 9204 §4.1): prefixed integers (RFC 7541 §5.1) and N-bit prefix string
 * literals with optional Huffman coding (RFC 7541 §5.2), plus the UTF-8 conversions of field
 * names and values.
 *
 * Readers work on `(buf, cursor, end)` and return `INCOMPLETE` when the input stops early, so the
 * same code serves whole field sections (where that is an error) and the encoder and decoder
 * streams (where it means "wait for more bytes"). Values the implementation will not accept (an
 * integer above 2^62 - 1 or longer than 10 bytes, RFC 9204 §4.1.1 and §7.4) raise an `H3Error`
 * with the caller's error code.
 */
import type { Writer } from '../../wire/buffer.ts';
import { H3Error } from '../errors.ts';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanMaxDecodedLength } from './huffman.ts';

/** Returned by the readers when the input ends inside the item. */
export const INCOMPLETE = -1;

/** The largest prefixed integer we accept: 2^62 - 1 (RFC 9204 §4.1.1). */
export const MAX_PREFIXED_INT = 2 ** 62 - 1;
const MAX_PREFIXED_INT_BIG = (1n << 62n) - 1n;
/** Continuation bytes after the prefix: 9 carry 63 bits, enough for any 62-bit value. */
const MAX_CONTINUATION_BYTES = 9;

/** How string literals are coded by the writers. `auto` uses Huffman when it is shorter. */
export type HuffmanMode = 'auto' | 'always' | 'never';

/** Read position shared by the primitive readers, plus what the last string header said. */
export class Cursor {
  /** Next byte to read. */
  pos = 0;
  /** Whether the last string literal header had the H bit. */
  huffman = false;
  /** Decoded length in bytes of the last string `readString` returned. */
  byteLength = 0;
}

/**
 * Reads an integer with a `prefixBits`-bit prefix (RFC 7541 §5.1) at `cur.pos`, advancing it.
 * Returns INCOMPLETE (leaving `cur.pos`) when `end` comes first.
 */
export function readPrefixedInt(
  buf: Uint8Array,
  cur: Cursor,
  end: number,
  prefixBits: number,
  errorCode: number,
): number {
  const start = cur.pos;
  if (start >= end) return INCOMPLETE;
  const max = (1 << prefixBits) - 1;
  let v = buf[start] & max;
  if (v < max) {
    cur.pos = start + 1;
    return v;
  }
  let p = start + 1;
  let m = 1;
  for (let count = 1; ; count++) {
    if (p >= end) return INCOMPLETE;
    // RFC 7541 §5.1: encodings past our limits, in value or in length, are errors.
    if (count > MAX_CONTINUATION_BYTES) throw new H3Error(errorCode, 'prefixed integer longer than 10 bytes');
    const b = buf[p++];
    v += (b & 0x7f) * m;
    m *= 128;
    if ((b & 0x80) === 0) break;
  }
  if (p - start > 8) v = exactPrefixedInt(buf, start + 1, p, max, errorCode); // past 2^53: recompute exactly
  cur.pos = p;
  return v;
}

function exactPrefixedInt(buf: Uint8Array, from: number, to: number, max: number, errorCode: number): number {
  let v = 0n;
  for (let i = to - 1; i >= from; i--) v = (v << 7n) | BigInt(buf[i] & 0x7f);
  v += BigInt(max);
  if (v > MAX_PREFIXED_INT_BIG) throw new H3Error(errorCode, 'prefixed integer above 2^62 - 1');
  return Number(v);
}

/** Bytes needed for `v` as a prefixed integer with a `prefixBits`-bit prefix. */
export function prefixedIntLength(prefixBits: number, v: number): number {
  const max = (1 << prefixBits) - 1;
  if (v < max) return 1;
  let n = 2;
  for (v -= max; v >= 128; v = Math.floor(v / 128)) n++;
  return n;
}

/**
 * Writes `v` with a `prefixBits`-bit prefix (RFC 7541 §5.1); `flags` holds the bits above the
 * prefix in the first byte. `v` must be an integer in [0, 2^62).
 */
export function writePrefixedInt(w: Writer, flags: number, prefixBits: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 62) throw new RangeError(`not a QPACK integer: ${v}`);
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    w.u8(flags | v);
    return;
  }
  w.u8(flags | max);
  v -= max;
  while (v >= 128) {
    w.u8((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  w.u8(v);
}

/**
 * Reads the header of a `prefixBits`-bit prefix string literal (RFC 9204 §4.1.2): sets
 * `cur.huffman` from the H bit and returns the encoded length (or INCOMPLETE).
 */
export function readStringHeader(
  buf: Uint8Array,
  cur: Cursor,
  end: number,
  prefixBits: number,
  errorCode: number,
): number {
  if (cur.pos >= end) return INCOMPLETE;
  cur.huffman = (buf[cur.pos] & (1 << (prefixBits - 1))) !== 0;
  return readPrefixedInt(buf, cur, end, prefixBits - 1, errorCode);
}

let scratch = new Uint8Array(256);

function scratchOf(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * Decodes the `len` string bytes at `start` (Huffman-coded when `huffman`) into a string;
 * sets `cur.byteLength` to the decoded length. Invalid Huffman data, or a string longer than
 * `maxLength` bytes once decoded, raises an `H3Error` with `errorCode`.
 */
export function readString(
  buf: Uint8Array,
  start: number,
  len: number,
  huffman: boolean,
  cur: Cursor,
  errorCode: number,
  maxLength: number,
): string {
  if (!huffman) {
    if (len > maxLength) throw new H3Error(errorCode, `string of ${len} bytes over the limit`, 'stream');
    cur.byteLength = len;
    return utf8Decode(buf, start, start + len);
  }
  const out = scratchOf(huffmanMaxDecodedLength(len));
  const n = huffmanDecode(buf, start, start + len, out, 0);
  if (n < 0) throw new H3Error(errorCode, 'invalid Huffman-coded string'); // RFC 7541 §5.2
  if (n > maxLength) throw new H3Error(errorCode, `string of ${n} bytes over the limit`, 'stream');
  cur.byteLength = n;
  return utf8Decode(out, 0, n);
}

/**
 * Writes `s` as a `prefixBits`-bit prefix string literal (RFC 9204 §4.1.2): `flags` holds the
 * bits above the H bit in the first byte.
 */
export function writeString(
  w: Writer,
  flags: number,
  prefixBits: number,
  s: string,
  mode: HuffmanMode,
): void {
  const n = utf8Encode(s);
  const bytes = scratch;
  const hbit = 1 << (prefixBits - 1);
  const hlen = mode === 'never' ? n + 1 : huffmanEncodedLength(bytes, 0, n);
  if (mode === 'always' || hlen < n) {
    writePrefixedInt(w, flags | hbit, prefixBits - 1, hlen);
    if (w.remaining < hlen) throw new RangeError(`buffer overflow: need ${hlen} bytes, have ${w.remaining}`);
    w.offset = huffmanEncode(bytes, 0, n, w.buf, w.offset);
  } else {
    writePrefixedInt(w, flags, prefixBits - 1, n);
    w.bytes(bytes.subarray(0, n));
  }
}

/** An upper bound on the bytes `writeString` produces for `s` in `mode` (any prefix). */
export function maxStringLiteralLength(s: string, mode: HuffmanMode): number {
  // UTF-8 takes at most 3 bytes per UTF-16 unit. Huffman is used only when not longer, except in
  // `always` mode, where a byte takes up to 30 bits. 10 bytes cover the length prefix.
  const bytes = s.length * 3;
  return (mode === 'always' ? Math.ceil((bytes * 30) / 8) : bytes) + 10;
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** Decodes UTF-8 bytes (invalid sequences become U+FFFD), with a fast path for ASCII. */
export function utf8Decode(buf: Uint8Array, start: number, end: number): string {
  let i = start;
  while (i < end && buf[i] < 0x80) i++;
  if (i < end || end - start > 4096) return textDecoder.decode(buf.subarray(start, end));
  return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
}

/** The UTF-8 length of `s`, as TextEncoder encodes it (a lone surrogate becomes U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Encodes `s` as UTF-8 into the module scratch buffer; returns its length there. */
function utf8Encode(s: string): number {
  const out = scratchOf(s.length * 3);
  const len = s.length;
  let i = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    out[i] = c;
  }
  if (i === len) return len;
  return i + textEncoder.encodeInto(s.slice(i), out.subarray(i)).written;
}
