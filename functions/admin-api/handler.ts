// Lambda entry of the admin API.
import '../shared/zod-jitless.js';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { awsAdapters, awsEventReplayer } from '../adapters/aws/aws-adapters.js';
import { buildServices } from '../composition.js';
import { jwtAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { serviceSettingsOf } from '../shared/service-env.js';
import { createTracer } from '../shared/tracer.js';
import { adminPageAssets } from './admin-page-assets.js';
import { createAdminApiHandler } from './app.js';
import { AdminApiEnvSchema, adminPageOptionsOf } from './env.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const tracer = createTracer({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const services = buildServices(awsAdapters(env, { tracer }), serviceSettingsOf(env));
const adminPage = adminPageOptionsOf(env);

const api = createAdminApiHandler({
  services,
  authenticator: jwtAuthenticator({ fleetAdminGroup: env.FLEET_ADMIN_GROUP }),
  replayer: awsEventReplayer(env, { tracer }),
  openApi: { runtime: 'lambda', serverUrl: env.PUBLIC_BASE_URL },
  // The page as esbuild built it into this bundle (lib/bundling.ts).
  ...(adminPage ? { adminPage: { ...adminPage, assets: adminPageAssets } } : {}),
});

// The handler's X-Ray segment around the whole API (routing, authentication, the route).
export const handler = middy(api).use(captureLambdaHandler(tracer, { captureResponse: false }));
