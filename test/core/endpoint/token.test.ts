import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nobleProvider, nodeProvider } from '../../../core/crypto/index.ts';
import { NEW_TOKEN_LIFETIME, RETRY_TOKEN_LIFETIME, TokenKey } from '../../../core/endpoint/token.ts';
import type { TokenValidation } from '../../../core/endpoint/token.ts';
import { fromHex } from '../../../core/wire/buffer.ts';

const SECRET = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const CLIENT = { address: '192.0.2.7', port: 51234 };
const ODCID = fromHex('8394c8f03e515708');
const RETRY_SCID = fromHex('f067a5502a4262b5');
const NOW = 1_700_000_000_000;

function reason(v: TokenValidation): string {
  return v.valid ? `valid ${v.kind}` : v.reason;
}

describe('RFC 9000 §8.1.2 Retry tokens', () => {
  const key = new TokenKey(SECRET);

  it('round-trips the original DCID, the Retry SCID and the version', () => {
    const token = key.mintRetryToken({
      odcid: ODCID,
      retryScid: RETRY_SCID,
      clientAddress: CLIENT,
      now: NOW,
      version: 1,
    });
    const v = key.validateToken(token, CLIENT, NOW + 50);
    assert.equal(v.valid, true);
    assert.ok(v.valid && v.kind === 'retry');
    assert.deepEqual(v.odcid, ODCID);
    assert.deepEqual(v.retryScid, RETRY_SCID);
    assert.equal(v.version, 1);
    assert.equal(v.issuedAt, NOW);
  });

  it('round-trips a zero-length ODCID and 20-byte CIDs', () => {
    const long = new Uint8Array(20).fill(0xab);
    for (const odcid of [new Uint8Array(0), long]) {
      const token = key.mintRetryToken({ odcid, retryScid: long, clientAddress: CLIENT, now: NOW });
      const v = key.validateToken(token, CLIENT, NOW);
      assert.ok(v.valid && v.kind === 'retry');
      assert.deepEqual(v.odcid, odcid);
      assert.equal(v.version, null);
    }
  });

  it('§8.1.4: is bound to the client IP address and port', () => {
    const token = key.mintRetryToken({
      odcid: ODCID,
      retryScid: RETRY_SCID,
      clientAddress: CLIENT,
      now: NOW,
    });
    assert.equal(
      reason(key.validateToken(token, { address: CLIENT.address, port: CLIENT.port + 1 }, NOW)),
      'wrong_address',
    );
    assert.equal(
      reason(key.validateToken(token, { address: '192.0.2.8', port: CLIENT.port }, NOW)),
      'wrong_address',
    );
    assert.equal(
      reason(key.validateToken(token, { address: '2001:db8::7', port: CLIENT.port }, NOW)),
      'wrong_address',
    );
  });

  it('§8.1.4: is accepted only for a short time (10 s by default)', () => {
    const token = key.mintRetryToken({
      odcid: ODCID,
      retryScid: RETRY_SCID,
      clientAddress: CLIENT,
      now: NOW,
    });
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + RETRY_TOKEN_LIFETIME)), 'valid retry');
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + RETRY_TOKEN_LIFETIME + 1)), 'expired');
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + 3000, { retryLifetime: 2000 })), 'expired');
  });

  it('is not accepted when issued in the future beyond the clock skew', () => {
    const token = key.mintRetryToken({
      odcid: ODCID,
      retryScid: RETRY_SCID,
      clientAddress: CLIENT,
      now: NOW,
    });
    assert.equal(reason(key.validateToken(token, CLIENT, NOW - 4000)), 'valid retry');
    assert.equal(reason(key.validateToken(token, CLIENT, NOW - 6000)), 'future');
  });
});

describe('RFC 9000 §8.1.3 NEW_TOKEN tokens', () => {
  const key = new TokenKey(SECRET);

  it('round-trip and are bound to the IP address only (the port changes between connections)', () => {
    const token = key.mintNewToken({ clientAddress: CLIENT, now: NOW });
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + 1000)), 'valid new_token');
    assert.equal(
      reason(key.validateToken(token, { address: CLIENT.address, port: 443 }, NOW)),
      'valid new_token',
    );
    assert.equal(
      reason(key.validateToken(token, { address: '192.0.2.99', port: CLIENT.port }, NOW)),
      'wrong_address',
    );
  });

  it('expire after 24 hours by default', () => {
    const token = key.mintNewToken({ clientAddress: CLIENT, now: NOW });
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + NEW_TOKEN_LIFETIME)), 'valid new_token');
    assert.equal(reason(key.validateToken(token, CLIENT, NOW + NEW_TOKEN_LIFETIME + 1)), 'expired');
    assert.equal(
      reason(key.validateToken(token, CLIENT, NOW + 61_000, { newTokenLifetime: 60_000 })),
      'expired',
    );
  });

  it('are unique for every NEW_TOKEN frame, even for the same client and time', () => {
    const a = key.mintNewToken({ clientAddress: CLIENT, now: NOW });
    const b = key.mintNewToken({ clientAddress: CLIENT, now: NOW });
    assert.notDeepEqual(a, b);
    const va = key.validateToken(a, CLIENT, NOW);
    const vb = key.validateToken(b, CLIENT, NOW);
    assert.ok(va.valid && vb.valid && va.id !== vb.id);
  });

  it('RFC 9369 §5: carry the QUIC version of the connection that sent them, or none', () => {
    for (const version of [0x00000001, 0x6b3343cf, 0xffffffff]) {
      const v = key.validateToken(
        key.mintNewToken({ clientAddress: CLIENT, now: NOW, version }),
        CLIENT,
        NOW,
      );
      assert.ok(v.valid && v.kind === 'new_token' && v.version === version);
    }
    const unbound = key.validateToken(key.mintNewToken({ clientAddress: CLIENT, now: NOW }), CLIENT, NOW);
    assert.ok(unbound.valid && unbound.kind === 'new_token' && unbound.version === null);
    for (const version of [0, -1, 1.5, 2 ** 32])
      assert.throws(() => key.mintNewToken({ clientAddress: CLIENT, now: NOW, version }), RangeError);
  });

  it('treat an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const token = key.mintNewToken({ clientAddress: { address: '::ffff:192.0.2.7', port: 1 }, now: NOW });
    assert.equal(reason(key.validateToken(token, CLIENT, NOW)), 'valid new_token');
    const v6 = key.mintNewToken({ clientAddress: { address: '2001:db8::1', port: 1 }, now: NOW });
    assert.equal(
      reason(key.validateToken(v6, { address: '2001:0db8:0:0::1', port: 2 }, NOW)),
      'valid new_token',
    );
  });
});

describe('RFC 9000 §8.1.4 token integrity', () => {
  const key = new TokenKey(SECRET);
  const retry = key.mintRetryToken({ odcid: ODCID, retryScid: RETRY_SCID, clientAddress: CLIENT, now: NOW });
  const newToken = key.mintNewToken({ clientAddress: CLIENT, now: NOW });

  it('a NEW_TOKEN token is never accepted as a Retry token, nor the reverse', () => {
    assert.equal(reason(key.validateToken(newToken, CLIENT, NOW, { expect: 'retry' })), 'wrong_kind');
    assert.equal(reason(key.validateToken(retry, CLIENT, NOW, { expect: 'new_token' })), 'wrong_kind');
    // Relabelling the kind byte breaks authentication: the kind is in the associated data.
    const relabelled = newToken.slice();
    relabelled[0] = retry[0];
    assert.equal(reason(key.validateToken(relabelled, CLIENT, NOW)), 'forged');
    const relabelled2 = retry.slice();
    relabelled2[0] = newToken[0];
    assert.equal(reason(key.validateToken(relabelled2, CLIENT, NOW)), 'forged');
  });

  it('any tampered byte makes the token invalid', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), (useRetry, at, flip) => {
        const t = (useRetry ? retry : newToken).slice();
        t[at % t.length] ^= flip;
        const v = key.validateToken(t, CLIENT, NOW);
        assert.equal(v.valid, false);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated, extended, empty and random tokens are invalid', () => {
    assert.equal(reason(key.validateToken(new Uint8Array(0), CLIENT, NOW)), 'malformed');
    assert.equal(reason(key.validateToken(retry.subarray(0, 20), CLIENT, NOW)), 'malformed');
    assert.equal(reason(key.validateToken(retry.subarray(0, retry.length - 1), CLIENT, NOW)), 'forged');
    const longer = new Uint8Array(retry.length + 1);
    longer.set(retry);
    assert.equal(reason(key.validateToken(longer, CLIENT, NOW)), 'forged');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.equal(key.validateToken(bytes, CLIENT, NOW).valid, false);
      }),
      { numRuns: 200 },
    );
  });

  it('a token sealed under another key is forged', () => {
    const other = new TokenKey(new Uint8Array(32).fill(7));
    assert.equal(reason(other.validateToken(retry, CLIENT, NOW)), 'forged');
    assert.equal(reason(other.validateToken(newToken, CLIENT, NOW)), 'forged');
  });

  it('tokens from the node provider open with the noble provider and back', () => {
    const a = new TokenKey(SECRET, nodeProvider);
    const b = new TokenKey(SECRET, nobleProvider);
    const t1 = a.mintRetryToken({ odcid: ODCID, retryScid: RETRY_SCID, clientAddress: CLIENT, now: NOW });
    assert.equal(reason(b.validateToken(t1, CLIENT, NOW)), 'valid retry');
    const t2 = b.mintNewToken({ clientAddress: CLIENT, now: NOW });
    assert.equal(reason(a.validateToken(t2, CLIENT, NOW)), 'valid new_token');
  });

  it('a key is 32 bytes; bad arguments are the caller’s RangeError', () => {
    assert.throws(() => new TokenKey(new Uint8Array(16)), RangeError);
    assert.throws(
      () =>
        key.mintRetryToken({
          odcid: new Uint8Array(21),
          retryScid: RETRY_SCID,
          clientAddress: CLIENT,
          now: NOW,
        }),
      RangeError,
    );
    assert.throws(
      () => key.mintNewToken({ clientAddress: { address: 'not-an-ip', port: 1 }, now: NOW }),
      RangeError,
    );
    assert.throws(() => key.mintNewToken({ clientAddress: CLIENT, now: Number.NaN }), RangeError);
  });
});
