import { type OAuthGrant, OAuthGrantSchema } from '../../core/config/stored-config.js';
import { GrantConflictError, type GrantStore, type VersionedGrant } from '../../core/oauth/grant-store.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { parseStoredJson, ValidationError } from '../../kernel/field-issues.js';
import { GRANT_SECRET_FIELDS, openSecretsInJson, sealSecretsInJson } from './secret-box.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * The embedded runtime's OAuth2 grants: one row per cluster in `oauth_grant`, apart from
 * `email_config`, with a version column. A write is one statement conditional on the version
 * (`UPDATE ... WHERE version = ?`, or an INSERT that fails on an existing row), so of two
 * writers that read one version, in this process or another, only the first lands.
 */
export class SqliteGrantStore implements GrantStore {
  private readonly select;
  private readonly insert;
  private readonly update;
  private readonly remove;

  constructor(private readonly database: SqliteDatabase) {
    const { connection } = database;
    this.select = connection.prepare<[string], { grant_json: string; version: number }>(
      'SELECT grant_json, version FROM oauth_grant WHERE cluster_id = ?',
    );
    this.insert = connection.prepare<[string, string]>(
      'INSERT INTO oauth_grant (cluster_id, grant_json, version) VALUES (?, ?, 1) ON CONFLICT (cluster_id) DO NOTHING',
    );
    this.update = connection.prepare<[string, string, number]>(
      'UPDATE oauth_grant SET grant_json = ?, version = version + 1 WHERE cluster_id = ? AND version = ?',
    );
    this.remove = connection.prepare<[string, number]>(
      'DELETE FROM oauth_grant WHERE cluster_id = ? AND version = ?',
    );
  }

  async get(clusterId: string): Promise<VersionedGrant | undefined> {
    const id = checkedClusterId(clusterId);
    const row = this.select.get(id);
    if (!row) return undefined;
    const where = `Stored OAuth2 grant of cluster "${id}" (in ${this.database.path})`;
    const { text } = openSecretsInJson(this.database.secrets, row.grant_json, GRANT_SECRET_FIELDS, {
      kind: 'grant',
      clusterId: id,
      where,
    });
    return { grant: parseStoredJson(text, OAuthGrantSchema, where), version: row.version };
  }

  async put(clusterId: string, grant: OAuthGrant, expectedVersion: number | undefined): Promise<number> {
    const id = checkedClusterId(clusterId);
    const text = sealSecretsInJson(this.database.secrets, checkedGrant(grant), GRANT_SECRET_FIELDS, {
      kind: 'grant',
      clusterId: id,
      where: `Stored OAuth2 grant of cluster "${id}"`,
    });
    if (expectedVersion === undefined) {
      if (this.insert.run(id, text).changes !== 1) throw new GrantConflictError(id, expectedVersion);
      return 1;
    }
    if (this.update.run(text, id, expectedVersion).changes !== 1) {
      throw new GrantConflictError(id, expectedVersion);
    }
    return expectedVersion + 1;
  }

  async delete(clusterId: string, expectedVersion: number): Promise<void> {
    const id = checkedClusterId(clusterId);
    if (this.remove.run(id, expectedVersion).changes !== 1) throw new GrantConflictError(id, expectedVersion);
  }
}

function checkedGrant(grant: OAuthGrant): OAuthGrant {
  const parsed = OAuthGrantSchema.safeParse(grant);
  if (!parsed.success)
    throw ValidationError.fromZod(parsed.error, 'Refusing to store an invalid OAuth2 grant');
  return parsed.data;
}
