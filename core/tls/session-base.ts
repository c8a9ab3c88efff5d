/**
 * What the client and server handshakes share: the options both take, the event queue, one
 * HandshakeBuffer per encryption level with the rule that handshake bytes arrive only at the
 * level the state machine expects (RFC 9001 §4.1.3, RFC 8446 §5.1), the transcript, the key
 * schedule, the sending of messages, the check of the peer's Finished, and the conversion of
 * every failure into a typed QuicError (a TlsAlert, 0x100 + alert, RFC 9001 §4.8), after which
 * the session is dead.
 */
import { constantTimeEqual } from '../crypto/compare.ts';
import { InvalidKeyShareError, UnsupportedAlgorithmError } from '../crypto/provider.ts';
import type { CryptoProvider, HashAlgorithm, KeyType, NamedGroup } from '../crypto/provider.ts';
import { QuicError } from '../wire/errors.ts';
import { AlertDescription, TlsAlert, unexpectedMessage } from './alerts.ts';
import {
  CipherSuite,
  HELLO_RETRY_REQUEST_RANDOM,
  cipherSuiteParams,
  namedGroupName,
  HandshakeType as HT,
  NamedGroup as Group,
  SignatureScheme as Scheme,
  handshakeTypeName,
} from './constants.ts';
import type { CipherSuiteParams } from './constants.ts';
import { HandshakeBuffer } from './handshake-buffer.ts';
import type { RawHandshakeMessage } from './handshake-buffer.ts';
import { KeySchedule, Transcript } from './key-schedule.ts';
import { decodeFinished } from './messages.ts';
import type { EarlyDataStatus, EncryptionLevel, TlsEvent, TlsOptions, TlsSession } from './session.ts';
import { CertificateError } from './x509-types.ts';

/** Default cipher suites, in preference order (RFC 9001 §5.3). */
export const DEFAULT_CIPHER_SUITES: readonly number[] = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
];

/** Default key-exchange groups, in preference order. */
export const DEFAULT_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];

/** The signature schemes offered for CertificateVerify (RFC 8446 §4.2.3: RSA only with PSS). */
export const HANDSHAKE_SIGNATURE_SCHEMES: readonly number[] = [
  Scheme.ecdsa_secp256r1_sha256,
  Scheme.ecdsa_secp384r1_sha384,
  Scheme.rsa_pss_rsae_sha256,
  Scheme.ed25519,
];

/**
 * The schemes accepted in certificates (signature_algorithms_cert, RFC 8446 §4.2.3): those
 * above plus rsa_pkcs1_sha256, which is valid in certificates but never in CertificateVerify.
 */
export const CERTIFICATE_SIGNATURE_SCHEMES: readonly number[] = [
  ...HANDSHAKE_SIGNATURE_SCHEMES,
  Scheme.rsa_pkcs1_sha256,
];

/** The CertificateVerify scheme that goes with each key type (RFC 8446 §4.2.3). */
export const SCHEME_FOR_KEY: Readonly<Record<KeyType, number>> = {
  'ec-p256': Scheme.ecdsa_secp256r1_sha256,
  'ec-p384': Scheme.ecdsa_secp384r1_sha384,
  rsa: Scheme.rsa_pss_rsae_sha256,
  ed25519: Scheme.ed25519,
};

/** The key type a CertificateVerify scheme needs, or undefined for one not allowed there. */
export function keyTypeForScheme(scheme: number): KeyType | undefined {
  for (const [type, s] of Object.entries(SCHEME_FOR_KEY)) if (s === scheme) return type as KeyType;
  return undefined;
}

/** The NamedGroup code point of a provider group name. */
export function groupCode(name: NamedGroup): number {
  return Group[name];
}

/** Checks the options a caller gives (RangeError / TypeError: a programming mistake). */
export function checkCommonOptions(
  alpn: readonly string[],
  suites: readonly number[],
  groups: readonly NamedGroup[],
): void {
  // RFC 9001 §8.1: ALPN is mandatory in QUIC. RFC 7301 §3.1: names of 1..255 bytes.
  if (alpn.length === 0) throw new RangeError('at least one ALPN protocol is required (RFC 9001 §8.1)');
  for (const p of alpn) {
    if (p.length === 0 || p.length > 255 || [...p].some((c) => c.charCodeAt(0) > 0xff))
      throw new RangeError(`bad ALPN protocol '${p}'`);
  }
  if (suites.length === 0) throw new RangeError('no cipher suites');
  for (const s of suites) {
    if (cipherSuiteParams(s) === undefined)
      throw new RangeError(`unsupported cipher suite 0x${s.toString(16)}`);
  }
  if (groups.length === 0) throw new RangeError('no key exchange groups');
  for (const g of groups)
    if (namedGroupName(groupCode(g)) === undefined) throw new RangeError(`unsupported group ${g}`);
}

/** The largest NewSessionTicket (or other post-handshake message) we buffer. */
const MAX_POST_HANDSHAKE_MESSAGE = 16384;

/**
 * The common machinery of a TLS 1.3 endpoint over QUIC. Subclasses implement `onMessage`
 * (dispatch by state) and set `readLevel` as the handshake moves on.
 */
export abstract class SessionBase implements TlsSession {
  abstract readonly role: 'client' | 'server';
  handshakeComplete = false;
  alpn: string | null = null;
  cipherSuite: number | null = null;
  group: NamedGroup | null = null;
  resumed = false;
  earlyData: EarlyDataStatus = 'not_offered';
  peerCertificates: readonly Uint8Array[] = [];
  serverName: string | null = null;

  protected readonly provider: CryptoProvider;
  /** Our cipher suites, in preference order. */
  protected readonly suites: readonly number[];
  /** Our key-exchange groups, in preference order. */
  protected readonly groups: readonly NamedGroup[];
  protected readonly transcript: Transcript;
  protected schedule: KeySchedule | null = null;
  protected suite: CipherSuiteParams | null = null;
  /** The only level at which handshake bytes are accepted now; null: none. */
  protected readLevel: EncryptionLevel | null = 'initial';
  private readonly keylog: ((line: string) => void) | undefined;

  private readonly events: TlsEvent[] = [];
  private head = 0;
  private readonly buffers: Record<'initial' | 'handshake' | 'application', HandshakeBuffer> = {
    initial: new HandshakeBuffer(),
    handshake: new HandshakeBuffer(),
    application: new HandshakeBuffer(MAX_POST_HANDSHAKE_MESSAGE, 4 * (MAX_POST_HANDSHAKE_MESSAGE + 4)),
  };
  private failure: QuicError | null = null;

  constructor(options: TlsOptions) {
    this.provider = options.provider;
    this.transcript = new Transcript(options.provider);
    this.keylog = options.keylog;
    this.suites = options.cipherSuites ?? DEFAULT_CIPHER_SUITES;
    this.groups = options.groups ?? DEFAULT_GROUPS;
    checkCommonOptions(options.alpnProtocols, this.suites, this.groups);
  }

  abstract start(now: number): void;

  /** Handles one whole handshake message received at `level` (the state machine). */
  protected abstract onMessage(msg: RawHandshakeMessage, level: EncryptionLevel, now: number): void;

  poll(): TlsEvent | null {
    if (this.head === this.events.length) {
      if (this.head > 0) this.events.length = this.head = 0;
      return null;
    }
    return this.events[this.head++];
  }

  receive(level: EncryptionLevel, data: Uint8Array, now: number): void {
    this.guard(() => this.receiveBytes(level, data, now));
  }

  /** Runs `fn`; any failure kills the session and is rethrown as a typed QuicError. */
  protected guard(fn: () => void): void {
    if (this.failure !== null) throw this.failure;
    try {
      fn();
    } catch (e) {
      throw this.fail(e);
    }
  }

  private receiveBytes(level: EncryptionLevel, data: Uint8Array, now: number): void {
    if (data.length === 0) return;
    // RFC 9001 §8.3: no CRYPTO frames in 0-RTT; TLS never reads at the early level.
    if (level === 'early') throw unexpectedMessage('handshake data at the early (0-RTT) level');
    if (level !== this.readLevel) {
      throw unexpectedMessage(
        `handshake data at the ${level} level while ${this.readLevel === null ? 'expecting none' : `expecting the ${this.readLevel} level`}`,
      );
    }
    const buf = this.buffers[level];
    buf.push(data);
    for (;;) {
      const msg = buf.next();
      if (msg === null) return;
      this.events.push({
        kind: 'message',
        direction: 'received',
        level,
        type: messageName(msg.type, msg.body),
        length: msg.raw.length,
      });
      this.onMessage(msg, level, now);
      if (this.readLevel !== level) {
        // RFC 8446 §5.1: handshake messages must not span a key change; nothing may follow
        // the last message of a level (data after Finished is unexpected_message).
        buf.checkEmpty(level);
        return;
      }
    }
  }

  /** Converts any throw into the session's final QuicError (never an untyped error). */
  private fail(e: unknown): QuicError {
    let err: QuicError;
    if (e instanceof QuicError) err = e;
    else if (e instanceof CertificateError) err = new TlsAlert(e.alert, e.message);
    else if (e instanceof InvalidKeyShareError) {
      err = new TlsAlert(AlertDescription.illegal_parameter, `key_share: ${e.message}`); // RFC 8446 §4.2.8
    } else if (e instanceof UnsupportedAlgorithmError) {
      err = new TlsAlert(AlertDescription.handshake_failure, e.message);
    } else {
      err = new TlsAlert(
        AlertDescription.internal_error,
        e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      );
    }
    this.failure = err;
    this.readLevel = null;
    return err;
  }

  /** Queues an event. */
  protected emit(event: TlsEvent): void {
    this.events.push(event);
  }

  /**
   * Sends one encoded handshake message at `level`: adds it to the transcript (unless it is
   * post-handshake) and queues the 'message' and 'handshake_data' events.
   */
  protected send(level: EncryptionLevel, raw: Uint8Array, inTranscript = true): void {
    if (inTranscript) this.transcript.add(raw);
    this.events.push({
      kind: 'message',
      direction: 'sent',
      level,
      type: messageName(raw[0], raw.subarray(4)),
      length: raw.length,
    });
    this.events.push({ kind: 'handshake_data', level, data: raw });
  }

  /** A key schedule for `hash` that logs its secrets (SSLKEYLOGFILE) under `clientRandom`. */
  protected newKeySchedule(hash: HashAlgorithm, clientRandom: Uint8Array): KeySchedule {
    return new KeySchedule(this.provider, hash, { keyLog: this.keylog, clientRandom });
  }

  /**
   * Checks the peer's Finished against its handshake traffic secret `peerSecret` and adds it to
   * the transcript (RFC 8446 §4.4.4: one that does not verify is decrypt_error).
   */
  protected receiveFinished(msg: RawHandshakeMessage, peerSecret: Uint8Array): void {
    const schedule = this.schedule!;
    const fin = decodeFinished(msg.body, schedule.hashLength);
    const expected = schedule.finishedVerifyData(peerSecret, this.transcript.digest());
    if (!constantTimeEqual(expected, fin.verifyData)) {
      const peer = this.role === 'client' ? 'server' : 'client';
      throw new TlsAlert(AlertDescription.decrypt_error, `the ${peer} Finished does not verify`);
    }
    this.transcript.add(msg.raw);
  }

  /** RFC 9001 §4.6.2: a HelloRetryRequest always rejects 0-RTT. */
  protected rejectEarlyDataForRetry(): void {
    this.earlyData = 'rejected';
    this.emit({ kind: 'early_data', status: 'rejected', reason: 'HelloRetryRequest' });
  }

  /** Queues a 'keys' event for the negotiated suite. */
  protected installKeys(
    level: 'early' | 'handshake' | 'application',
    direction: 'read' | 'write',
    secret: Uint8Array,
    cipherSuite: number = this.suite!.code,
  ): void {
    this.events.push({ kind: 'keys', level, direction, cipherSuite, secret });
  }

  /** Throws unexpected_message unless `msg` is of one of the `expected` types (RFC 8446 §4). */
  protected expect(msg: RawHandshakeMessage, level: EncryptionLevel, ...expected: number[]): void {
    if (expected.includes(msg.type)) return;
    const names = expected.map(handshakeTypeName).join(' or ');
    if (msg.type === HT.key_update) throw unexpectedMessage('KeyUpdate is not used in QUIC (RFC 9001 §6)');
    if (msg.type === HT.end_of_early_data) {
      throw unexpectedMessage('EndOfEarlyData is not used in QUIC (RFC 9001 §8.3)');
    }
    throw unexpectedMessage(
      `${handshakeTypeName(msg.type)} at the ${level} level where ${names.length > 0 ? names : 'nothing'} was expected`,
    );
  }
}

/** The RFC 8446 name of a message, telling a HelloRetryRequest from a ServerHello by its random. */
function messageName(type: number, body: Uint8Array): string {
  if (type === HT.server_hello && body.length >= 34) {
    let hrr = true;
    for (let i = 0; i < 32 && hrr; i++) hrr = body[2 + i] === HELLO_RETRY_REQUEST_RANDOM[i];
    if (hrr) return 'hello_retry_request';
  }
  return handshakeTypeName(type);
}
