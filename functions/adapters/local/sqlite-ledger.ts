import type Database from 'better-sqlite3';
import {
  type CloseResult,
  DEFAULT_RECORD_RETENTION_DAYS,
  type DeliveryLedger,
  type DeliveryPage,
  type DeliveryRecord,
  type EventClaim,
  type FoldDecision,
  type FoldState,
  type GroupInfo,
  type GroupLedger,
  type GroupMemberEntry,
  type GroupState,
  type GroupTiming,
  type InhibitorMark,
  type JoinResult,
  type ListFailedOptions,
  type ListOptions,
  OUTCOMES,
  type Outcome,
  type PageOptions,
} from '../../core/notify/delivery-ledger.js';
import { confirmFoldSlot, decideFoldSlot, type FoldSlot, undoFoldSlot } from '../../core/notify/fold-slot.js';
import {
  compareMembers,
  decideGroupClose,
  finishGroupHead,
  type GroupHead,
  groupInfoOf,
  groupSendAt,
  liveInhibitor,
  openGroupHead,
  releaseGroupHead,
} from '../../core/notify/group-slot.js';
import type { Clock } from '../../core/ports.js';
import { DEFAULT_CLAIM_TTL_DAYS, FOLD_RETENTION_AFTER_WINDOW_MS, millis } from '../ledger-time.js';
import type { SqliteDatabase } from './sqlite-database.js';

export interface SqliteLedgerOptions {
  database: SqliteDatabase;
  /** Decides which records have passed the retention, and when to prune; the operations take their own `now`. */
  clock?: Clock;
  /** How long delivery records are kept after their `at` (the latest outcome). */
  recordRetentionDays?: number;
  /** How long a finished event stays a duplicate after its claim or finish. */
  claimTtlDays?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Expired rows are deleted at open and then at most this often, on a write. */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** SQLite's "no limit". */
const ALL = -1;

interface ClaimRow {
  status: 'processing' | 'done';
  lease_until: number | null;
  outcome: Outcome | null;
  expires_at: number;
}

interface FoldRow {
  last_sent_at: number;
  last_sent_event_id: string;
  folded_count: number;
  first_folded_at: number | null;
  pending_until: number | null;
  reported: string | null;
  version: number;
  expires_at: number;
}

interface RecordRow {
  cluster_id: string;
  event_id: string;
  received_at: number;
  record: string;
}

interface GroupRow {
  group_id: string;
  cluster_id: string;
  state: GroupState;
  opener_event_id: string;
  opened_at: number;
  send_at: number;
  closed_at: number | null;
  lease_until: number | null;
  finished_at: number | null;
  message_id: string | null;
  size: number;
  version: number;
  expires_at: number;
}

interface MemberRow {
  event_id: string;
  received_at: number;
  member: string;
}

interface ClusterRow {
  open_group_id: string | null;
  last_closed_at: number | null;
}

interface InhibitorRow {
  event_id: string;
  condition: string;
  until: number;
}

const GROUP_COLUMNS = `group_id, cluster_id, state, opener_event_id, opened_at, send_at, closed_at, lease_until,
  finished_at, message_id, size, version, expires_at`;

/** What a record's row holds besides its key columns: the record without the columns' fields. */
export function recordDocument(record: DeliveryRecord): string {
  const { clusterId: _cluster, eventId: _event, receivedAt: _arrival, ...rest } = record;
  return JSON.stringify(rest);
}

/**
 * The embedded runtime's delivery ledger, in the embedded database (tables `ledger_claim`,
 * `ledger_fold`, `ledger_record`). Every operation is one transaction, and those that read before
 * they write take the write lock first (IMMEDIATE), so processes sharing the database see one
 * another's claims and fold slots and never both win one. The fold rules are fold-slot.ts's, as
 * in the DynamoDB ledger. Claims, fold slots and records past their time count as absent at once
 * and are deleted at open and about hourly after.
 *
 * Group emails (GroupLedger) live in `ledger_group` (one row per group, the rules of group-slot.ts),
 * `ledger_group_member` (one row per member, envelope included), `ledger_group_cluster` (the
 * cluster's open group and when its last group closed) and `ledger_inhibitor` (one mark per
 * cluster and key). Each method is one IMMEDIATE transaction, so a join and a close of the same
 * group are strictly ordered: a member is either in the closed group's list or in the next group.
 * A unique partial index keeps a cluster at one open group. Groups are kept for the record
 * retention after their last change; their members go with them.
 */
export class SqliteLedger implements DeliveryLedger, GroupLedger {
  private readonly clock: Clock;
  private readonly recordRetentionMs: number;
  private readonly claimTtlMs: number;
  private readonly s;
  private readonly claimTx;
  private readonly recordTx;
  private readonly changeFoldTx;
  private readonly pruneTx;
  private readonly joinTx;
  private readonly closeTx;
  private readonly changeGroupTx;
  private readonly markTx;
  private readonly connection;
  /** The page queries, one per combination of filters used (prepared once). */
  private readonly pageQueries = new Map<string, Database.Statement<unknown[], RecordRow>>();
  private prunedAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(options: SqliteLedgerOptions) {
    const { connection } = options.database;
    this.connection = connection;
    this.clock = options.clock ?? (() => new Date());
    this.recordRetentionMs = days(
      'recordRetentionDays',
      options.recordRetentionDays ?? DEFAULT_RECORD_RETENTION_DAYS,
    );
    this.claimTtlMs = days('claimTtlDays', options.claimTtlDays ?? DEFAULT_CLAIM_TTL_DAYS);
    const recordColumns = 'cluster_id, event_id, received_at, record';
    const newestFirst = 'ORDER BY received_at DESC, event_id DESC LIMIT ?';
    const s = {
      claim: connection.prepare<[string], ClaimRow>(
        'SELECT status, lease_until, outcome, expires_at FROM ledger_claim WHERE event_id = ?',
      ),
      putClaim: connection.prepare<[string, string, number | null, string | null, number]>(
        `INSERT INTO ledger_claim (event_id, status, lease_until, outcome, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (event_id) DO UPDATE SET status = excluded.status, lease_until = excluded.lease_until,
           outcome = excluded.outcome, expires_at = excluded.expires_at`,
      ),
      release: connection.prepare<[string]>(
        "DELETE FROM ledger_claim WHERE event_id = ? AND status = 'processing'",
      ),
      releaseAll: connection.prepare("DELETE FROM ledger_claim WHERE status = 'processing'"),
      fold: connection.prepare<[string], FoldRow>(
        `SELECT last_sent_at, last_sent_event_id, folded_count, first_folded_at, pending_until, reported,
                version, expires_at
         FROM ledger_fold WHERE fold_key = ?`,
      ),
      putFold: connection.prepare<
        [string, number, string, number, number | null, number | null, string | null, number, number]
      >(
        `INSERT INTO ledger_fold (fold_key, last_sent_at, last_sent_event_id, folded_count, first_folded_at,
           pending_until, reported, version, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (fold_key) DO UPDATE SET last_sent_at = excluded.last_sent_at,
           last_sent_event_id = excluded.last_sent_event_id, folded_count = excluded.folded_count,
           first_folded_at = excluded.first_folded_at, pending_until = excluded.pending_until,
           reported = excluded.reported, version = excluded.version, expires_at = excluded.expires_at`,
      ),
      deleteFold: connection.prepare<[string]>('DELETE FROM ledger_fold WHERE fold_key = ?'),
      place: connection.prepare<
        [string, string],
        { received_at: number; outcome: Outcome; recorded_at: number }
      >('SELECT received_at, outcome, recorded_at FROM ledger_record WHERE cluster_id = ? AND event_id = ?'),
      putRecord: connection.prepare<[string, string, number, string, number, string]>(
        `INSERT INTO ledger_record (cluster_id, event_id, received_at, outcome, recorded_at, record)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (cluster_id, event_id) DO UPDATE SET received_at = excluded.received_at,
           outcome = excluded.outcome, recorded_at = excluded.recorded_at, record = excluded.record`,
      ),
      record: connection.prepare<[string, string, number], RecordRow>(
        `SELECT ${recordColumns} FROM ledger_record WHERE cluster_id = ? AND event_id = ? AND recorded_at >= ?`,
      ),
      list: connection.prepare<[string, number, number, number], RecordRow>(
        `SELECT ${recordColumns} FROM ledger_record
         WHERE cluster_id = ? AND received_at >= ? AND recorded_at >= ? ${newestFirst}`,
      ),
      failedOf: connection.prepare<[string, number, number], RecordRow>(
        `SELECT ${recordColumns} FROM ledger_record
         WHERE cluster_id = ? AND outcome = 'failed' AND recorded_at >= ? ${newestFirst}`,
      ),
      failed: connection.prepare<[number, number], RecordRow>(
        `SELECT ${recordColumns} FROM ledger_record
         WHERE outcome = 'failed' AND recorded_at >= ? ${newestFirst}`,
      ),
      pruneClaims: connection.prepare<[number]>('DELETE FROM ledger_claim WHERE expires_at < ?'),
      pruneFolds: connection.prepare<[number]>('DELETE FROM ledger_fold WHERE expires_at < ?'),
      pruneRecords: connection.prepare<[number]>('DELETE FROM ledger_record WHERE recorded_at < ?'),
      group: connection.prepare<[string, string, number], GroupRow>(
        `SELECT ${GROUP_COLUMNS} FROM ledger_group WHERE cluster_id = ? AND group_id = ? AND expires_at >= ?`,
      ),
      groupOfEvent: connection.prepare<[string, string, number], GroupRow>(
        `SELECT ${GROUP_COLUMNS.replace(/(\w+)/g, 'g.$1')} FROM ledger_group_member m
         JOIN ledger_group g ON g.group_id = m.group_id
         WHERE m.cluster_id = ? AND m.event_id = ? AND g.expires_at >= ?
         ORDER BY m.joined_at DESC, m.rowid DESC LIMIT 1`,
      ),
      insertGroup: connection.prepare<
        [string, string, GroupState, string, number, number, number, number, number]
      >(
        `INSERT INTO ledger_group (group_id, cluster_id, state, opener_event_id, opened_at, send_at, size, version,
           expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateGroup: connection.prepare<
        [
          GroupState,
          number | null,
          number | null,
          number | null,
          string | null,
          number,
          number,
          number,
          string,
        ]
      >(
        `UPDATE ledger_group SET state = ?, closed_at = ?, lease_until = ?, finished_at = ?, message_id = ?,
           size = ?, version = ?, expires_at = ? WHERE group_id = ?`,
      ),
      insertMember: connection.prepare<[string, string, string, number, string, number]>(
        `INSERT INTO ledger_group_member (group_id, event_id, cluster_id, received_at, member, joined_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      members: connection.prepare<[string], MemberRow>(
        'SELECT event_id, received_at, member FROM ledger_group_member WHERE group_id = ?',
      ),
      cluster: connection.prepare<[string, number], ClusterRow>(
        'SELECT open_group_id, last_closed_at FROM ledger_group_cluster WHERE cluster_id = ? AND expires_at >= ?',
      ),
      putCluster: connection.prepare<[string, string | null, number | null, number]>(
        `INSERT INTO ledger_group_cluster (cluster_id, open_group_id, last_closed_at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (cluster_id) DO UPDATE SET open_group_id = excluded.open_group_id,
           last_closed_at = excluded.last_closed_at, expires_at = excluded.expires_at`,
      ),
      putInhibitor: connection.prepare<[string, string, string, string, number, number]>(
        `INSERT INTO ledger_inhibitor (cluster_id, inhibit_key, event_id, condition, until, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (cluster_id, inhibit_key) DO UPDATE SET event_id = excluded.event_id,
           condition = excluded.condition, until = excluded.until, expires_at = excluded.expires_at`,
      ),
      inhibitor: connection.prepare<[string, string], InhibitorRow>(
        'SELECT event_id, condition, until FROM ledger_inhibitor WHERE cluster_id = ? AND inhibit_key = ?',
      ),
      pruneGroups: connection.prepare<[number]>('DELETE FROM ledger_group WHERE expires_at < ?'),
      dropExpiredOpen: connection.prepare<[string, number]>(
        "DELETE FROM ledger_group WHERE cluster_id = ? AND state = 'open' AND expires_at < ?",
      ),
      pruneGroupClusters: connection.prepare<[number]>(
        'DELETE FROM ledger_group_cluster WHERE expires_at < ? AND open_group_id IS NULL',
      ),
      pruneInhibitors: connection.prepare<[number]>('DELETE FROM ledger_inhibitor WHERE expires_at < ?'),
    };
    this.s = s;

    this.claimTx = connection.transaction((eventId: string, nowMs: number, leaseMs: number): EventClaim => {
      const current = s.claim.get(eventId);
      const live = current && current.expires_at >= nowMs ? current : undefined;
      if (live?.status === 'done' && live.outcome !== 'failed') {
        return { status: 'duplicate', outcome: outcomeOf(live.outcome, eventId) };
      }
      if (live?.status === 'processing' && (live.lease_until ?? 0) >= nowMs) return { status: 'in-progress' };
      const leaseUntil = nowMs + leaseMs;
      s.putClaim.run(eventId, 'processing', leaseUntil, null, Math.max(nowMs + this.claimTtlMs, leaseUntil));
      return { status: 'claimed' };
    });

    this.changeFoldTx = connection.transaction(
      <T>(
        key: string,
        change: (slot: FoldSlot | undefined) => { next: FoldSlot | null | undefined; result: T },
      ): T => {
        const row = s.fold.get(key);
        const { next, result } = change(row ? slotOf(row) : undefined);
        if (next === null) s.deleteFold.run(key);
        else if (next !== undefined) {
          s.putFold.run(
            key,
            next.lastSentAt,
            next.lastSentEventId,
            next.foldedCount,
            next.firstFoldedAt ?? null,
            next.pendingUntil ?? null,
            next.reported ? JSON.stringify(next.reported) : null,
            next.version,
            next.expiresAt,
          );
        }
        return result;
      },
    );

    this.recordTx = connection.transaction((record: DeliveryRecord, givenMs: number, atMs: number) => {
      const oldest = this.oldestKept();
      const existing = s.place.get(record.clusterId, record.eventId);
      const live = existing && existing.recorded_at >= oldest ? existing : undefined;
      // A rejected redelivery never replaces what an event became (sent, failed, folded).
      if (record.outcome === 'rejected' && live && live.outcome !== 'rejected') return;
      s.putRecord.run(
        record.clusterId,
        record.eventId,
        live ? live.received_at : givenMs,
        record.outcome,
        atMs,
        recordDocument(record),
      );
    });

    this.pruneTx = connection.transaction((nowMs: number) => {
      s.pruneClaims.run(nowMs);
      s.pruneFolds.run(nowMs);
      s.pruneRecords.run(nowMs - this.recordRetentionMs);
      s.pruneGroups.run(nowMs);
      s.pruneGroupClusters.run(nowMs);
      s.pruneInhibitors.run(nowMs);
    });

    const storeGroup = (head: GroupHead, expiresAt: number) => {
      s.updateGroup.run(
        head.state,
        head.closedAt ?? null,
        head.leaseUntil ?? null,
        head.finishedAt ?? null,
        head.messageId ?? null,
        head.size,
        head.version,
        expiresAt,
        head.groupId,
      );
    };

    this.joinTx = connection.transaction(
      (
        clusterId: string,
        member: GroupMemberEntry,
        receivedMs: number,
        nowMs: number,
        timing: GroupTiming,
      ) => {
        const keepUntil = nowMs + this.recordRetentionMs;
        // A member of a group in any state gets that group back: joining anew could email it twice.
        const mine = s.groupOfEvent.get(clusterId, member.eventId, nowMs);
        if (mine) return joined(headOf(mine), member.eventId, true);
        const cluster = s.cluster.get(clusterId, nowMs);
        const openRow = cluster?.open_group_id
          ? s.group.get(clusterId, cluster.open_group_id, nowMs)
          : undefined;
        let head: GroupHead;
        if (openRow && openRow.state === 'open') {
          head = { ...headOf(openRow), size: openRow.size + 1 };
          storeGroup(head, Math.max(openRow.expires_at, keepUntil));
        } else {
          // An open group past its retention (never closed) counts as gone: out of the unique index's way.
          s.dropExpiredOpen.run(clusterId, nowMs);
          const sendAt = groupSendAt(nowMs, timing, cluster?.last_closed_at ?? undefined);
          head = openGroupHead(clusterId, member, nowMs, sendAt);
          s.insertGroup.run(
            head.groupId,
            clusterId,
            head.state,
            head.openerEventId,
            head.openedAt,
            head.sendAt,
            head.size,
            head.version,
            keepUntil,
          );
          s.putCluster.run(clusterId, head.groupId, cluster?.last_closed_at ?? null, keepUntil);
        }
        s.insertMember.run(
          head.groupId,
          member.eventId,
          clusterId,
          receivedMs,
          memberDocument(member),
          nowMs,
        );
        return joined(head, member.eventId, false);
      },
    );

    this.closeTx = connection.transaction(
      (clusterId: string, groupId: string, nowMs: number, leaseMs: number): CloseResult => {
        const row = s.group.get(clusterId, groupId, nowMs);
        if (!row) throw new Error(`closeGroup: no group ${groupId} in cluster "${clusterId}"`);
        const head = headOf(row);
        const step = decideGroupClose(head, nowMs, leaseMs);
        if (step.status !== 'take') return { status: step.status, group: groupInfoOf(head) };
        const { next } = step;
        storeGroup(next, Math.max(row.expires_at, nowMs + this.recordRetentionMs));
        const cluster = s.cluster.get(clusterId, nowMs);
        if (cluster?.open_group_id === groupId) {
          s.putCluster.run(clusterId, null, next.closedAt ?? nowMs, nowMs + this.recordRetentionMs);
        }
        const members = s.members.all(groupId).map(memberOf).sort(compareMembers);
        return { status: 'closed', group: groupInfoOf(next), members };
      },
    );

    this.changeGroupTx = connection.transaction(
      (
        clusterId: string,
        groupId: string,
        nowMs: number,
        change: (head: GroupHead) => GroupHead | undefined,
      ) => {
        const row = s.group.get(clusterId, groupId, nowMs);
        if (!row) throw new Error(`No group ${groupId} in cluster "${clusterId}"`);
        const next = change(headOf(row));
        if (next) storeGroup(next, Math.max(row.expires_at, nowMs + this.recordRetentionMs));
      },
    );

    this.markTx = connection.transaction(
      (clusterId: string, keys: string[], mark: InhibitorMark, untilMs: number) => {
        // Kept a retention past its end: the delivery log may still point at it.
        const expiresAt = untilMs + this.recordRetentionMs;
        for (const key of new Set(keys)) {
          s.putInhibitor.run(clusterId, key, mark.eventId, mark.condition, untilMs, expiresAt);
        }
      },
    );

    this.pruneIfDue();
  }

  async claimEvent(eventId: string, now: Date, leaseMs: number): Promise<EventClaim> {
    this.assertOpen();
    this.pruneIfDue();
    return this.claimTx.immediate(eventId, millis(now, 'now'), leaseMs);
  }

  async finishEvent(eventId: string, outcome: Outcome, now: Date): Promise<void> {
    this.assertOpen();
    outcomeOf(outcome, eventId);
    this.s.putClaim.run(eventId, 'done', null, outcome, millis(now, 'now') + this.claimTtlMs);
  }

  async releaseEvent(eventId: string): Promise<void> {
    this.assertOpen();
    // A finished event stays finished: a late release must not turn it back into new.
    this.s.release.run(eventId);
  }

  /**
   * After a crash: gives back every claim still held (`processing`), so the redelivered events are
   * taken at once instead of after their leases. Only for the one process that holds the data
   * directory (`DataDirectoryLock`): a live invocation's claims would be taken from under it.
   * Returns how many.
   */
  releaseAbandonedClaims(): number {
    this.assertOpen();
    return this.s.releaseAll.run().changes;
  }

  async decideFold(
    key: string,
    eventId: string,
    now: Date,
    windowMs: number,
    pendingMs: number,
  ): Promise<FoldDecision> {
    this.assertOpen();
    const timing = {
      nowMs: millis(now, 'now'),
      windowMs,
      pendingMs,
      retentionMs: FOLD_RETENTION_AFTER_WINDOW_MS,
    };
    // better-sqlite3's Transaction type drops the generic: the result is the change's own.
    return this.changeFoldTx.immediate(key, (slot) => {
      const { decision, next } = decideFoldSlot(slot, eventId, timing);
      return { next, result: decision };
    }) as FoldDecision;
  }

  async confirmFold(key: string, eventId: string): Promise<void> {
    this.assertOpen();
    this.changeFoldTx.immediate(key, (slot) => ({ next: confirmFoldSlot(slot, eventId), result: undefined }));
  }

  async undoFold(key: string, eventId: string): Promise<void> {
    this.assertOpen();
    this.changeFoldTx.immediate(key, (slot) => ({ next: undoFoldSlot(slot, eventId), result: undefined }));
  }

  async record(record: DeliveryRecord): Promise<void> {
    this.assertOpen();
    // Checked before anything changes: a record that cannot be placed must not half-apply.
    millis(record.eventTime, 'eventTime');
    const givenMs = millis(record.receivedAt, 'receivedAt');
    const atMs = millis(record.at, 'at');
    this.pruneIfDue();
    this.recordTx.immediate(record, givenMs, atMs);
  }

  async getRecord(clusterId: string, eventId: string): Promise<DeliveryRecord | undefined> {
    this.assertOpen();
    const row = this.s.record.get(clusterId, eventId, this.oldestKept());
    return row ? recordOf(row) : undefined;
  }

  async list(clusterId: string, options: ListOptions): Promise<DeliveryRecord[]> {
    this.assertOpen();
    const limit = limitOf(options.limit);
    if (limit === 0) return [];
    const since = options.since ? millis(options.since, 'since') : Number.MIN_SAFE_INTEGER;
    return this.s.list.all(clusterId, since, this.oldestKept(), limit).map(recordOf);
  }

  async page(clusterId: string, options: PageOptions): Promise<DeliveryPage> {
    this.assertOpen();
    const limit = limitOf(options.limit);
    if (limit === 0) return { records: [] };
    // Keyset pagination on (received_at, event_id), the order of `list`; one row more than the
    // page tells whether another page follows.
    const where = ['cluster_id = ?', 'received_at >= ?', 'recorded_at >= ?'];
    const params: unknown[] = [
      clusterId,
      options.since ? millis(options.since, 'since') : Number.MIN_SAFE_INTEGER,
      this.oldestKept(),
    ];
    if (options.after) {
      const afterMs = millis(options.after.receivedAt, 'after.receivedAt');
      where.push('(received_at < ? OR (received_at = ? AND event_id < ?))');
      params.push(afterMs, afterMs, options.after.eventId);
    }
    if (options.outcomes) {
      if (options.outcomes.length === 0) return { records: [] };
      where.push(`outcome IN (${options.outcomes.map(() => '?').join(', ')})`);
      params.push(...options.outcomes);
    }
    if (options.condition !== undefined) {
      where.push("json_extract(record, '$.condition') = ?");
      params.push(options.condition);
    }
    const sql = `SELECT cluster_id, event_id, received_at, record FROM ledger_record WHERE ${where.join(' AND ')}
      ORDER BY received_at DESC, event_id DESC LIMIT ?`;
    let statement = this.pageQueries.get(sql);
    if (!statement) {
      statement = this.connection.prepare<unknown[], RecordRow>(sql);
      this.pageQueries.set(sql, statement);
    }
    const rows = statement.all(...params, limit === ALL ? ALL : limit + 1);
    const more = limit !== ALL && rows.length > limit;
    const records = (more ? rows.slice(0, limit) : rows).map(recordOf);
    const last = records.at(-1);
    return more && last
      ? { records, next: { receivedAt: last.receivedAt, eventId: last.eventId } }
      : { records };
  }

  /** Failed records (of one cluster, or of all), newest arrival first, for a replay once the cause is fixed. */
  async listFailed(options: ListFailedOptions = {}): Promise<DeliveryRecord[]> {
    this.assertOpen();
    const limit = limitOf(options.limit);
    if (limit === 0) return [];
    const rows =
      options.clusterId === undefined
        ? this.s.failed.all(this.oldestKept(), limit)
        : this.s.failedOf.all(options.clusterId, this.oldestKept(), limit);
    return rows.map(recordOf);
  }

  async joinGroup(
    clusterId: string,
    member: GroupMemberEntry,
    now: Date,
    timing: GroupTiming,
  ): Promise<JoinResult> {
    this.assertOpen();
    const receivedMs = millis(member.receivedAt, 'receivedAt');
    const nowMs = millis(now, 'now');
    this.pruneIfDue();
    return this.joinTx.immediate(clusterId, member, receivedMs, nowMs, timing);
  }

  async groupOf(clusterId: string, eventId: string): Promise<GroupInfo | undefined> {
    this.assertOpen();
    const row = this.s.groupOfEvent.get(clusterId, eventId, this.clock().getTime());
    return row ? groupInfoOf(headOf(row)) : undefined;
  }

  async closeGroup(clusterId: string, groupId: string, now: Date, leaseMs: number): Promise<CloseResult> {
    this.assertOpen();
    return this.closeTx.immediate(clusterId, groupId, millis(now, 'now'), leaseMs);
  }

  async releaseGroup(clusterId: string, groupId: string): Promise<void> {
    this.assertOpen();
    this.changeGroupTx.immediate(clusterId, groupId, this.clock().getTime(), releaseGroupHead);
  }

  async finishGroup(
    clusterId: string,
    groupId: string,
    outcome: 'sent' | 'failed',
    now: Date,
    messageId?: string,
  ): Promise<void> {
    this.assertOpen();
    const nowMs = millis(now, 'now');
    this.changeGroupTx.immediate(clusterId, groupId, nowMs, (head) =>
      finishGroupHead(head, outcome, nowMs, messageId),
    );
  }

  async markInhibitor(clusterId: string, keys: string[], mark: InhibitorMark): Promise<void> {
    this.assertOpen();
    const untilMs = millis(mark.until, 'until');
    this.markTx.immediate(clusterId, keys, mark, untilMs);
  }

  async findInhibitor(clusterId: string, keys: string[], now: Date): Promise<InhibitorMark | undefined> {
    this.assertOpen();
    const nowMs = millis(now, 'now');
    const marks = [...new Set(keys)].map((key) => {
      const row = this.s.inhibitor.get(clusterId, key);
      return row
        ? { eventId: row.event_id, condition: row.condition, until: new Date(row.until).toISOString() }
        : undefined;
    });
    return liveInhibitor(marks, nowMs);
  }

  /** Deletes the claims, fold slots and records that have expired (they already count as absent). */
  prune(): void {
    this.assertOpen();
    const nowMs = this.clock().getTime();
    this.pruneTx.immediate(nowMs);
    this.prunedAt = nowMs;
  }

  /**
   * The ledger refuses every operation afterwards. The database is the caller's: it stays open
   * (every change is committed already, there is nothing to flush).
   */
  async close(): Promise<void> {
    this.closed = true;
  }

  private pruneIfDue(): void {
    const nowMs = this.clock().getTime();
    if (nowMs - this.prunedAt >= PRUNE_INTERVAL_MS || nowMs < this.prunedAt) this.prune();
  }

  /** Records last written before this are past the retention. */
  private oldestKept(): number {
    return this.clock().getTime() - this.recordRetentionMs;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The delivery ledger is closed');
  }
}

function headOf(row: GroupRow): GroupHead {
  const head: GroupHead = {
    groupId: row.group_id,
    clusterId: row.cluster_id,
    state: row.state,
    openerEventId: row.opener_event_id,
    openedAt: row.opened_at,
    sendAt: row.send_at,
    size: row.size,
    version: row.version,
  };
  if (row.closed_at !== null) head.closedAt = row.closed_at;
  if (row.lease_until !== null) head.leaseUntil = row.lease_until;
  if (row.finished_at !== null) head.finishedAt = row.finished_at;
  if (row.message_id !== null) head.messageId = row.message_id;
  return head;
}

function joined(head: GroupHead, eventId: string, alreadyMember: boolean): JoinResult {
  return { ...groupInfoOf(head), opener: head.openerEventId === eventId, alreadyMember };
}

/** A member's row holds, besides its key columns, the entry's other fields as JSON. */
function memberDocument(member: GroupMemberEntry): string {
  const { eventId: _event, receivedAt: _arrival, ...rest } = member;
  return JSON.stringify(rest);
}

function memberOf(row: MemberRow): GroupMemberEntry {
  let rest: Omit<GroupMemberEntry, 'eventId' | 'receivedAt'>;
  try {
    rest = JSON.parse(row.member);
  } catch {
    throw new Error(`The group member entry of event "${row.event_id}" is not valid JSON`);
  }
  return { eventId: row.event_id, receivedAt: new Date(row.received_at).toISOString(), ...rest };
}

function slotOf(row: FoldRow): FoldSlot {
  const slot: FoldSlot = {
    lastSentAt: row.last_sent_at,
    lastSentEventId: row.last_sent_event_id,
    foldedCount: row.folded_count,
    version: row.version,
    expiresAt: row.expires_at,
  };
  if (row.first_folded_at !== null) slot.firstFoldedAt = row.first_folded_at;
  if (row.pending_until !== null) slot.pendingUntil = row.pending_until;
  if (row.reported !== null) slot.reported = JSON.parse(row.reported) as FoldState;
  return slot;
}

function recordOf(row: RecordRow): DeliveryRecord {
  let rest: Omit<DeliveryRecord, 'clusterId' | 'eventId' | 'receivedAt'>;
  try {
    rest = JSON.parse(row.record);
  } catch {
    throw new Error(
      `The delivery record of event "${row.event_id}" (cluster "${row.cluster_id}") is not valid JSON`,
    );
  }
  return {
    clusterId: row.cluster_id,
    eventId: row.event_id,
    ...rest,
    receivedAt: new Date(row.received_at).toISOString(),
  };
}

function outcomeOf(value: unknown, eventId: string): Outcome {
  if (!(OUTCOMES as readonly unknown[]).includes(value)) {
    throw new Error(`Unknown outcome ${JSON.stringify(value)} for event "${eventId}"`);
  }
  return value as Outcome;
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined || limit === Number.POSITIVE_INFINITY) return ALL;
  const wanted = Math.floor(limit);
  // NaN and anything below 1 ask for nothing.
  if (!(wanted > 0)) return 0;
  return wanted;
}

function days(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`SqliteLedger: ${name} must be a number > 0, got ${value}`);
  }
  return value * DAY_MS;
}
