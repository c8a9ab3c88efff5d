/**
 * X.509 types, OIDs and the `CertificateError` every certificate failure raises
 * (RFC 5280, RFC 8446 §6.2). Parsing is in x509.ts, validation in x509-verify.ts.
 */

import type { KeyType } from '../crypto/provider.ts';

// --- Errors ------------------------------------------------------------------------------------

/** The TLS alert a certificate failure maps to (RFC 8446 §6.2). */
export type CertificateErrorReason =
  | 'bad_certificate'
  | 'unsupported_certificate'
  | 'certificate_expired'
  | 'unknown_ca'
  | 'certificate_unknown';

/** The RFC 8446 §6.2 AlertDescription code of each reason. */
export const CERTIFICATE_ALERT: Readonly<Record<CertificateErrorReason, number>> = {
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_expired: 45,
  certificate_unknown: 46,
  unknown_ca: 48,
};

/** A certificate that cannot be parsed or accepted; `message` is shown to the user. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(
    readonly reason: CertificateErrorReason,
    message: string,
  ) {
    super(message);
  }
  /** The TLS alert description code for this error. */
  get alert(): number {
    return CERTIFICATE_ALERT[this.reason];
  }
}

/** A bad_certificate error (malformed or unacceptable encoding). */
export function badCertificate(message: string): CertificateError {
  return new CertificateError('bad_certificate', message);
}

// --- Types -------------------------------------------------------------------------------------

/** One attribute of a relative distinguished name, e.g. CN=localhost. */
export interface NameAttribute {
  oid: string;
  /** The short name (CN, O, …) or the dotted OID when unknown. */
  name: string;
  /** The decoded string, or '#' + hex of the DER value for non-string values (RFC 4514 §2.4). */
  value: string;
}

/** An X.501 Name (RFC 5280 §4.1.2.4). */
export interface DistinguishedName {
  /** The DER encoding (a subarray of the certificate). */
  raw: Uint8Array;
  /** RelativeDistinguishedNames in encoding order; each is a set of attributes. */
  rdns: NameAttribute[][];
  /** Readable form in RFC 4514 order (last RDN first), e.g. `CN=localhost, O=quicscope`. */
  text: string;
  /** A case- and space-insensitive key for name chaining (RFC 5280 §7.1, simplified). */
  key: string;
}

/** An AlgorithmIdentifier of a certificate signature. */
export interface SignatureAlgorithm {
  oid: string;
  /** e.g. 'ecdsa-with-SHA256', 'sha256WithRSAEncryption', 'RSASSA-PSS', 'Ed25519', or the OID. */
  name: string;
  /** The DER of the parameters, or null when absent. */
  params: Uint8Array | null;
  /** RSASSA-PSS parameters (RFC 4055 §3.1), decoded; null for other algorithms. */
  pss: { hash: string; mgfHash: string; saltLength: number } | null;
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
export interface PublicKeyInfo {
  /** The whole SubjectPublicKeyInfo DER (what `CryptoProvider.verify` takes). */
  spki: Uint8Array;
  /** The algorithm OID (id-ecPublicKey, rsaEncryption, id-Ed25519, …). */
  algorithmOid: string;
  /** Our key type, or 'unknown' (another curve, DSA, RSASSA-PSS keys, Ed448…). */
  type: KeyType | 'unknown';
  /** Key size in bits: the RSA modulus length, the curve size, 256 for Ed25519; 0 if unknown. */
  bits: number;
  /** The named curve OID for EC keys, else null. */
  curveOid: string | null;
  /** The subjectPublicKey BIT STRING contents (the key bytes). */
  keyBytes: Uint8Array;
}

/** subjectAltName entries (RFC 5280 §4.2.1.6) we understand. */
export interface SubjectAltName {
  dns: string[];
  /** iPAddress entries as text (dotted IPv4, RFC 5952 IPv6). */
  ip: string[];
  /** iPAddress entries as their 4- or 16-byte values. */
  ipBytes: Uint8Array[];
  email: string[];
  uri: string[];
}

/** keyUsage bits (RFC 5280 §4.2.1.3). */
export interface KeyUsage {
  digitalSignature: boolean;
  contentCommitment: boolean;
  keyEncipherment: boolean;
  dataEncipherment: boolean;
  keyAgreement: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
  encipherOnly: boolean;
  decipherOnly: boolean;
}

/** One raw extension (RFC 5280 §4.1.2.9). */
export interface RawExtension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

/** The extensions we interpret, plus the raw list. */
export interface CertificateExtensions {
  subjectAltName: SubjectAltName | null;
  basicConstraints: { cA: boolean; pathLen: number | null } | null;
  keyUsage: KeyUsage | null;
  /** extKeyUsage purpose OIDs (e.g. serverAuth 1.3.6.1.5.5.7.3.1), or null when absent. */
  extKeyUsage: string[] | null;
  subjectKeyIdentifier: Uint8Array | null;
  authorityKeyIdentifier: Uint8Array | null;
  /** certificatePolicies OIDs (recognised, not enforced), or null when absent. */
  policies: string[] | null;
  /** OIDs of critical extensions we do not process: a validator must reject the certificate. */
  unknownCritical: string[];
  all: RawExtension[];
}

/** A parsed X.509 certificate. Byte fields are subarrays of `der`, which is a private copy. */
export interface Certificate {
  der: Uint8Array;
  /** The tbsCertificate DER: the signed bytes. */
  tbs: Uint8Array;
  /** 1, 2 or 3. */
  version: number;
  /** The serial number as lowercase hex of its magnitude. */
  serial: string;
  signatureAlgorithm: SignatureAlgorithm;
  /** The signatureValue BIT STRING contents (DER ECDSA-Sig-Value for ECDSA). */
  signature: Uint8Array;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  /** Validity bounds in epoch milliseconds (both inclusive, RFC 5280 §4.1.2.5). */
  notBefore: number;
  notAfter: number;
  publicKey: PublicKeyInfo;
  extensions: CertificateExtensions;
}

// --- OIDs --------------------------------------------------------------------------------------

/** OIDs used by the parser, the validator and the builder. */
export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** A plain JSON-able view of a certificate for the diagnostic UI (`certificateSummary`). */
export interface CertificateSummary {
  /** RFC 4514 text, e.g. "CN=localhost, O=quicscope". */
  subject: string;
  issuer: string;
  /** Lowercase hex. */
  serial: string;
  /** subjectAltName entries as "DNS:name" / "IP:address". */
  sans: string[];
  /** ISO 8601 (UTC). */
  notBefore: string;
  notAfter: string;
  /** "ec-p256", "ec-p384", "ed25519", "rsa" or an OID. */
  keyType: string;
  keyBits: number;
  /** SHA-256 of the DER, uppercase hex pairs joined by ':'. */
  fingerprintSha256: string;
  signatureAlgorithm: string;
  isCA: boolean;
  selfIssued: boolean;
}
