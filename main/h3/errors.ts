/**
 * One-line, user-facing descriptions of why an HTTP/3 exchange failed: DNS, ICMP refusals,
 * handshake timeouts, certificate problems (with the reason: unknown CA, expired, wrong host),
 * protocol errors the peer or we sent, and HTTP statuses. Used by the CLI and the desktop app.
 */
import { alertName } from '../../core/tls/alerts.ts';
import { CRYPTO_ERROR_BASE, transportErrorName } from '../../core/wire/errors.ts';
import { h3ErrorName } from '../../core/h3/errors.ts';
import { EndpointError } from '../endpoint/errors.ts';
import type { CloseInfo } from '../endpoint/errors.ts';

/** What kind of failure a FailureInfo is (the CLI's exit code and message pick on it). */
export type FailureKind =
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'handshake_timeout'
  | 'certificate'
  | 'tls'
  | 'closed'
  | 'idle_timeout'
  | 'socket'
  | 'http'
  | 'stream'
  | 'internal';

/** A failure in one line. */
export interface FailureInfo {
  kind: FailureKind;
  message: string;
}

/** Certificate alerts (RFC 8446 §6.2) and how a user would name them. */
const CERTIFICATE_ALERTS: Readonly<Record<number, string>> = {
  42: 'bad certificate',
  43: 'unsupported certificate',
  44: 'certificate revoked',
  45: 'certificate expired or not yet valid',
  46: 'certificate unknown',
  48: 'unknown CA',
};

/** A QUIC error code in words: TLS alerts by name (RFC 9001 §4.8), transport errors by name. */
export function quicErrorName(isApp: boolean, code: number): string {
  if (isApp) return h3ErrorName(code);
  if (code >= CRYPTO_ERROR_BASE && code < CRYPTO_ERROR_BASE + 256)
    return `TLS alert ${alertName(code - CRYPTO_ERROR_BASE)}`;
  return transportErrorName(code);
}

/**
 * A certificate problem from a TLS alert code and reason: "unknown CA", "expired", "wrong host"
 * (bad_certificate whose reason names the host mismatch), or null when it is not one.
 */
export function certificateProblem(alert: number, reason: string): string | null {
  const name = CERTIFICATE_ALERTS[alert];
  if (name === undefined) return null;
  if (alert === 45)
    return /not valid before/.test(reason) ? 'certificate not yet valid' : 'certificate expired';
  if (alert === 42 && /is not valid for/.test(reason)) return 'wrong host';
  return name;
}

/** Describes how a connection ended (null when it ended cleanly: no error either way). */
export function describeCloseInfo(info: CloseInfo): FailureInfo | null {
  if (info.error !== null) return describeEndpointError(info.error);
  if (info.timedOut) return { kind: 'idle_timeout', message: 'idle timeout: the server stopped answering' };
  if (info.peer?.statelessReset === true)
    return {
      kind: 'closed',
      message:
        'the server reset the connection (stateless reset, RFC 9000 §10.3: it no longer knows it, e.g. after a restart)',
    };
  for (const [who, e] of [
    ['we', info.local],
    ['the server', info.peer],
  ] as const) {
    if (e === null) continue;
    if (!e.isApp && e.code === 0) continue; // NO_ERROR
    if (e.isApp && e.code === 0x100) continue; // H3_NO_ERROR
    let reason = e.reason === '' ? '' : `: ${e.reason}`;
    if (!e.isApp && e.code >= CRYPTO_ERROR_BASE && e.code < CRYPTO_ERROR_BASE + 256) {
      const alert = e.code - CRYPTO_ERROR_BASE;
      // The TLS layer starts its reasons with the alert's name: said once is enough.
      const prefix = `: ${alertName(alert)}: `;
      if (reason.startsWith(prefix)) reason = `: ${reason.slice(prefix.length)}`;
      const problem = certificateProblem(alert, e.reason);
      if (problem !== null) {
        const side = who === 'we' ? '' : ' (rejected by the server)';
        return { kind: 'certificate', message: `certificate problem${side}: ${problem}${reason}` };
      }
      return {
        kind: 'tls',
        message: `TLS handshake failed (${who} sent alert ${alertName(alert)})${reason}`,
      };
    }
    return {
      kind: 'closed',
      message: `${who === 'we' ? 'we closed' : 'the server closed'} the connection with ${quicErrorName(e.isApp, e.code)}${reason}`,
    };
  }
  return null;
}

/** Describes an endpoint failure (DNS, refused, handshake timeout, a close before the handshake). */
export function describeEndpointError(e: EndpointError): FailureInfo {
  switch (e.code) {
    case 'dns_failure':
      return { kind: 'dns', message: e.message };
    case 'refused':
      return { kind: 'refused', message: 'connection refused (nothing listens on that UDP port)' };
    case 'unreachable':
      return { kind: 'unreachable', message: e.message };
    case 'handshake_timeout':
      return { kind: 'handshake_timeout', message: 'handshake timed out: no answer from the server' };
    case 'connection_closed': {
      const d = e.closeInfo === null ? null : describeCloseInfo(e.closeInfo);
      return d ?? { kind: 'closed', message: e.message };
    }
    case 'socket_error':
      return { kind: 'socket', message: e.message };
    default:
      return { kind: 'closed', message: e.message };
  }
}

/** Describes anything thrown while fetching. */
export function describeFailure(e: unknown): FailureInfo {
  if (e instanceof EndpointError) return describeEndpointError(e);
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}
