import type { Logger } from '@aws-lambda-powertools/logger';
import { EmailConfigInputSchema } from '../core/config/email-config.js';
import type { EmailConfigService } from '../core/config/email-config-service.js';
import { toPublicConfig } from '../core/config/public-config.js';
import { ValidationError } from '../kernel/field-issues.js';
import type { Authenticator } from '../shared/auth.js';
import { jsonResponse, queryFlag, readJsonBody } from '../shared/http.js';
import { clusterIdOf, createHttpApi, type HttpApiHandler, type RouteSpec } from '../shared/http-api.js';

export interface AdminApiDeps {
  service: EmailConfigService;
  authenticator: Authenticator;
  log: Logger;
  /** More routes served by the same function (delivery log, OAuth, catalog). */
  extraRoutes?: RouteSpec[];
}

const CONFIG_PATH = '/clusters/{clusterId}/email-config';

export function emailConfigRoutes(service: EmailConfigService, log: Logger): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: CONFIG_PATH,
      handler: async (event) => jsonResponse(200, toPublicConfig(await service.get(clusterIdOf(event)))),
    },
    {
      method: 'PUT',
      path: CONFIG_PATH,
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
      path: `${CONFIG_PATH}/test`,
      handler: async (event) => jsonResponse(200, await service.sendTestEmail(clusterIdOf(event))),
    },
  ];
}

export function createAdminApiHandler(deps: AdminApiDeps): HttpApiHandler {
  return createHttpApi({
    routes: [...emailConfigRoutes(deps.service, deps.log), ...(deps.extraRoutes ?? [])],
    authenticator: deps.authenticator,
    log: deps.log,
  });
}
