import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface Principal {
  /** Who made the request: the JWT's email/username/sub, or `admin-token`. */
  id: string;
  /** A publisher token's (functions/shared/publisher-auth.ts): the one cluster it may post events for; no admin route. */
  publisherFor?: string;
}

/** Decides who made a request; undefined means unauthenticated (401). */
export type Authenticator = (event: APIGatewayProxyEventV2) => Principal | undefined;

interface JwtAuthorizerContext {
  authorizer?: { jwt?: { claims?: Record<string, unknown> } };
}

/**
 * In AWS the HTTP API's JWT authorizer has already verified the token before the function runs;
 * the function still refuses a request that reached it without verified claims (a route
 * deployed without the authorizer must fail closed, not open).
 */
export const jwtAuthorizerAuthenticator: Authenticator = (event) => {
  const claims = (event.requestContext as JwtAuthorizerContext).authorizer?.jwt?.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub === '') return undefined;
  const name = claims?.email ?? claims?.['cognito:username'] ?? claims?.username ?? sub;
  return { id: String(name) };
};

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The embedded runtime: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function bearerTokenAuthenticator(token: string): Authenticator {
  if (token.length < 16) throw new Error('ADMIN_TOKEN must be at least 16 characters');
  const expected = digest(token);
  return (event) => {
    const header = event.headers.authorization ?? event.headers.Authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return undefined;
    return timingSafeEqual(digest(match[1]), expected) ? { id: 'admin-token' } : undefined;
  };
}
