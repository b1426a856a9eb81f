import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DATABASE_FILE_NAME,
  MIGRATIONS,
  type Migration,
  NewerSchemaError,
  SqliteDatabase,
} from '../../functions/adapters/local/sqlite-database.js';

let root: string;
let directory: string;
const opened: SqliteDatabase[] = [];

async function openDatabase(migrations?: readonly Migration[]): Promise<SqliteDatabase> {
  const database = await SqliteDatabase.open({ directory, ...(migrations ? { migrations } : {}) });
  opened.push(database);
  return database;
}

const tables = (database: SqliteDatabase) =>
  database.connection
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sqlite-database-'));
  directory = join(root, 'data');
});

afterEach(async () => {
  for (const database of opened.splice(0)) database.close();
  await rm(root, { recursive: true, force: true });
});

describe('SqliteDatabase.open', () => {
  it('creates notifier.db readable by its owner only, in WAL mode with full sync and foreign keys', async () => {
    // Prepare
    const database = await openDatabase();

    // Act
    database.connection.prepare("INSERT INTO email_config VALUES ('c1', '{}')").run();
    const pragma = (name: string) => database.connection.pragma(name, { simple: true });

    // Assess
    expect(database.path).toBe(join(directory, DATABASE_FILE_NAME));
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    for (const file of [DATABASE_FILE_NAME, `${DATABASE_FILE_NAME}-wal`, `${DATABASE_FILE_NAME}-shm`]) {
      expect({ file, mode: (await stat(join(directory, file))).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    expect(pragma('journal_mode')).toBe('wal');
    expect(pragma('synchronous')).toBe(2); // FULL
    expect(pragma('foreign_keys')).toBe(1);
    expect(pragma('busy_timeout')).toBeGreaterThan(0);
    expect(database.schemaVersion).toBe(MIGRATIONS.length);
  });

  it('tightens the mode of a data directory and a database file that are too open', async () => {
    // Prepare
    (await openDatabase()).close();
    await chmod(directory, 0o755);
    await chmod(join(directory, DATABASE_FILE_NAME), 0o644);

    // Act
    await openDatabase();

    // Assess
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    expect((await stat(join(directory, DATABASE_FILE_NAME))).mode & 0o777).toBe(0o600);
  });

  it('says which file is not a database, and leaves it alone', async () => {
    // Prepare
    await openDatabase([]).then((database) => database.close());
    const file = join(directory, DATABASE_FILE_NAME);
    const garbage = 'these are notes, not a database\n'.repeat(64);
    await writeFile(file, garbage);

    // Act
    const open = SqliteDatabase.open({ directory });

    // Assess
    await expect(open).rejects.toThrow(`${file} is not an SQLite database, or it is damaged`);
    expect(await readFile(file, 'utf8')).toBe(garbage);
  });
});

describe('schema migrations', () => {
  it('upgrades a database of the previous version and keeps its data', async () => {
    // Prepare: a database as the version before this one left it, with a configuration in it.
    const previous = await openDatabase(MIGRATIONS.slice(0, -1));
    previous.connection.prepare("INSERT INTO email_config VALUES ('kept', '{\"a\":1}')").run();
    expect(previous.schemaVersion).toBe(MIGRATIONS.length - 1);
    previous.close();

    // Act
    const upgraded = await openDatabase();

    // Assess
    expect(upgraded.schemaVersion).toBe(MIGRATIONS.length);
    expect(upgraded.connection.prepare('SELECT * FROM email_config').all()).toEqual([
      { cluster_id: 'kept', document: '{"a":1}' },
    ]);
    expect(tables(upgraded)).toEqual(expect.arrayContaining(['queue_message', 'queue_dead_letter']));
  });

  it.each(MIGRATIONS.map((step) => step.version - 1))(
    'brings a database at version %i to the latest',
    async (version) => {
      // Prepare
      (await openDatabase(MIGRATIONS.slice(0, version))).close();

      // Act
      const database = await openDatabase();

      // Assess
      expect(database.schemaVersion).toBe(MIGRATIONS.length);
      expect(tables(database)).toEqual(tables(await freshDatabase()));
    },
  );

  it('applies nothing when a step fails: the database stays at its version', async () => {
    // Prepare
    (await openDatabase(MIGRATIONS.slice(0, 1))).close();
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      description: 'fails half way',
      up(connection) {
        connection.exec('CREATE TABLE half_done (x INTEGER) STRICT');
        throw new Error('step failed');
      },
    };

    // Act
    const open = SqliteDatabase.open({ directory, migrations: [...MIGRATIONS, broken] });

    // Assess
    await expect(open).rejects.toThrow('step failed');
    const database = await openDatabase(MIGRATIONS.slice(0, 1));
    expect(database.schemaVersion).toBe(1);
    expect(tables(database)).not.toContain('queue_message');
    expect(tables(database)).not.toContain('half_done');
  });

  it('refuses a database from a newer version, saying so, and leaves it as it is', async () => {
    // Prepare: a later version added a step this code does not know.
    const later: Migration = {
      version: MIGRATIONS.length + 1,
      description: 'from the future',
      up: (connection) => connection.exec('CREATE TABLE from_the_future (x INTEGER) STRICT'),
    };
    (await openDatabase([...MIGRATIONS, later])).close();

    // Act
    const error = await SqliteDatabase.open({ directory }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(NewerSchemaError);
    expect((error as Error).message).toContain(join(directory, DATABASE_FILE_NAME));
    expect((error as Error).message).toContain(
      `schema version ${MIGRATIONS.length + 1}, but this version of appliance-notifier knows versions up to ${MIGRATIONS.length}`,
    );
    const database = await openDatabase([...MIGRATIONS, later]);
    expect(database.schemaVersion).toBe(MIGRATIONS.length + 1);
    expect(tables(database)).toContain('from_the_future');
  });

  it('refuses steps that are not numbered 1, 2, 3, ...', async () => {
    // Prepare
    const [first, second] = MIGRATIONS as [Migration, Migration];

    // Act
    const open = SqliteDatabase.open({ directory, migrations: [second, first] });

    // Assess
    await expect(open).rejects.toThrow('Schema steps must be numbered 1, 2, 3, ... in order');
  });
});

async function freshDatabase(): Promise<SqliteDatabase> {
  const database = await SqliteDatabase.open({ directory: join(root, 'fresh') });
  opened.push(database);
  return database;
}
