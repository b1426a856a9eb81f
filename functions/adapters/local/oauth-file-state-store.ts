import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { OAuthStateRecord, OAuthStateStore } from '../../core/oauth/oauth-ports.js';
import { ensurePrivateDirectory, hasErrorCode, isTempFileName, writeFileAtomic } from './atomic-file.js';

export interface FileOAuthStateStoreOptions {
  /** e.g. `${DATA_DIR}/oauth-state`; created (0700) on the first authorization. */
  directory: string;
  clock?: () => number;
}

const EXTENSION = '.json';

/**
 * The embedded runtime's state store: one file (0600) per pending authorization, named by the
 * SHA-256 of the state so that neither the file name nor a directory listing reveals it.
 * `take` renames the file to a name of its own before reading it: a rename succeeds for
 * exactly one caller, across processes too, so a replayed callback finds nothing. States
 * survive a restart of the runtime; expired files are swept on each `put`.
 */
export class FileOAuthStateStore implements OAuthStateStore {
  private readonly directory: string;
  private readonly clock: () => number;

  constructor(options: FileOAuthStateStoreOptions) {
    this.directory = resolve(options.directory);
    this.clock = options.clock ?? Date.now;
  }

  async put(record: OAuthStateRecord): Promise<void> {
    await ensurePrivateDirectory(this.directory);
    await this.sweep();
    await writeFileAtomic(this.fileOf(record.state), `${JSON.stringify(record)}\n`);
  }

  async take(state: string): Promise<OAuthStateRecord | undefined> {
    const claimed = join(this.directory, `.${randomBytes(8).toString('hex')}.taken.tmp`);
    try {
      await rename(this.fileOf(state), claimed);
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      const record = JSON.parse(await readFile(claimed, 'utf8')) as OAuthStateRecord;
      // Defence in depth: the file name is derived from the state, the content must agree.
      return record.state === state ? record : undefined;
    } catch {
      return undefined;
    } finally {
      await unlink(claimed).catch(() => undefined);
    }
  }

  /** Removes pending authorizations nobody completed (best effort; `take` checks expiry anyway). */
  private async sweep(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return;
    }
    const now = this.clock();
    await Promise.all(
      names
        .filter((name) => name.endsWith(EXTENSION) && !isTempFileName(name))
        .map(async (name) => {
          const file = join(this.directory, name);
          try {
            const record = JSON.parse(await readFile(file, 'utf8')) as Partial<OAuthStateRecord>;
            if (typeof record.expiresAt === 'number' && record.expiresAt < now) await unlink(file);
          } catch {
            // Taken or being written meanwhile: nothing to sweep.
          }
        }),
    );
  }

  private fileOf(state: string): string {
    return join(this.directory, `${createHash('sha256').update(state).digest('hex')}${EXTENSION}`);
  }
}
