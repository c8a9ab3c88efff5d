/**
 * The TLS 1.3 server handshake for QUIC (RFC 8446 §2, RFC 9001 §4): ClientHello checks and
 * negotiation (version, transport parameters, ALPN, suite, group — or a HelloRetryRequest),
 * PSK resumption from our own sealed tickets, 0-RTT acceptance with the replay filter, the
 * server's flight (ServerHello; EncryptedExtensions, Certificate, CertificateVerify, Finished),
 * the client's Finished, then one NewSessionTicket at the application level.
 *
 *   wait_ch ──CH──▶ (HRR) wait_ch2 ──CH2──▶ ┐
 *      └──────────────────────────────────▶ send SH … Fin ──▶ wait_finished ──Fin──▶ connected
 */
import { constantTimeEqual } from '../crypto/compare.ts';
import type { NamedGroup } from '../crypto/provider.ts';
import { AlertDescription, TlsAlert, illegalParameter } from './alerts.ts';
import {
  HandshakeType as HT,
  ProtocolVersion,
  PskKeyExchangeMode,
  cipherSuiteParams,
  signatureSchemeName,
} from './constants.ts';
import type { CipherSuiteParams } from './constants.ts';
import type { KeyShareEntry, OfferedPsks } from './extensions.ts';
import type { RawHandshakeMessage } from './handshake-buffer.ts';
import { certificateVerifyContent } from './key-schedule.ts';
import type { KeySchedule } from './key-schedule.ts';
import { decodeClientHello, serializeHandshake, truncateClientHello } from './messages.ts';
import type { ClientHello, EncryptedExtensionsExtensions } from './messages.ts';
import { SCHEME_FOR_KEY, SessionBase, groupCode } from './session-base.ts';
import type { EncryptionLevel, TlsServerOptions } from './session.ts';
import {
  MAX_TICKET_LIFETIME,
  QUIC_MAX_EARLY_DATA,
  defaultReplayFilter,
  defaultTicketKey,
  openTicket,
  sealTicket,
} from './tickets.ts';
import type { OpenedTicket, ReplayFilter } from './tickets.ts';

type ServerState = 'wait_ch' | 'wait_ch2' | 'wait_finished' | 'connected';

/**
 * How far the client's view of a ticket's age may differ from ours for 0-RTT (RFC 8446
 * §8.3 freshness check): beyond it the ClientHello may be old, so 0-RTT is rejected.
 */
export const EARLY_DATA_AGE_WINDOW_MS = 10_000;

/** At most this many PSK identities are tried (each costs an AEAD open). */
const MAX_PSK_IDENTITIES_TRIED = 4;

const EMPTY = new Uint8Array(0);

/** A ticket of ours found among the client's PSK identities. */
interface FoundPsk {
  readonly index: number;
  readonly opened: OpenedTicket;
  readonly obfuscatedAge: number;
}

/** The server side of the handshake; create it with `createServerSession`. */
export class ServerSession extends SessionBase {
  readonly role = 'server';
  private state: ServerState = 'wait_ch';
  private readonly ticketKey: Uint8Array;
  private readonly ticketLifetime: number;
  private readonly replayFilter: ReplayFilter;
  /** The group a HelloRetryRequest asked for. */
  private hrrGroup: NamedGroup | null = null;
  /** The client offered psk_dhe_ke, so it can use a ticket (RFC 8446 §4.2.9). */
  private clientCanResume = false;
  private clientHandshakeSecret: Uint8Array | null = null;
  private clientApplicationSecret: Uint8Array | null = null;
  /** exporter_master_secret (RFC 8446 §7.5), once the server's Finished is sent. */
  exporterSecret: Uint8Array | null = null;

  constructor(
    private readonly options: TlsServerOptions,
    private readonly transportParameters: Uint8Array,
  ) {
    super(options);
    if (options.certificateChain.length === 0) throw new RangeError('the server needs a certificate chain');
    this.ticketKey = options.ticketKey ?? defaultTicketKey(options.provider);
    if (this.ticketKey.length !== 32) throw new RangeError('the ticket key must be 32 bytes');
    this.ticketLifetime = options.ticketLifetime ?? 86_400;
    if (
      !Number.isInteger(this.ticketLifetime) ||
      this.ticketLifetime < 0 ||
      this.ticketLifetime > MAX_TICKET_LIFETIME
    ) {
      throw new RangeError(`ticket lifetime must be 0..${MAX_TICKET_LIFETIME} seconds`); // RFC 8446 §4.6.1
    }
    this.replayFilter = options.replayFilter ?? defaultReplayFilter;
    const v = options.quicVersion;
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff))
      throw new RangeError(`bad QUIC version ${v}`);
  }

  /** The server speaks second: nothing to do until the ClientHello arrives. */
  start(_now: number): void {
    this.guard(() => {});
  }

  protected onMessage(msg: RawHandshakeMessage, level: EncryptionLevel, now: number): void {
    switch (this.state) {
      case 'wait_ch':
      case 'wait_ch2':
        this.expect(msg, level, HT.client_hello);
        return this.onClientHello(decodeClientHello(msg.body), msg, now);
      case 'wait_finished':
        this.expect(msg, level, HT.finished);
        return this.onFinished(msg, now);
      default:
        this.expect(msg, level);
    }
  }

  private onClientHello(ch: ClientHello, msg: RawHandshakeMessage, now: number): void {
    const e = ch.extensions;
    const retry = this.state === 'wait_ch2';
    // RFC 8446 §4.2.1: TLS 1.3 is negotiated only through supported_versions.
    if (e.supportedVersions === undefined || !e.supportedVersions.includes(ProtocolVersion.TLS13)) {
      throw new TlsAlert(AlertDescription.protocol_version, 'the client does not offer TLS 1.3');
    }
    // RFC 9001 §8.2: quic_transport_parameters is mandatory.
    if (e.quicTransportParameters === undefined) {
      throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello without quic_transport_parameters');
    }
    // RFC 8446 §9.2: supported_groups and key_share go together.
    if ((e.supportedGroups === undefined) !== (e.keyShares === undefined)) {
      throw new TlsAlert(
        AlertDescription.missing_extension,
        'supported_groups without key_share or vice versa',
      );
    }
    // RFC 8446 §4.2.9: a PSK offer needs psk_key_exchange_modes.
    if (e.preSharedKey !== undefined && e.pskKeyExchangeModes === undefined) {
      throw new TlsAlert(AlertDescription.missing_extension, 'pre_shared_key without psk_key_exchange_modes');
    }
    if (retry && e.earlyData === true) {
      throw illegalParameter('early_data in the ClientHello after a HelloRetryRequest (RFC 8446 §4.2.10)');
    }
    // RFC 9001 §8.1: ALPN is mandatory; no overlap is no_application_protocol.
    const alpn = this.options.alpnProtocols.find((p) => e.alpn?.includes(p));
    if (alpn === undefined) {
      throw new TlsAlert(
        AlertDescription.no_application_protocol,
        e.alpn === undefined
          ? 'the client offered no ALPN protocol'
          : `no common ALPN protocol (client offered ${e.alpn.map((p) => `'${p}'`).join(', ')})`,
      );
    }
    this.clientCanResume = e.pskKeyExchangeModes?.includes(PskKeyExchangeMode.psk_dhe_ke) ?? false;
    const found =
      this.clientCanResume && e.preSharedKey !== undefined ? this.findTicket(e.preSharedKey, now) : null;
    const suite = this.selectSuite(ch, found, retry);

    // Key exchange group (RFC 8446 §4.2.7, §4.2.8).
    const clientGroups = e.supportedGroups ?? [];
    const shares = e.keyShares ?? [];
    for (const s of shares) {
      if (!clientGroups.includes(s.group)) {
        throw illegalParameter(
          `key_share for group 0x${s.group.toString(16)}, which is not in supported_groups`,
        );
      }
    }
    let group: NamedGroup | null = null;
    let share: KeyShareEntry | undefined;
    for (const g of this.groups) {
      share = shares.find((s) => s.group === groupCode(g));
      if (share !== undefined) {
        group = g;
        break;
      }
    }
    if (retry) {
      // RFC 8446 §4.1.2: the second ClientHello carries one share, for the group we asked for.
      if (group !== this.hrrGroup || shares.length !== 1) {
        throw illegalParameter(
          `the ClientHello after HelloRetryRequest has no single ${this.hrrGroup} key share`,
        );
      }
    } else if (group === null) {
      const g = this.groups.find((x) => clientGroups.includes(groupCode(x)));
      if (g === undefined)
        throw new TlsAlert(AlertDescription.handshake_failure, 'no common key exchange group');
      return this.sendHelloRetryRequest(ch, msg, suite, g);
    }
    this.continueHandshake(ch, msg, now, suite, group!, share!, alpn, found);
  }

  /** The server's preferred suite the client offers; a resumable ticket's suite first (RFC 8446 §4.2.11). */
  private selectSuite(ch: ClientHello, found: FoundPsk | null, retry: boolean): CipherSuiteParams {
    if (retry) {
      // RFC 8446 §4.1.4: the suite is the one the HelloRetryRequest fixed.
      if (!ch.cipherSuites.includes(this.suite!.code)) {
        throw illegalParameter('the ClientHello after HelloRetryRequest dropped the selected cipher suite');
      }
      return this.suite!;
    }
    const ticketSuite = found?.opened.state.cipherSuite;
    if (
      ticketSuite !== undefined &&
      this.suites.includes(ticketSuite) &&
      ch.cipherSuites.includes(ticketSuite)
    ) {
      return cipherSuiteParams(ticketSuite)!;
    }
    const code = this.suites.find((s) => ch.cipherSuites.includes(s));
    if (code === undefined) throw new TlsAlert(AlertDescription.handshake_failure, 'no common cipher suite');
    return cipherSuiteParams(code)!;
  }

  /**
   * The first PSK identity that is one of our unexpired tickets, or null. Unknown or expired
   * tickets are ignored: the handshake falls back to a full one (RFC 8446 §4.2.11); so are
   * tickets issued by a connection of another QUIC version (RFC 9369 §5).
   */
  private findTicket(psks: OfferedPsks, now: number): FoundPsk | null {
    const n = Math.min(psks.identities.length, MAX_PSK_IDENTITIES_TRIED);
    for (let index = 0; index < n; index++) {
      const id = psks.identities[index];
      const opened = openTicket(this.provider, this.ticketKey, id.identity);
      if (opened === null) continue;
      const s = opened.state;
      const age = now - s.createdAt;
      if (age < 0 || age > s.lifetime * 1000 || cipherSuiteParams(s.cipherSuite) === undefined) continue;
      // RFC 9369 §5: "Servers MUST validate the originating version of any session ticket".
      if (s.quicVersion !== (this.options.quicVersion ?? 0)) continue;
      return { index, opened, obfuscatedAge: id.obfuscatedTicketAge };
    }
    return null;
  }

  private sendHelloRetryRequest(
    ch: ClientHello,
    msg: RawHandshakeMessage,
    suite: CipherSuiteParams,
    group: NamedGroup,
  ): void {
    this.suite = suite;
    this.hrrGroup = group;
    // RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash in the transcript.
    this.transcript.setHash(suite.hash);
    this.transcript.add(msg.raw);
    this.transcript.replaceWithMessageHash();
    if (ch.extensions.earlyData === true) this.rejectEarlyDataForRetry();
    this.send(
      'initial',
      serializeHandshake({
        kind: 'hello_retry_request',
        cipherSuite: suite.code,
        extensions: { supportedVersion: ProtocolVersion.TLS13, selectedGroup: groupCode(group) },
      }),
    );
    this.state = 'wait_ch2';
  }

  private continueHandshake(
    ch: ClientHello,
    msg: RawHandshakeMessage,
    now: number,
    suite: CipherSuiteParams,
    group: NamedGroup,
    clientShare: KeyShareEntry,
    alpn: string,
    found: FoundPsk | null,
  ): void {
    const e = ch.extensions;
    this.suite = suite;
    this.cipherSuite = suite.code;
    this.group = group;
    this.alpn = alpn;
    this.serverName = e.serverName ?? null;
    this.transcript.setHash(suite.hash);
    const schedule = this.newKeySchedule(suite.hash, ch.random);
    this.schedule = schedule;

    // PSK (RFC 8446 §4.2.11): a ticket whose hash fits the suite, with a valid binder.
    let psk: FoundPsk | null = null;
    if (found !== null && cipherSuiteParams(found.opened.state.cipherSuite)!.hash === suite.hash) {
      schedule.deriveEarlySecret(found.opened.state.psk);
      const binders = e.preSharedKey!.binders;
      const truncated = truncateClientHello(msg.raw, binders);
      const expected = schedule.pskBinder(
        schedule.binderKey('resumption'),
        this.transcript.digestWith(truncated),
      );
      if (!constantTimeEqual(expected, binders[found.index])) {
        throw new TlsAlert(
          AlertDescription.decrypt_error,
          'the PSK binder does not verify (RFC 8446 §4.2.11)',
        );
      }
      psk = found;
      this.resumed = true;
    } else {
      schedule.deriveEarlySecret();
    }
    let scheme = 0;
    if (!this.resumed) {
      // RFC 8446 §9.2: certificate authentication needs signature_algorithms.
      if (e.signatureAlgorithms === undefined) {
        throw new TlsAlert(AlertDescription.missing_extension, 'ClientHello without signature_algorithms');
      }
      scheme = SCHEME_FOR_KEY[this.options.privateKey.type];
      if (!e.signatureAlgorithms.includes(scheme)) {
        throw new TlsAlert(
          AlertDescription.handshake_failure,
          `the client accepts no signature scheme for our ${this.options.privateKey.type} key`,
        );
      }
    }
    const share = this.provider.generateKeyShare(group);
    const shared = share.sharedSecret(clientShare.keyExchange); // InvalidKeyShareError: illegal_parameter
    this.transcript.add(msg.raw);
    this.emit({ kind: 'peer_transport_parameters', data: e.quicTransportParameters! });
    this.emit({ kind: 'alpn', protocol: alpn });

    // 0-RTT (RFC 8446 §4.2.10, RFC 9001 §4.6).
    if (e.earlyData === true) {
      const reason = this.earlyDataRefusal(psk, suite, alpn, now);
      this.earlyData = reason === null ? 'accepted' : 'rejected';
      if (reason === null) {
        this.emit({ kind: 'early_data', status: 'accepted' });
        const secret = schedule.clientEarlyTrafficSecret(this.transcript.digest());
        this.installKeys('early', 'read', secret);
      } else this.emit({ kind: 'early_data', status: 'rejected', reason });
    }

    this.send(
      'initial',
      serializeHandshake({
        kind: 'server_hello',
        random: this.provider.randomBytes(32),
        cipherSuite: suite.code,
        extensions: {
          supportedVersion: ProtocolVersion.TLS13,
          keyShare: { group: groupCode(group), keyExchange: share.publicKey },
          ...(psk !== null ? { preSharedKey: psk.index } : {}),
        },
      }),
    );
    schedule.deriveHandshakeSecret(shared);
    let hash = this.transcript.digest();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(hash);
    const serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(hash);
    this.installKeys('handshake', 'write', serverHandshakeSecret);
    this.installKeys('handshake', 'read', this.clientHandshakeSecret);

    const ee: EncryptedExtensionsExtensions = { alpn, quicTransportParameters: this.transportParameters };
    if (this.earlyData === 'accepted') ee.earlyData = true;
    this.send('handshake', serializeHandshake({ kind: 'encrypted_extensions', extensions: ee }));
    if (!this.resumed) {
      const entries = this.options.certificateChain.map((data) => ({ data, extensions: [] }));
      this.send('handshake', serializeHandshake({ kind: 'certificate', context: EMPTY, entries }));
      const content = certificateVerifyContent(this.transcript.digest(), 'server');
      const signature = this.provider.sign(signatureSchemeName(scheme)!, this.options.privateKey, content);
      this.send(
        'handshake',
        serializeHandshake({ kind: 'certificate_verify', algorithm: scheme, signature }),
      );
    }
    const verifyData = schedule.finishedVerifyData(serverHandshakeSecret, this.transcript.digest());
    this.send('handshake', serializeHandshake({ kind: 'finished', verifyData }));
    schedule.deriveMasterSecret();
    hash = this.transcript.digest();
    this.clientApplicationSecret = schedule.clientApplicationTrafficSecret(hash);
    const serverApplicationSecret = schedule.serverApplicationTrafficSecret(hash);
    this.exporterSecret = schedule.exporterMasterSecret(hash);
    this.installKeys('application', 'write', serverApplicationSecret);
    this.readLevel = 'handshake';
    this.state = 'wait_finished';
  }

  /** Why 0-RTT cannot be accepted, or null when it can (RFC 8446 §4.2.10, §8; RFC 9001 §4.6). */
  private earlyDataRefusal(
    psk: FoundPsk | null,
    suite: CipherSuiteParams,
    alpn: string,
    now: number,
  ): string | null {
    if (this.options.enableEarlyData !== true) return 'disabled by the server';
    if (psk === null) return 'no PSK accepted';
    if (psk.index !== 0) return 'the accepted PSK is not the first identity';
    const t = psk.opened.state;
    if (!t.earlyData) return 'the ticket does not allow 0-RTT';
    if (t.cipherSuite !== suite.code) return 'another cipher suite than the ticket';
    if (t.alpn !== alpn) return `another ALPN protocol than the ticket ('${alpn}', not '${t.alpn}')`;
    // RFC 8446 §8.3: the client's ticket age must agree with ours.
    const clientAge = (psk.obfuscatedAge - t.ageAdd + 0x100000000) % 0x100000000;
    if (Math.abs(clientAge - (now - t.createdAt)) > EARLY_DATA_AGE_WINDOW_MS)
      return 'ticket age out of window';
    if (this.options.acceptEarlyData !== undefined && !this.options.acceptEarlyData(t.appData)) {
      return 'the transport or application configuration changed';
    }
    // RFC 8446 §8.1: single-use tickets; checked last so that only 0-RTT use consumes one.
    if (!this.replayFilter.checkAndRecord(psk.opened.id, t.createdAt + t.lifetime * 1000, now)) {
      return 'replayed ticket';
    }
    return null;
  }

  private onFinished(msg: RawHandshakeMessage, now: number): void {
    const schedule = this.schedule!;
    this.receiveFinished(msg, this.clientHandshakeSecret!);
    this.installKeys('application', 'read', this.clientApplicationSecret!);
    this.clientHandshakeSecret = this.clientApplicationSecret = null;
    // Nothing more may come from the client: QUIC has no KeyUpdate or post-handshake auth.
    this.readLevel = null;
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ kind: 'handshake_complete' });
    this.sendTicket(schedule, this.transcript.digest(), now);
  }

  /** Issues one NewSessionTicket at the application level (RFC 8446 §4.6.1, RFC 9001 §4.6.1). */
  private sendTicket(schedule: KeySchedule, clientFinishedHash: Uint8Array, now: number): void {
    // RFC 8446 §4.2.9: a ticket is useful only to a client that offered psk_dhe_ke.
    if (!this.clientCanResume || this.ticketLifetime === 0) return;
    const nonce = Uint8Array.of(0); // unique per ticket of this connection: we send one
    const psk = schedule.resumptionPsk(schedule.resumptionMasterSecret(clientFinishedHash), nonce);
    const r = this.provider.randomBytes(4);
    const ageAdd = ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) >>> 0;
    const earlyData = this.options.enableEarlyData === true;
    const ticket = sealTicket(this.provider, this.ticketKey, {
      cipherSuite: this.suite!.code,
      psk,
      alpn: this.alpn!,
      createdAt: now,
      lifetime: this.ticketLifetime,
      ageAdd,
      earlyData,
      appData: this.options.ticketAppData ?? EMPTY,
      quicVersion: this.options.quicVersion ?? 0,
    });
    const nst = serializeHandshake({
      kind: 'new_session_ticket',
      lifetime: this.ticketLifetime,
      ageAdd,
      nonce,
      ticket,
      extensions: earlyData ? { maxEarlyDataSize: QUIC_MAX_EARLY_DATA } : {},
    });
    this.send('application', nst, false); // post-handshake: not in the transcript
  }
}
