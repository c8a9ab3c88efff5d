/** Constant-time comparison for tags, tokens and stateless-reset tokens. */

/**
 * Whether `a` and `b` hold the same bytes, in time that depends only on their lengths
 * (RFC 9000 §10.3.1 asks for this when comparing stateless reset tokens).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
