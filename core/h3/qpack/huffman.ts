/**
 * The HPACK Huffman coder (RFC 7541 §5.2, Appendix B) used by QPACK string literals
 * (RFC 9204 §4.1.2).
 *
 * Decoding is table-driven, four bits at a time: the code's 256 internal tree nodes are the
 * states, and a 256 x 16 table built once at load gives, for each state and nibble, the next state
 * and the symbol completed on the way (codes are at least 5 bits long, so at most one per nibble).
 * Decoding is O(n) with no allocation; errors (EOS inside the string, padding longer than 7 bits
 * or not all ones, RFC 7541 §5.2) are reported as -1 so each caller raises its own error code.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.ts';

const EOS = 256;
const EMIT = 1 << 16;
const FAIL = 1 << 17;

/** `TRANSITIONS[state * 16 + nibble]`: next state (bits 0-7), symbol (8-15), EMIT, FAIL. */
const TRANSITIONS = new Uint32Array(256 * 16);
/** States where the string may end: the bits since the last symbol are 0-7 ones (RFC 7541 §5.2). */
const ACCEPTING = new Uint8Array(256);

function buildDecoder(): void {
  // Tree: internal nodes 0..255; a child >= 0 is an internal node, < 0 is leaf -(symbol + 1).
  const child = [new Int32Array(256).fill(0x7fffffff), new Int32Array(256).fill(0x7fffffff)];
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym];
    const len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      if (i === 0) {
        child[bit][node] = -(sym + 1);
        break;
      }
      let next = child[bit][node];
      if (next === 0x7fffffff) {
        next = nodes++;
        child[bit][node] = next;
        depth[next] = depth[node] + 1;
        allOnes[next] = allOnes[node] & bit;
      }
      node = next;
    }
  }
  if (nodes !== 256) throw new Error('HPACK Huffman table is not a complete code');
  for (let s = 0; s < 256; s++) {
    ACCEPTING[s] = allOnes[s] === 1 && depth[s] <= 7 ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = s;
      let out = 0;
      for (let b = 3; b >= 0; b--) {
        const next = child[(nibble >>> b) & 1][node];
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -next - 1;
        if (sym === EOS) {
          out |= FAIL; // RFC 7541 §5.2: EOS in the string is an error
          break;
        }
        out |= EMIT | (sym << 8);
        node = 0;
      }
      TRANSITIONS[s * 16 + nibble] = out | node;
    }
  }
}
buildDecoder();

/** The most bytes `n` Huffman-coded bytes can decode to (the shortest code is 5 bits). */
export function huffmanMaxDecodedLength(n: number): number {
  return Math.floor((n * 8) / 5);
}

/**
 * Decodes `src[start, end)` into `out` from `outPos`; returns the new end of `out`, or -1 when the
 * input is invalid (RFC 7541 §5.2). `out` must have `huffmanMaxDecodedLength(end - start)` bytes free.
 */
export function huffmanDecode(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outPos: number,
): number {
  let state = 0;
  let o = outPos;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    let t = TRANSITIONS[(state << 4) | (byte >>> 4)];
    if (t & FAIL) return -1;
    if (t & EMIT) out[o++] = (t >>> 8) & 0xff;
    t = TRANSITIONS[((t & 0xff) << 4) | (byte & 0x0f)];
    if (t & FAIL) return -1;
    if (t & EMIT) out[o++] = (t >>> 8) & 0xff;
    state = t & 0xff;
  }
  return ACCEPTING[state] === 1 ? o : -1;
}

/** Length in bytes of the Huffman coding of `src[start, end)`, padding included. */
export function huffmanEncodedLength(src: Uint8Array, start = 0, end = src.length): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += HUFFMAN_LENGTHS[src[i]];
  return (bits + 7) >>> 3;
}

/**
 * Huffman-codes `src[start, end)` into `dst` at `dstPos`, padding the last byte with the most
 * significant bits of EOS (all ones, RFC 7541 §5.2); returns the new end of `dst`. `dst` must have
 * `huffmanEncodedLength(src, start, end)` bytes free.
 */
export function huffmanEncode(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  dstPos: number,
): number {
  let acc = 0; // fewer than 8 pending bits, right-aligned
  let n = 0;
  let o = dstPos;
  for (let i = start; i < end; i++) {
    const sym = src[i];
    let code = HUFFMAN_CODES[sym];
    let len = HUFFMAN_LENGTHS[sym];
    if (len > 24) {
      // Keep acc within 31 bits: push the high part first.
      const hi = len - 16;
      acc = (acc << hi) | (code >>> 16);
      n += hi;
      while (n >= 8) {
        n -= 8;
        dst[o++] = acc >>> n;
      }
      acc &= (1 << n) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      n -= 8;
      dst[o++] = acc >>> n;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) dst[o++] = (acc << (8 - n)) | (0xff >>> n);
  return o;
}
