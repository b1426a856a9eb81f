// The embedded runtime's per-cluster admin tokens: a fleet admin (ADMIN_TOKEN) creates, lists and
// revokes them. Embedded only: in AWS an admin's clusters come from the user pool's groups
// (`fleet-admins`, `cluster-<clusterId>`), so the deployed API has no token store to manage.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { ErrorBodySchema } from '../functions/admin-api/api-schemas.js';
import type { AdminTokenStore } from '../functions/core/access/admin-tokens.js';
import type { AuditLog } from '../functions/core/audit/audit-log.js';
import type { Clock } from '../functions/core/ports.js';
import { ValidationError } from '../functions/kernel/field-issues.js';
import type { Principal } from '../functions/shared/auth.js';
import { requireFleetAdmin } from '../functions/shared/cluster-access.js';
import { HttpError, jsonResponse, readJsonBody } from '../functions/shared/http.js';
import { bindRoutes, clusterIdParam, type RouteSpec } from '../functions/shared/http-api.js';
import type { RouteDefinition, RouteDoc } from '../functions/shared/route-definition.js';

const TOKENS_PATH = '/clusters/{clusterId}/admin-tokens';

export const ADMIN_TOKEN_ROUTES = {
  createAdminToken: { method: 'POST', path: TOKENS_PATH, access: 'admin' },
  listAdminTokens: { method: 'GET', path: TOKENS_PATH, access: 'admin' },
  revokeAdminToken: { method: 'DELETE', path: `${TOKENS_PATH}/{tokenId}`, access: 'admin' },
} as const satisfies Record<string, RouteDefinition>;

export const CreateAdminTokenBodySchema = z.strictObject({
  label: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must not contain control or invisible characters')
    .optional()
    .describe('What the token is for (shown in the list)'),
});

const TokenInfoSchema = z.looseObject({
  tokenId: z.string(),
  clusterId: z.string(),
  label: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
});
const error = (description: string) => ({ description, schema: ErrorBodySchema });
const fleetOnly = error('Only a fleet admin (ADMIN_TOKEN) manages admin tokens');

export const ADMIN_TOKEN_ROUTE_DOCS = {
  createAdminToken: {
    summary: 'Create an admin token for one cluster (shown once)',
    description:
      'The token administers this cluster only (every route with its `{clusterId}`); it opens no other cluster and no fleet-wide route. Only its SHA-256 is stored: keep the token from this answer.',
    body: { schema: CreateAdminTokenBodySchema, required: false },
    responses: {
      201: {
        description: 'The token and its id',
        schema: TokenInfoSchema.extend({ token: z.string().describe('Bearer token; not shown again') }),
      },
      400: error('Invalid cluster id or body (with field issues)'),
      403: fleetOnly,
    },
  },
  listAdminTokens: {
    summary: "A cluster's admin tokens (never the tokens themselves)",
    responses: {
      200: {
        description: 'The tokens',
        schema: z.looseObject({ clusterId: z.string(), items: z.array(TokenInfoSchema) }),
      },
      403: fleetOnly,
    },
  },
  revokeAdminToken: {
    summary: 'Revoke an admin token: it stops working at once',
    responses: {
      204: { description: 'Revoked' },
      403: fleetOnly,
      404: error('The cluster has no such token'),
    },
  },
} as const satisfies Record<keyof typeof ADMIN_TOKEN_ROUTES, RouteDoc>;

function createBody(event: APIGatewayProxyEventV2) {
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
  const parsed = CreateAdminTokenBodySchema.safeParse(raw?.trim() ? readJsonBody(event) : {});
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid admin token request');
  return parsed.data;
}

const actorOf = (principal: Principal | undefined) => principal?.id ?? 'unknown';

export function adminTokenRoutes(deps: {
  tokens: AdminTokenStore;
  audit: AuditLog;
  clock: Clock;
}): RouteSpec[] {
  const { tokens, audit, clock } = deps;
  return bindRoutes(
    ADMIN_TOKEN_ROUTES,
    {
      createAdminToken: async (event, principal) => {
        requireFleetAdmin(principal, 'create admin tokens');
        const clusterId = clusterIdParam(event);
        const { label } = createBody(event);
        const created = tokens.create({
          clusterId,
          ...(label ? { label } : {}),
          createdBy: actorOf(principal),
          createdAt: clock().toISOString(),
        });
        await audit.record({
          actor: actorOf(principal),
          action: 'admin-token.create',
          clusterId,
          detail: { tokenId: created.tokenId, ...(label ? { label } : {}) },
        });
        return jsonResponse(201, created);
      },
      listAdminTokens: async (event, principal) => {
        requireFleetAdmin(principal, 'list admin tokens');
        const clusterId = clusterIdParam(event);
        return jsonResponse(200, { clusterId, items: tokens.list(clusterId) });
      },
      revokeAdminToken: async (event, principal) => {
        requireFleetAdmin(principal, 'revoke admin tokens');
        const clusterId = clusterIdParam(event);
        const tokenId = event.pathParameters?.tokenId ?? '';
        if (!tokens.revoke(clusterId, tokenId)) {
          throw new HttpError(404, `Cluster ${clusterId} has no admin token ${tokenId.slice(0, 64)}`);
        }
        await audit.record({
          actor: actorOf(principal),
          action: 'admin-token.revoke',
          clusterId,
          detail: { tokenId },
        });
        return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      },
    },
    ADMIN_TOKEN_ROUTE_DOCS,
  ).map((route) => ({ ...route, embeddedOnly: true }));
}
