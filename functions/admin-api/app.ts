import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { ClusterIdSchema, EmailConfigInputSchema, toPublicConfig } from '../core/config-model.js';
import type { EmailConfigService } from '../core/email-config-service.js';
import { ValidationError } from '../core/errors.js';
import type { Authenticator } from '../shared/auth.js';
import {
  HttpError,
  type HttpResponse,
  jsonErrorHandler,
  jsonResponse,
  queryFlag,
  readJsonBody,
} from '../shared/http.js';

export interface AdminApiDeps {
  service: EmailConfigService;
  authenticator: Authenticator;
  log: Logger;
}

type RouteHandler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
interface RouteSpec {
  method: Method;
  path: string;
  /** Public routes (the OAuth redirect) skip authentication; everything else is admin-only. */
  public?: boolean;
  handler: RouteHandler;
}

function clusterIdOf(event: APIGatewayProxyEventV2): string {
  const raw = decodeURIComponent(event.pathParameters?.clusterId ?? '');
  const parsed = ClusterIdSchema.safeParse(raw);
  if (!parsed.success) {
    throw new HttpError(400, 'Invalid cluster id', [
      { path: 'clusterId', message: parsed.error.issues[0]?.message ?? 'invalid' },
    ]);
  }
  return parsed.data;
}

function adminRoutes({ service, log }: AdminApiDeps): RouteSpec[] {
  const configPath = '/clusters/{clusterId}/email-config';
  return [
    {
      method: 'GET',
      path: configPath,
      handler: async (event) => jsonResponse(200, toPublicConfig(await service.get(clusterIdOf(event)))),
    },
    {
      method: 'PUT',
      path: configPath,
      handler: async (event) => {
        const clusterId = clusterIdOf(event);
        const withTest = queryFlag(event, 'sendTestEmail');
        const parsed = EmailConfigInputSchema.safeParse(readJsonBody(event));
        if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid email configuration');
        const { document, created } = await service.save(clusterId, parsed.data);
        const testEmail = withTest ? await service.sendTestEmail(document) : undefined;
        log.info('PUT email-config', { clusterId, created, testEmailOk: testEmail?.ok });
        return jsonResponse(created ? 201 : 200, {
          config: toPublicConfig(document),
          ...(testEmail ? { testEmail } : {}),
        });
      },
    },
    {
      method: 'POST',
      path: `${configPath}/test`,
      handler: async (event) => jsonResponse(200, await service.sendTestEmail(clusterIdOf(event))),
    },
  ];
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

export function createAdminApiHandler(deps: AdminApiDeps) {
  const specs = adminRoutes(deps);
  const routes: Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] = specs.map((spec) => ({
    method: spec.method,
    path: spec.path,
    handler: async (event: APIGatewayProxyEventV2) => {
      if (!spec.public && !deps.authenticator(event)) {
        throw new HttpError(401, 'Authentication required', undefined, { 'www-authenticate': 'Bearer' });
      }
      return spec.handler(event);
    },
  }));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2, Error, Context>()
    .use(injectLambdaContext(deps.log, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(jsonErrorHandler(deps.log))
    .handler(httpRouterHandler({ routes, notFoundResponse: notFoundOrMethodNotAllowed(specs) }));
}
