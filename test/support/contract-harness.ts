// What the adapter contract tests (test/contract) share: one dynalite per test file, SQLite
// databases in a temporary directory, and a harness per adapter whose `reopen` is another process
// (a second runtime, another Lambda execution environment) on the same storage.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { type Dynalite, startDynalite } from './dynalite.js';

/** Starts dynalite before the file's tests and closes it after them; call at the top level. */
export function useDynalite(): () => Dynalite {
  let dynalite: Dynalite | undefined;
  beforeAll(async () => {
    dynalite = await startDynalite();
  });
  afterAll(async () => {
    await dynalite?.close();
  });
  return () => {
    if (!dynalite) throw new Error('dynalite is not started yet (use it inside a test or hook)');
    return dynalite;
  };
}

export interface SqliteDirectory {
  /** Opens another database on the directory (another process on the same data). */
  open(): Promise<SqliteDatabase>;
  /** Closes every database opened here and removes the directory. */
  close(): Promise<void>;
}

/** A fresh temporary directory for SQLite databases, its name starting with `prefix`. */
export async function sqliteDirectory(prefix: string): Promise<SqliteDirectory> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  const databases: SqliteDatabase[] = [];
  return {
    async open() {
      const database = await SqliteDatabase.open({ directory });
      databases.push(database);
      return database;
    },
    async close() {
      for (const database of databases) database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface Harness<T> {
  /** The adapter under test. */
  store: T;
  /** The same adapter as another process on the same storage sees it. */
  reopen(): Promise<T>;
  close(): Promise<void>;
}

export type Adapters<T> = Array<[string, () => Promise<Harness<T>>]>;

/**
 * The SQLite and the DynamoDB adapter of one port, for `describe.each`: the SQLite one on its own
 * temporary directory (prefix `directoryPrefix`), the DynamoDB one on its own dynalite table.
 */
export function contractAdapters<T>(options: {
  dynalite: () => Dynalite;
  directoryPrefix: string;
  sqlite: [name: string, make: (database: SqliteDatabase) => T];
  dynamoDb: [name: string, make: (dynalite: Dynalite, tableName: string) => T];
}): Adapters<T> {
  const [sqliteName, makeSqlite] = options.sqlite;
  const [dynamoDbName, makeDynamoDb] = options.dynamoDb;
  const sqliteHarness = async (): Promise<Harness<T>> => {
    const directory = await sqliteDirectory(options.directoryPrefix);
    const make = async () => makeSqlite(await directory.open());
    return { store: await make(), reopen: make, close: directory.close };
  };
  const dynamoDbHarness = async (): Promise<Harness<T>> => {
    const dynalite = options.dynalite();
    const tableName = await dynalite.createTable();
    const make = async () => makeDynamoDb(dynalite, tableName);
    return { store: await make(), reopen: make, close: async () => undefined };
  };
  return [
    [sqliteName, sqliteHarness],
    [dynamoDbName, dynamoDbHarness],
  ];
}
