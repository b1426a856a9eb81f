// The ConfigHistory contract, run against every adapter: numbered versions per cluster (distinct
// under concurrent saves), newest first, capped, with test results; `reopen` is another process
// (a second runtime, another Lambda execution environment) on the same storage.
import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDbConfigHistory } from '../../functions/adapters/aws/dynamodb-config-history.js';
import { SqliteConfigHistory } from '../../functions/adapters/local/sqlite-config-history.js';
import {
  type ConfigHistory,
  ConfigVersionConflictError,
  type NewConfigVersion,
} from '../../functions/core/config/config-history.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { contractAdapters, type Harness, useDynalite } from '../support/contract-harness.js';

const LIMIT = 4;

const adapters = contractAdapters<ConfigHistory>({
  dynalite: useDynalite(),
  directoryPrefix: 'history-contract-',
  sqlite: ['SqliteConfigHistory', (database) => new SqliteConfigHistory(database, LIMIT)],
  dynamoDb: [
    'DynamoDbConfigHistory',
    ({ client }, tableName) => new DynamoDbConfigHistory({ client, tableName, limit: LIMIT }),
  ],
});

function entry(clusterId: string, port: number, overrides: Partial<NewConfigVersion> = {}): NewConfigVersion {
  return {
    clusterId,
    savedAt: `2026-12-01T10:00:${String(port % 60).padStart(2, '0')}.000Z`,
    savedBy: 'admin@example.com',
    document: storedConfig(
      clusterId,
      passwordConfig({ password: 'Secret-1', smtp: smtpOn(port) } as { password: string }),
    ),
    ...overrides,
  };
}

function smtpOn(port: number) {
  return {
    host: 'smtp.example.com',
    port,
    encryption: 'starttls',
    auth: { type: 'password', username: 'relay@example.com', password: 'Secret-1' },
  };
}

describe.each(adapters)('ConfigHistory contract: %s', (_name, makeHarness) => {
  let harness: Harness<ConfigHistory>;

  afterEach(async () => {
    await harness?.close();
  });

  it('numbers versions 1, 2, 3 per cluster and lists them newest first, secrets included', async () => {
    // Prepare
    harness = await makeHarness();
    const { store: history } = harness;

    // Act
    const first = await history.append(entry('c1', 25));
    const second = await history.append(entry('c1', 587, { restoredFrom: 1 }));
    const other = await history.append(entry('c2', 465));
    const listed = await history.list('c1');

    // Assess
    expect([first.version, second.version, other.version]).toEqual([1, 2, 1]);
    expect(listed.map((v) => v.version)).toEqual([2, 1]);
    expect(listed[0]).toMatchObject({
      clusterId: 'c1',
      savedBy: 'admin@example.com',
      restoredFrom: 1,
      document: { clusterId: 'c1', config: { smtp: { port: 587, auth: { password: 'Secret-1' } } } },
    });
    expect(listed[1]?.restoredFrom).toBeUndefined();
    expect(listed[1]?.testEmail).toBeUndefined();
    expect((await history.get('c1', 1))?.document.config.smtp?.port).toBe(25);
    expect(await history.get('c1', 3)).toBeUndefined();
    expect(await history.list('nobody')).toEqual([]);
  });

  it('gives concurrent saves from two processes distinct numbers', async () => {
    // Prepare
    harness = await makeHarness();
    const other = await harness.reopen();

    // Act
    const saved = await Promise.all([
      harness.store.append(entry('race', 1001)),
      other.append(entry('race', 1002)),
      harness.store.append(entry('race', 1003)),
    ]);

    // Assess
    expect(saved.map((v) => v.version).sort()).toEqual([1, 2, 3]);
    const ports = (await harness.store.list('race')).map((v) => v.document.config.smtp?.port);
    expect(ports.sort()).toEqual([1001, 1002, 1003]);
  });

  it('appends after a named version only while it is the newest: of two such appends one wins', async () => {
    // Prepare
    harness = await makeHarness();
    const other = await harness.reopen();
    const first = await harness.store.append(entry('cond', 25), { after: 0 });

    // Act
    const raced = await Promise.allSettled([
      harness.store.append(entry('cond', 587), { after: first.version }),
      other.append(entry('cond', 465), { after: first.version }),
    ]);
    const stale = await harness.store.append(entry('cond', 2525), { after: first.version }).catch((e) => e);
    const stored = await harness.store.list('cond');

    // Assess
    expect(first.version).toBe(1);
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = raced.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ConfigVersionConflictError);
    expect(stale).toBeInstanceOf(ConfigVersionConflictError);
    expect(stored.map((v) => v.version)).toEqual([2, 1]);
    expect([587, 465]).toContain(stored[0]?.document.config.smtp?.port);
  });

  it(`keeps the newest ${LIMIT} versions and never reuses a number`, async () => {
    // Prepare
    harness = await makeHarness();

    // Act
    for (let port = 1; port <= LIMIT + 2; port++) await harness.store.append(entry('capped', port));

    // Assess
    const kept = await harness.store.list('capped');
    expect(kept.map((v) => v.version)).toEqual([6, 5, 4, 3]);
    expect(await harness.store.get('capped', 2)).toBeUndefined();
    expect((await harness.store.list('capped', 2)).map((v) => v.version)).toEqual([6, 5]);
  });

  it('records a test result on a kept version and the last test per cluster', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.append(entry('tested', 587));
    const failed = {
      ok: false,
      stage: 'connect' as const,
      message: 'refused',
      at: '2026-12-01T10:01:00.000Z',
      of: { version: 1 },
    };

    // Act
    const set = await harness.store.setTest('tested', 1, failed);
    const missing = await harness.store.setTest('tested', 9, failed);
    await harness.store.putLastTest('tested', {
      ok: true,
      at: '2026-12-01T10:02:00.000Z',
      of: { unsaved: true },
    });

    // Assess
    expect([set, missing]).toEqual([true, false]);
    expect((await harness.store.get('tested', 1))?.testEmail).toEqual(failed);
    expect(await (await harness.reopen()).lastTest('tested')).toEqual({
      ok: true,
      at: '2026-12-01T10:02:00.000Z',
      of: { unsaved: true },
    });
    expect(await harness.store.lastTest('untested')).toBeUndefined();
    expect(await harness.store.get('tested', 9)).toBeUndefined();
  });
});
