// core/tls/certgen.ts, cross-checked both ways against OpenSSL (spawned) and node's X509Certificate.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import type { CryptoProvider } from '../../../core/crypto/provider.ts';
import { createCertificate } from '../../../core/tls/certgen.ts';
import { OID, parseCertificate, parseCertificatesPem } from '../../../core/tls/x509.ts';
import { verifyChain } from '../../../core/tls/x509-verify.ts';
import { TEST_KEY_TYPES, TEST_NOW, VALID_FROM, VALID_UNTIL, testPki } from '../../helpers/certs.ts';

const dir = mkdtempSync(join(tmpdir(), 'quicscope-x509-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe('certgen: certificates we build are accepted by OpenSSL and node', () => {
  for (const keyType of TEST_KEY_TYPES) {
    describe(`${keyType}`, () => {
      const pki = testPki(keyType);
      const f = (name: string, text: string) => write(`${keyType}-${name}.pem`, text);
      const root = f('root', pki.root.pem);
      const int = f('int', pki.intermediate.pem);
      const leaf = f('leaf', pki.leaf.pem);

      it('openssl x509 -text shows the extensions we meant', () => {
        const r = openssl('x509', '-noout', '-text', '-in', leaf);
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /Version: 3 \(0x2\)/);
        assert.match(r.out, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
        assert.match(r.out, /X509v3 Key Usage: critical\s+Digital Signature\n/);
        assert.match(r.out, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
        assert.match(r.out, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
        assert.match(r.out, /Not Before: Jan {2}1 00:00:00 1950 GMT/);
        assert.match(r.out, /Not After : Dec 31 23:59:59 9999 GMT/);
        assert.match(r.out, /Subject: O = quicscope, CN = localhost/);
        const ca = openssl('x509', '-noout', '-text', '-in', int);
        assert.match(ca.out, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
        assert.match(ca.out, /Certificate Sign, CRL Sign/);
      });
      it('openssl verify accepts leaf ← intermediate ← root for a TLS server named localhost', () => {
        const r = openssl(
          'verify',
          ...['-CAfile', root, '-untrusted', int, '-purpose', 'sslserver'],
          ...['-verify_hostname', 'localhost', '-x509_strict', leaf],
        );
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /: OK/);
        const ip = openssl('verify', '-CAfile', root, '-untrusted', int, '-verify_ip', '::1', leaf);
        assert.equal(ip.status, 0, ip.out);
        const direct = openssl('verify', '-CAfile', root, f('direct', pki.leafDirect.pem));
        assert.equal(direct.status, 0, direct.out);
      });
      it('openssl verify rejects what we reject: expired, not yet valid, unknown CA, wrong host', () => {
        const expired = openssl('verify', '-CAfile', root, '-untrusted', int, f('expired', pki.expired.pem));
        assert.notEqual(expired.status, 0);
        assert.match(expired.out, /certificate has expired/);
        const future = openssl(
          'verify',
          '-CAfile',
          root,
          '-untrusted',
          int,
          f('future', pki.notYetValid.pem),
        );
        assert.match(future.out, /certificate is not yet valid/);
        const unknown = openssl('verify', '-CAfile', root, f('unknown', pki.unknownCa.pem));
        assert.notEqual(unknown.status, 0);
        const host = openssl(
          'verify',
          ...['-CAfile', root, '-untrusted', int, '-verify_hostname', 'localhost'],
          f('wronghost', pki.wrongHost.pem),
        );
        assert.match(host.out, /hostname mismatch/);
      });
      it('openssl verify accepts the self-signed leaf as its own trust anchor (quicscope serve)', () => {
        const self = f('self', pki.selfSigned.pem);
        const r = openssl(
          'verify',
          '-CAfile',
          self,
          '-purpose',
          'sslserver',
          '-verify_hostname',
          'localhost',
          self,
        );
        assert.equal(r.status, 0, r.out);
      });
      it("node's X509Certificate parses it, checkHost/checkIP pass, and each signature verifies", () => {
        const x = new X509Certificate(pki.leaf.der);
        const xi = new X509Certificate(pki.intermediate.der);
        const xr = new X509Certificate(pki.root.der);
        assert.equal(x.checkHost('localhost'), 'localhost');
        assert.equal(x.checkHost('example.com'), undefined);
        assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
        assert.equal(x.checkIP('::1'), '::1');
        assert.equal(x.verify(xi.publicKey), true);
        assert.equal(x.verify(xr.publicKey), false);
        assert.equal(xi.verify(xr.publicKey), true);
        assert.equal(xr.verify(xr.publicKey), true);
        assert.equal(x.ca, false);
        assert.equal(xi.ca, true);
        assert.ok(x.checkIssued(xi));
        assert.equal(x.serialNumber.toLowerCase(), pki.leaf.cert.serial);
        assert.deepEqual(
          new Uint8Array(x.publicKey.export({ type: 'spki', format: 'der' })),
          pki.leaf.cert.publicKey.spki,
        );
      });
    });
  }

  it('encodes times before 2050 as UTCTime and from 2050 as GeneralizedTime (RFC 5280 §4.1.2.5)', () => {
    const pki = testPki('ec-p256');
    const make = (notBefore: number, notAfter: number) =>
      createCertificate({
        subject: { CN: 't' },
        notBefore,
        notAfter,
        isCA: false,
        key: pki.leaf.key,
        provider: nodeProvider,
      });
    const a = make(Date.UTC(2049, 11, 31, 23, 59, 59, 999), Date.UTC(2050, 0, 1));
    assert.equal(a.cert.notBefore, Date.UTC(2049, 11, 31, 23, 59, 59)); // milliseconds truncated
    assert.equal(a.cert.notAfter, Date.UTC(2050, 0, 1));
    const hex = Buffer.from(a.der).toString('hex');
    assert.ok(hex.includes(Buffer.from('491231235959Z').toString('hex')));
    assert.ok(hex.includes(`180f${Buffer.from('20500101000000Z').toString('hex')}`));
    const x = new X509Certificate(a.der);
    assert.equal(x.validTo, 'Jan  1 00:00:00 2050 GMT');
  });
  it('takes a serial number and a clientAuth purpose', () => {
    const pki = testPki('ec-p256');
    const c = createCertificate({
      subject: { CN: 'client' },
      notBefore: VALID_FROM,
      notAfter: VALID_UNTIL,
      isCA: false,
      key: pki.leaf.key,
      issuer: pki.intermediate,
      provider: nodeProvider,
      serial: 0x1234,
      extKeyUsage: ['clientAuth'],
    }).cert;
    assert.equal(c.serial, '1234');
    assert.deepEqual(c.extensions.extKeyUsage, [OID.clientAuth]);
    assert.equal(c.subject.text, 'CN=client');
  });
  it('signs with the noble provider too (noble keys, noble signatures)', () => {
    for (const keyType of ['ec-p256', 'ec-p384', 'ed25519'] as const) {
      const pki = testPki(keyType, nobleProvider);
      const leaf = createCertificate({
        subject: { CN: 'localhost' },
        sans: { dns: ['localhost'] },
        notBefore: VALID_FROM,
        notAfter: VALID_UNTIL,
        isCA: false,
        key: pki.leaf.key,
        issuer: pki.intermediate,
        provider: nobleProvider,
      });
      for (const provider of [nodeProvider, nobleProvider]) {
        const r = verifyChain({
          chain: [leaf.der, pki.intermediate.der],
          serverName: 'localhost',
          now: TEST_NOW,
          roots: pki.roots,
          provider,
        });
        assert.ok(r.ok, `${keyType} ${provider.name}: ${r.ok ? '' : r.error.message}`);
      }
      assert.equal(
        new X509Certificate(leaf.der).verify(new X509Certificate(pki.intermediate.der).publicKey),
        true,
      );
    }
  });
  it('raises RangeError for a caller mistake', () => {
    const pki = testPki('ec-p256');
    const base = {
      subject: { CN: 'x' },
      notBefore: VALID_FROM,
      notAfter: VALID_UNTIL,
      isCA: false,
      key: pki.leaf.key,
      provider: nodeProvider,
    };
    assert.throws(
      () => createCertificate({ ...base, issuer: { cert: pki.root.cert, key: pki.leaf.key } }),
      RangeError,
    );
    assert.throws(() => createCertificate({ ...base, sans: { ip: ['localhost'] } }), RangeError);
    assert.throws(() => createCertificate({ ...base, sans: { dns: ['a b'] } }), RangeError);
    assert.throws(() => createCertificate({ ...base, notAfter: VALID_FROM - 1 }), RangeError);
    assert.throws(() => createCertificate({ ...base, notBefore: Date.UTC(1949, 0, 1) }), RangeError);
    assert.throws(() => createCertificate({ ...base, serial: 0 }), RangeError);
    assert.throws(() => createCertificate({ ...base, serial: new Uint8Array(21).fill(1) }), RangeError);
    assert.throws(() => createCertificate({ ...base, serial: new Uint8Array(20).fill(0x80) }), RangeError);
    assert.throws(() => createCertificate({ ...base, isCA: true, pathLen: -1 }), RangeError);
  });
});

describe('certificates made by OpenSSL parse and verify with our code', () => {
  interface Case {
    name: string;
    newkey: string[];
    sign: string[];
    expect: { keyType: string; sigAlg: string } | { unsupported: RegExp };
    providers: CryptoProvider[];
  }
  const both = [nodeProvider, nobleProvider];
  const cases: Case[] = [
    {
      name: 'P-256',
      newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      sign: ['-sha256'],
      expect: { keyType: 'ec-p256', sigAlg: 'ecdsa-with-SHA256' },
      providers: both,
    },
    {
      name: 'P-384 with SHA-384',
      newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      sign: ['-sha384'],
      expect: { keyType: 'ec-p384', sigAlg: 'ecdsa-with-SHA384' },
      providers: both,
    },
    {
      name: 'RSA 2048 PKCS#1 v1.5 SHA-256',
      newkey: ['-newkey', 'rsa:2048'],
      sign: ['-sha256'],
      expect: { keyType: 'rsa', sigAlg: 'sha256WithRSAEncryption' },
      providers: [nodeProvider],
    },
    {
      name: 'RSA 2048 RSASSA-PSS SHA-256 salt 32',
      newkey: ['-newkey', 'rsa:2048'],
      sign: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
      expect: { keyType: 'rsa', sigAlg: 'RSASSA-PSS' },
      providers: [nodeProvider],
    },
    {
      name: 'Ed25519',
      newkey: ['-newkey', 'ed25519'],
      sign: [],
      expect: { keyType: 'ed25519', sigAlg: 'Ed25519' },
      providers: both,
    },
    {
      name: 'P-384 CA signing with SHA-256 (RFC 5758)',
      newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      sign: ['-sha256'],
      expect: { keyType: 'ec-p384', sigAlg: 'ecdsa-with-SHA256' },
      providers: both,
    },
    {
      name: 'RSA CA signing with SHA-384',
      newkey: ['-newkey', 'rsa:2048'],
      sign: ['-sha384'],
      expect: { keyType: 'rsa', sigAlg: 'sha384WithRSAEncryption' },
      providers: [nodeProvider],
    },
    {
      name: 'RSA-PSS SHA-256 with salt 20',
      newkey: ['-newkey', 'rsa:2048'],
      sign: ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20'],
      expect: { keyType: 'rsa', sigAlg: 'RSASSA-PSS' },
      providers: [nodeProvider],
    },
    {
      name: 'RSA CA signing with SHA-1',
      newkey: ['-newkey', 'rsa:2048'],
      sign: ['-sha1'],
      expect: { unsupported: /sha1WithRSAEncryption/ },
      providers: [nodeProvider],
    },
  ];
  cases.forEach((c, i) => {
    it(`${c.name}: CA and leaf from openssl req / x509 -req`, () => {
      const p = `o${i}-`;
      let r = openssl(
        ...['req', '-x509', ...c.newkey, '-keyout', `${p}ca.key`, '-out', `${p}ca.pem`, '-nodes'],
        ...['-subj', `/CN=openssl CA ${i}/O=interop`, '-days', '30', ...c.sign],
        ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      );
      assert.equal(r.status, 0, r.out);
      r = openssl(
        ...['req', '-new', ...c.newkey, '-keyout', `${p}leaf.key`, '-out', `${p}leaf.csr`, '-nodes'],
        ...['-subj', '/CN=localhost'],
      );
      assert.equal(r.status, 0, r.out);
      const ext = write(
        `${p}ext.cnf`,
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' +
          'keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' +
          'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
      );
      r = openssl(
        ...['x509', '-req', '-in', `${p}leaf.csr`, '-CA', `${p}ca.pem`, '-CAkey', `${p}ca.key`],
        ...['-set_serial', '4660', '-days', '30', '-out', `${p}leaf.pem`, '-extfile', ext, ...c.sign],
      );
      assert.equal(r.status, 0, r.out);
      const [ca] = parseCertificatesPem(readFileSync(join(dir, `${p}ca.pem`), 'utf8'));
      const [leaf] = parseCertificatesPem(readFileSync(join(dir, `${p}leaf.pem`), 'utf8'));
      assert.equal(leaf.serial, '1234');
      assert.equal(leaf.subject.text, 'CN=localhost');
      assert.equal(leaf.issuer.text, `O=interop, CN=openssl CA ${i}`);
      assert.deepEqual(leaf.extensions.subjectAltName?.ip, ['127.0.0.1', '::1']);
      assert.deepEqual(leaf.extensions.authorityKeyIdentifier, ca.extensions.subjectKeyIdentifier);
      for (const provider of c.providers) {
        const res = verifyChain({
          chain: [leaf.der],
          serverName: 'localhost',
          now: Date.now(),
          roots: [ca],
          provider,
        });
        if ('unsupported' in c.expect) {
          assert.ok(
            !res.ok && res.error.reason === 'unsupported_certificate',
            `${provider.name}: ${JSON.stringify(res.ok || res.error.message)}`,
          );
          assert.match(res.error.message, c.expect.unsupported);
        } else {
          assert.ok(res.ok, `${provider.name}: ${res.ok ? '' : res.error.message}`);
          assert.equal(leaf.publicKey.type, c.expect.keyType);
          assert.equal(leaf.signatureAlgorithm.name, c.expect.sigAlg);
          // And a tampered copy is rejected.
          const bad = leaf.der.slice();
          bad[bad.length - 3] ^= 0x10;
          const tampered = verifyChain({
            chain: [bad],
            serverName: 'localhost',
            now: Date.now(),
            roots: [ca],
            provider,
          });
          assert.ok(!tampered.ok && tampered.error.reason === 'bad_certificate');
        }
      }
    });
  });

  it('our builder issues a leaf under an OpenSSL CA (its key imported by the provider), and OpenSSL verifies it', () => {
    for (const [i, newkey] of [
      ['e', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
      ['r', ['-newkey', 'rsa:2048']],
    ] as const) {
      const r = openssl(
        ...['req', '-x509', ...newkey, '-keyout', `x${i}-ca.key`, '-out', `x${i}-ca.pem`, '-nodes'],
        ...['-subj', '/CN=openssl issuer', '-days', '30'],
      );
      assert.equal(r.status, 0, r.out);
      const caCert = parseCertificate(
        parseCertificatesPem(readFileSync(join(dir, `x${i}-ca.pem`), 'utf8'))[0].der,
      );
      const caKey = nodeProvider.importPrivateKey(readFileSync(join(dir, `x${i}-ca.key`), 'utf8'));
      const leaf = createCertificate({
        subject: { CN: 'localhost' },
        sans: { dns: ['localhost'] },
        notBefore: Date.now() - 60_000,
        notAfter: Date.now() + 86_400_000,
        isCA: false,
        key: testPki('ed25519').leaf.key,
        issuer: { cert: caCert, key: caKey },
        provider: nodeProvider,
      });
      const v = openssl(
        ...['verify', '-CAfile', `x${i}-ca.pem`, '-purpose', 'sslserver', '-verify_hostname', 'localhost'],
        write(`x${i}-leaf.pem`, leaf.pem),
      );
      assert.equal(v.status, 0, v.out);
    }
  });
});
