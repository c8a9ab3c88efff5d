/**
 * Typed failures of requests (`RequestFailure`: the window asked for something that cannot be
 * done) and the classification of how a session ended into the contract's SessionError: DNS,
 * refused, timeout, certificate (reason + chain), version, ALPN, peer CONNECTION_CLOSE (code name
 * and reason), idle timeout, stateless reset.
 */
import type {
  CertificateSummary,
  CertificateVerdictInfo,
  RequestError,
  SessionError,
} from '../ipc/contract.ts';
import type { CloseInfo } from '../endpoint/errors.ts';
import { EndpointError } from '../endpoint/errors.ts';
import { alertName } from '../../core/tls/alerts.ts';
import { CRYPTO_ERROR_BASE, TransportError, transportErrorName } from '../../core/wire/errors.ts';
import { h3ErrorName } from '../../core/h3/errors.ts';

/** A request that failed for a reason the window can show (not a bug in main/). */
export class RequestFailure extends Error {
  override readonly name = 'RequestFailure';
  constructor(
    readonly kind: RequestError['kind'],
    message: string,
  ) {
    super(message);
  }
}

/** The contract's RequestError for anything a request handler threw. */
export function toRequestError(e: unknown): RequestError {
  if (e instanceof RequestFailure) return { kind: e.kind, message: e.message };
  if (e instanceof EndpointError) return { kind: endpointKind(e), message: e.message };
  if (e instanceof RangeError || e instanceof TypeError) return { kind: 'bad_request', message: e.message };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

function endpointKind(e: EndpointError): SessionError['kind'] {
  switch (e.code) {
    case 'dns_failure':
      return 'dns';
    case 'refused':
      return 'refused';
    case 'unreachable':
      return 'unreachable';
    case 'handshake_timeout':
      return 'timeout';
    case 'socket_error':
      return 'socket';
    default:
      return 'internal';
  }
}

/** TLS alerts about the peer's certificate (RFC 8446 §6.2). */
const CERTIFICATE_ALERTS = new Set([42, 43, 44, 45, 46, 48]);
/** no_application_protocol (RFC 8446 §6.2, RFC 9001 §8.1). */
const NO_APPLICATION_PROTOCOL = 120;

/** The name of a CONNECTION_CLOSE code: transport (RFC 9000 §20.1), CRYPTO_ERROR(alert), or H3 (RFC 9114 §8.1). */
export function closeCodeName(application: boolean, code: number, alpn: string | null): string {
  if (application) return alpn === 'h3' ? h3ErrorName(code) : `application error 0x${code.toString(16)}`;
  if (code >= CRYPTO_ERROR_BASE && code < CRYPTO_ERROR_BASE + 256)
    return `CRYPTO_ERROR(${alertName(code - CRYPTO_ERROR_BASE)})`;
  return transportErrorName(code);
}

/** What the session knows when classifying its end. */
export interface FailureContext {
  alpn: string | null;
  verdict: CertificateVerdictInfo | null;
  chain: CertificateSummary[];
  /** The qlog connection_closed trigger, if one was logged. */
  closeTrigger: string | null;
  /** Whether the handshake had completed. */
  established: boolean;
}

/** The SessionError for an EndpointError (before or instead of a CloseInfo). */
export function endpointFailure(e: EndpointError, ctx: FailureContext): SessionError {
  switch (e.code) {
    case 'dns_failure':
      return { kind: 'dns', message: `DNS failure: ${e.message}` };
    case 'refused':
      return {
        kind: 'refused',
        message: 'nothing is listening on that UDP port (ICMP port unreachable)',
      };
    case 'unreachable':
      return { kind: 'unreachable', message: e.message };
    case 'handshake_timeout':
      return {
        kind: 'timeout',
        message: 'handshake timeout: no answer from the server (is it a QUIC server? is UDP blocked?)',
      };
    case 'socket_error':
      return { kind: 'socket', message: e.message };
    case 'connection_closed':
      if (e.closeInfo !== null)
        return closeFailure(e.closeInfo, ctx) ?? { kind: 'internal', message: e.message };
      return { kind: 'internal', message: e.message };
    default:
      return { kind: 'internal', message: e.message };
  }
}

/** The SessionError of a connection's end, or null when it ended cleanly (NO_ERROR either way). */
export function closeFailure(info: CloseInfo, ctx: FailureContext): SessionError | null {
  if (info.error !== null) return endpointFailure(info.error, ctx);
  if (ctx.closeTrigger === 'stateless_reset')
    return {
      kind: 'stateless_reset',
      message: 'the server sent a stateless reset (RFC 9000 §10.3): it lost the connection state',
    };
  if (info.timedOut)
    return ctx.established
      ? { kind: 'idle_timeout', message: 'idle timeout: nothing heard from the server (RFC 9000 §10.1)' }
      : {
          kind: 'timeout',
          message: 'handshake timeout: the idle timeout expired before the handshake completed',
        };
  const local = info.local;
  if (local !== null && !(local.isApp ? isNoError(local.code, ctx.alpn) : local.code === 0)) {
    const codeName = closeCodeName(local.isApp, local.code, ctx.alpn);
    const base = { code: local.code, codeName, reason: local.reason, application: local.isApp };
    if (!local.isApp && local.code === TransportError.VERSION_NEGOTIATION_ERROR)
      return { kind: 'version', message: `version mismatch: ${local.reason}`, ...base };
    if (!local.isApp && local.code >= CRYPTO_ERROR_BASE && local.code < CRYPTO_ERROR_BASE + 256) {
      const alert = local.code - CRYPTO_ERROR_BASE;
      if (
        CERTIFICATE_ALERTS.has(alert) ||
        (ctx.verdict !== null && !ctx.verdict.ok && !ctx.verdict.ignored)
      ) {
        const verdict: CertificateVerdictInfo = ctx.verdict ?? {
          ok: false,
          reason: alertName(alert),
          message: local.reason,
        };
        const reasonName = verdict.reason ?? alertName(alert);
        const detail = (verdict.message ?? local.reason).replace(`${reasonName}: `, '');
        return {
          kind: 'certificate',
          message: `certificate rejected (${reasonName}): ${detail}`,
          ...base,
          certificate: { verdict, chain: ctx.chain },
        };
      }
      if (alert === NO_APPLICATION_PROTOCOL)
        return { kind: 'alpn', message: `no common application protocol (ALPN): ${local.reason}`, ...base };
    }
    return {
      kind: 'local_error',
      message: `we closed the connection with ${codeName}${local.reason ? `: ${local.reason}` : ''}`,
      ...base,
    };
  }
  const peer = info.peer;
  if (peer !== null && !(peer.isApp ? isNoError(peer.code, ctx.alpn) : peer.code === 0)) {
    const codeName = closeCodeName(peer.isApp, peer.code, ctx.alpn);
    const base = { code: peer.code, codeName, reason: peer.reason, application: peer.isApp };
    if (!peer.isApp && peer.code === CRYPTO_ERROR_BASE + NO_APPLICATION_PROTOCOL)
      return {
        kind: 'alpn',
        message: `the server refused our ALPN (no_application_protocol)${peer.reason ? `: ${peer.reason}` : ''}`,
        ...base,
      };
    if (!peer.isApp && peer.code === TransportError.VERSION_NEGOTIATION_ERROR)
      return { kind: 'version', message: `version mismatch (server): ${peer.reason}`, ...base };
    return {
      kind: 'peer_close',
      message: `the server closed the connection with ${codeName}${peer.reason ? `: ${peer.reason}` : ''}`,
      ...base,
    };
  }
  return null;
}

/** Application NO_ERROR: H3_NO_ERROR (0x100) for h3, 0 otherwise. */
function isNoError(code: number, alpn: string | null): boolean {
  return alpn === 'h3' ? code === 0x100 || code === 0 : code === 0;
}
