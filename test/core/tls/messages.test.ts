import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import { AlertDescription, TlsAlert } from '../../../core/tls/alerts.ts';
import { ExtensionType, HandshakeType } from '../../../core/tls/constants.ts';
import { checkSolicited } from '../../../core/tls/extensions.ts';
import type { Extension } from '../../../core/tls/extensions.ts';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeHandshake,
  decodeNewSessionTicket,
  decodeServerHello,
  serializeHandshake,
} from '../../../core/tls/messages.ts';
import type { CertificateRequest, ClientHello, HandshakeMessage } from '../../../core/tls/messages.ts';
import { TRACE_MESSAGES, compat, hrr, resumed, simple } from './vectors-tls13-draft07.ts';

const h = fromHex;
const body = (hex: string) => h(hex).subarray(4);

function decodeWhole(hex: string): HandshakeMessage {
  const m = h(hex);
  return decodeHandshake(m[0], m.subarray(4), 32);
}

/** Asserts `f` throws a TlsAlert with `alert`. */
function throwsAlert(f: () => unknown, alert: number, what = ''): void {
  assert.throws(
    f,
    (e: unknown) => e instanceof TlsAlert && e.alert === alert && e.code === 0x100 + alert,
    `${what}: expected alert ${alert}`,
  );
}

/** A body whose extension block is its last field, with one more extension appended. */
function appendExtension(
  msgBody: Uint8Array,
  blockOffset: number,
  type: number,
  data: Uint8Array,
): Uint8Array {
  const oldLen = (msgBody[blockOffset] << 8) | msgBody[blockOffset + 1];
  assert.equal(blockOffset + 2 + oldLen, msgBody.length, 'extension block must be last');
  const ext = new Uint8Array(4 + data.length);
  ext.set([type >> 8, type & 0xff, data.length >> 8, data.length & 0xff]);
  ext.set(data, 4);
  const out = concatBytes(msgBody, ext);
  const n = oldLen + ext.length;
  out[blockOffset] = n >> 8;
  out[blockOffset + 1] = n & 0xff;
  return out;
}

/** Offset of the extension block in a ClientHello body (session id empty). */
function chBlockOffset(chBody: Uint8Array): number {
  const cs = (chBody[35] << 8) | chBody[36];
  return 35 + 2 + cs + 2;
}
const SH_BLOCK = 2 + 32 + 1 + 2 + 1;

describe('RFC 8446 §4 handshake messages: draft-ietf-tls-tls13-vectors-07 traces', () => {
  for (const [name, hex] of TRACE_MESSAGES) {
    it(`${name} decodes and re-encodes byte for byte`, () => {
      assert.equal(toHex(serializeHandshake(decodeWhole(hex))), hex);
    });
  }

  it('the traces use an empty legacy_session_id (as QUIC requires, RFC 9001 §8.4)', () => {
    for (const hex of [simple.clientHello, resumed.clientHello, hrr.clientHello1, hrr.clientHello2]) {
      assert.equal(h(hex)[4 + 2 + 32], 0);
    }
  });

  it('§3 ClientHello: typed fields; unknown extensions kept in wire order', () => {
    const ch = decodeClientHello(body(simple.clientHello));
    assert.equal(toHex(ch.random), simple.clientHello.slice(12, 76));
    assert.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
    const e = ch.extensions;
    assert.equal(e.serverName, 'server');
    assert.deepEqual(e.supportedGroups, [0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104]);
    assert.deepEqual(e.keyShares, [{ group: 0x1d, keyExchange: h(simple.clientPublic) }]);
    assert.deepEqual(e.supportedVersions, [0x0304]);
    assert.equal(e.signatureAlgorithms?.length, 15);
    assert.equal(e.signatureAlgorithms?.[0], 0x0403);
    assert.deepEqual(e.pskKeyExchangeModes, [1]);
    assert.equal(e.preSharedKey, undefined);
    assert.equal(e.earlyData, undefined);
    // renegotiation_info (0xff01), session_ticket (0x23), record_size_limit (0x1c): not ours.
    assert.deepEqual(
      ch.rawExtensions?.map((x) => x.type),
      [0, 0xff01, 10, 0x23, 0x33, 0x2b, 0x0d, 0x2d, 0x1c],
    );
  });

  it('§3 ServerHello, EncryptedExtensions, Certificate, CertificateVerify, NewSessionTicket', () => {
    const sh = decodeServerHello(body(simple.serverHello));
    assert.equal(sh.kind, 'server_hello');
    assert.equal(sh.cipherSuite, 0x1301);
    if (sh.kind !== 'server_hello') return;
    assert.deepEqual(sh.extensions, {
      keyShare: { group: 0x1d, keyExchange: h(simple.serverPublic) },
      supportedVersion: 0x0304,
    });
    const ee = decodeEncryptedExtensions(body(simple.encryptedExtensions));
    assert.equal(ee.extensions.serverName, true);
    assert.equal(ee.extensions.supportedGroups?.length, 9);
    assert.deepEqual(
      ee.rawExtensions?.map((x) => x.type),
      [10, 0x1c, 0],
    );
    const cert = decodeCertificate(body(simple.certificate));
    assert.equal(cert.context.length, 0);
    assert.equal(cert.entries.length, 1);
    assert.equal(cert.entries[0].data.length, 0x1b0);
    assert.equal(cert.entries[0].data[0], 0x30);
    assert.deepEqual(cert.entries[0].extensions, []);
    const cv = decodeWhole(simple.certificateVerify);
    assert.ok(cv.kind === 'certificate_verify' && cv.algorithm === 0x0804 && cv.signature.length === 128);
    const nst = decodeNewSessionTicket(body(simple.newSessionTicket));
    assert.equal(nst.lifetime, 30);
    assert.equal(nst.ageAdd, 0x933d0932);
    assert.equal(toHex(nst.nonce), '0000');
    assert.equal(nst.ticket.length, 0xb2);
    assert.deepEqual(nst.extensions, { maxEarlyDataSize: 0x400 });
  });

  it('§4 ClientHello offers the §3 ticket as its PSK, last, with early_data', () => {
    const ch = decodeClientHello(body(resumed.clientHello));
    const nst = decodeNewSessionTicket(body(simple.newSessionTicket));
    const psk = ch.extensions.preSharedKey!;
    assert.equal(psk.identities.length, 1);
    assert.deepEqual(psk.identities[0].identity, nst.ticket);
    assert.equal(psk.binders[0].length, 32);
    assert.equal(ch.extensions.earlyData, true);
    assert.equal(ch.rawExtensions?.at(-1)?.type, ExtensionType.pre_shared_key);
    const sh = decodeServerHello(body(resumed.serverHello));
    assert.ok(sh.kind === 'server_hello' && sh.extensions.preSharedKey === 0);
    assert.equal(decodeEncryptedExtensions(body(resumed.encryptedExtensions)).extensions.earlyData, true);
  });

  it('§5 HelloRetryRequest: the special random, selected_group, cookie', () => {
    const m = decodeServerHello(body(hrr.helloRetryRequest));
    assert.equal(m.kind, 'hello_retry_request');
    if (m.kind !== 'hello_retry_request') return;
    assert.equal(m.cipherSuite, 0x1301);
    assert.equal(m.extensions.selectedGroup, 0x17);
    assert.equal(m.extensions.supportedVersion, 0x0304);
    assert.equal(m.extensions.cookie?.length, 0x72);
    const ch2 = decodeClientHello(body(hrr.clientHello2));
    assert.deepEqual(ch2.extensions.cookie, m.extensions.cookie);
    assert.deepEqual(ch2.extensions.keyShares, [{ group: 0x17, keyExchange: h(hrr.clientP256Public) }]);
  });
});

describe('RFC 8446 §4 decoding errors are TLS alerts', () => {
  it('every truncation of every trace message is decode_error', () => {
    for (const [name, hex] of TRACE_MESSAGES) {
      const m = h(hex);
      const b = m.subarray(4);
      for (let n = 0; n < b.length; n++) {
        const cut = b.subarray(0, n);
        if (m[0] === HandshakeType.client_hello && n === chBlockOffset(b)) {
          // RFC 8446 §4.1.2: a ClientHello may end after the compression methods (no extensions).
          assert.deepEqual(decodeClientHello(cut).rawExtensions, []);
          continue;
        }
        throwsAlert(
          () => decodeHandshake(m[0], cut, 32),
          AlertDescription.decode_error,
          `${name} cut at ${n}`,
        );
      }
    }
  });

  it('trailing bytes after any trace message are decode_error', () => {
    for (const [name, hex] of TRACE_MESSAGES) {
      const m = h(hex);
      const b = concatBytes(m.subarray(4), new Uint8Array([0]));
      throwsAlert(() => decodeHandshake(m[0], b, 32), AlertDescription.decode_error, name);
    }
  });

  it('§4.2: a duplicate extension is illegal_parameter', () => {
    const ch = body(simple.clientHello);
    const share = decodeClientHello(ch).rawExtensions!.find((x) => x.type === 0x33)!.data;
    throwsAlert(
      () => decodeClientHello(appendExtension(ch, chBlockOffset(ch), 0x33, share)),
      47,
      'key_share',
    );
    throwsAlert(
      () => decodeClientHello(appendExtension(ch, chBlockOffset(ch), 0xff01, h('00'))),
      47,
      'unknown',
    );
    const sh = body(simple.serverHello);
    throwsAlert(() => decodeServerHello(appendExtension(sh, SH_BLOCK, 0x2b, h('0304'))), 47, 'SH');
    const ee = body(simple.encryptedExtensions);
    throwsAlert(() => decodeEncryptedExtensions(appendExtension(ee, 0, 0, new Uint8Array(0))), 47, 'EE');
  });

  it('§4.2: a recognized extension in a message that may not carry it is illegal_parameter', () => {
    const ee = body(simple.encryptedExtensions);
    throwsAlert(
      () => decodeEncryptedExtensions(appendExtension(ee, 0, 0x33, h('001d'))),
      47,
      'key_share in EE',
    );
    const sh = body(simple.serverHello);
    throwsAlert(() => decodeServerHello(appendExtension(sh, SH_BLOCK, 42, new Uint8Array(0))), 47, 'SH');
    const hrrBody = body(hrr.helloRetryRequest);
    throwsAlert(() => decodeServerHello(appendExtension(hrrBody, SH_BLOCK, 0x29, h('0000'))), 47, 'HRR');
  });

  it('§4.2.11: pre_shared_key not last in a ClientHello is illegal_parameter', () => {
    const ch = body(resumed.clientHello);
    throwsAlert(() => decodeClientHello(appendExtension(ch, chBlockOffset(ch), 0x1234, h('00'))), 47);
  });

  it('§4.2.11: binders and identities differ in number: illegal_parameter', () => {
    const ch: ClientHello = {
      kind: 'client_hello',
      random: new Uint8Array(32),
      cipherSuites: [0x1301],
      extensions: {
        preSharedKey: {
          identities: [{ identity: h('01'), obfuscatedTicketAge: 0 }],
          binders: [new Uint8Array(32), new Uint8Array(32)],
        },
      },
    };
    throwsAlert(() => decodeWhole(toHex(serializeHandshake(ch))), 47);
  });

  it('§4.2.8: two key shares for one group are illegal_parameter', () => {
    const share = { group: 0x1d, keyExchange: new Uint8Array(32) };
    const ch: ClientHello = {
      kind: 'client_hello',
      random: new Uint8Array(32),
      cipherSuites: [0x1301],
      extensions: { keyShares: [share, share] },
    };
    throwsAlert(() => decodeWhole(toHex(serializeHandshake(ch))), 47);
  });

  it('§4.1.2: legacy_compression_methods other than [0] is illegal_parameter', () => {
    const b = body(simple.clientHello);
    const at = chBlockOffset(b) - 2; // the 1-byte length of legacy_compression_methods
    assert.deepEqual(b.subarray(at, at + 2), h('0100'));
    const rest = b.subarray(at + 2);
    throwsAlert(() => decodeClientHello(concatBytes(b.subarray(0, at), h('0101'), rest)), 47, '[1]');
    throwsAlert(() => decodeClientHello(concatBytes(b.subarray(0, at), h('020001'), rest)), 47, '[0, 1]');
    throwsAlert(() => decodeClientHello(concatBytes(b.subarray(0, at), h('00'), rest)), 50, '[]');
    const sh = body(simple.serverHello).slice();
    sh[2 + 32 + 1 + 2] = 1;
    throwsAlert(() => decodeServerHello(sh), 47, 'ServerHello');
  });

  it('RFC 9001 §8.4: a ClientHello with a legacy_session_id (compatibility mode) is PROTOCOL_VIOLATION', () => {
    assert.throws(
      () => decodeClientHello(body(compat.clientHello)),
      (e: unknown) =>
        e instanceof QuicError && !(e instanceof TlsAlert) && e.code === TransportError.PROTOCOL_VIOLATION,
    );
    // §4.1.3: our ClientHello's session id is empty, so a non-empty echo does not match.
    throwsAlert(() => decodeServerHello(body(compat.serverHello)), 47);
    // opaque legacy_session_id<0..32>: 33 bytes does not decode.
    const long = concatBytes(h('0303'), new Uint8Array(32), h('21'), new Uint8Array(33), h('000213010100'));
    throwsAlert(() => decodeClientHello(long), 50);
  });

  it('§4.1.3: a ServerHello legacy_version other than 0x0303 is protocol_version', () => {
    const sh = body(simple.serverHello).slice();
    sh[1] = 0x02;
    throwsAlert(() => decodeServerHello(sh), AlertDescription.protocol_version);
  });

  it('RFC 9001 §6, §8.3: KeyUpdate and EndOfEarlyData are unexpected_message; so are unknown types', () => {
    throwsAlert(() => decodeHandshake(HandshakeType.key_update, h('00'), 32), 10, 'KeyUpdate');
    const eoed = h(resumed.endOfEarlyData);
    throwsAlert(() => decodeHandshake(eoed[0], eoed.subarray(4), 32), 10, 'EndOfEarlyData');
    throwsAlert(
      () => decodeHandshake(HandshakeType.message_hash, new Uint8Array(32), 32),
      10,
      'message_hash',
    );
    throwsAlert(() => decodeHandshake(99, new Uint8Array(0), 32), 10, 'unknown');
  });

  it('§4.4.4: a Finished that is not Hash.length long is decode_error', () => {
    const f = body(simple.serverFinished);
    throwsAlert(() => decodeHandshake(HandshakeType.finished, f, 48), 50);
    assert.equal(decodeHandshake(HandshakeType.finished, f, 32).kind, 'finished');
  });

  it('vector lower bounds: empty cert_data, ALPN name, cookie, key_exchange, ticket are decode_error', () => {
    throwsAlert(() => decodeCertificate(h('00' + '000005' + '000000' + '0000')), 50, 'cert_data');
    const chb = body(hrr.clientHello1);
    throwsAlert(
      () => decodeClientHello(appendExtension(chb, chBlockOffset(chb), 16, h('000100'))),
      50,
      'ALPN',
    );
    throwsAlert(
      () => decodeClientHello(appendExtension(chb, chBlockOffset(chb), 44, h('0000'))),
      50,
      'cookie',
    );
    throwsAlert(
      () => decodeNewSessionTicket(h('00000001' + '00000000' + '00' + '0000' + '0000')),
      50,
      'ticket',
    );
    // A ServerHello key_share with group 0x001d and an empty key_exchange<1..2^16-1>.
    const noExtensions = concatBytes(body(simple.serverHello).subarray(0, SH_BLOCK), h('0000'));
    const rebuilt = appendExtension(noExtensions, SH_BLOCK, 0x33, h('001d0000'));
    throwsAlert(() => decodeServerHello(rebuilt), 50, 'key_exchange');
  });

  it('RFC 7301 §3.1: a server ALPN with two names is illegal_parameter', () => {
    const ee = h('0000');
    throwsAlert(() => decodeEncryptedExtensions(appendExtension(ee, 0, 16, h('0006026833026832'))), 47);
    const ok = decodeEncryptedExtensions(appendExtension(ee, 0, 16, h('0003026833')));
    assert.equal(ok.extensions.alpn, 'h3');
  });

  it('§4.3.2: a CertificateRequest without signature_algorithms is missing_extension', () => {
    throwsAlert(() => decodeCertificateRequest(h('00' + '0000')), AlertDescription.missing_extension);
    const cr: CertificateRequest = {
      kind: 'certificate_request',
      context: new Uint8Array(0),
      extensions: { signatureAlgorithms: [0x0804, 0x0403] },
    };
    const back = decodeWhole(toHex(serializeHandshake(cr)));
    assert.ok(back.kind === 'certificate_request');
    assert.deepEqual(back.extensions, cr.extensions);
  });

  it('§4.2: an extension the endpoint did not offer is unsupported_extension (cookie exempt in HRR)', () => {
    const raw: Extension[] = [
      { type: 0x2b, data: h('0304') },
      { type: 0x2c, data: h('0001ff') },
    ];
    checkSolicited(raw, new Set([0x2b]), 'HelloRetryRequest', [0x2c]);
    throwsAlert(
      () => checkSolicited(raw, new Set([0x2b]), 'ServerHello'),
      AlertDescription.unsupported_extension,
    );
  });
});
