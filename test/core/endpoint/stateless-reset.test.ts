import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { nobleProvider, nodeProvider } from '../../../core/crypto/index.ts';
import {
  buildStatelessResetFor,
  MAX_STATELESS_RESET_LENGTH,
  ResponseRateLimiter,
  STATELESS_RESET_RANDOM_BYTES,
  statelessResetLength,
  statelessResetToken,
  TokenBucket,
} from '../../../core/endpoint/stateless-reset.ts';
import { fromHex, toHex } from '../../../core/wire/buffer.ts';
import { statelessResetTokenCandidate } from '../../../core/wire/packet-write.ts';

const KEY = fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf');
const CID = fromHex('0011223344556677');

describe('RFC 9000 §10.3.2 stateless reset tokens', () => {
  it('are HMAC-SHA256(static key, CID) truncated to 16 bytes, with either provider', () => {
    const expected = createHmac('sha256', KEY).update(CID).digest().subarray(0, 16);
    for (const p of [nodeProvider, nobleProvider]) {
      const token = statelessResetToken(p, KEY, CID);
      assert.equal(token.length, 16);
      assert.equal(toHex(token), toHex(expected));
    }
  });

  it('differ per CID and per key', () => {
    const a = statelessResetToken(nodeProvider, KEY, CID);
    const b = statelessResetToken(nodeProvider, KEY, fromHex('0011223344556678'));
    const c = statelessResetToken(nodeProvider, new Uint8Array(32), CID);
    assert.notEqual(toHex(a), toHex(b));
    assert.notEqual(toHex(a), toHex(c));
  });
});

describe('RFC 9000 §10.3, §10.3.3 stateless reset size and looping', () => {
  it('never answers a datagram of 21 bytes or fewer', () => {
    for (let n = 0; n <= 21; n++) assert.equal(statelessResetLength(n, 0), 0);
  });

  it('§10.3: answers a trigger of 22..43 bytes with one byte less', () => {
    for (let n = 22; n <= 43; n++)
      for (const r of [0, 77, 255]) assert.equal(statelessResetLength(n, r), n - 1);
  });

  it('is always strictly smaller than the trigger, at least 21 bytes, and bounded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 22, max: 65535 }), fc.integer({ min: 0, max: 255 }), (n, r) => {
        const len = statelessResetLength(n, r);
        assert.ok(len < n && len >= 21 && len <= MAX_STATELESS_RESET_LENGTH, `${n} -> ${len}`);
        // §10.3: never three times the trigger or more (amplification).
        assert.ok(len < 3 * n);
        // §10.3.3: over 43 bytes, at least 42 so its size does not give it away.
        if (n > 43) assert.ok(len >= 42);
      }),
    );
  });

  it('§10.3.3: two endpoints resetting each other stop: each answer is smaller', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 22, max: 1500 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1500, maxLength: 1500 }),
        (start, randoms) => {
          let size = start;
          let rounds = 0;
          while (size > 0) {
            size = statelessResetLength(size, randoms[rounds % randoms.length]);
            rounds++;
            assert.ok(rounds < start, 'the exchange of resets must end');
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('writes fixed bits 01, unpredictable bytes and the token at the end', () => {
    const token = statelessResetToken(nodeProvider, KEY, CID);
    const random = new Uint8Array(STATELESS_RESET_RANDOM_BYTES).fill(0xff);
    const out = new Uint8Array(200);
    const n = buildStatelessResetFor(out, 1200, token, random);
    assert.ok(n >= 42 && n <= MAX_STATELESS_RESET_LENGTH);
    assert.equal(out[0] & 0xc0, 0x40); // §10.3 Figure 10: short-header form, fixed bit 1
    assert.equal(out[1], 0xff);
    assert.deepEqual(statelessResetTokenCandidate(out.subarray(0, n)), token);
    assert.equal(buildStatelessResetFor(out, 21, token, random), 0);
    assert.equal(buildStatelessResetFor(out, 22, token, random), 21);
  });

  it('needs enough random bytes (a caller’s RangeError otherwise)', () => {
    assert.throws(
      () => buildStatelessResetFor(new Uint8Array(200), 100, new Uint8Array(16), new Uint8Array(10)),
      RangeError,
    );
  });
});

describe('rate limiting of stateless responses (RFC 9000 §10.3.3)', () => {
  it('a token bucket allows its burst, then its rate', () => {
    const b = new TokenBucket(10, 3); // 10 a second, burst 3
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(50), false); // half a token
    assert.equal(b.take(100), true); // one token after 100 ms
    assert.equal(b.take(100), false);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), true);
    assert.equal(b.take(10_000), false); // capped at the burst
    assert.equal(b.take(5_000), false); // time going backwards adds nothing
  });

  it('limits each peer separately, and all peers together', () => {
    const l = new ResponseRateLimiter({ rate: 0, burst: 4, perPeerRate: 0, perPeerBurst: 2 });
    assert.deepEqual([l.allow('a', 0), l.allow('a', 0), l.allow('a', 0)], [true, true, false]);
    assert.deepEqual([l.allow('b', 0), l.allow('b', 0)], [true, true]);
    assert.equal(l.allow('c', 0), false); // the global burst of 4 is spent
  });

  it('a throttled peer does not use up the global budget', () => {
    const l = new ResponseRateLimiter({ rate: 0, burst: 3, perPeerRate: 0, perPeerBurst: 1 });
    for (let i = 0; i < 100; i++) l.allow('noisy', 0);
    assert.equal(l.allow('x', 0), true);
    assert.equal(l.allow('y', 0), true);
  });

  it('forgets the oldest peer beyond maxPeers', () => {
    const l = new ResponseRateLimiter({
      rate: 1000,
      burst: 1000,
      perPeerRate: 0,
      perPeerBurst: 1,
      maxPeers: 2,
    });
    assert.equal(l.allow('a', 0), true);
    assert.equal(l.allow('a', 0), false);
    l.allow('b', 0);
    l.allow('c', 0); // evicts 'a'
    assert.equal(l.allow('a', 0), true);
  });
});
