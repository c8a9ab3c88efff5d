import type { ReactNode } from 'react';
import type { SessionError } from '../store/types.ts';
import { CertificateChain } from './Certificates.tsx';

const TITLES: Record<string, string> = {
  dns: 'Host name not found (DNS)',
  refused: 'Nothing is listening there (ICMP port unreachable)',
  unreachable: 'Host or network unreachable',
  timeout: 'Handshake timed out',
  certificate: 'Certificate rejected',
  version: 'No common QUIC version',
  alpn: 'No common application protocol (ALPN)',
  peer_close: 'The peer closed the connection',
  local_error: 'Closed: the peer violated the protocol',
  idle_timeout: 'Idle timeout',
  stateless_reset: 'The peer sent a stateless reset',
  socket: 'UDP socket error',
  internal: 'Internal error',
  bad_request: 'Invalid request',
  not_found: 'Not found',
  unsupported: 'Not supported',
  invalid_state: 'Not possible in this state',
  blocked: 'Blocked by flow control',
  io: 'Cannot reach quicscope',
};

/** A short title for an error kind (session or request error). */
export function errorTitle(kind: string): string {
  return TITLES[kind] ?? kind;
}

/** The code line of a CONNECTION_CLOSE error: "CRYPTO_ERROR(bad_certificate) 0x12a (transport)". */
export function closeCodeLine(error: SessionError): string | null {
  if (error.code == null && error.codeName == null) return null;
  const parts: string[] = [];
  if (error.codeName != null) parts.push(error.codeName);
  if (error.code != null) parts.push(`0x${error.code.toString(16)}`);
  if (error.application != null) parts.push(error.application ? '(application)' : '(transport)');
  return parts.join(' ');
}

/** A session's failure: what happened, the peer's code and reason, and the chain for certificate errors. */
export function SessionErrorBanner(props: { error: SessionError }): ReactNode {
  const { error } = props;
  const code = closeCodeLine(error);
  return (
    <div className="banner error session-error" role="alert" data-error-kind={error.kind}>
      <strong>{errorTitle(error.kind)}</strong>
      <span className="error-message">{error.message}</span>
      {code !== null && (
        <span className="error-code">
          Code: <code>{code}</code>
        </span>
      )}
      {error.reason != null && error.reason !== '' && (
        <span className="error-reason">
          Reason: <q>{error.reason}</q>
        </span>
      )}
      {error.certificate !== undefined && (
        <details open>
          <summary>
            Verdict: {error.certificate.verdict.reason ?? 'rejected'}
            {error.certificate.verdict.message ? ` — ${error.certificate.verdict.message}` : ''}
          </summary>
          <CertificateChain chain={error.certificate.chain} verdict={error.certificate.verdict} />
        </details>
      )}
    </div>
  );
}
