// What each OAuthStateStore keeps, beyond the contract (test/contract/oauth-state-store.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { DynamoDbOAuthStateStore } from '../../functions/adapters/aws/oauth-dynamodb-state-store.js';
import { LEDGER_TABLE_KEYS } from '../../functions/adapters/aws/resource-names.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import {
  EXPIRED_STATE_RETENTION_MS,
  SqliteOAuthStateStore,
} from '../../functions/adapters/local/sqlite-oauth-state-store.js';
import { randomUrlSafe } from '../../functions/core/oauth/oauth-flow.js';
import type { OAuthStateRecord } from '../../functions/core/oauth/oauth-ports.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

const NOW = Date.parse('2026-11-28T18:00:00.000Z');

function record(overrides: Partial<OAuthStateRecord> = {}): OAuthStateRecord {
  return {
    state: randomUrlSafe(32),
    clusterId: 'eu-prod-1',
    codeVerifier: randomUrlSafe(32),
    redirectUri: 'http://localhost:3000/login/smtp-verification/',
    clientId: 'client',
    tokenEndpoint: 'https://login.example.test/token',
    createdAt: new Date(NOW).toISOString(),
    expiresAt: NOW + 10 * 60 * 1000,
    ...overrides,
  };
}

let dataDir: string;
let database: SqliteDatabase;
let dynalite: Dynalite;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'oauth-state-'));
  database = await SqliteDatabase.open({ directory: dataDir });
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite?.close();
  database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('the SQLite store keys states by their SHA-256 and keeps no state in the database', async () => {
  // Prepare
  const store = new SqliteOAuthStateStore({ database, clock: () => NOW });
  const pending = record();

  // Act
  await store.put(pending);
  const rows = database.connection.prepare('SELECT * FROM oauth_state').all() as Array<
    Record<string, unknown>
  >;

  // Assess
  expect(rows).toHaveLength(1);
  expect(rows[0]?.state_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(rows)).not.toContain(pending.state);
  expect(await store.take(pending.state)).toEqual(pending);
});

it('the SQLite store sweeps a state a day after it expired, by its clock', async () => {
  // Prepare
  let now = NOW;
  const store = new SqliteOAuthStateStore({ database, clock: () => now });
  const abandoned = record({ expiresAt: NOW - 1 });
  const recent = record();
  await store.put(abandoned);
  await store.put(recent);

  // Act: a day after the first expired, the next authorization starts.
  now = NOW + EXPIRED_STATE_RETENTION_MS;
  await store.put(record({ expiresAt: now + 10 * 60 * 1000 }));

  // Assess
  expect(await store.take(abandoned.state)).toBeUndefined();
  // Expired too, but less than a day ago: still given back, so the callback can say "expired".
  expect(await store.take(recent.state)).toEqual(recent);
});

it('the DynamoDB store keeps OAUTH#<state> / STATE with the TTL attribute in epoch seconds', async () => {
  // Prepare
  const store = new DynamoDbOAuthStateStore({ client: dynalite.client, tableName: dynalite.tableName });
  const pending = record();

  // Act
  await store.put(pending);
  const { Item } = await dynalite.client.send(
    new GetItemCommand({
      TableName: dynalite.tableName,
      Key: {
        [LEDGER_TABLE_KEYS.partitionKey]: { S: `OAUTH#${pending.state}` },
        [LEDGER_TABLE_KEYS.sortKey]: { S: 'STATE' },
      },
    }),
  );

  // Assess
  expect(Item?.[LEDGER_TABLE_KEYS.ttlAttribute]).toEqual({ N: String(Math.ceil(pending.expiresAt / 1000)) });
});
