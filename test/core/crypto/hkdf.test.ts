import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { deriveSecret, hkdfExpandLabel, hkdfLabel } from '../../../core/crypto/hkdf.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';

const EMPTY = new Uint8Array(0);

describe('RFC 8446 §7.1 HkdfLabel', () => {
  // RFC 9001 A.1 and RFC 9369 A.1 list the HkdfLabel structures they expand with.
  const labels: [string, number, string][] = [
    ['client in', 32, '00200f746c73313320636c69656e7420696e00'],
    ['server in', 32, '00200f746c7331332073657276657220696e00'],
    ['quic key', 16, '00100e746c7331332071756963206b657900'],
    ['quic iv', 12, '000c0d746c733133207175696320697600'],
    ['quic hp', 16, '00100d746c733133207175696320687000'],
    ['quicv2 key', 16, '001010746c73313320717569637632206b657900'],
    ['quicv2 iv', 12, '000c0f746c7331332071756963763220697600'],
    ['quicv2 hp', 16, '00100f746c7331332071756963763220687000'],
  ];
  for (const [label, length, hex] of labels) {
    it(`encodes "${label}" with length ${length} as in RFC 9001 / RFC 9369 A.1`, () => {
      assert.equal(toHex(hkdfLabel(label, EMPTY, length)), hex);
    });
  }

  it('rejects a context longer than 255 bytes and a non-ASCII label', () => {
    assert.throws(() => hkdfLabel('x', new Uint8Array(256), 32), RangeError);
    assert.throws(() => hkdfLabel('é', EMPTY, 32), RangeError);
  });
});

for (const p of [nodeProvider, nobleProvider]) {
  describe(`RFC 8446 §7.1 Derive-Secret (RFC 8448 §3 trace) [${p.name}]`, () => {
    it('derives the "derived" secret from the early secret and the empty transcript', () => {
      const early = fromHex('33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a');
      const emptyHash = p.hash('sha256', EMPTY);
      assert.equal(toHex(emptyHash), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      assert.equal(
        toHex(deriveSecret(p, 'sha256', early, 'derived', emptyHash)),
        '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
      );
      assert.equal(
        toHex(hkdfExpandLabel(p, 'sha256', early, 'derived', emptyHash, 32)),
        '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
      );
    });

    it('derives the early secret with HKDF-Extract(0, 0) (RFC 8448 §3)', () => {
      assert.equal(
        toHex(p.hkdfExtract('sha256', EMPTY, new Uint8Array(32))),
        '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a',
      );
    });
  });
}
