import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DEFAULT_FLEET_ADMIN_GROUP } from '../kernel/admin-groups.js';
import { checkAdminToken } from './admin-token.js';
import { clusterScopeOfClaims } from './cluster-access.js';

export interface Principal {
  /** Who made the request: the JWT's email/username/sub, `admin-token`, or `admin-token:<tokenId>`. */
  id: string;
  /**
   * The clusters this principal may administer: `all` (a fleet admin), or these ids (possibly
   * none: signed in, but every cluster route answers 403). See cluster-access.ts.
   */
  clusters: ClusterScope;
  /** What would grant a cluster, for the 403's message (how this principal authenticated). */
  via: 'jwt' | 'token';
  /** A publisher token's (functions/shared/publisher-auth.ts): the one cluster it may post events for; no admin route. */
  publisherFor?: string;
}

export type ClusterScope = 'all' | readonly string[];

export { CLUSTER_GROUP_PREFIX, DEFAULT_FLEET_ADMIN_GROUP } from '../kernel/admin-groups.js';

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
export function jwtAuthenticator(options: { fleetAdminGroup?: string } = {}): Authenticator {
  const fleetAdminGroup = options.fleetAdminGroup || DEFAULT_FLEET_ADMIN_GROUP;
  return (event) => {
    const claims = (event.requestContext as JwtAuthorizerContext).authorizer?.jwt?.claims;
    const sub = claims?.sub;
    if (typeof sub !== 'string' || sub === '') return undefined;
    const name = claims?.email ?? claims?.['cognito:username'] ?? claims?.username ?? sub;
    return { id: String(name), clusters: clusterScopeOfClaims(claims, fleetAdminGroup), via: 'jwt' };
  };
}

/** The JWT authorizer's claims with the default fleet admin group (`fleet-admins`). */
export const jwtAuthorizerAuthenticator: Authenticator = jwtAuthenticator();

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The embedded runtime: `Authorization: Bearer <ADMIN_TOKEN>` (a fleet admin), compared in
 * constant time; then, when given, the per-cluster admin tokens (`clusterTokens`).
 */
export function bearerTokenAuthenticator(token: string, clusterTokens?: ClusterTokenVerifier): Authenticator {
  const expected = digest(checkAdminToken(token));
  return (event) => {
    const header = event.headers.authorization ?? event.headers.Authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return undefined;
    if (timingSafeEqual(digest(match[1]), expected))
      return { id: 'admin-token', clusters: 'all', via: 'token' };
    const scoped = clusterTokens?.verify(match[1]);
    return scoped
      ? { id: `admin-token:${scoped.tokenId}`, clusters: [scoped.clusterId], via: 'token' }
      : undefined;
  };
}

/** Checks a per-cluster admin token (the embedded runtime's SQLite store). */
export interface ClusterTokenVerifier {
  verify(token: string): { tokenId: string; clusterId: string } | undefined;
}
