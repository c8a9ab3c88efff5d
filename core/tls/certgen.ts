/**
 * Builds X.509 v3 certificates (RFC 5280) in code: self-signed certificates for
 * `quicscope serve`, and test CAs and chains. Signs through the CryptoProvider with the
 * issuer key's natural scheme: ECDSA P-256 → ecdsa-with-SHA256, P-384 → ecdsa-with-SHA384,
 * Ed25519 → Ed25519 (RFC 8410), RSA → sha256WithRSAEncryption (PKCS#1 v1.5).
 */

import {
  Tag,
  derBitString,
  derBitStringOf,
  derChildren,
  derContext,
  derEncode,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derParse,
  derSequence,
  pemEncode,
} from '../crypto/der.ts';
import type { CryptoProvider, KeyType, PrivateKey, SignatureScheme } from '../crypto/provider.ts';
import { bytesEqual } from '../wire/buffer.ts';
import { OID, parseCertificate, parseIpAddress } from './x509.ts';
import type { Certificate, RawExtension } from './x509.ts';

/** Options of `createCertificate`. Times are epoch milliseconds (truncated to seconds). */
export interface CreateCertificateOptions {
  subject: { CN: string; O?: string };
  sans?: { dns?: string[]; ip?: string[] };
  notBefore: number;
  notAfter: number;
  isCA: boolean;
  /** basicConstraints pathLenConstraint for a CA. */
  pathLen?: number;
  /** The issuing CA; absent for a self-signed certificate. */
  issuer?: { cert: Certificate; key: PrivateKey };
  /** The subject's key (only its public half goes into the certificate). */
  key: PrivateKey;
  provider: CryptoProvider;
  /** The serial number (positive); default 16 random bytes. */
  serial?: Uint8Array | number;
  /** extKeyUsage of a leaf; default ['serverAuth']. Ignored for CAs. */
  extKeyUsage?: ('serverAuth' | 'clientAuth')[];
  /**
   * Extra extensions (value = the DER inside the OCTET STRING). One with the OID of a default
   * extension replaces it. For tests that need unusual certificates.
   */
  extensions?: RawExtension[];
}

/** A built certificate: DER, PEM, and the parsed form. */
export interface CreatedCertificate {
  der: Uint8Array;
  pem: string;
  cert: Certificate;
}

const SIGNING: Record<KeyType, { scheme: SignatureScheme; algorithm: Uint8Array }> = {
  // RFC 5758 §3.2: ECDSA AlgorithmIdentifiers have no parameters.
  'ec-p256': { scheme: 'ecdsa_secp256r1_sha256', algorithm: derSequence(derOid(OID.ecdsaSha256)) },
  'ec-p384': { scheme: 'ecdsa_secp384r1_sha384', algorithm: derSequence(derOid(OID.ecdsaSha384)) },
  // RFC 8410 §3: parameters absent.
  ed25519: { scheme: 'ed25519', algorithm: derSequence(derOid(OID.ed25519)) },
  // RFC 4055 §5: parameters NULL.
  rsa: { scheme: 'rsa_pkcs1_sha256', algorithm: derSequence(derOid(OID.sha256WithRSA), derNull()) },
};

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function encodeTime(ms: number): Uint8Array {
  if (!Number.isFinite(ms)) throw new RangeError('certificate time must be a finite number of ms');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw new RangeError(`certificate year ${y} out of range 1950..9999`);
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const text = y < 2050 ? `${p(y % 100)}${rest}` : `${y}${rest}`;
  return derEncode(y < 2050 ? Tag.UTC_TIME : Tag.GENERALIZED_TIME, new TextEncoder().encode(text));
}

function encodeName(subject: { CN: string; O?: string }): Uint8Array {
  const utf8 = (s: string) => derEncode(Tag.UTF8_STRING, new TextEncoder().encode(s));
  const rdn = (oid: string, value: string) => derEncode(Tag.SET, derSequence(derOid(oid), utf8(value)));
  const rdns = [];
  if (subject.O !== undefined) rdns.push(rdn(OID.organization, subject.O));
  rdns.push(rdn(OID.commonName, subject.CN));
  return derSequence(...rdns);
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? derSequence(derOid(oid), derEncode(Tag.BOOLEAN, Uint8Array.of(0xff)), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array, provider: CryptoProvider): Uint8Array {
  const r = derChildren(derParse(spki, Tag.SEQUENCE));
  r.next(Tag.SEQUENCE); // algorithm
  return provider.hash('sha256', derBitString(r.next())).slice(0, 20);
}

/** Builds and signs an X.509 v3 certificate; a RangeError for inconsistent options. */
export function createCertificate(opts: CreateCertificateOptions): CreatedCertificate {
  const { provider, key } = opts;
  const signer = opts.issuer ? opts.issuer.key : key;
  if (opts.issuer && !bytesEqual(opts.issuer.key.publicKeySpki, opts.issuer.cert.publicKey.spki)) {
    throw new RangeError('createCertificate: issuer.key does not match issuer.cert');
  }
  const signing = SIGNING[signer.type];
  if (!signing) throw new RangeError(`createCertificate: cannot sign with a ${String(signer.type)} key`);
  if (opts.notAfter < opts.notBefore) throw new RangeError('createCertificate: notAfter is before notBefore');

  let serial: Uint8Array;
  if (opts.serial === undefined) {
    // RFC 5280 §4.1.2.2: positive, at most 20 octets; clear the top bit, keep it non-zero.
    serial = provider.randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x40;
  } else if (typeof opts.serial === 'number') {
    if (!Number.isSafeInteger(opts.serial) || opts.serial <= 0) throw new RangeError('serial must be > 0');
    serial = derInteger(opts.serial).subarray(2);
  } else serial = opts.serial;
  // derInteger adds a 0x00 sign byte when the top bit is set: the encoding must stay <= 20 octets.
  if (serial.every((b) => b === 0) || derInteger(serial).length - 2 > 20) {
    throw new RangeError('serial must be non-zero and at most 20 octets encoded');
  }
  if (opts.pathLen !== undefined && (!Number.isSafeInteger(opts.pathLen) || opts.pathLen < 0)) {
    throw new RangeError('pathLen must be a non-negative integer');
  }

  const ski = keyIdentifier(key.publicKeySpki, provider);
  const aki = opts.issuer
    ? (opts.issuer.cert.extensions.subjectKeyIdentifier ??
      keyIdentifier(opts.issuer.cert.publicKey.spki, provider))
    : ski;

  // The builder does not police the issuer (tests build invalid chains on purpose).
  const exts = new Map<string, Uint8Array>();
  const add = (oid: string, critical: boolean, value: Uint8Array) =>
    exts.set(oid, extension(oid, critical, value));
  // RFC 5280 §4.2.1.9: basicConstraints, critical.
  const bc = opts.isCA
    ? derSequence(
        derEncode(Tag.BOOLEAN, Uint8Array.of(0xff)),
        ...(opts.pathLen !== undefined ? [derInteger(opts.pathLen)] : []),
      )
    : derSequence();
  add(OID.basicConstraints, true, bc);
  // RFC 5280 §4.2.1.3: keyUsage, critical. Bit 0 digitalSignature, 5 keyCertSign, 6 cRLSign;
  // DER drops trailing zero bits (X.690 §11.2.2).
  const ku = opts.isCA
    ? derEncode(Tag.BIT_STRING, Uint8Array.of(1, 0x86))
    : derEncode(Tag.BIT_STRING, Uint8Array.of(7, 0x80));
  add(OID.keyUsage, true, ku);
  if (!opts.isCA) {
    const purposes = opts.extKeyUsage ?? ['serverAuth'];
    if (purposes.length > 0) {
      add(OID.extKeyUsage, false, derSequence(...purposes.map((p) => derOid(OID[p]))));
    }
  }
  const names: Uint8Array[] = [];
  for (const d of opts.sans?.dns ?? []) {
    // dNSName is an IA5String (RFC 5280 §4.2.1.6); its syntax is not policed (tests need odd ones).
    if (!/^[\x21-\x7e]+$/.test(d)) throw new RangeError(`bad DNS SAN '${d}'`);
    names.push(derContext(2, false, new TextEncoder().encode(d))); // dNSName [2]
  }
  for (const ip of opts.sans?.ip ?? []) {
    const bytes = parseIpAddress(ip);
    if (!bytes) throw new RangeError(`bad IP SAN '${ip}'`);
    names.push(derContext(7, false, bytes)); // iPAddress [7]
  }
  if (names.length > 0) add(OID.subjectAltName, false, derSequence(...names));
  add(OID.subjectKeyIdentifier, false, derOctetString(ski));
  add(OID.authorityKeyIdentifier, false, derSequence(derContext(0, false, aki)));
  for (const e of opts.extensions ?? []) add(e.oid, e.critical, e.value);

  // RFC 5280 §4.1: TBSCertificate.
  const tbs = derSequence(
    derContext(0, true, derInteger(2)), // version v3
    derInteger(serial),
    signing.algorithm,
    opts.issuer ? opts.issuer.cert.subject.raw : encodeName(opts.subject),
    derSequence(encodeTime(opts.notBefore), encodeTime(opts.notAfter)),
    encodeName(opts.subject),
    key.publicKeySpki,
    derContext(3, true, derSequence(...exts.values())),
  );
  const signature = provider.sign(signing.scheme, signer, tbs);
  const der = derSequence(tbs, signing.algorithm, derBitStringOf(signature));
  return { der, pem: pemEncode('CERTIFICATE', der), cert: parseCertificate(der) };
}
