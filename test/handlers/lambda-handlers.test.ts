// The three Lambda entries as deployed: each `functions/*/handler.ts` is imported with a stubbed
// environment, so its AWS composition (awsAdapters -> buildServices -> handler factory) runs
// before any deploy. DynamoDB and SES are real protocol peers on loopback (dynalite,
// aws-ses-v2-local), reached through the SDK's AWS_ENDPOINT_URL_<SERVICE> variables; SSM has no
// emulator and is mocked at the client level.

import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { CONDITION_IDS } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { configParameterName } from '../../functions/adapters/aws/resource-names.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import type { HttpApiHandler } from '../../functions/shared/http-api.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { type ApiRequest, invoke } from '../support/api-gateway.js';
import { storedConfig } from '../support/config-fixtures.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { type SesLocal, startSesLocal } from '../support/ses-local.js';

const PREFIX = '/appliance-notifier/clusters';
const CLUSTER = 'handlers';
const CLAIMS = { sub: 'admin-1', email: 'admin@example.com' };

const ssm = mockClient(SSMClient);
const parameters = new Map<string, string>();

let dynalite: Dynalite;
let ses: SesLocal;
let adminApi: HttpApiHandler;
let notify: (event: unknown, context: unknown) => Promise<{ outcome: string }>;
let dailyNotice: (event: unknown, context: unknown) => Promise<{ results: { outcome: string }[] }>;

const sesConfig = EmailConfigSchema.parse({
  sender: 'appliance@example.com',
  transport: 'ses',
  adminContacts: 'ops@example.com',
});

beforeAll(async () => {
  [dynalite, ses] = await Promise.all([startDynalite(), startSesLocal()]);
  ssm.on(GetParameterCommand).callsFake(({ Name }: { Name: string }) => {
    const value = parameters.get(Name);
    if (value === undefined) throw new ParameterNotFound({ message: `${Name} not found`, $metadata: {} });
    return { Parameter: { Name, Value: value, Version: 1 } };
  });
  ssm.on(PutParameterCommand).callsFake(({ Name, Value }: { Name: string; Value: string }) => {
    parameters.set(Name, Value);
    return { Version: 1 };
  });
  ssm.on(GetParametersByPathCommand).callsFake(() => ({
    Parameters: [...parameters].map(([Name, Value]) => ({ Name, Value })),
  }));
  parameters.set(configParameterName(PREFIX, CLUSTER), JSON.stringify(storedConfig(CLUSTER, sesConfig)));

  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.clientConfig.endpoint as string,
    AWS_ENDPOINT_URL_SES: ses.endpoint,
    CONFIG_PARAMETER_PREFIX: PREFIX,
    CONFIG_KMS_KEY_ID: 'alias/appliance-notifier',
    CONFIG_CACHE_TTL_SECONDS: '0',
    LEDGER_TABLE_NAME: dynalite.tableName,
    EVENT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/appliance-notifier-events',
    PUBLIC_BASE_URL: 'https://api.example.com',
    ADMIN_PAGE_CLIENT_ID: 'page-client',
    ADMIN_PAGE_ISSUER: 'https://issuer.example.com',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler: adminApi } = await import('../../functions/admin-api/handler.js'));
  ({ handler: notify } = (await import('../../functions/notify/handler.js')) as unknown as {
    handler: typeof notify;
  });
  ({ handler: dailyNotice } = (await import('../../functions/daily-notice/handler.js')) as unknown as {
    handler: typeof dailyNotice;
  });
});

afterAll(async () => {
  ssm.restore();
  await Promise.all([dynalite?.close(), ses?.close()]);
});

/** A request for a table entry: the path with `{clusterId}` filled in, and a body where one is read. */
function requestFor(entry: { method: string; path: string }): ApiRequest {
  return {
    method: entry.method,
    path: entry.path.replace('{clusterId}', CLUSTER),
    ...(entry.method === 'PUT' ? { body: sesConfig } : {}),
  };
}

describe('admin API handler (functions/admin-api/handler.ts)', () => {
  it.each(Object.entries(ADMIN_API_ROUTES))('serves route table entry %s', async (_id, entry) => {
    const response = await invoke(adminApi, { ...requestFor(entry), claims: CLAIMS });

    expect(response.body.error ?? '').not.toMatch(/^No route for/);
    expect(response.status).not.toBe(404);
    expect(response.status).toBeLessThan(500);
  });

  it.each(Object.entries(ADMIN_API_ROUTES).filter(([, entry]) => entry.access === 'admin'))(
    'answers 401 without a token on admin route %s',
    async (_id, entry) => {
      const response = await invoke(adminApi, requestFor(entry));

      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    },
  );

  it('reads and writes the configuration through SSM', async () => {
    const response = await invoke(adminApi, {
      method: 'GET',
      path: `/clusters/${CLUSTER}/email-config`,
      claims: CLAIMS,
    });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ clusterId: CLUSTER, transport: 'ses' });
  });
});

describe('notify handler (functions/notify/handler.ts)', () => {
  it('sends a sample event through SES and records it in DynamoDB', async () => {
    await ses.clear();
    const event = loadSample(CONDITION_IDS[0] as (typeof CONDITION_IDS)[number]);
    const envelope = { ...event, id: 'handler-test-1', detail: { ...event.detail, clusterId: CLUSTER } };

    const result = await notify(envelope, localContext('notify'));
    const deliveries = await invoke(adminApi, {
      method: 'GET',
      path: `/clusters/${CLUSTER}/deliveries`,
      claims: CLAIMS,
    });

    expect(result.outcome).toBe('sent');
    expect((await ses.emails()).map((email) => email.destination.to)).toEqual([['ops@example.com']]);
    expect(deliveries.body.items).toContainEqual(expect.objectContaining({ eventId: 'handler-test-1' }));
  });
});

describe('daily-notice handler (functions/daily-notice/handler.ts)', () => {
  it('sends every cluster its notice through SES', async () => {
    await ses.clear();

    const run = await dailyNotice({}, localContext('daily-notice'));

    expect(run.results).toContainEqual(expect.objectContaining({ clusterId: CLUSTER, outcome: 'sent' }));
    expect(await ses.emails()).toHaveLength(1);
  });
});
