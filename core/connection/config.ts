/**
 * Config: the settings shared by many connections (like quiche's `Config`). Setters validate
 * their arguments (RangeError / TypeError: a caller's mistake), the connection reads the fields.
 * Certificates and keys are parsed once per Config (and per crypto provider) and cached.
 */
import { rootCertificates } from 'node:tls';
import { pemDecodeAll } from '../crypto/der.ts';
import { getProvider } from '../crypto/index.ts';
import type { ProviderName } from '../crypto/index.ts';
import type { CryptoProvider, NamedGroup, PrivateKey } from '../crypto/provider.ts';
import { QUIC_CIPHER_SUITES } from '../crypto/keys.ts';
import { parseCertificate, parseCertificatesPem } from '../tls/x509.ts';
import type { Certificate } from '../tls/x509.ts';
import { parseIpAddress } from '../trace/ip.ts';
import { NullTracer } from '../trace/tracer.ts';
import type { Tracer } from '../trace/tracer.ts';
import { QUIC_VERSION_1, QUIC_VERSION_2, SUPPORTED_VERSIONS, isSupportedVersion } from '../wire/version.ts';
import type { Address } from './types.ts';

export { QUIC_VERSION_1, QUIC_VERSION_2 };

/** The congestion controllers a Config can choose (RFC 9002 §7 NewReno, RFC 9438 CUBIC). */
export type CongestionControlName = 'newreno' | 'cubic';

const MIB = 1024 * 1024;
const MAX_STREAMS = 2 ** 60; // RFC 9000 §4.6
const MAX_VARINT = 2 ** 62 - 1;

/** TLS cipher suite code points by name, from core/crypto's one table (RFC 9001 §5.3). */
const SUITE_CODES: ReadonlyMap<string, number> = new Map(
  Array.from(QUIC_CIPHER_SUITES.values(), (s) => [s.name, s.code]),
);

let systemRoots: Certificate[] | null = null;

/** Node's bundled root CAs, parsed once per process (the certificates that fail to parse are skipped). */
export function systemRootCertificates(): readonly Certificate[] {
  if (systemRoots === null) {
    const roots: Certificate[] = [];
    for (const pem of rootCertificates) {
      try {
        roots.push(...parseCertificatesPem(pem));
      } catch {
        // A root we cannot parse cannot anchor a chain either: skip it.
      }
    }
    systemRoots = roots;
  }
  return systemRoots;
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer`);
  if (v < min || v > max) throw new RangeError(`${name} must be in ${min}..${max}, got ${v}`);
}

function checkBytes(name: string, v: Uint8Array, min: number, max = Infinity): void {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (v.length < min || v.length > max) throw new RangeError(`${name} must be ${min}..${max} bytes`);
}

/** The settings of one or many connections (RFC 9000 §18.2 transport parameters, TLS, recovery). */
export class Config {
  /** The QUIC version a client starts with (v1 or v2). */
  readonly version: number;
  alpn: readonly string[] = [];
  verify = true;
  caCertificates: readonly Certificate[] | null = null;
  certificateChain: readonly Uint8Array[] = [];
  private privateKeyPem: string | null = null;
  private readonly privateKeys = new Map<string, PrivateKey>();
  /** Milliseconds; 0 disables our idle timeout (RFC 9000 §10.1). */
  maxIdleTimeout = 30_000;
  /**
   * What we advertise as max_udp_payload_size, and the most PMTUD probes up to (with the peer's
   * value); without PMTUD, the size we send once the peer's parameters are known.
   */
  maxUdpPayloadSize = 1350;
  /** DPLPMTUD (RFC 9000 §14.3, pmtud.ts): start at 1200 bytes and probe up (default on). */
  pmtud = true;
  /** RFC 9221: DATAGRAM queue lengths; null: DATAGRAM frames not supported (default). */
  dgramQueues: { recv: number; send: number } | null = null;
  /** RFC 9221 §3: the max_datagram_frame_size we advertise when datagrams are enabled. */
  maxDatagramFrameSize = 65535;
  /** Greasing (grease.ts): grease_quic_bit (RFC 9287) and reserved transport parameters (default on). */
  grease = true;
  initialMaxData = 16 * MIB;
  initialMaxStreamDataBidiLocal = MIB;
  initialMaxStreamDataBidiRemote = MIB;
  initialMaxStreamDataUni = MIB;
  /** The ceiling auto-tuning may raise a stream's receive window to. */
  maxStreamWindow = 16 * MIB;
  /** The ceiling auto-tuning may raise the connection's receive window to. */
  maxConnectionWindow = 64 * MIB;
  initialMaxStreamsBidi = 100;
  initialMaxStreamsUni = 100;
  ackDelayExponent = 3;
  /** Milliseconds. */
  maxAckDelay = 25;
  activeConnectionIdLimit = 4;
  disableActiveMigration = false;
  /** Server: the addresses of the preferred_address transport parameter (RFC 9000 §9.6), or null. */
  preferredAddress: { readonly ipv4: Address | null; readonly ipv6: Address | null } | null = null;
  /** Client: move to the server's preferred address once the handshake is confirmed (RFC 9000 §9.6.1). */
  usePreferredAddress = true;
  congestionControl: CongestionControlName = 'cubic';
  /** HyStart++ (RFC 9406) in the first slow start (default on). */
  hyStart = true;
  pacing = true;
  earlyData = false;
  tracer: Tracer = NullTracer;
  keylog: ((line: string) => void) | null = null;
  providerName: ProviderName = 'default';
  ticketKey: Uint8Array | null = null;
  /** Key for stateless reset tokens: token = HMAC-SHA256(key, CID)[0..16] (RFC 9000 §10.3.2). */
  statelessResetKey: Uint8Array | null = null;
  cipherSuites: readonly number[] | null = null;
  groups: readonly NamedGroup[] | null = null;
  /** Ticket lifetime in seconds for a server (RFC 8446 §4.6.1). */
  ticketLifetime = 86_400;
  /** The versions we speak, most preferred first (RFC 9368); null: see `supportedVersions()`. */
  preferredVersions: readonly number[] | null = null;
  /** Client: the Version field of its very first packet when not `version` (RFC 9368 §1.2). */
  originalVersion: number | null = null;
  /** For tests: AEAD limits below RFC 9001 §6.6's (setAeadLimitsForTesting), or null. */
  aeadLimitsForTesting: { readonly confidentiality?: number; readonly integrity?: number } | null = null;

  constructor(version: number = QUIC_VERSION_1) {
    if (!isSupportedVersion(version))
      throw new RangeError(`unsupported QUIC version 0x${version.toString(16)}`);
    this.version = version;
  }

  /**
   * The QUIC versions this endpoint speaks, most preferred first (RFC 9368 §2; each v1 or v2).
   * Client: the versions its first flight offers in version_information (compatible negotiation,
   * RFC 9368 §2.3) and the order in which it picks one from a Version Negotiation packet (§2.1).
   * Server: the versions it accepts and advertises; it switches a client's connection to the
   * first of these that the client offers (compatible negotiation, RFC 9369 §4). Without this
   * call a client offers `version` then the other supported version, and a server keeps the
   * client's version.
   */
  setPreferredVersions(versions: readonly number[]): void {
    if (!Array.isArray(versions) || versions.length === 0)
      throw new RangeError('setPreferredVersions takes a non-empty array of versions');
    for (const v of versions) {
      if (!isSupportedVersion(v)) throw new RangeError(`unsupported QUIC version ${String(v)}`);
    }
    if (new Set(versions).size !== versions.length) throw new RangeError('duplicate versions');
    this.preferredVersions = [...versions];
  }

  /** The versions we speak, most preferred first: `setPreferredVersions`, else `version` then the rest. */
  supportedVersions(): readonly number[] {
    return this.preferredVersions ?? [this.version, ...SUPPORTED_VERSIONS.filter((v) => v !== this.version)];
  }

  /**
   * Client: the Version of its first flight (RFC 9368 §1.2 Original Version) instead of `version`.
   * A version we do not speak (e.g. a reserved 0x?a?a?a?a, RFC 9000 §15) is sent in a v1-format
   * Initial to make the server answer with Version Negotiation; the client then starts again
   * with the preferred version the server lists (RFC 9368 §2.1). null restores `version`.
   */
  setOriginalVersion(version: number | null): void {
    if (version !== null) checkInteger('original version', version, 1, 0xffff_ffff);
    this.originalVersion = version;
  }

  /** The ALPN protocols to offer (client) or accept (server), in preference order (RFC 9001 §8.1). */
  setApplicationProtos(protos: readonly string[]): void {
    if (!Array.isArray(protos)) throw new TypeError('protocols must be an array of strings');
    for (const p of protos) {
      if (typeof p !== 'string') throw new TypeError('protocols must be strings');
      const n = new TextEncoder().encode(p).length;
      if (n < 1 || n > 255) throw new RangeError(`ALPN protocol '${p}' must be 1..255 bytes`); // RFC 7301 §3.1
    }
    this.alpn = [...protos];
  }

  /** Whether to verify the peer's certificate chain (default true). */
  verifyPeer(verify: boolean): void {
    if (typeof verify !== 'boolean') throw new TypeError('verifyPeer takes a boolean');
    this.verify = verify;
  }

  /** Trust anchors (PEM, one or more certificates) instead of the system roots. */
  setCaCertificates(pem: string): void {
    if (typeof pem !== 'string') throw new TypeError('CA certificates must be PEM text');
    const certs = parseCertificatesPem(pem);
    if (certs.length === 0) throw new RangeError('no CERTIFICATE block in the PEM text');
    this.caCertificates = certs;
  }

  /** The trust anchors a client verifies against: the configured CAs or the system roots. */
  trustAnchors(): readonly Certificate[] {
    return this.caCertificates ?? systemRootCertificates();
  }

  /** Our certificate chain, leaf first (PEM). */
  setCertificateChain(pem: string): void {
    if (typeof pem !== 'string') throw new TypeError('the certificate chain must be PEM text');
    const blocks = pemDecodeAll(pem, 'CERTIFICATE');
    if (blocks.length === 0) throw new RangeError('no CERTIFICATE block in the PEM text');
    for (const b of blocks) parseCertificate(b.der); // fail now, not during a handshake
    this.certificateChain = blocks.map((b) => b.der);
  }

  /** Our private key (PEM: PKCS#8, SEC1 or PKCS#1). */
  setPrivateKey(pem: string): void {
    if (typeof pem !== 'string') throw new TypeError('the private key must be PEM text');
    getProvider(this.providerName).importPrivateKey(pem); // fail now on a bad key
    this.privateKeyPem = pem;
    this.privateKeys.clear();
  }

  /** The private key imported by `provider` (cached), or null when none is set. */
  privateKey(provider: CryptoProvider): PrivateKey | null {
    if (this.privateKeyPem === null) return null;
    let key = this.privateKeys.get(provider.name);
    if (key === undefined) {
      key = provider.importPrivateKey(this.privateKeyPem);
      this.privateKeys.set(provider.name, key);
    }
    return key;
  }

  /** max_idle_timeout in ms; 0 disables it (RFC 9000 §10.1). */
  setMaxIdleTimeout(ms: number): void {
    checkInteger('max_idle_timeout', ms, 0, MAX_VARINT);
    this.maxIdleTimeout = ms;
  }

  /** max_udp_payload_size (RFC 9000 §18.2): at least 1200. */
  setMaxUdpPayloadSize(n: number): void {
    checkInteger('max_udp_payload_size', n, 1200, 65527);
    this.maxUdpPayloadSize = n;
  }

  setInitialMaxData(n: number): void {
    checkInteger('initial_max_data', n, 0, MAX_VARINT);
    this.initialMaxData = n;
    if (this.maxConnectionWindow < n) this.maxConnectionWindow = n;
  }

  setInitialMaxStreamDataBidiLocal(n: number): void {
    checkInteger('initial_max_stream_data_bidi_local', n, 0, MAX_VARINT);
    this.initialMaxStreamDataBidiLocal = n;
    if (this.maxStreamWindow < n) this.maxStreamWindow = n;
  }

  setInitialMaxStreamDataBidiRemote(n: number): void {
    checkInteger('initial_max_stream_data_bidi_remote', n, 0, MAX_VARINT);
    this.initialMaxStreamDataBidiRemote = n;
    if (this.maxStreamWindow < n) this.maxStreamWindow = n;
  }

  setInitialMaxStreamDataUni(n: number): void {
    checkInteger('initial_max_stream_data_uni', n, 0, MAX_VARINT);
    this.initialMaxStreamDataUni = n;
    if (this.maxStreamWindow < n) this.maxStreamWindow = n;
  }

  /** The largest stream receive window auto-tuning may reach. */
  setMaxStreamWindow(n: number): void {
    checkInteger('max stream window', n, 0, MAX_VARINT);
    this.maxStreamWindow = n;
  }

  /** The largest connection receive window auto-tuning may reach. */
  setMaxConnectionWindow(n: number): void {
    checkInteger('max connection window', n, 0, MAX_VARINT);
    this.maxConnectionWindow = n;
  }

  setInitialMaxStreamsBidi(n: number): void {
    checkInteger('initial_max_streams_bidi', n, 0, MAX_STREAMS);
    this.initialMaxStreamsBidi = n;
  }

  setInitialMaxStreamsUni(n: number): void {
    checkInteger('initial_max_streams_uni', n, 0, MAX_STREAMS);
    this.initialMaxStreamsUni = n;
  }

  /** ack_delay_exponent (RFC 9000 §18.2): at most 20. */
  setAckDelayExponent(n: number): void {
    checkInteger('ack_delay_exponent', n, 0, 20);
    this.ackDelayExponent = n;
  }

  /** max_ack_delay in ms (RFC 9000 §18.2): below 2^14. */
  setMaxAckDelay(ms: number): void {
    checkInteger('max_ack_delay', ms, 0, 2 ** 14 - 1);
    this.maxAckDelay = ms;
  }

  /** active_connection_id_limit (RFC 9000 §18.2): at least 2. */
  setActiveConnectionIdLimit(n: number): void {
    checkInteger('active_connection_id_limit', n, 2, MAX_VARINT);
    this.activeConnectionIdLimit = n;
  }

  setDisableActiveMigration(disable: boolean): void {
    if (typeof disable !== 'boolean') throw new TypeError('setDisableActiveMigration takes a boolean');
    this.disableActiveMigration = disable;
  }

  /**
   * Server: offers a preferred address of each family (RFC 9000 §9.6, §18.2); null offers none.
   * The endpoint must receive on these addresses too and route by CID to the same connection.
   */
  setPreferredAddress(addresses: { ipv4?: Address; ipv6?: Address } | null): void {
    if (addresses === null) {
      this.preferredAddress = null;
      return;
    }
    if (typeof addresses !== 'object')
      throw new TypeError('setPreferredAddress takes { ipv4?, ipv6? } or null');
    const check = (a: Address | undefined, bytes: number, family: string): Address | null => {
      if (a === undefined) return null;
      if (a === null || typeof a !== 'object' || typeof a.address !== 'string')
        throw new TypeError(`the ${family} preferred address must be { address, port }`);
      checkInteger(`${family} preferred port`, a.port, 1, 65535);
      if (parseIpAddress(a.address).length !== bytes)
        throw new RangeError(`${a.address} is not an ${family} address`);
      return { address: a.address, port: a.port };
    };
    const ipv4 = check(addresses.ipv4, 4, 'IPv4');
    const ipv6 = check(addresses.ipv6, 16, 'IPv6');
    if (ipv4 === null && ipv6 === null) throw new RangeError('a preferred address needs ipv4 or ipv6');
    this.preferredAddress = { ipv4, ipv6 };
  }

  /** Client: whether to move to the server's preferred address (default true, RFC 9000 §9.6.1). */
  setUsePreferredAddress(use: boolean): void {
    if (typeof use !== 'boolean') throw new TypeError('setUsePreferredAddress takes a boolean');
    this.usePreferredAddress = use;
  }

  setCongestionControl(name: CongestionControlName): void {
    if (name !== 'newreno' && name !== 'cubic') throw new RangeError(`unknown congestion control '${name}'`);
    this.congestionControl = name;
  }

  /** HyStart++ (RFC 9406): leave the first slow start when the RTT rises, before a loss (default on). */
  enableHyStart(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('enableHyStart takes a boolean');
    this.hyStart = on;
  }

  /** Pace packets (RFC 9002 §7.7); `send()` then returns an `at` in the future. */
  enablePacing(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('enablePacing takes a boolean');
    this.pacing = on;
  }

  /** Offer (client, with a ticket) or accept (server) 0-RTT (RFC 9001 §4.6). */
  enableEarlyData(): void {
    this.earlyData = true;
  }

  /** Path MTU discovery (DPLPMTUD, RFC 9000 §14.3) up to max_udp_payload_size; on by default. */
  enablePmtud(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('enablePmtud takes a boolean');
    this.pmtud = on;
  }

  /**
   * DATAGRAM frames (RFC 9221), like quiche's enable_dgram: advertise max_datagram_frame_size and
   * keep at most `recvQueueLen` received datagrams (the oldest is dropped when full) and
   * `sendQueueLen` datagrams to send (dgramSend returns false when full).
   */
  enableDgram(enabled: boolean, recvQueueLen = 1024, sendQueueLen = 1024): void {
    if (typeof enabled !== 'boolean') throw new TypeError('enableDgram takes a boolean');
    checkInteger('datagram receive queue length', recvQueueLen, 1, 1 << 20);
    checkInteger('datagram send queue length', sendQueueLen, 1, 1 << 20);
    this.dgramQueues = enabled ? { recv: recvQueueLen, send: sendQueueLen } : null;
  }

  /** The max_datagram_frame_size we advertise with enableDgram (RFC 9221 §3; default 65535). */
  setMaxDatagramFrameSize(n: number): void {
    checkInteger('max_datagram_frame_size', n, 1, MAX_VARINT);
    this.maxDatagramFrameSize = n;
  }

  /** Greasing: grease_quic_bit (RFC 9287) and reserved transport parameters (RFC 9000 §18.1); on by default. */
  enableGrease(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError('enableGrease takes a boolean');
    this.grease = on;
  }

  setTracer(tracer: Tracer): void {
    if (tracer === null || typeof tracer !== 'object' || typeof tracer.event !== 'function')
      throw new TypeError('setTracer takes a Tracer');
    this.tracer = tracer;
  }

  /** Receives one SSLKEYLOGFILE line per TLS secret. */
  setKeylog(sink: ((line: string) => void) | null): void {
    if (sink !== null && typeof sink !== 'function') throw new TypeError('setKeylog takes a function');
    this.keylog = sink;
  }

  /** 'node' (node:crypto), 'noble' (pure JS) or 'default' (node:crypto, noble where it lacks a primitive). */
  setCryptoProvider(name: ProviderName): void {
    getProvider(name); // RangeError for an unknown name
    this.providerName = name;
    this.privateKeys.clear();
  }

  /** The crypto provider connections use. */
  provider(): CryptoProvider {
    return getProvider(this.providerName);
  }

  /** Server: the 32-byte key session tickets are sealed under (so a restart can resume). */
  setTicketKey(key: Uint8Array): void {
    checkBytes('ticket key', key, 32, 32);
    this.ticketKey = key.slice();
  }

  /** Ticket lifetime in seconds (RFC 8446 §4.6.1: at most 7 days). */
  setTicketLifetime(seconds: number): void {
    checkInteger('ticket lifetime', seconds, 0, 604_800);
    this.ticketLifetime = seconds;
  }

  /**
   * For tests only: lowers the AEAD limits of 1-RTT keys (RFC 9001 §6.6: AES-GCM seals 2^23
   * packets per key and tolerates 2^52 failed decryptions; ChaCha20-Poly1305 2^62 and 2^36), so
   * that a test can show an automatic key update (at 3/4 of `confidentiality` packets sealed with
   * one key) or AEAD_LIMIT_REACHED (once failed decryptions exceed `integrity`) in a few
   * packets. Values above the RFC's are ignored; null restores them.
   */
  setAeadLimitsForTesting(limits: { confidentiality?: number; integrity?: number } | null): void {
    if (limits === null) {
      this.aeadLimitsForTesting = null;
      return;
    }
    if (typeof limits !== 'object')
      throw new TypeError('setAeadLimitsForTesting takes { confidentiality?, integrity? }');
    const { confidentiality, integrity } = limits;
    if (confidentiality !== undefined) checkInteger('confidentiality limit', confidentiality, 16, 2 ** 62);
    if (integrity !== undefined) checkInteger('integrity limit', integrity, 0, 2 ** 62);
    this.aeadLimitsForTesting = {
      ...(confidentiality !== undefined ? { confidentiality } : {}),
      ...(integrity !== undefined ? { integrity } : {}),
    };
  }

  /** The key stateless reset tokens are derived from (at least 16 bytes, RFC 9000 §10.3.2). */
  setStatelessResetKey(key: Uint8Array): void {
    checkBytes('stateless reset key', key, 16, 255);
    this.statelessResetKey = key.slice();
  }

  /** The TLS 1.3 cipher suites, in preference order, by name or code point. */
  setCipherSuites(suites: readonly (string | number)[]): void {
    if (!Array.isArray(suites) || suites.length === 0) throw new RangeError('at least one cipher suite');
    const codes = suites.map((s) => {
      const code = typeof s === 'number' ? s : SUITE_CODES.get(s);
      if (code === undefined || !QUIC_CIPHER_SUITES.has(code))
        throw new RangeError(`unsupported cipher suite ${String(s)}`);
      return code;
    });
    this.cipherSuites = codes;
  }

  /** The key-exchange groups, in preference order. */
  setGroups(groups: readonly NamedGroup[]): void {
    if (!Array.isArray(groups) || groups.length === 0) throw new RangeError('at least one group');
    for (const g of groups)
      if (g !== 'x25519' && g !== 'secp256r1') throw new RangeError(`unsupported group ${String(g)}`);
    this.groups = [...groups];
  }
}
