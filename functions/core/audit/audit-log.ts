// The audit trail: who did what to which cluster and when, from the token or the JWT. The admin
// API records every change (save, restore, delete, test email, OAuth2 authorize, replay, token
// changes); adapters store it (SQLite locally, the ledger's DynamoDB table in AWS) and
// `LoggedAuditLog` also logs each entry with the user.
import { randomUUID } from 'node:crypto';
import type { Clock, Log } from '../ports.js';

/** What an entry says was done. Publisher tokens (issue 15 item 1) record `publisher-token.*`. */
export const AUDIT_ACTIONS = [
  'config.save',
  'config.restore',
  'config.delete',
  'config.test-email',
  'oauth.authorize.start',
  'oauth.authorize.complete',
  'delivery.replay',
  'admin-token.create',
  'admin-token.revoke',
  'publisher-token.create',
  'publisher-token.revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What a caller records: `at` defaults to the clock's now. */
export interface NewAuditEntry {
  at?: string;
  /** The principal's id: the JWT's email/username, `admin-token`, `admin-token:<tokenId>`. */
  actor: string;
  action: AuditAction;
  clusterId: string;
  /** Small, secret-free facts: the version saved, the event replayed, the token id. */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditEntry extends Required<Omit<NewAuditEntry, 'detail'>> {
  /** Unique (random); with `at` it orders entries of the same millisecond (in no meaningful order). */
  id: string;
  detail?: Record<string, string | number | boolean>;
}

/** A place in a cluster's trail, newest first: the entries after it are older. */
export interface AuditPosition {
  at: string;
  id: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Where the next (older) page starts, when there may be one. */
  next?: AuditPosition;
}

/** The store of the trail; `record` is what services and routes call. */
export interface AuditLog {
  record(entry: NewAuditEntry): Promise<AuditEntry>;
  /** A cluster's entries, newest first. */
  page(clusterId: string, options: { limit: number; after?: AuditPosition }): Promise<AuditPage>;
}

/** How long entries are kept: the DynamoDB TTL and the SQLite pruning. */
export const AUDIT_RETENTION_DAYS = 400;
export const AUDIT_RETENTION_MS = AUDIT_RETENTION_DAYS * 24 * 60 * 60 * 1000;

export function completeEntry(entry: NewAuditEntry, clock: Clock): AuditEntry {
  const at = entry.at ?? clock().toISOString();
  // Canonical ISO only: the stores order entries by `at` as text.
  if (new Date(Date.parse(at)).toISOString() !== at) {
    throw new Error(
      `An audit entry's time must be an ISO 8601 UTC time like 2026-12-01T12:00:00.000Z, not ${at}`,
    );
  }
  return {
    id: randomUUID(),
    at,
    actor: entry.actor,
    action: entry.action,
    clusterId: entry.clusterId,
    ...(entry.detail && Object.keys(entry.detail).length > 0 ? { detail: entry.detail } : {}),
  };
}

/** Newest first: by time, then by id. */
export const newerFirst = (a: AuditPosition, b: AuditPosition) =>
  a.at === b.at ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.at < b.at ? 1 : -1;

/**
 * Every entry also goes to the log (Powertools: JSON with the user), so CloudWatch Logs holds the
 * trail even where the table's TTL has removed it. A store that fails fails the request (500,
 * logged as an error with the entry): a change is not acknowledged without its audit entry, and
 * the log still has who made it.
 */
export class LoggedAuditLog implements AuditLog {
  constructor(
    private readonly store: AuditLog,
    private readonly log: Log,
  ) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    let recorded: AuditEntry;
    try {
      recorded = await this.store.record(entry);
    } catch (error) {
      this.log.error('audit entry not stored', {
        audit: entry,
        user: entry.actor,
        clusterId: entry.clusterId,
        error: String(error),
      });
      throw error;
    }
    this.log.info('audit', { audit: recorded, user: recorded.actor, clusterId: recorded.clusterId });
    return recorded;
  }

  page(clusterId: string, options: { limit: number; after?: AuditPosition }): Promise<AuditPage> {
    return this.store.page(clusterId, options);
  }
}

/** For tests and a deployment without a store: the trail in memory. */
export class InMemoryAuditLog implements AuditLog {
  private readonly entries: AuditEntry[] = [];

  constructor(private readonly clock: Clock = () => new Date()) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const complete = completeEntry(entry, this.clock);
    this.entries.push(complete);
    return complete;
  }

  async page(clusterId: string, options: { limit: number; after?: AuditPosition }): Promise<AuditPage> {
    const { after } = options;
    const older = this.entries
      .filter((entry) => entry.clusterId === clusterId)
      .filter((entry) => !after || newerFirst(after, entry) < 0)
      .sort(newerFirst);
    const entries = older.slice(0, options.limit);
    const last = entries.at(-1);
    return older.length > options.limit && last
      ? { entries, next: { at: last.at, id: last.id } }
      : { entries };
  }
}
