/**
 * The bytes of the contract: user payloads (text or hex) decoded to bytes, and bounded previews of
 * what arrives (a body, a raw stream, a datagram) for the window, sent as updates of the window's copy.
 */
import { PREVIEW_LIMIT } from '../ipc/contract.ts';
import type { Payload, PayloadPreview, PayloadUpdate } from '../ipc/contract.ts';
import { previewText } from '../ipc/preview.ts';
import { RequestFailure } from './failure.ts';

const utf8 = new TextEncoder();
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Decodes a user payload; a 'bad_request' RequestFailure for malformed hex. */
export function decodePayload(p: Payload): Uint8Array {
  if (p.encoding === 'text') return utf8.encode(p.data);
  const digits = p.data.replace(/[\s:]/g, '').replace(/^0x/i, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits))
    throw new RequestFailure('bad_request', 'hex payload: an even number of hex digits was expected');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(i * 2, 2), 16);
  return out;
}

/** Lowercase hex of `bytes`. */
export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTE[bytes[i]];
  return s;
}

/**
 * Keeps the first `limit` bytes of a byte stream and counts the rest: memory stays bounded however
 * much arrives (a 100 MiB body keeps 64 KiB). `update()` says what changed for the window since
 * the previous update: the kept bytes appended since, then only the size once they are all there.
 */
export class PreviewBuffer {
  /** The kept bytes: grows (doubling) up to `limit`. */
  private buf: Uint8Array;
  private kept = 0;
  /** Total bytes seen. */
  size = 0;
  /** Kept length and truncation as of the last `update()` (-1: none yet). */
  private sentKept = -1;
  private sentTruncated = false;

  constructor(readonly limit = PREVIEW_LIMIT) {
    this.buf = new Uint8Array(Math.min(Math.max(limit, 0), 4096));
  }

  /** Appends `data` (copies at most what fits under the limit). */
  push(data: Uint8Array): void {
    this.size += data.length;
    const room = this.limit - this.kept;
    if (room <= 0 || data.length === 0) return;
    const take = Math.min(room, data.length);
    if (this.kept + take > this.buf.length) {
      const bigger = new Uint8Array(Math.min(this.limit, Math.max(this.buf.length * 2, this.kept + take)));
      bigger.set(this.buf.subarray(0, this.kept));
      this.buf = bigger;
    }
    this.buf.set(data.subarray(0, take), this.kept);
    this.kept += take;
  }

  /** How many bytes are kept (at most `limit`). */
  get keptLength(): number {
    return this.kept;
  }

  /** The kept bytes (a view). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.kept);
  }

  /**
   * What the next batch carries of this preview (PayloadUpdate), recorded as sent: the bytes kept
   * since the previous update (all of them the first time), or only the size when none were and
   * `truncated` did not change. Every window applies every update, so one record serves them all.
   */
  update(): PayloadUpdate {
    const truncated = this.size > this.kept;
    const from = Math.max(this.sentKept, 0);
    const out: PayloadUpdate =
      this.sentKept === this.kept && this.sentTruncated === truncated
        ? { size: this.size, previewUnchanged: true }
        : { size: this.size, appendAt: from, hex: hexOf(this.buf.subarray(from, this.kept)) };
    this.sentKept = this.kept;
    this.sentTruncated = truncated;
    return out;
  }

  private cached: { kept: number; truncated: boolean; hex: string; text: string | null } | null = null;

  /** The contract's preview (hex and text are recomputed only when the kept bytes changed). */
  preview(): PayloadPreview {
    const truncated = this.size > this.kept;
    let c = this.cached;
    if (c === null || c.kept !== this.kept || c.truncated !== truncated) {
      const p = previewOf(this.bytes(), this.size);
      c = this.cached = { kept: this.kept, truncated, hex: p.hex, text: p.text };
    }
    return { size: this.size, hex: c.hex, text: c.text, truncated };
  }
}

/** A preview of `bytes` (already bounded), of a message of `size` bytes in all. */
export function previewOf(bytes: Uint8Array, size = bytes.length): PayloadPreview {
  const truncated = size > bytes.length;
  return { size, hex: hexOf(bytes), text: previewText(bytes, truncated), truncated };
}
