import { randomUUID } from 'node:crypto';
import { certificateFacts } from '../config/client-certificate.js';
import { signRs256Jwt } from './jws.js';

// The private-key JWT client assertion (RFC 7523 section 2.2, OpenID Connect
// `private_key_jwt`) that Microsoft Entra ID accepts for certificate credentials: RS256, the
// certificate named by its SHA-1 thumbprint (`x5t`) and SHA-256 thumbprint (`x5t#S256`).

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra ID accepts assertions valid for up to 10 minutes; a short one leaks less. */
const ASSERTION_LIFETIME_S = 5 * 60;

export interface ClientAssertionInput {
  clientId: string;
  tokenEndpoint: string;
  privateKeyPem: string;
  certificatePem: string;
  now: Date;
}

export function clientAssertion(input: ClientAssertionInput): string {
  const facts = certificateFacts(input.certificatePem);
  if (!facts) throw new Error('clientAssertion: the certificate is not readable');
  const issuedAt = Math.floor(input.now.getTime() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5t: facts.thumbprint, 'x5t#S256': facts.thumbprintSha256 };
  const claims = {
    aud: input.tokenEndpoint,
    iss: input.clientId,
    sub: input.clientId,
    jti: randomUUID(),
    iat: issuedAt,
    nbf: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_S,
  };
  return signRs256Jwt(header, claims, input.privateKeyPem);
}
