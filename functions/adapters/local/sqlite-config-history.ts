import {
  type AppendOptions,
  CONFIG_HISTORY_LIMIT,
  type ConfigHistory,
  type ConfigVersion,
  ConfigVersionConflictError,
  type NewConfigVersion,
  parseConfigVersion,
  parseTestSummary,
  type TestEmailSummary,
  TestEmailSummarySchema,
} from '../../core/config/config-history.js';
import { StoredEmailConfigSchema } from '../../core/config/stored-config.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { CONFIG_SECRET_FIELDS, openSecretsInJson, sealSecretsInJson } from './secret-box.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface VersionRow {
  cluster_id: string;
  version: number;
  saved_at: string;
  saved_by: string;
  restored_from: number | null;
  document: string;
  test_email: string | null;
}

/**
 * The embedded runtime's configuration history: `config_version` rows, numbered per cluster
 * inside one IMMEDIATE transaction (read the newest, insert the next, drop beyond the limit), so
 * saves from this process or another never share a number.
 */
export class SqliteConfigHistory implements ConfigHistory {
  private readonly newest;
  private readonly insert;
  private readonly prune;
  private readonly selectAll;
  private readonly selectOne;
  private readonly updateTest;
  private readonly upsertLastTest;
  private readonly selectLastTest;
  private readonly appendTransaction;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly limit: number = CONFIG_HISTORY_LIMIT,
  ) {
    const { connection } = database;
    this.newest = connection
      .prepare<[string], number | null>('SELECT max(version) FROM config_version WHERE cluster_id = ?')
      .pluck();
    this.insert = connection.prepare<[string, number, string, string, number | null, string, string | null]>(
      `INSERT INTO config_version (cluster_id, version, saved_at, saved_by, restored_from, document, test_email)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.prune = connection.prepare<[string, number]>(
      'DELETE FROM config_version WHERE cluster_id = ? AND version <= ?',
    );
    this.selectAll = connection.prepare<[string, number], VersionRow>(
      'SELECT * FROM config_version WHERE cluster_id = ? ORDER BY version DESC LIMIT ?',
    );
    this.selectOne = connection.prepare<[string, number], VersionRow>(
      'SELECT * FROM config_version WHERE cluster_id = ? AND version = ?',
    );
    this.updateTest = connection.prepare<[string, string, number]>(
      'UPDATE config_version SET test_email = ? WHERE cluster_id = ? AND version = ?',
    );
    this.upsertLastTest = connection.prepare<[string, string]>(
      `INSERT INTO config_last_test (cluster_id, test_email) VALUES (?, ?)
       ON CONFLICT (cluster_id) DO UPDATE SET test_email = excluded.test_email`,
    );
    this.selectLastTest = connection
      .prepare<[string], string>('SELECT test_email FROM config_last_test WHERE cluster_id = ?')
      .pluck();
    this.appendTransaction = connection.transaction((entry: NewConfigVersion, after?: number): number => {
      const newest = this.newest.get(entry.clusterId) ?? 0;
      if (after !== undefined && after !== newest) {
        throw new ConfigVersionConflictError(entry.clusterId, after + 1);
      }
      const version = newest + 1;
      this.insert.run(
        entry.clusterId,
        version,
        entry.savedAt,
        entry.savedBy,
        entry.restoredFrom ?? null,
        sealSecretsInJson(this.database.secrets, entry.document, CONFIG_SECRET_FIELDS, {
          kind: 'config',
          clusterId: entry.clusterId,
          where: `A saved version of the configuration of cluster "${entry.clusterId}"`,
        }),
        entry.testEmail ? JSON.stringify(entry.testEmail) : null,
      );
      this.prune.run(entry.clusterId, version - this.limit);
      return version;
    });
  }

  async append(entry: NewConfigVersion, options: AppendOptions = {}): Promise<ConfigVersion> {
    checkedClusterId(entry.clusterId);
    const { oauth: _grant, ...document } = StoredEmailConfigSchema.parse(entry.document);
    const clean = { ...entry, document };
    const version = this.appendTransaction.immediate(clean, options.after);
    return { ...clean, version };
  }

  async list(clusterId: string, limit = this.limit): Promise<ConfigVersion[]> {
    const id = checkedClusterId(clusterId);
    return this.selectAll.all(id, Math.max(0, Math.floor(limit))).map((row) => this.fromRow(row));
  }

  async get(clusterId: string, version: number): Promise<ConfigVersion | undefined> {
    const row = this.selectOne.get(checkedClusterId(clusterId), version);
    return row ? this.fromRow(row) : undefined;
  }

  async setTest(clusterId: string, version: number, test: TestEmailSummary): Promise<boolean> {
    const text = JSON.stringify(TestEmailSummarySchema.parse(test));
    return this.updateTest.run(text, checkedClusterId(clusterId), version).changes === 1;
  }

  async putLastTest(clusterId: string, test: TestEmailSummary): Promise<void> {
    this.upsertLastTest.run(checkedClusterId(clusterId), JSON.stringify(TestEmailSummarySchema.parse(test)));
  }

  async lastTest(clusterId: string): Promise<TestEmailSummary | undefined> {
    const id = checkedClusterId(clusterId);
    const text = this.selectLastTest.get(id);
    return text === undefined ? undefined : parseTestSummary(text, `The last test email of cluster "${id}"`);
  }

  private fromRow(row: VersionRow): ConfigVersion {
    const where = `Version ${row.version} of the configuration of cluster "${row.cluster_id}" (in ${this.database.path})`;
    const document = openSecretsInJson(this.database.secrets, row.document, CONFIG_SECRET_FIELDS, {
      kind: 'config',
      clusterId: row.cluster_id,
      where,
    }).text;
    return parseConfigVersion(
      {
        clusterId: row.cluster_id,
        version: row.version,
        savedAt: row.saved_at,
        savedBy: row.saved_by,
        restoredFrom: row.restored_from ?? undefined,
        document,
        testEmail: row.test_email ?? undefined,
      },
      where,
    );
  }
}
