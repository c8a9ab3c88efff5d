import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import fc from 'fast-check';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { Tag, derEncode, derOid, derParse, derSequence, pemEncode } from '../../../core/crypto/der.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import {
  CERTIFICATE_ALERT,
  CertificateError,
  OID,
  certificateSummary,
  formatIpAddress,
  parseCertificate,
  parseCertificatesPem,
  parseIpAddress,
} from '../../../core/tls/x509.ts';
import { parseExtensions, parseName, parseTime } from '../../../core/tls/x509-fields.ts';
import { verifyChain } from '../../../core/tls/x509-verify.ts';
import { TEST_KEY_TYPES, VALID_FROM, VALID_UNTIL, testPki } from '../../helpers/certs.ts';

// RFC 8448 §3: the server's self-signed RSA-1024 certificate (CN=rsa), from its Certificate message.
const RFC8448_RSA = fromHex(
  '308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504031303727361' +
    '301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372' +
    '736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6' +
    '988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187' +
    'a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2b' +
    'd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355' +
    '1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a5' +
    '4c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67' +
    'f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d9' +
    '1d402dcc0cc8f8961229ac9187b42b4de1',
);
// RFC 8448 §6: the server's self-signed P-256 certificate (CN=ecdsa256).
const RFC8448_ECDSA = fromHex(
  '3082012e3081d5a003020102020107300a06082a8648ce3d04030230133111300f06035504031308656364736132' +
    '3536301e170d3136303733303031323430305a170d3236303733303031323430305a30133111300f060355040313' +
    '0865636473613235363059301306072a8648ce3d020106082a8648ce3d0301070342000408d530161575f4cfe7f1' +
    '54ee3448180086001e88431a79ee62ee6e2f83ef38ba61e9fb37f34e007a7df4d2f5b56d1f04ece45d621f468406' +
    'f5c3a15158948dd0a31a301830090603551d1304023000300b0603551d0f040403020780300a06082a8648ce3d04' +
    '03020348003045022100df30fd4507f5edd22c1a6ff86db479ca693feeca3b71b3f9ef556b2937c0594d022062e2' +
    'a47250d320fea83c7e2dcb5b76a50e0200c09adbd13fee946e513e011d11',
);

function isBadCertificate(e: unknown): boolean {
  return e instanceof CertificateError && e.reason === 'bad_certificate';
}

/** Parses or raises CertificateError; anything else fails the test. */
function parseOrCertificateError(der: Uint8Array): void {
  try {
    parseCertificate(der);
  } catch (e) {
    if (!(e instanceof CertificateError)) throw e;
  }
}

describe('RFC 5280 §4.1 certificate fields: RFC 8448 vectors', () => {
  it('parses the RSA server certificate of RFC 8448 §3', () => {
    const c = parseCertificate(RFC8448_RSA);
    assert.equal(c.version, 3);
    assert.equal(c.serial, '02');
    assert.equal(c.signatureAlgorithm.name, 'sha256WithRSAEncryption');
    assert.equal(toHex(c.signatureAlgorithm.params ?? new Uint8Array()), '0500');
    assert.equal(c.subject.text, 'CN=rsa');
    assert.equal(c.issuer.text, 'CN=rsa');
    assert.deepEqual(c.subject.rdns, [[{ oid: '2.5.4.3', name: 'CN', value: 'rsa' }]]);
    assert.equal(c.notBefore, Date.UTC(2016, 6, 30, 1, 23, 59));
    assert.equal(c.notAfter, Date.UTC(2026, 6, 30, 1, 23, 59));
    assert.equal(c.publicKey.type, 'rsa');
    assert.equal(c.publicKey.bits, 1024);
    assert.equal(c.tbs.length, 4 + 0x115);
    assert.equal(c.signature.length, 128);
    assert.deepEqual(c.extensions.basicConstraints, { cA: false, pathLen: null });
    const ku = c.extensions.keyUsage;
    assert.ok(ku && ku.digitalSignature && ku.keyEncipherment && !ku.keyCertSign && !ku.contentCommitment);
    assert.equal(c.extensions.subjectAltName, null);
    assert.deepEqual(c.extensions.unknownCritical, []);
    // Self-signed: the signature verifies with its own key.
    assert.ok(nodeProvider.verify('rsa_pkcs1_sha256', c.publicKey.spki, c.tbs, c.signature));
  });
  it('parses the P-256 server certificate of RFC 8448 §6 and verifies it under both providers', () => {
    const c = parseCertificate(RFC8448_ECDSA);
    assert.equal(c.serial, '07');
    assert.equal(c.signatureAlgorithm.name, 'ecdsa-with-SHA256');
    assert.equal(c.signatureAlgorithm.params, null);
    assert.equal(c.subject.text, 'CN=ecdsa256');
    assert.equal(c.publicKey.type, 'ec-p256');
    assert.equal(c.publicKey.curveOid, OID.p256);
    assert.equal(toHex(c.publicKey.keyBytes).slice(0, 10), '0408d53016');
    assert.equal(c.notBefore, Date.UTC(2016, 6, 30, 1, 24, 0));
    assert.ok(c.extensions.keyUsage?.digitalSignature && !c.extensions.keyUsage.keyEncipherment);
    for (const p of [nodeProvider, nobleProvider]) {
      assert.ok(p.verify('ecdsa_secp256r1_sha256', c.publicKey.spki, c.tbs, c.signature), p.name);
    }
  });
  it('accepts them as trust anchors inside their validity only', () => {
    const root = parseCertificate(RFC8448_RSA);
    const base = { chain: [RFC8448_RSA], serverName: null, roots: [root], provider: nodeProvider };
    assert.ok(verifyChain({ ...base, now: Date.UTC(2020, 0, 1) }).ok);
    const r = verifyChain({ ...base, now: Date.UTC(2027, 0, 1) });
    assert.ok(!r.ok && r.error.reason === 'certificate_expired');
  });
});

describe('RFC 5280 §4.1 certificate fields: certificates we build', () => {
  const bits = { 'ec-p256': 256, 'ec-p384': 384, ed25519: 256, rsa: 2048 } as const;
  const sig = {
    'ec-p256': 'ecdsa-with-SHA256',
    'ec-p384': 'ecdsa-with-SHA384',
    ed25519: 'Ed25519',
    rsa: 'sha256WithRSAEncryption',
  } as const;
  for (const keyType of TEST_KEY_TYPES) {
    it(`reads every field of a ${keyType} leaf and intermediate`, () => {
      const pki = testPki(keyType);
      const leaf = parseCertificate(pki.leaf.der);
      const int = parseCertificate(pki.intermediate.der);
      assert.equal(leaf.version, 3);
      assert.match(leaf.serial, /^[0-9a-f]{32}$/);
      assert.equal(leaf.signatureAlgorithm.name, sig[keyType]);
      assert.equal(leaf.subject.text, 'CN=localhost, O=quicscope');
      assert.equal(leaf.issuer.text, `CN=quicscope test intermediate (${keyType}), O=quicscope`);
      assert.deepEqual(leaf.issuer.raw, int.subject.raw);
      assert.equal(leaf.notBefore, VALID_FROM);
      assert.equal(leaf.notAfter, VALID_UNTIL);
      assert.equal(leaf.publicKey.type, keyType);
      assert.equal(leaf.publicKey.bits, bits[keyType]);
      assert.deepEqual(leaf.extensions.subjectAltName?.dns, ['localhost']);
      assert.deepEqual(leaf.extensions.subjectAltName?.ip, ['127.0.0.1', '::1']);
      assert.deepEqual(leaf.extensions.basicConstraints, { cA: false, pathLen: null });
      assert.ok(leaf.extensions.keyUsage?.digitalSignature && !leaf.extensions.keyUsage.keyCertSign);
      assert.deepEqual(leaf.extensions.extKeyUsage, [OID.serverAuth]);
      assert.equal(leaf.extensions.subjectKeyIdentifier?.length, 20);
      assert.deepEqual(leaf.extensions.authorityKeyIdentifier, int.extensions.subjectKeyIdentifier);
      assert.deepEqual(int.extensions.basicConstraints, { cA: true, pathLen: 0 });
      assert.ok(int.extensions.keyUsage?.keyCertSign && int.extensions.keyUsage.cRLSign);
      assert.equal(int.extensions.extKeyUsage, null);
      const crit = leaf.extensions.all.filter((e) => e.critical).map((e) => e.oid);
      assert.deepEqual(crit.sort(), [OID.keyUsage, OID.basicConstraints].sort());
    });
  }
  it('keeps a private copy of the DER, with tbs as a subarray of it', () => {
    const input = testPki('ec-p256').leaf.der.slice();
    const c = parseCertificate(input);
    input.fill(0);
    assert.notEqual(c.der[0], 0);
    assert.equal(c.tbs.buffer, c.der.buffer);
    assert.deepEqual(c.der.subarray(4, 4 + c.tbs.length), c.tbs);
  });
});

describe('RFC 5280 §4.1.2.5 validity times', () => {
  const t = (tag: number, s: string) => parseTime(derParse(derEncode(tag, new TextEncoder().encode(s))));
  it('reads UTCTime with the 1950–2049 window', () => {
    assert.equal(t(Tag.UTC_TIME, '491231235959Z'), Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(t(Tag.UTC_TIME, '500101000000Z'), Date.UTC(1950, 0, 1));
    assert.equal(t(Tag.UTC_TIME, '000229120000Z'), Date.UTC(2000, 1, 29, 12));
  });
  it('reads GeneralizedTime', () => {
    assert.equal(t(Tag.GENERALIZED_TIME, '20500101000000Z'), Date.UTC(2050, 0, 1));
    assert.equal(t(Tag.GENERALIZED_TIME, '99991231235959Z'), Date.UTC(9999, 11, 31, 23, 59, 59));
    assert.equal(t(Tag.GENERALIZED_TIME, '00010101000000Z'), -62135596800000);
  });
  const badTimes: [number, string][] = [
    [Tag.UTC_TIME, '4912312359Z'], // no seconds
    [Tag.UTC_TIME, '491231235959'], // no Z
    [Tag.UTC_TIME, '491231235959+0100'],
    [Tag.UTC_TIME, '491331235959Z'], // month 13
    [Tag.UTC_TIME, '490230000000Z'], // 30 February
    [Tag.UTC_TIME, '010229000000Z'], // 2001 is not a leap year
    [Tag.UTC_TIME, '491231240000Z'], // hour 24
    [Tag.UTC_TIME, '491231236000Z'],
    [Tag.GENERALIZED_TIME, '20500101000000.5Z'], // fractional seconds
    [Tag.GENERALIZED_TIME, '2050010100000Z'],
    [Tag.GENERALIZED_TIME, '２０５００１０１０００００Z'],
    [Tag.OCTET_STRING, '20500101000000Z'],
  ];
  for (const [tag, s] of badTimes) {
    it(`rejects ${tag === Tag.UTC_TIME ? 'UTCTime' : tag === Tag.GENERALIZED_TIME ? 'GeneralizedTime' : 'tag 0x04'} '${s}'`, () => {
      assert.throws(() => t(tag, s), isBadCertificate);
    });
  }
});

describe('RFC 5280 §4.1.2.4 names', () => {
  const atv = (oid: string, tag: number, value: Uint8Array) =>
    derSequence(derOid(oid), derEncode(tag, value));
  const set = (...atvs: Uint8Array[]) => derEncode(Tag.SET, ...atvs);
  const enc = (s: string) => new TextEncoder().encode(s);
  it('prints RDNs last first (RFC 4514), joins multi-valued RDNs with +, escapes specials', () => {
    const name = parseName(
      derParse(
        derSequence(
          set(atv('2.5.4.6', Tag.PRINTABLE_STRING, enc('US'))),
          set(atv(OID.organization, Tag.UTF8_STRING, enc('Acme, Inc.'))),
          set(
            atv('2.5.4.11', Tag.UTF8_STRING, enc('Ops')),
            atv(OID.commonName, Tag.UTF8_STRING, enc('héllo')),
          ),
        ),
      ),
    );
    assert.equal(name.text, 'OU=Ops+CN=héllo, O=Acme\\, Inc., C=US');
    assert.equal(name.rdns.length, 3);
  });
  it('decodes BMPString and TeletexString, and shows non-strings as #hex', () => {
    const name = parseName(
      derParse(
        derSequence(
          set(atv(OID.commonName, 0x1e, Uint8Array.of(0, 0x41, 0x04, 0x14))),
          set(atv(OID.organization, 0x14, Uint8Array.of(0x41, 0xe9))),
          set(derSequence(derOid('1.2.3.4'), derEncode(Tag.INTEGER, Uint8Array.of(5)))),
        ),
      ),
    );
    assert.equal(name.text, '1.2.3.4=#020105, O=Aé, CN=AД');
  });
  it('compares names case- and space-insensitively for chaining (RFC 5280 §7.1)', () => {
    const a = parseName(derParse(derSequence(set(atv(OID.commonName, Tag.UTF8_STRING, enc('My  CA'))))));
    const b = parseName(derParse(derSequence(set(atv(OID.commonName, Tag.PRINTABLE_STRING, enc(' my ca'))))));
    const c = parseName(derParse(derSequence(set(atv(OID.commonName, Tag.UTF8_STRING, enc('my cb'))))));
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, c.key);
  });
  it('rejects invalid UTF-8, an empty RDN, and non-ASCII PrintableString', () => {
    for (const der of [
      derSequence(set(atv(OID.commonName, Tag.UTF8_STRING, Uint8Array.of(0xc3)))),
      derSequence(set()),
      derSequence(set(atv(OID.commonName, Tag.PRINTABLE_STRING, Uint8Array.of(0xe9)))),
    ]) {
      assert.throws(() => parseName(derParse(der)), isBadCertificate);
    }
  });
});

describe('RFC 5280 §4.2 extensions', () => {
  const ext = (oid: string, value: Uint8Array, critical = false) =>
    critical
      ? derSequence(
          derOid(oid),
          derEncode(Tag.BOOLEAN, Uint8Array.of(0xff)),
          derEncode(Tag.OCTET_STRING, value),
        )
      : derSequence(derOid(oid), derEncode(Tag.OCTET_STRING, value));
  const parse = (...exts: Uint8Array[]) => parseExtensions(derParse(derEncode(0xa3, derSequence(...exts))));
  it('reads keyUsage bits with unused trailing bits (X.690 §8.6)', () => {
    const ku = parse(ext(OID.keyUsage, derEncode(Tag.BIT_STRING, Uint8Array.of(7, 0x80, 0x80)))).keyUsage;
    assert.ok(ku?.digitalSignature && ku.decipherOnly && !ku.keyCertSign);
    const ku2 = parse(ext(OID.keyUsage, derEncode(Tag.BIT_STRING, Uint8Array.of(1, 0x06)))).keyUsage;
    assert.ok(ku2?.keyCertSign && ku2.cRLSign && !ku2.digitalSignature);
  });
  it('records unknown critical extensions and ignores unknown non-critical ones', () => {
    const e = parse(ext('1.2.3.4', derSequence(), true), ext('1.2.3.5', derSequence()));
    assert.deepEqual(e.unknownCritical, ['1.2.3.4']);
    assert.equal(e.all.length, 2);
  });
  it('reads SAN email, URI, and skips otherName and directoryName', () => {
    const san = parse(
      ext(
        OID.subjectAltName,
        derSequence(
          derEncode(0x81, new TextEncoder().encode('a@b.example')),
          derEncode(0x86, new TextEncoder().encode('https://x.example/')),
          derEncode(0xa0, derOid('1.2.3'), derEncode(0xa0, derEncode(Tag.UTF8_STRING))),
          derEncode(0xa4, derSequence()),
          derEncode(0x82, new TextEncoder().encode('x.example')),
        ),
      ),
    ).subjectAltName;
    assert.deepEqual(san, {
      dns: ['x.example'],
      ip: [],
      ipBytes: [],
      email: ['a@b.example'],
      uri: ['https://x.example/'],
    });
  });
  const bad: [string, Uint8Array[]][] = [
    ['a duplicate extension (RFC 5280 §4.2)', [ext('1.2.3.4', derSequence()), ext('1.2.3.4', derSequence())]],
    ['an iPAddress of 5 bytes', [ext(OID.subjectAltName, derSequence(derEncode(0x87, new Uint8Array(5))))]],
    [
      'a non-DER BOOLEAN',
      [derSequence(derOid('1.2.3'), derEncode(Tag.BOOLEAN, Uint8Array.of(1)), derEncode(Tag.OCTET_STRING))],
    ],
    [
      'a negative pathLenConstraint',
      [
        ext(
          OID.basicConstraints,
          derSequence(
            derEncode(Tag.BOOLEAN, Uint8Array.of(0xff)),
            derEncode(Tag.INTEGER, Uint8Array.of(0xff)),
          ),
        ),
      ],
    ],
    ['trailing data in basicConstraints', [ext(OID.basicConstraints, derSequence(derSequence()))]],
    ['a non-ASCII dNSName', [ext(OID.subjectAltName, derSequence(derEncode(0x82, Uint8Array.of(0xe9))))]],
    ['an empty extension list (SIZE 1..MAX)', []],
  ];
  for (const [name, exts] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parse(...exts),
        (e: unknown) => isBadCertificate(e) || (e as Error).name === 'DerError',
      );
    });
  }
});

describe('IP address text (RFC 4291 §2.2, RFC 5952 §4)', () => {
  const ok: [string, string][] = [
    ['127.0.0.1', '7f000001'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['[::1]', '00000000000000000000000000000001'],
    ['2001:DB8::8:800:200C:417A', '20010db80000000000080800200c417a'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1::', '00010000000000000000000000000000'],
  ];
  for (const [text, hex] of ok) {
    it(`parses ${text}`, () => assert.equal(toHex(parseIpAddress(text) ?? new Uint8Array()), hex));
  }
  for (const text of [
    '256.0.0.1',
    '01.0.0.1',
    '1.2.3',
    '1.2.3.4.5',
    'localhost',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7::8:9',
    'fe80::1%eth0',
    '::1.2.3.4:1',
    '12345::',
    '',
  ]) {
    it(`rejects '${text}'`, () => assert.equal(parseIpAddress(text), null));
  }
  const fmt: [string, string][] = [
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first of two equal runs
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000100010001000100010000', '2001:db8:1:1:1:1:1:0'], // one zero word is not compressed
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000000', '2001:db8::'],
  ];
  for (const [hex, text] of fmt) {
    it(`formats ${text} (RFC 5952)`, () => assert.equal(formatIpAddress(fromHex(hex)), text));
  }
  it('round-trips any address through text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        (b) => {
          assert.deepEqual(parseIpAddress(formatIpAddress(b)), b);
        },
      ),
    );
  });
});

describe('malformed certificates raise CertificateError (bad_certificate), never an untyped error', () => {
  const samples: [string, Uint8Array][] = [
    ['RFC 8448 RSA', RFC8448_RSA],
    ['RFC 8448 P-256', RFC8448_ECDSA],
    ...TEST_KEY_TYPES.map((k) => [`${k} leaf`, testPki(k).leaf.der] as [string, Uint8Array]),
  ];
  for (const [name, der] of samples) {
    it(`every proper prefix of the ${name} certificate (${der.length} bytes)`, () => {
      for (let n = 0; n < der.length; n++) {
        assert.throws(() => parseCertificate(der.subarray(0, n)), isBadCertificate, `prefix of ${n} bytes`);
      }
    });
    it(`the ${name} certificate with a trailing byte`, () => {
      const longer = new Uint8Array(der.length + 1);
      longer.set(der);
      assert.throws(() => parseCertificate(longer), isBadCertificate);
    });
    it(`every single-byte corruption of the ${name} certificate parses or raises CertificateError`, () => {
      for (let i = 0; i < der.length; i++) {
        for (const x of [0x01, 0x80, 0xff]) {
          const d = der.slice();
          d[i] ^= x;
          parseOrCertificateError(d);
        }
      }
    });
  }
  it('random bytes and random mutations', () => {
    const base = testPki('ec-p256').leaf.der;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => parseOrCertificateError(b)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (edits) => {
          const d = base.slice();
          for (const [i, v] of edits) d[i] = v;
          parseOrCertificateError(d);
        },
      ),
    );
  });
  it('rejects a signatureAlgorithm that differs from tbsCertificate.signature (RFC 5280 §4.1.1.2)', () => {
    const der = RFC8448_ECDSA.slice();
    // The outer AlgorithmIdentifier is the last ecdsa-with-SHA256 OID: make it ecdsa-with-SHA384.
    const hex = toHex(der);
    const at = hex.lastIndexOf('2a8648ce3d040302') / 2;
    der[at + 7] = 0x03;
    assert.throws(() => parseCertificate(der), /signatureAlgorithm differs/);
  });
  it('rejects extensions in a v1 certificate (RFC 5280 §4.1.2.9)', () => {
    const der = RFC8448_ECDSA.slice();
    const at = toHex(der).indexOf('a003020102') / 2; // version [0] INTEGER 2
    der[at + 4] = 0; // v1 (also not DER, since DEFAULT v1 must be omitted)
    assert.throws(() => parseCertificate(der), /not v3/);
  });
  it('maps each reason to its RFC 8446 §6.2 alert', () => {
    assert.deepEqual(CERTIFICATE_ALERT, {
      bad_certificate: 42,
      unsupported_certificate: 43,
      certificate_expired: 45,
      certificate_unknown: 46,
      unknown_ca: 48,
    });
    assert.equal(new CertificateError('unknown_ca', 'x').alert, 48);
  });
});

describe('PEM certificates and the system trust store', () => {
  it("parses every one of node's tls.rootCertificates", (t) => {
    const pem = tls.rootCertificates.join('\n');
    const start = performance.now();
    const roots = parseCertificatesPem(pem);
    const ms = performance.now() - start;
    t.diagnostic(`parsed ${roots.length} root certificates in ${ms.toFixed(1)} ms`);
    assert.equal(roots.length, tls.rootCertificates.length);
    assert.ok(roots.length > 50);
    for (const r of roots) {
      assert.ok(r.subject.text.length > 0);
      assert.ok(r.publicKey.type !== 'unknown', `${r.subject.text}: ${r.publicKey.algorithmOid}`);
    }
  });
  it('skips text around blocks and other PEM labels', () => {
    const leaf = testPki('ec-p256').leaf;
    const text = `junk\n${pemEncode('PRIVATE KEY', Uint8Array.of(1, 2))}${leaf.pem}more junk\n${leaf.pem}`;
    const certs = parseCertificatesPem(text);
    assert.equal(certs.length, 2);
    assert.deepEqual(certs[0].der, leaf.der);
  });
  it('rejects invalid base64 with CertificateError', () => {
    const text = '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n';
    assert.throws(() => parseCertificatesPem(text), isBadCertificate);
  });
});

describe('certificateSummary for the UI', () => {
  it('summarises a leaf as plain JSON, with the fingerprint node computes', () => {
    const pki = testPki('ec-p256');
    const s = certificateSummary(pki.leaf.cert, nodeProvider);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    assert.equal(s.subject, 'CN=localhost, O=quicscope');
    assert.equal(s.issuer, 'CN=quicscope test intermediate (ec-p256), O=quicscope');
    assert.deepEqual(s.sans, ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
    assert.equal(s.notBefore, '1950-01-01T00:00:00.000Z');
    assert.equal(s.notAfter, '9999-12-31T23:59:59.000Z');
    assert.equal(s.keyType, 'ec-p256');
    assert.equal(s.keyBits, 256);
    assert.equal(s.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(s.isCA, false);
    assert.equal(s.selfIssued, false);
    assert.equal(s.fingerprintSha256, new X509Certificate(pki.leaf.der).fingerprint256);
    assert.equal(certificateSummary(pki.leaf.cert, nobleProvider).fingerprintSha256, s.fingerprintSha256);
  });
  it('marks a root as CA and self-issued', () => {
    const s = certificateSummary(testPki('rsa').root.cert, nodeProvider);
    assert.equal(s.isCA, true);
    assert.equal(s.selfIssued, true);
    assert.equal(s.keyBits, 2048);
  });
});
