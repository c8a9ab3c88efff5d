/**
 * Connection IDs (RFC 9000 §5.1): the ones we issue (`LocalCids`: NEW_CONNECTION_ID up to the
 * peer's active_connection_id_limit, each with a stateless reset token; RETIRE_CONNECTION_ID from
 * the peer) and the ones the peer gave us (`PeerCids`: bounded by our limit, retire_prior_to,
 * RETIRE_CONNECTION_ID to send). Events let the endpoint route by every active CID we issued.
 */
import { constantTimeEqual } from '../crypto/compare.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { bytesEqual } from '../wire/buffer.ts';
import { QuicError, TransportError, protocolViolation } from '../wire/errors.ts';
import { FrameType } from '../wire/frame-types.ts';
import type { NewConnectionIdFrame } from '../wire/frame-types.ts';

/**
 * The most CIDs we keep issued at once, whatever the peer's limit (RFC 9000 §5.1.1 "MAY limit"):
 * enough for a migration and a preferred address with spares. Staying below common limits (ngtcp2
 * advertises 7) also spares peers that count a CID retired by RETIRE_CONNECTION_ID as active until
 * that frame is acknowledged and would see our immediate replacement as one too many.
 */
export const MAX_ISSUED_CIDS = 4;
/** The most CIDs issued over a connection's life (RFC 9000 §5.1.1: a peer retiring in a loop). */
export const MAX_TOTAL_CIDS = 256;
/** Unpolled CID events kept; beyond it the oldest are dropped (`sourceIds()` stays exact). */
export const MAX_CID_EVENTS = 256;

/** A connection ID event for the endpoint's routing table. */
export interface CidEvent {
  readonly kind: 'new' | 'retired';
  readonly cid: Uint8Array;
  readonly sequenceNumber: number;
}

/**
 * The stateless reset token of `cid`: HMAC-SHA256(key, cid) truncated to 16 bytes, so an endpoint
 * that lost the connection's state can recompute it (RFC 9000 §10.3.2).
 */
export function statelessResetToken(provider: CryptoProvider, key: Uint8Array, cid: Uint8Array): Uint8Array {
  return provider.hmac('sha256', key, cid).subarray(0, 16);
}

interface IssuedCid {
  readonly seq: number;
  readonly cid: Uint8Array;
  readonly token: Uint8Array;
}

/** The connection IDs we issued (RFC 9000 §5.1.1). */
export class LocalCids {
  private readonly active = new Map<number, IssuedCid>();
  private nextSeq = 1;
  /** The peer's active_connection_id_limit (2 until its transport parameters arrive). */
  private peerLimit = 2;
  /** Sequence numbers whose NEW_CONNECTION_ID must be (re)sent. */
  readonly pendingNew: number[] = [];
  /** Events for the endpoint (drained by `Connection.pollCidEvent`). */
  readonly events: CidEvent[] = [];

  constructor(
    private readonly provider: CryptoProvider,
    private readonly resetKey: Uint8Array,
    initial: Uint8Array,
  ) {
    this.active.set(0, { seq: 0, cid: initial, token: statelessResetToken(provider, resetKey, initial) });
  }

  /** Length of our CIDs (all the same, so short headers can be parsed); 0 means zero-length. */
  get cidLength(): number {
    return (this.active.get(0) ?? this.active.values().next().value)?.cid.length ?? 0;
  }

  /** The SCID for long headers: the lowest-numbered active CID (RFC 9000 §7.2). */
  get currentScid(): Uint8Array {
    const zero = this.active.get(0);
    if (zero !== undefined) return zero.cid;
    let best: IssuedCid | null = null;
    for (const e of this.active.values()) if (best === null || e.seq < best.seq) best = e;
    return best === null ? new Uint8Array(0) : best.cid;
  }

  /** The reset token of our sequence-0 CID (the server's stateless_reset_token parameter). */
  initialToken(): Uint8Array | null {
    return this.active.get(0)?.token ?? null;
  }

  /** Every active CID we issued. */
  cids(): Uint8Array[] {
    return [...this.active.values()].map((e) => e.cid);
  }

  /** Whether `dcid` is one of our active CIDs. */
  isActive(dcid: Uint8Array): boolean {
    for (const e of this.active.values()) if (bytesEqual(e.cid, dcid)) return true;
    return false;
  }

  /** The CID with sequence number `seq`, if still active (for resending NEW_CONNECTION_ID). */
  get(seq: number): IssuedCid | undefined {
    return this.active.get(seq);
  }

  /**
   * Server: issues the CID of the preferred_address transport parameter (RFC 9000 §5.1.1: it has
   * sequence number 1; the parameter carries it, so no NEW_CONNECTION_ID is sent). Null when CIDs
   * are zero-length or others were issued already.
   */
  issuePreferred(): IssuedCid | null {
    const length = this.cidLength;
    if (length === 0 || this.nextSeq !== 1) return this.active.get(1) ?? null;
    const cid = this.provider.randomBytes(length);
    const entry = { seq: 1, cid, token: statelessResetToken(this.provider, this.resetKey, cid) };
    this.nextSeq = 2;
    this.active.set(1, entry);
    this.event({ kind: 'new', cid, sequenceNumber: 1 });
    return entry;
  }

  /** Records the peer's limit and issues CIDs up to it (RFC 9000 §5.1.1). */
  setPeerLimit(limit: number): void {
    this.peerLimit = limit;
    this.replenish();
  }

  /** Issues new CIDs until the peer holds min(its limit, MAX_ISSUED_CIDS). */
  replenish(): void {
    const length = this.cidLength;
    // RFC 9000 §5.1.1: an endpoint with a zero-length CID cannot issue new ones.
    if (length === 0) return;
    const want = Math.min(this.peerLimit, MAX_ISSUED_CIDS);
    while (this.active.size < want && this.nextSeq < MAX_TOTAL_CIDS) {
      const cid = this.provider.randomBytes(length);
      const seq = this.nextSeq++;
      const entry = { seq, cid, token: statelessResetToken(this.provider, this.resetKey, cid) };
      this.active.set(seq, entry);
      this.pendingNew.push(seq);
      this.event({ kind: 'new', cid, sequenceNumber: seq });
    }
  }

  /** Called for each event as it happens (tracing). */
  onEvent: ((e: CidEvent) => void) | null = null;

  private event(e: CidEvent): void {
    if (this.events.length >= MAX_CID_EVENTS) this.events.shift();
    this.events.push(e);
    this.onEvent?.(e);
  }

  /**
   * The peer retired our CID `seq` (RFC 9000 §19.16); `packetDcid` is the DCID of the packet
   * that carried the frame. Issues a replacement.
   */
  onRetire(seq: number, packetDcid: Uint8Array): void {
    // RFC 9000 §19.16: a sequence number never sent is a PROTOCOL_VIOLATION...
    if (seq >= this.nextSeq)
      throw protocolViolation(
        `retired connection ID ${seq} was never issued`,
        FrameType.RETIRE_CONNECTION_ID,
      );
    const entry = this.active.get(seq);
    if (entry === undefined) return; // already retired
    // ...and so is retiring the CID the packet was sent to.
    if (bytesEqual(entry.cid, packetDcid))
      throw protocolViolation(
        'retired the connection ID in use by the packet',
        FrameType.RETIRE_CONNECTION_ID,
      );
    this.active.delete(seq);
    this.event({ kind: 'retired', cid: entry.cid, sequenceNumber: seq });
    this.replenish();
  }
}

interface PeerCid {
  readonly seq: number;
  cid: Uint8Array;
  token: Uint8Array | null;
}

/** The connection IDs the peer issued to us (RFC 9000 §5.1.2). */
export class PeerCids {
  private readonly active = new Map<number, PeerCid>();
  private current: PeerCid;
  /** Sequence numbers set aside for other paths (RFC 9000 §9.5): `rotate` never picks them. */
  private readonly reserved = new Set<number>();
  private retirePriorTo = 0;
  /** Sequence numbers whose RETIRE_CONNECTION_ID must be (re)sent. */
  readonly pendingRetire: number[] = [];
  /** Retirements not yet acknowledged (bounded, RFC 9000 §5.1.2). */
  private unackedRetires = 0;

  constructor(
    initial: Uint8Array,
    /** Our active_connection_id_limit. */
    private readonly limit: number,
  ) {
    this.current = { seq: 0, cid: initial, token: null };
    this.active.set(0, this.current);
  }

  /** The DCID we send with. */
  get dcid(): Uint8Array {
    return this.current.cid;
  }

  /** The sequence number of the DCID in use. */
  get currentSeq(): number {
    return this.current.seq;
  }

  /** Replaces the sequence-0 CID (client: the server's SCID from its first Initial or a Retry, §7.2). */
  setInitial(cid: Uint8Array): void {
    const e = this.active.get(0);
    if (e !== undefined) e.cid = cid;
  }

  /** The stateless reset token of the sequence-0 CID (the server's transport parameter, §18.2). */
  setInitialToken(token: Uint8Array): void {
    const e = this.active.get(0);
    if (e !== undefined) e.token = token;
  }

  /** How many peer CIDs are active (not retired). */
  get activeCount(): number {
    return this.active.size;
  }

  /** Handles NEW_CONNECTION_ID (RFC 9000 §19.15, §5.1.1, §5.1.2). */
  onNewConnectionId(f: NewConnectionIdFrame): void {
    const type = FrameType.NEW_CONNECTION_ID;
    // RFC 9000 §19.15: a peer using zero-length CIDs cannot be sent new ones.
    if (this.current.cid.length === 0)
      throw protocolViolation('NEW_CONNECTION_ID sent to an endpoint using a zero-length CID', type);
    const existing = this.active.get(f.sequenceNumber);
    if (existing !== undefined) {
      // RFC 9000 §19.15: the same sequence number with a different CID is a PROTOCOL_VIOLATION.
      if (
        !bytesEqual(existing.cid, f.connectionId) ||
        (existing.token !== null && !bytesEqual(existing.token, f.statelessResetToken))
      )
        throw protocolViolation(`connection ID ${f.sequenceNumber} changed`, type);
      return;
    }
    for (const e of this.active.values()) {
      if (bytesEqual(e.cid, f.connectionId))
        throw protocolViolation('connection ID reissued with another sequence number', type);
    }
    if (f.sequenceNumber < this.retirePriorTo) {
      // RFC 9000 §19.15: already retired by an earlier Retire Prior To: retire it right away.
      this.queueRetire(f.sequenceNumber);
      return;
    }
    this.active.set(f.sequenceNumber, {
      seq: f.sequenceNumber,
      cid: f.connectionId.slice(),
      token: f.statelessResetToken.slice(),
    });
    if (f.retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = f.retirePriorTo;
      for (const seq of [...this.active.keys()]) {
        if (seq < f.retirePriorTo) {
          this.active.delete(seq);
          this.reserved.delete(seq);
          this.queueRetire(seq);
        }
      }
      if (!this.active.has(this.current.seq)) this.switchToLowest();
    }
    // RFC 9000 §5.1.1: more active CIDs than our limit is a CONNECTION_ID_LIMIT_ERROR.
    if (this.active.size > this.limit)
      throw new QuicError(
        TransportError.CONNECTION_ID_LIMIT_ERROR,
        `${this.active.size} active connection IDs exceed our limit of ${this.limit}`,
        type,
      );
  }

  private switchToLowest(): void {
    let best: PeerCid | null = null;
    for (const e of this.active.values()) {
      // An unreserved CID first: a reserved one is in use on another path (§9.5).
      const better =
        best === null ||
        (this.reserved.has(best.seq) && !this.reserved.has(e.seq)) ||
        (this.reserved.has(best.seq) === this.reserved.has(e.seq) && e.seq < best.seq);
      if (better) best = e;
    }
    if (best !== null) {
      this.current = best;
      this.reserved.delete(best.seq);
    }
  }

  private queueRetire(seq: number): void {
    this.pendingRetire.push(seq);
    this.unackedRetires++;
    // RFC 9000 §5.1.2: too many retirements in flight MAY be a CONNECTION_ID_LIMIT_ERROR.
    if (this.unackedRetires > 2 * this.limit + 4)
      throw new QuicError(
        TransportError.CONNECTION_ID_LIMIT_ERROR,
        'too many connection IDs waiting for retirement',
        FrameType.NEW_CONNECTION_ID,
      );
  }

  /** A RETIRE_CONNECTION_ID we sent was acknowledged. */
  onRetireAcked(): void {
    if (this.unackedRetires > 0) this.unackedRetires--;
  }

  /**
   * Switches to an unused peer CID (for a new path, RFC 9000 §9.5), retiring the current one.
   * Returns false when no other CID is available.
   */
  rotate(): boolean {
    const seq = this.spare();
    if (seq === null) return false;
    this.switchTo(seq, false);
    return true;
  }

  /** The lowest-numbered active CID neither in use nor reserved, or null. */
  private spare(): number | null {
    let best: number | null = null;
    for (const e of this.active.values()) {
      if (e === this.current || this.reserved.has(e.seq)) continue;
      if (best === null || e.seq < best) best = e.seq;
    }
    return best;
  }

  /** How many active CIDs are neither in use nor reserved (what new paths can use, §9.5). */
  get spareCount(): number {
    let n = 0;
    for (const e of this.active.values()) if (e !== this.current && !this.reserved.has(e.seq)) n++;
    return n;
  }

  /** Reserves an unused CID for another path (RFC 9000 §9.5); returns its sequence number, or null. */
  reserve(): number | null {
    const seq = this.spare();
    if (seq !== null) this.reserved.add(seq);
    return seq;
  }

  /** The active CID with sequence number `seq`, or null once it is retired. */
  cidOf(seq: number): Uint8Array | null {
    return this.active.get(seq)?.cid ?? null;
  }

  /**
   * Ends the reservation of `seq`. With `retire` (the CID was sent on that path), it is retired:
   * RFC 9000 §9.5 forbids using it on another path.
   */
  release(seq: number, retire: boolean): void {
    if (!this.reserved.delete(seq)) return;
    if (!retire || !this.active.has(seq)) return;
    this.active.delete(seq);
    this.queueRetire(seq);
  }

  /**
   * Sends with CID `seq` from now on (a new path, RFC 9000 §9.5). The previous CID is retired, or
   * with `keepOld` reserved for a path still probed with it; returns its sequence number then.
   */
  switchTo(seq: number, keepOld: boolean): number | null {
    const next = this.active.get(seq);
    if (next === undefined || next === this.current) return null;
    const old = this.current;
    this.reserved.delete(seq);
    this.current = next;
    if (keepOld) {
      this.reserved.add(old.seq);
      return old.seq;
    }
    this.active.delete(old.seq);
    this.queueRetire(old.seq);
    return null;
  }

  /** Whether the datagram tail `candidate` equals a stateless reset token of an active peer CID (§10.3.1). */
  matchesResetToken(candidate: Uint8Array): boolean {
    let match = false;
    // Compare against every token, in constant time each (RFC 9000 §10.3.1).
    for (const e of this.active.values()) {
      if (e.token !== null && constantTimeEqual(e.token, candidate)) match = true;
    }
    return match;
  }
}
