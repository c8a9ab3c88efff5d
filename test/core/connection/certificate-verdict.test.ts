import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { bytesEqual } from '../../../core/wire/buffer.ts';
import { testPki } from '../../helpers/certs.ts';
import { Pair, configs } from './pair.ts';

// RFC 9001 §4.8: a TLS alert becomes CRYPTO_ERROR 0x100 + alert.
const BAD_CERTIFICATE = 0x100 + 42;
const UNKNOWN_CA = 0x100 + 48;

/** Runs until both sides are closed (a failed handshake). */
function runToClose(p: Pair): void {
  p.runUntil(() => p.client.isClosed() && (p.server?.isClosed() ?? false), 10_000);
}

function sameChain(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((der, i) => bytesEqual(der, b[i]));
}

describe('RFC 9001 §4.4 / RFC 8446 §4.4.2.4: the peer certificate chain and its verdict', () => {
  it('a chain for another name is rejected (bad_certificate) and still reported with its verdict', () => {
    const pki = testPki('ec-p256');
    const tracer = new MemoryTracer();
    const p = new Pair(
      configs((c) => c.setTracer(tracer)),
      'example.org',
    );
    runToClose(p);
    assert.equal(p.client.localError()?.code, BAD_CERTIFICATE);
    assert.equal(p.client.isEstablished(), false);
    assert.ok(sameChain(p.client.peerCertificateChain(), pki.chain), 'the chain the server sent, leaf first');
    const v = p.client.peerCertificateVerdict();
    assert.equal(v?.ok, false);
    assert.equal(v?.reason, 'bad_certificate');
    assert.match(v?.message ?? '', /example\.org/);
    assert.notEqual(v?.ignored, true);
    // The Certificate message read before the alert is traced too.
    const received = tracer
      .all()
      .filter((e) => e.name === 'quicscope:tls_message' && e.data.direction === 'received')
      .map((e) => (e.name === 'quicscope:tls_message' ? e.data.message_type : ''));
    assert.ok(received.includes('certificate'), `certificate in ${received.join(', ')}`);
  });

  it('a chain from an unknown CA is rejected (unknown_ca) with the chain kept', () => {
    const pki = testPki('ec-p256');
    const p = new Pair(configs((c) => c.setCaCertificates(pki.unknownRoot.pem)));
    runToClose(p);
    assert.equal(p.client.localError()?.code, UNKNOWN_CA);
    assert.ok(sameChain(p.client.peerCertificateChain(), pki.chain));
    assert.equal(p.client.peerCertificateVerdict()?.reason, 'unknown_ca');
    assert.equal(p.client.isEstablished(), false);
  });

  it('a verified chain has verdict ok; insecure mode marks a failure as ignored', () => {
    const pki = testPki('ec-p256');
    const p = new Pair();
    assert.equal(p.client.peerCertificateVerdict(), null, 'none before the server spoke');
    p.handshake();
    assert.deepEqual(p.client.peerCertificateVerdict(), { ok: true });
    assert.ok(sameChain(p.client.peerCertificateChain(), pki.chain));

    const q = new Pair(
      configs((c) => {
        c.verifyPeer(false);
        c.setCaCertificates(pki.unknownRoot.pem);
      }),
    );
    q.handshake();
    const v = q.client.peerCertificateVerdict();
    assert.equal(v?.ok, false);
    assert.equal(v?.reason, 'unknown_ca');
    assert.equal(v?.ignored, true);
  });
});
