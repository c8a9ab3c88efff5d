/**
 * Certificate path building and validation (RFC 5280 §6, simplified) and server identity
 * checks (RFC 9525) for the TLS 1.3 client. Time is a parameter: core never reads the clock.
 *
 * What is checked: the signature on every link (through the CryptoProvider), validity dates
 * of every certificate in the path (trust anchor included), basicConstraints cA and pathLen
 * and keyUsage keyCertSign on every issuer, keyUsage digitalSignature and extKeyUsage on the
 * leaf, unknown critical extensions anywhere, and the server name against subjectAltName.
 * What is not: revocation (CRL/OCSP), certificate policies, name constraints (a critical
 * nameConstraints extension therefore makes the path unusable), and the subject CN — it is
 * never used for the host name, with or without a SAN (RFC 9525 §6.3).
 */

import { UnsupportedAlgorithmError } from '../crypto/provider.ts';
import type { CryptoProvider, SignatureParams } from '../crypto/provider.ts';
import { bytesEqual } from '../wire/buffer.ts';
import { CertificateError, OID, parseCertificate, parseIpAddress } from './x509.ts';
import type { Certificate } from './x509.ts';

/** At most this many certificates in a path, leaf and trust anchor included. */
export const MAX_PATH_LENGTH = 10;
/** A peer may send at most this many certificates. */
export const MAX_CHAIN_CERTIFICATES = 16;
/** At most this many signature verifications per `verifyChain` call (bounds the work). */
export const MAX_SIGNATURE_CHECKS = 32;
/** At most this many issuer candidates tried per `verifyChain` call (bounds the search). */
export const MAX_SEARCH_STEPS = 256;

/** Inputs of `verifyChain`. */
export interface VerifyChainOptions {
  /** DER certificates as sent by the peer, leaf first; the rest in any order. */
  chain: Uint8Array[];
  /** The DNS name or IP literal the client asked for; null skips the identity check. */
  serverName: string | null;
  /** The current time in epoch milliseconds. */
  now: number;
  /** Trust anchors. */
  roots: readonly Certificate[];
  provider: CryptoProvider;
  /** The extKeyUsage the leaf must allow when it has one (default serverAuth). */
  purpose?: 'serverAuth' | 'clientAuth';
}

/** The outcome; `certificates` is the parsed sent chain (as far as it parsed), for the UI. */
export type VerifyChainResult =
  | { ok: true; path: Certificate[]; certificates: Certificate[] }
  | { ok: false; error: CertificateError; certificates: Certificate[] };

// --- Signatures --------------------------------------------------------------------------------

/**
 * The signature algorithm that verifies `child`'s signature with `issuer`'s key (RFC 5280
 * §4.1.1.2): ECDSA with SHA-256/384/512 on any supported curve (RFC 5758 §3.2), RSA PKCS#1
 * v1.5 and RSASSA-PSS (RFC 4055: MGF1 with the same hash) with SHA-256/384/512, Ed25519.
 * SHA-1 and anything else is unsupported_certificate.
 */
export function certificateSignatureParams(child: Certificate, issuer: Certificate): SignatureParams {
  const alg = child.signatureAlgorithm;
  const key = issuer.publicKey.type;
  const unsupported = (): CertificateError =>
    new CertificateError(
      'unsupported_certificate',
      `signature algorithm ${alg.name} with a ${key === 'unknown' ? issuer.publicKey.algorithmOid : key} issuer key is not supported`,
    );
  const ec = key === 'ec-p256' || key === 'ec-p384';
  switch (alg.oid) {
    case OID.ecdsaSha256:
    case OID.ecdsaSha384:
    case OID.ecdsaSha512:
      if (!ec) throw unsupported();
      return { key: 'ecdsa', hash: ECDSA_HASH[alg.oid] };
    case OID.sha256WithRSA:
    case OID.sha384WithRSA:
    case OID.sha512WithRSA:
      if (key !== 'rsa') throw unsupported();
      return { key: 'rsa-pkcs1', hash: RSA_HASH[alg.oid] };
    case OID.rsassaPss: {
      // RFC 4055 §3.1: MGF1 must use the message hash here; SHA-1 defaults are refused.
      const p = alg.pss;
      if (key !== 'rsa' || !p || p.hash !== p.mgfHash || !isSha2(p.hash) || p.saltLength < 20) {
        throw unsupported();
      }
      return { key: 'rsa-pss', hash: p.hash, saltLength: p.saltLength };
    }
    case OID.ed25519:
      if (key !== 'ed25519') throw unsupported();
      return { key: 'ed25519', hash: null };
    default:
      throw unsupported();
  }
}

type Sha2 = 'sha256' | 'sha384' | 'sha512';
const isSha2 = (h: string): h is Sha2 => h === 'sha256' || h === 'sha384' || h === 'sha512';
const ECDSA_HASH: Record<string, Sha2> = {
  [OID.ecdsaSha256]: 'sha256',
  [OID.ecdsaSha384]: 'sha384',
  [OID.ecdsaSha512]: 'sha512',
};
const RSA_HASH: Record<string, Sha2> = {
  [OID.sha256WithRSA]: 'sha256',
  [OID.sha384WithRSA]: 'sha384',
  [OID.sha512WithRSA]: 'sha512',
};

function checkSignature(child: Certificate, issuer: Certificate, provider: CryptoProvider): void {
  const params = certificateSignatureParams(child, issuer);
  let ok: boolean;
  try {
    ok = provider.verifyWith(params, issuer.publicKey.spki, child.tbs, child.signature);
  } catch (e) {
    if (e instanceof UnsupportedAlgorithmError) {
      throw new CertificateError(
        'unsupported_certificate',
        `${e.message} (needed for ${child.subject.text})`,
      );
    }
    ok = false;
  }
  if (!ok) {
    throw new CertificateError(
      'bad_certificate',
      `the signature on '${child.subject.text}' does not verify with the key of '${issuer.subject.text}'`,
    );
  }
}

// --- Path checks (RFC 5280 §6.1.3, §6.1.4) -----------------------------------------------------

function selfIssued(c: Certificate): boolean {
  return c.issuer.key === c.subject.key;
}

/** Checks every certificate of a complete path (leaf first, trust anchor last). */
function checkPath(path: Certificate[], now: number, purpose: string): void {
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    const name = `'${c.subject.text}'`;
    if (now < c.notBefore) {
      throw new CertificateError(
        'certificate_expired',
        `${name} is not valid before ${new Date(c.notBefore).toISOString()}`,
      );
    }
    if (now > c.notAfter) {
      throw new CertificateError(
        'certificate_expired',
        `${name} expired at ${new Date(c.notAfter).toISOString()}`,
      );
    }
    // RFC 5280 §4.2: reject a certificate with a critical extension we do not process.
    if (c.extensions.unknownCritical.length > 0) {
      throw new CertificateError(
        'unsupported_certificate',
        `${name} has unsupported critical extension(s) ${c.extensions.unknownCritical.join(', ')}`,
      );
    }
    if (i === 0) continue;
    const anchor = i === path.length - 1;
    const bc = c.extensions.basicConstraints;
    // RFC 5280 §6.1.4 (k): an issuer must be a CA. A v1 trust anchor has no extensions and is
    // trusted by configuration.
    if (!(bc ? bc.cA : anchor && c.version < 3)) {
      throw new CertificateError(
        'bad_certificate',
        `${name} issued a certificate but is not a CA (basicConstraints)`,
      );
    }
    // RFC 5280 §6.1.4 (l, m): pathLenConstraint counts the non-self-issued intermediates below.
    if (bc && bc.pathLen !== null) {
      let below = 0;
      for (let j = 1; j < i; j++) if (!selfIssued(path[j])) below++;
      if (below > bc.pathLen) {
        throw new CertificateError(
          'bad_certificate',
          `${name} allows ${bc.pathLen} intermediate(s) below it (pathLenConstraint), the path has ${below}`,
        );
      }
    }
    // RFC 5280 §6.1.4 (n): keyCertSign must be set when keyUsage is present.
    if (c.extensions.keyUsage && !c.extensions.keyUsage.keyCertSign) {
      throw new CertificateError(
        'bad_certificate',
        `${name} may not sign certificates (keyUsage lacks keyCertSign)`,
      );
    }
  }
  const leaf = path[0];
  // RFC 8446 §4.4.2.2: digitalSignature must be set when keyUsage is present.
  if (leaf.extensions.keyUsage && !leaf.extensions.keyUsage.digitalSignature) {
    throw new CertificateError(
      'bad_certificate',
      `'${leaf.subject.text}' may not sign (keyUsage lacks digitalSignature)`,
    );
  }
  // RFC 5280 §4.2.1.12: when extKeyUsage is present the purpose (or anyExtendedKeyUsage) must be in it.
  const eku = leaf.extensions.extKeyUsage;
  if (eku && !eku.includes(purpose) && !eku.includes(OID.anyExtendedKeyUsage)) {
    throw new CertificateError(
      'bad_certificate',
      `'${leaf.subject.text}' is not for ${purpose === OID.serverAuth ? 'TLS servers' : 'TLS clients'} (extKeyUsage)`,
    );
  }
}

// --- Path building -----------------------------------------------------------------------------

const rootIndexes = new WeakMap<readonly Certificate[], Map<string, Certificate[]>>();

/** Trust anchors by subject name, built once per roots array. */
function rootIndex(roots: readonly Certificate[]): Map<string, Certificate[]> {
  let index = rootIndexes.get(roots);
  if (!index) {
    index = new Map();
    for (const r of roots) {
      const list = index.get(r.subject.key);
      if (list) list.push(r);
      else index.set(r.subject.key, [r]);
    }
    rootIndexes.set(roots, index);
  }
  return index;
}

/** RFC 5280 §4.2.1.1: when both key identifiers are present they must agree. */
function keyIdsCompatible(child: Certificate, issuer: Certificate): boolean {
  const aki = child.extensions.authorityKeyIdentifier;
  const ski = issuer.extensions.subjectKeyIdentifier;
  return !aki || !ski || bytesEqual(aki, ski);
}

const RANK: Record<CertificateError['reason'], number> = {
  unknown_ca: 0,
  certificate_unknown: 1,
  unsupported_certificate: 2,
  bad_certificate: 3,
  certificate_expired: 3,
};

class PathBuilder {
  private checks = 0;
  private steps = 0;
  private defaulted = true;
  /** Signature results by child, then issuer: each link is verified once. */
  private readonly verified = new Map<Certificate, Map<Certificate, CertificateError | null>>();
  /** The most telling failure so far; unknown_ca when no issuer was found at all. */
  error: CertificateError;

  constructor(
    private readonly leaf: Certificate,
    private readonly intermediates: Certificate[],
    private readonly roots: readonly Certificate[],
    private readonly opts: VerifyChainOptions,
    private readonly purpose: string,
  ) {
    this.error = new CertificateError('unknown_ca', `no trusted issuer found for '${leaf.issuer.text}'`);
  }

  private gaveUp(): CertificateError {
    return new CertificateError(
      'bad_certificate',
      'certificate path building gave up (too many candidate paths)',
    );
  }

  private record(e: CertificateError): void {
    if (this.defaulted || RANK[e.reason] > RANK[this.error.reason]) this.error = e;
    this.defaulted = false;
  }

  private link(child: Certificate, issuer: Certificate): boolean {
    let byIssuer = this.verified.get(child);
    if (!byIssuer) this.verified.set(child, (byIssuer = new Map()));
    let result = byIssuer.get(issuer);
    if (++this.steps > MAX_SEARCH_STEPS) throw this.gaveUp();
    if (result === undefined) {
      if (++this.checks > MAX_SIGNATURE_CHECKS) throw this.gaveUp();
      try {
        checkSignature(child, issuer, this.opts.provider);
        result = null;
      } catch (e) {
        if (!(e instanceof CertificateError)) throw e;
        result = e;
      }
      byIssuer.set(issuer, result);
    }
    if (result) this.record(result);
    return result === null;
  }

  private complete(path: Certificate[]): Certificate[] | null {
    try {
      checkPath(path, this.opts.now, this.purpose);
      return path;
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      this.record(e);
      return null;
    }
  }

  /** Depth-first search for a trust anchor from `path`'s last certificate. */
  search(path: Certificate[]): Certificate[] | null {
    const cur = path[path.length - 1];
    let tried = false;
    for (const root of rootIndex(this.roots).get(cur.issuer.key) ?? []) {
      if (!keyIdsCompatible(cur, root)) continue;
      tried = true;
      if (path.length + 1 > MAX_PATH_LENGTH) {
        this.record(this.tooLong());
        continue;
      }
      if (!this.link(cur, root)) continue;
      const done = this.complete([...path, root]);
      if (done) return done;
    }
    for (const next of this.intermediates) {
      if (next.subject.key !== cur.issuer.key || path.includes(next) || !keyIdsCompatible(cur, next)) {
        continue;
      }
      tried = true;
      if (path.length + 2 > MAX_PATH_LENGTH) {
        this.record(this.tooLong());
        continue;
      }
      if (!this.link(cur, next)) continue;
      const found = this.search([...path, next]);
      if (found) return found;
    }
    if (!tried) {
      const msg = selfIssued(cur)
        ? `'${cur.subject.text}' is self-signed and not a trust anchor`
        : `no trusted issuer '${cur.issuer.text}' found for '${cur.subject.text}'`;
      this.record(new CertificateError('unknown_ca', msg));
    }
    return null;
  }

  private tooLong(): CertificateError {
    return new CertificateError('unknown_ca', `no trusted path within ${MAX_PATH_LENGTH} certificates`);
  }
}

// --- Server identity (RFC 9525 §6) -------------------------------------------------------------

function normaliseDnsName(name: string): string | null {
  let n = name.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  // Only A-labels (ASCII LDH, RFC 5890); a caller must convert U-labels first.
  if (n.length === 0 || n.length > 253 || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(n)) return null;
  return n;
}

/** RFC 9525 §6.3: does the SAN dNSName `pattern` match `host` (both normalised)? */
function dnsNameMatches(pattern: string, host: string): boolean {
  let p = pattern.toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (!p.startsWith('*.')) return p === host;
  // The wildcard is the complete left-most label, matches exactly one non-empty label, and
  // is not followed by a single label (no '*.com').
  const rest = p.slice(2);
  if (rest.includes('*') || !rest.includes('.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === rest;
}

/**
 * Checks `serverName` (a DNS name or an IP literal) against the certificate's subjectAltName:
 * DNS names against dNSName entries (case-insensitive, left-most wildcard), IP literals
 * against iPAddress entries only. The subject CN is never used.
 */
export function matchServerName(cert: Certificate, serverName: string): boolean {
  const san = cert.extensions.subjectAltName;
  if (!san) return false;
  const ip = parseIpAddress(serverName);
  if (ip) return san.ipBytes.some((b) => bytesEqual(b, ip));
  const host = normaliseDnsName(serverName);
  if (!host) return false;
  return san.dns.some((d) => dnsNameMatches(d, host));
}

function identityError(cert: Certificate, serverName: string): CertificateError {
  const san = cert.extensions.subjectAltName;
  const names = san ? [...san.dns.map((d) => `DNS:${d}`), ...san.ip.map((i) => `IP:${i}`)] : [];
  return new CertificateError(
    'bad_certificate',
    names.length > 0
      ? `certificate is not valid for '${serverName}': it names ${names.join(', ')}`
      : `certificate is not valid for '${serverName}': it has no DNS or IP subjectAltName`,
  );
}

// --- Entry point -------------------------------------------------------------------------------

/**
 * Validates a peer's certificate chain: builds a path from the leaf through the sent
 * intermediates to one of `roots`, checks it, then checks the server name. Never throws
 * for bad input; the error's `reason` is the TLS alert to send.
 */
export function verifyChain(opts: VerifyChainOptions): VerifyChainResult {
  const certificates: Certificate[] = [];
  const fail = (error: CertificateError): VerifyChainResult => ({ ok: false, error, certificates });
  if (opts.chain.length === 0)
    return fail(new CertificateError('bad_certificate', 'the peer sent no certificate'));
  if (opts.chain.length > MAX_CHAIN_CERTIFICATES) {
    return fail(
      new CertificateError(
        'bad_certificate',
        `the peer sent more than ${MAX_CHAIN_CERTIFICATES} certificates`,
      ),
    );
  }
  try {
    for (const der of opts.chain) certificates.push(parseCertificate(der));
  } catch (e) {
    if (e instanceof CertificateError) return fail(e);
    throw e;
  }
  const leaf = certificates[0];
  const purpose = opts.purpose === 'clientAuth' ? OID.clientAuth : OID.serverAuth;
  const builder = new PathBuilder(leaf, certificates.slice(1), opts.roots, opts, purpose);
  let path: Certificate[] | null;
  try {
    // A leaf that is itself a trust anchor (a self-signed certificate configured as CA).
    if (opts.roots.some((r) => bytesEqual(r.der, leaf.der))) {
      checkPath([leaf], opts.now, purpose);
      path = [leaf];
    } else path = builder.search([leaf]);
  } catch (e) {
    if (e instanceof CertificateError) return fail(e);
    throw e;
  }
  if (!path) return fail(builder.error);
  // RFC 9525 §6: the reference identity must match a presented identifier.
  if (opts.serverName !== null && !matchServerName(leaf, opts.serverName)) {
    return fail(identityError(leaf, opts.serverName));
  }
  return { ok: true, path, certificates };
}
