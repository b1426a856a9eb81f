import type { Logger } from '@aws-lambda-powertools/logger';
import type { Services } from '../composition.js';
import { EmailConfigInputSchema } from '../core/config/email-config.js';
import type { EmailConfigService } from '../core/config/email-config-service.js';
import { toPublicConfig } from '../core/config/public-config.js';
import { ValidationError } from '../kernel/field-issues.js';
import type { Authenticator } from '../shared/auth.js';
import { jsonResponse, queryFlag, readJsonBody } from '../shared/http.js';
import {
  bindRoutes,
  clusterIdParam,
  createHttpApi,
  type HttpApiHandler,
  type RouteHandlers,
  type RouteSpec,
} from '../shared/http-api.js';
import { type AdminPageOptions, adminPageHandlers } from './admin-page-routes.js';
import { catalogHandlers } from './catalog-routes.js';
import { oauthHandlers } from './oauth-routes.js';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi-document.js';
import { ADMIN_API_ROUTE_DOCS } from './route-docs.js';
import { ADMIN_API_ROUTES } from './route-table.js';

export type AdminApiRouteHandlers = RouteHandlers<typeof ADMIN_API_ROUTES>;

export interface AdminApiOptions {
  services: Pick<Services, 'log' | 'emailConfig' | 'deliveries' | 'oauthAuthorization'>;
  authenticator: Authenticator;
  /** How the admin page signs admins in; without it the page's routes answer 404. */
  adminPage?: AdminPageOptions;
  /** The embedded runtime's own routes (its stand-ins for AWS services); never in API Gateway. */
  localRoutes?: RouteSpec[];
  /**
   * What GET /openapi.json says beyond the routes: the server (PUBLIC_BASE_URL) and how admin
   * routes authenticate. Default: the Lambda's JWT, no server.
   */
  openApi?: Omit<OpenApiOptions, 'routes'>;
}

export function emailConfigHandlers(
  service: EmailConfigService,
  log: Logger,
): Pick<AdminApiRouteHandlers, 'getEmailConfig' | 'putEmailConfig' | 'sendTestEmail'> {
  return {
    getEmailConfig: async (event) =>
      jsonResponse(200, toPublicConfig(await service.get(clusterIdParam(event)))),
    putEmailConfig: async (event) => {
      const clusterId = clusterIdParam(event);
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
    sendTestEmail: async (event) => jsonResponse(200, await service.sendTestEmail(clusterIdParam(event))),
  };
}

/**
 * A handler for every entry of the route table: one that is missing does not compile.
 * `served` is every route the function serves, for the OpenAPI document.
 */
export function adminApiHandlers(
  options: AdminApiOptions,
  served: () => readonly RouteSpec[] = () => [],
): AdminApiRouteHandlers {
  const { services } = options;
  // Generated on the first request, then kept: the routes do not change while the function runs.
  let document: string | undefined;
  return {
    ...emailConfigHandlers(services.emailConfig, services.log),
    ...catalogHandlers(services.deliveries),
    ...oauthHandlers({ authorization: services.oauthAuthorization }),
    ...adminPageHandlers(options.adminPage),
    openApiDocument: async () => {
      document ??= JSON.stringify(
        buildOpenApiDocument({ runtime: 'lambda', ...options.openApi, routes: served() }),
      );
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
        body: document,
      };
    },
  };
}

/** The admin API function: the same factory in Lambda and in the embedded runtime. */
export function createAdminApiHandler(options: AdminApiOptions): HttpApiHandler {
  const routes: RouteSpec[] = [];
  routes.push(
    ...bindRoutes(
      ADMIN_API_ROUTES,
      adminApiHandlers(options, () => routes),
      ADMIN_API_ROUTE_DOCS,
    ),
    ...(options.localRoutes ?? []),
  );
  return createHttpApi({ routes, authenticator: options.authenticator, log: options.services.log });
}
