import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { ClusterIdSchema } from '../kernel/cluster-id-schema.js';
import type { Authenticator, Principal } from './auth.js';
import { checkClusterAccess } from './cluster-access.js';
import { HttpError, type HttpResponse, jsonErrorHandler } from './http.js';
import type { RouteDefinition, RouteDoc } from './route-definition.js';
import { securityHeaders } from './security-headers.js';

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

/** A path parameter, percent-decoded: a malformed escape (`%E0%A4%A`) is a 400 naming it, not a 500. */
export function decodedPathParam(event: APIGatewayProxyEventV2, name: string): string {
  const raw = event.pathParameters?.[name] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `Invalid ${name}`, [
      { path: name, message: 'is not valid percent-encoded UTF-8 (a malformed %-escape)' },
    ]);
  }
}

/** The `{clusterId}` path parameter, validated: 400 names the problem. */
export function clusterIdParam(event: APIGatewayProxyEventV2): string {
  const raw = decodedPathParam(event, 'clusterId');
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
    const methods = patterns.filter((r) => r.pattern.test(path)).map((r) => r.method);
    // HEAD is served wherever GET is (createHttpApi).
    const allowed = [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))];
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

/** A HEAD request's response, a 4xx's too, has GET's status and headers and no body. */
function headWithoutBody(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  const strip = async (request: {
    event: APIGatewayProxyEventV2;
    response: APIGatewayProxyResultV2 | null;
  }) => {
    const { response } = request;
    if (request.event.requestContext?.http?.method !== 'HEAD' || typeof response !== 'object' || !response)
      return;
    delete response.body;
    delete response.isBase64Encoded;
  };
  return { after: strip, onError: strip };
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
  const routes: Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] = specs.flatMap((spec) => {
    const handler = async (event: APIGatewayProxyEventV2) => {
      const principal = authenticator(event);
      if (spec.access === 'admin' && !principal) {
        throw new HttpError(401, 'Authentication required', undefined, { 'www-authenticate': 'Bearer' });
      }
      if (principal?.publisherFor !== undefined) {
        // A publisher token: only the event routes, which check its cluster themselves.
        if (spec.access === 'admin' && !spec.publishers) {
          throw new HttpError(403, 'A publisher token may only post events (POST /events, /events/envelope)');
        }
      } else {
        checkClusterAccess(spec, event, principal, clusterIdParam);
      }
      return spec.handler(event, principal);
    };
    const route = { method: spec.method, path: spec.path, handler };
    // HEAD answers as GET does, and headWithoutBody drops the body (RFC 9110 9.3.2).
    return spec.method === 'GET' ? [route, { ...route, method: 'HEAD' as const }] : [route];
  });
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, Context>()
    .use(securityHeaders())
    .use(headWithoutBody())
    .use(injectLambdaContext(log, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(jsonErrorHandler(log))
    .handler(httpRouterHandler({ routes, notFoundResponse: notFoundOrMethodNotAllowed(specs) }));
}
