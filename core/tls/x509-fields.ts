/**
 * Decoders for the fields of an X.509 certificate (RFC 5280 §4.1.2, §4.2): names, times,
 * algorithm identifiers, public keys, extensions, and IP address text. Each raises
 * `CertificateError` (bad_certificate) or `DerError` on malformed input.
 */

import {
  DerReader,
  Tag,
  derBitString,
  derChildren,
  derParse,
  derUnsigned,
  oidToString,
} from '../crypto/der.ts';
import type { DerNode } from '../crypto/der.ts';
import type { HashAlgorithm } from '../crypto/provider.ts';
import { toHex } from '../wire/buffer.ts';
import { OID, badCertificate } from './x509-types.ts';
import type {
  CertificateExtensions,
  DistinguishedName,
  KeyUsage,
  NameAttribute,
  PublicKeyInfo,
  SignatureAlgorithm,
  SubjectAltName,
} from './x509-types.ts';

const SIGNATURE_NAMES: Record<string, string> = {
  [OID.ecdsaSha256]: 'ecdsa-with-SHA256',
  [OID.ecdsaSha384]: 'ecdsa-with-SHA384',
  [OID.ecdsaSha512]: 'ecdsa-with-SHA512',
  [OID.sha256WithRSA]: 'sha256WithRSAEncryption',
  [OID.sha384WithRSA]: 'sha384WithRSAEncryption',
  [OID.sha512WithRSA]: 'sha512WithRSAEncryption',
  [OID.sha1WithRSA]: 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  [OID.rsassaPss]: 'RSASSA-PSS',
  [OID.ed25519]: 'Ed25519',
  [OID.ed448]: 'Ed448',
};

const HASH_NAMES: Record<string, HashAlgorithm | 'sha1' | 'sha512'> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

const ATTRIBUTE_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  [OID.organization]: 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

// --- Small DER helpers (beyond core/crypto/der.ts) ----------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function ascii(b: Uint8Array, what: string): string {
  for (let i = 0; i < b.length; i++)
    if (b[i] > 0x7f) throw badCertificate(`${what} is not ASCII (IA5String)`);
  return latin1(b);
}

/** Decodes an ASN.1 string type; null when `tag` is not a string type. */
function decodeString(tag: number, b: Uint8Array): string | null {
  switch (tag) {
    case Tag.UTF8_STRING:
      try {
        return utf8.decode(b);
      } catch {
        throw badCertificate('invalid UTF-8 in a UTF8String');
      }
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case 0x12: // NumericString
    case 0x1a: // VisibleString
      return ascii(b, 'a PrintableString/IA5String');
    case 0x14: // TeletexString: treated as Latin-1, as most software does
      return latin1(b);
    case 0x1e: {
      // BMPString: UTF-16BE
      if (b.length % 2 !== 0) throw badCertificate('odd-length BMPString');
      let s = '';
      for (let i = 0; i < b.length; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
      return s;
    }
    case 0x1c: {
      // UniversalString: UTF-32BE
      if (b.length % 4 !== 0) throw badCertificate('bad UniversalString length');
      let s = '';
      for (let i = 0; i < b.length; i += 4) {
        const cp = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
        if (cp > 0x10ffff) throw badCertificate('bad code point in UniversalString');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return null;
  }
}

/** A DER BOOLEAN (X.690 §11.1: TRUE is 0xFF). */
function derBoolean(node: DerNode): boolean {
  if (node.tag !== Tag.BOOLEAN || node.contents.length !== 1) throw badCertificate('malformed BOOLEAN');
  const v = node.contents[0];
  if (v !== 0 && v !== 0xff) throw badCertificate('BOOLEAN is not DER (0x00 or 0xFF)');
  return v === 0xff;
}

/** A small non-negative INTEGER (pathLen, version, saltLength). */
export function derSmallInt(node: DerNode, what: string): number {
  const c = node.contents;
  if (node.tag !== Tag.INTEGER || c.length === 0) throw badCertificate(`malformed INTEGER ${what}`);
  if (c[0] & 0x80) throw badCertificate(`negative ${what}`);
  const m = derUnsigned(c);
  if (m.length > 4) throw badCertificate(`${what} too large`);
  let v = 0;
  for (let i = 0; i < m.length; i++) v = v * 256 + m[i];
  return v;
}

/** A BIT STRING that may have unused trailing bits (X.690 §8.6), as a bit accessor. */
function namedBits(node: DerNode): (bit: number) => boolean {
  const c = node.contents;
  if (node.tag !== Tag.BIT_STRING || c.length < 1 || c[0] > 7 || (c.length === 1 && c[0] !== 0)) {
    throw badCertificate('malformed BIT STRING');
  }
  return (bit) => {
    const byte = 1 + (bit >> 3);
    return byte < c.length && (c[byte] & (0x80 >> (bit & 7))) !== 0;
  };
}

function oidOf(node: DerNode): string {
  if (node.tag !== Tag.OID) throw badCertificate('expected an OBJECT IDENTIFIER');
  return oidToString(node.contents);
}

/** Raises bad_certificate when `r` has elements left (no trailing data inside a SEQUENCE). */
export function expectEnd(r: DerReader, what: string): void {
  if (!r.done) throw badCertificate(`unexpected data at the end of ${what}`);
}

// --- IP addresses ------------------------------------------------------------------------------

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // No leading zeros: "010" would be octal to inet_aton.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups: number[][] = [];
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h];
    const words: number[] = [];
    if (half !== '') {
      const parts = half.split(':');
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        // An embedded IPv4 address may only be the last 32 bits (RFC 4291 §2.2).
        if (h === halves.length - 1 && i === parts.length - 1 && p.includes('.')) {
          const v4 = parseIpv4(p);
          if (!v4) return null;
          words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) words.push(parseInt(p, 16));
        else return null;
      }
    }
    groups.push(words);
  }
  const total = groups.reduce((n, g) => n + g.length, 0);
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const words =
    halves.length === 1 ? groups[0] : [...groups[0], ...new Array<number>(8 - total).fill(0), ...groups[1]];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/** Parses an IPv4 or IPv6 literal (brackets allowed, no zone) to 4 or 16 bytes; null if not one. */
export function parseIpAddress(text: string): Uint8Array | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes(':')) return parseIpv6(s);
  return parseIpv4(s);
}

/** Formats 4 or 16 address bytes as dotted IPv4 or RFC 5952 IPv6 text. */
export function formatIpAddress(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return `#${toHex(b)}`;
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i] << 8) | b[i + 1]);
  // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero words.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

// --- Names (RFC 5280 §4.1.2.4) -----------------------------------------------------------------

function escapeValue(v: string): string {
  // RFC 4514 §2.4 (the characters that matter for readability).
  return v.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
}

/** Decodes a Name (RFC 5280 §4.1.2.4). */
export function parseName(node: DerNode): DistinguishedName {
  if (node.tag !== Tag.SEQUENCE) throw badCertificate('Name is not a SEQUENCE');
  const rdns: NameAttribute[][] = [];
  const keyParts: string[] = [];
  const textParts: string[] = [];
  const r = derChildren(node);
  while (!r.done) {
    const set = r.next(Tag.SET);
    const attrs: NameAttribute[] = [];
    const norm: string[] = [];
    const shown: string[] = [];
    const sr = derChildren(set);
    while (!sr.done) {
      const atv = derChildren(sr.next(Tag.SEQUENCE));
      const oid = oidOf(atv.next());
      const v = atv.next();
      expectEnd(atv, 'AttributeTypeAndValue');
      const str = decodeString(v.tag, v.contents);
      const a = { oid, name: ATTRIBUTE_NAMES[oid] ?? oid, value: str ?? `#${toHex(v.raw)}` };
      attrs.push(a);
      shown.push(`${a.name}=${str === null ? a.value : escapeValue(str)}`);
      // RFC 5280 §7.1: compare strings case-insensitively with internal whitespace folded.
      norm.push(
        str === null ? `${oid}#${a.value}` : `${oid}=${str.trim().replace(/\s+/g, ' ').toLowerCase()}`,
      );
    }
    if (attrs.length === 0) throw badCertificate('empty RelativeDistinguishedName');
    rdns.push(attrs);
    keyParts.push(JSON.stringify(norm.sort()));
    textParts.push(shown.join('+'));
  }
  // RFC 4514 §2.1: the last RDN first.
  return { raw: node.raw, rdns, text: textParts.reverse().join(', '), key: keyParts.join('/') };
}

// --- Time (RFC 5280 §4.1.2.5) ------------------------------------------------------------------

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Decodes a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5) to epoch milliseconds. */
export function parseTime(node: DerNode): number {
  const s = ascii(node.contents, 'a time');
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === Tag.UTC_TIME) {
    // RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ; YY >= 50 means 19YY, else 20YY.
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw badCertificate(`UTCTime '${s}' is not YYMMDDHHMMSSZ`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === Tag.GENERALIZED_TIME) {
    // RFC 5280 §4.1.2.5.2: YYYYMMDDHHMMSSZ, no fractional seconds.
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw badCertificate(`GeneralizedTime '${s}' is not YYYYMMDDHHMMSSZ`);
    year = Number(m[1]);
  } else throw badCertificate('validity time is neither UTCTime nor GeneralizedTime');
  const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && !leap ? 28 : DAYS[mo - 1])) {
    throw badCertificate(`invalid date '${s}'`);
  }
  if (h > 23 || mi > 59 || sec > 59) throw badCertificate(`invalid time of day '${s}'`);
  const t = new Date(0);
  t.setUTCFullYear(year, mo - 1, d);
  t.setUTCHours(h, mi, sec, 0);
  return t.getTime();
}

// --- Algorithms and keys -----------------------------------------------------------------------

function parseAlgorithmIdentifier(node: DerNode): { oid: string; params: DerNode | null } {
  if (node.tag !== Tag.SEQUENCE) throw badCertificate('AlgorithmIdentifier is not a SEQUENCE');
  const r = derChildren(node);
  const oid = oidOf(r.next());
  const params = r.done ? null : r.next();
  expectEnd(r, 'AlgorithmIdentifier');
  return { oid, params };
}

function hashOfAlgorithm(node: DerNode): string {
  const { oid } = parseAlgorithmIdentifier(node);
  return HASH_NAMES[oid] ?? oid;
}

/** RSASSA-PSS-params (RFC 4055 §3.1) with their DEFAULTs (SHA-1, MGF1-SHA-1, 20). */
function parsePssParams(params: DerNode | null): SignatureAlgorithm['pss'] {
  if (!params || params.tag !== Tag.SEQUENCE) throw badCertificate('RSASSA-PSS without parameters');
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let saltLength = 20;
  const r = derChildren(params);
  const f0 = r.optional(0xa0);
  if (f0) hash = hashOfAlgorithm(derParse(f0.contents));
  const f1 = r.optional(0xa1);
  if (f1) {
    const mgf = parseAlgorithmIdentifier(derParse(f1.contents));
    if (mgf.oid !== OID.mgf1 || !mgf.params) throw badCertificate('RSASSA-PSS mask generation is not MGF1');
    mgfHash = hashOfAlgorithm(mgf.params);
  }
  const f2 = r.optional(0xa2);
  if (f2) saltLength = derSmallInt(derParse(f2.contents), 'saltLength');
  const f3 = r.optional(0xa3);
  if (f3 && derSmallInt(derParse(f3.contents), 'trailerField') !== 1) {
    throw badCertificate('RSASSA-PSS trailerField is not 1');
  }
  expectEnd(r, 'RSASSA-PSS-params');
  return { hash, mgfHash, saltLength };
}

/** Decodes a signature AlgorithmIdentifier (RFC 5280 §4.1.1.2), with RSASSA-PSS parameters. */
export function parseSignatureAlgorithm(node: DerNode): SignatureAlgorithm {
  const { oid, params } = parseAlgorithmIdentifier(node);
  return {
    oid,
    name: SIGNATURE_NAMES[oid] ?? oid,
    params: params ? params.raw : null,
    pss: oid === OID.rsassaPss ? parsePssParams(params) : null,
  };
}

function bitLength(magnitude: Uint8Array): number {
  if (magnitude.length === 0 || magnitude[0] === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]));
}

/** Decodes a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): key type and size. */
export function parseSpki(node: DerNode): PublicKeyInfo {
  if (node.tag !== Tag.SEQUENCE) throw badCertificate('SubjectPublicKeyInfo is not a SEQUENCE');
  const r = derChildren(node);
  const alg = parseAlgorithmIdentifier(r.next());
  const keyBytes = derBitString(r.next());
  expectEnd(r, 'SubjectPublicKeyInfo');
  let type: PublicKeyInfo['type'] = 'unknown';
  let bits = 0;
  let curveOid: string | null = null;
  if (alg.oid === OID.ecPublicKey) {
    if (!alg.params || alg.params.tag !== Tag.OID) throw badCertificate('EC key without a named curve'); // RFC 5480 §2.1.1
    curveOid = oidOf(alg.params);
    if (curveOid === OID.p256) [type, bits] = ['ec-p256', 256];
    else if (curveOid === OID.p384) [type, bits] = ['ec-p384', 384];
    else if (curveOid === OID.p521) bits = 521;
  } else if (alg.oid === OID.rsaEncryption) {
    // RFC 8017 Appendix A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }
    const rk = derChildren(derParse(keyBytes, Tag.SEQUENCE));
    const n = rk.next(Tag.INTEGER).contents;
    rk.next(Tag.INTEGER);
    expectEnd(rk, 'RSAPublicKey');
    if (n.length === 0 || n[0] & 0x80) throw badCertificate('negative RSA modulus');
    [type, bits] = ['rsa', bitLength(derUnsigned(n))];
  } else if (alg.oid === OID.ed25519) {
    if (alg.params) throw badCertificate('Ed25519 key with parameters'); // RFC 8410 §3
    if (keyBytes.length !== 32) throw badCertificate('Ed25519 public key is not 32 bytes');
    [type, bits] = ['ed25519', 256];
  }
  return { spki: node.raw, algorithmOid: alg.oid, type, bits, curveOid, keyBytes };
}

// --- Extensions (RFC 5280 §4.2) ----------------------------------------------------------------

function parseGeneralNames(value: Uint8Array): SubjectAltName {
  const san: SubjectAltName = { dns: [], ip: [], ipBytes: [], email: [], uri: [] };
  const r = derChildren(derParse(value, Tag.SEQUENCE));
  while (!r.done) {
    const gn = r.next();
    switch (gn.tag) {
      case 0x82: // dNSName [2] IA5String
        san.dns.push(ascii(gn.contents, 'dNSName'));
        break;
      case 0x87: // iPAddress [7] OCTET STRING: 4 or 16 bytes
        if (gn.contents.length !== 4 && gn.contents.length !== 16)
          throw badCertificate('iPAddress is not 4 or 16 bytes');
        san.ipBytes.push(gn.contents);
        san.ip.push(formatIpAddress(gn.contents));
        break;
      case 0x81: // rfc822Name [1]
        san.email.push(ascii(gn.contents, 'rfc822Name'));
        break;
      case 0x86: // uniformResourceIdentifier [6]
        san.uri.push(ascii(gn.contents, 'URI'));
        break;
      default: // otherName, directoryName, registeredID, …: kept only in the raw extension
        if ((gn.tag & 0xc0) !== 0x80 || (gn.tag & 0x1f) > 8) throw badCertificate('malformed GeneralName');
    }
  }
  return san;
}

function parseBasicConstraints(value: Uint8Array): { cA: boolean; pathLen: number | null } {
  const r = derChildren(derParse(value, Tag.SEQUENCE));
  const ca = r.optional(Tag.BOOLEAN);
  const cA = ca ? derBoolean(ca) : false;
  const pl = r.optional(Tag.INTEGER);
  expectEnd(r, 'basicConstraints');
  return { cA, pathLen: pl ? derSmallInt(pl, 'pathLenConstraint') : null };
}

function parseKeyUsage(value: Uint8Array): KeyUsage {
  const bit = namedBits(derParse(value));
  return {
    digitalSignature: bit(0),
    contentCommitment: bit(1),
    keyEncipherment: bit(2),
    dataEncipherment: bit(3),
    keyAgreement: bit(4),
    keyCertSign: bit(5),
    cRLSign: bit(6),
    encipherOnly: bit(7),
    decipherOnly: bit(8),
  };
}

function parseOidSequence(value: Uint8Array, firstOfEach: boolean): string[] {
  const out: string[] = [];
  const r = derChildren(derParse(value, Tag.SEQUENCE));
  while (!r.done) {
    const n = r.next();
    out.push(oidOf(firstOfEach ? derChildren(n).next() : n));
  }
  return out;
}

function parseAuthorityKeyIdentifier(value: Uint8Array): Uint8Array | null {
  const r = derChildren(derParse(value, Tag.SEQUENCE));
  const kid = r.optional(0x80); // keyIdentifier [0] IMPLICIT OCTET STRING
  r.optional(0xa1); // authorityCertIssuer
  r.optional(0x82); // authorityCertSerialNumber
  expectEnd(r, 'authorityKeyIdentifier');
  return kid ? kid.contents : null;
}

/** Decodes the [3] extensions field (RFC 5280 §4.1.2.9); null means none. */
export function parseExtensions(node: DerNode | null): CertificateExtensions {
  const ext: CertificateExtensions = {
    subjectAltName: null,
    basicConstraints: null,
    keyUsage: null,
    extKeyUsage: null,
    subjectKeyIdentifier: null,
    authorityKeyIdentifier: null,
    policies: null,
    unknownCritical: [],
    all: [],
  };
  if (!node) return ext;
  const list = derParse(node.contents, Tag.SEQUENCE);
  const r = derChildren(list);
  if (r.done) throw badCertificate('empty extensions'); // RFC 5280 §4.1: SEQUENCE SIZE (1..MAX)
  const seen = new Set<string>();
  while (!r.done) {
    const er = derChildren(r.next(Tag.SEQUENCE));
    const oid = oidOf(er.next());
    const c = er.optional(Tag.BOOLEAN);
    const critical = c ? derBoolean(c) : false;
    const value = er.next(Tag.OCTET_STRING).contents;
    expectEnd(er, 'Extension');
    // RFC 5280 §4.2: at most one instance of a particular extension.
    if (seen.has(oid)) throw badCertificate(`duplicate extension ${oid}`);
    seen.add(oid);
    ext.all.push({ oid, critical, value });
    switch (oid) {
      case OID.subjectAltName:
        ext.subjectAltName = parseGeneralNames(value);
        break;
      case OID.basicConstraints:
        ext.basicConstraints = parseBasicConstraints(value);
        break;
      case OID.keyUsage:
        ext.keyUsage = parseKeyUsage(value);
        break;
      case OID.extKeyUsage:
        ext.extKeyUsage = parseOidSequence(value, false);
        break;
      case OID.subjectKeyIdentifier:
        ext.subjectKeyIdentifier = derParse(value, Tag.OCTET_STRING).contents;
        break;
      case OID.authorityKeyIdentifier:
        ext.authorityKeyIdentifier = parseAuthorityKeyIdentifier(value);
        break;
      case OID.certificatePolicies:
        ext.policies = parseOidSequence(value, true);
        break;
      default:
        // RFC 5280 §4.2: an unrecognised critical extension makes the certificate unusable.
        if (critical) ext.unknownCritical.push(oid);
    }
  }
  return ext;
}
