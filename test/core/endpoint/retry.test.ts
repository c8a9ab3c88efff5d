import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nobleProvider, nodeProvider } from '../../../core/crypto/index.ts';
import { verifyRetry } from '../../../core/crypto/retry.ts';
import { buildRetryPacket, retryPacketLength } from '../../../core/endpoint/retry.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';

// RFC 9001 A.4 and RFC 9369 A.4: the Retry answering the client Initial of A.2.
const ODCID = fromHex('8394c8f03e515708');
const RETRY_SCID = fromHex('f067a5502a4262b5');
const TOKEN = fromHex('746f6b656e'); // "token"
const VECTORS: [string, number, string][] = [
  [
    'RFC 9001 A.4 (QUIC v1)',
    QUIC_VERSION_1,
    'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
  ],
  [
    'RFC 9369 A.4 (QUIC v2)',
    QUIC_VERSION_2,
    'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6',
  ],
];

describe('RFC 9000 §17.2.5 Retry packets with the RFC 9001 §5.8 integrity tag', () => {
  for (const [name, version, hex] of VECTORS) {
    for (const provider of [nodeProvider, nobleProvider]) {
      it(`reproduces ${name} byte for byte (${provider.name})`, () => {
        const out = new Uint8Array(200);
        const fields = {
          version,
          clientScid: new Uint8Array(0),
          odcid: ODCID,
          retryScid: RETRY_SCID,
          token: TOKEN,
          unused: 0xf,
        };
        const n = buildRetryPacket(out, fields, provider);
        assert.equal(n, retryPacketLength(fields));
        assert.equal(toHex(out.subarray(0, n)), hex);
      });
    }
  }

  for (const version of [QUIC_VERSION_1, QUIC_VERSION_2]) {
    it(`parses back and verifies for version 0x${version.toString(16)}`, () => {
      const clientScid = fromHex('c0ffee00c0ffee01');
      const token = new Uint8Array(64).fill(0x5a);
      const out = new Uint8Array(1500);
      const n = buildRetryPacket(out, { version, clientScid, odcid: ODCID, retryScid: RETRY_SCID, token });
      const packet = out.subarray(0, n);
      const h = parseHeader(packet, 0, 8);
      assert.equal(h.type, 'retry');
      assert.ok(h.type === 'retry');
      assert.equal(h.version, version);
      assert.deepEqual(h.dcid, clientScid); // §17.2.5.1: the client's SCID
      assert.deepEqual(h.scid, RETRY_SCID);
      assert.deepEqual(h.token, token);
      assert.equal(verifyRetry(nodeProvider, version, ODCID, packet), true);
      // The tag covers the client's original DCID, which the packet does not carry.
      assert.equal(verifyRetry(nodeProvider, version, fromHex('8394c8f03e515709'), packet), false);
      const other = version === QUIC_VERSION_1 ? QUIC_VERSION_2 : QUIC_VERSION_1;
      assert.equal(verifyRetry(nodeProvider, other, ODCID, packet), false);
    });
  }

  it('§17.2.5.1: refuses a Retry SCID equal to the client’s DCID, an empty token, a small buffer', () => {
    const base = {
      version: QUIC_VERSION_1,
      clientScid: new Uint8Array(8),
      odcid: ODCID,
      retryScid: RETRY_SCID,
      token: TOKEN,
    };
    assert.throws(() => buildRetryPacket(new Uint8Array(200), { ...base, retryScid: ODCID }), RangeError);
    assert.throws(
      () => buildRetryPacket(new Uint8Array(200), { ...base, token: new Uint8Array(0) }),
      RangeError,
    );
    assert.throws(() => buildRetryPacket(new Uint8Array(20), base), RangeError);
  });
});
