import type { PublisherTokenRecord, PublisherTokenStore } from '../../core/publishers/publisher-tokens.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface Row {
  token_id: string;
  cluster_id: string;
  token_hash: string;
  created_at: string;
  created_by: string;
}

const recordOf = (row: Row): PublisherTokenRecord => ({
  tokenId: row.token_id,
  clusterId: row.cluster_id,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

/** Publisher tokens in `publisher_token` (schema step 10): hashes only, one row per token. */
export class SqlitePublisherTokenStore implements PublisherTokenStore {
  private readonly insertRow;
  private readonly selectRow;
  private readonly selectCluster;
  private readonly deleteRow;

  constructor(database: SqliteDatabase) {
    const { connection } = database;
    this.insertRow = connection.prepare<[string, string, string, string, string]>(
      'INSERT INTO publisher_token (token_id, cluster_id, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectRow = connection.prepare<[string], Row>('SELECT * FROM publisher_token WHERE token_id = ?');
    this.selectCluster = connection.prepare<[string], Row>(
      'SELECT * FROM publisher_token WHERE cluster_id = ? ORDER BY created_at, token_id',
    );
    this.deleteRow = connection.prepare<[string, string]>(
      'DELETE FROM publisher_token WHERE cluster_id = ? AND token_id = ?',
    );
  }

  insert(record: PublisherTokenRecord): void {
    this.insertRow.run(
      record.tokenId,
      record.clusterId,
      record.tokenHash,
      record.createdAt,
      record.createdBy,
    );
  }

  get(tokenId: string): PublisherTokenRecord | undefined {
    const row = this.selectRow.get(tokenId);
    return row ? recordOf(row) : undefined;
  }

  list(clusterId: string): PublisherTokenRecord[] {
    return this.selectCluster.all(clusterId).map(recordOf);
  }

  remove(clusterId: string, tokenId: string): boolean {
    return this.deleteRow.run(clusterId, tokenId).changes > 0;
  }
}
