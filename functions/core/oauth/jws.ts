import { createPrivateKey, sign } from 'node:crypto';

// A compact JWS signed RS256 (RFC 7515, RFC 7518 section 3.3): the client assertion of the
// app-only flow and the JWT bearer grant of a Google service account are both made this way.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signRs256Jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKeyPem: string,
): string {
  const signingInput = `${b64url({ ...header, alg: 'RS256' })}.${b64url(claims)}`;
  const key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}
