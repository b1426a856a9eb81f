// The OAuth routes composed with their adapters, for the admin API function and the embedded
// runtime (composition roots).
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbOAuthStateStore } from '../adapters/aws/oauth-dynamodb-state-store.js';
import { FileOAuthStateStore } from '../adapters/local/oauth-file-state-store.js';
import { LOCAL_PUBLIC_BASE_URL } from '../adapters/oauth-composition.js';
import { FetchTokenClient } from '../adapters/oauth-token-client.js';
import type { ConfigStore } from '../core/config/config-store.js';
import type { Clock, Log } from '../core/ports.js';
import type { RouteSpec } from '../shared/http-api.js';
import { createOAuthAuthorizationService, oauthRoutes } from './oauth-routes.js';

/** The admin API's OAuth routes in AWS: pending states in the ledger's DynamoDB table. */
export function awsOAuthRoutes(deps: {
  store: ConfigStore;
  tableName: string;
  publicBaseUrl: string;
  clock: Clock;
  log: Log;
}): RouteSpec[] {
  const authorization = createOAuthAuthorizationService({
    store: deps.store,
    // A client of its own: the document client wrapper writes settings onto the client's config.
    states: new DynamoDbOAuthStateStore({ client: new DynamoDBClient({}), tableName: deps.tableName }),
    tokens: new FetchTokenClient(),
    clock: deps.clock,
    log: deps.log,
    publicBaseUrl: deps.publicBaseUrl,
  });
  return oauthRoutes({ authorization });
}

/** The embedded runtime's OAuth routes: pending states as files under the data directory. */
export function localOAuthRoutes(deps: {
  store: ConfigStore;
  dataDir: string;
  publicBaseUrl?: string;
  clock: Clock;
  log: Log;
}): RouteSpec[] {
  const authorization = createOAuthAuthorizationService({
    store: deps.store,
    states: new FileOAuthStateStore({
      directory: resolve(deps.dataDir, 'oauth-state'),
      clock: () => deps.clock().getTime(),
    }),
    tokens: new FetchTokenClient(),
    clock: deps.clock,
    log: deps.log,
    publicBaseUrl: deps.publicBaseUrl ?? LOCAL_PUBLIC_BASE_URL,
  });
  return oauthRoutes({ authorization });
}
