// Lambda entry of the admin API.
import '../shared/zod-jitless.js';
import { awsAdapters } from '../adapters/aws/aws-adapters.js';
import { buildServices } from '../composition.js';
import { jwtAuthorizerAuthenticator } from '../shared/auth.js';
import { parseEnv } from '../shared/env.js';
import { serviceSettingsOf } from '../shared/service-env.js';
import { adminPageAssets } from './admin-page-assets.js';
import { createAdminApiHandler } from './app.js';
import { AdminApiEnvSchema, adminPageOptionsOf } from './env.js';

const env = parseEnv(AdminApiEnvSchema, process.env, 'admin-api');
const services = buildServices(awsAdapters(env), serviceSettingsOf(env));
const adminPage = adminPageOptionsOf(env);

export const handler = createAdminApiHandler({
  services,
  authenticator: jwtAuthorizerAuthenticator,
  // The page as esbuild built it into this bundle (lib/bundling.ts).
  ...(adminPage ? { adminPage: { ...adminPage, assets: adminPageAssets } } : {}),
});
