import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ConfigStore } from '../../core/config/config-store.js';
import { type StoredEmailConfig, StoredEmailConfigSchema } from '../../core/config/stored-config.js';
import { ClusterIdSchema } from '../../kernel/cluster-id-schema.js';
import { formatIssues, issuesFromZod, ValidationError } from '../../kernel/field-issues.js';
import {
  ensurePrivateDirectory,
  hasErrorCode,
  isTempFileName,
  readFileIfExists,
  withPathLock,
  writeFileAtomic,
} from './atomic-file.js';

export interface FileConfigStoreOptions {
  /** e.g. `${DATA_DIR}/config`; created (0700) on the first save. */
  directory: string;
}

const EXTENSION = '.json';

/**
 * The embedded runtime's configuration store: one JSON document per cluster, mode 0600,
 * replaced atomically so a crash or a concurrent save never leaves half a document.
 */
export class FileConfigStore implements ConfigStore {
  private readonly directory: string;

  constructor(options: FileConfigStoreOptions) {
    this.directory = resolve(options.directory);
  }

  async get(clusterId: string): Promise<StoredEmailConfig | undefined> {
    const file = this.fileOf(clusterId);
    const text = await readFileIfExists(file);
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text around the error, and the text holds secrets.
      throw new Error(`Stored configuration ${file} is not valid JSON`);
    }
    const parsed = StoredEmailConfigSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `Stored configuration ${file} is invalid: ${formatIssues(issuesFromZod(parsed.error))}`,
      );
    }
    if (parsed.data.clusterId !== clusterId) {
      throw new Error(`Stored configuration ${file} belongs to cluster "${parsed.data.clusterId}"`);
    }
    return parsed.data;
  }

  async put(document: StoredEmailConfig): Promise<void> {
    const parsed = StoredEmailConfigSchema.safeParse(document);
    if (!parsed.success) {
      throw ValidationError.fromZod(parsed.error, 'Refusing to store an invalid configuration');
    }
    const file = this.fileOf(parsed.data.clusterId);
    // Pretty-printed: the embedded runtime's users may read or edit the file by hand.
    const text = `${JSON.stringify(parsed.data, null, 2)}\n`;
    // Queue before the first await, so saves land in the order they were called.
    await withPathLock(file, async () => {
      await ensurePrivateDirectory(this.directory);
      await writeFileAtomic(file, text);
    });
  }

  async listClusterIds(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith(EXTENSION) && !isTempFileName(name))
      .map((name) => name.slice(0, -EXTENSION.length))
      .filter((id) => ClusterIdSchema.safeParse(id).success)
      .sort();
  }

  private fileOf(clusterId: string): string {
    // The id becomes a file name: anything but the documented alphabet could escape the directory.
    const checked = ClusterIdSchema.safeParse(clusterId);
    if (!checked.success) throw ValidationError.fromZod(checked.error, 'Invalid cluster id', ['clusterId']);
    return join(this.directory, `${checked.data}${EXTENSION}`);
  }
}
