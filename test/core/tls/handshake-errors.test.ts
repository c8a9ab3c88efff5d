import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeProvider } from '../../../core/crypto/node.ts';
import type { NamedGroup } from '../../../core/crypto/provider.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { AlertDescription as A, TlsAlert } from '../../../core/tls/alerts.ts';
import { createClientSession, createServerSession } from '../../../core/tls/index.ts';
import type { TlsSession } from '../../../core/tls/index.ts';
import {
  decodeCertificate,
  decodeClientHello,
  decodeEncryptedExtensions,
  serializeHandshake,
} from '../../../core/tls/messages.ts';
import type {
  ClientHello,
  ClientHelloExtensions,
  EncryptedExtensionsExtensions,
  HelloRetryRequestExtensions,
  ServerHelloExtensions,
} from '../../../core/tls/messages.ts';
import { testPki } from '../../helpers/certs.ts';
import { CLIENT_TP, SERVER_TP, assertAlert, drive, eventsOf, tlsPair } from '../../helpers/tls-pair.ts';
import type { InFlight, Side, Tamper } from '../../helpers/tls-pair.ts';

const NOW = Date.UTC(2025, 0, 1);

/** A tamper hook that rewrites the first message of `type` sent by `from`. */
function rewrite(from: Side, type: number, f: (data: Uint8Array) => Uint8Array | null): Tamper {
  let done = false;
  return (m: InFlight) => {
    if (done || m.from !== from || m.data[0] !== type) return m.data;
    done = true;
    return f(m.data);
  };
}

function flipLastByte(data: Uint8Array): Uint8Array {
  const copy = data.slice();
  copy[copy.length - 1] ^= 0x01;
  return copy;
}

/** Re-encodes the server's EncryptedExtensions with `f` applied to its extensions. */
function rewriteEE(f: (x: EncryptedExtensionsExtensions) => EncryptedExtensionsExtensions): Tamper {
  return rewrite('server', 8, (data) => {
    const ee = decodeEncryptedExtensions(data.subarray(4));
    return serializeHandshake({ kind: 'encrypted_extensions', extensions: f({ ...ee.extensions }) });
  });
}

/** Expects `fn` to throw a TlsAlert with `alert`. */
function throwsAlert(fn: () => void, alert: number, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TlsAlert, `not a TlsAlert: ${String(e)}`);
    assert.equal(e.alert, alert, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A started client (offering x25519 then secp256r1) and its ClientHello. */
function startedClient(): { client: TlsSession; ch: ClientHello } {
  const client = createClientSession(
    {
      provider: nodeProvider,
      alpnProtocols: ['h3'],
      serverName: 'localhost',
      trustAnchors: testPki().roots,
      cipherSuites: [0x1301],
    },
    CLIENT_TP,
  );
  client.start(NOW);
  let ch: ClientHello | null = null;
  for (let ev = client.poll(); ev !== null; ev = client.poll()) {
    if (ev.kind === 'handshake_data') ch = decodeClientHello(ev.data.subarray(4));
  }
  return { client, ch: ch! };
}

function serverHello(x: ServerHelloExtensions, cipherSuite = 0x1301): Uint8Array {
  return serializeHandshake({
    kind: 'server_hello',
    random: new Uint8Array(32).fill(1),
    cipherSuite,
    extensions: x,
  });
}

function hrr(x: HelloRetryRequestExtensions, cipherSuite = 0x1301): Uint8Array {
  return serializeHandshake({ kind: 'hello_retry_request', cipherSuite, extensions: x });
}

const x25519Share = () => ({ group: 0x1d, keyExchange: nodeProvider.generateKeyShare('x25519').publicKey });

describe('RFC 9001 §8.1 ALPN is mandatory: no_application_protocol (0x0178)', () => {
  it('server: no protocol in common', () => {
    const pair = tlsPair({ client: { alpnProtocols: ['hq-interop'] } });
    const r = drive(pair);
    assertAlert(r, 'server', A.no_application_protocol);
    if (!r.ok) assert.equal(r.error.code, 0x178);
  });

  it('client: the server selects a protocol that was not offered', () => {
    const r = drive(
      tlsPair(),
      rewriteEE((x) => ({ ...x, alpn: 'evil' })),
    );
    assertAlert(r, 'client', A.no_application_protocol, /evil/);
  });

  it('client: the server selects no protocol', () => {
    const r = drive(
      tlsPair(),
      rewriteEE((x) => ({ ...x, alpn: undefined })),
    );
    assertAlert(r, 'client', A.no_application_protocol);
  });
});

describe('RFC 9001 §8.2 quic_transport_parameters is mandatory: missing_extension', () => {
  it('client: EncryptedExtensions without it', () => {
    const r = drive(
      tlsPair(),
      rewriteEE((x) => ({ ...x, quicTransportParameters: undefined })),
    );
    assertAlert(r, 'client', A.missing_extension, /quic_transport_parameters/);
  });

  it('server: ClientHello without it', () => {
    const r = drive(
      tlsPair(),
      rewrite('client', 1, (data) => {
        const ch = decodeClientHello(data.subarray(4));
        const extensions: ClientHelloExtensions = { ...ch.extensions, quicTransportParameters: undefined };
        return serializeHandshake({ ...ch, extensions, rawExtensions: undefined });
      }),
    );
    assertAlert(r, 'server', A.missing_extension, /quic_transport_parameters/);
  });
});

describe('RFC 8446 §4.2 extension responses must be solicited', () => {
  it('client: early_data in EncryptedExtensions without a 0-RTT offer is unsupported_extension', () => {
    const r = drive(
      tlsPair(),
      rewriteEE((x) => ({ ...x, earlyData: true })),
    );
    assertAlert(r, 'client', A.unsupported_extension);
  });

  it('client: pre_shared_key in the ServerHello without a PSK offer is unsupported_extension', () => {
    const { client } = startedClient();
    const sh = serverHello({ supportedVersion: 0x0304, keyShare: x25519Share(), preSharedKey: 0 });
    throwsAlert(() => client.receive('initial', sh, NOW), A.unsupported_extension);
  });
});

describe('RFC 8446 §4.4.2.2 server certificate validation (x509.verifyChain)', () => {
  const pki = testPki('ec-p256');
  const cases: [string, Uint8Array[], number][] = [
    ['wrong hostname → bad_certificate', [pki.wrongHost.der, pki.intermediate.der], A.bad_certificate],
    ['expired → certificate_expired', [pki.expired.der, pki.intermediate.der], A.certificate_expired],
    [
      'not yet valid → certificate_expired',
      [pki.notYetValid.der, pki.intermediate.der],
      A.certificate_expired,
    ],
    ['unknown CA → unknown_ca', [pki.unknownCa.der], A.unknown_ca],
    ['self-signed, not a trust anchor → unknown_ca', [pki.selfSigned.der], A.unknown_ca],
    ['missing intermediate → unknown_ca', [pki.leaf.der], A.unknown_ca],
  ];
  for (const [title, chain, alert] of cases) {
    it(title, () => {
      const pair = tlsPair({ server: { certificateChain: chain } });
      assertAlert(drive(pair), 'client', alert);
      const [ev] = eventsOf(pair.clientEvents, 'peer_certificates');
      assert.equal(ev.verdict.ok, false);
      assert.equal(ev.verdict.ignored, false);
      assert.deepEqual(ev.chain, chain);
      assert.equal(pair.client.handshakeComplete, false);
    });
  }

  it('an empty Certificate from the server is decode_error (RFC 8446 §4.4.2.4)', () => {
    const r = drive(
      tlsPair(),
      rewrite('server', 11, () =>
        serializeHandshake({ kind: 'certificate', context: new Uint8Array(0), entries: [] }),
      ),
    );
    assertAlert(r, 'client', A.decode_error);
  });

  it('a non-empty certificate_request_context from the server is illegal_parameter', () => {
    const r = drive(
      tlsPair(),
      rewrite('server', 11, (data) =>
        serializeHandshake({ ...decodeCertificate(data.subarray(4)), context: Uint8Array.of(1) }),
      ),
    );
    assertAlert(r, 'client', A.illegal_parameter);
  });

  it('a chain whose intermediate signature does not verify is bad_certificate', () => {
    const forged = pki.intermediate.der.slice();
    forged[forged.length - 1] ^= 0x01; // the last byte of the signature value
    const pair = tlsPair({ server: { certificateChain: [pki.leaf.der, forged] } });
    assertAlert(drive(pair), 'client', A.bad_certificate);
  });

  it('a garbage certificate is bad_certificate', () => {
    const pair = tlsPair({ server: { certificateChain: [Uint8Array.of(0x30, 0x03, 1, 2, 3)] } });
    assertAlert(drive(pair), 'client', A.bad_certificate);
  });
});

describe('RFC 8446 §4.4.3 CertificateVerify', () => {
  it('a tampered signature is decrypt_error', () => {
    assertAlert(drive(tlsPair(), rewrite('server', 15, flipLastByte)), 'client', A.decrypt_error);
  });

  it('a tampered signature is decrypt_error (Ed25519, RSA-PSS)', () => {
    assertAlert(
      drive(tlsPair({ keyType: 'ed25519' }), rewrite('server', 15, flipLastByte)),
      'client',
      A.decrypt_error,
    );
    assertAlert(
      drive(tlsPair({ keyType: 'rsa' }), rewrite('server', 15, flipLastByte)),
      'client',
      A.decrypt_error,
    );
  });

  const scheme = (s: number) =>
    rewrite('server', 15, (data) => {
      const copy = data.slice();
      copy[4] = s >> 8;
      copy[5] = s & 0xff;
      return copy;
    });

  it('a scheme that was not offered is illegal_parameter (rsa_pkcs1_sha256 is for certificates only)', () => {
    assertAlert(drive(tlsPair({ keyType: 'rsa' }), scheme(0x0401)), 'client', A.illegal_parameter);
  });

  it('a scheme that does not fit the certificate key is illegal_parameter', () => {
    assertAlert(drive(tlsPair(), scheme(0x0807)), 'client', A.illegal_parameter, /does not fit/);
    assertAlert(drive(tlsPair(), scheme(0x0503)), 'client', A.illegal_parameter, /does not fit/);
  });

  it('server: no signature scheme for its key among the client’s is handshake_failure', () => {
    const r = drive(
      tlsPair(),
      rewrite('client', 1, (data) => {
        const ch = decodeClientHello(data.subarray(4));
        const extensions = { ...ch.extensions, signatureAlgorithms: [0x0807] };
        return serializeHandshake({ ...ch, extensions, rawExtensions: undefined });
      }),
    );
    assertAlert(r, 'server', A.handshake_failure);
  });
});

describe('RFC 8446 §4.4.4 Finished', () => {
  it('client: a tampered server Finished is decrypt_error', () => {
    assertAlert(drive(tlsPair(), rewrite('server', 20, flipLastByte)), 'client', A.decrypt_error, /Finished/);
  });

  it('server: a tampered client Finished is decrypt_error', () => {
    assertAlert(drive(tlsPair(), rewrite('client', 20, flipLastByte)), 'server', A.decrypt_error, /Finished/);
  });

  it('a tampered handshake message changes the transcript: the Finished no longer verifies', () => {
    // EncryptedExtensions with other (valid) transport parameters.
    const r = drive(
      tlsPair(),
      rewriteEE((x) => ({ ...x, quicTransportParameters: Uint8Array.of(0x0e, 0x01, 0x05) })),
    );
    assertAlert(r, 'client', A.decrypt_error);
  });
});

describe('RFC 8446 §4.1.3 ServerHello checks (client)', () => {
  it('no supported_versions (a TLS 1.2 ServerHello) is protocol_version', () => {
    const { client } = startedClient();
    throwsAlert(
      () => client.receive('initial', serverHello({ keyShare: x25519Share() }), NOW),
      A.protocol_version,
    );
  });

  it('a selected version other than TLS 1.3 is illegal_parameter (RFC 8446 §4.2.1)', () => {
    const { client } = startedClient();
    const sh = serverHello({ supportedVersion: 0x0303, keyShare: x25519Share() });
    throwsAlert(() => client.receive('initial', sh, NOW), A.illegal_parameter);
  });

  it('a cipher suite that was not offered is illegal_parameter', () => {
    const { client } = startedClient();
    const sh = serverHello({ supportedVersion: 0x0304, keyShare: x25519Share() }, 0x1302);
    throwsAlert(() => client.receive('initial', sh, NOW), A.illegal_parameter, /cipher suite/);
  });

  it('a key_share for another group than the one offered is illegal_parameter', () => {
    const { client } = startedClient();
    const p256 = { group: 0x17, keyExchange: nodeProvider.generateKeyShare('secp256r1').publicKey };
    throwsAlert(
      () => client.receive('initial', serverHello({ supportedVersion: 0x0304, keyShare: p256 }), NOW),
      A.illegal_parameter,
    );
  });

  it('a non-empty legacy_session_id_echo is illegal_parameter (RFC 9001 §8.4)', () => {
    const { client } = startedClient();
    const sh = serverHello({ supportedVersion: 0x0304, keyShare: x25519Share() });
    const bad = new Uint8Array(sh.length + 1);
    bad.set(sh.subarray(0, 38));
    bad[38] = 1;
    bad[39] = 0xaa;
    bad.set(sh.subarray(39), 40);
    const len = sh.length - 4 + 1;
    bad[1] = len >> 16;
    bad[2] = (len >> 8) & 0xff;
    bad[3] = len & 0xff;
    throwsAlert(() => client.receive('initial', bad, NOW), A.illegal_parameter);
  });

  it('no key_share is missing_extension', () => {
    const { client } = startedClient();
    throwsAlert(
      () => client.receive('initial', serverHello({ supportedVersion: 0x0304 }), NOW),
      A.missing_extension,
    );
  });

  it('an invalid X25519 share (all-zero shared secret) is illegal_parameter (RFC 8446 §7.4.2)', () => {
    const { client } = startedClient();
    const bad = { group: 0x1d, keyExchange: new Uint8Array(32) };
    throwsAlert(
      () => client.receive('initial', serverHello({ supportedVersion: 0x0304, keyShare: bad }), NOW),
      A.illegal_parameter,
    );
  });
});

describe('RFC 8446 §4.1.4 HelloRetryRequest checks (client)', () => {
  it('echoes the cookie and sends a share for the selected group', () => {
    const { client } = startedClient();
    client.receive(
      'initial',
      hrr({ supportedVersion: 0x0304, selectedGroup: 0x17, cookie: Uint8Array.of(7, 7) }),
      NOW,
    );
    const ch2 = eventsOf([...drainAll(client)], 'handshake_data')[0];
    const x = decodeClientHello(ch2.data.subarray(4)).extensions;
    assert.deepEqual(x.cookie, Uint8Array.of(7, 7));
    assert.deepEqual(
      x.keyShares?.map((k) => k.group),
      [0x17],
    );
  });

  it('a second HelloRetryRequest is unexpected_message', () => {
    const { client } = startedClient();
    client.receive('initial', hrr({ supportedVersion: 0x0304, selectedGroup: 0x17 }), NOW);
    throwsAlert(
      () => client.receive('initial', hrr({ supportedVersion: 0x0304, cookie: Uint8Array.of(1) }), NOW),
      A.unexpected_message,
    );
  });

  it('a group that was not offered is illegal_parameter', () => {
    const { client } = startedClient();
    throwsAlert(
      () => client.receive('initial', hrr({ supportedVersion: 0x0304, selectedGroup: 0x18 }), NOW),
      A.illegal_parameter,
      /not offered/,
    );
  });

  it('the group the client already sent a share for is illegal_parameter', () => {
    const { client } = startedClient();
    throwsAlert(
      () => client.receive('initial', hrr({ supportedVersion: 0x0304, selectedGroup: 0x1d }), NOW),
      A.illegal_parameter,
      /already sent/,
    );
  });

  it('a HelloRetryRequest that changes nothing is illegal_parameter', () => {
    const { client } = startedClient();
    throwsAlert(() => client.receive('initial', hrr({ supportedVersion: 0x0304 }), NOW), A.illegal_parameter);
  });

  it('a suite that was not offered is illegal_parameter', () => {
    const { client } = startedClient();
    throwsAlert(
      () => client.receive('initial', hrr({ supportedVersion: 0x0304, selectedGroup: 0x17 }, 0x1303), NOW),
      A.illegal_parameter,
    );
  });

  it('a ServerHello whose suite differs from the HelloRetryRequest’s is illegal_parameter', () => {
    const client = createClientSession(
      { provider: nodeProvider, alpnProtocols: ['h3'], serverName: null, trustAnchors: [] },
      CLIENT_TP,
    );
    client.start(NOW);
    drainAll(client);
    client.receive('initial', hrr({ supportedVersion: 0x0304, selectedGroup: 0x17 }, 0x1301), NOW);
    drainAll(client);
    const p256 = { group: 0x17, keyExchange: nodeProvider.generateKeyShare('secp256r1').publicKey };
    throwsAlert(
      () => client.receive('initial', serverHello({ supportedVersion: 0x0304, keyShare: p256 }, 0x1302), NOW),
      A.illegal_parameter,
      /HelloRetryRequest/,
    );
  });
});

function* drainAll(s: TlsSession) {
  for (let ev = s.poll(); ev !== null; ev = s.poll()) yield ev;
}

describe('RFC 8446 §4.1.2 ClientHello checks (server)', () => {
  const pki = testPki();
  const base: ClientHelloExtensions = {
    supportedVersions: [0x0304],
    supportedGroups: [0x1d],
    signatureAlgorithms: [0x0403],
    alpn: ['h3'],
    keyShares: [x25519Share()],
    pskKeyExchangeModes: [1],
    quicTransportParameters: CLIENT_TP,
  };
  const send = (
    extensions: ClientHelloExtensions,
    cipherSuites = [0x1301],
    groups: NamedGroup[] = ['x25519'],
  ) => {
    const server = createServerSession(
      {
        provider: nodeProvider,
        alpnProtocols: ['h3'],
        certificateChain: pki.chain,
        privateKey: pki.leaf.key,
        groups,
      },
      SERVER_TP,
    );
    const ch = serializeHandshake({
      kind: 'client_hello',
      random: new Uint8Array(32),
      cipherSuites,
      extensions,
    });
    return () => server.receive('initial', ch, NOW);
  };

  it('accepts the minimal ClientHello', () => {
    assert.doesNotThrow(send(base));
  });
  it('without TLS 1.3 in supported_versions: protocol_version', () => {
    throwsAlert(send({ ...base, supportedVersions: [0x0303] }), A.protocol_version);
    throwsAlert(send({ ...base, supportedVersions: undefined }), A.protocol_version);
  });
  it('no common cipher suite: handshake_failure', () => {
    throwsAlert(send(base, [0x1304, 0x00ff]), A.handshake_failure, /cipher suite/);
  });
  it('no common group: handshake_failure', () => {
    throwsAlert(send({ ...base, supportedGroups: [0x17], keyShares: [] }), A.handshake_failure, /group/);
  });
  it('a key share for a group not in supported_groups: illegal_parameter (RFC 8446 §4.2.8)', () => {
    throwsAlert(send({ ...base, supportedGroups: [0x17] }), A.illegal_parameter);
  });
  it('supported_groups without key_share: missing_extension (RFC 8446 §9.2)', () => {
    throwsAlert(send({ ...base, keyShares: undefined }), A.missing_extension);
  });
  it('no signature_algorithms in a certificate handshake: missing_extension (RFC 8446 §9.2)', () => {
    throwsAlert(send({ ...base, signatureAlgorithms: undefined }), A.missing_extension);
  });
  it('pre_shared_key without psk_key_exchange_modes: missing_extension (RFC 8446 §4.2.9)', () => {
    const preSharedKey = {
      identities: [{ identity: Uint8Array.of(1, 2, 3), obfuscatedTicketAge: 0 }],
      binders: [new Uint8Array(32)],
    };
    throwsAlert(send({ ...base, pskKeyExchangeModes: undefined, preSharedKey }), A.missing_extension);
  });
  it('an unknown PSK identity is ignored: full handshake (RFC 8446 §4.2.11)', () => {
    const preSharedKey = {
      identities: [{ identity: Uint8Array.of(1, 2, 3), obfuscatedTicketAge: 0 }],
      binders: [new Uint8Array(32)],
    };
    assert.doesNotThrow(send({ ...base, preSharedKey }));
  });
  it('a non-empty legacy_session_id is PROTOCOL_VIOLATION (RFC 9001 §8.4)', () => {
    const server = createServerSession(
      {
        provider: nodeProvider,
        alpnProtocols: ['h3'],
        certificateChain: pki.chain,
        privateKey: pki.leaf.key,
      },
      SERVER_TP,
    );
    const ch = serializeHandshake({
      kind: 'client_hello',
      random: new Uint8Array(32),
      cipherSuites: [0x1301],
      extensions: base,
    });
    // Splice a 1-byte session id in after the random (header 4 + version 2 + random 32).
    const bad = new Uint8Array(ch.length + 1);
    bad.set(ch.subarray(0, 38));
    bad[38] = 1;
    bad[39] = 0xaa;
    bad.set(ch.subarray(39), 40);
    const len = ch.length - 4 + 1;
    bad[1] = len >> 16;
    bad[2] = (len >> 8) & 0xff;
    bad[3] = len & 0xff;
    assert.throws(
      () => server.receive('initial', bad, NOW),
      (e: unknown) => e instanceof QuicError && e.code === TransportError.PROTOCOL_VIOLATION,
    );
  });

  it('after a HelloRetryRequest: early_data in the second ClientHello is illegal_parameter', () => {
    const pair = tlsPair({ server: { groups: ['secp256r1'] } });
    let n = 0;
    const r = drive(pair, (m) => {
      if (m.from !== 'client' || m.data[0] !== 1 || n++ !== 1) return m.data;
      const ch = decodeClientHello(m.data.subarray(4));
      return serializeHandshake({
        ...ch,
        extensions: { ...ch.extensions, earlyData: true },
        rawExtensions: undefined,
      });
    });
    assertAlert(r, 'server', A.illegal_parameter, /early_data/);
  });

  it('after a HelloRetryRequest: a second ClientHello without the requested share is illegal_parameter', () => {
    const pair = tlsPair({ server: { groups: ['secp256r1'] } });
    let n = 0;
    const r = drive(pair, (m) => {
      if (m.from !== 'client' || m.data[0] !== 1 || n++ !== 1) return m.data;
      const ch = decodeClientHello(m.data.subarray(4));
      const extensions = { ...ch.extensions, keyShares: [x25519Share()] };
      return serializeHandshake({ ...ch, extensions, rawExtensions: undefined });
    });
    assertAlert(r, 'server', A.illegal_parameter);
  });

  it('an invalid P-256 share is illegal_parameter', () => {
    const bad = new Uint8Array(65);
    bad[0] = 4;
    bad.fill(0xff, 1);
    const extensions = { ...base, supportedGroups: [0x17], keyShares: [{ group: 0x17, keyExchange: bad }] };
    throwsAlert(send(extensions, [0x1301], ['secp256r1']), A.illegal_parameter);
  });
});
