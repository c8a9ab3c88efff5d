/**
 * Stateless reset (RFC 9000 §10.3) from an endpoint that has no state for a packet's CID: the
 * token is recomputed from a static key and the CID (§10.3.2, the same derivation the
 * connection uses for the tokens it advertises), and the size rules keep resets from looping
 * or amplifying (§10.3, §10.3.3).
 */
import { statelessResetToken } from '../connection/cid.ts';
import { buildStatelessReset, MIN_STATELESS_RESET_LENGTH } from '../wire/packet-write.ts';

/**
 * The stateless reset token of one of our CIDs: HMAC-SHA256(key, cid) truncated to 16 bytes
 * (RFC 9000 §10.3.2). Re-exported from core/connection, which derives its tokens the same way.
 */
export { statelessResetToken };
export { MIN_STATELESS_RESET_LENGTH };

/** The largest stateless reset `buildStatelessResetFor` sends. */
export const MAX_STATELESS_RESET_LENGTH = 106;
/** Random bytes `buildStatelessResetFor` needs: one to pick the length, the rest unpredictable bits. */
export const STATELESS_RESET_RANDOM_BYTES = 1 + MAX_STATELESS_RESET_LENGTH - 16;

/** Below this, a reset might be identifiable as one by its size (RFC 9000 §10.3.3: 41 bytes). */
const INCONSPICUOUS_LENGTH = 42;

/**
 * How long a stateless reset answering a datagram of `triggerLength` bytes may be, or 0 when
 * none may be sent. RFC 9000 §10.3.3: strictly smaller than the trigger (so a loop of resets
 * shrinks and stops) and at least 21 bytes (§10.3), hence nothing for a trigger of 21 bytes or
 * fewer. §10.3: one byte shorter than a trigger of 43 bytes or fewer; otherwise a length from
 * 42 (not identifiable by size, §10.3.3) up to 105, picked by `randomByte`.
 */
export function statelessResetLength(triggerLength: number, randomByte: number): number {
  if (triggerLength <= MIN_STATELESS_RESET_LENGTH) return 0;
  if (triggerLength <= INCONSPICUOUS_LENGTH + 1) return triggerLength - 1;
  const choices = Math.min(
    triggerLength - INCONSPICUOUS_LENGTH,
    MAX_STATELESS_RESET_LENGTH - INCONSPICUOUS_LENGTH + 1,
  );
  return INCONSPICUOUS_LENGTH + ((randomByte & 0xff) % choices);
}

/**
 * Writes a stateless reset answering a datagram of `triggerLength` bytes into `out` and returns
 * its length, or 0 when the size rules forbid one (see `statelessResetLength`). `token` is the
 * reset token of the CID the trigger was sent to; `random` holds at least
 * STATELESS_RESET_RANDOM_BYTES fresh random bytes.
 */
export function buildStatelessResetFor(
  out: Uint8Array,
  triggerLength: number,
  token: Uint8Array,
  random: Uint8Array,
): number {
  if (random.length < STATELESS_RESET_RANDOM_BYTES)
    throw new RangeError(`need ${STATELESS_RESET_RANDOM_BYTES} random bytes`);
  const length = statelessResetLength(triggerLength, random[0]);
  if (length === 0) return 0;
  return buildStatelessReset(out, token, length, random.subarray(1));
}

/** A token bucket: `rate` tokens a second, holding at most `burst`. Time in ms (the caller's clock). */
export class TokenBucket {
  private tokens: number;
  private last: number | null = null;

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    if (!(rate >= 0) || !(burst >= 1)) throw new RangeError('a token bucket needs rate >= 0 and burst >= 1');
    this.tokens = burst;
  }

  /** Takes `n` tokens if there are that many at `now`; returns whether it did. */
  take(now: number, n = 1): boolean {
    if (this.last !== null && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    }
    if (this.last === null || now > this.last) this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Options of a `ResponseRateLimiter`. */
export interface ResponseRateLimiterOptions {
  /** Responses a second across all peers (default 200), and the burst (default 50). */
  rate?: number;
  burst?: number;
  /** Responses a second to one peer address (default 10), and the burst (default 5). */
  perPeerRate?: number;
  perPeerBurst?: number;
  /** Peers tracked at once; the oldest is forgotten beyond it (default 1024). */
  maxPeers?: number;
}

/**
 * Limits stateless responses (stateless resets, Version Negotiation, refusals): a global
 * bucket plus one per peer address, so one peer exhausting its share leaves the others theirs
 * (RFC 9000 §10.3.3 suggests separate limits per remote address).
 */
export class ResponseRateLimiter {
  private readonly global: TokenBucket;
  private readonly peers = new Map<string, TokenBucket>();
  private readonly perPeerRate: number;
  private readonly perPeerBurst: number;
  private readonly maxPeers: number;

  constructor(options: ResponseRateLimiterOptions = {}) {
    this.global = new TokenBucket(options.rate ?? 200, options.burst ?? 50);
    this.perPeerRate = options.perPeerRate ?? 10;
    this.perPeerBurst = options.perPeerBurst ?? 5;
    this.maxPeers = options.maxPeers ?? 1024;
  }

  /** Whether a response to `peer` (an address string) may be sent at `now`; counts it if so. */
  allow(peer: string, now: number): boolean {
    let bucket = this.peers.get(peer);
    if (bucket === undefined) {
      if (this.peers.size >= this.maxPeers) {
        const oldest = this.peers.keys().next().value;
        if (oldest !== undefined) this.peers.delete(oldest);
      }
      bucket = new TokenBucket(this.perPeerRate, this.perPeerBurst);
      this.peers.set(peer, bucket);
    }
    // Check the peer's bucket first so a throttled peer does not drain the global one.
    return bucket.take(now) && this.global.take(now);
  }
}
