// One embedded runtime per data directory. The lock is an SQLite exclusive transaction on a file
// of its own, held for the runtime's life: the operating system releases it when the process
// ends in any way (SIGKILL and power loss included), so a crash never leaves a stale lock behind,
// and whoever holds it knows that no other process is working on the data directory's queue.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from './atomic-file.js';

export const LOCK_FILE_NAME = 'notifier.lock';
const OWNER_FILE_NAME = 'notifier.lock.owner';

/** Another process holds the data directory. */
export class DataDirectoryBusyError extends Error {
  override readonly name = 'DataDirectoryBusyError';
  constructor(
    readonly directory: string,
    readonly owner: string | undefined,
  ) {
    super(
      `The data directory ${directory} is in use by another appliance-notifier${owner ? ` (${owner})` : ''}. Stop it first, or start this one with another DATA_DIR.`,
    );
  }
}

export class DataDirectoryLock {
  private constructor(private readonly connection: Database.Database) {}

  /** Takes the lock of `directory`, or throws DataDirectoryBusyError at once if another process has it. */
  static async acquire(directory: string): Promise<DataDirectoryLock> {
    const dir = resolve(directory);
    await ensurePrivateDirectory(dir);
    const connection = new Database(join(dir, LOCK_FILE_NAME), { timeout: 0 });
    try {
      // The default rollback journal: an EXCLUSIVE transaction locks the file against every
      // other connection (in WAL mode readers would still get in).
      connection.pragma('journal_mode = DELETE');
      connection.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      connection.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new DataDirectoryBusyError(dir, await readOwner(dir));
      }
      throw error;
    }
    await writeFile(join(dir, OWNER_FILE_NAME), `pid ${process.pid} since ${new Date().toISOString()}\n`, {
      mode: PRIVATE_FILE_MODE,
    });
    return new DataDirectoryLock(connection);
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (!this.connection.open) return;
    try {
      this.connection.exec('ROLLBACK');
    } finally {
      this.connection.close();
    }
  }
}

async function readOwner(directory: string): Promise<string | undefined> {
  try {
    return (await readFile(join(directory, OWNER_FILE_NAME), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
