/**
 * Handshake message framing. `writeHandshake` writes the header; `HandshakeBuffer`
 * splits the in-order CRYPTO stream of one encryption level into whole TLS handshake
 * messages (RFC 9001 §4.1.3: messages may span CRYPTO frames and packets). Each message
 * is msg_type(1) + uint24 length + body (RFC 8446 §4).
 *
 * Bounded: a message declaring more than `maxMessageSize` bytes, or more than
 * `maxBuffered` bytes waiting, raises `CryptoBufferExceededError`
 * (CRYPTO_BUFFER_EXCEEDED, RFC 9000 §7.5) as soon as it is seen.
 */
import type { Writer } from '../wire/buffer.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import { unexpectedMessage } from './alerts.ts';
import { handshakeTypeName } from './constants.ts';

/** Writes msg_type + uint24 length + body; returns the bytes written (RFC 8446 §4). */
export function writeHandshake(w: Writer, type: number, body: (w: Writer) => void): number {
  const start = w.offset;
  w.u8(type);
  w.lengthPrefixed(3, body);
  return w.offset - start;
}

/** The peer sent more handshake data than we buffer: CRYPTO_BUFFER_EXCEEDED (RFC 9000 §7.5, §20.1). */
export class CryptoBufferExceededError extends QuicError {
  constructor(reason: string) {
    super(TransportError.CRYPTO_BUFFER_EXCEEDED, reason);
  }
}

/** One whole handshake message: its type, its body, and all its bytes (for the transcript). */
export interface RawHandshakeMessage {
  readonly type: number;
  /** The body (after the 4-byte header): a subarray of `raw`. */
  readonly body: Uint8Array;
  /** The whole message, header included, exactly as it enters the transcript (RFC 8446 §4.4.1). */
  readonly raw: Uint8Array;
}

/** Default largest handshake message accepted (a certificate chain fits easily). */
export const DEFAULT_MAX_HANDSHAKE_MESSAGE = 65536;

/**
 * Accumulates CRYPTO bytes (in stream order) for one encryption level and yields whole
 * messages. Returned messages are copies: they stay valid after later pushes.
 */
export class HandshakeBuffer {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  /** Where header validation got to (every header before it has been checked). */
  private scanned = 0;

  constructor(
    readonly maxMessageSize: number = DEFAULT_MAX_HANDSHAKE_MESSAGE,
    readonly maxBuffered: number = 4 * (DEFAULT_MAX_HANDSHAKE_MESSAGE + 4),
  ) {}

  /** Bytes received and not yet returned by `next()`. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Appends in-order CRYPTO stream bytes; throws CryptoBufferExceededError past the limits. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    const have = this.end - this.start;
    if (have + data.length > this.maxBuffered) {
      throw new CryptoBufferExceededError(
        `${have + data.length} bytes of handshake data buffered, limit ${this.maxBuffered}`,
      );
    }
    if (this.buf.length - this.end < data.length) {
      const need = have + data.length;
      if (this.buf.length >= need && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(need, 2 * this.buf.length, 1024));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.scanned -= this.start;
      this.start = 0;
      this.end = have;
    }
    this.buf.set(data, this.end);
    this.end += data.length;
    this.scan();
  }

  /** Checks the header of every message that has one, so an oversized message fails early. */
  private scan(): void {
    let p = Math.max(this.scanned, this.start);
    while (this.end - p >= 4) {
      const b = this.buf;
      const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (len > this.maxMessageSize) {
        throw new CryptoBufferExceededError(
          `${handshakeTypeName(b[p])} of ${len} bytes exceeds the ${this.maxMessageSize}-byte limit`,
        );
      }
      p += 4 + len;
    }
    this.scanned = p;
  }

  /** The next whole message, or null until more bytes arrive. */
  next(): RawHandshakeMessage | null {
    const s = this.start;
    if (this.end - s < 4) return null;
    const b = this.buf;
    const len = (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
    if (this.end - s < 4 + len) return null;
    const raw = b.slice(s, s + 4 + len);
    this.start = s + 4 + len;
    if (this.start === this.end) {
      this.scanned -= this.start;
      this.start = this.end = 0;
    }
    return { type: raw[0], body: raw.subarray(4), raw };
  }

  /**
   * RFC 8446 §5.1: handshake messages must not span a key change. Call when this level's
   * keys are retired; leftover bytes are unexpected_message.
   */
  checkEmpty(level: string): void {
    if (this.end !== this.start) {
      throw unexpectedMessage(
        `${this.end - this.start} bytes of a partial handshake message left at ${level}`,
      );
    }
  }
}
