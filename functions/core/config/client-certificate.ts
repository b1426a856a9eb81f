import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import * as z from 'zod';

// The certificate an app-only (client-credentials) OAuth2 client authenticates with: a PEM
// private key (write-only, like every secret) and the PEM certificate uploaded to the app
// registration. Its thumbprint names the key in the client assertion's `x5t` header.

const MAX_PEM = 16_384;
const PRIVATE_KEY_PEM = /-----BEGIN (?:RSA )?PRIVATE KEY-----/;
const ENCRYPTED_KEY_PEM =
  /-----BEGIN (?:ENCRYPTED PRIVATE KEY|RSA PRIVATE KEY-----\s*Proc-Type: 4,ENCRYPTED)/;

export function parsePrivateKey(pem: string): KeyObject | string {
  if (ENCRYPTED_KEY_PEM.test(pem)) return 'is an encrypted private key: export it without a passphrase';
  if (!PRIVATE_KEY_PEM.test(pem)) return 'must be a PEM private key ("-----BEGIN PRIVATE KEY-----")';
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') return 'must be an RSA private key (the assertion is signed RS256)';
    return key;
  } catch {
    return 'is not a readable PEM private key';
  }
}

function parseCertificate(pem: string): X509Certificate | string {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem))
    return 'must be a PEM certificate ("-----BEGIN CERTIFICATE-----")';
  try {
    return new X509Certificate(pem);
  } catch {
    return 'is not a readable PEM certificate';
  }
}

const Pem = z.string({ error: 'must be PEM text' }).max(MAX_PEM, `must be at most ${MAX_PEM} characters`);

/** What GET shows of the certificate (the key itself never). */
export interface CertificateFacts {
  /** base64url SHA-1 of the DER certificate: the `x5t` of the assertion, as Entra ID lists it in hex. */
  thumbprint: string;
  thumbprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
}

export function certificateFacts(certificatePem: string): CertificateFacts | undefined {
  const certificate = parseCertificate(certificatePem);
  if (typeof certificate === 'string') return undefined;
  return {
    thumbprint: createHash('sha1').update(certificate.raw).digest('base64url'),
    thumbprintSha256: createHash('sha256').update(certificate.raw).digest('base64url'),
    subject: certificate.subject,
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}

// Read-only fields of GET's view; a document sent back with them is accepted (and they are dropped).
export const certificateReadOnly = {
  privateKeySet: z.unknown().optional(),
  thumbprint: z.unknown().optional(),
  thumbprintSha256: z.unknown().optional(),
  subject: z.unknown().optional(),
  notBefore: z.unknown().optional(),
  notAfter: z.unknown().optional(),
};

/**
 * `{ privateKeyPem, certificatePem }`. The private key may be left out on a later save (the
 * stored one is kept); when both are given they must belong together.
 */
export const ClientCertificateSchema = z
  .strictObject(
    {
      privateKeyPem: Pem.transform((s) => (s.trim() === '' ? undefined : s.trim())).optional(),
      certificatePem: Pem.transform((s) => s.trim()),
      ...certificateReadOnly,
    },
    {
      error:
        'must be an object like { "privateKeyPem": "-----BEGIN PRIVATE KEY-----…", "certificatePem": "-----BEGIN CERTIFICATE-----…" }',
    },
  )
  .superRefine((value, ctx) => {
    const certificate = parseCertificate(value.certificatePem);
    if (typeof certificate === 'string')
      ctx.addIssue({ code: 'custom', path: ['certificatePem'], message: certificate });
    if (value.privateKeyPem === undefined) return;
    const key = parsePrivateKey(value.privateKeyPem);
    if (typeof key === 'string') {
      ctx.addIssue({ code: 'custom', path: ['privateKeyPem'], message: key });
      return;
    }
    if (typeof certificate !== 'string' && !certificate.checkPrivateKey(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['privateKeyPem'],
        message:
          'does not belong to the certificate (certificatePem): save the key the certificate was made from',
      });
    }
  })
  .transform(({ privateKeyPem, certificatePem }) => ({
    ...(privateKeyPem !== undefined ? { privateKeyPem } : {}),
    certificatePem,
  }));
export type ClientCertificate = z.output<typeof ClientCertificateSchema>;
