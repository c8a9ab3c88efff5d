/**
 * X.509 v3 certificate parsing (RFC 5280 §4.1) for the TLS 1.3 handshake and the
 * diagnostic UI. Field decoders are in x509-fields.ts, types in x509-types.ts, chain
 * validation and hostname matching in x509-verify.ts, the builder in certgen.ts.
 * Malformed input raises `CertificateError` with reason 'bad_certificate' (RFC 8446 §6.2
 * alert 42); nothing here throws untyped for bad input.
 */

import {
  DerError,
  Tag,
  derBitString,
  derChildren,
  derParse,
  derUnsigned,
  pemDecodeAll,
} from '../crypto/der.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { bytesEqual, toHex } from '../wire/buffer.ts';
import {
  derSmallInt,
  expectEnd,
  parseExtensions,
  parseName,
  parseSignatureAlgorithm,
  parseSpki,
  parseTime,
} from './x509-fields.ts';
import { CertificateError, OID, badCertificate } from './x509-types.ts';
import type { Certificate, CertificateSummary } from './x509-types.ts';

export { formatIpAddress, parseIpAddress } from './x509-fields.ts';
export * from './x509-types.ts';

// --- Certificate -------------------------------------------------------------------------------

function parseTbs(der: Uint8Array): Certificate {
  const top = derChildren(derParse(der, Tag.SEQUENCE));
  const tbsNode = top.next(Tag.SEQUENCE);
  const outerAlg = top.next(Tag.SEQUENCE);
  const signature = derBitString(top.next());
  expectEnd(top, 'Certificate');

  const t = derChildren(tbsNode);
  let version = 1;
  const v = t.optional(0xa0); // version [0] EXPLICIT Version DEFAULT v1
  if (v) {
    const n = derSmallInt(derParse(v.contents), 'version');
    if (n > 2) throw badCertificate(`unknown certificate version ${n + 1}`);
    version = n + 1;
  }
  const serialNode = t.next(Tag.INTEGER);
  if (serialNode.contents.length === 0) throw badCertificate('empty serial number');
  const innerAlg = t.next(Tag.SEQUENCE);
  // RFC 5280 §4.1.1.2: signatureAlgorithm MUST be the same as tbsCertificate.signature.
  if (!bytesEqual(innerAlg.raw, outerAlg.raw))
    throw badCertificate('signatureAlgorithm differs from tbsCertificate.signature');
  const issuer = parseName(t.next());
  const validity = derChildren(t.next(Tag.SEQUENCE));
  const notBefore = parseTime(validity.next());
  const notAfter = parseTime(validity.next());
  expectEnd(validity, 'Validity');
  const subject = parseName(t.next());
  const publicKey = parseSpki(t.next());
  t.optional(0x81); // issuerUniqueID [1] IMPLICIT
  t.optional(0x82); // subjectUniqueID [2] IMPLICIT
  const extNode = t.optional(0xa3);
  expectEnd(t, 'TBSCertificate');
  if (extNode && version !== 3) throw badCertificate('extensions in a certificate that is not v3'); // RFC 5280 §4.1.2.9
  return {
    der,
    tbs: tbsNode.raw,
    version,
    serial: toHex(derUnsigned(serialNode.contents)),
    signatureAlgorithm: parseSignatureAlgorithm(outerAlg),
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    publicKey,
    extensions: parseExtensions(extNode),
  };
}

/** Parses one DER certificate (RFC 5280 §4.1); throws `CertificateError` (bad_certificate). */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return parseTbs(der.slice());
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    if (e instanceof DerError) throw badCertificate(`malformed certificate: ${e.message}`);
    throw e;
  }
}

/** Parses every CERTIFICATE block of PEM text (e.g. node's `tls.rootCertificates`, joined). */
export function parseCertificatesPem(pem: string): Certificate[] {
  let blocks: { der: Uint8Array }[];
  try {
    blocks = pemDecodeAll(pem, 'CERTIFICATE');
  } catch {
    throw badCertificate('invalid base64 in PEM certificate');
  }
  return blocks.map((b) => parseCertificate(b.der));
}

// --- Summary for the UI ------------------------------------------------------------------------

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The UI summary of `cert`; the provider computes the SHA-256 fingerprint. */
export function certificateSummary(
  cert: Certificate,
  provider: Pick<CryptoProvider, 'hash'>,
): CertificateSummary {
  const san = cert.extensions.subjectAltName;
  const fp = toHex(provider.hash('sha256', cert.der)).toUpperCase();
  const pk = cert.publicKey;
  return {
    subject: cert.subject.text,
    issuer: cert.issuer.text,
    serial: cert.serial,
    sans: san ? [...san.dns.map((d) => `DNS:${d}`), ...san.ip.map((i) => `IP:${i}`)] : [],
    notBefore: iso(cert.notBefore),
    notAfter: iso(cert.notAfter),
    keyType: pk.type !== 'unknown' ? pk.type : pk.curveOid === OID.p521 ? 'ec-p521' : pk.algorithmOid,
    keyBits: pk.bits,
    fingerprintSha256: fp.replace(/(..)(?=.)/g, '$1:'),
    signatureAlgorithm: cert.signatureAlgorithm.name,
    isCA: cert.extensions.basicConstraints?.cA ?? false,
    selfIssued: cert.issuer.key === cert.subject.key,
  };
}
