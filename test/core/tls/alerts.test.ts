import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import {
  AlertDescription,
  TlsAlert,
  alertName,
  cryptoErrorCode,
  tlsDecode,
  tlsReader,
} from '../../../core/tls/alerts.ts';

describe('RFC 9001 §4.8 TLS alerts as QUIC CRYPTO_ERROR', () => {
  it('uses the RFC 8446 §6 code points', () => {
    const expected: [keyof typeof AlertDescription, number][] = [
      ['unexpected_message', 10],
      ['bad_record_mac', 20],
      ['handshake_failure', 40],
      ['bad_certificate', 42],
      ['unsupported_certificate', 43],
      ['certificate_revoked', 44],
      ['certificate_expired', 45],
      ['certificate_unknown', 46],
      ['illegal_parameter', 47],
      ['unknown_ca', 48],
      ['decode_error', 50],
      ['decrypt_error', 51],
      ['protocol_version', 70],
      ['insufficient_security', 71],
      ['internal_error', 80],
      ['missing_extension', 109],
      ['unsupported_extension', 110],
      ['unrecognized_name', 112],
      ['bad_certificate_status_response', 113],
      ['unknown_psk_identity', 115],
      ['certificate_required', 116],
      ['no_application_protocol', 120],
    ];
    for (const [name, code] of expected) {
      assert.equal(AlertDescription[name], code, name);
      assert.equal(alertName(code), name);
    }
    assert.equal(alertName(0xfe), 'alert(0xfe)');
  });

  it('a TlsAlert is a QuicError with code 0x0100 + alert', () => {
    const e = new TlsAlert(AlertDescription.handshake_failure, 'no common cipher suite');
    assert.ok(e instanceof QuicError);
    assert.equal(e.code, 0x128);
    assert.equal(e.alert, 40);
    assert.equal(e.application, false);
    assert.match(e.reason, /handshake_failure: no common cipher suite/);
    assert.match(e.message, /CRYPTO_ERROR\(0x128\)/);
    assert.equal(cryptoErrorCode(AlertDescription.no_application_protocol), 0x178);
  });

  it('tlsDecode turns a reader truncation into decode_error and lets other errors through', () => {
    assert.throws(
      () => tlsDecode('x', () => tlsReader(new Uint8Array(1)).u16()),
      (e: unknown) => e instanceof TlsAlert && e.alert === AlertDescription.decode_error,
    );
    const pv = new QuicError(TransportError.PROTOCOL_VIOLATION, 'pv');
    assert.throws(
      () =>
        tlsDecode('x', () => {
          throw pv;
        }),
      (e: unknown) => e === pv,
    );
    assert.throws(
      () =>
        tlsDecode('x', () => {
          throw new RangeError('caller bug');
        }),
      RangeError,
    );
    assert.equal(
      tlsDecode('x', () => 5),
      5,
    );
  });
});
