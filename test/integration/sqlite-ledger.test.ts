// The SQLite ledger's own behaviour beyond the DeliveryLedger contract
// (test/contract/delivery-ledger.test.ts): retention, several processes on one database, and
// the one-off import of the journal that versions before the database kept.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  importLedgerJournal,
  JOURNAL_FILE_NAME,
  replayJournal,
} from '../../functions/adapters/local/ledger-journal-import.js';
import { localAdapters } from '../../functions/adapters/local/local-adapters.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import type { DeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';
import { createLogger } from '../../functions/shared/logger.js';
import {
  at,
  CLUSTER,
  DAY,
  KEY,
  LEASE_MS,
  MINUTE,
  recordOf,
  sample,
  T0,
  WINDOW_MS,
} from '../support/ledger-fixtures.js';
import { GROUP_CLUSTER, GROUP_EVENTS, type GroupWorkerLine } from '../support/sqlite-group-worker.js';
import { LEDGER_EVENTS, type LedgerWorkerLine } from '../support/sqlite-ledger-worker.js';
import { startWorker } from '../support/worker-process.js';

let dataDir: string;
let now: Date;
const databases: SqliteDatabase[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sqlite-ledger-'));
  now = T0;
});

afterEach(async () => {
  for (const database of databases.splice(0)) database.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function open(): Promise<{ ledger: SqliteLedger; database: SqliteDatabase }> {
  const database = await SqliteDatabase.open({ directory: dataDir });
  databases.push(database);
  return { ledger: new SqliteLedger({ database, clock: () => now }), database };
}

function rowCounts(database: SqliteDatabase) {
  const count = (table: string) =>
    database.connection.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return { claims: count('ledger_claim'), folds: count('ledger_fold'), records: count('ledger_record') };
}

describe('after a crash', () => {
  it('gives back the claims still held, and leaves finished events finished', async () => {
    // Prepare: one event finished, two claimed by a process that then died.
    const { ledger } = await open();
    await ledger.claimEvent('done-1', now, LEASE_MS);
    await ledger.finishEvent('done-1', 'sent', now);
    await ledger.claimEvent('held-1', now, LEASE_MS);
    await ledger.claimEvent('held-2', now, LEASE_MS);

    // Act
    const released = ledger.releaseAbandonedClaims();

    // Assess: the held ones are claimable at once, well inside their leases.
    expect(released).toBe(2);
    expect(await ledger.claimEvent('held-1', at(1000), LEASE_MS)).toEqual({ status: 'claimed' });
    expect(await ledger.claimEvent('held-2', at(1000), LEASE_MS)).toEqual({ status: 'claimed' });
    expect(await ledger.claimEvent('done-1', at(1000), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'sent',
    });
  });
});

describe('retention', () => {
  it('treats records past the retention (30 days after their last outcome) as gone, then deletes them', async () => {
    // Prepare
    const { ledger, database } = await open();
    await ledger.record(recordOf({ eventId: 'evt-old', outcome: 'failed' }));
    await ledger.record(recordOf({ eventId: 'evt-kept', at: at(2 * DAY).toISOString() }));
    await ledger.claimEvent('evt-old', T0, LEASE_MS);
    await ledger.finishEvent('evt-old', 'failed', T0);
    await ledger.decideFold(KEY, 'evt-old', T0, WINDOW_MS, LEASE_MS);

    // Act
    now = at(31 * DAY);
    const listed = await ledger.list(CLUSTER, { limit: 10 });
    const old = await ledger.getRecord(CLUSTER, 'evt-old');
    const failed = await ledger.listFailed();
    const beforeReopen = rowCounts(database);
    const { database: reopened } = await open();

    // Assess
    expect(listed.map((r) => r.eventId)).toEqual(['evt-kept']);
    expect(old).toBeUndefined();
    expect(failed).toEqual([]);
    expect(beforeReopen).toEqual({ claims: 1, folds: 1, records: 2 });
    expect(rowCounts(reopened)).toEqual({ claims: 0, folds: 0, records: 1 });
  });

  it('files an event whose record has expired afresh, at its new arrival', async () => {
    // Prepare
    const { ledger } = await open();
    await ledger.record(recordOf());

    // Act
    now = at(40 * DAY);
    await ledger.record(recordOf({ at: now.toISOString(), receivedAt: now.toISOString() }));

    // Assess
    expect((await ledger.getRecord(CLUSTER, sample.id))?.receivedAt).toBe(now.toISOString());
  });

  it('prunes on a write once an hour has passed since the last pruning', async () => {
    // Prepare
    const { ledger, database } = await open();
    await ledger.record(recordOf({ eventId: 'evt-old' }));
    now = at(31 * DAY);

    // Act
    await ledger.record(
      recordOf({ eventId: 'evt-new', at: now.toISOString(), receivedAt: now.toISOString() }),
    );

    // Assess
    expect(rowCounts(database).records).toBe(1);
  });

  it('deletes groups (with their members) and inhibitor marks a retention after their last change', async () => {
    // Prepare: one sent group, one still open, and a mark that ended long ago.
    const { ledger, database } = await open();
    const timing = { waitMs: 30_000, intervalMs: 5 * MINUTE };
    const entry = (eventId: string) => ({
      eventId,
      receivedAt: now.toISOString(),
      envelope: { id: eventId },
    });
    const sent = await ledger.joinGroup(CLUSTER, entry('evt-1'), now, timing);
    await ledger.joinGroup(CLUSTER, entry('evt-2'), now, timing);
    await ledger.closeGroup(CLUSTER, sent.groupId, at(timing.waitMs), LEASE_MS);
    await ledger.finishGroup(CLUSTER, sent.groupId, 'sent', at(timing.waitMs), '<g1@example.com>');
    await ledger.markInhibitor(CLUSTER, ['promotion-pending#same-primary#p1'], {
      eventId: 'evt-1',
      condition: 'backup-promoted',
      until: at(MINUTE).toISOString(),
    });
    now = at(10 * DAY);
    const kept = await ledger.joinGroup(CLUSTER, entry('evt-3'), now, timing);
    const count = (table: string) =>
      database.connection.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

    // Act
    now = at(31 * DAY);
    const gone = await ledger.groupOf(CLUSTER, 'evt-1');
    ledger.prune();

    // Assess
    expect(gone).toBeUndefined();
    expect(await ledger.groupOf(CLUSTER, 'evt-3')).toMatchObject({ groupId: kept.groupId, state: 'open' });
    expect([count('ledger_group'), count('ledger_group_member'), count('ledger_inhibitor')]).toEqual([
      1, 1, 0,
    ]);
    expect(count('ledger_group_cluster')).toBe(1);
  });
});

it('refuses operations after close', async () => {
  // Prepare
  const { ledger } = await open();
  await ledger.close();

  // Act
  const claim = ledger.claimEvent('evt-1', T0, LEASE_MS);

  // Assess
  await expect(claim).rejects.toThrow(/closed/);
});

it('gives each event to one of three processes sharing the database, and one fold email in all', async () => {
  // Prepare
  await (await open()).database.close();
  const workers = [0, 1, 2].map(() =>
    startWorker<LedgerWorkerLine>('compete', dataDir, T0.getTime(), 'sqlite-ledger-worker.ts'),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitFor((line) => 'ready' in line)));

    // Act
    for (const [k, worker] of workers.entries()) worker.child.stdin?.write(`go ${k} ${workers.length}\n`);
    const results = await Promise.all(
      workers.map(async (worker) => {
        const line = await worker.waitFor((l) => 'claimed' in l, 20_000);
        return line as Extract<LedgerWorkerLine, { claimed: string[] }>;
      }),
    );

    // Assess
    const claimed = results.flatMap((r) => r.claimed).sort();
    const expected = Array.from({ length: LEDGER_EVENTS }, (_, n) => `evt-${n}`).sort();
    expect(claimed).toEqual(expected);
    expect(results.flatMap((r) => r.sent)).toHaveLength(1);
    // Really concurrent: more than one process won some claims.
    expect(results.filter((r) => r.claimed.length > 0).length).toBeGreaterThan(1);
  } finally {
    for (const worker of workers) worker.child.stdin?.end();
    await Promise.all(workers.map((worker) => worker.exited));
  }
}, 30_000);

it("puts each event of three processes joining and closing one cluster's groups in exactly one email", async () => {
  // Prepare
  await (await open()).database.close();
  const workers = [0, 1, 2].map(() =>
    startWorker<GroupWorkerLine>('group', dataDir, T0.getTime(), 'sqlite-group-worker.ts'),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitFor((line) => 'ready' in line)));

    // Act
    for (const worker of workers) worker.child.stdin?.write('go\n');
    const results = await Promise.all(
      workers.map(async (worker) => {
        const line = await worker.waitFor((l) => 'joined' in l, 20_000);
        return line as Extract<GroupWorkerLine, { joined: unknown }>;
      }),
    );
    // The group still open at the end goes out too.
    const { ledger } = await open();
    const emails = new Map(results.flatMap((r) => r.closed.map((c) => [c.groupId, c.members] as const)));
    for (const [, groupId] of results.flatMap((r) => r.joined)) {
      if (emails.has(groupId)) continue;
      const close = await ledger.closeGroup(GROUP_CLUSTER, groupId, at(1000), LEASE_MS);
      if (close.status === 'closed')
        emails.set(
          groupId,
          close.members.map((m) => m.eventId),
        );
    }

    // Assess: every event is in one email, the one of the group its join returned.
    const joined = results.flatMap((r) => r.joined);
    expect(joined).toHaveLength(3 * GROUP_EVENTS);
    const emailed = [...emails.values()].flat();
    expect(emailed.sort()).toEqual(joined.map(([eventId]) => eventId).sort());
    for (const [eventId, groupId] of joined) expect(emails.get(groupId)).toContain(eventId);
    // Really interleaved: some email holds events of more than one process.
    const processOf = (eventId: string) => eventId.split('-')[1];
    expect([...emails.values()].some((members) => new Set(members.map(processOf)).size > 1)).toBe(true);
  } finally {
    for (const worker of workers) worker.child.stdin?.end();
    await Promise.all(workers.map((worker) => worker.exited));
  }
}, 30_000);

describe('the journal of versions before the database', () => {
  const line = (entry: unknown) => `${JSON.stringify(entry)}\n`;
  const oldRecord = (overrides: Record<string, unknown> = {}) => {
    const { receivedAt: _none, ...record } = recordOf(overrides as Partial<DeliveryRecord>);
    return record;
  };

  /** What FileLedger appended: claims, a fold with one repeat, records (one replaced), a torn last line. */
  async function writeJournal(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    const text = [
      line({
        op: 'claim',
        eventId: 'evt-done',
        claim: { status: 'done', outcome: 'sent', expiresAt: T0.getTime() + 7 * DAY },
      }),
      line({
        op: 'claim',
        eventId: 'evt-busy',
        claim: {
          status: 'processing',
          leaseUntil: T0.getTime() + LEASE_MS,
          expiresAt: T0.getTime() + 7 * DAY,
        },
      }),
      line({
        op: 'claim',
        eventId: 'evt-gone',
        claim: { status: 'done', outcome: 'sent', expiresAt: T0.getTime() - 1 },
      }),
      line({
        op: 'claim',
        eventId: 'evt-released',
        claim: { status: 'processing', leaseUntil: T0.getTime(), expiresAt: T0.getTime() + DAY },
      }),
      line({ op: 'unclaim', eventId: 'evt-released' }),
      line({
        op: 'fold',
        key: KEY,
        fold: {
          lastSentAt: T0.getTime(),
          lastSentEventId: 'evt-done',
          foldedCount: 1,
          firstFoldedAt: T0.getTime() + 1000,
          version: 3,
          expiresAt: T0.getTime() + WINDOW_MS + DAY,
        },
      }),
      line({
        op: 'record',
        record: oldRecord({ eventId: 'evt-done', eventTime: at(-MINUTE).toISOString() }),
      }),
      line({
        op: 'record',
        record: oldRecord({
          eventId: 'evt-failed',
          outcome: 'failed',
          reason: 'Relay unreachable',
          envelope: sample,
          eventTime: at(-2 * MINUTE).toISOString(),
        }),
      }),
      // A rejected redelivery filed at another time did not replace it; now one record stands for an id.
      line({
        op: 'record',
        record: oldRecord({
          eventId: 'evt-failed',
          outcome: 'rejected',
          reason: 'bad',
          eventTime: at(-MINUTE / 2).toISOString(),
        }),
      }),
      // An event from the future was in the log at its recording, not at 9999.
      line({
        op: 'record',
        record: oldRecord({ eventId: 'evt-future', eventTime: '9999-12-31T23:59:59.000Z' }),
      }),
      '{"op":"claim","eventId":"evt-torn","claim":{"status":"do',
    ].join('');
    await writeFile(join(directory, JOURNAL_FILE_NAME), text);
  }

  it('replays the lines to one record per event id, at its event time but never after it was recorded', () => {
    // Act
    const state = replayJournal(
      [
        line({
          op: 'record',
          record: oldRecord({ eventId: 'a', outcome: 'failed', eventTime: at(-MINUTE).toISOString() }),
        }),
        line({
          op: 'record',
          record: oldRecord({
            eventId: 'a',
            outcome: 'sent',
            at: at(MINUTE).toISOString(),
            eventTime: at(-3 * MINUTE).toISOString(),
          }),
        }),
        line({ op: 'record', record: oldRecord({ eventId: 'b', eventTime: at(DAY).toISOString() }) }),
        'not json',
      ].join(''),
    );

    // Assess
    expect([...state.records.values()].map((r) => [r.eventId, r.outcome, r.receivedAt])).toEqual([
      ['a', 'sent', at(-MINUTE).toISOString()],
      ['b', 'sent', T0.toISOString()],
    ]);
    expect(state.skippedLines).toBe(1);
  });

  it('imports the live state once, renames the directory, and leaves the database alone afterwards', async () => {
    // Prepare
    const directory = join(dataDir, 'ledger');
    await writeJournal(directory);
    const { ledger, database } = await open();

    // Act
    const result = await importLedgerJournal(database, directory, () => now);
    await writeJournal(directory);
    const again = await importLedgerJournal(database, directory, () => now);

    // Assess
    expect(result).toEqual({
      status: 'imported',
      file: join(directory, JOURNAL_FILE_NAME),
      records: 3,
      claims: 2,
      folds: 1,
      skippedLines: 1,
      renamedTo: `${directory}.imported`,
    });
    expect(again).toEqual({ status: 'ignored', file: join(directory, JOURNAL_FILE_NAME) });
    expect((await readdir(dataDir)).sort()).toEqual(
      expect.arrayContaining(['ledger', 'ledger.imported', 'notifier.db']),
    );
    expect(await ledger.claimEvent('evt-done', at(1000), LEASE_MS)).toEqual({
      status: 'duplicate',
      outcome: 'sent',
    });
    expect(await ledger.claimEvent('evt-busy', at(1000), LEASE_MS)).toEqual({ status: 'in-progress' });
    expect(await ledger.claimEvent('evt-gone', at(1000), LEASE_MS)).toEqual({ status: 'claimed' });
    expect(await ledger.claimEvent('evt-released', at(1000), LEASE_MS)).toEqual({ status: 'claimed' });
    expect(await ledger.decideFold(KEY, 'evt-next', at(2000), WINDOW_MS, LEASE_MS)).toEqual({
      send: false,
      state: {
        lastSentAt: T0.toISOString(),
        lastSentEventId: 'evt-done',
        foldedCount: 2,
        firstFoldedAt: at(1000).toISOString(),
      },
    });
    expect(
      (await ledger.list(CLUSTER, { limit: 10 })).map((r) => [r.eventId, r.outcome, r.receivedAt]),
    ).toEqual([
      ['evt-future', 'sent', T0.toISOString()],
      ['evt-done', 'sent', at(-MINUTE).toISOString()],
      ['evt-failed', 'failed', at(-2 * MINUTE).toISOString()],
    ]);
    expect(await ledger.listFailed()).toEqual([
      {
        ...oldRecord({
          eventId: 'evt-failed',
          outcome: 'failed',
          reason: 'Relay unreachable',
          envelope: sample,
          eventTime: at(-2 * MINUTE).toISOString(),
        }),
        receivedAt: at(-2 * MINUTE).toISOString(),
      },
    ]);
  });

  it('is imported when the embedded runtime opens a data directory of an older version', async () => {
    // Prepare
    await writeJournal(join(dataDir, 'ledger'));

    // Act
    const adapters = await localAdapters({
      dataDir,
      clock: () => now,
      log: createLogger({ logLevel: 'CRITICAL' as 'ERROR' }),
    });
    let failed: DeliveryRecord[];
    try {
      failed = await adapters.ledger.listFailed({ clusterId: CLUSTER });
    } finally {
      await adapters.close();
    }

    // Assess
    expect(failed.map((r) => r.eventId)).toEqual(['evt-failed']);
    expect(await readdir(dataDir)).toContain('ledger.imported');
    expect(await readdir(dataDir)).not.toContain('ledger');
  });
});
