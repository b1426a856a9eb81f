import {
  AUDIT_RETENTION_MS,
  type AuditEntry,
  type AuditLog,
  type AuditPage,
  type AuditPosition,
  completeEntry,
  type NewAuditEntry,
} from '../../core/audit/audit-log.js';
import type { Clock } from '../../core/ports.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface EntryRow {
  id: string;
  cluster_id: string;
  at: string;
  actor: string;
  action: string;
  detail: string | null;
}

const entryOf = (row: EntryRow): AuditEntry => ({
  id: row.id,
  at: row.at,
  actor: row.actor,
  action: row.action as AuditEntry['action'],
  clusterId: row.cluster_id,
  ...(row.detail !== null ? { detail: JSON.parse(row.detail) as AuditEntry['detail'] } : {}),
});

/** The embedded runtime's audit trail: `audit_entry` rows, pruned after AUDIT_RETENTION_DAYS. */
export class SqliteAuditLog implements AuditLog {
  private readonly insert;
  private readonly prune;
  private readonly selectFirst;
  private readonly selectAfter;

  constructor(
    database: SqliteDatabase,
    private readonly clock: Clock = () => new Date(),
  ) {
    const { connection } = database;
    this.insert = connection.prepare<[string, string, string, string, string, string | null]>(
      'INSERT INTO audit_entry (id, cluster_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.prune = connection.prepare<[string]>('DELETE FROM audit_entry WHERE at < ?');
    this.selectFirst = connection.prepare<[string, number], EntryRow>(
      'SELECT * FROM audit_entry WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    );
    this.selectAfter = connection.prepare<[string, string, string, string, number], EntryRow>(
      `SELECT * FROM audit_entry WHERE cluster_id = ? AND (at < ? OR (at = ? AND id < ?))
       ORDER BY at DESC, id DESC LIMIT ?`,
    );
  }

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const complete = completeEntry({ ...entry, clusterId: checkedClusterId(entry.clusterId) }, this.clock);
    this.insert.run(
      complete.id,
      complete.clusterId,
      complete.at,
      complete.actor,
      complete.action,
      complete.detail ? JSON.stringify(complete.detail) : null,
    );
    this.prune.run(new Date(this.clock().getTime() - AUDIT_RETENTION_MS).toISOString());
    return complete;
  }

  async page(clusterId: string, options: { limit: number; after?: AuditPosition }): Promise<AuditPage> {
    const id = checkedClusterId(clusterId);
    const { after, limit } = options;
    // One more than asked: whether there is a next page.
    const rows = after
      ? this.selectAfter.all(id, after.at, after.at, after.id, limit + 1)
      : this.selectFirst.all(id, limit + 1);
    const entries = rows.slice(0, limit).map(entryOf);
    const last = entries.at(-1);
    return rows.length > limit && last ? { entries, next: { at: last.at, id: last.id } } : { entries };
  }
}
