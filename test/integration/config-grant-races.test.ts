// The configuration and the OAuth2 grant are written by different writers: an admin's save (the
// admin API) and the token refresh (every function that sends). These tests interleave the two
// on the real stores of each deployment (SQLite; SSM with the SDK client answered from a map,
// as no SSM emulator exists, and DynamoDB on dynalite) and check that neither write undoes the
// other, and that a document of the old layout (grant inside the configuration) keeps working.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbGrantStore } from '../../functions/adapters/aws/dynamodb-grant-store.js';
import { configParameterName } from '../../functions/adapters/aws/resource-names.js';
import { SsmConfigStore } from '../../functions/adapters/aws/ssm-config-store.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import { type OAuthGrant, oauthBindingOf } from '../../functions/core/config/stored-config.js';
import type { MailerFactory } from '../../functions/core/mail/mailer.js';
import type { GrantStore } from '../../functions/core/oauth/grant-store.js';
import { oauthAuthOf } from '../../functions/core/oauth/oauth-authorization.js';
import type { RefreshRequest, TokenClient, TokenSet } from '../../functions/core/oauth/oauth-ports.js';
import { OAuthTokenProvider } from '../../functions/core/oauth/oauth-token-provider.js';
import { createLogger } from '../../functions/shared/logger.js';
import { microsoftOAuthSmtp } from '../support/config-fixtures.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { memoryConfigHistory } from '../support/memory-config-history.js';
import { answerFromParameterMap, testSsmClient } from '../support/ssm-parameters.js';

const CLUSTER = 'eu-prod-1';
const log = createLogger({ logLevel: 'SILENT' });
const clock = () => new Date('2026-12-01T12:00:00.000Z');
const noMailers: MailerFactory = {
  forConfig: () => Promise.reject(new Error('no mail is sent in these tests')),
};

function input(sender: string) {
  return EmailConfigInputSchema.parse({
    sender,
    smtp: microsoftOAuthSmtp({ clientSecret: 'client-secret-value' }),
    adminContacts: 'ops@example.com',
  });
}

function grantFor(refreshToken: string): OAuthGrant {
  const auth = oauthAuthOf(input('alerts@example.com'));
  if (!auth) throw new Error('fixture is not oauth2');
  return {
    status: 'authorized',
    refreshToken,
    authorizedAt: '2026-11-28T18:00:00.000Z',
    authorizedAs: 'alerts@example.com',
    binding: oauthBindingOf(auth),
  };
}

/** A token endpoint whose answer the test releases, rotating the refresh token like Microsoft. */
function heldTokenEndpoint() {
  let release: (tokens: TokenSet) => void = () => undefined;
  const requests: RefreshRequest[] = [];
  let entered: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const client: TokenClient = {
    exchangeCode: () => Promise.reject(new Error('not used')),
    clientCredentials: () => Promise.reject(new Error('not used')),
    jwtBearer: () => Promise.reject(new Error('not used')),
    refresh: (request) => {
      requests.push(request);
      entered();
      return new Promise<TokenSet>((resolve) => {
        release = resolve;
      });
    },
  };
  return { client, requests, reached, release: (tokens: TokenSet) => release(tokens) };
}

/** Two processes (the admin API and a sending function) on one deployment's storage. */
interface Deployment {
  /** A process's view: its own store instances, as another Lambda or runtime has. */
  process(): { store: ConfigStore; grants: GrantStore };
  /** The stored configuration text, as the parameter or row holds it. */
  rawConfig(): Promise<string | undefined>;
  writeRawConfig(text: string): Promise<void>;
  close(): Promise<void>;
}

let dynalite: Dynalite;
const ssm = mockClient(SSMClient);

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  ssm.restore();
  await dynalite?.close();
});

async function localDeployment(): Promise<Deployment> {
  const directory = await mkdtemp(join(tmpdir(), 'grant-races-'));
  const databases: SqliteDatabase[] = [];
  const open = async () => {
    const database = await SqliteDatabase.open({ directory });
    databases.push(database);
    return database;
  };
  const first = await open();
  const second = await open();
  let which = 0;
  return {
    process: () => {
      const database = which++ % 2 ? second : first;
      return { store: new SqliteConfigStore(database), grants: new SqliteGrantStore(database) };
    },
    rawConfig: async () =>
      first.connection
        .prepare<[string], { document: string }>('SELECT document FROM email_config WHERE cluster_id = ?')
        .get(CLUSTER)?.document,
    writeRawConfig: async (text) => {
      first.connection
        .prepare('INSERT INTO email_config (cluster_id, document) VALUES (?, ?)')
        .run(CLUSTER, text);
    },
    close: async () => {
      for (const database of databases) database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const PREFIX = '/appliance-notifier/clusters';

async function awsDeployment(): Promise<Deployment> {
  const parameters = answerFromParameterMap(ssm);
  const tableName = await dynalite.createTable();
  const name = configParameterName(PREFIX, CLUSTER);
  return {
    process: () => ({
      store: new SsmConfigStore({
        client: testSsmClient(),
        parameterPrefix: PREFIX,
        // As deployed: each function caches what it read for a while.
        cacheTtlMs: 30_000,
      }),
      grants: new DynamoDbGrantStore({ client: dynalite.client, tableName }),
    }),
    rawConfig: async () => parameters.get(name),
    writeRawConfig: async (text) => {
      parameters.set(name, text);
    },
    close: async () => {
      ssm.reset();
    },
  };
}

const deployments: Array<[string, () => Promise<Deployment>]> = [
  ['embedded runtime (SQLite)', localDeployment],
  ['AWS (SSM + DynamoDB)', awsDeployment],
];

describe.each(deployments)('configuration and OAuth2 grant: %s', (_name, makeDeployment) => {
  let deployment: Deployment;

  afterEach(async () => {
    await deployment?.close();
  });

  function adminApi() {
    const { store, grants } = deployment.process();
    return {
      store,
      grants,
      service: new EmailConfigService({
        store,
        grants,
        history: memoryConfigHistory(),
        mailers: noMailers,
        clock,
        log,
      }),
    };
  }

  function sender(tokens: TokenClient) {
    const { store, grants } = deployment.process();
    return new OAuthTokenProvider({ store, grants, tokens, clock, log });
  }

  it('a save while a refresh is under way keeps both the save and the rotated refresh token', async () => {
    // Prepare
    deployment = await makeDeployment();
    const admin = adminApi();
    await admin.service.save(CLUSTER, input('before@example.com'));
    await admin.grants.put(CLUSTER, grantFor('rt-1'), undefined);
    const endpoint = heldTokenEndpoint();
    const notify = sender(endpoint.client);

    // Act: the refresh has read the grant and waits for the provider; the admin saves meanwhile.
    const refreshing = notify.accessTokenFor(CLUSTER);
    await endpoint.reached;
    await admin.service.save(CLUSTER, input('after@example.com'));
    endpoint.release({ accessToken: 'at-2', expiresIn: 3600, refreshToken: 'rt-2' });
    await refreshing;

    // Assess
    const fresh = adminApi();
    const seen = await fresh.service.get(CLUSTER);
    expect(endpoint.requests.map((r) => r.refreshToken)).toEqual(['rt-1']);
    expect(seen.config.sender).toBe('after@example.com');
    expect(seen.oauth?.refreshToken).toBe('rt-2');
    expect(await deployment.rawConfig()).not.toContain('rt-');
  });

  it("a refresh that rotates the token between a save's read and its write keeps the rotated token", async () => {
    // Prepare
    deployment = await makeDeployment();
    const setup = adminApi();
    await setup.service.save(CLUSTER, input('before@example.com'));
    await setup.grants.put(CLUSTER, grantFor('rt-1'), undefined);
    const { store, grants } = deployment.process();
    let letSaveWrite: () => void = () => undefined;
    let saveRead: () => void = () => undefined;
    const saveHasRead = new Promise<void>((resolve) => {
      saveRead = resolve;
    });
    // The admin API's store, held between the save's reads and its write.
    const heldStore: ConfigStore = {
      get: (id) => store.get(id),
      listClusterIds: () => store.listClusterIds(),
      delete: (id) => store.delete(id),
      put: async (document) => {
        saveRead();
        await new Promise<void>((resolve) => {
          letSaveWrite = resolve;
        });
        await store.put(document);
      },
    };
    const service = new EmailConfigService({
      store: heldStore,
      grants,
      history: memoryConfigHistory(),
      mailers: noMailers,
      clock,
      log,
    });
    const endpoint = heldTokenEndpoint();
    const notify = sender(endpoint.client);

    // Act
    const saving = service.save(CLUSTER, input('after@example.com'));
    await saveHasRead;
    const refreshing = notify.accessTokenFor(CLUSTER);
    await endpoint.reached;
    endpoint.release({ accessToken: 'at-2', expiresIn: 3600, refreshToken: 'rt-2' });
    await refreshing;
    letSaveWrite();
    await saving;

    // Assess
    const seen = await adminApi().service.get(CLUSTER);
    expect(seen.config.sender).toBe('after@example.com');
    expect(seen.oauth?.refreshToken).toBe('rt-2');
  });

  it('two processes that rotate the token at once: the first write lands, the second keeps it', async () => {
    // Prepare
    deployment = await makeDeployment();
    const admin = adminApi();
    await admin.service.save(CLUSTER, input('alerts@example.com'));
    await admin.grants.put(CLUSTER, grantFor('rt-1'), undefined);
    const first = heldTokenEndpoint();
    const second = heldTokenEndpoint();
    const notify = sender(first.client);
    const dailyNotice = sender(second.client);

    // Act: both read version 1 and refresh with rt-1; the first answer is stored first.
    const one = notify.accessTokenFor(CLUSTER);
    const two = dailyNotice.accessTokenFor(CLUSTER);
    await Promise.all([first.reached, second.reached]);
    first.release({ accessToken: 'at-a', expiresIn: 3600, refreshToken: 'rt-a' });
    await one;
    second.release({ accessToken: 'at-b', expiresIn: 3600, refreshToken: 'rt-b' });
    await two;

    // Assess
    expect([...first.requests, ...second.requests].map((r) => r.refreshToken)).toEqual(['rt-1', 'rt-1']);
    const stored = await admin.grants.get(CLUSTER);
    expect(stored?.grant.refreshToken).toBe('rt-a');
    expect(stored?.version).toBe(2);
  });

  it('a refresh that does not rotate the token writes no grant', async () => {
    // Prepare
    deployment = await makeDeployment();
    const admin = adminApi();
    await admin.service.save(CLUSTER, input('alerts@example.com'));
    const version = await admin.grants.put(CLUSTER, grantFor('rt-1'), undefined);
    const endpoint = heldTokenEndpoint();
    const notify = sender(endpoint.client);

    // Act
    const refreshing = notify.accessTokenFor(CLUSTER);
    await endpoint.reached;
    endpoint.release({ accessToken: 'at-2', expiresIn: 3600 });
    const token = await refreshing;

    // Assess
    expect(token.accessToken).toBe('at-2');
    expect(await admin.grants.get(CLUSTER)).toEqual({ grant: grantFor('rt-1'), version });
  });

  it('moves the grant out of a document of the old layout: no new authorization, and the next save drops the copy', async () => {
    // Prepare: what an older version stored, the grant inside the configuration document.
    deployment = await makeDeployment();
    await deployment.writeRawConfig(
      JSON.stringify({
        schemaVersion: 1,
        clusterId: CLUSTER,
        updatedAt: '2026-11-30T10:00:00.000Z',
        config: input('alerts@example.com'),
        oauth: grantFor('rt-legacy'),
      }),
    );
    const endpoint = heldTokenEndpoint();
    const notify = sender(endpoint.client);

    // Act: the first send after the upgrade refreshes with the old token and rotates it; then a save.
    const refreshing = notify.accessTokenFor(CLUSTER);
    await endpoint.reached;
    endpoint.release({ accessToken: 'at-2', expiresIn: 3600, refreshToken: 'rt-rotated' });
    await refreshing;
    const admin = adminApi();
    const beforeSave = await admin.service.get(CLUSTER);
    await admin.service.save(CLUSTER, input('new-sender@example.com'));

    // Assess
    expect(endpoint.requests.map((r) => r.refreshToken)).toEqual(['rt-legacy']);
    expect(beforeSave.oauth?.refreshToken).toBe('rt-rotated');
    expect((await admin.grants.get(CLUSTER))?.grant.refreshToken).toBe('rt-rotated');
    const raw = (await deployment.rawConfig()) ?? '';
    expect(JSON.parse(raw)).not.toHaveProperty('oauth');
    expect(JSON.parse(raw).config.sender).toBe('new-sender@example.com');
  });

  it('a save that moves to another app registration drops the grant; one that keeps it does not', async () => {
    // Prepare
    deployment = await makeDeployment();
    const admin = adminApi();
    await admin.service.save(CLUSTER, input('alerts@example.com'));
    await admin.grants.put(CLUSTER, grantFor('rt-1'), undefined);

    // Act
    const kept = await admin.service.save(CLUSTER, input('other@example.com'));
    const otherClient = EmailConfigInputSchema.parse({
      ...input('other@example.com'),
      smtp: {
        ...input('other@example.com').smtp,
        auth: {
          type: 'oauth2',
          provider: 'microsoft',
          tenant: 'contoso.onmicrosoft.com',
          clientId: 'other-app',
          clientSecret: 'x',
        },
      },
    });
    const switched = await admin.service.save(CLUSTER, otherClient);

    // Assess
    expect(kept.document.oauth?.refreshToken).toBe('rt-1');
    expect(switched.document.oauth).toBeUndefined();
    expect(await admin.grants.get(CLUSTER)).toBeUndefined();
  });
});
