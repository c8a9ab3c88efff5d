/**
 * Address validation tokens (RFC 9000 §8.1.2-8.1.4): a server seals what it needs to check a
 * token later into the token itself, so it keeps no state per client. Two kinds:
 *
 * - Retry tokens (§8.1.2), returned at once in the client's next Initial: bound to the client's
 *   IP address and port, short-lived, carrying the original DCID and the Retry's SCID (the
 *   server needs both for original_destination_connection_id / retry_source_connection_id, §7.3).
 * - NEW_TOKEN tokens (§8.1.3), for a later connection: bound to the client's IP address only
 *   (its port is unlikely to repeat), valid for hours, unlinkable to the connection they came from.
 *
 * Both kinds carry the QUIC version they belong to (RFC 9369 §5: tokens are specific to the
 * version of the connection that provided them, after compatible negotiation the negotiated one;
 * RFC 9369 §4.1: a Retry's token, the Retry's version), which the Acceptor checks.
 *
 * Layout: kind (1) || nonce (12) || AES-256-GCM(kind || "quicscope token", payload) where payload =
 * issued-at (ms, 8) || address family (1) || address (4|16) || [Retry: port (2) || version (4) ||
 * ODCID (1+n) || Retry SCID (1+n)] || [NEW_TOKEN: version (4), absent when minted without one]. The kind is in the clear (§8.1.3 allows it) but authenticated, so a token of
 * one kind can never pass as the other; the address is encrypted, so NEW_TOKEN tokens do not
 * reveal it (§8.1.3). A random nonce per token makes every token unique.
 */
import { getProvider } from '../crypto/index.ts';
import type { AeadKey, CryptoProvider } from '../crypto/provider.ts';
import { parseIpAddress } from '../trace/ip.ts';
import { bytesEqual, toHex } from '../wire/buffer.ts';
import { MAX_CID_LENGTH } from '../wire/packet.ts';

/** A UDP address: IP text (IPv4 or IPv6) and port. */
export interface TokenAddress {
  readonly address: string;
  readonly port: number;
}

/** The two kinds of token (RFC 9000 §8.1.1: the server can tell them apart). */
export type TokenKind = 'retry' | 'new_token';

/** Why `validateToken` rejected a token. */
export type TokenRejection =
  /** Too short, unknown layout version, or a payload that does not parse. */
  | 'malformed'
  /** Authentication failed: forged, tampered, or sealed under another key. */
  | 'forged'
  /** Issued for another client address (IP, and port for Retry tokens; §8.1.4). */
  | 'wrong_address'
  /** Older than its lifetime (§8.1.3, §8.1.4). */
  | 'expired'
  /** Issued in the future by more than the allowed clock skew. */
  | 'future'
  /** Valid, but not of the kind the caller asked for. */
  | 'wrong_kind';

/** The outcome of `validateToken`. */
export type TokenValidation =
  | {
      readonly valid: true;
      readonly kind: 'retry';
      /** The DCID of the client's first Initial (original_destination_connection_id, §7.3). */
      readonly odcid: Uint8Array;
      /** The SCID of our Retry (retry_source_connection_id, §7.3). */
      readonly retryScid: Uint8Array;
      /** The QUIC version the Retry was sent in, or null when the token does not bind one. */
      readonly version: number | null;
      readonly issuedAt: number;
      /** A unique identifier of this token (hex of its nonce), e.g. for a replay filter. */
      readonly id: string;
    }
  | {
      readonly valid: true;
      readonly kind: 'new_token';
      /** The QUIC version of the connection that sent the NEW_TOKEN, or null when not bound. */
      readonly version: number | null;
      readonly issuedAt: number;
      readonly id: string;
    }
  | { readonly valid: false; readonly reason: TokenRejection };

/** Lifetimes and checks for `validateToken`. */
export interface TokenValidationOptions {
  /** How long a Retry token is accepted (ms; default 10 s: clients return it at once, §8.1.4). */
  retryLifetime?: number;
  /** How long a NEW_TOKEN token is accepted (ms; default 24 h, §8.1.3). */
  newTokenLifetime?: number;
  /** Only this kind is acceptable (otherwise 'wrong_kind'). */
  expect?: TokenKind;
  /** Tolerated clock skew for tokens issued "in the future" (ms; default 5 s). */
  maxSkew?: number;
}

/** Default Retry token lifetime: 10 s. */
export const RETRY_TOKEN_LIFETIME = 10_000;
/** Default NEW_TOKEN token lifetime: 24 h. */
export const NEW_TOKEN_LIFETIME = 24 * 3600 * 1000;

const LAYOUT_RETRY = 0x52; // 'R'
const LAYOUT_NEW_TOKEN = 0x4e; // 'N'
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const AAD_LABEL = new TextEncoder().encode('?quicscope token');
/** The smallest sealed token: kind, nonce, issued-at, family, IPv4 address, tag. */
const MIN_TOKEN_LENGTH = 1 + NONCE_LENGTH + 8 + 1 + 4 + TAG_LENGTH;

function aadFor(kind: number): Uint8Array {
  const aad = AAD_LABEL.slice();
  aad[0] = kind;
  return aad;
}
const AAD_RETRY = aadFor(LAYOUT_RETRY);
const AAD_NEW_TOKEN = aadFor(LAYOUT_NEW_TOKEN);

/** IP address bytes, IPv4-mapped IPv6 (::ffff:a.b.c.d) folded to IPv4 so both spellings match. */
function ipBytes(address: string): Uint8Array {
  const ip = parseIpAddress(address);
  if (ip.length === 16 && isV4Mapped(ip)) return ip.subarray(12);
  return ip;
}

function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

function checkCid(cid: Uint8Array, what: string): void {
  if (!(cid instanceof Uint8Array) || cid.length > MAX_CID_LENGTH)
    throw new RangeError(`${what} must be a Uint8Array of at most ${MAX_CID_LENGTH} bytes`);
}

function checkTime(now: number): void {
  if (!Number.isFinite(now) || now < 0) throw new RangeError(`bad time ${now}`);
}

function writeU64(out: Uint8Array, p: number, v: number): void {
  const high = Math.floor(v / 0x1_0000_0000);
  const low = v - high * 0x1_0000_0000;
  out[p] = high >>> 24;
  out[p + 1] = high >>> 16;
  out[p + 2] = high >>> 8;
  out[p + 3] = high;
  out[p + 4] = low >>> 24;
  out[p + 5] = low >>> 16;
  out[p + 6] = low >>> 8;
  out[p + 7] = low;
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/**
 * The key address validation tokens are sealed under (AES-256-GCM through a CryptoProvider),
 * made from 32 secret random bytes the caller supplies and keeps (share it between the
 * instances that must accept each other's tokens; rotate it to invalidate every token).
 */
export class TokenKey {
  private readonly aead: AeadKey;
  private readonly provider: CryptoProvider;

  constructor(secret: Uint8Array, provider: CryptoProvider = getProvider('default')) {
    if (!(secret instanceof Uint8Array) || secret.length !== 32)
      throw new RangeError('a token key is 32 secret random bytes');
    this.provider = provider;
    this.aead = provider.aead('aes-256-gcm', secret);
  }

  /** A Retry token (RFC 9000 §8.1.2) for `clientAddress`, carrying the ODCID and our Retry SCID. */
  mintRetryToken(p: {
    odcid: Uint8Array;
    retryScid: Uint8Array;
    clientAddress: TokenAddress;
    now: number;
    /** The version of the Retry, so the client cannot switch versions after it (RFC 9369 §4). */
    version?: number;
  }): Uint8Array {
    checkCid(p.odcid, 'odcid');
    checkCid(p.retryScid, 'retryScid');
    const version = p.version ?? 0;
    if (!Number.isInteger(version) || version < 0 || version > 0xffff_ffff)
      throw new RangeError('bad version');
    const tail = 2 + 4 + 1 + p.odcid.length + 1 + p.retryScid.length;
    return this.seal(LAYOUT_RETRY, p.clientAddress, p.now, tail, (out, q) => {
      // §8.1.4: Retry tokens also bind the client's port.
      out[q++] = p.clientAddress.port >>> 8;
      out[q++] = p.clientAddress.port & 0xff;
      out[q++] = version >>> 24;
      out[q++] = version >>> 16;
      out[q++] = version >>> 8;
      out[q++] = version;
      out[q++] = p.odcid.length;
      out.set(p.odcid, q);
      q += p.odcid.length;
      out[q++] = p.retryScid.length;
      out.set(p.retryScid, q);
    });
  }

  /**
   * A NEW_TOKEN token (RFC 9000 §8.1.3) for `clientAddress` (its IP address only). Pass the
   * connection's `version` (`conn.stats().version`): the token is then valid only for Initials
   * of that version (RFC 9369 §5); without it, it is bound to no version.
   */
  mintNewToken(p: { clientAddress: TokenAddress; now: number; version?: number }): Uint8Array {
    const version = p.version;
    if (version === undefined) return this.seal(LAYOUT_NEW_TOKEN, p.clientAddress, p.now, 0, () => {});
    if (!Number.isInteger(version) || version <= 0 || version > 0xffff_ffff)
      throw new RangeError('bad version');
    return this.seal(LAYOUT_NEW_TOKEN, p.clientAddress, p.now, 4, (out, q) => {
      out[q++] = version >>> 24;
      out[q++] = version >>> 16;
      out[q++] = version >>> 8;
      out[q] = version;
    });
  }

  private seal(
    kind: number,
    client: TokenAddress,
    now: number,
    tailLength: number,
    writeTail: (out: Uint8Array, offset: number) => void,
  ): Uint8Array {
    checkTime(now);
    const port = client.port;
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`bad port ${port}`);
    const ip = ipBytes(client.address);
    const plainLength = 8 + 1 + ip.length + tailLength;
    const out = new Uint8Array(1 + NONCE_LENGTH + plainLength + TAG_LENGTH);
    out[0] = kind;
    const nonce = this.provider.randomBytes(NONCE_LENGTH);
    out.set(nonce, 1);
    const body = 1 + NONCE_LENGTH;
    writeU64(out, body, Math.floor(now));
    out[body + 8] = ip.length === 4 ? 4 : 6;
    out.set(ip, body + 9);
    writeTail(out, body + 9 + ip.length);
    this.aead.sealInto(
      nonce,
      kind === LAYOUT_RETRY ? AAD_RETRY : AAD_NEW_TOKEN,
      out.subarray(body, body + plainLength),
      out,
      body,
    );
    return out;
  }

  /**
   * Checks a token from an Initial packet sent from `clientAddress` at `now` (RFC 9000 §8.1.3,
   * §8.1.4). Never throws for a peer's bytes: a bad token is `{ valid: false, reason }`.
   */
  validateToken(
    token: Uint8Array,
    clientAddress: TokenAddress,
    now: number,
    options: TokenValidationOptions = {},
  ): TokenValidation {
    checkTime(now);
    if (token.length < MIN_TOKEN_LENGTH) return { valid: false, reason: 'malformed' };
    const kind = token[0];
    if (kind !== LAYOUT_RETRY && kind !== LAYOUT_NEW_TOKEN) return { valid: false, reason: 'malformed' };
    const nonce = token.subarray(1, 1 + NONCE_LENGTH);
    const plain = this.aead.open(
      nonce,
      kind === LAYOUT_RETRY ? AAD_RETRY : AAD_NEW_TOKEN,
      token.subarray(1 + NONCE_LENGTH),
    );
    if (plain === null) return { valid: false, reason: 'forged' };
    const isRetry = kind === LAYOUT_RETRY;
    // Authenticated, so the layout is ours; still check lengths rather than trust them.
    const issuedAt = readU32(plain, 0) * 0x1_0000_0000 + readU32(plain, 4);
    const family = plain[8];
    const ipLength = family === 4 ? 4 : family === 6 ? 16 : -1;
    let p = 9 + ipLength;
    if (ipLength < 0 || plain.length < p + (isRetry ? 8 : 0)) return { valid: false, reason: 'malformed' };
    const ip = plain.subarray(9, p);
    let port = -1;
    let odcid: Uint8Array | null = null;
    let retryScid: Uint8Array | null = null;
    let version = 0;
    if (isRetry) {
      port = (plain[p] << 8) | plain[p + 1];
      version = readU32(plain, p + 2);
      p += 6;
      const odcidLength = plain[p++];
      if (odcidLength > MAX_CID_LENGTH || p + odcidLength + 1 > plain.length)
        return { valid: false, reason: 'malformed' };
      odcid = plain.slice(p, p + odcidLength);
      p += odcidLength;
      const scidLength = plain[p++];
      if (scidLength > MAX_CID_LENGTH || p + scidLength !== plain.length)
        return { valid: false, reason: 'malformed' };
      retryScid = plain.slice(p, p + scidLength);
    } else if (p + 4 === plain.length) {
      version = readU32(plain, p);
      if (version === 0) return { valid: false, reason: 'malformed' };
    } else if (p !== plain.length) return { valid: false, reason: 'malformed' };

    // RFC 9000 §8.1.4: the token must come from the address it was issued to.
    if (!bytesEqual(ip, ipBytes(clientAddress.address)) || (isRetry && port !== clientAddress.port))
      return { valid: false, reason: 'wrong_address' };
    const lifetime = isRetry
      ? (options.retryLifetime ?? RETRY_TOKEN_LIFETIME)
      : (options.newTokenLifetime ?? NEW_TOKEN_LIFETIME);
    if (issuedAt > now + (options.maxSkew ?? 5_000)) return { valid: false, reason: 'future' };
    if (now - issuedAt > lifetime) return { valid: false, reason: 'expired' };
    const kindName: TokenKind = isRetry ? 'retry' : 'new_token';
    if (options.expect !== undefined && options.expect !== kindName)
      return { valid: false, reason: 'wrong_kind' };
    const id = toHex(nonce);
    if (odcid !== null && retryScid !== null)
      return {
        valid: true,
        kind: 'retry',
        odcid,
        retryScid,
        version: version === 0 ? null : version,
        issuedAt,
        id,
      };
    return { valid: true, kind: 'new_token', version: version === 0 ? null : version, issuedAt, id };
  }
}
