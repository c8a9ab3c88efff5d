import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { qlogPacketType, toQlogPacketHeader } from '../../../core/trace/header.ts';
import {
  alpnIdentifier,
  hex,
  qlogVersion,
  tlsMessageTypeName,
  utf8OrNull,
} from '../../../core/trace/format.ts';
import { parseHeader } from '../../../core/wire/packet.ts';
import { fromHex } from '../../../core/wire/buffer.ts';
import { V1, V2 } from '../crypto/vectors.ts';

describe('qlog quic-events-13 §8.8 PacketHeader from parsed headers', () => {
  it('RFC 9001 A.2 client Initial: version, CIDs, Length; packet number from the caller', () => {
    const h = parseHeader(fromHex(V1.clientInitial.protectedPacket), 0, 0);
    assert.deepEqual(toQlogPacketHeader(h, { packetNumber: 2, packetNumberLength: 4 }), {
      packet_type: 'initial',
      version: '00000001',
      scil: 0,
      scid: '',
      dcil: 8,
      dcid: '8394c8f03e515708',
      packet_number_length: 4,
      packet_number: 2,
      length: 1182,
    });
  });

  it('RFC 9369 A.3 server Initial (QUIC v2)', () => {
    const h = parseHeader(fromHex(V2.serverInitial.protectedPacket), 0, 0);
    const q = toQlogPacketHeader(h, { packetNumber: 1 });
    assert.equal(q.packet_type, 'initial');
    assert.equal(q.version, '6b3343cf');
    assert.equal(q.scid, 'f067a5502a4262b5');
    assert.equal(q.packet_number, 1);
    assert.equal(q.token, undefined, 'no token field for an empty token');
  });

  it('RFC 9001 A.4 Retry: a retry Token, length only unless raw; no packet number', () => {
    const h = parseHeader(fromHex(V1.retry), 0, 0);
    assert.deepEqual(toQlogPacketHeader(h, { packetNumber: 7 }), {
      packet_type: 'retry',
      version: '00000001',
      scil: 8,
      scid: 'f067a5502a4262b5',
      dcil: 0,
      dcid: '',
      token: { type: 'retry', raw: { length: 5 } },
    });
    const raw = toQlogPacketHeader(h, { raw: true });
    assert.deepEqual(raw.token, { type: 'retry', raw: { length: 5, data: '746f6b656e' } });
  });

  it('RFC 9001 A.5 1-RTT: spin bit, key phase (or its bit), no version or scid', () => {
    const h = parseHeader(fromHex(V1.chacha.packet), 0, 0);
    assert.deepEqual(
      toQlogPacketHeader(h, { packetNumber: 654360564, packetNumberLength: 3, keyPhaseBit: false }),
      {
        packet_type: '1RTT',
        spin_bit: false, // first byte 0x4c: spin bit (0x20) clear
        key_phase_bit: false,
        dcil: 0,
        dcid: '',
        packet_number_length: 3,
        packet_number: 654360564,
      },
    );
    const withPhase = toQlogPacketHeader(h, { keyPhase: 3, keyPhaseBit: true });
    assert.equal(withPhase.key_phase, 3);
    assert.equal(withPhase.key_phase_bit, undefined, '§8.8: key_phase_bit only if key_phase is not set');
  });

  it('Version Negotiation: version 00000000 and no packet number', () => {
    // RFC 9000 §17.2.1: form bit, version 0, DCID, SCID, supported versions.
    const vn = fromHex('80' + '00000000' + '04' + 'aabbccdd' + '02' + '1122' + '00000001' + '6b3343cf');
    const q = toQlogPacketHeader(parseHeader(vn, 0, 0), { packetNumber: 1 });
    assert.deepEqual(q, {
      packet_type: 'version_negotiation',
      version: '00000000',
      scil: 2,
      scid: '1122',
      dcil: 4,
      dcid: 'aabbccdd',
    });
  });

  it('a long header of an unknown version is packet_type "unknown"', () => {
    const pkt = new Uint8Array(1200);
    pkt.set(fromHex('c0' + '1a2a3a4a' + '08' + '0102030405060708' + '00'));
    const q = toQlogPacketHeader(parseHeader(pkt, 0, 0), { packetNumber: 0 });
    assert.equal(q.packet_type, 'unknown');
    assert.equal(q.version, '1a2a3a4a');
    assert.equal(q.packet_number, undefined);
  });

  it('§8.6 packet type names', () => {
    assert.equal(qlogPacketType('0rtt'), '0RTT');
    assert.equal(qlogPacketType('1rtt'), '1RTT');
    assert.equal(qlogPacketType('handshake'), 'handshake');
    assert.equal(qlogPacketType('version_negotiation'), 'version_negotiation');
  });
});

describe('qlog data type formatting', () => {
  it('§8.1 QuicVersion is 8 hex digits', () => {
    assert.equal(qlogVersion(1), '00000001');
    assert.equal(qlogVersion(0xff00001d), 'ff00001d');
  });
  it('hexstrings are lowercase and can be truncated', () => {
    assert.equal(hex(Uint8Array.of(0, 0xab, 0xff)), '00abff');
    assert.equal(hex(Uint8Array.of(1, 2, 3), 2), '0102');
    assert.equal(hex(new Uint8Array(0)), '');
  });
  it('§5.2 ALPNIdentifier carries both forms when the bytes are UTF-8', () => {
    assert.deepEqual(alpnIdentifier('h3'), { byte_value: '6833', string_value: 'h3' });
    assert.deepEqual(alpnIdentifier(Uint8Array.of(0x68, 0x33)), { byte_value: '6833', string_value: 'h3' });
    assert.deepEqual(alpnIdentifier(Uint8Array.of(0xc0)), { byte_value: 'c0' });
  });
  it('UTF-8 decoding is strict', () => {
    assert.equal(utf8OrNull(Uint8Array.of(0xe2, 0x82, 0xac)), '€');
    assert.equal(utf8OrNull(Uint8Array.of(0xe2, 0x82)), null);
  });
  it('RFC 8446 §4 HandshakeType names', () => {
    assert.equal(tlsMessageTypeName(1), 'client_hello');
    assert.equal(tlsMessageTypeName(8), 'encrypted_extensions');
    assert.equal(tlsMessageTypeName(20), 'finished');
    assert.equal(tlsMessageTypeName(3), 'unknown');
  });
});
