// What SqliteConfigStore does beyond the contract (test/contract/config-store.test.ts): the
// one-time import of the configuration files that versions before the database kept.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { localAdapters } from '../../functions/adapters/local/local-adapters.js';
import { importConfigFiles, SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import { createLogger } from '../../functions/shared/logger.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';

const SECRET = 'legacy-file-secret';
const NOW = new Date('2026-11-28T18:00:00.000Z');

let dataDir: string;
let configDir: string;
const opened: SqliteDatabase[] = [];

const documentOf = (clusterId: string, sender = 'appliance@example.com'): StoredEmailConfig =>
  storedConfig(clusterId, passwordConfig({ password: SECRET, sender }));

/** A file as FileConfigStore wrote it: pretty-printed JSON, mode 0600. */
async function legacyFile(name: string, content: string | StoredEmailConfig): Promise<void> {
  const text = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
  await writeFile(join(configDir, name), text, { mode: 0o600 });
}

async function openDatabase(): Promise<SqliteDatabase> {
  const database = await SqliteDatabase.open({ directory: dataDir });
  opened.push(database);
  return database;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sqlite-config-store-'));
  configDir = join(dataDir, 'config');
  await mkdir(configDir, { mode: 0o700 });
});

afterEach(async () => {
  for (const database of opened.splice(0)) database.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('importConfigFiles', () => {
  it('copies each <clusterId>.json into the database and renames it to *.json.imported', async () => {
    // Prepare
    await legacyFile('prod-eu.json', documentOf('prod-eu'));
    await legacyFile('default.json', documentOf('default'));
    await legacyFile('.prod-eu.json.0123456789ab.tmp', '{');
    await writeFile(join(configDir, 'notes.txt'), 'not a config');
    const database = await openDatabase();
    const store = new SqliteConfigStore(database);

    // Act
    const result = await importConfigFiles(database, configDir, () => NOW);

    // Assess
    expect(result).toEqual({ imported: ['default', 'prod-eu'], ignored: [], notRenamed: [] });
    expect(await store.listClusterIds()).toEqual(['default', 'prod-eu']);
    expect(await store.get('prod-eu')).toEqual(documentOf('prod-eu'));
    expect((await readdir(configDir)).sort()).toEqual([
      '.prod-eu.json.0123456789ab.tmp',
      'default.json.imported',
      'notes.txt',
      'prod-eu.json.imported',
    ]);
  });

  it('imports once: files that turn up later are reported, not read', async () => {
    // Prepare
    await legacyFile('prod-eu.json', documentOf('prod-eu'));
    const database = await openDatabase();
    await importConfigFiles(database, configDir, () => NOW);
    await legacyFile('late.json', documentOf('late'));
    await legacyFile('prod-eu.json', documentOf('prod-eu', 'changed@example.com'));

    // Act
    const again = await importConfigFiles(await openDatabase(), configDir, () => NOW);

    // Assess
    const store = new SqliteConfigStore(database);
    expect(again).toEqual({ imported: [], ignored: ['late', 'prod-eu'], notRenamed: [] });
    expect(await store.listClusterIds()).toEqual(['prod-eu']);
    expect(await store.get('prod-eu')).toEqual(documentOf('prod-eu'));
    expect(await readdir(configDir)).toContain('late.json');
  });

  it('imports a document that is not valid as it is, so reading it names the cluster and what is wrong', async () => {
    // Prepare
    const broken = JSON.parse(JSON.stringify(documentOf('broken')));
    broken.config.adminContacts = [];
    await legacyFile('broken.json', broken);
    await legacyFile('elsewhere.json', documentOf('another-cluster'));
    const database = await openDatabase();

    // Act
    const result = await importConfigFiles(database, configDir, () => NOW);
    const store = new SqliteConfigStore(database);
    const invalid = await store.get('broken').catch((e: unknown) => e);
    const misplaced = await store.get('elsewhere').catch((e: unknown) => e);

    // Assess
    expect(result.imported).toEqual(['broken', 'elsewhere']);
    expect((invalid as Error).message).toMatch(
      /^Stored configuration of cluster "broken" \(in .*notifier\.db\) is invalid: config\.adminContacts/,
    );
    expect((invalid as Error).message).not.toContain(SECRET);
    expect((misplaced as Error).message).toContain('belongs to cluster "another-cluster"');
  });

  it('keeps what the database already has for a cluster', async () => {
    // Prepare
    const database = await openDatabase();
    const store = new SqliteConfigStore(database);
    await store.put(documentOf('prod-eu', 'database@example.com'));
    await legacyFile('prod-eu.json', documentOf('prod-eu', 'file@example.com'));

    // Act
    const result = await importConfigFiles(database, configDir, () => NOW);

    // Assess
    expect(result.imported).toEqual([]);
    expect((await store.get('prod-eu'))?.config.sender).toBe('database@example.com');
  });

  it('has nothing to do without a config directory', async () => {
    // Prepare
    await rm(configDir, { recursive: true });
    const database = await openDatabase();

    // Act
    const result = await importConfigFiles(database, configDir, () => NOW);

    // Assess
    expect(result).toEqual({ imported: [], ignored: [], notRenamed: [] });
  });
});

it('the embedded runtime imports an older version data directory when it first opens it', async () => {
  // Prepare
  await legacyFile('default.json', documentOf('default'));

  // Act
  const adapters = await localAdapters({
    dataDir,
    clock: () => NOW,
    log: createLogger({ logLevel: 'ERROR' }),
  });
  let stored: StoredEmailConfig | undefined;
  try {
    stored = await adapters.store.get('default');
  } finally {
    await adapters.close();
  }

  // Assess
  expect(stored).toEqual(documentOf('default'));
  expect(await readdir(configDir)).toEqual(['default.json.imported']);
});
