import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { ClusterIdSchema } from '../kernel/cluster-id-schema.js';
import type { Authenticator, Principal } from './auth.js';
import { HttpError, type HttpResponse, jsonErrorHandler } from './http.js';
import type { RouteDefinition, RouteDoc } from './route-definition.js';

export type RouteHandler = (
  event: APIGatewayProxyEventV2,
  principal: Principal | undefined,
) => Promise<HttpResponse>;

/** A route table entry with its handler and its doc: what the router serves and GET /openapi.json lists. */
export interface RouteSpec extends RouteDefinition {
  /** The entry's id in its table. */
  id: string;
  doc: RouteDoc;
  /** Served by the embedded runtime only; never in API Gateway. */
  embeddedOnly?: boolean;
  /** Also open to a publisher token (posting events); every other admin route answers it 403. */
  publishers?: boolean;
  handler: RouteHandler;
}

/** One handler for every entry of a route table: a table entry without one does not compile. */
export type RouteHandlers<Table extends Record<string, RouteDefinition>> = {
  [Id in keyof Table]: RouteHandler;
};

/** One doc for every entry of a route table: a table entry without one does not compile. */
export type RouteDocs<Table extends Record<string, RouteDefinition>> = {
  readonly [Id in keyof Table]: RouteDoc;
};

export function bindRoutes<Table extends Record<string, RouteDefinition>>(
  table: Table,
  handlers: RouteHandlers<Table>,
  docs: RouteDocs<Table>,
): RouteSpec[] {
  return Object.entries(table).map(([id, definition]) => ({
    ...definition,
    id,
    doc: docs[id as keyof Table],
    handler: handlers[id as keyof Table],
  }));
}

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** The `{clusterId}` path parameter, validated: 400 names the problem. */
export function clusterIdParam(event: APIGatewayProxyEventV2): string {
  const raw = decodeURIComponent(event.pathParameters?.clusterId ?? '');
  const parsed = ClusterIdSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HttpError(400, 'Invalid cluster id', [
      { path: 'clusterId', message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  return parsed.data;
}

const pathPattern = (path: string) => new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}/?$`);

/** 404 for an unknown path; 405 with `Allow` for a known path and another method. */
function notFoundOrMethodNotAllowed(routes: RouteSpec[]) {
  const patterns = routes.map((route) => ({ ...route, pattern: pathPattern(route.path) }));
  return ({ method, path }: { method: string; path: string }): never => {
    const allowed = [...new Set(patterns.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      throw new HttpError(
        405,
        `Method ${method} is not allowed here; use ${allowed.join(' or ')}`,
        undefined,
        {
          allow: allowed.join(', '),
        },
      );
    }
    throw new HttpError(404, `No route for ${method} ${path}`);
  };
}

/**
 * One middy chain for an HTTP API function: Powertools logger context, header normalization,
 * routing (404/405), authentication per route, and JSON errors last. Route sets are plain
 * arrays, so the admin API, the OAuth routes and the embedded runtime's extras compose.
 */
export function createHttpApi(options: {
  routes: RouteSpec[];
  authenticator: Authenticator;
  log: Logger;
}): HttpApiHandler {
  const { routes: specs, authenticator, log } = options;
  const routes: Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] = specs.map((spec) => ({
    method: spec.method,
    path: spec.path,
    handler: async (event: APIGatewayProxyEventV2) => {
      const principal = authenticator(event);
      if (spec.access === 'admin' && !principal) {
        throw new HttpError(401, 'Authentication required', undefined, { 'www-authenticate': 'Bearer' });
      }
      if (spec.access === 'admin' && principal?.publisherFor !== undefined && !spec.publishers) {
        throw new HttpError(403, 'A publisher token may only post events (POST /events, /events/envelope)');
      }
      return spec.handler(event, principal);
    },
  }));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, Context>()
    .use(injectLambdaContext(log, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(jsonErrorHandler(log))
    .handler(httpRouterHandler({ routes, notFoundResponse: notFoundOrMethodNotAllowed(specs) }));
}
