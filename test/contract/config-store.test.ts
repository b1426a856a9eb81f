// The ConfigStore contract, run against every adapter: what the services may rely on whichever
// store a deployment uses. Each adapter gets its own storage per test; `reopen` is a restart (a
// new process or a cold Lambda) on the same storage, `writeRaw` a document that did not come
// through `put` (a hand edit, an import, a bug).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { configParameterName } from '../../functions/adapters/aws/resource-names.js';
import { SsmConfigStore } from '../../functions/adapters/aws/ssm-config-store.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import {
  type ConfigStore,
  ConfigTooLargeError,
  storedForm,
} from '../../functions/core/config/config-store.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { answerFromParameterMap, testSsmClient } from '../support/ssm-parameters.js';

const SECRET = 'contract-relay-secret-7f3a';

interface Harness {
  store: ConfigStore;
  reopen(): Promise<ConfigStore>;
  writeRaw(clusterId: string, text: string): Promise<void>;
  close(): Promise<void>;
}

async function sqliteHarness(): Promise<Harness> {
  const directory = await mkdtemp(join(tmpdir(), 'config-contract-'));
  const databases = [await SqliteDatabase.open({ directory })];
  const first = databases[0] as SqliteDatabase;
  return {
    store: new SqliteConfigStore(first),
    async reopen() {
      const database = await SqliteDatabase.open({ directory });
      databases.push(database);
      return new SqliteConfigStore(database);
    },
    async writeRaw(clusterId, text) {
      first.connection
        .prepare(
          'INSERT INTO email_config (cluster_id, document) VALUES (?, ?) ON CONFLICT DO UPDATE SET document = excluded.document',
        )
        .run(clusterId, text);
    },
    async close() {
      for (const database of databases) database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

// No SSM emulator exists on npm: aws-sdk-client-mock answers the store's calls from a map
// (test/support/ssm-parameters.ts).
const ssm = mockClient(SSMClient);
const PREFIX = '/appliance-notifier/clusters';

async function ssmHarness(): Promise<Harness> {
  const parameters = answerFromParameterMap(ssm);
  const make = () =>
    new SsmConfigStore({
      client: testSsmClient(),
      parameterPrefix: PREFIX,
    });
  return {
    store: make(),
    reopen: async () => make(),
    writeRaw: async (clusterId, text) => {
      parameters.set(configParameterName(PREFIX, clusterId), text);
    },
    close: async () => {
      ssm.reset();
    },
  };
}

const adapters: Array<[string, () => Promise<Harness>]> = [
  ['SqliteConfigStore', sqliteHarness],
  ['SsmConfigStore', ssmHarness],
];

function document(clusterId: string, n = 0): StoredEmailConfig {
  return {
    ...storedConfig(clusterId, passwordConfig({ password: SECRET, sender: `appliance-${n}@example.com` })),
    updatedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
  };
}

describe.each(adapters)('ConfigStore contract: %s', (_name, makeHarness) => {
  let harness: Harness;

  afterEach(async () => {
    await harness?.close();
  });

  it('returns what it stored, also after a restart', async () => {
    // Prepare
    harness = await makeHarness();
    const stored = document('prod-eu');

    // Act
    await harness.store.put(stored);
    const same = await harness.store.get('prod-eu');
    const afterRestart = await (await harness.reopen()).get('prod-eu');

    // Assess
    expect(same).toEqual(stored);
    expect(afterRestart).toEqual(stored);
  });

  it('knows no cluster before its first save, and lists none', async () => {
    // Prepare
    harness = await makeHarness();

    // Act
    const result = await harness.store.get('unconfigured');
    const ids = await harness.store.listClusterIds();

    // Assess
    expect(result).toBeUndefined();
    expect(ids).toEqual([]);
  });

  it('replaces the document on the next save', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.put(document('prod-eu', 1));

    // Act
    await harness.store.put(document('prod-eu', 2));

    // Assess
    expect(await harness.store.get('prod-eu')).toEqual(document('prod-eu', 2));
    expect(await (await harness.reopen()).get('prod-eu')).toEqual(document('prod-eu', 2));
  });

  it('lists every configured cluster once, sorted', async () => {
    // Prepare
    harness = await makeHarness();

    // Act
    for (const id of ['beta', 'default', 'alpha', 'beta']) await harness.store.put(document(id));

    // Assess
    expect(await harness.store.listClusterIds()).toEqual(['alpha', 'beta', 'default']);
    expect(await (await harness.reopen()).listClusterIds()).toEqual(['alpha', 'beta', 'default']);
  });

  it('leaves one complete document of those saved at once', async () => {
    // Prepare
    harness = await makeHarness();
    const saves = Array.from({ length: 20 }, (_, n) => document('busy', n));

    // Act
    await Promise.all(saves.map((save) => harness.store.put(save)));

    // Assess
    expect(saves).toContainEqual(await (await harness.reopen()).get('busy'));
    expect(await harness.store.listClusterIds()).toEqual(['busy']);
  });

  it('refuses an invalid document and stores nothing', async () => {
    // Prepare
    harness = await makeHarness();
    const invalid = { ...document('prod-eu'), config: { ...document('prod-eu').config, adminContacts: [] } };

    // Act
    const put = harness.store.put(invalid);

    // Assess
    await expect(put).rejects.toMatchObject({ name: 'ValidationError' });
    expect(await (await harness.reopen()).get('prod-eu')).toBeUndefined();
    expect(await harness.store.listClusterIds()).toEqual([]);
  });

  it('refuses a cluster id outside the documented alphabet', async () => {
    // Prepare
    harness = await makeHarness();

    // Act
    const get = harness.store.get('../../etc/passwd');

    // Assess
    await expect(get).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('names the cluster and the fields of a stored document that is invalid, never the secret', async () => {
    // Prepare
    harness = await makeHarness();
    const corrupt = JSON.parse(JSON.stringify(document('prod-eu')));
    corrupt.config.adminContacts = [];
    corrupt.config.smtp.port = 'not-a-port';
    await harness.writeRaw('prod-eu', JSON.stringify(corrupt));

    // Act
    const error = await (await harness.reopen()).get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('prod-eu');
    expect(message).toContain('config.adminContacts');
    expect(message).toContain('config.smtp.port');
    expect(message).not.toContain(SECRET);
  });

  it('names the cluster of a stored document that is not JSON, without quoting it', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.writeRaw('prod-eu', `{"password": "${SECRET}"`);

    // Act
    const error = await (await harness.reopen()).get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toContain('prod-eu');
    expect((error as Error).message).toMatch(/valid JSON/);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('does not let a caller change what the store gives the next caller', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.put(document('prod-eu'));
    const first = await harness.store.get('prod-eu');

    // Act
    try {
      first?.config.adminContacts.push('intruder@example.com');
    } catch {
      // A store may hand out frozen documents instead.
    }
    const second = await harness.store.get('prod-eu');

    // Assess
    expect(second).toEqual(document('prod-eu'));
  });

  it('refuses a document over 8,192 bytes with the figures, and keeps the stored one', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.put(document('prod-eu', 1));
    const tooLarge = {
      ...document('prod-eu', 2),
      config: passwordConfig({
        password: 'p'.repeat(4096),
        sender: 'appliance-2@example.com',
        adminContacts: Array.from({ length: 50 }, (_, n) => `${'a'.repeat(60)}${n}@example.com`),
      }),
    };

    // Act
    const attempt = harness.store.put(tooLarge);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConfigTooLargeError);
    await expect(attempt).rejects.toMatchObject({ limit: 8192, bytes: storedForm(tooLarge).bytes });
    expect(await (await harness.reopen()).get('prod-eu')).toEqual(document('prod-eu', 1));
  });

  it('never writes the OAuth2 grant into the configuration', async () => {
    // Prepare
    harness = await makeHarness();
    const withGrant: StoredEmailConfig = {
      ...document('prod-eu'),
      oauth: {
        status: 'authorized',
        refreshToken: 'refresh-token-of-the-grant',
        authorizedAt: '2026-12-01T12:00:00.000Z',
        binding: { provider: 'custom', clientId: 'c', tokenEndpoint: 'https://idp.example.com/token' },
      },
    };

    // Act
    await harness.store.put(withGrant);

    // Assess
    expect(await (await harness.reopen()).get('prod-eu')).toEqual(document('prod-eu'));
  });
});
