import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_VARINT,
  Reader,
  Writer,
  concatBytes,
  encodeVarint,
  fromHex,
  toHex,
} from '../../../core/wire/buffer.ts';
import { QuicError, TransportError } from '../../../core/wire/errors.ts';
import {
  TransportParameterId as ID,
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  isReservedTransportParameterId,
  transportParametersToQlog,
  versionInformationToQlog,
  type Role,
  type TransportParameters,
} from '../../../core/wire/transport-params.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2 } from '../../../core/wire/version.ts';

const isTpError = (e: unknown): boolean =>
  e instanceof QuicError && e.code === TransportError.TRANSPORT_PARAMETER_ERROR;

/** One raw parameter: id (i), length (i), value. */
function tp(id: number, valueHex: string): Uint8Array {
  const value = fromHex(valueHex);
  return concatBytes(encodeVarint(id), encodeVarint(value.length), value);
}

function vi(v: number): string {
  return toHex(encodeVarint(v));
}

function encode(params: TransportParameters, role: Role, grease?: Uint8Array): Uint8Array {
  const w = new Writer(new Uint8Array(4096));
  const n = encodeTransportParameters(w, params, role, grease ? { grease } : {});
  assert.equal(n, w.offset);
  return w.written();
}

function rejects(bytes: Uint8Array, role: Role, pattern?: RegExp): void {
  assert.throws(
    () => decodeTransportParameters(bytes, role),
    (e: unknown) => isTpError(e) && (pattern === undefined || pattern.test((e as QuicError).reason)),
  );
}

const CID = fromHex('8394c8f03e515708');
const TOKEN = fromHex('00112233445566778899aabbccddeeff');

function fullServerParameters(): TransportParameters {
  return {
    ...defaultTransportParameters(),
    originalDestinationConnectionId: CID,
    maxIdleTimeout: 30000,
    statelessResetToken: TOKEN,
    maxUdpPayloadSize: 1200,
    initialMaxData: MAX_VARINT,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 2 ** 53 - 1,
    initialMaxStreamDataUni: 65535,
    initialMaxStreamsBidi: 2 ** 60,
    initialMaxStreamsUni: 100,
    ackDelayExponent: 20,
    maxAckDelay: 2 ** 14 - 1,
    disableActiveMigration: true,
    preferredAddress: {
      ipv4Address: fromHex('c0000201'),
      ipv4Port: 443,
      ipv6Address: fromHex('20010db8000000000000000000000001'),
      ipv6Port: 8443,
      connectionId: fromHex('0a0b0c0d'),
      statelessResetToken: TOKEN,
    },
    activeConnectionIdLimit: 8,
    initialSourceConnectionId: fromHex('f067a5502a4262b5'),
    retrySourceConnectionId: new Uint8Array(0),
    versionInformation: {
      chosenVersion: QUIC_VERSION_2,
      availableVersions: [QUIC_VERSION_1, QUIC_VERSION_2],
    },
    maxDatagramFrameSize: 0,
    greaseQuicBit: true,
    unknownParameters: [{ id: 0x4143, value: fromHex('c0ffee') }],
  };
}

describe('RFC 9000 §18 transport parameter encoding', () => {
  it('decodes the client transport parameters of RFC 9001 Appendix A.2', () => {
    // The quic_transport_parameters extension (0x39) of the A.2 ClientHello.
    const ext = fromHex(
      '0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff',
    );
    const p = decodeTransportParameters(ext, 'client');
    assert.deepEqual(p, {
      ...defaultTransportParameters(),
      initialMaxData: MAX_VARINT,
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataBidiRemote: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: CID,
    });
    // Re-encoded in id order, the same eight parameters (same lengths) come out.
    const again = encode(p, 'client');
    assert.equal(again.length, ext.length);
    assert.deepEqual(decodeTransportParameters(again, 'client'), p);
  });

  it('means the §18.2 defaults when empty', () => {
    const p = decodeTransportParameters(new Uint8Array(0), 'server');
    assert.deepEqual(p, defaultTransportParameters());
    assert.equal(p.maxUdpPayloadSize, 65527);
    assert.equal(p.ackDelayExponent, 3);
    assert.equal(p.maxAckDelay, 25);
    assert.equal(p.activeConnectionIdLimit, 2);
    assert.equal(p.maxDatagramFrameSize, null);
    assert.equal(encode(p, 'client').length, 0, 'defaults are not sent');
  });

  it('writes integers, flags and byte strings byte-exact, in id order', () => {
    const p: TransportParameters = {
      ...defaultTransportParameters(),
      maxIdleTimeout: 10,
      disableActiveMigration: true,
      initialSourceConnectionId: fromHex('aabb'),
      maxDatagramFrameSize: 65535,
      greaseQuicBit: true,
    };
    assert.equal(toHex(encode(p, 'client')), '01010a' + '0c00' + '0f02aabb' + '20048000ffff' + '6ab200');
  });

  it('round-trips every parameter with edge values (0, 2^60, 2^62 - 1)', () => {
    const p = fullServerParameters();
    assert.deepEqual(decodeTransportParameters(encode(p, 'server'), 'server'), p);
    const zero = { ...defaultTransportParameters(), maxIdleTimeout: 0, maxAckDelay: 0, ackDelayExponent: 0 };
    assert.deepEqual(decodeTransportParameters(encode(zero, 'client'), 'client'), zero);
    const max = {
      ...defaultTransportParameters(),
      maxUdpPayloadSize: MAX_VARINT,
      maxDatagramFrameSize: MAX_VARINT,
    };
    assert.deepEqual(decodeTransportParameters(encode(max, 'client'), 'client'), max);
    assert.ok(toHex(encode(max, 'client')).includes('ffffffffffffffff'));
  });

  it('rejects every truncation inside a parameter; a cut between parameters is a shorter list', () => {
    const bytes = encode(fullServerParameters(), 'server');
    const boundaries = new Set<number>([0]);
    const r = new Reader(bytes);
    while (!r.done) {
      r.varint();
      r.bytes(r.varint());
      boundaries.add(r.offset);
    }
    assert.ok(boundaries.size > 15);
    for (let n = 0; n < bytes.length; n++) {
      if (boundaries.has(n)) decodeTransportParameters(bytes.subarray(0, n), 'server');
      else rejects(bytes.subarray(0, n), 'server');
    }
  });

  it('property: decode(encode(x)) == x for random valid parameters of either role', () => {
    const cid = fc.uint8Array({ maxLength: 20 });
    const n = fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 2 ** 30 }),
      fc.maxSafeNat(),
      fc.constant(MAX_VARINT),
    );
    const version = fc.integer({ min: 1, max: 0xffffffff });
    const arb = fc.record({
      role: fc.constantFrom<Role>('client', 'server'),
      odcid: fc.option(cid),
      maxIdleTimeout: n,
      srt: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 })),
      maxUdpPayloadSize: fc.oneof(fc.integer({ min: 1200, max: 65527 }), fc.constant(MAX_VARINT)),
      data: fc.tuple(n, n, n, n),
      streams: fc.tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(2 ** 60)),
      ackDelayExponent: fc.integer({ min: 0, max: 20 }),
      maxAckDelay: fc.integer({ min: 0, max: 2 ** 14 - 1 }),
      disableActiveMigration: fc.boolean(),
      preferredAddress: fc.option(
        fc.record({
          ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
          ipv4Port: fc.integer({ min: 0, max: 65535 }),
          ipv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          ipv6Port: fc.integer({ min: 0, max: 65535 }),
          connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }),
          statelessResetToken: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        }),
      ),
      activeConnectionIdLimit: fc.oneof(fc.integer({ min: 2, max: 100 }), fc.constant(MAX_VARINT)),
      iscid: fc.option(cid),
      rscid: fc.option(cid),
      versions: fc.option(fc.tuple(version, fc.array(version, { maxLength: 5 }))),
      maxDatagramFrameSize: fc.option(n),
      greaseQuicBit: fc.boolean(),
      unknown: fc.uniqueArray(
        fc.record({ id: fc.integer({ min: 0x40, max: 2 ** 40 }), value: fc.uint8Array({ maxLength: 12 }) }),
        { selector: (u) => u.id, maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const server = a.role === 'server';
        const p: TransportParameters = {
          originalDestinationConnectionId: server ? a.odcid : null,
          maxIdleTimeout: a.maxIdleTimeout,
          statelessResetToken: server ? a.srt : null,
          maxUdpPayloadSize: a.maxUdpPayloadSize,
          initialMaxData: a.data[0],
          initialMaxStreamDataBidiLocal: a.data[1],
          initialMaxStreamDataBidiRemote: a.data[2],
          initialMaxStreamDataUni: a.data[3],
          initialMaxStreamsBidi: a.streams[0],
          initialMaxStreamsUni: a.streams[1],
          ackDelayExponent: a.ackDelayExponent,
          maxAckDelay: a.maxAckDelay,
          disableActiveMigration: a.disableActiveMigration,
          preferredAddress: server && a.preferredAddress !== null ? { ...a.preferredAddress } : null,
          activeConnectionIdLimit: a.activeConnectionIdLimit,
          initialSourceConnectionId: a.iscid,
          retrySourceConnectionId: server ? a.rscid : null,
          versionInformation:
            a.versions === null
              ? null
              : {
                  chosenVersion: a.versions[0],
                  // A client's chosen version is among its available versions (RFC 9368 §3).
                  availableVersions: server ? a.versions[1] : [a.versions[0], ...a.versions[1]],
                },
          maxDatagramFrameSize: a.maxDatagramFrameSize,
          greaseQuicBit: a.greaseQuicBit,
          // (fc.record builds null-prototype objects: rebuild them as plain ones.)
          unknownParameters: a.unknown
            .filter((u) => !isKnown(u.id))
            .map((u) => ({ id: u.id, value: u.value })),
        };
        assert.deepEqual(decodeTransportParameters(encode(p, a.role), a.role), p);
      }),
      { numRuns: 500 },
    );
  });
});

function isKnown(id: number): boolean {
  return (Object.values(ID) as number[]).includes(id);
}

describe('RFC 9000 §18.1 reserved and unknown parameters', () => {
  it('recognises ids of the form 31 * N + 27', () => {
    for (const id of [27, 58, 31 * 1000 + 27]) assert.ok(isReservedTransportParameterId(id));
    for (const id of [0, 26, 28, 0x2ab2]) assert.ok(!isReservedTransportParameterId(id));
  });
  it('skips unknown and reserved parameters, listing their ids and values', () => {
    const bytes = concatBytes(tp(27, 'deadbeef'), tp(0x01, '0a'), tp(0x7fff, ''), tp(2 ** 62 - 1, '01'));
    const p = decodeTransportParameters(bytes, 'client');
    assert.equal(p.maxIdleTimeout, 10);
    assert.deepEqual(
      p.unknownParameters.map((u) => [u.id, toHex(u.value)]),
      [
        [27, 'deadbeef'],
        [0x7fff, ''],
        [MAX_VARINT, '01'],
      ],
    );
  });
  it('emits one greasing parameter from the random bytes given', () => {
    const bytes = encode(defaultTransportParameters(), 'client', fromHex('0102a1b2c3'));
    const p = decodeTransportParameters(bytes, 'client');
    assert.equal(p.unknownParameters.length, 1);
    const [g] = p.unknownParameters;
    assert.equal(g.id, 31 * 0x0102 + 27);
    assert.ok(isReservedTransportParameterId(g.id));
    assert.equal(toHex(g.value), 'a1b2c3');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 40 }), (random) => {
        const q = decodeTransportParameters(encode(fullServerParameters(), 'server', random), 'server');
        const last = q.unknownParameters[q.unknownParameters.length - 1];
        assert.ok(isReservedTransportParameterId(last.id));
        assert.deepEqual(last.value, random.subarray(2));
      }),
      { numRuns: 100 },
    );
  });
});

describe('RFC 9000 §18.2 and §7.4 rules: TRANSPORT_PARAMETER_ERROR', () => {
  it('rejects duplicate parameters, known or unknown (§7.4)', () => {
    rejects(concatBytes(tp(0x01, '0a'), tp(0x01, '0a')), 'client', /duplicate/);
    rejects(concatBytes(tp(0x0c, ''), tp(0x04, '01'), tp(0x0c, '')), 'client', /duplicate/);
    rejects(concatBytes(tp(27, ''), tp(27, '00')), 'client', /duplicate/);
    rejects(concatBytes(tp(2 ** 62 - 1, ''), tp(2 ** 62 - 1, '')), 'client', /duplicate/);
    // Two distinct ids above 2^53 that round to the same double are not duplicates.
    const big = (low: string) => concatBytes(fromHex('c0ffffffffffff' + low), fromHex('00'));
    const p = decodeTransportParameters(concatBytes(big('fe'), big('ff')), 'client');
    assert.equal(p.unknownParameters.length, 2);
  });
  const serverOnly: [string, Uint8Array][] = [
    ['original_destination_connection_id', tp(0x00, '0102')],
    ['stateless_reset_token', tp(0x02, toHex(TOKEN))],
    [
      'preferred_address',
      tp(0x0d, 'c0000201' + '01bb' + '00'.repeat(16) + '0000' + '04aabbccdd' + toHex(TOKEN)),
    ],
    ['retry_source_connection_id', tp(0x10, '0102')],
  ];
  for (const [name, bytes] of serverOnly) {
    it(`rejects ${name} from a client, accepts it from a server`, () => {
      rejects(bytes, 'client', new RegExp(`client sent ${name}`));
      decodeTransportParameters(bytes, 'server');
    });
  }
  const limits: [string, number, number, number][] = [
    // [name, id, smallest or largest valid value, first invalid value]
    ['max_udp_payload_size < 1200', ID.max_udp_payload_size, 1200, 1199],
    ['ack_delay_exponent > 20', ID.ack_delay_exponent, 20, 21],
    ['max_ack_delay >= 2^14', ID.max_ack_delay, 2 ** 14 - 1, 2 ** 14],
    ['active_connection_id_limit < 2', ID.active_connection_id_limit, 2, 1],
    ['initial_max_streams_bidi > 2^60', ID.initial_max_streams_bidi, 2 ** 60, 2 ** 60 + 2 ** 8],
    ['initial_max_streams_uni > 2^60', ID.initial_max_streams_uni, 2 ** 60, 2 ** 60 + 2 ** 8],
  ];
  for (const [rule, id, ok, bad] of limits) {
    it(`rejects ${rule}`, () => {
      decodeTransportParameters(tp(id, vi(ok)), 'client');
      rejects(tp(id, vi(bad)), 'client');
      if (id === ID.active_connection_id_limit) rejects(tp(id, '00'), 'client');
      if (id === ID.max_udp_payload_size) rejects(tp(id, '00'), 'client');
    });
  }
  it('rejects a stateless_reset_token that is not 16 bytes', () => {
    rejects(tp(0x02, '00'.repeat(15)), 'server', /stateless_reset_token/);
    rejects(tp(0x02, '00'.repeat(17)), 'server', /stateless_reset_token/);
    rejects(tp(0x02, ''), 'server');
  });
  it('rejects connection IDs over 20 bytes', () => {
    for (const id of [0x00, 0x0f, 0x10]) {
      decodeTransportParameters(tp(id, '11'.repeat(20)), 'server');
      rejects(tp(id, '11'.repeat(21)), 'server', /21 bytes/);
    }
    const pa = (cid: string) =>
      tp(
        0x0d,
        '00000000' +
          '0000' +
          '00'.repeat(16) +
          '0000' +
          vi(cid.length / 2).padStart(2, '0') +
          cid +
          toHex(TOKEN),
      );
    decodeTransportParameters(pa('11'.repeat(20)), 'server');
    rejects(pa('11'.repeat(21)), 'server', /21 bytes/);
  });
  it('rejects a preferred_address with a zero-length connection ID (§18.2)', () => {
    const bytes = tp(0x0d, 'c0000201' + '01bb' + '00'.repeat(16) + '0000' + '00' + toHex(TOKEN));
    rejects(bytes, 'server', /zero-length connection ID/);
  });
  it('rejects a preferred_address that is short or has trailing bytes', () => {
    const body = 'c0000201' + '01bb' + '00'.repeat(16) + '0000' + '0411223344' + toHex(TOKEN);
    decodeTransportParameters(tp(0x0d, body), 'server');
    rejects(tp(0x0d, body.slice(0, -2)), 'server');
    rejects(tp(0x0d, body + '00'), 'server', /trailing/);
  });
  it('rejects malformed version_information (RFC 9368 §4)', () => {
    decodeTransportParameters(tp(0x11, '00000001'), 'server'); // a server may list no versions
    decodeTransportParameters(tp(0x11, '00000001' + '6b3343cf00000001'), 'client');
    rejects(tp(0x11, ''), 'client', /version_information of 0 bytes/);
    rejects(tp(0x11, '0000'), 'client');
    rejects(tp(0x11, '00000001' + '0000'), 'server', /of 6 bytes/);
    rejects(tp(0x11, '00000000'), 'server', /chosen version 0/);
    rejects(tp(0x11, '00000001' + '00000000'), 'server', /available version 0/);
    // The client's chosen version must be among its available versions; a server's need not.
    rejects(tp(0x11, '00000001' + '6b3343cf'), 'client', /not among/);
    decodeTransportParameters(tp(0x11, '00000001' + '6b3343cf'), 'server');
  });
  it('rejects a value whose length does not match its content (§18)', () => {
    rejects(tp(0x01, '0a00'), 'client', /longer than its varint/); // 1-byte varint in 2 bytes
    rejects(tp(0x01, '40'), 'client'); // 2-byte varint in 1 byte
    rejects(tp(0x01, ''), 'client'); // empty integer
    decodeTransportParameters(tp(0x01, '400a'), 'client'); // a 2-byte encoding of 10 is fine
    rejects(tp(0x0c, '00'), 'client', /disable_active_migration must be empty/);
    rejects(tp(0x2ab2, '00'), 'client', /grease_quic_bit must be empty/); // RFC 9287 §3
    rejects(fromHex('0105'), 'client'); // length past the end
    rejects(fromHex('40'), 'client'); // truncated id
  });
});

describe('encoding refuses invalid parameters (a caller bug: RangeError)', () => {
  it('refuses server-only parameters for a client and out-of-range values', () => {
    const d = defaultTransportParameters();
    assert.throws(() => encode({ ...d, statelessResetToken: TOKEN }, 'client'), RangeError);
    assert.throws(() => encode({ ...d, ackDelayExponent: 21 }, 'server'), RangeError);
    assert.throws(() => encode({ ...d, maxIdleTimeout: -1 }, 'server'), RangeError);
    assert.throws(
      () => encode({ ...d, initialSourceConnectionId: new Uint8Array(21) }, 'server'),
      RangeError,
    );
    assert.throws(
      () => encode({ ...d, unknownParameters: [{ id: 0x01, value: new Uint8Array(0) }] }, 'server'),
      RangeError,
    );
    assert.throws(() => encode(d, 'server', new Uint8Array(1)), RangeError);
  });
});

describe('qlog quic:parameters_set fields (draft-ietf-quic-qlog-quic-events-13 §5.3)', () => {
  it('uses snake_case names, hexstrings and address text', () => {
    const q = transportParametersToQlog(fullServerParameters());
    assert.deepEqual(q, {
      original_destination_connection_id: '8394c8f03e515708',
      initial_source_connection_id: 'f067a5502a4262b5',
      retry_source_connection_id: '',
      stateless_reset_token: '00112233445566778899aabbccddeeff',
      disable_active_migration: true,
      max_idle_timeout: 30000,
      max_udp_payload_size: 1200,
      ack_delay_exponent: 20,
      max_ack_delay: 16383,
      active_connection_id_limit: 8,
      initial_max_data: MAX_VARINT,
      initial_max_stream_data_bidi_local: 0,
      initial_max_stream_data_bidi_remote: 2 ** 53 - 1,
      initial_max_stream_data_uni: 65535,
      initial_max_streams_bidi: 2 ** 60,
      initial_max_streams_uni: 100,
      preferred_address: {
        ip_v4: '192.0.2.1',
        port_v4: 443,
        ip_v6: '2001:0db8:0000:0000:0000:0000:0000:0001',
        port_v6: 8443,
        connection_id: '0a0b0c0d',
        stateless_reset_token: '00112233445566778899aabbccddeeff',
      },
      unknown_parameters: [{ id: 0x4143, value: 'c0ffee' }],
      max_datagram_frame_size: 0,
      grease_quic_bit: true,
    });
    const d = transportParametersToQlog(defaultTransportParameters());
    assert.equal('max_datagram_frame_size' in d, false);
    assert.equal('preferred_address' in d, false);
  });
  it('maps version_information to the quic:version_information fields', () => {
    const v = { chosenVersion: QUIC_VERSION_1, availableVersions: [QUIC_VERSION_1, QUIC_VERSION_2] };
    assert.deepEqual(versionInformationToQlog(v, 'client'), {
      chosen_version: '00000001',
      client_versions: ['00000001', '6b3343cf'],
    });
    assert.deepEqual(versionInformationToQlog({ chosenVersion: 1, availableVersions: [] }, 'server'), {
      chosen_version: '00000001',
    });
  });
});
