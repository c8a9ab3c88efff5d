/**
 * A minimal ASN.1 DER reader and writer (X.690), enough for X.509 certificates,
 * SubjectPublicKeyInfo, PKCS#8 / SEC1 private keys and ECDSA signatures.
 * Malformed input raises `DerError`; callers map it to their protocol's error.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded TLV: its tag byte, its contents, and the whole encoding. */
export interface DerNode {
  tag: number;
  contents: Uint8Array;
  /** Tag + length + contents, as a subarray of the input. */
  raw: Uint8Array;
}

/** Reads consecutive TLVs from `buf`. */
export class DerReader {
  private offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  /** Tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.done ? -1 : this.buf[this.offset];
  }

  next(expectedTag?: number): DerNode {
    const b = this.buf;
    const start = this.offset;
    if (start + 2 > b.length) throw new DerError('truncated DER element');
    const tag = b[start];
    if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
    if (expectedTag !== undefined && tag !== expectedTag) {
      throw new DerError(`expected DER tag 0x${expectedTag.toString(16)}, got 0x${tag.toString(16)}`);
    }
    let len = b[start + 1];
    let o = start + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new DerError('unsupported DER length');
      if (o + n > b.length) throw new DerError('truncated DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[o + i];
      o += n;
      if (len < 0x80 || (n > 1 && b[o - n] === 0)) throw new DerError('non-minimal DER length');
    }
    if (o + len > b.length) throw new DerError('truncated DER contents');
    this.offset = o + len;
    return { tag, contents: b.subarray(o, o + len), raw: b.subarray(start, o + len) };
  }

  /** The next element if it has `tag`, else null (for OPTIONAL / DEFAULT fields). */
  optional(tag: number): DerNode | null {
    return this.peekTag() === tag ? this.next() : null;
  }
}

/** A reader over the contents of a constructed node. */
export function derChildren(node: DerNode): DerReader {
  return new DerReader(node.contents);
}

/** Parses exactly one element spanning all of `buf`. */
export function derParse(buf: Uint8Array, expectedTag?: number): DerNode {
  const r = new DerReader(buf);
  const node = r.next(expectedTag);
  if (!r.done) throw new DerError('trailing bytes after DER element');
  return node;
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's contents. */
export function oidToString(contents: Uint8Array): string {
  if (contents.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < contents.length; i++) {
    v = v * 128 + (contents[i] & 0x7f);
    if (!(contents[i] & 0x80)) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    } else if (i === contents.length - 1) throw new DerError('truncated OID');
  }
  return parts.join('.');
}

/** The unsigned big-endian magnitude of an INTEGER's contents (leading zero bytes removed). */
export function derUnsigned(contents: Uint8Array): Uint8Array {
  let i = 0;
  while (i < contents.length - 1 && contents[i] === 0) i++;
  return contents.subarray(i);
}

/** The bytes of a BIT STRING with no unused bits. */
export function derBitString(node: DerNode): Uint8Array {
  if (node.tag !== Tag.BIT_STRING || node.contents.length < 1) throw new DerError('expected BIT STRING');
  if (node.contents[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return node.contents.subarray(1);
}

// --- writing -----------------------------------------------------------------------------------

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

/** Encodes one TLV from a tag and its (already encoded) contents. */
export function derEncode(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of contents) n += c.length;
  const len = lengthBytes(n);
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  let o = 1 + len.length;
  for (const c of contents) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export const derSequence = (...items: Uint8Array[]): Uint8Array => derEncode(Tag.SEQUENCE, ...items);

/** An INTEGER from unsigned big-endian bytes (adds the 0x00 sign byte when needed). */
export function derInteger(unsigned: Uint8Array | number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof unsigned === 'number') {
    const arr: number[] = [];
    let v = unsigned;
    do {
      arr.unshift(v & 0xff);
      v = Math.floor(v / 256);
    } while (v > 0);
    bytes = Uint8Array.from(arr);
  } else bytes = derUnsigned(unsigned.length ? unsigned : new Uint8Array(1));
  if (bytes[0] & 0x80) {
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    bytes = padded;
  }
  return derEncode(Tag.INTEGER, bytes);
}

export function derOid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const body: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      chunk.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    body.push(...chunk);
  }
  return derEncode(Tag.OID, Uint8Array.from(body));
}

export function derBitStringOf(bytes: Uint8Array): Uint8Array {
  return derEncode(Tag.BIT_STRING, Uint8Array.of(0), bytes);
}

export const derOctetString = (bytes: Uint8Array): Uint8Array => derEncode(Tag.OCTET_STRING, bytes);
export const derNull = (): Uint8Array => derEncode(Tag.NULL);

/** Context-specific tag [n], constructed (EXPLICIT) or primitive (IMPLICIT). */
export function derContext(n: number, constructed: boolean, ...contents: Uint8Array[]): Uint8Array {
  return derEncode(0x80 | (constructed ? 0x20 : 0) | n, ...contents);
}

// --- PEM ---------------------------------------------------------------------------------------

/** Every block of `label` (e.g. 'CERTIFICATE') in PEM text, decoded to DER. */
export function pemDecodeAll(pem: string, label?: string): { label: string; der: Uint8Array }[] {
  const out: { label: string; der: Uint8Array }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) {
    if (label !== undefined && m[1] !== label) continue;
    const b64 = m[2].replace(/\s+/g, '');
    const buf = Buffer.from(b64, 'base64');
    out.push({ label: m[1], der: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) });
  }
  return out;
}

export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
