import {
  type AdminTokenInfo,
  type AdminTokenStore,
  type CreatedAdminToken,
  hashMatches,
  hashToken,
  newToken,
  tokenIdOf,
} from '../../core/access/admin-tokens.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface TokenRow {
  token_id: string;
  cluster_id: string;
  hash: Uint8Array;
  label: string | null;
  created_at: string;
  created_by: string;
}

const infoOf = (row: TokenRow): AdminTokenInfo => ({
  tokenId: row.token_id,
  clusterId: row.cluster_id,
  ...(row.label !== null ? { label: row.label } : {}),
  createdAt: row.created_at,
  createdBy: row.created_by,
});

/** The embedded runtime's per-cluster admin tokens: `admin_token` rows holding SHA-256 hashes. */
export class SqliteAdminTokenStore implements AdminTokenStore {
  private readonly insert;
  private readonly selectCluster;
  private readonly selectOne;
  private readonly remove;

  constructor(database: SqliteDatabase) {
    const { connection } = database;
    this.insert = connection.prepare<[string, string, Buffer, string | null, string, string]>(
      'INSERT INTO admin_token (token_id, cluster_id, hash, label, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.selectCluster = connection.prepare<[string], TokenRow>(
      'SELECT * FROM admin_token WHERE cluster_id = ? ORDER BY created_at, token_id',
    );
    this.selectOne = connection.prepare<[string], TokenRow>('SELECT * FROM admin_token WHERE token_id = ?');
    this.remove = connection.prepare<[string, string]>(
      'DELETE FROM admin_token WHERE cluster_id = ? AND token_id = ?',
    );
  }

  create(input: {
    clusterId: string;
    label?: string;
    createdBy: string;
    createdAt: string;
  }): CreatedAdminToken {
    const clusterId = checkedClusterId(input.clusterId);
    const { tokenId, token } = newToken();
    this.insert.run(
      tokenId,
      clusterId,
      hashToken(token),
      input.label ?? null,
      input.createdAt,
      input.createdBy,
    );
    return {
      tokenId,
      clusterId,
      ...(input.label !== undefined ? { label: input.label } : {}),
      createdAt: input.createdAt,
      createdBy: input.createdBy,
      token,
    };
  }

  list(clusterId: string): AdminTokenInfo[] {
    return this.selectCluster.all(checkedClusterId(clusterId)).map(infoOf);
  }

  revoke(clusterId: string, tokenId: string): boolean {
    return this.remove.run(checkedClusterId(clusterId), tokenId).changes > 0;
  }

  verify(token: string): { tokenId: string; clusterId: string } | undefined {
    const tokenId = tokenIdOf(token);
    if (!tokenId) return undefined;
    const row = this.selectOne.get(tokenId);
    if (!row || !hashMatches(token, row.hash)) return undefined;
    return { tokenId: row.token_id, clusterId: row.cluster_id };
  }
}
