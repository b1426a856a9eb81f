// The AuditLog contract, run against every adapter: entries per cluster, newest first, paged
// with a position, removed after AUDIT_RETENTION_DAYS; `reopen` is another process (a second
// runtime, another Lambda execution environment) on the same storage.
import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDbAuditLog } from '../../functions/adapters/aws/dynamodb-audit-log.js';
import { SqliteAuditLog } from '../../functions/adapters/local/sqlite-audit-log.js';
import { AUDIT_RETENTION_MS, type AuditEntry, type AuditLog } from '../../functions/core/audit/audit-log.js';
import { contractAdapters, type Harness, useDynalite } from '../support/contract-harness.js';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const clock = () => new Date(NOW);
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();

const adapters = contractAdapters<AuditLog>({
  dynalite: useDynalite(),
  directoryPrefix: 'audit-contract-',
  sqlite: ['SqliteAuditLog', (database) => new SqliteAuditLog(database, clock)],
  dynamoDb: [
    'DynamoDbAuditLog',
    ({ client }, tableName) => new DynamoDbAuditLog({ client, tableName, clock }),
  ],
});

describe.each(adapters)('AuditLog contract: %s', (_name, makeHarness) => {
  let harness: Harness<AuditLog>;

  afterEach(async () => {
    await harness?.close();
  });

  it('keeps who did what and when, and another process reads it back', async () => {
    harness = await makeHarness();

    const recorded = await harness.store.record({
      actor: 'ann@example.com',
      action: 'config.save',
      clusterId: 'c1',
      detail: { version: 3, created: false, stage: 'ok' },
    });
    const page = await (await harness.reopen()).page('c1', { limit: 10 });

    expect(recorded).toEqual({
      id: expect.any(String),
      at: new Date(NOW).toISOString(),
      actor: 'ann@example.com',
      action: 'config.save',
      clusterId: 'c1',
      detail: { version: 3, created: false, stage: 'ok' },
    });
    expect(page).toEqual({ entries: [recorded] });
  });

  it('lists one cluster’s entries newest first, in pages that follow one another without gaps', async () => {
    harness = await makeHarness();
    const recorded: AuditEntry[] = [];
    for (const minute of [1, 3, 2, 5, 4]) {
      recorded.push(
        await harness.store.record({ at: at(minute), actor: 'a', action: 'config.save', clusterId: 'c1' }),
      );
    }
    // Two in the same millisecond, and another cluster's.
    recorded.push(
      await harness.store.record({ at: at(5), actor: 'b', action: 'config.delete', clusterId: 'c1' }),
    );
    await harness.store.record({ at: at(9), actor: 'x', action: 'config.save', clusterId: 'c2' });

    const first = await harness.store.page('c1', { limit: 4 });
    const second = first.next ? await harness.store.page('c1', { limit: 4, after: first.next }) : undefined;

    const expected = [...recorded].sort((a, b) =>
      a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1,
    );
    expect(first.entries).toEqual(expected.slice(0, 4));
    expect(first.next).toEqual({ at: expected[3]?.at, id: expected[3]?.id });
    expect(second).toEqual({ entries: expected.slice(4) });
    expect((await harness.store.page('c2', { limit: 4 })).entries.map((entry) => entry.actor)).toEqual(['x']);
    expect(await harness.store.page('c3', { limit: 4 })).toEqual({ entries: [] });
  });

  it('gives no next page when the last page is exactly full', async () => {
    harness = await makeHarness();
    for (const minute of [1, 2]) {
      await harness.store.record({ at: at(minute), actor: 'a', action: 'config.save', clusterId: 'c1' });
    }

    expect((await harness.store.page('c1', { limit: 2 })).next).toBeUndefined();
  });

  it('drops entries older than the retention', async () => {
    harness = await makeHarness();
    const old = new Date(NOW - AUDIT_RETENTION_MS - 60_000).toISOString();
    await harness.store.record({ at: old, actor: 'a', action: 'config.save', clusterId: 'c1' });
    await harness.store.record({ actor: 'b', action: 'config.delete', clusterId: 'c1' });

    const page = await harness.store.page('c1', { limit: 10 });

    expect(page.entries.map((entry) => entry.actor)).toEqual(['b']);
  });

  it('refuses an invalid cluster id', async () => {
    harness = await makeHarness();

    await expect(
      harness.store.record({ actor: 'a', action: 'config.save', clusterId: '../etc' }),
    ).rejects.toThrow(/cluster id/i);
  });
});
