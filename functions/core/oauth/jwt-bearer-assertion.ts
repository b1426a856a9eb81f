import { signRs256Jwt } from './jws.js';

// The JWT bearer grant (RFC 7523 section 2.1) as Google's token endpoint takes it from a service
// account with domain-wide delegation: the service account (`iss`) asks for a token for the
// mailbox it impersonates (`sub`), signed with its JSON key and named by the key's id (`kid`).

export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Google accepts assertions valid for up to one hour. */
const ASSERTION_LIFETIME_S = 60 * 60;

export interface JwtBearerAssertionInput {
  /** The service account (`client_email`). */
  issuer: string;
  /** The mailbox the token is for (domain-wide delegation). */
  subject: string;
  scopes: string[];
  /** The token endpoint the assertion is sent to. */
  audience: string;
  privateKeyPem: string;
  /** The key's `private_key_id`. */
  keyId: string;
  now: Date;
}

export function jwtBearerAssertion(input: JwtBearerAssertionInput): string {
  const issuedAt = Math.floor(input.now.getTime() / 1000);
  return signRs256Jwt(
    { alg: 'RS256', typ: 'JWT', kid: input.keyId },
    {
      iss: input.issuer,
      sub: input.subject,
      scope: input.scopes.join(' '),
      aud: input.audience,
      iat: issuedAt,
      exp: issuedAt + ASSERTION_LIFETIME_S,
    },
    input.privateKeyPem,
  );
}
