/**
 * The connection's state (quinn-style: per-space state indexed by the packet number space, the
 * connection phase as a discriminated union) shared by the recv path (receiver.ts, frames-in.ts),
 * the send path (packetizer.ts), the handshake driver (handshake.ts) and the public API
 * (connection.ts). Internal: the application uses `Connection`.
 */
import { derivePacketKeys, QUIC_CIPHER_SUITES } from '../crypto/keys.ts';
import type { PacketKeys } from '../crypto/keys.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { LossRecovery } from '../recovery/loss-recovery.ts';
import {
  PACKET_NUMBER_SPACE_NAMES,
  PacketNumberSpace,
  kGranularity,
  pickMetrics,
} from '../recovery/types.ts';
import type { RecoveryListener } from '../recovery/types.ts';
import { StreamMap } from '../stream/stream-map.ts';
import type { StreamStateUpdate } from '../stream/state.ts';
import type { CertificateVerdict, EarlyDataStatus, SessionTicket, TlsSession } from '../tls/session.ts';
import { hex } from '../trace/format.ts';
import type { Tracer } from '../trace/tracer.ts';
import type { TransportParameters } from '../wire/transport-params.ts';
import { AckTracker } from './ack-tracker.ts';
import { LocalCids, PeerCids } from './cid.ts';
import type { Config } from './config.ts';
import { CryptoRecvBuffer, CryptoSendBuffer } from './crypto-stream.ts';
import { DatagramQueues } from './datagram.ts';
import { QuicBitGrease } from './grease.ts';
import type { OneRttKeys } from './key-phase.ts';
import type { OtherPath } from './path-probe.ts';
import { Pmtud } from './pmtud.ts';
import type { Address, ConnectionErrorInfo, SentPayload } from './types.ts';
import { VersionState } from './version-state.ts';

export { PacketNumberSpace };

/** The connection phase (RFC 9000 §10): what it may send and receive. */
export type Phase =
  | { readonly kind: 'handshake' }
  | { readonly kind: 'established' }
  /** §10.2.1: we sent CONNECTION_CLOSE; only resend it, until `until`. */
  | { readonly kind: 'closing'; readonly until: number }
  /** §10.2.2: the peer closed; send nothing until `until`. */
  | { readonly kind: 'draining'; readonly until: number }
  | { readonly kind: 'closed' };

/** The CONNECTION_CLOSE we send (RFC 9000 §19.19). */
export interface CloseFrameInfo {
  readonly isApp: boolean;
  readonly code: number;
  readonly reason: string;
  readonly frameType: number;
}

/** Per packet number space state (RFC 9000 §12.3): keys, CRYPTO stream, ACKs, packet numbers. */
export class PacketSpace {
  /** Initial and Handshake read keys (the application space uses OneRttKeys). */
  readKeys: PacketKeys | null = null;
  writeKeys: PacketKeys | null = null;
  readonly cryptoSend = new CryptoSendBuffer();
  readonly cryptoRecv = new CryptoRecvBuffer();
  readonly acks = new AckTracker();
  /** The next packet number to send. */
  nextPn = 0;
  /** Keys and state discarded (RFC 9001 §4.9). */
  discarded = false;
  /** PTO probes still to send in this space (RFC 9002 §6.2.4). */
  probes = 0;

  constructor(readonly id: PacketNumberSpace) {}
}

/** Bounds on what a peer can make us hold (the brief's robustness list). */
export const LIMITS = {
  /** Undecryptable packets buffered until their keys arrive. */
  bufferedPackets: 16,
  bufferedBytes: 64 * 1024,
  /** PATH_RESPONSE frames owed. */
  pathResponses: 4,
  /** Session tickets kept (client). */
  tickets: 4,
} as const;

/** The connection state. Fields are public to the connection's modules only. */
export class ConnState {
  readonly isServer: boolean;
  readonly provider: CryptoProvider;
  readonly tracer: Tracer;
  /** `tracer.enabled`, read once. */
  readonly trace: boolean;
  version: number;
  /** Version negotiation (RFC 9368): original and chosen versions, VN seen, compatible switch. */
  readonly vn = new VersionState();
  local: Address;
  peer: Address;
  phase: Phase = { kind: 'handshake' };
  readonly startTime: number;

  readonly spaces: readonly PacketSpace[] = [
    new PacketSpace(PacketNumberSpace.Initial),
    new PacketSpace(PacketNumberSpace.Handshake),
    new PacketSpace(PacketNumberSpace.ApplicationData),
  ];
  oneRtt: OneRttKeys | null = null;
  /** 1-RTT keys received from TLS, held until both directions exist. */
  appRead: PacketKeys | null = null;
  appWrite: PacketKeys | null = null;
  zeroRttWrite: PacketKeys | null = null;
  zeroRttRead: PacketKeys | null = null;
  /** Server: when the 0-RTT read keys go (3 x PTO after the first 1-RTT packet, RFC 9001 §4.9.3). */
  zeroRttDiscardAt: number | null = null;
  tls: TlsSession | null = null;

  readonly localCids: LocalCids;
  readonly peerCids: PeerCids;
  /** Client: the DCID of its first Initial. Server: odcid, or the first Initial's DCID. */
  originalDcid: Uint8Array | null;
  /** Server: the DCID of the first Initial (accepted in long headers until the handshake completes). */
  clientInitialDcid: Uint8Array | null = null;
  /** Client: the SCID of the Retry it accepted. */
  retrySource: Uint8Array | null = null;
  /** Server: it (the endpoint) did a Retry; retry_source_connection_id is our SCID (RFC 9000 §7.3). */
  readonly didRetry: boolean;
  /** Client: the token for its Initial packets (Retry or NEW_TOKEN). */
  token: Uint8Array = new Uint8Array(0);
  /** The SCID of the peer's first Initial (checked against initial_source_connection_id, §7.3). */
  peerInitialScid: Uint8Array | null = null;

  localParams: TransportParameters | null = null;
  peerParams: TransportParameters | null = null;
  /** Client resuming with 0-RTT: the server's remembered parameters (RFC 9000 §7.4.1) until its own arrive. */
  rememberedParams: TransportParameters | null = null;
  peerParamsRaw: Uint8Array | null = null;
  /** Peer's ack_delay_exponent (RFC 9000 §18.2), 3 until its parameters arrive. */
  peerAckDelayExponent = 3;

  handshakeComplete = false;
  handshakeConfirmed = false;
  handshakeCompleteAt: number | null = null;
  handshakeDonePending = false;
  /** Server: the client's address is validated (RFC 9000 §8.1). */
  addressValidated: boolean;
  /** Bytes received and sent for the anti-amplification limit (RFC 9000 §8.1). */
  amplificationReceived = 0;
  amplificationSent = 0;

  readonly recovery: LossRecovery<SentPayload>;
  readonly streams: StreamMap;
  /** The largest datagram we send (min of ours and the peer's max_udp_payload_size). */
  maxDatagramSize: number;
  /** DPLPMTUD of the current path (RFC 9000 §14.3): it moves maxDatagramSize. */
  readonly pmtud = new Pmtud();
  /** RFC 9221 DATAGRAM queues, null when Config.enableDgram was not called. */
  readonly dgram: DatagramQueues | null;
  /** RFC 9287 §3.1: the QUIC bit of our 1-RTT packets (random once the peer sent grease_quic_bit). */
  readonly quicBit: QuicBitGrease;
  /** ACK frames with ECN counts received: never acted on, we do not mark ECT (RFC 9000 §13.4.2.1). */
  ackEcnReceived = 0;

  /** The effective idle timeout in ms (0: none), RFC 9000 §10.1. */
  idleTimeout: number;
  idleDeadline: number | null = null;
  /** Set when a packet was received; cleared by the first ack-eliciting packet sent after (§10.1). */
  receivedSinceSend = true;
  timedOut = false;

  localError: ConnectionErrorInfo | null = null;
  peerError: ConnectionErrorInfo | null = null;
  closeFrame: CloseFrameInfo | null = null;
  /** A CONNECTION_CLOSE is due (first time, or in answer to a packet in closing, §10.2.1). */
  closeSendPending = false;
  /** The `at` of the last datagram (release times are monotonic). */
  lastSendAt = -Infinity;
  /** When the last CONNECTION_CLOSE went out (rate limit in closing). */
  lastCloseSent = -Infinity;

  /** Packets that arrived before their keys (RFC 9000 §5.7): raw bytes and receive info. */
  buffered: { data: Uint8Array; from: Address; to: Address; epoch: number }[] = [];
  bufferedBytes = 0;

  /** PATH_RESPONSE data owed (RFC 9000 §8.2.2), bounded. */
  pathResponses: Uint8Array[] = [];
  /** PATH_CHALLENGE data to send on the current path (RFC 9000 §8.2.1). */
  pathChallengePending: Uint8Array | null = null;
  /** Outstanding challenges and the path (local, peer) each probes (bounded). */
  pathChallenges: { data: Uint8Array; local: Address; peer: Address }[] = [];
  /** Addresses validated so far (bounded): returning to one needs no new validation (§9.3). */
  validatedPaths: Address[] = [];
  /** When validation of the current address is abandoned (RFC 9000 §8.2.4). */
  pathValidationDeadline: number | null = null;
  /** When the current path's PATH_CHALLENGE goes out again, and how many went out (§8.2.1). */
  pathChallengeRetryAt: number | null = null;
  pathChallengeAttempts = 0;
  /** The current path's challenge went in a datagram under 1200 bytes (§8.2.1: the MTU needs another). */
  pathChallengeSmall = false;
  /** The peer's current address is validated for the anti-amplification limit of a new path (§9.3). */
  pathValidated = true;
  pathReceived = 0;
  pathSent = 0;
  /** Validating the current path resets congestion control and RTT (RFC 9000 §9.4: not port-only). */
  pathResetOnValidation = false;
  /** The path to return to when validating the current one fails (RFC 9000 §9.3.2). */
  lastValidatedPath: { local: Address; peer: Address; tupleId: string } | null = null;
  /** Paths other than the active one, probed by us or by the peer (path-probe.ts), bounded. */
  otherPaths: OtherPath[] = [];
  /** The addresses of the handshake (§9: disable_active_migration; a client's known server address). */
  readonly handshakeLocal: Address;
  readonly handshakePeer: Address;
  /** Where the packet in progress came from and arrived at, and its datagram's size. */
  recvFrom: Address;
  recvTo: Address;
  recvLength = 0;
  /** The DCID of the peer's latest non-probing packet on the active path (a NAT rebinding keeps it). */
  peerActiveDcid: Uint8Array | null = null;
  /** qlog TupleID of the active path ("" is the handshake path) and the next one to hand out. */
  tupleId = '';
  nextTupleId = 1;
  /** Client: when to check the path's liveness after the peer went quiet (path.ts). */
  livenessAt: number | null = null;
  /** A PING is to be sent (liveness check). */
  pingPending = false;
  /** Client: the server's preferred address was acted on, or ruled out (RFC 9000 §9.6). */
  preferredAddressDone = false;

  /** Client: the latest NEW_TOKEN (RFC 9000 §8.1.3). Server: tokens to send. */
  newToken: Uint8Array | null = null;
  pendingNewTokens: Uint8Array[] = [];
  tickets: SessionTicket[] = [];

  alpn: string | null = null;
  cipherSuiteName: string | null = null;
  /** Peer streams seen per type (bidi, uni): index + 1 of the highest (for StreamError kinds). */
  readonly peerStreamsSeen = [0, 0];
  /** Bumped whenever keys are installed: buffered packets are retried when it changes. */
  keysEpoch = 0;
  /** Client: a packet from the server was processed (Version Negotiation and Retry are then ignored). */
  receivedFromServer = false;
  peerCertificates: readonly Uint8Array[] = [];
  certificateVerdict: CertificateVerdict | null = null;
  earlyData: EarlyDataStatus = 'not_offered';
  /** Key update asked for by `initiateKeyUpdate()` (RFC 9001 §6.1). */
  keyUpdateRequested = false;
  /** Packets that failed authentication (RFC 9001 §6.6 integrity limit). */
  integrityFailures = 0;
  integrityLimit = Infinity;

  readonly stats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsLost: 0,
    packetsDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    bytesLost: 0,
    streamBytesRetransmitted: 0,
    probesSent: 0,
    pathChanges: 0,
    migrationsInitiated: 0,
    migrationsValidated: 0,
    migrationsFailed: 0,
    retrySeen: false,
  };

  constructor(
    readonly config: Config,
    isServer: boolean,
    scid: Uint8Array,
    dcid: Uint8Array,
    local: Address,
    peer: Address,
    now: number,
    odcid: Uint8Array | null,
  ) {
    this.isServer = isServer;
    this.provider = config.provider();
    this.tracer = config.tracer;
    this.trace = config.tracer.enabled;
    this.version = config.version;
    this.local = local;
    this.peer = peer;
    this.handshakeLocal = { address: local.address, port: local.port };
    this.handshakePeer = { address: peer.address, port: peer.port };
    this.recvFrom = this.handshakePeer;
    this.recvTo = this.handshakeLocal;
    this.startTime = now;
    this.validatedPaths.push({ address: peer.address, port: peer.port });
    this.didRetry = isServer && odcid !== null;
    this.originalDcid = isServer ? odcid : dcid;
    // RFC 9000 §8.1: a server that did Retry validated the address with the token.
    this.addressValidated = !isServer || odcid !== null;
    // The endpoint recomputes reset tokens from the Config's key (RFC 9000 §10.3.2): make one if unset.
    const resetKey = (config.statelessResetKey ??= this.provider.randomBytes(32));
    this.localCids = new LocalCids(this.provider, resetKey, scid);
    this.peerCids = new PeerCids(dcid, config.activeConnectionIdLimit);
    if (this.trace) {
      this.localCids.onEvent = (e) =>
        this.tracer.event(this.now, 'quic:connection_id_updated', {
          initiator: 'local',
          ...(e.kind === 'new' ? { new: hex(e.cid) } : { old: hex(e.cid) }),
        });
    }
    this.maxDatagramSize = Math.min(config.maxUdpPayloadSize, 1200);
    const dq = config.dgramQueues;
    this.dgram = dq === null ? null : new DatagramQueues(dq.recv, dq.send);
    this.quicBit = new QuicBitGrease(this.provider);
    this.idleTimeout = config.maxIdleTimeout;
    this.recovery = new LossRecovery<SentPayload>({
      isServer,
      congestionControl: config.congestionControl,
      hyStart: config.hyStart,
      maxDatagramSize: 1200,
      listener: this.trace ? this.recoveryListener() : undefined,
    });
    this.streams = new StreamMap({
      role: isServer ? 'server' : 'client',
      local: {
        initialMaxData: config.initialMaxData,
        initialMaxStreamDataBidiLocal: config.initialMaxStreamDataBidiLocal,
        initialMaxStreamDataBidiRemote: config.initialMaxStreamDataBidiRemote,
        initialMaxStreamDataUni: config.initialMaxStreamDataUni,
        initialMaxStreamsBidi: config.initialMaxStreamsBidi,
        initialMaxStreamsUni: config.initialMaxStreamsUni,
      },
      maxStreamWindow: config.maxStreamWindow,
      maxConnectionWindow: config.maxConnectionWindow,
      observer: this.trace ? (u) => this.traceStream(u) : null,
    });
  }

  /** The 1-RTT or Initial/Handshake space for a packet type. */
  spaceOf(type: 'initial' | 'handshake' | '0rtt' | '1rtt'): PacketSpace {
    return this.spaces[type === 'initial' ? 0 : type === 'handshake' ? 1 : 2];
  }

  /** Packet keys for a TLS secret of `cipherSuite` (RFC 9001 §5.1). */
  deriveKeys(cipherSuite: number, secret: Uint8Array): PacketKeys {
    const suite = QUIC_CIPHER_SUITES.get(cipherSuite);
    if (suite === undefined)
      throw new RangeError(`cipher suite 0x${cipherSuite.toString(16)} is not usable with QUIC`);
    return derivePacketKeys(this.provider, suite, this.version, secret);
  }

  /** Whether the connection is closing, draining or closed. */
  get isClosingOrGone(): boolean {
    const k = this.phase.kind;
    return k === 'closing' || k === 'draining' || k === 'closed';
  }

  /** 3 x the current PTO (RFC 9000 §10.2: closing and draining; RFC 9001 §6.5: old keys). */
  threePto(): number {
    return 3 * this.recovery.ptoPeriod(PacketNumberSpace.ApplicationData);
  }

  /** The ack_delay_exponent that scales a received ACK of `space` (3 outside 1-RTT, RFC 9000 §19.3). */
  ackExponentFor(space: PacketNumberSpace): number {
    return space === PacketNumberSpace.ApplicationData ? this.peerAckDelayExponent : 3;
  }

  /** The qlog name of a packet number space. */
  spaceName(space: PacketNumberSpace): string {
    return PACKET_NUMBER_SPACE_NAMES[space];
  }

  private recoveryListener(): RecoveryListener {
    return {
      onMetricsUpdated: (m, changed) => {
        this.tracer.event(this.now, 'quic:recovery_metrics_updated', pickMetrics(m, changed));
      },
      onCongestionStateUpdated: (old, state, trigger) => {
        this.tracer.event(this.now, 'quic:congestion_state_updated', { old, new: state, trigger });
      },
      // The adaptive loss thresholds moved (recovery/reordering.ts; quic-events §7.1 may repeat).
      onParametersUpdated: (p) => {
        this.tracer.event(this.now, 'quic:recovery_parameters_set', {
          ...p,
          timer_granularity: kGranularity,
        });
      },
    };
  }

  /** The time of the API call in progress (for events raised by listeners). */
  now = 0;

  private traceStream(u: StreamStateUpdate): void {
    this.tracer.event(this.now, 'quic:stream_state_updated', {
      stream_id: u.streamId,
      stream_type: u.streamType,
      old: u.old,
      new: u.new,
      stream_side: u.streamSide,
      trigger: u.trigger,
    });
  }
}
