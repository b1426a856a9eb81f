import { readdir, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ConfigStore, checkedStoredForm } from '../../core/config/config-store.js';
import { type StoredEmailConfig, StoredEmailConfigSchema } from '../../core/config/stored-config.js';
import { ClusterIdSchema, checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { parseStoredJson, ValidationError } from '../../kernel/field-issues.js';
import { hasErrorCode } from './atomic-file.js';
import { CONFIG_SECRET_FIELDS, openSecretsInJson, sealSecretsInJson } from './secret-box.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * The embedded runtime's configuration store: one row per cluster in the embedded database,
 * the stored document as JSON. Each save is one committed transaction, so a crash or a
 * concurrent save (from this process or another) never leaves half a document; the last save
 * wins. Documents are validated when read as well as when written: the database can be
 * edited by hand (`sqlite3 notifier.db`) and imported files were never checked.
 */
export class SqliteConfigStore implements ConfigStore {
  private readonly select;
  private readonly upsert;
  private readonly selectIds;
  private readonly remove;

  constructor(private readonly database: SqliteDatabase) {
    const { connection } = database;
    this.select = connection.prepare<[string], { document: string }>(
      'SELECT document FROM email_config WHERE cluster_id = ?',
    );
    this.upsert = connection.prepare<[string, string]>(
      `INSERT INTO email_config (cluster_id, document) VALUES (?, ?)
       ON CONFLICT (cluster_id) DO UPDATE SET document = excluded.document`,
    );
    this.selectIds = connection
      .prepare<[], string>('SELECT cluster_id FROM email_config ORDER BY cluster_id')
      .pluck();
    this.remove = connection.prepare<[string]>('DELETE FROM email_config WHERE cluster_id = ?');
  }

  async get(clusterId: string): Promise<StoredEmailConfig | undefined> {
    const id = checkedClusterId(clusterId);
    const row = this.select.get(id);
    if (!row) return undefined;
    const where = `Stored configuration of cluster "${id}" (in ${this.database.path})`;
    const { text } = openSecretsInJson(this.database.secrets, row.document, CONFIG_SECRET_FIELDS, {
      kind: 'config',
      clusterId: id,
      where,
    });
    const document = parseStoredJson(text, StoredEmailConfigSchema, where);
    if (document.clusterId !== id) {
      throw new Error(`${where} belongs to cluster "${document.clusterId}"`);
    }
    return document;
  }

  async put(document: StoredEmailConfig): Promise<void> {
    const parsed = StoredEmailConfigSchema.safeParse(document);
    if (!parsed.success) {
      throw ValidationError.fromZod(parsed.error, 'Refusing to store an invalid configuration');
    }
    // The same limit as SSM's, so a configuration that works here also deploys; the grant is not
    // part of the document (it has its own table).
    // The size is checked on the plaintext form, as SSM stores it; the row holds the secrets sealed.
    const { text } = checkedStoredForm(parsed.data);
    const id = parsed.data.clusterId;
    const where = `Stored configuration of cluster "${id}"`;
    const scope = { kind: 'config', clusterId: id, where } as const;
    this.upsert.run(
      id,
      sealSecretsInJson(this.database.secrets, JSON.parse(text), CONFIG_SECRET_FIELDS, scope),
    );
  }

  async listClusterIds(): Promise<string[]> {
    return this.selectIds.all();
  }

  async delete(clusterId: string): Promise<boolean> {
    return this.remove.run(checkedClusterId(clusterId)).changes === 1;
  }
}

export const CONFIG_FILES_IMPORT_TASK = 'import config/*.json';
export const IMPORTED_SUFFIX = '.imported';

export interface ConfigFilesImport {
  /** Clusters whose `<id>.json` was copied into the database now. */
  imported: string[];
  /** `<id>.json` files that were not looked at: this database imported its files before. */
  ignored: string[];
  /** Imported files that could not be renamed to `*.json.imported` (with why). */
  notRenamed: string[];
}

/**
 * Versions before the embedded database kept one `<clusterId>.json` per cluster in
 * `DATA_DIR/config/`. The first time a database is opened, those documents are copied into it
 * as they are (one transaction, together with the note that the import is done, so it happens
 * once even if it is interrupted), and each file is then renamed to `<clusterId>.json.imported`:
 * kept as a backup, but visibly no longer read. A document that is invalid is imported all the
 * same and reported when read, as the file store reported it; a cluster the database already
 * has keeps the database's document.
 */
export async function importConfigFiles(
  database: SqliteDatabase,
  directory: string,
  clock: () => Date = () => new Date(),
): Promise<ConfigFilesImport> {
  const dir = resolve(directory);
  const files = await configFilesIn(dir);
  const { connection } = database;
  const done = connection.prepare('SELECT 1 FROM task_done WHERE name = ?');
  if (done.get(CONFIG_FILES_IMPORT_TASK)) {
    return { imported: [], ignored: files.map((file) => file.clusterId), notRenamed: [] };
  }
  const documents = await Promise.all(
    files.map(async (file) => ({ ...file, text: await readFile(file.path, 'utf8') })),
  );
  const insert = connection.prepare<[string, string]>(
    'INSERT INTO email_config (cluster_id, document) VALUES (?, ?) ON CONFLICT (cluster_id) DO NOTHING',
  );
  const markDone = connection.prepare<[string, number, string]>(
    'INSERT INTO task_done (name, done_at, detail) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
  );
  const imported = connection
    .transaction(() => {
      // Another process may have imported while this one was reading the files.
      if (done.get(CONFIG_FILES_IMPORT_TASK)) return undefined;
      const ids = documents
        .filter((d) => insert.run(d.clusterId, d.text).changes > 0)
        .map((d) => d.clusterId);
      markDone.run(CONFIG_FILES_IMPORT_TASK, clock().getTime(), JSON.stringify({ from: dir, imported: ids }));
      return ids;
    })
    .immediate();
  if (!imported) return { imported: [], ignored: files.map((file) => file.clusterId), notRenamed: [] };
  // The files held their secrets in plaintext; the database holds them sealed.
  if (imported.length > 0) database.resealSecrets();
  const notRenamed: string[] = [];
  for (const file of files) {
    try {
      await rename(file.path, `${file.path}${IMPORTED_SUFFIX}`);
    } catch (error) {
      // Imported all the same; the file is only a leftover, and the import is never repeated.
      notRenamed.push(`${file.path}: ${(error as Error).message}`);
    }
  }
  return { imported, ignored: [], notRenamed };
}

async function configFilesIn(directory: string): Promise<Array<{ clusterId: string; path: string }>> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
  return (
    names
      .filter((name) => name.endsWith('.json'))
      .map((name) => ({ clusterId: name.slice(0, -'.json'.length), path: join(directory, name) }))
      // Temp files of the old store start with a dot, which a cluster id never does.
      .filter((file) => ClusterIdSchema.safeParse(file.clusterId).success)
      .sort((a, b) => (a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0))
  );
}
