/**
 * TLS 1.3 HKDF-Expand-Label and Derive-Secret (RFC 8446 §7.1), used by the TLS key schedule
 * and by QUIC packet protection (RFC 9001 §5.1).
 */

import type { CryptoProvider, HashAlgorithm } from './provider.ts';
import { hashLength } from './provider.ts';

const EMPTY = new Uint8Array(0);
const LABEL_PREFIX = 'tls13 ';

/** The HkdfLabel structure (RFC 8446 §7.1) for `label` (without the "tls13 " prefix). */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const full = LABEL_PREFIX + label;
  // RFC 8446 §7.1: opaque label<7..255>, opaque context<0..255>.
  if (full.length > 255) throw new RangeError(`HKDF label too long: ${label}`);
  if (context.length > 255) throw new RangeError('HKDF context longer than 255 bytes');
  if (length < 0 || length > 0xffff) throw new RangeError(`HKDF length ${length} out of range`);
  const out = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = full.length;
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c > 0x7f) throw new RangeError('HKDF labels are ASCII');
    out[3 + i] = c;
  }
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  provider: CryptoProvider,
  alg: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return provider.hkdfExpand(alg, secret, hkdfLabel(label, context, length), length);
}

/**
 * Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1), given the transcript hash of
 * Messages (pass `provider.hash(alg, new Uint8Array(0))` for the empty transcript).
 */
export function deriveSecret(
  provider: CryptoProvider,
  alg: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(provider, alg, secret, label, transcriptHash, hashLength(alg));
}

/** HKDF-Expand-Label with an empty context, as QUIC uses it (RFC 9001 §5.1). */
export function expandLabel(
  provider: CryptoProvider,
  alg: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  length: number,
): Uint8Array {
  return hkdfExpandLabel(provider, alg, secret, label, EMPTY, length);
}
