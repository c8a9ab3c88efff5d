/**
 * The rule both ends of the contract apply to payload previews (request bodies, raw streams): how
 * a preview's `text` follows from its bytes, and how the window folds a `PayloadUpdate` into the
 * preview it has. main/ computes whole previews with `previewText`; the window recomputes `text`
 * with the same function after appending bytes, so both copies stay identical.
 *
 * Imported by the renderer bundle: plain TypeScript, no Node or DOM-only APIs (TextDecoder is in both).
 */
import type { PayloadPreview, PayloadUpdate } from './contract.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of previewed `bytes` when they are valid UTF-8, else null. A preview cut short of the
 * whole (`truncated`) may end inside a multi-byte sequence: it is still text without its last 1-3 bytes.
 */
export function previewText(bytes: Uint8Array, truncated: boolean): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    if (!truncated) return null;
  }
  for (let cut = 1; cut <= 3 && cut < bytes.length; cut++) {
    try {
      return strictUtf8.decode(bytes.subarray(0, bytes.length - cut));
    } catch {
      // one byte more
    }
  }
  return null;
}

/** Nibble value of each char code of a lowercase or uppercase hex digit; -1 otherwise. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** The bytes of a preview's hex (pairs of hex digits); a RangeError for anything else. */
export function bytesOfHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError('hex: an even number of digits was expected');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const c1 = hex.charCodeAt(2 * i);
    const c2 = hex.charCodeAt(2 * i + 1);
    const hi = c1 < 128 ? NIBBLE[c1] : -1;
    const lo = c2 < 128 ? NIBBLE[c2] : -1;
    if (hi < 0 || lo < 0) throw new RangeError(`hex: not a hex digit at ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const EMPTY_PREVIEW: PayloadPreview = { size: 0, hex: '', text: '', truncated: false };

/**
 * The preview after one update, from the preview the window has (`prev`, absent before the first):
 * a whole preview replaces it; `previewUnchanged` keeps its bytes with the new size; `appendAt`
 * keeps its first `appendAt` bytes, appends the new ones and recomputes `text`. An append past the
 * bytes the window has (it missed batches; its snapshot is on the way) keeps what it has.
 */
export function applyPayloadUpdate(
  prev: PayloadPreview | null | undefined,
  u: PayloadUpdate,
): PayloadPreview {
  if ('previewUnchanged' in u) {
    const base = prev ?? EMPTY_PREVIEW;
    return { ...base, size: u.size, truncated: u.size > base.hex.length / 2 };
  }
  if (!('appendAt' in u)) return u;
  const base = prev ?? EMPTY_PREVIEW;
  const had = base.hex.length / 2;
  if (u.appendAt > had) return { ...base, size: u.size, truncated: u.size > had };
  const hex = (u.appendAt === had ? base.hex : base.hex.slice(0, 2 * u.appendAt)) + u.hex;
  const truncated = u.size > hex.length / 2;
  return { size: u.size, hex, text: previewText(bytesOfHex(hex), truncated), truncated };
}
