/**
 * Public types of the connection API (addresses, send/recv info, errors, statistics) and the
 * compact record of what each sent packet carried, used to retransmit lost frames and to release
 * acknowledged ones (RFC 9000 §13.3).
 */
import type { StreamControlFrame } from '../stream/stream-map.ts';
import type { EarlyDataStatus } from '../tls/session.ts';

/** A UDP address: IPv4 or IPv6 text and a port. */
export interface Address {
  address: string;
  port: number;
}

/** Where a datagram came from and went to. */
export interface RecvInfo {
  from: Address;
  to: Address;
}

/** One datagram written by `send()`: its length, addresses and pacing time (RFC 9002 §7.7). */
export interface SendInfo {
  length: number;
  from: Address;
  to: Address;
  /** Do not put the datagram on the wire before this time (ms, the caller's clock). */
  at: number;
}

/** A connection error as sent or received in CONNECTION_CLOSE (RFC 9000 §19.19). */
export interface ConnectionErrorInfo {
  /** True for an application error (frame type 0x1d). */
  isApp: boolean;
  code: number;
  reason: string;
  /** The peer ended the connection with a stateless reset (RFC 9000 §10.3), not a CONNECTION_CLOSE. */
  statelessReset?: true;
}

/** What `tlsInfo()` reports. */
export interface TlsInfo {
  cipherSuite: string | null;
  group: string | null;
  alpn: string | null;
  resumed: boolean;
  earlyData: EarlyDataStatus;
  serverName: string | null;
}

/** Counters and recovery figures for the diagnostic UI (`stats()`). */
export interface ConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  packetsDropped: number;
  bytesSent: number;
  bytesReceived: number;
  bytesLost: number;
  /** Stream bytes sent again after a loss. */
  streamBytesRetransmitted: number;
  /** Packets sent as PTO probes. */
  probesSent: number;
  cwnd: number;
  bytesInFlight: number;
  ssthresh: number | null;
  minRtt: number;
  smoothedRtt: number;
  latestRtt: number;
  rttVariance: number;
  ptoCount: number;
  /** ms from start to handshake completion, null before. */
  handshakeDuration: number | null;
  streamsOpenedLocal: number;
  streamsOpenedRemote: number;
  keyPhase: number;
  keyUpdates: number;
  /** Moves of the active path: a migration, a NAT rebinding followed, a return after failed validation (RFC 9000 §9). */
  pathChanges: number;
  /**
   * Migrations started (client: `migrate()` and the move to the server's preferred address;
   * server: the client's moves to an address it had not validated), validated, and failed
   * (validation abandoned, RFC 9000 §8.2.4).
   */
  migrationsInitiated: number;
  migrationsValidated: number;
  migrationsFailed: number;
  /** The active path: our address and the peer's. */
  localAddress: Address;
  peerAddress: Address;
  earlyData: EarlyDataStatus;
  retrySeen: boolean;
  /** The QUIC version in use (the Negotiated Version once the handshake is done, RFC 9368 §4). */
  version: number;
  /** RFC 9368 §1.2: the Version of the client's very first packet. */
  originalVersion: number;
  /** Client: it acted on a Version Negotiation packet (incompatible negotiation, RFC 9368 §2.1). */
  versionNegotiationSeen: boolean;
  /** Version Negotiation packets ignored (RFC 9000 §6.2, RFC 9368 §4). */
  versionNegotiationIgnored: number;
  /** Compatible negotiation moved the connection off the client's Chosen Version (RFC 9368 §2.3). */
  compatibleVersionSwitch: boolean;
  congestionControl: string;
  /** The maximum datagram size in use (UDP payload bytes): the PMTU DPLPMTUD confirmed, RFC 9000 §14. */
  pmtu: number;
  /** DPLPMTUD state (RFC 8899 §5.2): 'disabled' before handshake confirmation or without PMTUD. */
  pmtudState: 'disabled' | 'base' | 'searching' | 'search_complete';
  /** PMTU probes sent and declared lost; black holes detected (RFC 8899 §4.3). */
  pmtuProbesSent: number;
  pmtuProbesLost: number;
  pmtuBlackHoles: number;
  /** DATAGRAM frames (RFC 9221) sent and received; datagrams dropped by our queues. */
  datagramsSent: number;
  datagramsReceived: number;
  datagramsDropped: number;
  /** ACK frames carrying ECN counts received (never acted on: we do not mark ECT, RFC 9000 §13.4.2.1). */
  ackEcnReceived: number;
}

// ---------------------------------------------------------------------------------------------
// Sent packet contents (kept per sent packet, small).

/** Retransmittable content kinds of a sent packet. */
export const Sent = {
  Stream: 0,
  Crypto: 1,
  /** A frame the StreamMap owes the peer (RESET_STREAM, MAX_DATA, ...): handed back to it. */
  StreamControl: 2,
  NewConnectionId: 3,
  RetireConnectionId: 4,
  HandshakeDone: 5,
  NewToken: 6,
  Ping: 7,
} as const;

type S = typeof Sent;

/** One retransmittable frame a packet carried (what to do when it is acknowledged or lost). */
export type SentFrame =
  | { k: S['Stream']; id: number; offset: number; length: number; fin: boolean }
  | { k: S['Crypto']; offset: number; length: number }
  | { k: S['StreamControl']; f: StreamControlFrame }
  | { k: S['NewConnectionId'] | S['RetireConnectionId']; seq: number }
  | { k: S['NewToken']; token: Uint8Array }
  | { k: S['HandshakeDone'] | S['Ping'] };

/** The record kept with each sent packet. */
export interface SentPayload {
  /** Largest Acknowledged of the ACK frame the packet carried, or -1 (RFC 9000 §13.2.4). */
  ackLargest: number;
  /** Retransmittable frames, in order. */
  frames: SentFrame[];
  /** Whether it was a 1-RTT packet (key update bookkeeping). */
  oneRtt: boolean;
  /** The packet type, for traces. */
  type: 'initial' | 'handshake' | '0rtt' | '1rtt';
}
