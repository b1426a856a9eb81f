// Publisher tokens are the embedded runtime's stand-in for AWS's per-cluster publisher policies
// (`-c publisherClusters=...`): so, like `/events`, these routes are embedded-only. API Gateway
// has no such routes (404 there); in AWS a cluster's appliances get its managed policy instead.
import * as z from 'zod';
import { ErrorBodySchema } from '../functions/admin-api/api-schemas.js';
import type { AuditLog } from '../functions/core/audit/audit-log.js';
import type { PublisherTokens } from '../functions/core/publishers/publisher-tokens.js';
import { HttpError, jsonResponse } from '../functions/shared/http.js';
import { bindRoutes, clusterIdParam, type RouteSpec } from '../functions/shared/http-api.js';
import type { RouteDefinition, RouteDoc } from '../functions/shared/route-definition.js';

export const PUBLISHER_TOKEN_ROUTES = {
  createPublisherToken: { method: 'POST', path: '/clusters/{clusterId}/publisher-tokens', access: 'admin' },
  listPublisherTokens: { method: 'GET', path: '/clusters/{clusterId}/publisher-tokens', access: 'admin' },
  revokePublisherToken: {
    method: 'DELETE',
    path: '/clusters/{clusterId}/publisher-tokens/{tokenId}',
    access: 'admin',
  },
} as const satisfies Record<string, RouteDefinition>;

const Iso = z.string().describe('ISO 8601 time');
const TokenInfoSchema = z.looseObject({
  tokenId: z.string(),
  clusterId: z.string(),
  createdAt: Iso,
  createdBy: z.string().describe('Who created it (the admin principal)'),
});
const error = (description: string) => ({ description, schema: ErrorBodySchema });

export const PUBLISHER_TOKEN_ROUTE_DOCS = {
  createPublisherToken: {
    summary: "Create a publisher token for the cluster's appliances (shown once)",
    description:
      'The token (`Authorization: Bearer <token>`) may post events (`POST /events`, `/events/envelope`) for this cluster only, and opens no admin route. Only its SHA-256 hash is stored: keep the token, it is not shown again.',
    responses: {
      201: {
        description: 'The token, this once',
        schema: TokenInfoSchema.extend({ token: z.string().describe('256 random bits; shown only here') }),
      },
      400: error('Invalid cluster id'),
    },
  },
  listPublisherTokens: {
    summary: "The cluster's publisher tokens (without the tokens)",
    responses: {
      200: { description: 'Oldest first', schema: z.looseObject({ items: z.array(TokenInfoSchema) }) },
      400: error('Invalid cluster id'),
    },
  },
  revokePublisherToken: {
    summary: 'Revoke a publisher token: it answers 401 from now on',
    responses: {
      204: { description: 'Revoked' },
      400: error('Invalid cluster id'),
      404: error('The cluster has no such token'),
    },
  },
} as const satisfies Record<keyof typeof PUBLISHER_TOKEN_ROUTES, RouteDoc>;

/** The publisher-token routes; each change goes into the cluster's audit trail. */
export function publisherTokenRoutes(tokens: PublisherTokens, audit?: AuditLog): RouteSpec[] {
  return bindRoutes(
    PUBLISHER_TOKEN_ROUTES,
    {
      createPublisherToken: async (event, principal) => {
        const clusterId = clusterIdParam(event);
        const actor = principal?.id ?? 'unknown';
        const issued = tokens.issue(clusterId, actor);
        await audit?.record({
          actor,
          action: 'publisher-token.create',
          clusterId,
          detail: { tokenId: issued.tokenId },
        });
        return jsonResponse(201, issued);
      },
      listPublisherTokens: async (event) => jsonResponse(200, { items: tokens.list(clusterIdParam(event)) }),
      revokePublisherToken: async (event, principal) => {
        const clusterId = clusterIdParam(event);
        const tokenId = event.pathParameters?.tokenId ?? '';
        if (!tokens.revoke(clusterId, tokenId)) {
          throw new HttpError(404, `Cluster "${clusterId}" has no publisher token "${tokenId.slice(0, 64)}"`);
        }
        await audit?.record({
          actor: principal?.id ?? 'unknown',
          action: 'publisher-token.revoke',
          clusterId,
          detail: { tokenId },
        });
        return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      },
    },
    PUBLISHER_TOKEN_ROUTE_DOCS,
  ).map((route) => ({ ...route, embeddedOnly: true }));
}
