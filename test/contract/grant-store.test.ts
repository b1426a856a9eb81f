// The GrantStore contract, run against every adapter: versioned OAuth2 grants whose writes are
// conditional on the version read. `reopen` is another process (a second runtime, another
// Lambda execution environment) on the same storage.
import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDbGrantStore } from '../../functions/adapters/aws/dynamodb-grant-store.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { GrantConflictError, type GrantStore } from '../../functions/core/oauth/grant-store.js';
import { authorizedGrant } from '../support/config-fixtures.js';
import { contractAdapters, type Harness, useDynalite } from '../support/contract-harness.js';

const grant = authorizedGrant;

const adapters = contractAdapters<GrantStore>({
  dynalite: useDynalite(),
  directoryPrefix: 'grant-contract-',
  sqlite: ['SqliteGrantStore', (database) => new SqliteGrantStore(database)],
  dynamoDb: ['DynamoDbGrantStore', ({ client }, tableName) => new DynamoDbGrantStore({ client, tableName })],
});

describe.each(adapters)('GrantStore contract: %s', (_name, makeHarness) => {
  let harness: Harness<GrantStore>;

  afterEach(async () => {
    await harness?.close();
  });

  it('returns what it stored with its version, also to another process', async () => {
    // Prepare
    harness = await makeHarness();
    const first = grant('rt-1');

    // Act
    const version = await harness.store.put('eu-prod-1', first, undefined);
    const same = await harness.store.get('eu-prod-1');
    const elsewhere = await (await harness.reopen()).get('eu-prod-1');

    // Assess
    expect(same).toEqual({ grant: first, version });
    expect(elsewhere).toEqual({ grant: first, version });
    expect(await harness.store.get('other')).toBeUndefined();
  });

  it('creates a grant only where none is stored', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.put('eu-prod-1', grant('rt-1'), undefined);

    // Act
    const second = harness.store.put('eu-prod-1', grant('rt-2'), undefined);

    // Assess
    await expect(second).rejects.toBeInstanceOf(GrantConflictError);
    expect((await harness.store.get('eu-prod-1'))?.grant.refreshToken).toBe('rt-1');
  });

  it('writes over the version read and raises the version', async () => {
    // Prepare
    harness = await makeHarness();
    const v1 = await harness.store.put('eu-prod-1', grant('rt-1'), undefined);

    // Act
    const v2 = await harness.store.put('eu-prod-1', grant('rt-2'), v1);

    // Assess
    expect(v2).toBeGreaterThan(v1);
    expect(await harness.store.get('eu-prod-1')).toEqual({ grant: grant('rt-2'), version: v2 });
  });

  it('refuses a write over a version another writer replaced, and keeps theirs', async () => {
    // Prepare
    harness = await makeHarness();
    const other = await harness.reopen();
    const v1 = await harness.store.put('eu-prod-1', grant('rt-1'), undefined);
    await other.put('eu-prod-1', grant('rt-theirs'), v1);

    // Act
    const stale = harness.store.put('eu-prod-1', grant('rt-mine'), v1);

    // Assess
    await expect(stale).rejects.toBeInstanceOf(GrantConflictError);
    expect((await harness.store.get('eu-prod-1'))?.grant.refreshToken).toBe('rt-theirs');
  });

  it('lets exactly one of many concurrent writers of one version land', async () => {
    // Prepare
    harness = await makeHarness();
    const other = await harness.reopen();
    const v1 = await harness.store.put('eu-prod-1', grant('rt-1'), undefined);

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, n) =>
        (n % 2 ? other : harness.store).put('eu-prod-1', grant(`rt-${n}`), v1),
      ),
    );

    // Assess
    const landed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(landed).toHaveLength(1);
    expect(refused.every((r) => r.reason instanceof GrantConflictError)).toBe(true);
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    expect((await harness.store.get('eu-prod-1'))?.grant.refreshToken).toBe(`rt-${winner}`);
  });

  it('deletes only the version read', async () => {
    // Prepare
    harness = await makeHarness();
    const v1 = await harness.store.put('eu-prod-1', grant('rt-1'), undefined);
    const v2 = await harness.store.put('eu-prod-1', grant('rt-2'), v1);

    // Act
    const stale = harness.store.delete('eu-prod-1', v1);
    await expect(stale).rejects.toBeInstanceOf(GrantConflictError);
    const kept = await harness.store.get('eu-prod-1');
    await harness.store.delete('eu-prod-1', v2);

    // Assess
    expect(kept?.version).toBe(v2);
    expect(await harness.store.get('eu-prod-1')).toBeUndefined();
  });

  it('refuses an invalid grant and an invalid cluster id', async () => {
    // Prepare
    harness = await makeHarness();

    // Act
    const invalid = harness.store.put('eu-prod-1', { ...grant('rt'), status: 'nope' } as never, undefined);
    const badId = harness.store.get('../etc');

    // Assess
    await expect(invalid).rejects.toThrow('Refusing to store an invalid OAuth2 grant');
    await expect(badId).rejects.toThrow('Invalid cluster id');
  });
});
