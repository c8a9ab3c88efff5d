/**
 * Provider selection: `getProvider('node' | 'noble' | 'default')`. The default is a
 * per-primitive composite: node:crypto where the runtime has the primitive, @noble where it
 * does not (Electron's BoringSSL, for one, has no raw 'chacha20' cipher for header protection).
 */

import { nobleProvider } from './noble.ts';
import { nodeCapabilities, nodeProvider } from './node.ts';
import type { CryptoProvider } from './provider.ts';

/** The names `getProvider` accepts. */
export type ProviderName = 'node' | 'noble' | 'default';

/** Which primitives the default provider takes from noble rather than node:crypto. */
export interface ProviderPlan {
  readonly chacha20Poly1305: 'node' | 'noble';
  readonly chacha20: 'node' | 'noble';
  readonly x25519: 'node' | 'noble';
}

/** Builds the composite provider for a runtime with the capabilities `caps`. */
export function compositeProvider(caps: ReturnType<typeof nodeCapabilities>): CryptoProvider {
  const plan: ProviderPlan = {
    chacha20Poly1305: caps.chacha20Poly1305 ? 'node' : 'noble',
    chacha20: caps.chacha20 ? 'node' : 'noble',
    x25519: caps.x25519 ? 'node' : 'noble',
  };
  if (plan.chacha20Poly1305 === 'node' && plan.chacha20 === 'node' && plan.x25519 === 'node') {
    return { ...nodeProvider, name: 'default' };
  }
  const pick = (p: 'node' | 'noble'): CryptoProvider => (p === 'node' ? nodeProvider : nobleProvider);
  return {
    ...nodeProvider,
    name: 'default',
    aead: (alg, key) =>
      (alg === 'chacha20-poly1305' ? pick(plan.chacha20Poly1305) : nodeProvider).aead(alg, key),
    headerProtection: (alg, key) =>
      (alg === 'chacha20' ? pick(plan.chacha20) : nodeProvider).headerProtection(alg, key),
    generateKeyShare: (group) =>
      (group === 'x25519' ? pick(plan.x25519) : nodeProvider).generateKeyShare(group),
  };
}

/** The default provider for this runtime, chosen once at startup. */
export const defaultProvider: CryptoProvider = compositeProvider(nodeCapabilities());

/** The provider called `name`. */
export function getProvider(name: ProviderName): CryptoProvider {
  switch (name) {
    case 'node':
      return nodeProvider;
    case 'noble':
      return nobleProvider;
    case 'default':
      return defaultProvider;
    default:
      throw new RangeError(`unknown crypto provider '${String(name)}'`);
  }
}

export { nodeProvider, nobleProvider };
