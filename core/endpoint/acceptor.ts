/**
 * What a server does with a datagram that matches no connection (RFC 9000 §5.2.2), sans-IO:
 * answer a version it does not accept with Version Negotiation (§6.1), a short header with a stateless
 * reset (§10.3), a client Initial with a new connection, a Retry (§8.1.2) or a refusal (§5.2.2),
 * and drop everything else. The embedder parses the routing fields, looks the DCID up in its
 * CidRouter, and calls `decide` on a miss; it sends what `decide` wrote, or creates the connection.
 */
import type { Address } from '../connection/types.ts';
import { getProvider } from '../crypto/index.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { ReplayFilter } from '../tls/index.ts';
import { bytesEqual } from '../wire/buffer.ts';
import { TransportError } from '../wire/errors.ts';
import type { DatagramRouting } from '../wire/packet.ts';
import { SUPPORTED_VERSIONS } from '../wire/version.ts';
import { buildInitialClose } from './initial-close.ts';
import { buildRetryPacket } from './retry.ts';
import {
  buildStatelessResetFor,
  ResponseRateLimiter,
  STATELESS_RESET_RANDOM_BYTES,
  statelessResetToken,
} from './stateless-reset.ts';
import type { TokenKey } from './token.ts';
import {
  MIN_INITIAL_DATAGRAM_SIZE,
  negotiateVersion,
  VERSION_NEGOTIATION_RANDOM_BYTES,
} from './version-negotiation.ts';

/** Why a datagram was dropped without an answer. */
export type DropReason =
  /** An Initial in a datagram under 1200 bytes (RFC 9000 §14.1). */
  | 'initial_too_small'
  /** A client Initial whose DCID is under 8 bytes (RFC 9000 §7.2). */
  | 'short_dcid'
  /** An unknown version in a datagram under 1200 bytes (RFC 9000 §5.2.2). */
  | 'unsupported_version_too_small'
  /** A Version Negotiation packet: never answered (RFC 9000 §6.1). */
  | 'version_negotiation'
  /** A 0-RTT, Handshake or Retry packet for no connection (RFC 9000 §5.2.2). */
  | 'unknown_connection'
  /** A short header too small to answer with a smaller stateless reset (§10.3.3). */
  | 'reset_too_small'
  /** No stateless reset key: resets are disabled. */
  | 'reset_disabled'
  /** The response rate limit is reached. */
  | 'rate_limited'
  /** A new connection was refused and the refusal itself was rate-limited away. */
  | 'refused';

/** What to do with an unroutable datagram. */
export type AcceptorDecision =
  | { readonly kind: 'drop'; readonly reason: DropReason }
  | {
      /** Send the `length` bytes written into `out` back to the datagram's source. */
      readonly kind: 'respond';
      readonly packet:
        'version_negotiation' | 'retry' | 'stateless_reset' | 'connection_refused' | 'invalid_token';
      readonly length: number;
    }
  | {
      /** Create a connection: `accept(scid, odcid, ...)`, then pass it the datagram. */
      readonly kind: 'accept';
      /** Our first CID for the connection (with Retry: the Retry's SCID, the client's DCID now). */
      readonly scid: Uint8Array;
      /** The client's original DCID after a Retry, else null. */
      readonly odcid: Uint8Array | null;
      /** The DCID of this Initial: route it to the connection until the handshake is confirmed. */
      readonly dcid: Uint8Array;
      /** The client proved its address with a token (Retry or NEW_TOKEN, RFC 9000 §8.1). */
      readonly addressValidated: boolean;
      readonly token: 'none' | 'retry' | 'new_token';
    };

/** Options of an `Acceptor`. */
export interface AcceptorOptions {
  /** The length of the CIDs we issue (8..20: short headers are parsed with it). */
  cidLength: number;
  /** Key of stateless reset tokens (RFC 9000 §10.3.2); null disables resets. */
  statelessResetKey: Uint8Array | null;
  /** Key of address validation tokens; null: no Retry, tokens ignored. */
  tokenKey: TokenKey | null;
  /** Send a Retry to every client without a valid token (RFC 9000 §8.1.2). Needs `tokenKey`. */
  retry?: boolean;
  /**
   * Versions we accept, most preferred first (default v1 and v2): pass the server Config's
   * `supportedVersions()`. A client Initial of any other version, v1 or v2 included, gets
   * Version Negotiation listing these (RFC 9000 §6.1).
   */
  versions?: readonly number[];
  /** Lifetime of Retry tokens (ms, default 10 s) and NEW_TOKEN tokens (ms, default 24 h). */
  retryTokenLifetime?: number;
  newTokenLifetime?: number;
  /** Limits stateless resets, Version Negotiation and refusals. */
  limiter?: ResponseRateLimiter;
  provider?: CryptoProvider;
}

/** Reads a 0x52 first byte as "this token claims to be a Retry token" (token.ts layout). */
const RETRY_LAYOUT = 0x52;

/** Decides, statelessly, how a server answers datagrams that match no connection. */
export class Acceptor {
  readonly cidLength: number;
  private readonly provider: CryptoProvider;
  private readonly limiter: ResponseRateLimiter;
  private readonly versions: readonly number[];
  /** NEW_TOKEN tokens are accepted once each (RFC 9000 §8.1.4 "SHOULD NOT be accepted multiple times"). */
  private readonly usedTokens = new ReplayFilter({ capacity: 100_000 });

  constructor(private readonly options: AcceptorOptions) {
    if (!Number.isInteger(options.cidLength) || options.cidLength < 8 || options.cidLength > 20)
      throw new RangeError('a server CID length is 8..20 bytes');
    if (options.retry === true && options.tokenKey === null) throw new RangeError('Retry needs a token key');
    this.cidLength = options.cidLength;
    this.provider = options.provider ?? getProvider('default');
    this.limiter = options.limiter ?? new ResponseRateLimiter();
    this.versions = options.versions ?? SUPPORTED_VERSIONS;
  }

  /** Whether Retry is on. */
  get retry(): boolean {
    return this.options.retry === true;
  }

  /**
   * Decides what to do with `datagram` (from `from`, its routing fields in `r`) that matched no
   * connection. Answers are written into `out` (at least 1200 bytes). `admit` is false when the
   * server takes no new connection now (its bounds are reached): Initials are then refused.
   */
  decide(
    datagram: Uint8Array,
    r: DatagramRouting,
    from: Address,
    now: number,
    out: Uint8Array,
    admit: boolean,
  ): AcceptorDecision {
    switch (r.type) {
      case '1rtt':
        return this.reset(datagram, from, now, out);
      case 'unsupported_version':
        return this.versionNegotiation(datagram, from, now, out);
      case 'version_negotiation':
        return drop('version_negotiation');
      case 'initial':
        // RFC 9000 §6.1: a version we speak but do not accept (the Config's versions) is
        // answered like an unknown one.
        if (!this.versions.includes(r.version as number))
          return this.versionNegotiation(datagram, from, now, out);
        return this.initial(datagram, r, from, now, out, admit);
      default:
        return drop('unknown_connection');
    }
  }

  /** RFC 9000 §6.1: Version Negotiation listing the versions we accept. */
  private versionNegotiation(
    datagram: Uint8Array,
    from: Address,
    now: number,
    out: Uint8Array,
  ): AcceptorDecision {
    // RFC 9000 §5.2.2: smaller datagrams of unknown versions MUST be dropped.
    if (datagram.length < MIN_INITIAL_DATAGRAM_SIZE) return drop('unsupported_version_too_small');
    if (!this.limiter.allow(from.address, now)) return drop('rate_limited');
    const random = this.provider.randomBytes(VERSION_NEGOTIATION_RANDOM_BYTES);
    const length = negotiateVersion(datagram, out, random, this.versions);
    return length > 0 ? respond('version_negotiation', length) : drop('unsupported_version_too_small');
  }

  private reset(datagram: Uint8Array, from: Address, now: number, out: Uint8Array): AcceptorDecision {
    const key = this.options.statelessResetKey;
    if (key === null) return drop('reset_disabled');
    // RFC 9000 §10.3.3: only a reset strictly smaller than the trigger, and at least 21 bytes.
    if (datagram.length <= 21) return drop('reset_too_small');
    if (!this.limiter.allow(from.address, now)) return drop('rate_limited');
    const token = statelessResetToken(this.provider, key, datagram.subarray(1, 1 + this.cidLength));
    const random = this.provider.randomBytes(STATELESS_RESET_RANDOM_BYTES);
    const length = buildStatelessResetFor(out, datagram.length, token, random);
    return length > 0 ? respond('stateless_reset', length) : drop('reset_too_small');
  }

  private initial(
    datagram: Uint8Array,
    r: DatagramRouting,
    from: Address,
    now: number,
    out: Uint8Array,
    admit: boolean,
  ): AcceptorDecision {
    // RFC 9000 §14.1: a server MUST discard an Initial in a datagram under 1200 bytes.
    if (datagram.length < MIN_INITIAL_DATAGRAM_SIZE) return drop('initial_too_small');
    // RFC 9000 §7.2: the client's first DCID is at least 8 bytes (ours after a Retry are too).
    if (r.dcidLength < 8) return drop('short_dcid');
    const version = r.version as number;
    const dcid = datagram.subarray(r.dcidOffset, r.dcidOffset + r.dcidLength);
    const clientScid = datagram.subarray(r.scidOffset, r.scidOffset + r.scidLength);
    if (!admit)
      return this.close(version, dcid, clientScid, from, now, out, TransportError.CONNECTION_REFUSED);

    const tokenKey = this.options.tokenKey;
    const token = datagram.subarray(r.tokenOffset, r.tokenOffset + r.tokenLength);
    if (token.length > 0 && tokenKey !== null) {
      const v = tokenKey.validateToken(token, from, now, {
        retryLifetime: this.options.retryTokenLifetime,
        newTokenLifetime: this.options.newTokenLifetime,
      });
      // The Retry token must come back in an Initial to the Retry's SCID, in the Retry's version
      // (RFC 9369 §4.1, §5: a token from another version is invalid).
      if (
        v.valid &&
        v.kind === 'retry' &&
        bytesEqual(v.retryScid, dcid) &&
        (v.version ?? version) === version
      ) {
        return {
          kind: 'accept',
          scid: dcid.slice(),
          odcid: v.odcid,
          dcid: dcid.slice(),
          addressValidated: true,
          token: 'retry',
        };
      }
      // RFC 9369 §5: a NEW_TOKEN token from a connection of another version is not accepted (the
      // address stays unvalidated). One minted without a version binds none.
      if (v.valid && v.kind === 'new_token' && (v.version ?? version) === version) {
        const lifetime = this.options.newTokenLifetime ?? 24 * 3600 * 1000;
        if (this.usedTokens.checkAndRecord(v.id, v.issuedAt + lifetime, now))
          return this.accept(dcid, true, 'new_token');
      } else if (token[0] === RETRY_LAYOUT) {
        // RFC 9000 §8.1.2: an invalid Retry token (forged, expired, another address, another
        // version): the client will not take another Retry, so close with INVALID_TOKEN rather
        // than let it time out.
        return this.close(version, dcid, clientScid, from, now, out, TransportError.INVALID_TOKEN);
      }
      // §8.1.3: any other invalid token: proceed as if the client had none.
    }
    if (this.options.retry === true && tokenKey !== null) {
      const retryScid = this.newCid(dcid);
      const retryToken = tokenKey.mintRetryToken({
        odcid: dcid,
        retryScid,
        clientAddress: from,
        now,
        version,
      });
      const length = buildRetryPacket(
        out,
        { version, clientScid, odcid: dcid, retryScid, token: retryToken },
        this.provider,
      );
      return respond('retry', length);
    }
    return this.accept(dcid, false, 'none');
  }

  private accept(dcid: Uint8Array, validated: boolean, token: 'none' | 'new_token'): AcceptorDecision {
    return {
      kind: 'accept',
      scid: this.newCid(dcid),
      odcid: null,
      dcid: dcid.slice(),
      addressValidated: validated,
      token,
    };
  }

  /** A fresh random CID of our length, different from `avoid` (RFC 9000 §17.2.5.1, §7.2). */
  newCid(avoid: Uint8Array | null = null): Uint8Array {
    for (;;) {
      const cid = this.provider.randomBytes(this.cidLength);
      if (avoid === null || !bytesEqual(cid, avoid)) return cid;
    }
  }

  private close(
    version: number,
    dcid: Uint8Array,
    clientScid: Uint8Array,
    from: Address,
    now: number,
    out: Uint8Array,
    code: number,
  ): AcceptorDecision {
    if (!this.limiter.allow(from.address, now)) return drop('refused');
    const refused = code === TransportError.CONNECTION_REFUSED;
    const length = buildInitialClose(
      out,
      {
        version,
        clientDcid: dcid,
        clientScid,
        scid: this.newCid(dcid),
        errorCode: code,
        reason: refused ? 'server busy' : 'invalid token',
      },
      this.provider,
    );
    return respond(refused ? 'connection_refused' : 'invalid_token', length);
  }
}

function drop(reason: DropReason): AcceptorDecision {
  return { kind: 'drop', reason };
}

function respond(
  packet: 'version_negotiation' | 'retry' | 'stateless_reset' | 'connection_refused' | 'invalid_token',
  length: number,
): AcceptorDecision {
  return { kind: 'respond', packet, length };
}
