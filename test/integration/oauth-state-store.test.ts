import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDbOAuthStateStore } from '../../functions/adapters/aws/oauth-dynamodb-state-store.js';
import { LEDGER_TABLE_KEYS } from '../../functions/adapters/aws/resource-names.js';
import { FileOAuthStateStore } from '../../functions/adapters/local/oauth-file-state-store.js';
import { randomUrlSafe } from '../../functions/core/oauth/oauth-flow.js';
import type { OAuthStateRecord, OAuthStateStore } from '../../functions/core/oauth/oauth-ports.js';
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
let dynalite: Dynalite;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'oauth-state-'));
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const stores: Array<[string, () => OAuthStateStore]> = [
  [
    'file',
    () =>
      new FileOAuthStateStore({ directory: join(dataDir, `states-${randomUrlSafe(16)}`), clock: () => NOW }),
  ],
  ['DynamoDB', () => new DynamoDbOAuthStateStore({ client: dynalite.client, tableName: dynalite.tableName })],
];

describe.each(stores)('%s state store', (_name, makeStore) => {
  it('gives a state back once: a replay finds nothing', async () => {
    const store = makeStore();
    const pending = record();
    await store.put(pending);

    const first = await store.take(pending.state);
    const replay = await store.take(pending.state);

    expect(first).toEqual(pending);
    expect(replay).toBeUndefined();
  });

  it('gives a state to exactly one of many concurrent takes', async () => {
    const store = makeStore();
    const pending = record();
    await store.put(pending);

    const results = await Promise.all(Array.from({ length: 8 }, () => store.take(pending.state)));

    expect(results.filter(Boolean)).toEqual([pending]);
  });

  it('knows no state it did not issue', async () => {
    const store = makeStore();
    await store.put(record());

    expect(await store.take(randomUrlSafe(32))).toBeUndefined();
  });
});

it('the file store names files by a hash, never by the state, and sweeps expired ones', async () => {
  const directory = join(dataDir, 'sweep');
  const store = new FileOAuthStateStore({ directory, clock: () => NOW });
  const expired = record({ expiresAt: NOW - 1 });
  await store.put(expired);
  const live = record();

  await store.put(live);
  const names = await readdir(directory);

  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^[0-9a-f]{64}\.json$/);
  expect(names.join()).not.toContain(live.state);
  expect(await store.take(expired.state)).toBeUndefined();
});

it('the DynamoDB store keeps OAUTH#<state> / STATE with the TTL attribute in epoch seconds', async () => {
  const store = new DynamoDbOAuthStateStore({ client: dynalite.client, tableName: dynalite.tableName });
  const pending = record();

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

  expect(Item?.[LEDGER_TABLE_KEYS.ttlAttribute]).toEqual({ N: String(Math.ceil(pending.expiresAt / 1000)) });
});
