/**
 * Endpoint helpers beside Connection (sans-IO, for any embedder): routing datagrams by CID
 * (RFC 9000 §5.2), deciding what to do with unroutable ones (Version Negotiation §6, Retry and
 * address validation tokens §8.1, stateless reset §10.3, refusals §5.2.2), and a deadline heap
 * so one timer serves every connection.
 */
export { Acceptor } from './acceptor.ts';
export type { AcceptorDecision, AcceptorOptions, DropReason } from './acceptor.ts';
export { CidRouter } from './cid-router.ts';
export { DeadlineHeap } from './deadline-heap.ts';
export type { Scheduled } from './deadline-heap.ts';
export { buildInitialClose } from './initial-close.ts';
export type { InitialCloseFields } from './initial-close.ts';
export { buildRetryPacket, retryPacketLength } from './retry.ts';
export type { RetryPacketFields } from './retry.ts';
export {
  buildStatelessResetFor,
  MAX_STATELESS_RESET_LENGTH,
  MIN_STATELESS_RESET_LENGTH,
  ResponseRateLimiter,
  STATELESS_RESET_RANDOM_BYTES,
  statelessResetLength,
  statelessResetToken,
  TokenBucket,
} from './stateless-reset.ts';
export type { ResponseRateLimiterOptions } from './stateless-reset.ts';
export { NEW_TOKEN_LIFETIME, RETRY_TOKEN_LIFETIME, TokenKey } from './token.ts';
export type {
  TokenAddress,
  TokenKind,
  TokenRejection,
  TokenValidation,
  TokenValidationOptions,
} from './token.ts';
export {
  MIN_INITIAL_DATAGRAM_SIZE,
  negotiateVersion,
  VERSION_NEGOTIATION_RANDOM_BYTES,
} from './version-negotiation.ts';
