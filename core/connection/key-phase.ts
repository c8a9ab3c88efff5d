/**
 * 1-RTT packet protection keys across key updates (RFC 9001 §6): the current read and write keys
 * and key phase bit, the next read keys (derived when first needed), the previous read keys kept
 * for 3 x PTO, the rule that a new update waits for an acknowledgment of a packet in the current
 * phase (§6.1), and the AEAD limits (§6.6): a key update is due once 3/4 of the confidentiality
 * limit is sealed with one key (AES-GCM: 2^23 packets; ChaCha20-Poly1305: 2^62, in effect never),
 * the connection closes with AEAD_LIMIT_REACHED just short of the limit if no update was
 * possible, and the integrity limit (failed decryptions: 2^52 for AES-GCM, 2^36 for ChaCha20)
 * is kept for the receiver. AES-CCM is not among our suites (RFC 9001 §5.3 allows it).
 */
import { nextPacketKeys } from '../crypto/keys.ts';
import type { PacketKeys } from '../crypto/keys.ts';
import type { CryptoProvider } from '../crypto/provider.ts';

/** Which read keys opened a packet. */
export type ReadKeyKind = 'current' | 'next' | 'previous';

/** Lower AEAD limits than RFC 9001 §6.6's, in packets (for tests: Config.setAeadLimitsForTesting). */
export interface AeadLimitsOverride {
  readonly confidentiality?: number;
  readonly integrity?: number;
}

/** The share of the confidentiality limit sealed with one key after which a key update is due. */
export const KEY_UPDATE_SHARE = 0.75;

/**
 * Packets kept back below the confidentiality limit: if no key update was possible by then the
 * connection closes, with room for its CONNECTION_CLOSE packets (RFC 9001 §6.6: close "before
 * reaching a state where key updates are not possible").
 */
function closeReserve(limit: number): number {
  return Math.max(1, Math.min(1024, Math.floor(limit / 16)));
}

/** 1-RTT keys and key phase state. */
export class OneRttKeys {
  /** The key phase bit of our current keys (RFC 9001 §6). */
  phase: 0 | 1 = 0;
  /** Key updates so far (the full key phase, as qlog counts it). */
  generation = 0;
  read: PacketKeys;
  write: PacketKeys;
  private nextRead: PacketKeys | null = null;
  previous: PacketKeys | null = null;
  /** When the previous read keys are discarded (3 x PTO after the new keys first worked, §6.5). */
  previousDiscardAt: number | null = null;
  /** Lowest packet number opened with the current read keys (Infinity until one is). */
  private firstReadPn = Infinity;
  /** First packet number sent with the current write keys (-1 until one is). */
  private firstWritePn = -1;
  /** A packet sent with the current write keys was acknowledged (RFC 9001 §6.1). */
  private currentPhaseAcked = false;
  /** Packets sealed with the current write keys (RFC 9001 §6.6). */
  sealedInPhase = 0;
  /** The latest ack-eliciting packet sealed with the current write keys (-1: none yet). */
  lastElicitingPn = -1;
  /** Packets one write key may seal (RFC 9001 §6.6, or a lower test override). */
  readonly confidentialityLimit: number;
  /** Failed decryptions the connection tolerates (RFC 9001 §6.6, or a lower test override). */
  readonly integrityLimit: number;
  /** Packets sealed with one key after which we initiate a key update. */
  readonly updateAt: number;
  /** Packets sealed with one key after which, without an update, the connection must close. */
  readonly closeAt: number;

  constructor(
    private readonly provider: CryptoProvider,
    read: PacketKeys,
    write: PacketKeys,
    limits: AeadLimitsOverride | null = null,
  ) {
    this.read = read;
    this.write = write;
    // The suite's limits; an override may only lower them.
    this.confidentialityLimit = Math.min(write.confidentialityLimit, limits?.confidentiality ?? Infinity);
    this.integrityLimit = Math.min(read.integrityLimit, limits?.integrity ?? Infinity);
    this.updateAt = Math.floor(this.confidentialityLimit * KEY_UPDATE_SHARE);
    this.closeAt = this.confidentialityLimit - closeReserve(this.confidentialityLimit);
  }

  /**
   * The keys to try for a packet with key phase bit `bit` and packet number `pn` (RFC 9001 §6.5):
   * the current keys for the current phase; for the other phase, the previous keys when `pn` is
   * below every packet of the current phase, the next keys otherwise.
   */
  select(bit: 0 | 1, pn: number): { keys: PacketKeys; kind: ReadKeyKind } {
    if (bit === this.phase) return { keys: this.read, kind: 'current' };
    if (this.previous !== null && pn < this.firstReadPn) return { keys: this.previous, kind: 'previous' };
    if (this.nextRead === null) this.nextRead = nextPacketKeys(this.provider, this.read);
    return { keys: this.nextRead, kind: 'next' };
  }

  /**
   * A packet numbered `pn` was opened with `kind` keys. Opening with the next keys means the peer
   * updated: we update our write keys too (RFC 9001 §6.2). Returns true when that happened.
   * `retainFor` is 3 x PTO (ms).
   */
  onOpened(kind: ReadKeyKind, pn: number, now: number, retainFor: number): boolean {
    if (kind === 'current') {
      if (this.firstReadPn === Infinity && this.previous !== null) this.previousDiscardAt = now + retainFor;
      if (pn < this.firstReadPn) this.firstReadPn = pn;
      return false;
    }
    if (kind === 'previous') return false;
    // RFC 9001 §6.2: the peer initiated a key update; respond by updating our send keys.
    this.previous = this.read;
    this.read = this.nextRead as PacketKeys;
    this.nextRead = null;
    this.write = nextPacketKeys(this.provider, this.write);
    this.flip();
    this.firstReadPn = pn;
    this.previousDiscardAt = now + retainFor; // RFC 9001 §6.5
    return true;
  }

  private flip(): void {
    this.phase = this.phase === 0 ? 1 : 0;
    this.generation++;
    this.firstWritePn = -1;
    this.currentPhaseAcked = false;
    this.sealedInPhase = 0;
    this.lastElicitingPn = -1;
  }

  /** Whether we may initiate a key update now: a packet of the current phase was acknowledged (§6.1). */
  get canInitiate(): boolean {
    return this.currentPhaseAcked;
  }

  /** Initiates a key update (RFC 9001 §6.1): the caller checked `canInitiate` and handshake confirmation. */
  initiate(): void {
    this.previous = this.read;
    this.read = this.nextRead ?? nextPacketKeys(this.provider, this.read);
    this.nextRead = null;
    this.write = nextPacketKeys(this.provider, this.write);
    this.flip();
    // The previous keys stay until 3 x PTO after the peer's first packet with the new keys.
    this.firstReadPn = Infinity;
    this.previousDiscardAt = null;
  }

  /** A 1-RTT packet numbered `pn` was sealed with the current write keys. */
  onSealed(pn: number, ackEliciting = true): void {
    if (this.firstWritePn < 0) this.firstWritePn = pn;
    if (ackEliciting) this.lastElicitingPn = pn;
    this.sealedInPhase++;
  }

  /** The peer acknowledged 1-RTT packets up to `largestAcked`. */
  onAcked(largestAcked: number): void {
    if (this.firstWritePn >= 0 && largestAcked >= this.firstWritePn) this.currentPhaseAcked = true;
  }

  /** Whether the current write keys sealed enough packets for a key update to be due (RFC 9001 §6.6). */
  get updateDue(): boolean {
    return this.sealedInPhase >= this.updateAt;
  }

  /**
   * Whether the current write keys are (all but a reserve for closing) at their confidentiality
   * limit: without a key update now, the connection must close (RFC 9001 §6.6).
   */
  get confidentialityExhausted(): boolean {
    return this.sealedInPhase >= this.closeAt;
  }

  /** Discards the previous read keys when their time is up; returns true when it did. */
  onTimeout(now: number): boolean {
    if (this.previousDiscardAt !== null && now >= this.previousDiscardAt) {
      this.previous = null;
      this.previousDiscardAt = null;
      return true;
    }
    return false;
  }
}
