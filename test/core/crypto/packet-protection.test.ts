import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleProvider } from '../../../core/crypto/noble.ts';
import { nodeProvider } from '../../../core/crypto/node.ts';
import { initialKeys } from '../../../core/crypto/initial.ts';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  derivePacketKeys,
  nextPacketKeys,
} from '../../../core/crypto/keys.ts';
import type { PacketKeys } from '../../../core/crypto/keys.ts';
import {
  applyHeaderProtection,
  openPayload,
  protectPacket,
  unprotectHeader,
} from '../../../core/crypto/packet-protection.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QUIC_VERSION_1 } from '../../../core/wire/version.ts';
import { DCID, V1, V2 } from './vectors.ts';

const PROVIDERS = [nodeProvider, nobleProvider];

/** header || payload || 16 free bytes for the tag. */
function unprotected(header: string, payload: Uint8Array): Uint8Array {
  const h = fromHex(header);
  const buf = new Uint8Array(h.length + payload.length + 16);
  buf.set(h);
  buf.set(payload, h.length);
  return buf;
}

/** Receives `packet` (a copy) with `keys`: HP removal, then AEAD; returns pn info and payload. */
function receive(keys: PacketKeys, packet: Uint8Array, pnOffset: number, fullPn: number) {
  const buf = Uint8Array.from(packet);
  const h = unprotectHeader(keys.hp, buf, 0, pnOffset);
  assert.ok(h);
  const payload = openPayload(keys, buf, 0, pnOffset, h.pnLength, buf.length, fullPn);
  return { h, buf, payload };
}

for (const p of PROVIDERS) {
  for (const v of [V1, V2]) {
    describe(`${v.name} packet protection [${p.name}]`, () => {
      const keys = initialKeys(p, v.version, fromHex(DCID));

      it('A.2 protects the client Initial (pn 2, 1162-byte payload) byte-exactly', () => {
        const payload = new Uint8Array(1162); // the CRYPTO frame, then PADDING (0x00) frames
        payload.set(fromHex(v.clientInitial.crypto));
        const buf = unprotected(v.clientInitial.header, payload);
        const n = protectPacket(keys.client, buf, 0, 18, 4, 1162, 2);
        assert.equal(n, 1200);
        assert.equal(toHex(buf.subarray(22, 38)), v.clientInitial.sample);
        assert.equal(toHex(buf), v.clientInitial.protectedPacket);
      });

      it('A.2 unprotects the client Initial back to its header and payload', () => {
        const { h, buf, payload } = receive(keys.client, fromHex(v.clientInitial.protectedPacket), 18, 2);
        assert.deepEqual(h, { pnLength: 4, truncatedPn: 2 });
        assert.equal(toHex(buf.subarray(0, 22)), v.clientInitial.header);
        assert.ok(payload);
        assert.equal(payload.length, 1162);
        assert.equal(toHex(payload.subarray(0, 245)), v.clientInitial.crypto);
        assert.ok(payload.subarray(245).every((b) => b === 0));
      });

      it('A.3 protects and unprotects the server Initial (pn 1, 2-byte pn)', () => {
        const buf = unprotected(v.serverInitial.header, fromHex(v.serverInitial.payload));
        assert.equal(protectPacket(keys.server, buf, 0, 18, 2, 99, 1), 135);
        assert.equal(toHex(buf), v.serverInitial.protectedPacket);
        const { h, payload } = receive(keys.server, buf, 18, 1);
        assert.deepEqual(h, { pnLength: 2, truncatedPn: 1 });
        assert.equal(payload && toHex(payload), v.serverInitial.payload);
      });

      it('A.5 protects a ChaCha20-Poly1305 short-header PING (pn 654360564, 3-byte pn) into 21 bytes', () => {
        const c = v.chacha;
        const k = derivePacketKeys(p, TLS_CHACHA20_POLY1305_SHA256, v.version, fromHex(c.secret));
        assert.equal(toHex(k.nonceFor(654360564)), c.nonce);
        const buf = unprotected(c.header, Uint8Array.of(0x01));
        assert.equal(protectPacket(k, buf, 0, 1, 3, 1, 654360564), 21);
        assert.equal(toHex(buf), c.packet);
        const { h, buf: plain, payload } = receive(k, buf, 1, 654360564);
        assert.deepEqual(h, { pnLength: 3, truncatedPn: 49140 });
        assert.equal(toHex(plain.subarray(0, 4)), c.header);
        assert.deepEqual(payload, Uint8Array.of(0x01));
      });

      it('A.2 header protection: applying it twice restores the protected header', () => {
        const buf = fromHex(v.clientInitial.protectedPacket);
        const h = unprotectHeader(keys.client.hp, buf, 0, 18);
        assert.ok(h);
        applyHeaderProtection(keys.client.hp, buf, 0, 18, h.pnLength);
        assert.equal(toHex(buf), v.clientInitial.protectedPacket);
      });
    });
  }

  describe(`RFC 9001 §5.3-5.4 packet protection properties [${p.name}]`, () => {
    const suites = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];

    it('round-trips any header form, pn length, offset and payload; a flipped bit fails authentication', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...suites),
          fc.uint8Array({ minLength: 48, maxLength: 48 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 2 ** 40 }),
          fc.uint8Array({ minLength: 3, maxLength: 300 }),
          fc.integer({ min: 0, max: 20 }),
          fc.nat(),
          (suite, secretBytes, long, pnLength, pn, payload, prefix, flipAt) => {
            const secret = secretBytes.subarray(0, suite.hash === 'sha384' ? 48 : 32);
            const keys = derivePacketKeys(p, suite, QUIC_VERSION_1, secret);
            // A datagram with `prefix` bytes of an earlier packet, a 1- or 6-byte header, the pn.
            const headerLength = long ? 6 : 1;
            const pnOffset = prefix + headerLength;
            const buf = new Uint8Array(pnOffset + pnLength + payload.length + 16);
            buf[prefix] = (long ? 0xc0 : 0x40) | (pnLength - 1);
            const truncated = pn % 2 ** (8 * pnLength);
            for (let i = 0; i < pnLength; i++) {
              buf[pnOffset + i] = Math.floor(truncated / 2 ** (8 * (pnLength - 1 - i))) & 0xff;
            }
            buf.set(payload, pnOffset + pnLength);
            const header = Uint8Array.from(buf.subarray(prefix, pnOffset + pnLength));
            const total = protectPacket(keys, buf, prefix, pnOffset, pnLength, payload.length, pn);
            assert.equal(total, buf.length - prefix);
            const wire = Uint8Array.from(buf);

            const h = unprotectHeader(keys.hp, buf, prefix, pnOffset);
            assert.ok(h);
            assert.deepEqual(h, { pnLength, truncatedPn: truncated });
            assert.deepEqual(buf.subarray(prefix, pnOffset + pnLength), header);
            assert.deepEqual(openPayload(keys, buf, prefix, pnOffset, pnLength, buf.length, pn), payload);
            // A wrong packet number (nonce) fails.
            assert.equal(openPayload(keys, buf, prefix, pnOffset, pnLength, buf.length, pn + 1), null);

            // Any flipped bit in the protected packet: removing HP may yield other pn bits, but the
            // AEAD must reject the packet.
            const tampered = Uint8Array.from(wire);
            const at = prefix + (flipAt % (wire.length - prefix));
            tampered[at] ^= 1 << (flipAt % 8);
            const th = unprotectHeader(keys.hp, tampered, prefix, pnOffset);
            if (th && th.pnLength === pnLength) {
              assert.equal(
                openPayload(keys, tampered, prefix, pnOffset, pnLength, tampered.length, pn),
                null,
              );
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('§5.4.2 returns null (drop) when the packet ends before a full sample', () => {
      const keys = initialKeys(p, QUIC_VERSION_1, fromHex(DCID)).client;
      const buf = new Uint8Array(40).fill(0xc0);
      assert.ok(unprotectHeader(keys.hp, Uint8Array.from(buf), 0, 20)); // sample [24, 40) fits exactly
      assert.equal(unprotectHeader(keys.hp, buf, 0, 21), null); // sample would end at 41
      assert.equal(unprotectHeader(keys.hp, buf, 0, 10, 29), null); // packet ends at 29, sample at 30
      assert.deepEqual(buf, new Uint8Array(40).fill(0xc0)); // nothing was modified
    });

    it('§5.3 rejects a payload shorter than the tag without throwing', () => {
      const keys = initialKeys(p, QUIC_VERSION_1, fromHex(DCID)).client;
      const buf = new Uint8Array(30);
      assert.equal(openPayload(keys, buf, 0, 10, 4, 29, 0), null);
    });

    it('§5.4.2 refuses to protect a payload too short to sample (the caller must pad)', () => {
      const keys = initialKeys(p, QUIC_VERSION_1, fromHex(DCID)).client;
      assert.throws(() => protectPacket(keys, new Uint8Array(64), 0, 1, 1, 2, 0), RangeError);
      assert.throws(() => protectPacket(keys, new Uint8Array(20), 0, 1, 2, 2, 0), RangeError);
    });

    it('§6.1 key update: new AEAD key and IV from "quic ku", header protection kept', () => {
      const k0 = derivePacketKeys(p, TLS_CHACHA20_POLY1305_SHA256, V1.version, fromHex(V1.chacha.secret));
      const k1 = nextPacketKeys(p, k0);
      assert.equal(toHex(k1.secret), V1.chacha.ku);
      assert.equal(k1.hp, k0.hp);
      assert.notEqual(toHex(k1.iv), toHex(k0.iv));
      const buf = unprotected('4200bff4', Uint8Array.of(1, 0, 0));
      protectPacket(k1, buf, 0, 1, 3, 3, 7);
      const h = unprotectHeader(k0.hp, buf, 0, 1); // same HP key across phases
      assert.ok(h);
      assert.equal(openPayload(k0, buf, 0, 1, h.pnLength, buf.length, 7), null);
      assert.deepEqual(openPayload(k1, buf, 0, 1, h.pnLength, buf.length, 7), Uint8Array.of(1, 0, 0));
    });
  });
}
