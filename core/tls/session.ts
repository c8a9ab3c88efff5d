/**
 * The seam between QUIC and our TLS 1.3 (RFC 9001 §4.1): a small, sans-IO session that takes
 * handshake bytes per encryption level and yields events — bytes to send, new secrets,
 * the peer's transport parameters, ALPN, the certificate chain, completion, tickets. The
 * connection drives it; nothing here knows about packets. Time is a parameter.
 */
import type { CryptoProvider, NamedGroup, PrivateKey } from '../crypto/provider.ts';
import type { ReplayFilter } from './tickets.ts';
import type { Certificate } from './x509-types.ts';

/** The encryption level a handshake message travels at; 0-RTT keys are 'early'. */
export type EncryptionLevel = 'initial' | 'early' | 'handshake' | 'application';

/** Whether 0-RTT was offered and what the server made of it. */
export type EarlyDataStatus = 'not_offered' | 'accepted' | 'rejected';

/** The verdict on the peer's certificate chain (shown in the UI even in insecure mode). */
export interface CertificateVerdict {
  readonly ok: boolean;
  /** The alert reason when not ok, e.g. 'unknown_ca', 'certificate_expired', 'bad_certificate'. */
  readonly reason?: string;
  /** A readable explanation, e.g. "certificate is for example.com, not localhost". */
  readonly message?: string;
  /** True when verification failed but the connection goes on (insecure mode). */
  readonly ignored?: boolean;
}

/** Everything a client needs to resume a session (RFC 8446 §4.6.1, RFC 9001 §4.6). */
export interface SessionTicket {
  readonly serverName: string | null;
  readonly alpn: string;
  readonly cipherSuite: number;
  /** The PSK derived from resumption_master_secret and the ticket nonce. */
  readonly psk: Uint8Array;
  /** The opaque ticket as the server sent it (the PSK identity). */
  readonly ticket: Uint8Array;
  /** Lifetime in seconds, capped at 7 days (RFC 8446 §4.6.1). */
  readonly lifetime: number;
  readonly ageAdd: number;
  /** When the ticket arrived, on the caller's clock (ms). */
  readonly receivedAt: number;
  /** max_early_data_size: 0xffffffff when 0-RTT is allowed (RFC 9001 §4.6.1), 0 otherwise. */
  readonly maxEarlyData: number;
  /**
   * The server's transport parameters to remember for 0-RTT (RFC 9000 §7.4.1), encoded; the
   * QUIC layer fills this in before storing the ticket.
   */
  transportParameters?: Uint8Array;
  /**
   * The QUIC version of the connection that issued the ticket (after compatible negotiation:
   * the negotiated one); the QUIC layer fills it in. A ticket is never offered in another
   * version (RFC 9369 §5). Absent when unknown (a ticket saved before versions were recorded).
   */
  quicVersion?: number;
}

export type TlsEvent =
  /** Bytes to send in CRYPTO frames at `level`. */
  | { readonly kind: 'handshake_data'; readonly level: EncryptionLevel; readonly data: Uint8Array }
  /** A new traffic secret: install packet protection keys for `level` and `direction`. */
  | {
      readonly kind: 'keys';
      readonly level: 'early' | 'handshake' | 'application';
      readonly direction: 'read' | 'write';
      readonly cipherSuite: number;
      readonly secret: Uint8Array;
    }
  /** The peer's quic_transport_parameters extension body (RFC 9001 §8.2). */
  | { readonly kind: 'peer_transport_parameters'; readonly data: Uint8Array }
  | { readonly kind: 'alpn'; readonly protocol: string }
  | {
      readonly kind: 'peer_certificates';
      readonly chain: readonly Uint8Array[];
      readonly verdict: CertificateVerdict;
    }
  | {
      readonly kind: 'early_data';
      readonly status: EarlyDataStatus;
      /** Why 0-RTT was rejected, when known (e.g. 'replayed ticket'), for the UI and tests. */
      readonly reason?: string;
    }
  | { readonly kind: 'handshake_complete' }
  /** Client: a ticket to store for resumption. */
  | { readonly kind: 'ticket'; readonly ticket: SessionTicket }
  /** A handshake message went out or came in (for the UI timeline and qlog). */
  | {
      readonly kind: 'message';
      readonly direction: 'sent' | 'received';
      readonly level: EncryptionLevel;
      /** The RFC 8446 name: 'client_hello', 'server_hello', 'hello_retry_request', ... */
      readonly type: string;
      readonly length: number;
    };

/** The options a TLS session needs; the QUIC Config builds these. */
export interface TlsOptions {
  readonly provider: CryptoProvider;
  /** ALPN protocols in preference order (RFC 9001 §8.1: ALPN is mandatory in QUIC). */
  readonly alpnProtocols: readonly string[];
  /** TLS cipher suite code points in preference order (default 0x1301, 0x1302, 0x1303). */
  readonly cipherSuites?: readonly number[];
  /** Key-exchange groups in preference order (default x25519, secp256r1). */
  readonly groups?: readonly NamedGroup[];
  /** Receives one SSLKEYLOGFILE line per secret. */
  readonly keylog?: (line: string) => void;
}

export interface TlsClientOptions extends TlsOptions {
  /** SNI and the name to verify; an IP literal is verified but not sent as SNI (RFC 6066 §3). */
  readonly serverName: string | null;
  /** Verify the chain (default true). When false the chain is still checked and reported. */
  readonly verifyPeer?: boolean;
  /**
   * Trust anchors: the system roots or a configured CA; a function is called only when the
   * server's Certificate arrives (parsing ~150 system roots costs tens of ms, not before the first packet).
   */
  readonly trustAnchors: readonly Certificate[] | (() => readonly Certificate[]);
  /** A ticket to resume with (psk_dhe_ke). */
  readonly ticket?: SessionTicket | null;
  /** Offer 0-RTT when the ticket allows it. */
  readonly enableEarlyData?: boolean;
}

export interface TlsServerOptions extends TlsOptions {
  /** The certificate chain, leaf first (DER). */
  readonly certificateChain: readonly Uint8Array[];
  readonly privateKey: PrivateKey;
  /** 32 bytes; tickets are sealed under it, so a restart with the same key resumes. */
  readonly ticketKey?: Uint8Array;
  /** Ticket lifetime in seconds (default 86400; at most 604800). */
  readonly ticketLifetime?: number;
  /** Accept 0-RTT (subject to the replay defence). */
  readonly enableEarlyData?: boolean;
  /**
   * Opaque bytes sealed into each ticket (the QUIC layer puts its transport parameters
   * there) and the check run on them before 0-RTT is accepted (RFC 9000 §7.4.1).
   */
  readonly ticketAppData?: Uint8Array;
  readonly acceptEarlyData?: (ticketAppData: Uint8Array) => boolean;
  /**
   * The QUIC version of this connection (the negotiated one), sealed into each ticket; a ticket
   * issued in another version is not accepted: the handshake falls back to a full one (RFC
   * 9369 §5). Default 0: the session is bound to no QUIC version (TLS-only tests).
   */
  readonly quicVersion?: number;
  /**
   * The anti-replay store for 0-RTT (single-use tickets, RFC 8446 §8.1), shared by the server
   * sessions of a process; default: the per-process `defaultReplayFilter`.
   */
  readonly replayFilter?: ReplayFilter;
}

/** One side of a TLS 1.3 handshake carried over QUIC. */
export interface TlsSession {
  readonly role: 'client' | 'server';
  /** Client: queue the ClientHello (call once, before anything else). */
  start(now: number): void;
  /**
   * CRYPTO bytes received at `level`, in order (the connection reassembles CRYPTO frames).
   * Partial messages are buffered, bounded. Throws `TlsAlert` (a QuicError with code
   * 0x100 + alert) on any failure; the session is dead afterwards.
   */
  receive(level: EncryptionLevel, data: Uint8Array, now: number): void;
  /** The next event, or null. */
  poll(): TlsEvent | null;
  readonly handshakeComplete: boolean;
  readonly alpn: string | null;
  readonly cipherSuite: number | null;
  readonly group: NamedGroup | null;
  /** True when a PSK was accepted. */
  readonly resumed: boolean;
  readonly earlyData: EarlyDataStatus;
  readonly peerCertificates: readonly Uint8Array[];
  /** Server: the SNI the client sent. */
  readonly serverName: string | null;
}
