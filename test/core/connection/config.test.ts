import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Config, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/connection/config.ts';
import { MemoryTracer } from '../../../core/trace/tracer.ts';
import { testPki } from '../../helpers/certs.ts';

describe('Config', () => {
  it('has the documented defaults', () => {
    const c = new Config();
    assert.equal(c.version, QUIC_VERSION_1);
    assert.equal(c.verify, true);
    assert.equal(c.maxIdleTimeout, 30_000);
    assert.equal(c.initialMaxData, 16 * 1024 * 1024);
    assert.equal(c.initialMaxStreamDataBidiLocal, 1024 * 1024);
    assert.equal(c.initialMaxStreamsBidi, 100);
    assert.equal(c.initialMaxStreamsUni, 100);
    assert.equal(c.congestionControl, 'cubic');
    assert.equal(c.pacing, true);
    assert.equal(new Config(QUIC_VERSION_2).version, QUIC_VERSION_2);
  });

  it('rejects bad arguments with RangeError / TypeError (RFC 9000 §18.2 limits)', () => {
    const c = new Config();
    assert.throws(() => new Config(0x1a2a3a4a), RangeError);
    assert.throws(() => c.setMaxUdpPayloadSize(1199), RangeError);
    assert.throws(() => c.setAckDelayExponent(21), RangeError);
    assert.throws(() => c.setMaxAckDelay(2 ** 14), RangeError);
    assert.throws(() => c.setActiveConnectionIdLimit(1), RangeError);
    assert.throws(() => c.setInitialMaxStreamsBidi(2 ** 60 + 2 ** 50), RangeError);
    assert.throws(() => c.setMaxIdleTimeout(-1), RangeError);
    assert.throws(() => c.setMaxIdleTimeout(1.5), TypeError);
    assert.throws(() => c.setApplicationProtos(['']), RangeError);
    assert.throws(() => c.setApplicationProtos(['x'.repeat(256)]), RangeError);
    assert.throws(() => c.setCongestionControl('bbr' as 'cubic'), RangeError);
    assert.throws(() => c.setCryptoProvider('openssl' as 'node'), RangeError);
    assert.throws(() => c.setTicketKey(new Uint8Array(16)), RangeError);
    assert.throws(() => c.setStatelessResetKey(new Uint8Array(8)), RangeError);
    assert.throws(() => c.setCipherSuites(['TLS_AES_128_CCM_8_SHA256']), RangeError);
    assert.throws(() => c.setGroups(['x448' as 'x25519']), RangeError);
    assert.throws(() => c.setTracer({} as MemoryTracer), TypeError);
    assert.throws(() => c.verifyPeer('yes' as unknown as boolean), TypeError);
    assert.throws(() => c.setCaCertificates('not a pem'), RangeError);
  });

  it('parses certificates and keys once, and accepts suites by name or code', () => {
    const pki = testPki('ec-p256');
    const c = new Config();
    c.setCertificateChain(pki.chainPem);
    assert.equal(c.certificateChain.length, 2);
    c.setPrivateKey(pki.leaf.keyPem);
    const k1 = c.privateKey(c.provider());
    assert.equal(c.privateKey(c.provider()), k1);
    c.setCaCertificates(pki.root.pem);
    assert.equal(c.trustAnchors().length, 1);
    c.setCipherSuites(['TLS_CHACHA20_POLY1305_SHA256', 0x1301]);
    assert.deepEqual(c.cipherSuites, [0x1303, 0x1301]);
    c.setTracer(new MemoryTracer());
    assert.equal(c.tracer.enabled, true);
  });

  it('falls back to the system roots, parsed once', () => {
    const c = new Config();
    const roots = c.trustAnchors();
    assert.ok(roots.length > 10);
    assert.equal(new Config().trustAnchors(), roots);
  });
});
