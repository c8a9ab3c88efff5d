import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  QLOG_PACKET_TYPE,
  QUIC_VERSION_1,
  QUIC_VERSION_2,
  greaseVersion,
  isReservedVersion,
  isSupportedVersion,
  longPacketType,
  longPacketTypeBits,
  versionToHex,
  type LongPacketType,
} from '../../../core/wire/version.ts';

describe('RFC 9000 §15 versions', () => {
  it('knows v1 and v2 (RFC 9369 §3.1: 0x6b3343cf)', () => {
    assert.equal(QUIC_VERSION_1, 1);
    assert.equal(QUIC_VERSION_2, 0x6b3343cf);
    assert.ok(isSupportedVersion(QUIC_VERSION_1));
    assert.ok(isSupportedVersion(QUIC_VERSION_2));
    for (const v of [0, 2, 0xff00001d, 0x1a2a3a4a]) assert.ok(!isSupportedVersion(v), versionToHex(v));
  });

  it('recognises the reserved pattern 0x?a?a?a?a', () => {
    for (const v of [0x0a0a0a0a, 0x1a2a3a4a, 0xfafafafa, 0xea0a5aca]) assert.ok(isReservedVersion(v));
    for (const v of [0, 1, QUIC_VERSION_2, 0x0a0a0a0b, 0xa0a0a0a0, 0x0a0a0b1a]) {
      assert.ok(!isReservedVersion(v), versionToHex(v));
    }
  });

  it('makes greasing versions that are always reserved and never supported', () => {
    assert.equal(greaseVersion(new Uint8Array([0x12, 0x34, 0x56, 0x78])), 0x1a3a5a7a);
    assert.equal(greaseVersion(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xfafafafa);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (r) => {
        const v = greaseVersion(r);
        assert.ok(v >= 0 && v <= 0xffffffff);
        assert.ok(isReservedVersion(v));
        assert.ok(!isSupportedVersion(v));
      }),
    );
    assert.throws(() => greaseVersion(new Uint8Array(3)), RangeError);
  });

  it('formats versions as 8 hex digits for qlog', () => {
    assert.equal(versionToHex(QUIC_VERSION_1), '00000001');
    assert.equal(versionToHex(0xfafafafa), 'fafafafa');
  });
});

describe('RFC 9000 §17.2 Table 5 and RFC 9369 §3.2 long packet types', () => {
  const v1: [number, LongPacketType][] = [
    [0, 'initial'],
    [1, '0rtt'],
    [2, 'handshake'],
    [3, 'retry'],
  ];
  const v2: [number, LongPacketType][] = [
    [1, 'initial'],
    [2, '0rtt'],
    [3, 'handshake'],
    [0, 'retry'],
  ];
  it('maps v1 type bits both ways', () => {
    for (const [bits, type] of v1) {
      assert.equal(longPacketType(QUIC_VERSION_1, bits), type);
      assert.equal(longPacketTypeBits(QUIC_VERSION_1, type), bits);
    }
  });
  it('maps v2 type bits both ways', () => {
    for (const [bits, type] of v2) {
      assert.equal(longPacketType(QUIC_VERSION_2, bits), type);
      assert.equal(longPacketTypeBits(QUIC_VERSION_2, type), bits);
    }
  });
  it('has no type for an unsupported version', () => {
    assert.equal(longPacketType(0x0a0a0a0a, 0), null);
    assert.throws(() => longPacketTypeBits(0x0a0a0a0a, 'initial'), RangeError);
  });
  it('maps packet types to qlog names', () => {
    assert.deepEqual(QLOG_PACKET_TYPE, {
      initial: 'initial',
      '0rtt': '0RTT',
      handshake: 'handshake',
      retry: 'retry',
      version_negotiation: 'version_negotiation',
      '1rtt': '1RTT',
    });
  });
});
