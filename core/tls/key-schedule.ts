/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1), the transcript hash (§4.4.1), Finished
 * verify_data (§4.4.4), PSK binders (§4.2.11.2), resumption PSKs (§4.6.1), the
 * CertificateVerify signed content (§4.4.3) and SSLKEYLOGFILE lines.
 *
 *              0
 *              |
 *    PSK ->  HKDF-Extract = Early Secret  --> binder_key, c e traffic, e exp master
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 * (EC)DHE -> HKDF-Extract = Handshake Secret --> c hs traffic, s hs traffic
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 *    0 -> HKDF-Extract = Master Secret --> c ap traffic, s ap traffic, exp master, res master
 *
 * Methods that derive a traffic secret take the transcript hash at that point (from
 * `Transcript`), so the schedule itself holds no handshake messages.
 */
import { toHex } from '../wire/buffer.ts';
import { deriveSecret, hkdfExpandLabel } from '../crypto/hkdf.ts';
import type { CryptoProvider, HashAlgorithm, HashContext } from '../crypto/provider.ts';
import { hashLength } from '../crypto/provider.ts';
import { HandshakeType } from './constants.ts';

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------
// Transcript hash (RFC 8446 §4.4.1)

/**
 * The running transcript hash: Hash(message_1 || ... || message_n) over whole handshake
 * messages (header included). The hash algorithm may be set late (a client learns it from
 * the ServerHello): messages added before are hashed when it is set.
 */
export class Transcript {
  private alg: HashAlgorithm | null = null;
  private ctx: HashContext | null = null;
  /** Copies of the messages so far, for `digestWith` and for a late `setHash`. */
  private readonly messages: Uint8Array[] = [];

  constructor(
    private readonly provider: CryptoProvider,
    hash?: HashAlgorithm,
  ) {
    if (hash !== undefined) this.setHash(hash);
  }

  /** The hash algorithm, or null until it is known. */
  get hash(): HashAlgorithm | null {
    return this.alg;
  }

  /** Fixes the hash algorithm (once); hashes the messages already added. */
  setHash(alg: HashAlgorithm): void {
    if (this.alg !== null) {
      if (this.alg !== alg) throw new Error(`transcript hash already set to ${this.alg}`);
      return;
    }
    this.alg = alg;
    this.ctx = this.provider.createHash(alg);
    for (const m of this.messages) this.ctx.update(m);
  }

  /** Appends one whole handshake message (copied). */
  add(message: Uint8Array): void {
    const copy = message.slice();
    this.messages.push(copy);
    this.ctx?.update(copy);
  }

  /** Transcript-Hash of everything added so far. */
  digest(): Uint8Array {
    if (this.ctx === null) throw new Error('transcript hash algorithm not set');
    return this.ctx.digestSoFar();
  }

  /**
   * Transcript-Hash(messages so far || extra) without adding `extra`: for PSK binders over
   * Truncate(ClientHello) (RFC 8446 §4.2.11.2). `alg` defaults to the transcript's.
   */
  digestWith(extra: Uint8Array, alg: HashAlgorithm | null = this.alg): Uint8Array {
    if (alg === null) throw new Error('transcript hash algorithm not set');
    const h = this.provider.createHash(alg);
    for (const m of this.messages) h.update(m);
    h.update(extra);
    return h.digestSoFar();
  }

  /**
   * RFC 8446 §4.4.1: on a HelloRetryRequest, ClientHello1 is replaced by the synthetic
   * message_hash message `254 || 00 00 Hash.length || Hash(ClientHello1)`. Call after
   * adding ClientHello1 and before adding the HelloRetryRequest.
   */
  replaceWithMessageHash(): void {
    const hash = this.digest();
    const synthetic = new Uint8Array(4 + hash.length);
    synthetic[0] = HandshakeType.message_hash;
    synthetic[3] = hash.length;
    synthetic.set(hash, 4);
    this.messages.length = 0;
    this.ctx = this.provider.createHash(this.alg!);
    this.add(synthetic);
  }
}

// ---------------------------------------------------------------------------------------
// SSLKEYLOGFILE

/** The SSLKEYLOGFILE labels of TLS 1.3 secrets (NSS key log format). */
export type KeyLogLabel =
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'EARLY_EXPORTER_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EXPORTER_SECRET';

/** One SSLKEYLOGFILE line: `LABEL <client_random hex> <secret hex>` (no newline). */
export function keyLogLine(label: KeyLogLabel, clientRandom: Uint8Array, secret: Uint8Array): string {
  return `${label} ${toHex(clientRandom)} ${toHex(secret)}`;
}

// ---------------------------------------------------------------------------------------
// CertificateVerify content (RFC 8446 §4.4.3)

const CV_SERVER = 'TLS 1.3, server CertificateVerify';
const CV_CLIENT = 'TLS 1.3, client CertificateVerify';

/**
 * The bytes a CertificateVerify signs (RFC 8446 §4.4.3): 64 spaces, the context string
 * for `side`, a 0 byte, then the transcript hash up to (not including) CertificateVerify.
 */
export function certificateVerifyContent(transcriptHash: Uint8Array, side: 'server' | 'client'): Uint8Array {
  const context = side === 'server' ? CV_SERVER : CV_CLIENT;
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  for (let i = 0; i < context.length; i++) out[64 + i] = context.charCodeAt(i);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

// ---------------------------------------------------------------------------------------
// The key schedule (RFC 8446 §7.1)

/** Options of a KeySchedule. */
export interface KeyScheduleOptions {
  /** Receives an SSLKEYLOGFILE line (no newline) for each traffic and exporter secret. */
  readonly keyLog?: (line: string) => void;
  /** ClientHello.random, which names the connection in key log lines (needed with `keyLog`). */
  readonly clientRandom?: Uint8Array;
}

/**
 * The secrets of one TLS 1.3 handshake for one hash algorithm. Stages run in order:
 * `deriveEarlySecret` (optional: a non-PSK handshake starts with PSK = 0),
 * `deriveHandshakeSecret`, `deriveMasterSecret`; each traffic secret is derived from
 * its stage's secret and the transcript hash the caller passes.
 */
export class KeySchedule {
  readonly hashLength: 32 | 48;
  private readonly zeros: Uint8Array;
  private readonly emptyHash: Uint8Array;
  private early: Uint8Array | null = null;
  private handshake: Uint8Array | null = null;
  private master: Uint8Array | null = null;
  private clientRandom: Uint8Array | null;
  private readonly keyLog: ((line: string) => void) | null;

  constructor(
    private readonly provider: CryptoProvider,
    readonly hash: HashAlgorithm,
    options: KeyScheduleOptions = {},
  ) {
    this.hashLength = hashLength(hash);
    this.zeros = new Uint8Array(this.hashLength);
    this.emptyHash = provider.hash(hash, EMPTY);
    this.keyLog = options.keyLog ?? null;
    this.clientRandom = options.clientRandom?.slice() ?? null;
  }

  /** Sets ClientHello.random for key log lines (a server learns it from the ClientHello). */
  setClientRandom(random: Uint8Array): void {
    this.clientRandom = random.slice();
  }

  /** Early Secret = HKDF-Extract(0, PSK), PSK = 0 (Hash.length zeros) when there is none. */
  deriveEarlySecret(psk?: Uint8Array): Uint8Array {
    this.early = this.provider.hkdfExtract(this.hash, this.zeros, psk ?? this.zeros);
    this.handshake = this.master = null;
    return this.early;
  }

  /** The Early Secret (derived with PSK = 0 if `deriveEarlySecret` was not called). */
  get earlySecret(): Uint8Array {
    return this.early ?? this.deriveEarlySecret();
  }

  /** binder_key: Derive-Secret(Early Secret, "ext binder" | "res binder", "") (§7.1). */
  binderKey(kind: 'external' | 'resumption'): Uint8Array {
    return this.derive(this.earlySecret, kind === 'external' ? 'ext binder' : 'res binder', this.emptyHash);
  }

  /**
   * A PskBinderEntry (§4.2.11.2): computed as Finished verify_data with binder_key as the
   * BaseKey, over the transcript hash ending with Truncate(ClientHello).
   */
  pskBinder(binderKey: Uint8Array, truncatedTranscriptHash: Uint8Array): Uint8Array {
    return this.finishedVerifyData(binderKey, truncatedTranscriptHash);
  }

  /** client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.logged(
      'CLIENT_EARLY_TRAFFIC_SECRET',
      this.derive(this.earlySecret, 'c e traffic', clientHelloHash),
    );
  }

  /** early_exporter_master_secret = Derive-Secret(Early Secret, "e exp master", ClientHello). */
  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.logged(
      'EARLY_EXPORTER_SECRET',
      this.derive(this.earlySecret, 'e exp master', clientHelloHash),
    );
  }

  /**
   * Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE),
   * with (EC)DHE = 0 for a psk_ke handshake (pass null).
   */
  deriveHandshakeSecret(sharedSecret: Uint8Array | null): Uint8Array {
    const salt = this.derive(this.earlySecret, 'derived', this.emptyHash);
    this.handshake = this.provider.hkdfExtract(this.hash, salt, sharedSecret ?? this.zeros);
    this.master = null;
    return this.handshake;
  }

  /** The Handshake Secret. */
  get handshakeSecret(): Uint8Array {
    if (this.handshake === null) throw new Error('handshake secret not derived yet');
    return this.handshake;
  }

  /** client_handshake_traffic_secret = Derive-Secret(HS, "c hs traffic", ClientHello...ServerHello). */
  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return this.logged(
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      this.derive(this.handshakeSecret, 'c hs traffic', helloHash),
    );
  }

  /** server_handshake_traffic_secret = Derive-Secret(HS, "s hs traffic", ClientHello...ServerHello). */
  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return this.logged(
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      this.derive(this.handshakeSecret, 's hs traffic', helloHash),
    );
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0). */
  deriveMasterSecret(): Uint8Array {
    const salt = this.derive(this.handshakeSecret, 'derived', this.emptyHash);
    this.master = this.provider.hkdfExtract(this.hash, salt, this.zeros);
    return this.master;
  }

  /** The Master Secret. */
  get masterSecret(): Uint8Array {
    if (this.master === null) throw new Error('master secret not derived yet');
    return this.master;
  }

  /** client_application_traffic_secret_0 = Derive-Secret(MS, "c ap traffic", ClientHello...server Finished). */
  clientApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.logged(
      'CLIENT_TRAFFIC_SECRET_0',
      this.derive(this.masterSecret, 'c ap traffic', serverFinishedHash),
    );
  }

  /** server_application_traffic_secret_0 = Derive-Secret(MS, "s ap traffic", ClientHello...server Finished). */
  serverApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.logged(
      'SERVER_TRAFFIC_SECRET_0',
      this.derive(this.masterSecret, 's ap traffic', serverFinishedHash),
    );
  }

  /** exporter_master_secret = Derive-Secret(MS, "exp master", ClientHello...server Finished). */
  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.logged('EXPORTER_SECRET', this.derive(this.masterSecret, 'exp master', serverFinishedHash));
  }

  /** resumption_master_secret = Derive-Secret(MS, "res master", ClientHello...client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return this.derive(this.masterSecret, 'res master', clientFinishedHash);
  }

  /** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (§4.4.4). */
  finishedKey(baseKey: Uint8Array): Uint8Array {
    return hkdfExpandLabel(this.provider, this.hash, baseKey, 'finished', EMPTY, this.hashLength);
  }

  /** verify_data = HMAC(finished_key, Transcript-Hash(...)) (§4.4.4). */
  finishedVerifyData(baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
    return this.provider.hmac(this.hash, this.finishedKey(baseKey), transcriptHash);
  }

  /** The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length) (§4.6.1). */
  resumptionPsk(resumptionMasterSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
    return hkdfExpandLabel(
      this.provider,
      this.hash,
      resumptionMasterSecret,
      'resumption',
      ticketNonce,
      this.hashLength,
    );
  }

  private derive(secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, secret, label, transcriptHash);
  }

  private logged(label: KeyLogLabel, secret: Uint8Array): Uint8Array {
    if (this.keyLog !== null) {
      if (this.clientRandom === null) throw new Error(`key log needs the client random (${label})`);
      this.keyLog(keyLogLine(label, this.clientRandom, secret));
    }
    return secret;
  }
}
