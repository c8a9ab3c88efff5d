/**
 * Test certificates made in code (core/tls/certgen.ts), for every key type: a root CA, an
 * intermediate, a server leaf for localhost / 127.0.0.1 / ::1, and the bad cases (expired,
 * not yet valid, wrong host, unknown CA, self-signed). Built once per key type and cached.
 *
 * The good certificates are valid from 1950-01-01 to 9999-12-31, so any clock a test may use
 * (Date.now(), a virtual clock starting at 0, TEST_NOW) is inside their validity; the expired
 * one ended in 1960 and the not-yet-valid one starts in 9000.
 *
 *   const pki = testPki('ec-p256');            // keys imported by nodeProvider
 *   server: certificate chain pki.chain (leaf first), private key pki.leaf.key
 *   client: verifyChain({ chain, serverName: 'localhost', now, roots: pki.roots, provider })
 */

import { generateKeyPairSync } from 'node:crypto';
import { nodeProvider } from '../../core/crypto/node.ts';
import type { CryptoProvider, KeyType, PrivateKey } from '../../core/crypto/provider.ts';
import { createCertificate } from '../../core/tls/certgen.ts';
import type { CreateCertificateOptions } from '../../core/tls/certgen.ts';
import { parseCertificate } from '../../core/tls/x509.ts';
import type { Certificate } from '../../core/tls/x509.ts';

/** Every key type the stack signs with. */
export const TEST_KEY_TYPES: readonly KeyType[] = ['ec-p256', 'ec-p384', 'ed25519', 'rsa'];

/** Start of the good certificates' validity (epoch ms). */
export const VALID_FROM = Date.UTC(1950, 0, 1);
/** End of the good certificates' validity: RFC 5280 §4.1.2.5's "no well-defined expiration". */
export const VALID_UNTIL = Date.UTC(9999, 11, 31, 23, 59, 59);
/** A fixed "now" for tests that want one. */
export const TEST_NOW = Date.UTC(2025, 0, 1);
/** The window of the expired certificate. */
export const EXPIRED_FROM = Date.UTC(1950, 0, 1);
export const EXPIRED_UNTIL = Date.UTC(1960, 0, 1);
/** Start of the not-yet-valid certificate. */
export const NOT_YET_VALID_FROM = Date.UTC(9000, 0, 1);

/** A certificate and its private key. */
export interface TestIdentity {
  der: Uint8Array;
  pem: string;
  cert: Certificate;
  /** The subject's private key, imported by the provider `testPki` was given. */
  key: PrivateKey;
  /** The same key as PKCS#8 PEM (for files handed to other programs). */
  keyPem: string;
}

/** A test PKI for one key type. Chains are leaf first, as a server sends them. */
export interface TestPki {
  keyType: KeyType;
  /** Self-signed CA: "quicscope test root (<type>)". */
  root: TestIdentity;
  /** CA with pathLen 0, issued by `root`. */
  intermediate: TestIdentity;
  /** Server certificate for DNS:localhost, IP:127.0.0.1, IP:::1, issued by `intermediate`. */
  leaf: TestIdentity;
  /** [leaf, intermediate]. */
  chain: Uint8Array[];
  /** leaf + intermediate as one PEM text (a server's certificate file). */
  chainPem: string;
  /** The trust anchors to verify against: [root]. */
  roots: Certificate[];
  /** Server certificate for localhost issued directly by `root`. */
  leafDirect: TestIdentity;
  /** localhost, issued by `intermediate`, valid 1950–1960. Chain: [expired, intermediate]. */
  expired: TestIdentity;
  /** localhost, issued by `intermediate`, valid from the year 9000. */
  notYetValid: TestIdentity;
  /** Only DNS:example.com (no localhost, no IPs), issued by `intermediate`. */
  wrongHost: TestIdentity;
  /** A second CA that is not in `roots`. */
  unknownRoot: TestIdentity;
  /** localhost, issued by `unknownRoot`. Chain: [unknownCa]. */
  unknownCa: TestIdentity;
  /** Self-signed localhost server certificate (not a CA); trusted only if put in roots. */
  selfSigned: TestIdentity;
}

interface Material {
  der: Uint8Array;
  pem: string;
  keyPem: string;
}

const LOCALHOST = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

function generateKeyPem(type: KeyType): string {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

const materials = new Map<KeyType, Record<string, Material>>();

/** Builds (once per key type) every certificate with the node provider. */
function buildMaterial(type: KeyType): Record<string, Material> {
  const cached = materials.get(type);
  if (cached) return cached;
  const p = nodeProvider;
  const pems = {
    root: generateKeyPem(type),
    intermediate: generateKeyPem(type),
    leaf: generateKeyPem(type),
    unknownRoot: generateKeyPem(type),
  };
  const keys = {
    root: p.importPrivateKey(pems.root),
    intermediate: p.importPrivateKey(pems.intermediate),
    leaf: p.importPrivateKey(pems.leaf),
    unknownRoot: p.importPrivateKey(pems.unknownRoot),
  };
  const base = { notBefore: VALID_FROM, notAfter: VALID_UNTIL, provider: p };
  const out: Record<string, Material> = {};
  const make = (name: string, keyPem: string, opts: Omit<CreateCertificateOptions, 'provider'>) => {
    const { der, pem, cert } = createCertificate({ ...base, ...opts });
    out[name] = { der, pem, keyPem };
    return cert;
  };
  const rootCert = make('root', pems.root, {
    ...base,
    subject: { CN: `quicscope test root (${type})`, O: 'quicscope' },
    isCA: true,
    key: keys.root,
  });
  const root = { cert: rootCert, key: keys.root };
  const intCert = make('intermediate', pems.intermediate, {
    ...base,
    subject: { CN: `quicscope test intermediate (${type})`, O: 'quicscope' },
    isCA: true,
    pathLen: 0,
    key: keys.intermediate,
    issuer: root,
  });
  const intermediate = { cert: intCert, key: keys.intermediate };
  const leaf = (CN: string, extra: Partial<CreateCertificateOptions>) => ({
    ...base,
    subject: { CN, O: 'quicscope' },
    sans: LOCALHOST,
    isCA: false,
    key: keys.leaf,
    issuer: intermediate,
    ...extra,
  });
  make('leaf', pems.leaf, leaf('localhost', {}));
  make('leafDirect', pems.leaf, leaf('localhost', { issuer: root }));
  make('expired', pems.leaf, leaf('localhost', { notBefore: EXPIRED_FROM, notAfter: EXPIRED_UNTIL }));
  make('notYetValid', pems.leaf, leaf('localhost', { notBefore: NOT_YET_VALID_FROM }));
  make('wrongHost', pems.leaf, leaf('example.com', { sans: { dns: ['example.com'] } }));
  const unknownRootCert = make('unknownRoot', pems.unknownRoot, {
    ...base,
    subject: { CN: `quicscope unknown root (${type})`, O: 'elsewhere' },
    isCA: true,
    key: keys.unknownRoot,
  });
  make(
    'unknownCa',
    pems.leaf,
    leaf('localhost', { issuer: { cert: unknownRootCert, key: keys.unknownRoot } }),
  );
  make('selfSigned', pems.leaf, leaf('localhost', { issuer: undefined }));
  materials.set(type, out);
  return out;
}

const pkis = new Map<string, TestPki>();

/**
 * The test PKI for `keyType`, with private keys imported by `provider` (default node).
 * The noble provider cannot import RSA keys: ask for 'rsa' with the node provider only.
 */
export function testPki(keyType: KeyType = 'ec-p256', provider: CryptoProvider = nodeProvider): TestPki {
  const cacheKey = `${keyType}/${provider.name}`;
  const cached = pkis.get(cacheKey);
  if (cached) return cached;
  const m = buildMaterial(keyType);
  const keys = new Map<string, PrivateKey>();
  const id = (name: string): TestIdentity => {
    const { der, pem, keyPem } = m[name];
    let key = keys.get(keyPem);
    if (!key) keys.set(keyPem, (key = provider.importPrivateKey(keyPem)));
    return { der, pem, cert: parseCertificate(der), key, keyPem };
  };
  const root = id('root');
  const intermediate = id('intermediate');
  const leaf = id('leaf');
  const pki: TestPki = {
    keyType,
    root,
    intermediate,
    leaf,
    chain: [leaf.der, intermediate.der],
    chainPem: leaf.pem + intermediate.pem,
    roots: [root.cert],
    leafDirect: id('leafDirect'),
    expired: id('expired'),
    notYetValid: id('notYetValid'),
    wrongHost: id('wrongHost'),
    unknownRoot: id('unknownRoot'),
    unknownCa: id('unknownCa'),
    selfSigned: id('selfSigned'),
  };
  pkis.set(cacheKey, pki);
  return pki;
}
