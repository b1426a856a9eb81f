import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Services } from '../composition.js';
import { InMemoryAuditLog, LoggedAuditLog } from '../core/audit/audit-log.js';
import { ConfigPreconditionFailedError } from '../core/config/config-precondition.js';
import { type EmailConfig, EmailConfigInputSchema } from '../core/config/email-config.js';
import type { EmailConfigService } from '../core/config/email-config-service.js';
import { toPublicConfig } from '../core/config/public-config.js';
import type { EventReplayer } from '../core/notify/event-replayer.js';
import { ValidationError } from '../kernel/field-issues.js';
import type { Authenticator, Principal } from '../shared/auth.js';
import { mayAdminister } from '../shared/cluster-access.js';
import { HttpError, type HttpResponse, jsonResponse, queryFlag, readJsonBody } from '../shared/http.js';
import {
  bindRoutes,
  clusterIdParam,
  createHttpApi,
  type HttpApiHandler,
  type RouteHandlers,
  type RouteSpec,
} from '../shared/http-api.js';
import { type AdminPageOptions, adminPageHandlers } from './admin-page-routes.js';
import { auditedHandlers, auditHandlers } from './audit-routes.js';
import { catalogHandlers } from './catalog-routes.js';
import { configEtag, ifMatchHeader, ifMatchPrecondition, preconditionFailedBody } from './config-etag.js';
import { oauthHandlers } from './oauth-routes.js';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi-document.js';
import { ADMIN_API_ROUTE_DOCS } from './route-docs.js';
import { ADMIN_API_ROUTES } from './route-table.js';

export type AdminApiRouteHandlers = RouteHandlers<typeof ADMIN_API_ROUTES>;

export interface AdminApiOptions {
  services: Pick<Services, 'log' | 'emailConfig' | 'fleet' | 'deliveries' | 'oauthAuthorization'> &
    Partial<Pick<Services, 'audit'>>;
  authenticator: Authenticator;
  /**
   * Replays a failed event (`POST .../deliveries/{eventId}/replay`): SQS in AWS, the bus in the
   * embedded runtime. Without it that route answers 501.
   */
  replayer?: EventReplayer;
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

/** The request's configuration body, validated like PUT's; undefined when the body is empty. */
function optionalConfigBody(event: APIGatewayProxyEventV2): EmailConfig | undefined {
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
  if (raw === undefined || raw.trim() === '') return undefined;
  return configBody(event);
}

function configBody(event: APIGatewayProxyEventV2): EmailConfig {
  const parsed = EmailConfigInputSchema.safeParse(readJsonBody(event));
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid email configuration');
  return parsed.data;
}

/** The `{version}` path parameter: a whole number from 1. */
function versionParam(event: APIGatewayProxyEventV2): number {
  const raw = event.pathParameters?.version ?? '';
  const version = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(version)) {
    throw new HttpError(400, 'Invalid version', [
      { path: 'version', message: 'must be a whole number from 1' },
    ]);
  }
  return version;
}

const principalId = (principal: Principal | undefined) => principal?.id ?? 'unknown';

/** Runs a conditional write; a failed `If-Match` answers 412 with what is current instead. */
async function answerPreconditionFailed<T>(
  event: APIGatewayProxyEventV2,
  write: () => Promise<T>,
): Promise<T | HttpResponse> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof ConfigPreconditionFailedError)) throw error;
    const body = preconditionFailedBody(error, ifMatchHeader(event) ?? '');
    return jsonResponse(412, body, body.current ? { etag: body.current.etag } : {});
  }
}

export function emailConfigHandlers(
  service: EmailConfigService,
  log: Logger,
): Pick<
  AdminApiRouteHandlers,
  | 'getEmailConfig'
  | 'putEmailConfig'
  | 'deleteEmailConfig'
  | 'sendTestEmail'
  | 'listConfigVersions'
  | 'restoreConfigVersion'
> {
  return {
    getEmailConfig: async (event) => {
      const { document, version } = await service.current(clusterIdParam(event));
      const health = await service.credentialHealth(document);
      return jsonResponse(
        200,
        { ...toPublicConfig(document, health), version },
        { etag: configEtag(version) },
      );
    },
    putEmailConfig: async (event, principal) => {
      const clusterId = clusterIdParam(event);
      const withTest = queryFlag(event, 'sendTestEmail');
      const onlyIfDelivered = queryFlag(event, 'saveOnlyIfDelivered');
      if (onlyIfDelivered && !withTest) {
        throw new HttpError(400, 'Invalid query parameter', [
          {
            path: 'saveOnlyIfDelivered',
            message: 'needs sendTestEmail=true: only a test email can show delivery',
          },
        ]);
      }
      const ifMatch = ifMatchPrecondition(event);
      const input = configBody(event);
      const savedBy = principalId(principal);
      const conditional = ifMatch ? { ifMatch } : {};
      const result = await answerPreconditionFailed(event, () =>
        onlyIfDelivered
          ? service.saveIfDelivered(clusterId, input, { savedBy, ...conditional })
          : service.save(clusterId, input, { savedBy, sendTestEmail: withTest, ...conditional }),
      );
      if ('statusCode' in result) return result;
      if (!result.saved) {
        log.info('PUT email-config not saved: the test email was not delivered', {
          clusterId,
          stage: result.testEmail.stage,
        });
        return jsonResponse(422, {
          error: 'The test email was not delivered, so the configuration was not saved',
          testEmail: result.testEmail,
        });
      }
      const { document, created, version, testEmail } = result;
      log.info('PUT email-config', { clusterId, created, version, testEmailOk: testEmail?.ok });
      return jsonResponse(
        created ? 201 : 200,
        {
          config: toPublicConfig(document, await service.credentialHealth(document)),
          version,
          ...(testEmail ? { testEmail } : {}),
        },
        { etag: configEtag(version) },
      );
    },
    deleteEmailConfig: async (event, principal) => {
      const clusterId = clusterIdParam(event);
      const ifMatch = ifMatchPrecondition(event);
      const failed = await answerPreconditionFailed(event, () =>
        service.delete(clusterId, principalId(principal), ifMatch ? { ifMatch } : {}),
      );
      if (failed) return failed;
      return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
    },
    sendTestEmail: async (event) => {
      const clusterId = clusterIdParam(event);
      return jsonResponse(200, await service.test(clusterId, optionalConfigBody(event)));
    },
    listConfigVersions: async (event) => jsonResponse(200, await service.versions(clusterIdParam(event))),
    restoreConfigVersion: async (event, principal) => {
      const clusterId = clusterIdParam(event);
      const restoredFrom = versionParam(event);
      const ifMatch = ifMatchPrecondition(event);
      const result = await answerPreconditionFailed(event, () =>
        service.restore(clusterId, restoredFrom, principalId(principal), ifMatch ? { ifMatch } : {}),
      );
      if ('statusCode' in result) return result;
      const { document, version } = result;
      return jsonResponse(
        200,
        { config: toPublicConfig(document, await service.credentialHealth(document)), version, restoredFrom },
        { etag: configEtag(version) },
      );
    },
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
  // buildServices always gives one; a test's hand-made services get a trail in memory (logged).
  const audit = services.audit ?? new LoggedAuditLog(new InMemoryAuditLog(), services.log);
  // Generated on the first request, then kept: the routes do not change while the function runs.
  let document: string | undefined;
  const handlers: AdminApiRouteHandlers = {
    ...emailConfigHandlers(services.emailConfig, services.log),
    // Only the clusters the caller may administer (none for a user without a cluster group).
    listClusters: async (_event, principal) =>
      jsonResponse(200, await services.fleet.overview((clusterId) => mayAdminister(principal, clusterId))),
    ...catalogHandlers(services.deliveries, options.replayer),
    ...auditHandlers(audit),
    ...oauthHandlers({ authorization: services.oauthAuthorization, audit }),
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
  // Every change recorded in the audit trail, with who made it (audit-routes.ts).
  return auditedHandlers(handlers, audit);
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
