// Which clusters a principal may administer, and the one check every admin route with a
// `{clusterId}` goes through (createHttpApi calls it, so a new route cannot forget it).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CLUSTER_GROUP_PREFIX } from '../kernel/admin-groups.js';
import type { ClusterScope, Principal } from './auth.js';
import { HttpError } from './http.js';
import type { RouteDefinition } from './route-definition.js';

/**
 * The groups of a verified JWT. Cognito puts `cognito:groups` in the token as a JSON array, but
 * API Gateway's HTTP API JWT authorizer hands claims to the function as strings, so an array
 * arrives as `"[g1 g2]"`; a test or another authorizer may pass a real array, a JSON array text
 * or a comma-separated list. Every form is read; anything else gives no groups (fail closed).
 */
export function groupsOfClaim(value: unknown): string[] {
  if (Array.isArray(value))
    return value.filter((item): item is string => typeof item === 'string' && item !== '');
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return groupsOfClaim(parsed);
    } catch {
      // Not JSON: API Gateway's `[g1 g2]`.
    }
    return splitGroups(text.slice(1, -1));
  }
  return splitGroups(text);
}

const splitGroups = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((group) => group.replace(/^"|"$/g, ''))
    .filter((group) => group !== '');

/**
 * The clusters the JWT's claims grant: the fleet admin group gives every cluster; each
 * `cluster-<clusterId>` group (in `cognito:groups`, or `groups` of an external issuer) or id in the custom claim `custom:clusters`
 * (a user attribute, comma- or space-separated, for pools whose groups are managed elsewhere)
 * gives that cluster. Neither: no cluster.
 */
export function clusterScopeOfClaims(
  claims: Record<string, unknown> | undefined,
  fleetAdminGroup: string,
): ClusterScope {
  // `groups`: what external issuers (Entra ID, Okta) call the claim.
  const groups = [...groupsOfClaim(claims?.['cognito:groups']), ...groupsOfClaim(claims?.groups)];
  if (groups.includes(fleetAdminGroup)) return 'all';
  const fromGroups = groups
    .filter((group) => group.startsWith(CLUSTER_GROUP_PREFIX) && group.length > CLUSTER_GROUP_PREFIX.length)
    .map((group) => group.slice(CLUSTER_GROUP_PREFIX.length));
  const fromClaim = groupsOfClaim(claims?.['custom:clusters']);
  return [...new Set([...fromGroups, ...fromClaim])].sort();
}

export function mayAdminister(principal: Principal | undefined, clusterId: string): boolean {
  if (!principal) return false;
  return principal.clusters === 'all' || principal.clusters.includes(clusterId);
}

export const isFleetAdmin = (principal: Principal | undefined) => principal?.clusters === 'all';

/** What would let this principal administer the cluster, for the 403. */
function whatGrants(principal: Principal, clusterId: string): string {
  return principal.via === 'jwt'
    ? `membership of the fleet admin group or of the group ${CLUSTER_GROUP_PREFIX}${clusterId} in the user pool`
    : `the admin token (ADMIN_TOKEN) or an admin token of cluster ${clusterId} (POST /clusters/${clusterId}/admin-tokens)`;
}

export function forbiddenCluster(principal: Principal, clusterId: string): HttpError {
  return new HttpError(
    403,
    `${principal.id} may not administer cluster ${clusterId}: that needs ${whatGrants(principal, clusterId)}`,
  );
}

export function requireFleetAdmin(principal: Principal | undefined, what: string): void {
  if (!principal || isFleetAdmin(principal)) return;
  throw new HttpError(
    403,
    `${principal.id} may not ${what}: only a fleet admin may (${
      principal.via === 'jwt' ? 'the fleet admin group in the user pool' : 'the admin token, ADMIN_TOKEN'
    })`,
  );
}

/**
 * The check of every admin route: one whose path names a `{clusterId}` answers 403 for a cluster
 * the principal may not administer; one without acts on the whole fleet and is for fleet admins
 * only, unless marked `everyAdmin` (`/clusters` filters, `/conditions` is the catalog). Public
 * routes protect themselves.
 */
export function checkClusterAccess(
  route: RouteDefinition,
  event: APIGatewayProxyEventV2,
  principal: Principal | undefined,
  clusterIdOf: (event: APIGatewayProxyEventV2) => string,
): void {
  if (route.access !== 'admin' || !principal) return;
  if (!route.path.includes('{clusterId}')) {
    if (!route.everyAdmin) requireFleetAdmin(principal, `${route.method} ${route.path}`);
    return;
  }
  const clusterId = clusterIdOf(event);
  if (!mayAdminister(principal, clusterId)) throw forbiddenCluster(principal, clusterId);
}
