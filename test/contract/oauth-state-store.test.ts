// The OAuthStateStore contract, run against every adapter: one-time states for the OAuth2
// redirect flow. `reopen` is a restart (another process, a cold Lambda) on the same storage.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDbOAuthStateStore } from '../../functions/adapters/aws/oauth-dynamodb-state-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteOAuthStateStore } from '../../functions/adapters/local/sqlite-oauth-state-store.js';
import { randomUrlSafe } from '../../functions/core/oauth/oauth-flow.js';
import type { OAuthStateRecord, OAuthStateStore } from '../../functions/core/oauth/oauth-ports.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

const NOW = Date.parse('2026-11-28T18:00:00.000Z');
const TEN_MINUTES = 10 * 60 * 1000;

function record(overrides: Partial<OAuthStateRecord> = {}): OAuthStateRecord {
  return {
    state: randomUrlSafe(32),
    clusterId: 'eu-prod-1',
    codeVerifier: randomUrlSafe(32),
    redirectUri: 'http://localhost:3000/login/smtp-verification/',
    clientId: 'client',
    tokenEndpoint: 'https://login.example.test/token',
    startedBy: 'admin@example.com',
    createdAt: new Date(NOW).toISOString(),
    expiresAt: NOW + TEN_MINUTES,
    ...overrides,
  };
}

interface Harness {
  store: OAuthStateStore;
  reopen(): Promise<OAuthStateStore>;
  close(): Promise<void>;
}

let dynalite: Dynalite;

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite?.close();
});

async function sqliteHarness(): Promise<Harness> {
  const directory = await mkdtemp(join(tmpdir(), 'oauth-contract-'));
  const databases: SqliteDatabase[] = [];
  const make = async () => {
    const database = await SqliteDatabase.open({ directory });
    databases.push(database);
    return new SqliteOAuthStateStore({ database, clock: () => NOW });
  };
  return {
    store: await make(),
    reopen: make,
    async close() {
      for (const database of databases) database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function dynamoDbHarness(): Promise<Harness> {
  const tableName = await dynalite.createTable();
  const make = async () => new DynamoDbOAuthStateStore({ client: dynalite.client, tableName });
  return { store: await make(), reopen: make, close: async () => undefined };
}

const adapters: Array<[string, () => Promise<Harness>]> = [
  ['SqliteOAuthStateStore', sqliteHarness],
  ['DynamoDbOAuthStateStore', dynamoDbHarness],
];

describe.each(adapters)('OAuthStateStore contract: %s', (_name, makeHarness) => {
  let harness: Harness;

  afterEach(async () => {
    await harness?.close();
  });

  it('gives a state back once: a replay finds nothing', async () => {
    // Prepare
    harness = await makeHarness();
    const pending = record();
    await harness.store.put(pending);

    // Act
    const first = await harness.store.take(pending.state);
    const replay = await harness.store.take(pending.state);

    // Assess
    expect(first).toEqual(pending);
    expect(replay).toBeUndefined();
  });

  it('gives a state to exactly one of many concurrent takes', async () => {
    // Prepare
    harness = await makeHarness();
    const pending = record();
    await harness.store.put(pending);
    const other = await harness.reopen();

    // Act
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, n) => (n % 2 ? other : harness.store).take(pending.state)),
    );

    // Assess
    expect(results.filter(Boolean)).toEqual([pending]);
  });

  it('knows no state it did not issue', async () => {
    // Prepare
    harness = await makeHarness();
    await harness.store.put(record());

    // Act
    const result = await harness.store.take(randomUrlSafe(32));

    // Assess
    expect(result).toBeUndefined();
  });

  it('keeps states across a restart, each apart from the others', async () => {
    // Prepare
    harness = await makeHarness();
    const first = record({ clusterId: 'a' });
    const second = record({ clusterId: 'b' });
    await harness.store.put(first);
    await harness.store.put(second);

    // Act
    const restarted = await harness.reopen();
    const takenSecond = await restarted.take(second.state);
    const takenFirst = await restarted.take(first.state);

    // Assess
    expect(takenSecond).toEqual(second);
    expect(takenFirst).toEqual(first);
  });

  it('gives back a state whose time is up with its expiry, once, so the caller can refuse it as expired', async () => {
    // Prepare
    harness = await makeHarness();
    const late = record({ createdAt: new Date(NOW - 2 * TEN_MINUTES).toISOString(), expiresAt: NOW - 1 });
    await harness.store.put(late);

    // Act
    const taken = await harness.store.take(late.state);
    const replay = await harness.store.take(late.state);

    // Assess
    expect(taken).toEqual(late);
    expect(replay).toBeUndefined();
  });
});
