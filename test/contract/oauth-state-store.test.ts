// The OAuthStateStore contract, run against every adapter: one-time states for the OAuth2
// redirect flow. `reopen` is a restart (another process, a cold Lambda) on the same storage.
import { afterEach, describe, expect, it } from '@jest/globals';
import { DynamoDbOAuthStateStore } from '../../functions/adapters/aws/oauth-dynamodb-state-store.js';
import { SqliteOAuthStateStore } from '../../functions/adapters/local/sqlite-oauth-state-store.js';
import { randomUrlSafe } from '../../functions/core/oauth/oauth-flow.js';
import type { OAuthStateRecord, OAuthStateStore } from '../../functions/core/oauth/oauth-ports.js';
import { contractAdapters, type Harness, useDynalite } from '../support/contract-harness.js';

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

const adapters = contractAdapters<OAuthStateStore>({
  dynalite: useDynalite(),
  directoryPrefix: 'oauth-contract-',
  sqlite: ['SqliteOAuthStateStore', (database) => new SqliteOAuthStateStore({ database, clock: () => NOW })],
  dynamoDb: [
    'DynamoDbOAuthStateStore',
    ({ client }, tableName) => new DynamoDbOAuthStateStore({ client, tableName }),
  ],
});

describe.each(adapters)('OAuthStateStore contract: %s', (_name, makeHarness) => {
  let harness: Harness<OAuthStateStore>;

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
