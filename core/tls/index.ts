/**
 * The public surface of core/tls: TLS 1.3 client and server sessions for QUIC (RFC 9001),
 * session tickets and the 0-RTT replay filter, alerts, and the X.509 helpers the
 * connection and the UI need.
 *
 *   const client = createClientSession(options, encodedTransportParameters);
 *   client.start(now);
 *   for (let ev = client.poll(); ev; ev = client.poll()) { ... }   // handshake_data, keys, ...
 *   client.receive('initial', cryptoBytes, now);                      // throws TlsAlert / QuicError
 */
import { ClientSession } from './client.ts';
import { ServerSession } from './server.ts';
import type { TlsClientOptions, TlsServerOptions, TlsSession } from './session.ts';

export type {
  CertificateVerdict,
  EarlyDataStatus,
  EncryptionLevel,
  SessionTicket,
  TlsClientOptions,
  TlsEvent,
  TlsOptions,
  TlsServerOptions,
  TlsSession,
} from './session.ts';
export { AlertDescription, TlsAlert, alertName, cryptoErrorCode } from './alerts.ts';
export { CipherSuite, cipherSuiteParams } from './constants.ts';
export type { CipherSuiteParams } from './constants.ts';
export { CryptoBufferExceededError } from './handshake-buffer.ts';
export { DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS } from './session-base.ts';
export { EARLY_DATA_AGE_WINDOW_MS } from './server.ts';
export {
  MAX_TICKET_LIFETIME,
  QUIC_MAX_EARLY_DATA,
  ReplayFilter,
  decodeSessionTicket,
  defaultReplayFilter,
  encodeSessionTicket,
} from './tickets.ts';
export type { ReplayFilterOptions } from './tickets.ts';
export { certificateSummary, parseCertificate, parseCertificatesPem } from './x509.ts';
export type { Certificate, CertificateSummary } from './x509.ts';
export { verifyChain } from './x509-verify.ts';
export { createCertificate } from './certgen.ts';

/**
 * A client session (RFC 8446 §2): call `start(now)` to queue the ClientHello.
 * `transportParameters` is the encoded quic_transport_parameters body (RFC 9001 §8.2).
 */
export function createClientSession(options: TlsClientOptions, transportParameters: Uint8Array): TlsSession {
  return new ClientSession(options, transportParameters);
}

/** A server session: it answers the ClientHello it receives at the initial level. */
export function createServerSession(options: TlsServerOptions, transportParameters: Uint8Array): TlsSession {
  return new ServerSession(options, transportParameters);
}
