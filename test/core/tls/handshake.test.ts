import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import type { CryptoProvider, KeyType, NamedGroup } from '../../../core/crypto/provider.ts';
import { toHex } from '../../../core/wire/buffer.ts';
import { cipherSuiteParams } from '../../../core/tls/constants.ts';
import { decodeClientHello } from '../../../core/tls/messages.ts';
import { testPki } from '../../helpers/certs.ts';
import { AlertDescription } from '../../../core/tls/alerts.ts';
import {
  CLIENT_TP,
  assertAlert,
  SERVER_TP,
  assertComplete,
  drive,
  eventsOf,
  keysOf,
  messagesOf,
  tlsPair,
} from '../../helpers/tls-pair.ts';
import type { TlsPair } from '../../helpers/tls-pair.ts';

const SUITES = [0x1301, 0x1302, 0x1303];
const GROUPS: NamedGroup[] = ['x25519', 'secp256r1'];

/** RFC 9001 §5.1: each direction's secret on one side is the other direction's on the other. */
function assertSecretsMatch(pair: TlsPair, levels = ['handshake', 'application']): void {
  const c = keysOf(pair.clientEvents);
  const s = keysOf(pair.serverEvents);
  for (const level of levels) {
    assert.ok(c.has(`${level}/write`) && c.has(`${level}/read`), `client ${level} keys`);
    assert.equal(c.get(`${level}/write`), s.get(`${level}/read`), `${level} client→server`);
    assert.equal(c.get(`${level}/read`), s.get(`${level}/write`), `${level} server→client`);
    assert.notEqual(c.get(`${level}/read`), c.get(`${level}/write`));
  }
}

describe('RFC 8446 §2 full handshake over QUIC (RFC 9001 §4)', () => {
  for (const suite of SUITES) {
    for (const group of GROUPS) {
      const name = cipherSuiteParams(suite)!.name;
      it(`completes with ${name} and ${group}; both sides derive the same secrets`, () => {
        const pair = tlsPair({
          client: { cipherSuites: [suite], groups: [group] },
          server: { groups: [group] },
        });
        const r = drive(pair);
        assertComplete(pair, r);
        assertSecretsMatch(pair);
        for (const side of [pair.client, pair.server]) {
          assert.equal(side.cipherSuite, suite);
          assert.equal(side.group, group);
          assert.equal(side.alpn, 'h3');
          assert.equal(side.resumed, false);
          assert.equal(side.earlyData, 'not_offered');
        }
        const secretLength = cipherSuiteParams(suite)!.hashLength * 2;
        for (const ev of eventsOf(pair.clientEvents, 'keys')) {
          assert.equal(ev.cipherSuite, suite);
          assert.equal(ev.secret.length * 2, secretLength);
        }
      });
    }
  }

  it('exchanges the messages of RFC 8446 §2 Figure 1, in order, at the right levels', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    assert.deepEqual(messagesOf(pair.clientEvents), [
      'sent:client_hello',
      'received:server_hello',
      'received:encrypted_extensions',
      'received:certificate',
      'received:certificate_verify',
      'received:finished',
      'sent:finished',
      'received:new_session_ticket',
    ]);
    assert.deepEqual(messagesOf(pair.serverEvents), [
      'received:client_hello',
      'sent:server_hello',
      'sent:encrypted_extensions',
      'sent:certificate',
      'sent:certificate_verify',
      'sent:finished',
      'received:finished',
      'sent:new_session_ticket',
    ]);
    const levels = pair.wire.map((m) => `${m.from}:${m.level}:${m.data[0]}`);
    assert.deepEqual(levels, [
      'client:initial:1',
      'server:initial:2',
      'server:handshake:8',
      'server:handshake:11',
      'server:handshake:15',
      'server:handshake:20',
      'client:handshake:20',
      'server:application:4',
    ]);
    // The 'message' event lengths are the wire lengths.
    const sent = eventsOf(pair.serverEvents, 'message').filter((m) => m.direction === 'sent');
    assert.deepEqual(
      sent.map((m) => m.length),
      pair.wire.filter((m) => m.from === 'server').map((m) => m.data.length),
    );
  });

  it('emits keys in order: client handshake after ServerHello, 1-RTT read after the server Finished, write after its own', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    const order = (events: typeof pair.clientEvents) =>
      events
        .filter(
          (e) =>
            e.kind !== 'alpn' && e.kind !== 'peer_transport_parameters' && e.kind !== 'peer_certificates',
        )
        .map((e) =>
          e.kind === 'keys'
            ? `keys:${e.level}/${e.direction}`
            : e.kind === 'message'
              ? `${e.direction}:${e.type}`
              : e.kind,
        )
        .filter((e) => e !== 'handshake_data');
    assert.deepEqual(order(pair.clientEvents), [
      'sent:client_hello',
      'received:server_hello',
      'keys:handshake/read',
      'keys:handshake/write',
      'received:encrypted_extensions',
      'received:certificate',
      'received:certificate_verify',
      'received:finished',
      'keys:application/read',
      'sent:finished',
      'keys:application/write',
      'handshake_complete',
      'received:new_session_ticket',
      'ticket',
    ]);
    assert.deepEqual(order(pair.serverEvents), [
      'received:client_hello',
      'sent:server_hello',
      'keys:handshake/write',
      'keys:handshake/read',
      'sent:encrypted_extensions',
      'sent:certificate',
      'sent:certificate_verify',
      'sent:finished',
      'keys:application/write',
      'received:finished',
      'keys:application/read',
      'handshake_complete',
      'sent:new_session_ticket',
    ]);
  });

  it('delivers each side the other side’s transport parameters and the ALPN (RFC 9001 §8)', () => {
    const pair = tlsPair({
      client: { alpnProtocols: ['hq-interop', 'h3'] },
      server: { alpnProtocols: ['h3', 'hq-interop'] },
    });
    assertComplete(pair, drive(pair));
    assert.deepEqual(eventsOf(pair.clientEvents, 'peer_transport_parameters')[0].data, SERVER_TP);
    assert.deepEqual(eventsOf(pair.serverEvents, 'peer_transport_parameters')[0].data, CLIENT_TP);
    // The server picks by its own preference among those the client offered.
    assert.equal(eventsOf(pair.clientEvents, 'alpn')[0].protocol, 'h3');
    assert.equal(eventsOf(pair.serverEvents, 'alpn')[0].protocol, 'h3');
  });

  it('sends a ClientHello fit for QUIC: TLS 1.3 only, empty session id, quic_transport_parameters, SNI', () => {
    const pair = tlsPair();
    pair.client.start(pair.now);
    const ev = eventsOf([pair.client.poll()!, pair.client.poll()!], 'handshake_data')[0];
    assert.equal(ev.level, 'initial');
    // legacy_version 0x0303, random, legacy_session_id empty (RFC 9001 §8.4)
    assert.equal(toHex(ev.data.subarray(4, 6)), '0303');
    assert.equal(ev.data[4 + 2 + 32], 0);
    const ch = decodeClientHello(ev.data.subarray(4));
    const x = ch.extensions;
    assert.deepEqual(x.supportedVersions, [0x0304]);
    assert.deepEqual(ch.cipherSuites, SUITES);
    assert.deepEqual(x.supportedGroups, [0x1d, 0x17]);
    assert.deepEqual(
      x.keyShares?.map((k) => k.group),
      [0x1d],
    );
    assert.deepEqual(x.signatureAlgorithms, [0x0403, 0x0503, 0x0804, 0x0807]);
    assert.deepEqual(x.signatureAlgorithmsCert, [0x0403, 0x0503, 0x0804, 0x0807, 0x0401]);
    assert.deepEqual(x.alpn, ['h3']);
    assert.equal(x.serverName, 'localhost');
    assert.deepEqual(x.pskKeyExchangeModes, [1]);
    assert.deepEqual(x.quicTransportParameters, CLIENT_TP);
    assert.equal(x.preSharedKey, undefined);
    assert.equal(x.earlyData, undefined);
  });

  it('verifies an IP literal against the IP SAN without sending it as SNI (RFC 6066 §3)', () => {
    const pair = tlsPair({ client: { serverName: '127.0.0.1' } });
    assertComplete(pair, drive(pair));
    assert.equal(pair.server.serverName, null);
    assert.deepEqual(eventsOf(pair.clientEvents, 'peer_certificates')[0].verdict, { ok: true });
  });

  it('reports the SNI it received and the peer chain it verified', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    assert.equal(pair.server.serverName, 'localhost');
    const pki = testPki('ec-p256');
    const certs = eventsOf(pair.clientEvents, 'peer_certificates');
    assert.equal(certs.length, 1);
    assert.deepEqual(certs[0].chain, pki.chain);
    assert.deepEqual(certs[0].verdict, { ok: true });
    assert.deepEqual(pair.client.peerCertificates, pki.chain);
  });

  it('writes one SSLKEYLOGFILE line per secret, the same on both sides', () => {
    const pair = tlsPair();
    assertComplete(pair, drive(pair));
    const labels = pair.clientKeylog.map((l) => l.split(' ')[0]);
    assert.deepEqual(labels, [
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'SERVER_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
    ]);
    assert.deepEqual([...pair.serverKeylog].sort(), [...pair.clientKeylog].sort());
    const c = keysOf(pair.clientEvents);
    assert.ok(pair.clientKeylog[0].endsWith(c.get('handshake/write')!));
    assert.ok(pair.clientKeylog[2].endsWith(c.get('application/write')!));
  });
});

describe('RFC 8446 §4.1.4 HelloRetryRequest', () => {
  const cases: [string, NamedGroup[], NamedGroup[], NamedGroup][] = [
    [
      'client sends an X25519 share, the server accepts only P-256',
      ['x25519', 'secp256r1'],
      ['secp256r1'],
      'secp256r1',
    ],
    [
      'client sends a P-256 share, the server accepts only X25519',
      ['secp256r1', 'x25519'],
      ['x25519'],
      'x25519',
    ],
  ];
  for (const [title, clientGroups, serverGroups, expected] of cases) {
    it(title, () => {
      const pair = tlsPair({ client: { groups: clientGroups }, server: { groups: serverGroups } });
      const r = drive(pair);
      assertComplete(pair, r);
      assertSecretsMatch(pair);
      assert.equal(pair.client.group, expected);
      assert.equal(pair.server.group, expected);
      assert.deepEqual(messagesOf(pair.clientEvents).slice(0, 4), [
        'sent:client_hello',
        'received:hello_retry_request',
        'sent:client_hello',
        'received:server_hello',
      ]);
      const second = pair.wire.filter((m) => m.from === 'client')[1];
      const ch2 = decodeClientHello(second.data.subarray(4));
      assert.deepEqual(
        ch2.extensions.keyShares?.map((k) => k.group),
        [expected === 'x25519' ? 0x1d : 0x17],
      );
    });
  }

  it('prefers a share the client already sent over a round trip for the server’s first choice', () => {
    const pair = tlsPair({ server: { groups: ['secp256r1', 'x25519'] } });
    assertComplete(pair, drive(pair));
    assert.equal(pair.server.group, 'x25519');
    assert.ok(!messagesOf(pair.clientEvents).includes('received:hello_retry_request'));
  });
});

describe('RFC 8446 §4.4.2, §4.4.3 server certificates of every key type', () => {
  const types: KeyType[] = ['ec-p256', 'ec-p384', 'ed25519', 'rsa'];
  for (const keyType of types) {
    it(`authenticates a server with a ${keyType} certificate`, () => {
      const pair = tlsPair({ keyType });
      assertComplete(pair, drive(pair));
      assertSecretsMatch(pair);
      const cv = pair.wire.find((m) => m.data[0] === 15)!;
      const scheme = (cv.data[4] << 8) | cv.data[5];
      const expected = { 'ec-p256': 0x0403, 'ec-p384': 0x0503, ed25519: 0x0807, rsa: 0x0804 }[keyType];
      assert.equal(scheme, expected, 'the CertificateVerify scheme fits the key (RSA: PSS)');
    });
  }
});

describe('crypto providers (node and noble, and mixed)', () => {
  const combos: [string, CryptoProvider, CryptoProvider, KeyType][] = [
    ['noble client, noble server, ECDSA P-256', nobleProvider, nobleProvider, 'ec-p256'],
    ['noble client, noble server, Ed25519', nobleProvider, nobleProvider, 'ed25519'],
    ['noble client, node server', nobleProvider, nodeProvider, 'ec-p256'],
    ['node client, noble server', nodeProvider, nobleProvider, 'ed25519'],
  ];
  for (const [title, cp, sp, keyType] of combos) {
    it(`completes: ${title}`, () => {
      const pair = tlsPair({ keyType, client: { provider: cp }, server: { provider: sp } });
      assertComplete(pair, drive(pair));
      assertSecretsMatch(pair);
    });
  }

  it('noble completes a ChaCha20-Poly1305 / P-256 handshake with HelloRetryRequest', () => {
    const pair = tlsPair({
      provider: nobleProvider,
      client: { cipherSuites: [0x1303] },
      server: { groups: ['secp256r1'] },
    });
    assertComplete(pair, drive(pair));
    assertSecretsMatch(pair);
    assert.equal(pair.client.group, 'secp256r1');
  });
});

describe('insecure mode (verifyPeer false)', () => {
  it('completes against an unknown CA and still reports the chain and why it is bad', () => {
    const pki = testPki('ec-p256');
    const pair = tlsPair({
      client: { verifyPeer: false },
      server: { certificateChain: [pki.unknownCa.der] },
    });
    assertComplete(pair, drive(pair));
    const [ev] = eventsOf(pair.clientEvents, 'peer_certificates');
    assert.deepEqual(ev.chain, [pki.unknownCa.der]);
    assert.equal(ev.verdict.ok, false);
    assert.equal(ev.verdict.reason, 'unknown_ca');
    assert.equal(ev.verdict.ignored, true);
    assert.ok((ev.verdict.message ?? '').length > 0);
  });

  it('still requires the CertificateVerify signature of the leaf key it was shown', () => {
    const pki = testPki('ec-p256');
    // The server signs with another P-256 key than the leaf's: decrypt_error even when insecure.
    const pair = tlsPair({
      client: { verifyPeer: false },
      server: { certificateChain: [pki.unknownCa.der], privateKey: pki.root.key },
    });
    assertAlert(drive(pair), 'client', AlertDescription.decrypt_error);
  });
});
