import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  verify,
} from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import type { CryptoProvider } from '../../../core/crypto/provider.ts';
import { fromHex, toHex, Writer } from '../../../core/wire/buffer.ts';
import {
  KeySchedule,
  Transcript,
  certificateVerifyContent,
  keyLogLine,
} from '../../../core/tls/key-schedule.ts';
import {
  decodeCertificate,
  decodeCertificateVerify,
  decodeClientHello,
  decodeFinished,
  decodeNewSessionTicket,
  encodeClientHello,
  patchBinders,
  truncateClientHello,
} from '../../../core/tls/messages.ts';
import type { ClientHello } from '../../../core/tls/messages.ts';
import { hrr, resumed, simple } from './vectors-tls13-draft07.ts';

const PROVIDERS = [nodeProvider, nobleProvider];
const h = fromHex;

/** X25519 with given private keys: node:crypto for the node run, noble for the noble run. */
function x25519Shared(provider: CryptoProvider, priv: string, peerPub: string): Uint8Array {
  if (provider.name === 'noble') return x25519.getSharedSecret(h(priv), h(peerPub));
  const b64 = (s: string) => Buffer.from(h(s)).toString('base64url');
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64(priv), x: '' },
    format: 'jwk',
  });
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(peerPub) }, format: 'jwk' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

/** P-256 ECDH x-coordinate with given private keys. */
function p256Shared(provider: CryptoProvider, priv: string, peerPub: string): Uint8Array {
  if (provider.name === 'noble') return p256.getSharedSecret(h(priv), h(peerPub)).subarray(1);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(h(priv));
  return new Uint8Array(ecdh.computeSecret(h(peerPub)));
}

/** The RSA-PSS (rsa_pss_rsae_sha256) check of a trace's CertificateVerify, with node:crypto. */
function verifyRsaPss(
  certMsg: string,
  cvMsg: string,
  transcriptHash: Uint8Array,
  side: 'server' | 'client',
): boolean {
  const cert = decodeCertificate(h(certMsg).subarray(4));
  const cv = decodeCertificateVerify(h(cvMsg).subarray(4));
  assert.equal(cv.algorithm, 0x0804);
  const key = new X509Certificate(cert.entries[0].data).publicKey;
  return verify(
    'sha256',
    certificateVerifyContent(transcriptHash, side),
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    cv.signature,
  );
}

const eq = (actual: Uint8Array, expected: string, what: string) =>
  assert.equal(toHex(actual), expected, what);

for (const provider of PROVIDERS) {
  describe(`RFC 8446 §7.1 key schedule, draft-ietf-tls-tls13-vectors-07 §3 Simple 1-RTT (${provider.name})`, () => {
    it('reproduces every secret, Finished and the resumption PSK byte for byte', () => {
      const lines: string[] = [];
      const clientRandom = h(simple.clientHello).subarray(6, 38);
      const ks = new KeySchedule(provider, 'sha256', { keyLog: (l) => lines.push(l), clientRandom });
      const t = new Transcript(provider, 'sha256');

      eq(ks.earlySecret, simple.earlySecret, 'early secret');
      const shared = x25519Shared(provider, simple.serverPrivate, simple.clientPublic);
      eq(shared, simple.sharedSecret, '(EC)DHE, server side');
      eq(
        x25519Shared(provider, simple.clientPrivate, simple.serverPublic),
        simple.sharedSecret,
        'client side',
      );

      t.add(h(simple.clientHello));
      t.add(h(simple.serverHello));
      eq(t.digest(), simple.helloHash, 'Transcript-Hash(ClientHello, ServerHello)');
      eq(ks.deriveHandshakeSecret(shared), simple.handshakeSecret, 'handshake secret');
      const chts = ks.clientHandshakeTrafficSecret(t.digest());
      const shts = ks.serverHandshakeTrafficSecret(t.digest());
      eq(chts, simple.clientHandshakeTrafficSecret, 'c hs traffic');
      eq(shts, simple.serverHandshakeTrafficSecret, 's hs traffic');
      eq(ks.deriveMasterSecret(), simple.masterSecret, 'master secret');

      t.add(h(simple.encryptedExtensions));
      t.add(h(simple.certificate));
      assert.ok(
        verifyRsaPss(simple.certificate, simple.certificateVerify, t.digest(), 'server'),
        'server CV',
      );
      assert.ok(!verifyRsaPss(simple.certificate, simple.certificateVerify, t.digest(), 'client'));
      t.add(h(simple.certificateVerify));
      eq(ks.finishedKey(shts), simple.serverFinishedKey, 'server finished_key');
      const serverVerify = ks.finishedVerifyData(shts, t.digest());
      eq(serverVerify, simple.serverVerifyData, 'server verify_data');
      eq(
        decodeFinished(h(simple.serverFinished).subarray(4), 32).verifyData,
        simple.serverVerifyData,
        'Finished',
      );
      t.add(h(simple.serverFinished));
      eq(t.digest(), simple.serverFinishedHash, 'Transcript-Hash(ClientHello..server Finished)');
      eq(
        ks.clientApplicationTrafficSecret(t.digest()),
        simple.clientApplicationTrafficSecret,
        'c ap traffic',
      );
      eq(
        ks.serverApplicationTrafficSecret(t.digest()),
        simple.serverApplicationTrafficSecret,
        's ap traffic',
      );
      eq(ks.exporterMasterSecret(t.digest()), simple.exporterMasterSecret, 'exp master');

      eq(ks.finishedKey(chts), simple.clientFinishedKey, 'client finished_key');
      eq(ks.finishedVerifyData(chts, t.digest()), simple.clientVerifyData, 'client verify_data');
      t.add(h(simple.clientFinished));
      eq(t.digest(), simple.clientFinishedHash, 'Transcript-Hash(ClientHello..client Finished)');
      const rms = ks.resumptionMasterSecret(t.digest());
      eq(rms, simple.resumptionMasterSecret, 'res master');
      const ticket = decodeNewSessionTicket(h(simple.newSessionTicket).subarray(4));
      eq(ks.resumptionPsk(rms, ticket.nonce), simple.resumptionPsk, 'PSK from the ticket nonce (§4.6.1)');

      const cr = toHex(clientRandom);
      assert.deepEqual(lines, [
        `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${cr} ${simple.clientHandshakeTrafficSecret}`,
        `SERVER_HANDSHAKE_TRAFFIC_SECRET ${cr} ${simple.serverHandshakeTrafficSecret}`,
        `CLIENT_TRAFFIC_SECRET_0 ${cr} ${simple.clientApplicationTrafficSecret}`,
        `SERVER_TRAFFIC_SECRET_0 ${cr} ${simple.serverApplicationTrafficSecret}`,
        `EXPORTER_SECRET ${cr} ${simple.exporterMasterSecret}`,
      ]);
    });
  });

  describe(`RFC 8446 §4.2.11.2 PSK binder and §7.1 early secrets, draft-ietf-tls-tls13-vectors-07 §4 Resumed 0-RTT (${provider.name})`, () => {
    it('the PSK is the one the first handshake derived from its ticket', () => {
      assert.equal(resumed.psk, simple.resumptionPsk);
    });

    it('reproduces the binder over Truncate(ClientHello) and every secret', () => {
      const lines: string[] = [];
      const chBytes = h(resumed.clientHello);
      const ch = decodeClientHello(chBytes.subarray(4));
      const ks = new KeySchedule(provider, 'sha256', { keyLog: (l) => lines.push(l) });
      ks.setClientRandom(ch.random);
      const t = new Transcript(provider, 'sha256');

      eq(ks.deriveEarlySecret(h(resumed.psk)), resumed.earlySecret, 'early secret');
      const binderKey = ks.binderKey('resumption');
      eq(binderKey, resumed.binderKey, 'binder_key ("res binder")');
      eq(ks.finishedKey(binderKey), resumed.binderFinishedKey, 'binder finished_key');

      const psk = ch.extensions.preSharedKey!;
      const truncated = truncateClientHello(chBytes, psk.binders);
      eq(truncated, resumed.clientHelloPrefix, 'Truncate(ClientHello)');
      const binderHash = t.digestWith(truncated);
      eq(binderHash, resumed.binderHash, 'Transcript-Hash(Truncate(ClientHello))');
      const binder = ks.pskBinder(binderKey, binderHash);
      eq(binder, resumed.binder, 'binder');
      eq(psk.binders[0], resumed.binder, 'binder in the ClientHello');

      t.add(chBytes);
      eq(t.digest(), resumed.clientHelloHash, 'Transcript-Hash(ClientHello)');
      eq(ks.clientEarlyTrafficSecret(t.digest()), resumed.clientEarlyTrafficSecret, 'c e traffic');
      eq(ks.earlyExporterMasterSecret(t.digest()), resumed.earlyExporterMasterSecret, 'e exp master');

      t.add(h(resumed.serverHello));
      eq(t.digest(), resumed.helloHash, 'Transcript-Hash(ClientHello, ServerHello)');
      const shared = x25519Shared(provider, resumed.serverPrivate, resumed.clientPublic);
      eq(shared, resumed.sharedSecret, '(EC)DHE');
      eq(ks.deriveHandshakeSecret(shared), resumed.handshakeSecret, 'handshake secret');
      const chts = ks.clientHandshakeTrafficSecret(t.digest());
      const shts = ks.serverHandshakeTrafficSecret(t.digest());
      eq(chts, resumed.clientHandshakeTrafficSecret, 'c hs traffic');
      eq(shts, resumed.serverHandshakeTrafficSecret, 's hs traffic');
      eq(ks.deriveMasterSecret(), resumed.masterSecret, 'master secret');

      t.add(h(resumed.encryptedExtensions));
      eq(ks.finishedKey(shts), resumed.serverFinishedKey, 'server finished_key');
      eq(ks.finishedVerifyData(shts, t.digest()), resumed.serverVerifyData, 'server verify_data');
      t.add(h(resumed.serverFinished));
      eq(t.digest(), resumed.serverFinishedHash, 'Transcript-Hash(..server Finished)');
      eq(
        ks.clientApplicationTrafficSecret(t.digest()),
        resumed.clientApplicationTrafficSecret,
        'c ap traffic',
      );
      eq(
        ks.serverApplicationTrafficSecret(t.digest()),
        resumed.serverApplicationTrafficSecret,
        's ap traffic',
      );
      eq(ks.exporterMasterSecret(t.digest()), resumed.exporterMasterSecret, 'exp master');

      // This trace is TLS over TCP: EndOfEarlyData is in its transcript. QUIC omits it (RFC 9001 §8.3).
      t.add(h(resumed.endOfEarlyData));
      eq(ks.finishedKey(chts), resumed.clientFinishedKey, 'client finished_key');
      eq(ks.finishedVerifyData(chts, t.digest()), resumed.clientVerifyData, 'client verify_data');
      t.add(h(resumed.clientFinished));
      eq(t.digest(), resumed.clientFinishedHash, 'Transcript-Hash(..client Finished)');
      eq(ks.resumptionMasterSecret(t.digest()), resumed.resumptionMasterSecret, 'res master');

      const cr = toHex(ch.random);
      assert.deepEqual(
        lines.map((l) => l.split(' ')[0]),
        [
          'CLIENT_EARLY_TRAFFIC_SECRET',
          'EARLY_EXPORTER_SECRET',
          'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
          'SERVER_HANDSHAKE_TRAFFIC_SECRET',
          'CLIENT_TRAFFIC_SECRET_0',
          'SERVER_TRAFFIC_SECRET_0',
          'EXPORTER_SECRET',
        ],
      );
      assert.equal(lines[0], `CLIENT_EARLY_TRAFFIC_SECRET ${cr} ${resumed.clientEarlyTrafficSecret}`);
    });

    it('a client encodes with placeholder binders, computes the binder, patches it in: the trace bytes', () => {
      const ch = decodeClientHello(h(resumed.clientHello).subarray(4));
      const psk = ch.extensions.preSharedKey!;
      const placeholder: ClientHello = {
        ...ch,
        extensions: { ...ch.extensions, preSharedKey: { ...psk, binders: [new Uint8Array(32)] } },
      };
      const w = new Writer(new Uint8Array(1024));
      const n = encodeClientHello(w, placeholder);
      const msg = w.buf.subarray(0, n);
      const ks = new KeySchedule(provider, 'sha256');
      ks.deriveEarlySecret(h(resumed.psk));
      const truncated = truncateClientHello(msg, [new Uint8Array(32)]);
      eq(truncated, resumed.clientHelloPrefix, 'Truncate(ClientHello) of our encoding');
      const binder = ks.pskBinder(ks.binderKey('resumption'), provider.hash('sha256', truncated));
      patchBinders(msg, [binder]);
      eq(msg, resumed.clientHello, 'patched ClientHello');
      assert.throws(() => patchBinders(msg, [new Uint8Array(48)]), RangeError);
    });
  });

  describe(`RFC 8446 §4.4.1 HelloRetryRequest transcript, draft-ietf-tls-tls13-vectors-07 §5 (${provider.name})`, () => {
    it('replaces ClientHello1 with message_hash and reproduces every secret', () => {
      // The client learns the hash from the HelloRetryRequest's cipher suite: set it late.
      const t = new Transcript(provider);
      t.add(h(hrr.clientHello1));
      assert.throws(() => t.digest(), Error);
      t.setHash('sha256');
      const ch1Hash = t.digest();
      t.replaceWithMessageHash();
      // message_hash = 254 || 00 00 20 || Hash(ClientHello1)
      eq(t.digest(), toHex(provider.hash('sha256', fromHex('fe000020' + toHex(ch1Hash)))), 'message_hash');
      t.add(h(hrr.helloRetryRequest));
      t.add(h(hrr.clientHello2));
      t.add(h(hrr.serverHello));
      eq(t.digest(), hrr.helloHash, 'Transcript-Hash(message_hash, HRR, ClientHello2, ServerHello)');

      const ks = new KeySchedule(provider, 'sha256');
      eq(ks.earlySecret, hrr.earlySecret, 'early secret');
      const shared = p256Shared(provider, hrr.serverP256Private, hrr.clientP256Public);
      eq(shared, hrr.sharedSecret, 'P-256 (EC)DHE');
      eq(p256Shared(provider, hrr.clientP256Private, hrr.serverP256Public), hrr.sharedSecret, 'client side');
      eq(ks.deriveHandshakeSecret(shared), hrr.handshakeSecret, 'handshake secret');
      const chts = ks.clientHandshakeTrafficSecret(t.digest());
      const shts = ks.serverHandshakeTrafficSecret(t.digest());
      eq(chts, hrr.clientHandshakeTrafficSecret, 'c hs traffic');
      eq(shts, hrr.serverHandshakeTrafficSecret, 's hs traffic');
      eq(ks.deriveMasterSecret(), hrr.masterSecret, 'master secret');

      t.add(h(hrr.encryptedExtensions));
      t.add(h(hrr.certificate));
      assert.ok(verifyRsaPss(hrr.certificate, hrr.certificateVerify, t.digest(), 'server'), 'server CV');
      t.add(h(hrr.certificateVerify));
      eq(ks.finishedKey(shts), hrr.serverFinishedKey, 'server finished_key');
      eq(ks.finishedVerifyData(shts, t.digest()), hrr.serverVerifyData, 'server verify_data');
      t.add(h(hrr.serverFinished));
      eq(t.digest(), hrr.serverFinishedHash, 'Transcript-Hash(..server Finished)');
      eq(ks.clientApplicationTrafficSecret(t.digest()), hrr.clientApplicationTrafficSecret, 'c ap traffic');
      eq(ks.serverApplicationTrafficSecret(t.digest()), hrr.serverApplicationTrafficSecret, 's ap traffic');
      eq(ks.exporterMasterSecret(t.digest()), hrr.exporterMasterSecret, 'exp master');
      eq(ks.finishedKey(chts), hrr.clientFinishedKey, 'client finished_key');
      eq(ks.finishedVerifyData(chts, t.digest()), hrr.clientVerifyData, 'client verify_data');
      t.add(h(hrr.clientFinished));
      eq(t.digest(), hrr.clientFinishedHash, 'Transcript-Hash(..client Finished)');
      eq(ks.resumptionMasterSecret(t.digest()), hrr.resumptionMasterSecret, 'res master');
    });
  });

  describe(`RFC 8446 §7.1 key schedule with SHA-384 and without (EC)DHE (${provider.name})`, () => {
    it('secrets are Hash.length long and the stages chain', () => {
      const ks = new KeySchedule(provider, 'sha384');
      assert.equal(ks.hashLength, 48);
      assert.equal(ks.earlySecret.length, 48);
      // RFC 8446 §7.1: HKDF-Extract(0, 0) with Hash.length zeros on both sides.
      assert.deepEqual(
        ks.earlySecret,
        provider.hkdfExtract('sha384', new Uint8Array(48), new Uint8Array(48)),
      );
      assert.throws(() => ks.handshakeSecret, Error);
      const hs = ks.deriveHandshakeSecret(null); // psk_ke: (EC)DHE input is 0
      assert.equal(hs.length, 48);
      assert.throws(() => ks.masterSecret, Error);
      const th = provider.hash('sha384', new Uint8Array(0));
      assert.equal(ks.clientHandshakeTrafficSecret(th).length, 48);
      ks.deriveMasterSecret();
      assert.equal(ks.resumptionMasterSecret(th).length, 48);
      assert.equal(ks.finishedVerifyData(hs, th).length, 48);
      assert.notDeepEqual(ks.binderKey('external'), ks.binderKey('resumption'));
    });

    it('a key log needs the client random', () => {
      const ks = new KeySchedule(provider, 'sha256', { keyLog: () => {} });
      ks.deriveHandshakeSecret(new Uint8Array(32));
      assert.throws(() => ks.clientHandshakeTrafficSecret(new Uint8Array(32)), Error);
    });
  });
}

describe('RFC 8446 §4.4.3 CertificateVerify signed content', () => {
  it('is 64 spaces, the context string, a zero byte and the transcript hash', () => {
    const hash = new Uint8Array(32).fill(0xab);
    for (const side of ['server', 'client'] as const) {
      const c = certificateVerifyContent(hash, side);
      assert.equal(c.length, 64 + 33 + 1 + 32);
      assert.ok(c.subarray(0, 64).every((b) => b === 0x20));
      assert.equal(Buffer.from(c.subarray(64, 97)).toString('latin1'), `TLS 1.3, ${side} CertificateVerify`);
      assert.equal(c[97], 0);
      assert.deepEqual(c.subarray(98), hash);
    }
  });
});

describe('SSLKEYLOGFILE lines', () => {
  it('are LABEL <client_random hex> <secret hex>', () => {
    assert.equal(
      keyLogLine('CLIENT_TRAFFIC_SECRET_0', fromHex('0102'), fromHex('a0b0')),
      'CLIENT_TRAFFIC_SECRET_0 0102 a0b0',
    );
  });
});
