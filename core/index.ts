/**
 * quicscope: a QUIC implementation (RFC 9000/9001/9002, v1 and v2) with its own TLS 1.3, sans-IO.
 *
 *   const config = new Config(QUIC_VERSION_1);
 *   config.setApplicationProtos(['h3']);
 *   const conn = connect('example.com', scid, local, peer, config, now);
 *   const out = new Uint8Array(1500);
 *   for (let d = conn.send(out, now); d; d = conn.send(out, now)) socket.send(out.subarray(0, d.length), d.to);
 *   conn.recv(datagram, { from, to }, now);
 *   setTimer(conn.timeout(), () => conn.onTimeout(now));
 */
export { Config, QUIC_VERSION_1, QUIC_VERSION_2, systemRootCertificates } from './connection/config.ts';
export type { CongestionControlName } from './connection/config.ts';
export { Connection, StreamError, accept, connect } from './connection/connection.ts';
export { DatagramError } from './connection/datagram.ts';
export type { DatagramErrorKind } from './connection/datagram.ts';
export type { AcceptOptions, ConnectOptions, StreamErrorKind } from './connection/connection.ts';
export { MigrationError } from './connection/migration.ts';
export type { MigrationErrorKind } from './connection/migration.ts';
export type {
  Address,
  ConnectionErrorInfo,
  ConnectionStats,
  RecvInfo,
  SendInfo,
  TlsInfo,
} from './connection/types.ts';
export type { CidEvent } from './connection/cid.ts';
export type { RecvPartStats, SendPartStats, StreamStats } from './connection/stream-stats.ts';
export { MAX_ISSUED_CIDS, statelessResetToken } from './connection/cid.ts';

// Errors.
export { QuicError, TransportError, transportErrorName, CRYPTO_ERROR_BASE } from './wire/errors.ts';
export type { TransportErrorCode } from './wire/errors.ts';
export { StreamResetError, StreamStoppedError } from './stream/state.ts';
export { TlsAlert, decodeSessionTicket, encodeSessionTicket, ReplayFilter } from './tls/index.ts';
export type { SessionTicket, CertificateVerdict, EarlyDataStatus } from './tls/index.ts';

// Endpoint helpers (RFC 9000 §5.2, §6, §10.3, §17).
export {
  parseHeader,
  parseDatagramRouting,
  newDatagramRouting,
  splitCoalesced,
  MAX_CID_LENGTH,
} from './wire/packet.ts';
export type { DatagramRouting, PacketHeader, CoalescedPacket } from './wire/packet.ts';
export {
  buildVersionNegotiation,
  buildStatelessReset,
  statelessResetTokenCandidate,
  writeRetry,
  buildRetryPseudoPacket,
  MIN_STATELESS_RESET_LENGTH,
} from './wire/packet-write.ts';
export { SUPPORTED_VERSIONS, isSupportedVersion, isReservedVersion, greaseVersion } from './wire/version.ts';
export { retryIntegrityTag, verifyRetry } from './crypto/retry.ts';

// A server endpoint's stateless side (core/endpoint): routing by CID, what to do with datagrams
// that match no connection (Version Negotiation, Retry, tokens, stateless reset, refusals).
export {
  Acceptor,
  CidRouter,
  DeadlineHeap,
  buildInitialClose,
  buildRetryPacket,
  retryPacketLength,
  buildStatelessResetFor,
  statelessResetLength,
  MAX_STATELESS_RESET_LENGTH,
  STATELESS_RESET_RANDOM_BYTES,
  ResponseRateLimiter,
  TokenBucket,
  TokenKey,
  NEW_TOKEN_LIFETIME,
  RETRY_TOKEN_LIFETIME,
  negotiateVersion,
  MIN_INITIAL_DATAGRAM_SIZE,
  VERSION_NEGOTIATION_RANDOM_BYTES,
} from './endpoint/index.ts';
export type {
  AcceptorDecision,
  AcceptorOptions,
  DropReason,
  Scheduled,
  InitialCloseFields,
  RetryPacketFields,
  ResponseRateLimiterOptions,
  TokenAddress,
  TokenKind,
  TokenRejection,
  TokenValidation,
  TokenValidationOptions,
} from './endpoint/index.ts';
export type { TransportParameters } from './wire/transport-params.ts';

// Tracing (qlog).
export * from './trace/index.ts';
