// Versions before the embedded database kept the delivery ledger in a JSON-lines journal,
// `DATA_DIR/ledger/journal.jsonl`: one line per change, replayed in order. This reads such a
// journal once into the database.
import { readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import {
  DEFAULT_RECORD_RETENTION_DAYS,
  type DeliveryRecord,
  OUTCOMES,
} from '../../core/notify/delivery-ledger.js';
import type { Clock } from '../../core/ports.js';
import { hasErrorCode } from './atomic-file.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { recordDocument } from './sqlite-ledger.js';

export const JOURNAL_FILE_NAME = 'journal.jsonl';
export const LEDGER_JOURNAL_IMPORT_TASK = 'import ledger/journal.jsonl';
export const IMPORTED_DIRECTORY_SUFFIX = '.imported';

const OutcomeSchema = z.enum(OUTCOMES);
const ClaimSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('processing'), leaseUntil: z.number(), expiresAt: z.number() }),
  z.object({ status: z.literal('done'), outcome: OutcomeSchema, expiresAt: z.number() }),
]);
const FoldSchema = z.object({
  lastSentAt: z.number(),
  lastSentEventId: z.string(),
  foldedCount: z.number().int().nonnegative(),
  firstFoldedAt: z.number().optional(),
  pendingUntil: z.number().optional(),
  reported: z
    .object({
      lastSentAt: z.string(),
      lastSentEventId: z.string(),
      foldedCount: z.number().int().nonnegative(),
      firstFoldedAt: z.string().optional(),
    })
    .optional(),
  // Journals written before the slot had a version read as version 0, confirmed.
  version: z.number().int().nonnegative().default(0),
  expiresAt: z.number(),
});
const isTime = (value: string) => Number.isFinite(Date.parse(value));
const RecordSchema = z.object({
  clusterId: z.string(),
  eventId: z.string(),
  condition: z.string(),
  outcome: OutcomeSchema,
  reason: z.string().optional(),
  recipients: z.array(z.string()),
  pendingRecipients: z.array(z.string()).optional(),
  refusedRecipients: z.array(z.string()).optional(),
  messageId: z.string().optional(),
  at: z.string().refine(isTime),
  eventTime: z.string().refine(isTime),
  appliance: z.string().optional(),
  transient: z.boolean().optional(),
  envelope: z.unknown().optional(),
});
const EntrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('claim'), eventId: z.string(), claim: ClaimSchema }),
  z.object({ op: z.literal('unclaim'), eventId: z.string() }),
  z.object({ op: z.literal('fold'), key: z.string(), fold: FoldSchema }),
  z.object({ op: z.literal('unfold'), key: z.string() }),
  z.object({ op: z.literal('record'), record: RecordSchema }),
]);

type Claim = z.infer<typeof ClaimSchema>;
type Fold = z.infer<typeof FoldSchema>;

/** The journal's final state: what its lines add up to. */
export interface JournalState {
  claims: Map<string, Claim>;
  folds: Map<string, Fold>;
  /** By cluster and event id, each at its first arrival (the old journal had none: see below). */
  records: Map<string, DeliveryRecord>;
  /** Lines that were not a complete, known entry (a torn last line, a damaged one). */
  skippedLines: number;
}

/**
 * Replays a journal's text. Records were filed by event time and id; now one record stands for
 * an event id, in the log at its arrival. The journal never stored arrivals, so the first record
 * of an event is placed at its event time (where the old log showed it), but never later than it
 * was recorded (an event dated in the future was not there yet).
 */
export function replayJournal(text: string): JournalState {
  const state: JournalState = { claims: new Map(), folds: new Map(), records: new Map(), skippedLines: 0 };
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      state.skippedLines++;
      continue;
    }
    const parsed = EntrySchema.safeParse(json);
    if (!parsed.success) {
      state.skippedLines++;
      continue;
    }
    const entry = parsed.data;
    switch (entry.op) {
      case 'claim':
        state.claims.set(entry.eventId, entry.claim);
        break;
      case 'unclaim':
        state.claims.delete(entry.eventId);
        break;
      case 'fold':
        state.folds.set(entry.key, entry.fold);
        break;
      case 'unfold':
        state.folds.delete(entry.key);
        break;
      case 'record': {
        const { record } = entry;
        const key = `${record.clusterId}\u0000${record.eventId}`;
        const existing = state.records.get(key);
        if (record.outcome === 'rejected' && existing && existing.outcome !== 'rejected') break;
        const receivedAt =
          existing?.receivedAt ??
          new Date(Math.min(Date.parse(record.eventTime), Date.parse(record.at))).toISOString();
        state.records.set(key, { ...(record as Omit<DeliveryRecord, 'receivedAt'>), receivedAt });
        break;
      }
    }
  }
  return state;
}

export type LedgerJournalImport =
  /** No journal in the directory. */
  | { status: 'none' }
  /** A journal is there, but this database imported one before: it is not read. */
  | { status: 'ignored'; file: string }
  | {
      status: 'imported';
      file: string;
      records: number;
      claims: number;
      folds: number;
      skippedLines: number;
      /** Where the old directory is now, or why it could not be renamed. */
      renamedTo?: string;
      notRenamed?: string;
    };

/**
 * Imports `<directory>/journal.jsonl` into the database once: the live claims, fold slots and
 * records it adds up to (expired ones are left out; rows the database has already win), in one
 * transaction together with the note that the import is done, so it happens once even if it is
 * interrupted or two processes start at once. Then the directory is renamed to
 * `<directory>.imported`: kept as a backup, but visibly no longer read.
 */
export async function importLedgerJournal(
  database: SqliteDatabase,
  directory: string,
  clock: Clock = () => new Date(),
  recordRetentionDays = DEFAULT_RECORD_RETENTION_DAYS,
): Promise<LedgerJournalImport> {
  const dir = resolve(directory);
  const file = join(dir, JOURNAL_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT', 'ENOTDIR')) return { status: 'none' };
    throw error;
  }
  const { connection } = database;
  const done = connection.prepare('SELECT 1 FROM task_done WHERE name = ?');
  if (done.get(LEDGER_JOURNAL_IMPORT_TASK)) return { status: 'ignored', file };

  const state = replayJournal(text);
  const nowMs = clock().getTime();
  const oldestKept = nowMs - recordRetentionDays * 24 * 60 * 60 * 1000;
  const insertClaim = connection.prepare<[string, string, number | null, string | null, number]>(
    `INSERT INTO ledger_claim (event_id, status, lease_until, outcome, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING`,
  );
  const insertFold = connection.prepare<
    [string, number, string, number, number | null, number | null, string | null, number, number]
  >(
    `INSERT INTO ledger_fold (fold_key, last_sent_at, last_sent_event_id, folded_count, first_folded_at,
       pending_until, reported, version, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (fold_key) DO NOTHING`,
  );
  const insertRecord = connection.prepare<[string, string, number, string, number, string]>(
    `INSERT INTO ledger_record (cluster_id, event_id, received_at, outcome, recorded_at, record)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cluster_id, event_id) DO NOTHING`,
  );
  const markDone = connection.prepare<[string, number, string]>(
    'INSERT INTO task_done (name, done_at, detail) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
  );
  const counts = connection
    .transaction(() => {
      // Another process may have imported while this one was reading the file.
      if (done.get(LEDGER_JOURNAL_IMPORT_TASK)) return undefined;
      let claims = 0;
      let folds = 0;
      let records = 0;
      for (const [eventId, claim] of state.claims) {
        if (claim.expiresAt < nowMs) continue;
        const row =
          claim.status === 'processing'
            ? insertClaim.run(eventId, 'processing', claim.leaseUntil, null, claim.expiresAt)
            : insertClaim.run(eventId, 'done', null, claim.outcome, claim.expiresAt);
        claims += row.changes;
      }
      for (const [key, fold] of state.folds) {
        if (fold.expiresAt < nowMs) continue;
        folds += insertFold.run(
          key,
          fold.lastSentAt,
          fold.lastSentEventId,
          fold.foldedCount,
          fold.firstFoldedAt ?? null,
          fold.pendingUntil ?? null,
          fold.reported ? JSON.stringify(fold.reported) : null,
          fold.version,
          fold.expiresAt,
        ).changes;
      }
      for (const record of state.records.values()) {
        const atMs = Date.parse(record.at);
        if (atMs < oldestKept) continue;
        records += insertRecord.run(
          record.clusterId,
          record.eventId,
          Date.parse(record.receivedAt),
          record.outcome,
          atMs,
          recordDocument(record),
        ).changes;
      }
      const result = { records, claims, folds, skippedLines: state.skippedLines };
      markDone.run(LEDGER_JOURNAL_IMPORT_TASK, nowMs, JSON.stringify({ from: file, ...result }));
      return result;
    })
    .immediate();
  if (!counts) return { status: 'ignored', file };
  const renamedTo = `${dir}${IMPORTED_DIRECTORY_SUFFIX}`;
  try {
    await rename(dir, renamedTo);
    return { status: 'imported', file, ...counts, renamedTo };
  } catch (error) {
    // Imported all the same; the journal is only a leftover, and the import is never repeated.
    return { status: 'imported', file, ...counts, notRenamed: `${dir}: ${(error as Error).message}` };
  }
}
