import type { ReactNode } from 'react';
import type { CertificateSummary, CertificateVerdictInfo } from '../store/types.ts';
import { formatDate } from '../lib/format.ts';

/** The verdict on the peer's chain, as a badge. */
export function VerdictBadge(props: { verdict: CertificateVerdictInfo | null }): ReactNode {
  const v = props.verdict;
  if (v === null) return <span className="badge muted">not verified yet</span>;
  if (v.ok) return <span className="badge ok">verified</span>;
  return (
    <span className={v.ignored ? 'badge warn' : 'badge bad'} title={v.message}>
      {v.ignored ? 'not verified (insecure mode)' : 'rejected'}: {v.reason ?? 'unknown reason'}
    </span>
  );
}

const KEY_NAMES: Record<string, string> = {
  'ec-p256': 'ECDSA P-256',
  'ec-p384': 'ECDSA P-384',
  'ec-p521': 'ECDSA P-521',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  rsa: 'RSA',
};

function keyLabel(type: string, bits: number): string {
  const name = KEY_NAMES[type] ?? type;
  return type === 'rsa' ? `${name} ${bits}` : name;
}

/** The peer's certificate chain, leaf first: subject, issuer, SANs, validity, key. */
export function CertificateChain(props: {
  chain: CertificateSummary[];
  verdict: CertificateVerdictInfo | null;
}): ReactNode {
  const now = Date.now();
  if (props.chain.length === 0) return <p className="empty">No certificate received.</p>;
  return (
    <ol className="cert-chain">
      {props.chain.map((c, i) => {
        const notBefore = Date.parse(c.notBefore);
        const notAfter = Date.parse(c.notAfter);
        const expired = now > notAfter;
        const early = now < notBefore;
        return (
          <li key={`${i}:${c.fingerprintSha256}`} className="cert">
            <div className="cert-head">
              <span className="cert-role">{i === 0 ? 'Leaf' : c.selfIssued ? 'Root' : 'Intermediate'}</span>
              <span className="cert-subject">{c.subject}</span>
              {i === 0 && <VerdictBadge verdict={props.verdict} />}
            </div>
            <dl className="kv">
              <dt>Issuer</dt>
              <dd>{c.issuer}</dd>
              <dt>Valid</dt>
              <dd className={expired || early ? 'bad-text' : undefined}>
                {formatDate(notBefore)} → {formatDate(notAfter)}
                {expired ? ' (expired)' : early ? ' (not yet valid)' : ''}
              </dd>
              <dt>SANs</dt>
              <dd>{c.sans.length > 0 ? c.sans.join(', ') : 'none'}</dd>
              <dt>Key</dt>
              <dd>
                {keyLabel(c.keyType, c.keyBits)}, signed with {c.signatureAlgorithm}
                {c.isCA ? ' · CA' : ''}
              </dd>
              <dt>Serial</dt>
              <dd>
                <code>{c.serial}</code>
              </dd>
              <dt>SHA-256</dt>
              <dd>
                <code className="wrap">{c.fingerprintSha256}</code>
              </dd>
            </dl>
          </li>
        );
      })}
    </ol>
  );
}
