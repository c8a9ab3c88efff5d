import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import type { CryptoProvider, PrivateKey, SignatureParams } from '../../../core/crypto/provider.ts';
import { derEncode, derOid, derSequence, Tag } from '../../../core/crypto/der.ts';
import { createCertificate } from '../../../core/tls/certgen.ts';
import type { CreateCertificateOptions } from '../../../core/tls/certgen.ts';
import { CertificateError, OID, parseCertificate } from '../../../core/tls/x509.ts';
import type { Certificate } from '../../../core/tls/x509.ts';
import {
  MAX_CHAIN_CERTIFICATES,
  certificateSignatureParams,
  matchServerName,
  verifyChain,
} from '../../../core/tls/x509-verify.ts';
import type { VerifyChainOptions, VerifyChainResult } from '../../../core/tls/x509-verify.ts';
import {
  EXPIRED_UNTIL,
  NOT_YET_VALID_FROM,
  TEST_KEY_TYPES,
  TEST_NOW,
  VALID_FROM,
  VALID_UNTIL,
  testPki,
} from '../../helpers/certs.ts';

const PROVIDERS: CryptoProvider[] = [nodeProvider, nobleProvider];

function verify(
  opts: Partial<VerifyChainOptions> & Pick<VerifyChainOptions, 'chain' | 'roots'>,
): VerifyChainResult {
  return verifyChain({ serverName: 'localhost', now: TEST_NOW, provider: nodeProvider, ...opts });
}

function expectError(
  r: VerifyChainResult,
  reason: CertificateError['reason'],
  message?: RegExp,
): CertificateError {
  assert.equal(r.ok, false, 'expected the chain to be rejected');
  if (r.ok) throw new Error('unreachable');
  assert.ok(r.error instanceof CertificateError);
  assert.equal(r.error.reason, reason, r.error.message);
  if (message) assert.match(r.error.message, message);
  return r.error;
}

function expectPath(r: VerifyChainResult, subjects: string[]): void {
  assert.ok(r.ok, r.ok ? '' : `${r.error.reason}: ${r.error.message}`);
  if (!r.ok) return;
  assert.deepEqual(
    r.path.map((c) => c.subject.rdns.flat().find((a) => a.name === 'CN')?.value),
    subjects,
  );
}

function flipLastBit(der: Uint8Array): Uint8Array {
  const out = der.slice();
  out[out.length - 1] ^= 0x01;
  return out;
}

function p256(): PrivateKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return nodeProvider.importPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** A certificate built with the node provider and the good validity window. */
function build(opts: Omit<CreateCertificateOptions, 'provider' | 'notBefore' | 'notAfter'>): Certificate {
  return createCertificate({ notBefore: VALID_FROM, notAfter: VALID_UNTIL, provider: nodeProvider, ...opts })
    .cert;
}

const LOCALHOST = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

for (const keyType of TEST_KEY_TYPES) {
  for (const provider of PROVIDERS) {
    if (keyType === 'rsa' && provider === nobleProvider) continue;
    describe(`RFC 5280 §6 path validation: ${keyType} chains, ${provider.name} provider`, () => {
      const pki = testPki(keyType);
      const run = (chain: Uint8Array[], extra: Partial<VerifyChainOptions> = {}) =>
        verify({ chain, roots: pki.roots, provider, ...extra });
      const int = `quicscope test intermediate (${keyType})`;
      const root = `quicscope test root (${keyType})`;

      it('accepts leaf ← intermediate ← root', () => {
        expectPath(run(pki.chain), ['localhost', int, root]);
      });
      it('accepts a leaf issued directly by the root', () => {
        expectPath(run([pki.leafDirect.der]), ['localhost', root]);
      });
      it('accepts intermediates in any order and ignores unrelated extras', () => {
        const r = run([pki.leaf.der, pki.unknownRoot.der, pki.root.der, pki.intermediate.der]);
        expectPath(r, ['localhost', int, root]);
      });
      it('accepts a self-signed certificate configured as a trust anchor', () => {
        expectPath(run([pki.selfSigned.der], { roots: [pki.selfSigned.cert] }), ['localhost']);
      });
      it('rejects a self-signed certificate that is not a trust anchor (unknown_ca)', () => {
        expectError(run([pki.selfSigned.der]), 'unknown_ca', /self-signed/);
      });
      it('rejects a chain from an unknown CA (unknown_ca)', () => {
        expectError(run([pki.unknownCa.der]), 'unknown_ca', /quicscope unknown root/);
      });
      it('rejects a chain missing its intermediate (unknown_ca)', () => {
        expectError(run([pki.leaf.der]), 'unknown_ca', /quicscope test intermediate/);
      });
      it('rejects an expired leaf (certificate_expired)', () => {
        expectError(run([pki.expired.der, pki.intermediate.der]), 'certificate_expired', /expired at 1960/);
      });
      it('rejects a not-yet-valid leaf (certificate_expired)', () => {
        expectError(
          run([pki.notYetValid.der, pki.intermediate.der]),
          'certificate_expired',
          /not valid before 9000/,
        );
      });
      it('treats notAfter as inclusive (RFC 5280 §4.1.2.5)', () => {
        const chain = [pki.expired.der, pki.intermediate.der];
        expectPath(run(chain, { now: EXPIRED_UNTIL }), ['localhost', int, root]);
        expectError(run(chain, { now: EXPIRED_UNTIL + 1 }), 'certificate_expired');
        expectError(
          run([pki.notYetValid.der, pki.intermediate.der], { now: NOT_YET_VALID_FROM - 1 }),
          'certificate_expired',
        );
        expectPath(run([pki.notYetValid.der, pki.intermediate.der], { now: NOT_YET_VALID_FROM }), [
          'localhost',
          int,
          root,
        ]);
      });
      it('rejects a leaf whose signature has one bit flipped (bad_certificate)', () => {
        expectError(run([flipLastBit(pki.leaf.der), pki.intermediate.der]), 'bad_certificate', /signature/);
      });
      it('rejects an intermediate whose signature has one bit flipped (bad_certificate)', () => {
        expectError(run([pki.leaf.der, flipLastBit(pki.intermediate.der)]), 'bad_certificate', /signature/);
      });
      it('rejects a wrong host name, naming the host and the SANs (bad_certificate)', () => {
        expectError(
          run([pki.wrongHost.der, pki.intermediate.der]),
          'bad_certificate',
          /'localhost'.*DNS:example\.com/,
        );
      });
      it('matches 127.0.0.1 and ::1 against iPAddress SANs', () => {
        for (const host of ['127.0.0.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'LOCALHOST', 'localhost.']) {
          expectPath(run(pki.chain, { serverName: host }), ['localhost', int, root]);
        }
        expectError(run(pki.chain, { serverName: '127.0.0.2' }), 'bad_certificate', /127\.0\.0\.1.*::1/);
      });
    });
  }
}

describe('RFC 5280 §6 path validation: RSA under the noble provider', () => {
  it('reports unsupported_certificate (noble has no RSA)', () => {
    const pki = testPki('rsa');
    const r = verify({ chain: pki.chain, roots: pki.roots, provider: nobleProvider });
    expectError(r, 'unsupported_certificate', /noble/);
  });
});

describe('RFC 5280 §6.1.4 issuer constraints', () => {
  const pki = testPki('ec-p256');
  const rootIssuer = { cert: pki.root.cert, key: pki.root.key };
  const intKey = p256();
  const leafOf = (
    issuer: { cert: Certificate; key: PrivateKey },
    extra: Partial<CreateCertificateOptions> = {},
  ) =>
    build({
      subject: { CN: 'localhost' },
      sans: LOCALHOST,
      isCA: false,
      key: pki.leaf.key,
      issuer,
      ...extra,
    });

  it('rejects an intermediate without basicConstraints cA (bad_certificate)', () => {
    // A leaf-type certificate (cA false) used as an issuer: its signature is valid, but it is not a CA.
    const notCa = build({ subject: { CN: 'not a CA' }, isCA: false, key: intKey, issuer: rootIssuer });
    const leaf = leafOf({ cert: notCa, key: intKey });
    expectError(verify({ chain: [leaf.der, notCa.der], roots: pki.roots }), 'bad_certificate', /not a CA/);
  });
  it('rejects an intermediate whose basicConstraints omits cA (bad_certificate)', () => {
    const bare = build({
      subject: { CN: 'no basicConstraints' },
      isCA: true,
      key: intKey,
      issuer: rootIssuer,
      // basicConstraints with cA absent (DEFAULT FALSE) in place of the CA one.
      extensions: [{ oid: OID.basicConstraints, critical: false, value: derSequence() }],
    });
    const leaf = leafOf({ cert: bare, key: intKey });
    expectError(verify({ chain: [leaf.der, bare.der], roots: pki.roots }), 'bad_certificate', /not a CA/);
  });
  it('enforces pathLenConstraint (the intermediate has pathLen 0)', () => {
    const sub = build({ subject: { CN: 'sub CA' }, isCA: true, key: intKey, issuer: pki.intermediate });
    const leaf = leafOf({ cert: sub, key: intKey });
    const r = verify({ chain: [leaf.der, sub.der, pki.intermediate.der], roots: pki.roots });
    expectError(r, 'bad_certificate', /pathLenConstraint/);
  });
  it('does not count a self-issued intermediate against pathLen', () => {
    // Self-issued: same subject name as its issuer (a key rollover certificate), RFC 5280 §6.1.4 (l).
    const rollover = build({
      subject: { CN: 'quicscope test intermediate (ec-p256)', O: 'quicscope' },
      isCA: true,
      key: intKey,
      issuer: pki.intermediate,
    });
    const leaf = leafOf({ cert: rollover, key: intKey });
    const r = verify({ chain: [leaf.der, rollover.der, pki.intermediate.der], roots: pki.roots });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.path.length, 4);
  });
  it('rejects an issuer whose keyUsage lacks keyCertSign (bad_certificate)', () => {
    const ca = build({
      subject: { CN: 'no keyCertSign' },
      isCA: true,
      key: intKey,
      issuer: rootIssuer,
      extensions: [
        { oid: OID.keyUsage, critical: true, value: derEncode(Tag.BIT_STRING, Uint8Array.of(7, 0x80)) },
      ],
    });
    const leaf = leafOf({ cert: ca, key: intKey });
    expectError(verify({ chain: [leaf.der, ca.der], roots: pki.roots }), 'bad_certificate', /keyCertSign/);
  });
  it('rejects a leaf whose keyUsage lacks digitalSignature (RFC 8446 §4.4.2.2)', () => {
    const leaf = leafOf(pki.intermediate, {
      extensions: [
        { oid: OID.keyUsage, critical: true, value: derEncode(Tag.BIT_STRING, Uint8Array.of(5, 0x20)) },
      ],
    });
    expectError(
      verify({ chain: [leaf.der, pki.intermediate.der], roots: pki.roots }),
      'bad_certificate',
      /digitalSignature/,
    );
  });
  it('checks extKeyUsage on the leaf against the purpose', () => {
    const client = leafOf(pki.intermediate, { extKeyUsage: ['clientAuth'] });
    const chain = [client.der, pki.intermediate.der];
    expectError(verify({ chain, roots: pki.roots }), 'bad_certificate', /extKeyUsage/);
    assert.ok(verify({ chain, roots: pki.roots, purpose: 'clientAuth' }).ok);
    const any = leafOf(pki.intermediate, {
      extensions: [
        { oid: OID.extKeyUsage, critical: false, value: derSequence(derOid(OID.anyExtendedKeyUsage)) },
      ],
    });
    assert.ok(verify({ chain: [any.der, pki.intermediate.der], roots: pki.roots }).ok);
  });
  it('rejects an unknown critical extension on the leaf or an intermediate (unsupported_certificate)', () => {
    const crit = [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: derSequence() }];
    const leaf = leafOf(pki.intermediate, { extensions: crit });
    expectError(
      verify({ chain: [leaf.der, pki.intermediate.der], roots: pki.roots }),
      'unsupported_certificate',
      /1\.3\.6\.1\.4\.1\.99999\.1/,
    );
    const ca = build({
      subject: { CN: 'critical CA' },
      isCA: true,
      key: intKey,
      issuer: rootIssuer,
      extensions: crit,
    });
    const leaf2 = leafOf({ cert: ca, key: intKey });
    expectError(verify({ chain: [leaf2.der, ca.der], roots: pki.roots }), 'unsupported_certificate');
  });
  it('accepts an unknown non-critical extension', () => {
    const leaf = leafOf(pki.intermediate, {
      extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, value: derSequence() }],
    });
    assert.ok(verify({ chain: [leaf.der, pki.intermediate.der], roots: pki.roots }).ok);
  });
  it('rejects an expired intermediate (certificate_expired)', () => {
    const old = createCertificate({
      subject: { CN: 'old CA' },
      isCA: true,
      key: intKey,
      issuer: rootIssuer,
      notBefore: Date.UTC(2000, 0, 1),
      notAfter: Date.UTC(2001, 0, 1),
      provider: nodeProvider,
    }).cert;
    const leaf = leafOf({ cert: old, key: intKey });
    expectError(verify({ chain: [leaf.der, old.der], roots: pki.roots }), 'certificate_expired', /old CA/);
  });
  it('skips a trust anchor with the right name but another key (AKI/SKI), and finds the real one', () => {
    const impostor = build({
      subject: { CN: 'quicscope test root (ec-p256)', O: 'quicscope' },
      isCA: true,
      key: pki.unknownRoot.key,
    });
    expectError(verify({ chain: pki.chain, roots: [impostor] }), 'unknown_ca');
    assert.ok(verify({ chain: pki.chain, roots: [impostor, pki.root.cert] }).ok);
  });
  it('bounds the path length (10 certificates)', () => {
    let issuer = rootIssuer;
    const ints: Certificate[] = [];
    for (let i = 0; i < 10; i++) {
      const cert = build({ subject: { CN: `level ${i}` }, isCA: true, key: intKey, issuer });
      ints.unshift(cert);
      issuer = { cert, key: intKey };
    }
    const leaf = leafOf(issuer);
    // leaf + 10 intermediates + root = 12 certificates.
    expectError(
      verify({ chain: [leaf.der, ...ints.map((c) => c.der)], roots: pki.roots }),
      'unknown_ca',
      /within 10/,
    );
    // leaf + 8 intermediates + root = 10: accepted.
    const int8 = ints.slice(2);
    const leaf8 = leafOf({ cert: int8[0], key: intKey });
    const r = verify({ chain: [leaf8.der, ...int8.map((c) => c.der)], roots: pki.roots });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.path.length, 10);
  });
  it('bounds the work of path building (many cross-verifying candidates)', () => {
    // Four copies of each of three CA levels, all with the same key per level: every copy
    // verifies under every copy above it, so a naive search explores 4^3 paths to a dead end.
    const keys = [p256(), p256(), p256()];
    const topKey = p256();
    const top = build({ subject: { CN: 'untrusted top' }, isCA: true, key: topKey });
    let above = [top];
    let aboveKey = topKey;
    const sent: Certificate[] = [];
    for (let level = 2; level >= 0; level--) {
      const copies = [];
      for (let c = 0; c < 4; c++) {
        copies.push(
          build({
            subject: { CN: `level ${level}` },
            isCA: true,
            key: keys[level],
            issuer: { cert: above[c % above.length], key: aboveKey },
          }),
        );
      }
      sent.push(...copies);
      above = copies;
      aboveKey = keys[level];
    }
    const leaf = leafOf({ cert: above[0], key: aboveKey });
    const r = verify({ chain: [leaf.der, ...sent.map((c) => c.der)], roots: pki.roots });
    expectError(r, 'bad_certificate', /gave up/);
  });
});

describe('RFC 8446 §4.4.2 chain input', () => {
  const pki = testPki('ec-p256');
  it('rejects an empty chain (bad_certificate)', () => {
    expectError(verify({ chain: [], roots: pki.roots }), 'bad_certificate');
  });
  it(`rejects more than ${MAX_CHAIN_CERTIFICATES} certificates (bad_certificate)`, () => {
    const chain = new Array<Uint8Array>(MAX_CHAIN_CERTIFICATES + 1).fill(pki.intermediate.der);
    chain[0] = pki.leaf.der;
    expectError(verify({ chain, roots: pki.roots }), 'bad_certificate', /more than/);
  });
  it('rejects garbage in the chain without throwing, and returns what parsed', () => {
    const r = verify({ chain: [pki.leaf.der, Uint8Array.of(0x30, 0x03, 0x02, 0x01)], roots: pki.roots });
    expectError(r, 'bad_certificate');
    assert.equal(r.certificates.length, 1);
  });
  it('returns the parsed chain with the path', () => {
    const r = verify({ chain: pki.chain, roots: pki.roots });
    assert.ok(r.ok);
    assert.equal(r.certificates.length, 2);
    assert.equal(r.path[0], r.certificates[0]);
  });
  it('skips the identity check when serverName is null', () => {
    assert.ok(
      verify({ chain: [pki.wrongHost.der, pki.intermediate.der], roots: pki.roots, serverName: null }).ok,
    );
  });
});

describe('RFC 5280 §4.1.1.2 certificate signature algorithm → verification parameters', () => {
  const ec256 = testPki('ec-p256').root.cert;
  const ec384 = testPki('ec-p384').root.cert;
  const ed = testPki('ed25519').root.cert;
  const rsa = testPki('rsa').root.cert;
  const withAlg = (oid: string, pss: Certificate['signatureAlgorithm']['pss'] = null): Certificate => ({
    ...ec256,
    signatureAlgorithm: { oid, name: oid, params: null, pss },
  });
  const pss = (hash: string, mgfHash: string, saltLength: number) => ({ hash, mgfHash, saltLength });
  type Expect = SignatureParams | null;
  const cases: [string, Certificate, Certificate, Expect][] = [
    ['ecdsa-with-SHA256 by P-256', withAlg(OID.ecdsaSha256), ec256, { key: 'ecdsa', hash: 'sha256' }],
    ['ecdsa-with-SHA384 by P-384', withAlg(OID.ecdsaSha384), ec384, { key: 'ecdsa', hash: 'sha384' }],
    [
      'ecdsa-with-SHA256 by P-384 (RFC 5758)',
      withAlg(OID.ecdsaSha256),
      ec384,
      { key: 'ecdsa', hash: 'sha256' },
    ],
    ['ecdsa-with-SHA512 by P-256', withAlg(OID.ecdsaSha512), ec256, { key: 'ecdsa', hash: 'sha512' }],
    ['ecdsa-with-SHA256 by RSA', withAlg(OID.ecdsaSha256), rsa, null],
    ['sha256WithRSAEncryption by RSA', withAlg(OID.sha256WithRSA), rsa, { key: 'rsa-pkcs1', hash: 'sha256' }],
    ['sha384WithRSAEncryption by RSA', withAlg(OID.sha384WithRSA), rsa, { key: 'rsa-pkcs1', hash: 'sha384' }],
    ['sha512WithRSAEncryption by P-256', withAlg(OID.sha512WithRSA), ec256, null],
    ['sha1WithRSAEncryption by RSA', withAlg(OID.sha1WithRSA), rsa, null],
    [
      'RSASSA-PSS SHA-256/MGF1-SHA-256/32',
      withAlg(OID.rsassaPss, pss('sha256', 'sha256', 32)),
      rsa,
      { key: 'rsa-pss', hash: 'sha256', saltLength: 32 },
    ],
    [
      'RSASSA-PSS SHA-384/MGF1-SHA-384/48',
      withAlg(OID.rsassaPss, pss('sha384', 'sha384', 48)),
      rsa,
      { key: 'rsa-pss', hash: 'sha384', saltLength: 48 },
    ],
    ['RSASSA-PSS with mixed hashes', withAlg(OID.rsassaPss, pss('sha256', 'sha384', 32)), rsa, null],
    ['RSASSA-PSS with SHA-1 defaults', withAlg(OID.rsassaPss, pss('sha1', 'sha1', 20)), rsa, null],
    ['Ed25519 by Ed25519', withAlg(OID.ed25519), ed, { key: 'ed25519', hash: null }],
    ['Ed25519 by P-256', withAlg(OID.ed25519), ec256, null],
    ['Ed448', withAlg(OID.ed448), ed, null],
  ];
  for (const [name, child, issuer, expected] of cases) {
    it(`${name} → ${expected ? `${expected.key}/${expected.hash}` : 'unsupported_certificate'}`, () => {
      if (expected) assert.deepEqual(certificateSignatureParams(child, issuer), expected);
      else {
        assert.throws(
          () => certificateSignatureParams(child, issuer),
          (e: unknown) => e instanceof CertificateError && e.reason === 'unsupported_certificate',
        );
      }
    });
  }
});

describe('RFC 9525 §6.3 server identity (subjectAltName)', () => {
  const pki = testPki('ec-p256');
  const cert = build({
    subject: { CN: 'cn.example.net' },
    sans: {
      dns: [
        '*.example.com',
        'Example.ORG',
        'f*.partial.com',
        '*.com',
        'trailing.example.net.',
        '*.0.2.1',
        '10.0.0.1',
      ],
      ip: ['192.0.2.1', '2001:db8::1'],
    },
    isCA: false,
    key: pki.leaf.key,
    issuer: pki.intermediate,
  });
  const cases: [string, boolean][] = [
    ['a.example.com', true],
    ['A.EXAMPLE.COM', true],
    ['a.example.com.', true],
    ['a.b.example.com', false], // one label only
    ['example.com', false], // the wildcard needs a label
    ['.example.com', false],
    ['example.org', true], // SAN compared case-insensitively
    ['www.example.org', false],
    ['foo.partial.com', false], // partial-label wildcards are not honoured
    ['f*.partial.com', false],
    ['x.com', false], // '*.com' is not a valid wildcard
    ['trailing.example.net', true],
    ['cn.example.net', false], // never the CN
    ['192.0.2.1', true],
    ['192.0.2.2', false],
    ['2001:db8::1', true],
    ['2001:DB8:0:0:0:0:0:1', true],
    ['[2001:db8::1]', true],
    ['2001:db8::2', false],
    ['10.0.0.1', false], // an IP literal only matches iPAddress SANs, not a dNSName
    ['1.0.2.1', false], // wildcards never match IP addresses
    ['', false],
    ['*.example.com', false],
  ];
  for (const [host, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} '${host}'`, () => {
      assert.equal(matchServerName(cert, host), expected);
    });
  }
  it('has no CN fallback when a certificate has no subjectAltName', () => {
    const noSan = build({
      subject: { CN: 'localhost' },
      isCA: false,
      key: pki.leaf.key,
      issuer: pki.intermediate,
    });
    assert.equal(noSan.extensions.subjectAltName, null);
    assert.equal(matchServerName(noSan, 'localhost'), false);
    const r = verify({ chain: [noSan.der, pki.intermediate.der], roots: pki.roots });
    expectError(r, 'bad_certificate', /no DNS or IP subjectAltName/);
  });
});

describe('RFC 5280 §4.1.1.3 signatureValue over the TBS', () => {
  it('a changed byte in the signed part breaks the signature (bad_certificate)', () => {
    const pki = testPki('ec-p256');
    const der = pki.leaf.der.slice();
    const cert = parseCertificate(der);
    // Change one byte inside the serial number (still parses, no longer matches the signature).
    const at = cert.tbs.byteOffset - cert.der.byteOffset + 12;
    der[at] ^= 0x01;
    expectError(
      verify({ chain: [der, pki.intermediate.der], roots: pki.roots }),
      'bad_certificate',
      /signature/,
    );
  });
});
