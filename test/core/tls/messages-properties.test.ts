import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Writer, fromHex, toHex } from '../../../core/wire/buffer.ts';
import { QuicError } from '../../../core/wire/errors.ts';
import { ExtensionType, isGrease16, isGreaseAlpn } from '../../../core/tls/constants.ts';
import { RECOGNIZED } from '../../../core/tls/extensions.ts';
import type { Extension } from '../../../core/tls/extensions.ts';
import {
  decodeClientHello,
  decodeHandshake,
  encodeClientHello,
  serializeHandshake,
} from '../../../core/tls/messages.ts';
import type { ClientHello, ClientHelloExtensions, HandshakeMessage } from '../../../core/tls/messages.ts';
import { TRACE_MESSAGES } from './vectors-tls13-draft07.ts';

const h = fromHex;

function decodeWhole(hex: string): HandshakeMessage {
  const m = h(hex);
  return decodeHandshake(m[0], m.subarray(4), 32);
}

describe('RFC 8701 GREASE values are ignored', () => {
  it('in cipher suites, groups, signature algorithms, versions, key shares, PSK modes, ALPN and extension types', () => {
    const ch: ClientHello = {
      kind: 'client_hello',
      random: new Uint8Array(32).fill(7),
      cipherSuites: [0x3a3a, 0x1301, 0xfafa],
      extensions: {
        supportedGroups: [0x0a0a, 0x1d],
        signatureAlgorithms: [0x0403, 0x5a5a],
        supportedVersions: [0x7a7a, 0x0304],
        keyShares: [
          { group: 0x2a2a, keyExchange: h('00') },
          { group: 0x1d, keyExchange: new Uint8Array(32).fill(1) },
        ],
        pskKeyExchangeModes: [0x0b, 1, 0xe4],
        alpn: ['\x1a\x1a', 'h3'],
      },
      rawExtensions: [{ type: 0xdada, data: h('') }],
    };
    const back = decodeWhole(toHex(serializeHandshake(ch)));
    assert.ok(back.kind === 'client_hello');
    assert.deepEqual(back.cipherSuites, [0x1301]);
    assert.deepEqual(back.extensions, {
      supportedGroups: [0x1d],
      signatureAlgorithms: [0x0403],
      supportedVersions: [0x0304],
      keyShares: [{ group: 0x1d, keyExchange: new Uint8Array(32).fill(1) }],
      pskKeyExchangeModes: [1],
      alpn: ['h3'],
    });
    assert.equal(back.rawExtensions?.[0].type, 0xdada);
    assert.ok(isGrease16(0xdada) && !isGrease16(0xdadb) && !isGrease16(0x1a2a));
  });
});

// ---------------------------------------------------------------------------------------
// Properties

const u16 = fc.integer({ min: 0, max: 0xffff }).filter((v) => !isGrease16(v));
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const name = fc.string({
  minLength: 1,
  maxLength: 20,
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'),
});

const chExtensions: fc.Arbitrary<ClientHelloExtensions> = fc.record(
  {
    serverName: name,
    supportedGroups: fc.array(u16, { minLength: 1, maxLength: 8 }),
    signatureAlgorithms: fc.array(u16, { minLength: 1, maxLength: 8 }),
    signatureAlgorithmsCert: fc.array(u16, { minLength: 1, maxLength: 4 }),
    // 'jj' or 'zz' would be GREASE ALPN identifiers (RFC 8701), which decoding rightly drops.
    alpn: fc.array(
      name.filter((n) => !isGreaseAlpn(n)),
      { minLength: 1, maxLength: 4 },
    ),
    keyShares: fc.uniqueArray(
      fc.record({ group: u16, keyExchange: bytes(1, 70) }, { noNullPrototype: true }),
      {
        maxLength: 3,
        selector: (k) => k.group,
      },
    ),
    supportedVersions: fc.array(u16, { minLength: 1, maxLength: 4 }),
    cookie: bytes(1, 60),
    pskKeyExchangeModes: fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 2 }),
    earlyData: fc.constant(true as const),
    preSharedKey: fc
      .array(fc.tuple(bytes(1, 40), fc.nat({ max: 0xffffffff }), bytes(32, 48)), {
        minLength: 1,
        maxLength: 3,
      })
      .map((l) => ({
        identities: l.map(([identity, obfuscatedTicketAge]) => ({ identity, obfuscatedTicketAge })),
        binders: l.map(([, , b]) => b),
      })),
    quicTransportParameters: bytes(0, 80),
  },
  { requiredKeys: [], noNullPrototype: true },
);

const unknownExtensions = fc.uniqueArray(
  fc.record(
    {
      type: u16.filter((t) => !RECOGNIZED.has(t)),
      data: bytes(0, 20),
    },
    { noNullPrototype: true },
  ),
  { maxLength: 3, selector: (x) => x.type },
);

describe('RFC 8446 §4.1.2 ClientHello round trip (property)', () => {
  it('decode(encode(ch)) gives back every field; re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(
        bytes(32, 32),
        fc.array(u16, { minLength: 1, maxLength: 10 }),
        chExtensions,
        unknownExtensions,
        (random, cipherSuites, extensions, unknown) => {
          const ch: ClientHello = {
            kind: 'client_hello',
            random,
            cipherSuites,
            extensions,
            rawExtensions: unknown,
          };
          const w = new Writer(new Uint8Array(8192));
          const n = encodeClientHello(w, ch);
          const enc = w.buf.slice(0, n);
          assert.equal(enc[0], 1);
          assert.equal((enc[1] << 16) | (enc[2] << 8) | enc[3], n - 4);
          const back = decodeClientHello(enc.subarray(4));
          assert.deepEqual(back.random, random);
          assert.deepEqual(back.cipherSuites, cipherSuites);
          assert.deepEqual(back.extensions, extensions);
          for (const u of unknown)
            assert.deepEqual(back.rawExtensions?.find((x) => x.type === u.type)?.data, u.data);
          if (extensions.preSharedKey !== undefined) {
            assert.equal(back.rawExtensions?.at(-1)?.type, ExtensionType.pre_shared_key);
          }
          assert.deepEqual(serializeHandshake(back), enc);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RFC 8446 §4 server messages round trip (property)', () => {
  it('ServerHello, HelloRetryRequest, EncryptedExtensions, Certificate, NewSessionTicket', () => {
    const share = fc.record({ group: u16, keyExchange: bytes(1, 70) }, { noNullPrototype: true });
    const message: fc.Arbitrary<HandshakeMessage> = fc.oneof(
      fc.record(
        {
          kind: fc.constant('server_hello' as const),
          random: bytes(32, 32).filter((r) => r[0] !== 0xcf),
          cipherSuite: u16,
          extensions: fc.record(
            { supportedVersion: u16, keyShare: share, preSharedKey: u16 },
            { requiredKeys: [], noNullPrototype: true },
          ),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          kind: fc.constant('hello_retry_request' as const),
          cipherSuite: u16,
          extensions: fc.record(
            { supportedVersion: u16, selectedGroup: u16, cookie: bytes(1, 50) },
            { requiredKeys: [], noNullPrototype: true },
          ),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          kind: fc.constant('encrypted_extensions' as const),
          extensions: fc.record(
            {
              serverName: fc.constant(true as const),
              supportedGroups: fc.array(u16, { minLength: 1, maxLength: 5 }),
              alpn: name,
              earlyData: fc.constant(true as const),
              quicTransportParameters: bytes(0, 60),
            },
            { requiredKeys: [], noNullPrototype: true },
          ),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          kind: fc.constant('certificate' as const),
          context: bytes(0, 4),
          entries: fc.array(
            fc.record(
              {
                data: bytes(1, 300),
                extensions: fc.constantFrom<Extension[]>([], [{ type: 5, data: h('0102') }]),
              },
              { noNullPrototype: true },
            ),
            { maxLength: 3 },
          ),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          kind: fc.constant('new_session_ticket' as const),
          lifetime: fc.nat({ max: 604800 }),
          ageAdd: fc.nat({ max: 0xffffffff }),
          nonce: bytes(0, 8),
          ticket: bytes(1, 200),
          extensions: fc.record(
            { maxEarlyDataSize: fc.nat({ max: 0xffffffff }) },
            { requiredKeys: [], noNullPrototype: true },
          ),
        },
        { noNullPrototype: true },
      ),
    );
    fc.assert(
      fc.property(message, (m) => {
        const enc = serializeHandshake(m);
        const back = decodeHandshake(enc[0], enc.subarray(4), 32) as unknown as Record<string, unknown>;
        delete back.rawExtensions;
        assert.deepEqual(back, m);
        assert.deepEqual(serializeHandshake(back as unknown as HandshakeMessage), enc);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decoders never throw anything but a QuicError on bad input (property)', () => {
  const isQuicError = (e: unknown) => e instanceof QuicError;
  const tryDecode = (type: number, b: Uint8Array) => {
    try {
      decodeHandshake(type, b, 32);
    } catch (e) {
      assert.ok(isQuicError(e), `untyped error ${String(e)}`);
    }
  };

  it('random bodies of every message type', () => {
    fc.assert(fc.property(fc.constantFrom(1, 2, 4, 5, 8, 11, 13, 15, 20, 24, 77), bytes(0, 300), tryDecode), {
      numRuns: 2000,
    });
  });

  it('trace messages with one byte changed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRACE_MESSAGES.map(([, hex]) => h(hex))),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (m, pos, x) => {
          const b = m.slice(4);
          b[pos % b.length] ^= x;
          tryDecode(m[0], b);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
