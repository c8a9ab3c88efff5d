/**
 * Server identities for `quicscope serve`: a fresh self-signed ECDSA P-256 certificate for
 * localhost / 127.0.0.1 / ::1 (core/tls/certgen.ts), and the base64 SHA-256 of a certificate's
 * SubjectPublicKeyInfo — what Chromium takes in --ignore-certificate-errors-spki-list.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { getProvider } from '../../core/crypto/index.ts';
import { createCertificate } from '../../core/tls/certgen.ts';
import { parseCertificatesPem } from '../../core/tls/x509.ts';

/** A certificate chain and its key, as PEM, with the leaf's SPKI hash. */
export interface ServerIdentity {
  certPem: string;
  keyPem: string;
  /** base64(SHA-256(SubjectPublicKeyInfo)) of the leaf. */
  spkiSha256: string;
  /** The leaf's validity, epoch ms. */
  notAfter: number;
}

/** base64 SHA-256 of the SubjectPublicKeyInfo of the first certificate in `certPem`. */
export function spkiSha256(certPem: string): string {
  const [leaf] = parseCertificatesPem(certPem);
  if (leaf === undefined) throw new RangeError('no certificate in the PEM text');
  return createHash('sha256').update(leaf.publicKey.spki).digest('base64');
}

/**
 * A self-signed ECDSA P-256 certificate for `dns` names and `ip` addresses, valid from an hour
 * ago for `days` days (`now`: epoch ms).
 */
export function selfSignedIdentity(
  now: number,
  options: { dns?: string[]; ip?: string[]; days?: number } = {},
): ServerIdentity {
  const provider = getProvider('default');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = provider.importPrivateKey(keyPem);
  const dns = options.dns ?? ['localhost'];
  const notAfter = now + (options.days ?? 14) * 86_400_000;
  const cert = createCertificate({
    subject: { CN: dns[0] ?? 'quicscope', O: 'quicscope (self-signed)' },
    sans: { dns, ip: options.ip ?? ['127.0.0.1', '::1'] },
    notBefore: now - 3_600_000,
    notAfter,
    isCA: false,
    key,
    provider,
  });
  return { certPem: cert.pem, keyPem, spkiSha256: spkiSha256(cert.pem), notAfter };
}
