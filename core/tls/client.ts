/**
 * The TLS 1.3 client handshake for QUIC (RFC 8446 §2, RFC 9001 §4): ClientHello (with a PSK
 * and 0-RTT when resuming), HelloRetryRequest, ServerHello, EncryptedExtensions, the server's
 * Certificate / CertificateVerify (chain checked with x509.verifyChain), Finished, the
 * client's Finished, then NewSessionTickets at the application level.
 *
 *   start ──CH──▶ wait_sh ──SH──▶ wait_ee ──EE──▶ wait_cert_cr ──Cert──▶ wait_cv ──CV──▶ wait_finished
 *                  │  ▲ HRR: CH2        │ (PSK) ──────────────────────────────────────────▶ │
 *                  └──┘                 └─ CR ─▶ wait_cert ──Cert──▶ …            Fin ──▶ connected (NST)
 */
import type { KeyShare, NamedGroup } from '../crypto/provider.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import { AlertDescription, TlsAlert, decodeError, illegalParameter } from './alerts.ts';
import {
  ExtensionType as X,
  HandshakeType as HT,
  ProtocolVersion,
  PskKeyExchangeMode,
  cipherSuiteParams,
  namedGroupName,
  signatureSchemeName,
} from './constants.ts';
import type { CipherSuiteParams } from './constants.ts';
import { checkSolicited } from './extensions.ts';
import type { RawHandshakeMessage } from './handshake-buffer.ts';
import { certificateVerifyContent } from './key-schedule.ts';
import type { KeySchedule } from './key-schedule.ts';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeEncryptedExtensions,
  decodeNewSessionTicket,
  decodeServerHello,
  patchBinders,
  serializeHandshake,
  truncateClientHello,
} from './messages.ts';
import type { ClientHelloExtensions, HelloRetryRequest, ServerHello } from './messages.ts';
import {
  CERTIFICATE_SIGNATURE_SCHEMES,
  HANDSHAKE_SIGNATURE_SCHEMES,
  SessionBase,
  groupCode,
  keyTypeForScheme,
} from './session-base.ts';
import type { CertificateVerdict, EncryptionLevel, SessionTicket, TlsClientOptions } from './session.ts';
import { MAX_TICKET_LIFETIME, QUIC_MAX_EARLY_DATA } from './tickets.ts';
import { parseIpAddress } from './x509.ts';
import type { Certificate } from './x509.ts';
import { verifyChain } from './x509-verify.ts';

type ClientState =
  'start' | 'wait_sh' | 'wait_ee' | 'wait_cert_cr' | 'wait_cert' | 'wait_cv' | 'wait_finished' | 'connected';

/** A PSK being offered: the ticket, its suite, and the key schedule started from it. */
interface OfferedPsk {
  readonly ticket: SessionTicket;
  readonly suite: CipherSuiteParams;
  readonly schedule: KeySchedule;
}

/** The client side of the handshake; create it with `createClientSession`. */
export class ClientSession extends SessionBase {
  readonly role = 'client';
  private state: ClientState = 'start';
  private readonly verifyPeer: boolean;
  /** The host name sent as SNI: not an IP literal, no trailing dot (RFC 6066 §3). */
  private readonly sni: string | null;
  private random: Uint8Array = new Uint8Array(0);
  private keyShare: KeyShare | null = null;
  /** Extension types of the latest ClientHello (RFC 8446 §4.2: responses must be solicited). */
  private offered = new Set<number>();
  private psk: OfferedPsk | null = null;
  private earlyOffered = false;
  private hrrSuite: number | null = null;
  private certRequestContext: Uint8Array | null = null;
  private leaf: Certificate | null = null;
  private clientHandshakeSecret: Uint8Array | null = null;
  private serverHandshakeSecret: Uint8Array | null = null;
  private resumptionSecret: Uint8Array | null = null;
  /** exporter_master_secret (RFC 8446 §7.5), once the server's Finished is verified. */
  exporterSecret: Uint8Array | null = null;

  constructor(
    private readonly options: TlsClientOptions,
    private readonly transportParameters: Uint8Array,
  ) {
    super(options);
    this.verifyPeer = options.verifyPeer ?? true;
    const name = options.serverName;
    if (name !== null && /[^\x21-\x7e]/.test(name)) {
      throw new RangeError(`server name '${name}' is not an ASCII host name (convert IDNs to A-labels)`);
    }
    this.sni = name === null || name === '' || parseIpAddress(name) !== null ? null : name.replace(/\.$/, '');
  }

  start(now: number): void {
    if (this.state !== 'start') throw new Error('TLS client session already started');
    this.guard(() => {
      this.random = this.provider.randomBytes(32);
      this.keyShare = this.provider.generateKeyShare(this.groups[0]);
      this.psk = this.pskFor(this.options.ticket ?? null, now);
      const t = this.psk?.ticket;
      // RFC 8446 §4.2.10: 0-RTT only with the ticket's ALPN (and, from the server, its suite);
      // RFC 9001 §4.6.1: only when the ticket allows it.
      this.earlyOffered =
        t !== undefined &&
        this.options.enableEarlyData === true &&
        t.maxEarlyData === QUIC_MAX_EARLY_DATA &&
        this.options.alpnProtocols.includes(t.alpn);
      this.sendClientHello(now, undefined);
      if (this.earlyOffered) {
        const psk = this.psk!;
        const hash = this.transcript.digestWith(new Uint8Array(0), psk.suite.hash);
        this.installKeys('early', 'write', psk.schedule.clientEarlyTrafficSecret(hash), psk.suite.code);
      }
      this.state = 'wait_sh';
    });
  }

  /** The ticket's PSK if the ticket can be offered now (RFC 8446 §4.2.11, §4.6.1), else null. */
  private pskFor(ticket: SessionTicket | null, now: number): OfferedPsk | null {
    if (ticket === null) return null;
    const suite = cipherSuiteParams(ticket.cipherSuite);
    if (suite === undefined || !this.suites.includes(suite.code)) return null;
    // RFC 8446 §4.6.1: resume only towards the name the ticket was issued for.
    if (ticket.serverName !== this.options.serverName) return null;
    const age = now - ticket.receivedAt;
    // RFC 8446 §4.2.11.1: never use a ticket older than its lifetime (capped at 7 days).
    if (
      age > Math.min(ticket.lifetime, MAX_TICKET_LIFETIME) * 1000 ||
      ticket.psk.length !== suite.hashLength
    ) {
      return null;
    }
    const schedule = this.newKeySchedule(suite.hash, this.random);
    schedule.deriveEarlySecret(ticket.psk);
    return { ticket, suite, schedule };
  }

  /** Builds, binds (PSK) and sends a ClientHello; `cookie` echoes a HelloRetryRequest's. */
  private sendClientHello(now: number, cookie: Uint8Array | undefined): void {
    const share = this.keyShare!;
    const e: ClientHelloExtensions = {
      supportedVersions: [ProtocolVersion.TLS13],
      supportedGroups: this.groups.map(groupCode),
      signatureAlgorithms: HANDSHAKE_SIGNATURE_SCHEMES,
      signatureAlgorithmsCert: CERTIFICATE_SIGNATURE_SCHEMES,
      alpn: this.options.alpnProtocols,
      keyShares: [{ group: groupCode(share.group), keyExchange: share.publicKey }],
      pskKeyExchangeModes: [PskKeyExchangeMode.psk_dhe_ke], // the only mode we use (RFC 8446 §4.2.9)
      quicTransportParameters: this.transportParameters, // RFC 9001 §8.2
    };
    if (this.sni !== null) e.serverName = this.sni;
    if (cookie !== undefined) e.cookie = cookie; // RFC 8446 §4.2.2
    // RFC 8446 §4.2.10: no early_data in the ClientHello that follows a HelloRetryRequest.
    if (this.earlyOffered && this.hrrSuite === null) e.earlyData = true;
    const psk = this.psk;
    if (psk !== null) {
      // RFC 8446 §4.2.11.1: obfuscated_ticket_age = age in ms + ticket_age_add, mod 2^32.
      const age = Math.max(0, Math.floor(now - psk.ticket.receivedAt));
      const obfuscatedTicketAge = (age + psk.ticket.ageAdd) % 0x100000000;
      e.preSharedKey = {
        identities: [{ identity: psk.ticket.ticket, obfuscatedTicketAge }],
        binders: [new Uint8Array(psk.suite.hashLength)],
      };
    }
    const raw = serializeHandshake({
      kind: 'client_hello',
      random: this.random,
      cipherSuites: this.suites,
      extensions: e,
    });
    if (psk !== null) {
      // RFC 8446 §4.2.11.2: the binder is an HMAC over the transcript up to Truncate(ClientHello).
      const truncated = truncateClientHello(raw, e.preSharedKey!.binders);
      const hash = this.transcript.digestWith(truncated, psk.suite.hash);
      patchBinders(raw, [psk.schedule.pskBinder(psk.schedule.binderKey('resumption'), hash)]);
    }
    this.offered = offeredTypes(e);
    this.send('initial', raw);
  }

  protected onMessage(msg: RawHandshakeMessage, level: EncryptionLevel, now: number): void {
    switch (this.state) {
      case 'wait_sh': {
        this.expect(msg, level, HT.server_hello);
        const sh = decodeServerHello(msg.body);
        if (sh.kind === 'hello_retry_request') this.onHelloRetryRequest(sh, msg, now);
        else this.onServerHello(sh, msg);
        return;
      }
      case 'wait_ee':
        this.expect(msg, level, HT.encrypted_extensions);
        return this.onEncryptedExtensions(msg);
      case 'wait_cert_cr':
        this.expect(msg, level, HT.certificate, HT.certificate_request);
        if (msg.type === HT.certificate_request) return this.onCertificateRequest(msg);
        return this.onCertificate(msg, now);
      case 'wait_cert':
        this.expect(msg, level, HT.certificate);
        return this.onCertificate(msg, now);
      case 'wait_cv':
        this.expect(msg, level, HT.certificate_verify);
        return this.onCertificateVerify(msg);
      case 'wait_finished':
        this.expect(msg, level, HT.finished);
        return this.onFinished(msg);
      case 'connected':
        this.expect(msg, level, HT.new_session_ticket);
        return this.onNewSessionTicket(msg, now);
      default:
        this.expect(msg, level);
    }
  }

  /** The suite the server chose, which must be one we offered (RFC 8446 §4.1.3, §4.1.4). */
  private offeredSuite(code: number, what: string): CipherSuiteParams {
    const suite = cipherSuiteParams(code);
    if (suite === undefined || !this.suites.includes(code)) {
      throw illegalParameter(`${what} selected cipher suite 0x${code.toString(16)}, which was not offered`);
    }
    return suite;
  }

  private onHelloRetryRequest(hrr: HelloRetryRequest, msg: RawHandshakeMessage, now: number): void {
    // RFC 8446 §4.1.4: a second HelloRetryRequest is unexpected_message.
    if (this.hrrSuite !== null)
      throw new TlsAlert(AlertDescription.unexpected_message, 'a second HelloRetryRequest');
    checkVersion(hrr.extensions.supportedVersion, 'HelloRetryRequest');
    const suite = this.offeredSuite(hrr.cipherSuite, 'HelloRetryRequest');
    checkSolicited(hrr.rawExtensions ?? [], this.offered, 'HelloRetryRequest', [X.cookie]);
    const selected = hrr.extensions.selectedGroup;
    let group: NamedGroup | null = null;
    if (selected !== undefined) {
      // RFC 8446 §4.2.8: the group must be one we offered and not the one we sent a share for.
      const name = namedGroupName(selected);
      if (name === undefined || !this.groups.includes(name)) {
        throw illegalParameter(
          `HelloRetryRequest selected group 0x${selected.toString(16)}, which was not offered`,
        );
      }
      if (name === this.keyShare!.group) {
        throw illegalParameter(`HelloRetryRequest selected ${name}, for which a key share was already sent`);
      }
      group = name;
    }
    if (group === null && hrr.extensions.cookie === undefined) {
      throw illegalParameter('HelloRetryRequest would not change the ClientHello (RFC 8446 §4.1.4)');
    }
    this.hrrSuite = suite.code;
    // RFC 8446 §4.4.1: ClientHello1 becomes message_hash, then the HelloRetryRequest.
    this.transcript.setHash(suite.hash);
    this.transcript.replaceWithMessageHash();
    this.transcript.add(msg.raw);
    if (this.earlyOffered) this.rejectEarlyDataForRetry();
    // RFC 8446 §4.1.4: PSKs whose hash differs from the selected suite's are dropped.
    if (this.psk !== null && this.psk.suite.hash !== suite.hash) this.psk = null;
    if (group !== null) this.keyShare = this.provider.generateKeyShare(group);
    this.sendClientHello(now, hrr.extensions.cookie);
  }

  private onServerHello(sh: ServerHello, msg: RawHandshakeMessage): void {
    checkVersion(sh.extensions.supportedVersion, 'ServerHello');
    const suite = this.offeredSuite(sh.cipherSuite, 'ServerHello');
    if (this.hrrSuite !== null && sh.cipherSuite !== this.hrrSuite) {
      throw illegalParameter('ServerHello cipher suite differs from the HelloRetryRequest (RFC 8446 §4.1.4)');
    }
    checkSolicited(sh.rawExtensions ?? [], this.offered, 'ServerHello');
    const x = sh.extensions;
    let schedule: KeySchedule;
    if (x.preSharedKey !== undefined) {
      // RFC 8446 §4.2.11: selected_identity in range, and the suite's hash is the PSK's.
      if (this.psk === null || x.preSharedKey !== 0) {
        throw illegalParameter(`ServerHello selected PSK identity ${x.preSharedKey}, which was not offered`);
      }
      if (this.psk.suite.hash !== suite.hash) {
        throw illegalParameter(`ServerHello selected ${suite.name}, whose hash differs from the PSK's`);
      }
      schedule = this.psk.schedule;
      this.resumed = true;
    } else {
      schedule = this.newKeySchedule(suite.hash, this.random);
      schedule.deriveEarlySecret();
    }
    const share = this.keyShare!;
    if (x.keyShare === undefined) {
      // We offer psk_dhe_ke only: a key_share is always required (RFC 8446 §4.2.8, §4.2.11).
      throw this.resumed
        ? illegalParameter('ServerHello accepted a PSK without key_share (psk_dhe_ke was required)')
        : new TlsAlert(AlertDescription.missing_extension, 'ServerHello without key_share');
    }
    if (x.keyShare.group !== groupCode(share.group)) {
      throw illegalParameter(
        `ServerHello key_share for group 0x${x.keyShare.group.toString(16)}, not the offered ${share.group}`,
      );
    }
    const shared = share.sharedSecret(x.keyShare.keyExchange);
    this.suite = suite;
    this.cipherSuite = suite.code;
    this.group = share.group;
    this.keyShare = null;
    this.transcript.setHash(suite.hash);
    this.transcript.add(msg.raw);
    this.schedule = schedule;
    schedule.deriveHandshakeSecret(shared);
    const hash = this.transcript.digest();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(hash);
    this.serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(hash);
    this.installKeys('handshake', 'read', this.serverHandshakeSecret);
    this.installKeys('handshake', 'write', this.clientHandshakeSecret);
    this.readLevel = 'handshake';
    this.state = 'wait_ee';
  }

  private onEncryptedExtensions(msg: RawHandshakeMessage): void {
    const ee = decodeEncryptedExtensions(msg.body);
    checkSolicited(ee.rawExtensions ?? [], this.offered, 'EncryptedExtensions'); // RFC 8446 §4.2
    const x = ee.extensions;
    // RFC 9001 §8.1: no ALPN, or one we did not offer, is no_application_protocol (0x0178).
    if (x.alpn === undefined) {
      throw new TlsAlert(AlertDescription.no_application_protocol, 'the server selected no ALPN protocol');
    }
    if (!this.options.alpnProtocols.includes(x.alpn)) {
      throw new TlsAlert(
        AlertDescription.no_application_protocol,
        `the server selected ALPN '${x.alpn}', which was not offered`,
      );
    }
    // RFC 9001 §8.2: quic_transport_parameters is mandatory.
    if (x.quicTransportParameters === undefined) {
      throw new TlsAlert(
        AlertDescription.missing_extension,
        'EncryptedExtensions without quic_transport_parameters',
      );
    }
    if (x.earlyData === true) {
      // Solicited (checked above), so we offered 0-RTT in this ClientHello. RFC 8446 §4.2.10,
      // §4.2.11: accepted only with the first PSK, and with the ticket's suite and ALPN.
      const t = this.psk?.ticket;
      if (!this.resumed || t === undefined) throw illegalParameter('early_data accepted without the PSK');
      if (t.alpn !== x.alpn || t.cipherSuite !== this.suite!.code) {
        throw illegalParameter('early_data accepted with another ALPN or cipher suite than the ticket');
      }
    }
    this.transcript.add(msg.raw);
    this.alpn = x.alpn;
    this.emit({ kind: 'peer_transport_parameters', data: x.quicTransportParameters });
    this.emit({ kind: 'alpn', protocol: x.alpn });
    if (this.earlyOffered && this.earlyData === 'not_offered') {
      this.earlyData = x.earlyData === true ? 'accepted' : 'rejected';
      this.emit({ kind: 'early_data', status: this.earlyData });
    }
    this.state = this.resumed ? 'wait_finished' : 'wait_cert_cr';
  }

  private onCertificateRequest(msg: RawHandshakeMessage): void {
    const cr = decodeCertificateRequest(msg.body);
    // RFC 8446 §4.3.2: the context is empty in the main handshake.
    if (cr.context.length !== 0) throw illegalParameter('CertificateRequest with a non-empty context');
    this.certRequestContext = cr.context;
    this.transcript.add(msg.raw);
    this.state = 'wait_cert';
  }

  private onCertificate(msg: RawHandshakeMessage, now: number): void {
    const cert = decodeCertificate(msg.body);
    // RFC 8446 §4.4.2: the server's certificate_request_context is empty.
    if (cert.context.length !== 0) throw illegalParameter('server Certificate with a non-empty context');
    // RFC 8446 §4.4.2.4: an empty server Certificate is decode_error.
    if (cert.entries.length === 0) throw decodeError('the server sent no certificate');
    for (const entry of cert.entries) checkSolicited(entry.extensions, this.offered, 'CertificateEntry');
    const chain = cert.entries.map((entry) => entry.data);
    this.peerCertificates = chain;
    const anchors = this.options.trustAnchors;
    const result = verifyChain({
      chain,
      serverName: this.options.serverName,
      now,
      roots: typeof anchors === 'function' ? anchors() : anchors,
      provider: this.provider,
    });
    const verdict: CertificateVerdict = result.ok
      ? { ok: true }
      : {
          ok: false,
          reason: result.error.reason,
          message: result.error.message,
          ignored: !this.verifyPeer,
        };
    this.emit({ kind: 'peer_certificates', chain, verdict });
    if (!result.ok && this.verifyPeer) throw new TlsAlert(result.error.alert, result.error.message);
    // Insecure mode goes on, but the leaf must still parse: its key signs CertificateVerify.
    if (result.certificates.length === 0) {
      throw new TlsAlert(AlertDescription.bad_certificate, result.ok ? 'no leaf' : result.error.message);
    }
    this.leaf = result.certificates[0];
    this.transcript.add(msg.raw);
    this.state = 'wait_cv';
  }

  private onCertificateVerify(msg: RawHandshakeMessage): void {
    const cv = decodeCertificateVerify(msg.body);
    const leaf = this.leaf!;
    // RFC 8446 §4.4.3: the scheme must be one we offered and must fit the certificate's key.
    if (!HANDSHAKE_SIGNATURE_SCHEMES.includes(cv.algorithm)) {
      throw illegalParameter(
        `CertificateVerify with scheme 0x${cv.algorithm.toString(16)}, which was not offered`,
      );
    }
    const keyType = keyTypeForScheme(cv.algorithm);
    if (keyType !== leaf.publicKey.type) {
      throw illegalParameter(
        `CertificateVerify scheme 0x${cv.algorithm.toString(16)} does not fit the ${leaf.publicKey.type} certificate key`,
      );
    }
    const content = certificateVerifyContent(this.transcript.digest(), 'server');
    const scheme = signatureSchemeName(cv.algorithm)!;
    if (!this.provider.verify(scheme, leaf.publicKey.spki, content, cv.signature)) {
      throw new TlsAlert(AlertDescription.decrypt_error, 'the CertificateVerify signature does not verify');
    }
    this.transcript.add(msg.raw);
    this.state = 'wait_finished';
  }

  private onFinished(msg: RawHandshakeMessage): void {
    const schedule = this.schedule!;
    this.receiveFinished(msg, this.serverHandshakeSecret!);
    schedule.deriveMasterSecret();
    const hash = this.transcript.digest();
    const clientSecret = schedule.clientApplicationTrafficSecret(hash);
    const serverSecret = schedule.serverApplicationTrafficSecret(hash);
    this.exporterSecret = schedule.exporterMasterSecret(hash);
    this.installKeys('application', 'read', serverSecret);
    if (this.certRequestContext !== null) {
      // RFC 8446 §4.4.2: no client certificate: an empty Certificate with the request's context.
      this.send(
        'handshake',
        serializeHandshake({ kind: 'certificate', context: this.certRequestContext, entries: [] }),
      );
    }
    const verifyData = schedule.finishedVerifyData(this.clientHandshakeSecret!, this.transcript.digest());
    this.send('handshake', serializeHandshake({ kind: 'finished', verifyData }));
    this.resumptionSecret = schedule.resumptionMasterSecret(this.transcript.digest());
    this.installKeys('application', 'write', clientSecret);
    this.clientHandshakeSecret = this.serverHandshakeSecret = null;
    this.readLevel = 'application';
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ kind: 'handshake_complete' });
  }

  private onNewSessionTicket(msg: RawHandshakeMessage, now: number): void {
    const nst = decodeNewSessionTicket(msg.body);
    const maxEarlyData = nst.extensions.maxEarlyDataSize;
    if (maxEarlyData !== undefined && maxEarlyData !== QUIC_MAX_EARLY_DATA) {
      // RFC 9001 §4.6.1: any other value is a PROTOCOL_VIOLATION (a transport error, not an alert).
      throw new QuicError(
        TransportError.PROTOCOL_VIOLATION,
        `NewSessionTicket max_early_data_size 0x${maxEarlyData.toString(16)}, not 0xffffffff`,
      );
    }
    if (nst.lifetime === 0) return; // RFC 8446 §4.6.1: discard the ticket at once
    const schedule = this.schedule!;
    const ticket: SessionTicket = {
      serverName: this.options.serverName,
      alpn: this.alpn!,
      cipherSuite: this.cipherSuite!,
      psk: schedule.resumptionPsk(this.resumptionSecret!, nst.nonce), // RFC 8446 §4.6.1
      ticket: nst.ticket,
      lifetime: Math.min(nst.lifetime, MAX_TICKET_LIFETIME), // clients keep tickets 7 days at most
      ageAdd: nst.ageAdd,
      receivedAt: now,
      maxEarlyData: maxEarlyData ?? 0,
    };
    this.emit({ kind: 'ticket', ticket });
  }
}

/** RFC 8446 §4.2.1: the server must select TLS 1.3 through supported_versions. */
function checkVersion(version: number | undefined, what: string): void {
  if (version === undefined) {
    // No supported_versions: a TLS 1.2 (or older) server; QUIC needs TLS 1.3 (RFC 9001 §4.2).
    throw new TlsAlert(AlertDescription.protocol_version, `${what} without supported_versions (not TLS 1.3)`);
  }
  if (version !== ProtocolVersion.TLS13) {
    throw illegalParameter(`${what} selected version 0x${version.toString(16)}, which was not offered`);
  }
}

/** The extension types a ClientHello carries (what a server may answer, RFC 8446 §4.2). */
function offeredTypes(e: ClientHelloExtensions): Set<number> {
  const s = new Set<number>([
    X.supported_versions,
    X.supported_groups,
    X.signature_algorithms,
    X.signature_algorithms_cert,
    X.application_layer_protocol_negotiation,
    X.key_share,
    X.psk_key_exchange_modes,
    X.quic_transport_parameters,
  ]);
  if (e.serverName !== undefined) s.add(X.server_name);
  if (e.cookie !== undefined) s.add(X.cookie);
  if (e.earlyData === true) s.add(X.early_data);
  if (e.preSharedKey !== undefined) s.add(X.pre_shared_key);
  return s;
}
