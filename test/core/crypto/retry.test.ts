import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { constantTimeEqual } from '../../../core/crypto/compare.ts';
import { retryIntegrityTag, retryPseudoPacket, verifyRetry } from '../../../core/crypto/retry.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import { DCID, V1, V2 } from './vectors.ts';

for (const p of [nodeProvider, nobleProvider]) {
  for (const v of [V1, V2]) {
    describe(`${v.name} A.4 Retry integrity [${p.name}]`, () => {
      const retry = fromHex(v.retry);
      const body = retry.subarray(0, retry.length - 16);

      it('computes the Retry Integrity Tag over ODCID length || ODCID || Retry', () => {
        const tag = retryIntegrityTag(p, v.version, retryPseudoPacket(fromHex(DCID), body));
        assert.equal(toHex(tag), v.retry.slice(-32));
      });

      it('accepts the Retry for the client-chosen DCID', () => {
        assert.equal(verifyRetry(p, v.version, fromHex(DCID), retry), true);
      });

      it('rejects it for another ODCID, another version, a changed byte, or a truncated packet', () => {
        const other = v === V1 ? V2 : V1;
        assert.equal(verifyRetry(p, v.version, fromHex('8394c8f03e515709'), retry), false);
        assert.equal(verifyRetry(p, other.version, fromHex(DCID), retry), false);
        for (let i = 0; i < retry.length; i++) {
          const t = Uint8Array.from(retry);
          t[i] ^= 0x40;
          assert.equal(verifyRetry(p, v.version, fromHex(DCID), t), false, `byte ${i}`);
        }
        assert.equal(verifyRetry(p, v.version, fromHex(DCID), retry.subarray(0, 15)), false);
      });
    });
  }
}

describe('RFC 9001 §5.8 Retry tags agree between providers', () => {
  it('node and noble compute the same tag for any pseudo-packet', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(V1.version, V2.version),
        fc.uint8Array({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 200 }),
        (version, odcid, body) => {
          const pseudo = retryPseudoPacket(odcid, body);
          assert.equal(pseudo[0], odcid.length);
          const tag = retryIntegrityTag(nodeProvider, version, pseudo);
          assert.deepEqual(tag, retryIntegrityTag(nobleProvider, version, pseudo));
          const packet = new Uint8Array(body.length + 16);
          packet.set(body);
          packet.set(tag, body.length);
          assert.equal(verifyRetry(nobleProvider, version, odcid, packet), true);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('constant-time comparison', () => {
  it('is equality of length and bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), fc.uint8Array({ maxLength: 32 }), (a, b) => {
        assert.equal(constantTimeEqual(a, b), toHex(a) === toHex(b));
        assert.equal(constantTimeEqual(a, Uint8Array.from(a)), true);
      }),
    );
  });
});
