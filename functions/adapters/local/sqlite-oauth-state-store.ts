import { createHash } from 'node:crypto';
import type { OAuthStateRecord, OAuthStateStore } from '../../core/oauth/oauth-ports.js';
import type { SqliteDatabase } from './sqlite-database.js';

export interface SqliteOAuthStateStoreOptions {
  database: SqliteDatabase;
  /** Epoch milliseconds; decides which abandoned authorizations are swept. */
  clock?: () => number;
}

/**
 * Abandoned authorizations are kept this long after they expire, so that a callback that comes
 * late is told "expired" (the caller checks `expiresAt`) rather than "unknown", then swept.
 */
export const EXPIRED_STATE_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Pending OAuth2 authorizations in the embedded database, keyed by the SHA-256 of the state:
 * neither the key nor the stored record holds the state, so a copy of the database cannot
 * complete anyone's sign-in. `take` is one `DELETE ... RETURNING` statement: of two
 * concurrent callbacks with one state, in this process or another, only one gets the record.
 * States survive a restart of the runtime.
 */
export class SqliteOAuthStateStore implements OAuthStateStore {
  private readonly clock: () => number;
  private readonly insert;
  private readonly remove;
  private readonly sweep;

  constructor(options: SqliteOAuthStateStoreOptions) {
    const { connection } = options.database;
    this.clock = options.clock ?? Date.now;
    // A plain INSERT: 256 random bits never collide; a collision would mean a bug, not bad luck.
    this.insert = connection.prepare<[string, string, number]>(
      'INSERT INTO oauth_state (state_hash, record, expires_at) VALUES (?, ?, ?)',
    );
    this.remove = connection.prepare<[string], { record: string }>(
      'DELETE FROM oauth_state WHERE state_hash = ? RETURNING record',
    );
    this.sweep = connection.prepare<[number]>('DELETE FROM oauth_state WHERE expires_at < ?');
  }

  async put(record: OAuthStateRecord): Promise<void> {
    const { state, ...rest } = record;
    this.sweep.run(this.clock() - EXPIRED_STATE_RETENTION_MS);
    this.insert.run(hashOf(state), JSON.stringify(rest), record.expiresAt);
  }

  /** The record, expired or not (the caller refuses an expired one, and can say why). */
  async take(state: string): Promise<OAuthStateRecord | undefined> {
    const row = this.remove.get(hashOf(state));
    if (!row) return undefined;
    return { ...(JSON.parse(row.record) as Omit<OAuthStateRecord, 'state'>), state };
  }
}

function hashOf(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}
