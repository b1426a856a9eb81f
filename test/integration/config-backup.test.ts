// The AWS side of `npm run config -- export|import`: the configuration parameters under the
// prefix (SSMClient answered from a map by aws-sdk-client-mock, as no SSM emulator exists) and
// the grants in the table (dynalite), through the adapters the command uses.
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbGrantStore } from '../../functions/adapters/aws/dynamodb-grant-store.js';
import { configParameterName } from '../../functions/adapters/aws/resource-names.js';
import { SsmConfigStore } from '../../functions/adapters/aws/ssm-config-store.js';
import type { OAuthGrant } from '../../functions/core/config/stored-config.js';
import { type BackupTarget, exportConfigs, importConfigs } from '../../ops/config-backup.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { answerFromParameterMap, testSsmClient } from '../support/ssm-parameters.js';

const PREFIX = '/appliance-notifier/clusters';
const ssm = mockClient(SSMClient);
let dynalite: Dynalite;

const grant: OAuthGrant = {
  status: 'authorized',
  refreshToken: 'rt-exported',
  authorizedAt: '2026-12-01T10:00:00.000Z',
  binding: { provider: 'custom', clientId: 'c', tokenEndpoint: 'https://idp.example.com/token' },
};

/** One account's parameters: a map behind the mocked client, as SSM answers the store's calls. */
function parameterMap() {
  return answerFromParameterMap(ssm);
}

async function target(withGrants: boolean): Promise<BackupTarget> {
  const client = testSsmClient('eu-central-1');
  return {
    store: new SsmConfigStore({ client, parameterPrefix: PREFIX, cacheTtlMs: 0 }),
    ...(withGrants
      ? {
          grants: new DynamoDbGrantStore({
            client: dynalite.client,
            tableName: await dynalite.createTable(),
          }),
        }
      : {}),
    description: `ssm:${PREFIX}`,
  };
}

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  ssm.restore();
  await dynalite?.close();
});

beforeEach(() => {
  ssm.reset();
});

describe('config backup over SSM and the grant table', () => {
  it('exports every cluster under the prefix with its grant, and imports them into an empty account', async () => {
    // Prepare
    const parameters = parameterMap();
    const source = await target(true);
    await source.store.put(storedConfig('a-eu', passwordConfig({ password: 'pw-a' })));
    await source.store.put(storedConfig('b-eu', passwordConfig({ password: 'pw-b' })));
    await source.grants?.put('b-eu', grant, undefined);
    // Not a configuration: the listing skips it.
    parameters.set(`${PREFIX}/b-eu/something-else`, 'x');
    const backup = await exportConfigs(source);
    const exportedParameters = new Map(parameters);

    // Act
    parameters.clear();
    const restored = await target(true);
    const writesBefore = ssm.commandCalls(PutParameterCommand).length;
    const dryRun = await importConfigs(restored, JSON.stringify(backup), { dryRun: true });
    const writesOfDryRun = ssm.commandCalls(PutParameterCommand).length - writesBefore;
    const grantAfterDryRun = await restored.grants?.get('b-eu');
    const summary = await importConfigs(restored, JSON.stringify(backup));

    // Assess
    expect(backup.clusters.map((c) => c.clusterId)).toEqual(['a-eu', 'b-eu']);
    expect(dryRun.results.map((r) => r.action)).toEqual(['would create', 'would create']);
    expect(writesOfDryRun).toBe(0);
    expect(grantAfterDryRun).toBeUndefined();
    expect(summary).toEqual({
      ok: true,
      results: [
        { clusterId: 'a-eu', action: 'created' },
        { clusterId: 'b-eu', action: 'created', detail: 'with its OAuth2 grant' },
      ],
    });
    for (const id of ['a-eu', 'b-eu']) {
      const name = configParameterName(PREFIX, id);
      expect(parameters.get(name)).toBe(exportedParameters.get(name));
    }
    expect((await restored.grants?.get('b-eu'))?.grant).toEqual(grant);
    expect(await restored.grants?.get('a-eu')).toBeUndefined();
  });

  it('reports per cluster and fails a grant it has nowhere to put, an invalid document and a foreign one', async () => {
    // Prepare
    parameterMap();
    const source = await target(true);
    await source.store.put(storedConfig('a-eu', passwordConfig({ password: 'pw-a' })));
    await source.store.put(storedConfig('b-eu', passwordConfig({ password: 'pw-b' })));
    await source.grants?.put('b-eu', grant, undefined);
    const backup = await exportConfigs(source);
    const text = JSON.stringify({
      ...backup,
      clusters: [
        ...backup.clusters,
        { ...backup.clusters[0], clusterId: 'c-eu' },
        { clusterId: 'd-eu', document: { schemaVersion: 1, clusterId: 'd-eu' } },
      ],
    });
    const withoutGrants = await target(false);

    // Act
    const summary = await importConfigs(withoutGrants, text);

    // Assess
    expect(summary.ok).toBe(false);
    expect(summary.results.map((r) => [r.clusterId, r.action])).toEqual([
      ['a-eu', 'replaced'],
      ['b-eu', 'invalid'],
      ['c-eu', 'invalid'],
      ['d-eu', 'invalid'],
    ]);
    expect(summary.results[1]?.detail).toContain('--table');
    expect(summary.results[2]?.detail).toBe('the document belongs to cluster "a-eu"');
    expect(summary.results[3]?.detail).toContain('document.updatedAt');
  });

  it('refuses a file that is not a backup', async () => {
    parameterMap();
    const restored = await target(false);

    await expect(importConfigs(restored, '{"clusters": []}')).rejects.toThrow('not a backup');
    await expect(importConfigs(restored, 'password=x')).rejects.toThrow('not valid JSON');
  });
});
