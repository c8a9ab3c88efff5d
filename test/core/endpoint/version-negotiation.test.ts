import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { negotiateVersion } from '../../../core/endpoint/version-negotiation.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { isReservedVersion, QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';

/** A long-header datagram of `version` with the given CIDs, padded to `size`. */
function longHeader(version: number, dcid: Uint8Array, scid: Uint8Array, size = 1200): Uint8Array {
  const d = new Uint8Array(size);
  d[0] = 0xc0;
  new DataView(d.buffer).setUint32(1, version);
  d[5] = dcid.length;
  d.set(dcid, 6);
  d[6 + dcid.length] = scid.length;
  d.set(scid, 7 + dcid.length);
  return d;
}

const DCID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const SCID = Uint8Array.from([9, 10, 11, 12]);
const RANDOM = Uint8Array.from([0x3f, 0x10, 0x20, 0x30, 0x40]);

describe('RFC 9000 §6.1, §17.2.1 Version Negotiation', () => {
  it('answers an unknown version with our versions plus a greased one, CIDs swapped', () => {
    const out = new Uint8Array(1500);
    const n = negotiateVersion(longHeader(0x1a2a3a4a, DCID, SCID), out, RANDOM);
    assert.ok(n > 0);
    const h = parseHeader(out.subarray(0, n), 0, 0);
    assert.ok(h.type === 'version_negotiation');
    assert.deepEqual(h.dcid, SCID);
    assert.deepEqual(h.scid, DCID);
    assert.deepEqual(h.versions.slice(0, 2), [QUIC_VERSION_1, QUIC_VERSION_2]);
    assert.equal(h.versions.length, 3);
    assert.ok(isReservedVersion(h.versions[2]), `0x${h.versions[2].toString(16)} is reserved (§15)`);
    assert.notEqual(h.versions[2], 0x1a2a3a4a);
    // §17.2.1: the 0x40 bit SHOULD be set; the packet is smaller than the trigger.
    assert.equal(out[0] & 0xc0, 0xc0);
    assert.equal(n, 7 + DCID.length + SCID.length + 12);
  });

  it('never lists the client’s version, even when the grease draws it (§6.2)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (random) => {
        const grease =
          (((random[1] & 0xf0) << 24) |
            ((random[2] & 0xf0) << 16) |
            ((random[3] & 0xf0) << 8) |
            (random[4] & 0xf0) |
            0x0a0a0a0a) >>>
          0;
        const out = new Uint8Array(1500);
        const n = negotiateVersion(longHeader(grease, DCID, SCID), out, random);
        const h = parseHeader(out.subarray(0, n), 0, 0);
        assert.ok(h.type === 'version_negotiation');
        assert.ok(!h.versions.includes(grease));
        assert.ok(isReservedVersion(h.versions[2]));
      }),
      { numRuns: 100 },
    );
  });

  it('echoes CIDs of up to 255 bytes for versions other than ours (RFC 8999 §6)', () => {
    const big = new Uint8Array(255).fill(0xee);
    const out = new Uint8Array(1500);
    const n = negotiateVersion(longHeader(0xff00001d, big, DCID, 1300), out, RANDOM);
    const h = parseHeader(out.subarray(0, n), 0, 0);
    assert.ok(h.type === 'version_negotiation');
    assert.deepEqual(h.dcid, DCID);
    assert.deepEqual(h.scid, big);
  });

  it('§5.2.2, §14.1: nothing for a datagram under 1200 bytes', () => {
    assert.equal(negotiateVersion(longHeader(0x1a2a3a4a, DCID, SCID, 1199), new Uint8Array(1500), RANDOM), 0);
    assert.ok(negotiateVersion(longHeader(0x1a2a3a4a, DCID, SCID, 1200), new Uint8Array(1500), RANDOM) > 0);
  });

  it('§6.1: nothing for a Version Negotiation packet, a supported version, or a short header', () => {
    const out = new Uint8Array(1500);
    assert.equal(negotiateVersion(longHeader(0, DCID, SCID), out, RANDOM), 0);
    assert.equal(negotiateVersion(longHeader(QUIC_VERSION_1, DCID, SCID), out, RANDOM), 0);
    assert.equal(negotiateVersion(longHeader(QUIC_VERSION_2, DCID, SCID), out, RANDOM), 0);
    const short = new Uint8Array(1200).fill(0x41);
    assert.equal(negotiateVersion(short, out, RANDOM), 0);
  });

  it('needs five random bytes (a caller’s RangeError otherwise)', () => {
    assert.throws(
      () => negotiateVersion(longHeader(0x1a2a3a4a, DCID, SCID), new Uint8Array(1500), new Uint8Array(4)),
      RangeError,
    );
  });
});
