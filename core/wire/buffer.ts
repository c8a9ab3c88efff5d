/**
 * Reader and Writer: the one cursor type every codec in core/ reads and writes through,
 * with QUIC variable-length integers (RFC 9000 §16).
 *
 * Numbers are JS doubles. Every varint value up to 2^53 - 1 is exact; wire values
 * above that (legal up to 2^62 - 1) decode to the nearest double, and every
 * integer-valued double up to 2^62 encodes exactly, the double 2^62 (which is what
 * `2 ** 62 - 1` evaluates to) standing for the largest varint, 2^62 - 1.
 */
import { QuicError, TransportError } from './errors.ts';

/** The largest varint as a JS number (the double 2^62; it encodes as 2^62 - 1). */
export const MAX_VARINT = 2 ** 62 - 1;
const TWO_32 = 0x1_0000_0000;

/**
 * The varint at `pos` (RFC 9000 §16) without bounds checks: the caller has made sure its
 * `1 << (b[pos] >> 6)` bytes are there. For hot paths that already know the lengths.
 */
export function varintAt(b: Uint8Array, pos: number): number {
  const first = b[pos];
  const n = 1 << (first >> 6);
  let v = first & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + b[pos + i];
  return v;
}

/** Bytes needed to encode `v` as a varint (RFC 9000 §16, Table 4). */
export function varintLength(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x4000_0000) return 4;
  return 8;
}

/** Whether `v` can be encoded as a varint: a non-negative integer no larger than 2^62 - 1. */
export function isVarint(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= MAX_VARINT;
}

/**
 * Reads bytes from a Uint8Array view. Running past the end raises a `QuicError` with the
 * code given at construction (FRAME_ENCODING_ERROR by default), never an untyped error.
 * `bytes()` returns subarrays (no copy): copy them if they must outlive the input.
 */
export class Reader {
  offset: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    end = buf.length,
    readonly errorCode: number = TransportError.FRAME_ENCODING_ERROR,
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** True when everything has been read. */
  get done(): boolean {
    return this.offset >= this.end;
  }

  /** Raises this reader's error with `reason`. */
  fail(reason: string): never {
    throw new QuicError(this.errorCode, reason);
  }

  private need(n: number, what: string): void {
    if (this.end - this.offset < n)
      this.fail(`truncated ${what}: need ${n} bytes, have ${this.end - this.offset}`);
  }

  u8(): number {
    this.need(1, 'uint8');
    return this.buf[this.offset++];
  }

  u16(): number {
    this.need(2, 'uint16');
    const b = this.buf,
      o = this.offset;
    this.offset = o + 2;
    return (b[o] << 8) | b[o + 1];
  }

  u24(): number {
    this.need(3, 'uint24');
    const b = this.buf,
      o = this.offset;
    this.offset = o + 3;
    return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
  }

  u32(): number {
    this.need(4, 'uint32');
    const b = this.buf,
      o = this.offset;
    this.offset = o + 4;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  /** A variable-length integer (RFC 9000 §16, Appendix A.1). */
  varint(): number {
    if (this.offset >= this.end) this.fail('truncated varint');
    const b = this.buf;
    const o = this.offset;
    const first = b[o];
    switch (first >> 6) {
      case 0:
        this.offset = o + 1;
        return first;
      case 1:
        this.need(2, 'varint');
        this.offset = o + 2;
        return ((first & 0x3f) << 8) | b[o + 1];
      case 2:
        this.need(4, 'varint');
        this.offset = o + 4;
        return (((first & 0x3f) << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      default: {
        this.need(8, 'varint');
        this.offset = o + 8;
        const hi = (((first & 0x3f) << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
        const lo = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
        return hi * TWO_32 + lo;
      }
    }
  }

  /** A variable-length integer as an exact bigint. */
  varintBig(): bigint {
    const start = this.offset;
    const v = this.varint();
    if (v <= Number.MAX_SAFE_INTEGER) return BigInt(v);
    const b = this.buf;
    let r = BigInt(b[start] & 0x3f);
    for (let i = 1; i < 8; i++) r = (r << 8n) | BigInt(b[start + i]);
    return r;
  }

  /** `n` bytes as a subarray of the input (no copy). */
  bytes(n: number): Uint8Array {
    this.need(n, 'byte string');
    const o = this.offset;
    this.offset = o + n;
    return this.buf.subarray(o, o + n);
  }

  /** A byte string prefixed by a varint length. */
  varintBytes(): Uint8Array {
    return this.bytes(this.varint());
  }

  /** A byte string prefixed by a 1-, 2- or 3-byte length (TLS vectors, RFC 8446 §3.4). */
  vector(lengthBytes: 1 | 2 | 3): Uint8Array {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    return this.bytes(n);
  }

  /** A sub-reader over the next `n` bytes, with the same error code; this reader skips them. */
  sub(n: number): Reader {
    this.need(n, 'nested structure');
    const r = new Reader(this.buf, this.offset, this.offset + n, this.errorCode);
    this.offset += n;
    return r;
  }

  /** The rest of the input as a subarray. */
  rest(): Uint8Array {
    const o = this.offset;
    this.offset = this.end;
    return this.buf.subarray(o, this.end);
  }
}

/**
 * Writes into a caller-owned buffer. Writing past its end raises a RangeError: that is a
 * bug in the caller's size computation, not bad input from a peer.
 */
export class Writer {
  offset: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private room(n: number): void {
    if (this.buf.length - this.offset < n) {
      throw new RangeError(`buffer overflow: need ${n} bytes, have ${this.buf.length - this.offset}`);
    }
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    const b = this.buf,
      o = this.offset;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.offset = o + 2;
    return this;
  }

  u24(v: number): this {
    this.room(3);
    const b = this.buf,
      o = this.offset;
    b[o] = v >>> 16;
    b[o + 1] = v >>> 8;
    b[o + 2] = v;
    this.offset = o + 3;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    const b = this.buf,
      o = this.offset;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.offset = o + 4;
    return this;
  }

  /** A varint in its shortest form (RFC 9000 §16). */
  varint(v: number): this {
    return this.varintN(v, varintLength(v));
  }

  /** A varint in exactly `len` bytes (for fields patched later, such as a Length). */
  varintN(v: number, len: 1 | 2 | 4 | 8): this {
    if (!(v >= 0 && v <= MAX_VARINT) || !Number.isInteger(v)) throw new RangeError(`not a varint: ${v}`);
    if (len < varintLength(v)) throw new RangeError(`varint ${v} does not fit in ${len} bytes`);
    this.room(len);
    const b = this.buf,
      o = this.offset;
    switch (len) {
      case 1:
        b[o] = v;
        break;
      case 2:
        b[o] = 0x40 | (v >>> 8);
        b[o + 1] = v;
        break;
      case 4:
        b[o] = 0x80 | (v >>> 24);
        b[o + 1] = v >>> 16;
        b[o + 2] = v >>> 8;
        b[o + 3] = v;
        break;
      default: {
        // The double 2^62 stands for 2^62 - 1 (see the module comment).
        const hi = v >= 2 ** 62 ? 0x3fff_ffff : Math.floor(v / TWO_32);
        const lo = v >= 2 ** 62 ? 0xffff_ffff : v - hi * TWO_32;
        b[o] = 0xc0 | (hi >>> 24);
        b[o + 1] = hi >>> 16;
        b[o + 2] = hi >>> 8;
        b[o + 3] = hi;
        b[o + 4] = lo >>> 24;
        b[o + 5] = lo >>> 16;
        b[o + 6] = lo >>> 8;
        b[o + 7] = lo;
      }
    }
    this.offset = o + len;
    return this;
  }

  /** A varint from an exact bigint (up to 2^62 - 1). */
  varintBig(v: bigint): this {
    if (v < 0n || v > 0x3fff_ffff_ffff_ffffn) throw new RangeError(`not a varint: ${v}`);
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return this.varint(Number(v));
    this.room(8);
    for (let i = 7; i >= 0; i--) this.buf[this.offset + 7 - i] = Number((v >> BigInt(8 * i)) & 0xffn);
    this.buf[this.offset] |= 0xc0;
    this.offset += 8;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.room(data.length);
    this.buf.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  /** A byte string prefixed by its varint length. */
  varintBytes(data: Uint8Array): this {
    return this.varint(data.length).bytes(data);
  }

  /** A byte string prefixed by a 1-, 2- or 3-byte length (RFC 8446 §3.4). */
  vector(lengthBytes: 1 | 2 | 3, data: Uint8Array): this {
    if (data.length >= 2 ** (8 * lengthBytes))
      throw new RangeError(`vector of ${data.length} bytes too long`);
    if (lengthBytes === 1) this.u8(data.length);
    else if (lengthBytes === 2) this.u16(data.length);
    else this.u24(data.length);
    return this.bytes(data);
  }

  /**
   * Writes a length-prefixed block whose length is known only after `body` ran:
   * reserves `lengthBytes`, runs `body`, then patches the length in.
   */
  lengthPrefixed(lengthBytes: 1 | 2 | 3, body: (w: this) => void): this {
    this.room(lengthBytes);
    const at = this.offset;
    this.offset += lengthBytes;
    body(this);
    const n = this.offset - at - lengthBytes;
    if (n >= 2 ** (8 * lengthBytes)) throw new RangeError(`block of ${n} bytes too long`);
    for (let i = 0; i < lengthBytes; i++) this.buf[at + i] = n >>> (8 * (lengthBytes - 1 - i));
    return this;
  }

  fill(value: number, n: number): this {
    this.room(n);
    this.buf.fill(value, this.offset, this.offset + n);
    this.offset += n;
    return this;
  }

  /** What has been written so far, as a subarray of the buffer. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }
}

/** Encodes a single varint into a new array (for tests and cold paths). */
export function encodeVarint(v: number): Uint8Array {
  const w = new Writer(new Uint8Array(varintLength(v)));
  w.varint(v);
  return w.buf;
}

/** Hex helpers for tests, logs and traces. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

export function fromHex(h: string): Uint8Array {
  const s = h.replace(/\s+/g, '');
  if (s.length % 2 !== 0 || /[^0-9a-fA-F]/.test(s)) throw new RangeError('invalid hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

/** Constant-shape byte equality (not constant-time; see crypto for that). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
