import { type FileHandle, open, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_RECORD_RETENTION_DAYS,
  type DeliveryLedger,
  type DeliveryRecord,
  type EventClaim,
  type FoldDecision,
  type ListFailedOptions,
  type ListOptions,
  OUTCOMES,
  type Outcome,
} from '../../core/notify/delivery-ledger.js';
import { confirmFoldSlot, decideFoldSlot, type FoldSlot, undoFoldSlot } from '../../core/notify/fold-slot.js';
import { DEFAULT_CLAIM_TTL_DAYS, FOLD_RETENTION_AFTER_WINDOW_MS, isoOf, millis } from '../ledger-time.js';
import {
  ensurePrivateDirectory,
  PRIVATE_FILE_MODE,
  readFileIfExists,
  writeFileAtomic,
} from './atomic-file.js';

export interface FileLedgerOptions {
  /** e.g. `${DATA_DIR}/ledger`; created 0700. */
  directory: string;
  /** Decides what has expired when the journal is compacted; the operations take their own `now`. */
  clock?: () => Date;
  /** How long delivery records are kept after their `at`. */
  recordRetentionDays?: number;
  /** How long a finished event stays a duplicate after its claim or finish. */
  claimTtlDays?: number;
}

/** How long the journal writer waits to gather changes into one write. */
const GROUP_COMMIT_MS = 5;

export const JOURNAL_FILE_NAME = 'journal.jsonl';

const DAY_MS = 24 * 60 * 60 * 1000;
// Compaction rewrites every live entry, so it waits until superseded lines are both numerous
// and at least as many as the live ones: the rewrite cost stays proportional to the appends.
const COMPACT_MIN_SUPERSEDED = 1000;

type Claim =
  | { status: 'processing'; leaseUntil: number; expiresAt: number }
  | { status: 'done'; outcome: Outcome; expiresAt: number };

type Fold = FoldSlot;

interface ClusterRecords {
  byKey: Map<string, DeliveryRecord>;
  /** Sort keys (`<eventTime ISO>#<eventId>`), ascending. */
  keys: string[];
}

const OutcomeSchema = z.enum(OUTCOMES);
const ClaimSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('processing'), leaseUntil: z.number(), expiresAt: z.number() }),
  z.object({ status: z.literal('done'), outcome: OutcomeSchema, expiresAt: z.number() }),
]);
const FoldStateSchema = z.object({
  lastSentAt: z.string(),
  lastSentEventId: z.string(),
  foldedCount: z.number().int().nonnegative(),
  firstFoldedAt: z.string().optional(),
});
const FoldSchema = z.object({
  lastSentAt: z.number(),
  lastSentEventId: z.string(),
  foldedCount: z.number().int().nonnegative(),
  firstFoldedAt: z.number().optional(),
  pendingUntil: z.number().optional(),
  reported: FoldStateSchema.optional(),
  // Journals written before the slot had a version read as version 0, confirmed.
  version: z.number().int().nonnegative().default(0),
  expiresAt: z.number(),
});
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
  at: z.string(),
  eventTime: z.string(),
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
type Entry = z.infer<typeof EntrySchema>;

/**
 * The embedded runtime's delivery ledger: the state lives in memory and every change is
 * appended to a JSON-lines journal that is replayed at open. Each operation checks and updates
 * memory without an await in between, so it is atomic within the process; appends are batched
 * through one file handle in order and not fsynced one by one (`flush()` makes them durable).
 * One process per directory: two processes appending to one journal would not see each
 * other's claims.
 *
 * A write failure (disk full, ...) stops the ledger: later operations reject with it rather
 * than acting on state that can no longer be kept.
 */
export class FileLedger implements DeliveryLedger {
  private readonly claims = new Map<string, Claim>();
  private readonly folds = new Map<string, Fold>();
  private readonly clusters = new Map<string, ClusterRecords>();
  private recordCount = 0;
  /** Lines in the journal on disk plus those queued for it. */
  private lineCount = 0;

  private pending: string[] = [];
  private queued = 0;
  private written = 0;
  private writing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private handleClosed = false;
  private compactionFailed = false;

  private constructor(
    private readonly file: string,
    private handle: FileHandle,
    private readonly clock: () => Date,
    private readonly recordRetentionMs: number,
    private readonly claimTtlMs: number,
  ) {}

  static async open(options: FileLedgerOptions): Promise<FileLedger> {
    const directory = resolve(options.directory);
    const file = join(directory, JOURNAL_FILE_NAME);
    const clock = options.clock ?? (() => new Date());
    const recordRetentionMs = days(
      'recordRetentionDays',
      options.recordRetentionDays ?? DEFAULT_RECORD_RETENTION_DAYS,
    );
    const claimTtlMs = days('claimTtlDays', options.claimTtlDays ?? DEFAULT_CLAIM_TTL_DAYS);
    await ensurePrivateDirectory(directory);

    const replay = await readJournal(file);
    // A torn last line (a crash mid-append): cut it off, or the next append would be glued onto it.
    if (replay.validBytes < replay.totalBytes) await truncate(file, replay.validBytes);
    const handle = await open(file, 'a', PRIVATE_FILE_MODE);
    const ledger = new FileLedger(file, handle, clock, recordRetentionMs, claimTtlMs);
    try {
      // An older version or another tool may have created the file with wider permissions.
      await handle.chmod(PRIVATE_FILE_MODE);
      for (const entry of replay.entries) {
        try {
          ledger.apply(entry);
        } catch {
          // A record whose time does not parse: skipped like an unreadable line.
        }
      }
      ledger.lineCount = replay.lineCount;
      ledger.dropExpired(clock().getTime());
      if (ledger.shouldCompact()) await ledger.compact();
    } catch (error) {
      await ledger.handle.close();
      throw error;
    }
    return ledger;
  }

  async claimEvent(eventId: string, now: Date, leaseMs: number): Promise<EventClaim> {
    this.assertWritable();
    const nowMs = now.getTime();
    const current = this.liveClaim(eventId, nowMs);
    if (current?.status === 'done' && current.outcome !== 'failed') {
      return { status: 'duplicate', outcome: current.outcome };
    }
    if (current?.status === 'processing' && current.leaseUntil >= nowMs) return { status: 'in-progress' };
    const leaseUntil = nowMs + leaseMs;
    const claim: Claim = {
      status: 'processing',
      leaseUntil,
      expiresAt: Math.max(nowMs + this.claimTtlMs, leaseUntil),
    };
    this.commit({ op: 'claim', eventId, claim });
    return { status: 'claimed' };
  }

  async finishEvent(eventId: string, outcome: Outcome, now: Date): Promise<void> {
    this.assertWritable();
    if (!OutcomeSchema.safeParse(outcome).success) {
      throw new Error(`Unknown outcome ${JSON.stringify(outcome)}`);
    }
    this.commit({
      op: 'claim',
      eventId,
      claim: { status: 'done', outcome, expiresAt: now.getTime() + this.claimTtlMs },
    });
  }

  async releaseEvent(eventId: string): Promise<void> {
    this.assertWritable();
    // A finished event stays finished: a late release must not turn it back into new.
    if (this.claims.get(eventId)?.status === 'processing') this.commit({ op: 'unclaim', eventId });
  }

  async decideFold(
    key: string,
    eventId: string,
    now: Date,
    windowMs: number,
    pendingMs: number,
  ): Promise<FoldDecision> {
    this.assertWritable();
    const { decision, next } = decideFoldSlot(this.folds.get(key), eventId, {
      nowMs: now.getTime(),
      windowMs,
      pendingMs,
      retentionMs: FOLD_RETENTION_AFTER_WINDOW_MS,
    });
    this.commit({ op: 'fold', key, fold: next });
    return decision;
  }

  async confirmFold(key: string, eventId: string): Promise<void> {
    this.assertWritable();
    const next = confirmFoldSlot(this.folds.get(key), eventId);
    if (next) this.commit({ op: 'fold', key, fold: next });
  }

  async undoFold(key: string, eventId: string): Promise<void> {
    this.assertWritable();
    const next = undoFoldSlot(this.folds.get(key), eventId);
    if (next === null) this.commit({ op: 'unfold', key });
    else if (next) this.commit({ op: 'fold', key, fold: next });
  }

  async record(record: DeliveryRecord): Promise<void> {
    this.assertWritable();
    // Checked before anything changes: a record that cannot be placed must not half-apply.
    isoOf(record.eventTime, 'eventTime');
    millis(record.at, 'at');
    // Through JSON, as a replay will see it: no undefined fields, no shared references. The one
    // serialization is also the journal line.
    const json = JSON.stringify(record);
    this.commit(
      { op: 'record', record: JSON.parse(json) as DeliveryRecord },
      `{"op":"record","record":${json}}`,
    );
  }

  async getRecord(
    clusterId: string,
    eventTime: string,
    eventId: string,
  ): Promise<DeliveryRecord | undefined> {
    return this.clusters.get(clusterId)?.byKey.get(`${isoOf(eventTime, 'eventTime')}#${eventId}`);
  }

  async list(clusterId: string, options: ListOptions): Promise<DeliveryRecord[]> {
    const since = options.since ? isoOf(options.since, 'since') : undefined;
    return this.newestFirst(
      clusterId,
      options.limit,
      (key) => since === undefined || key >= since,
      () => true,
    );
  }

  /** Failed records, newest event first, for a replay once the cause is fixed. */
  async listFailed(options: ListFailedOptions = {}): Promise<DeliveryRecord[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const failed = (record: DeliveryRecord) => record.outcome === 'failed';
    if (options.clusterId !== undefined) {
      return this.newestFirst(options.clusterId, limit, () => true, failed);
    }
    const all: { key: string; record: DeliveryRecord }[] = [];
    for (const records of this.clusters.values()) {
      for (const [key, record] of records.byKey) if (failed(record)) all.push({ key, record });
    }
    all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    return all.slice(0, Math.max(0, Math.floor(limit))).map(({ record }) => structuredClone(record));
  }

  /** Resolves when everything appended so far is written and synced to disk. */
  async flush(): Promise<void> {
    this.wake?.();
    const target = this.queued;
    while (this.written < target && this.writing && !this.failure) await this.writing;
    if (this.failure) throw this.failure;
    if (!this.handleClosed) await this.handle.datasync();
  }

  /** Flushes and closes the journal; the ledger rejects every operation afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    // First, so that nothing is queued behind the final flush.
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.handleClosed = true;
      await this.handle.close();
    }
  }

  /** Ends the group-commit wait of the writer, when one is waiting. */
  private wake: (() => void) | undefined;

  private liveClaim(eventId: string, nowMs: number): Claim | undefined {
    const claim = this.claims.get(eventId);
    return claim && claim.expiresAt >= nowMs ? claim : undefined;
  }

  private newestFirst(
    clusterId: string,
    limit: number,
    keyMatches: (key: string) => boolean,
    recordMatches: (record: DeliveryRecord) => boolean,
  ): DeliveryRecord[] {
    const result: DeliveryRecord[] = [];
    const records = this.clusters.get(clusterId);
    const wanted = Math.floor(limit);
    if (!records || !(wanted > 0)) return result;
    for (let index = records.keys.length - 1; index >= 0 && result.length < wanted; index--) {
      const key = records.keys[index] as string;
      // Keys are sorted: once one is before `since`, all the rest are too.
      if (!keyMatches(key)) break;
      const record = records.byKey.get(key);
      if (record && recordMatches(record)) result.push(structuredClone(record));
    }
    return result;
  }

  // Applies an entry to memory and queues it for the journal, with no await in between.
  /** `line` is the entry's JSON when the caller has it already. */
  private commit(entry: Entry, line = JSON.stringify(entry)): void {
    this.apply(entry);
    this.pending.push(`${line}\n`);
    this.queued++;
    this.lineCount++;
    this.writing ??= this.drain();
  }

  private apply(entry: Entry): void {
    switch (entry.op) {
      case 'claim':
        this.claims.set(entry.eventId, entry.claim);
        return;
      case 'unclaim':
        this.claims.delete(entry.eventId);
        return;
      case 'fold':
        this.folds.set(entry.key, entry.fold);
        return;
      case 'unfold':
        this.folds.delete(entry.key);
        return;
      case 'record':
        this.putRecord(entry.record);
        return;
    }
  }

  private putRecord(record: DeliveryRecord): void {
    let records = this.clusters.get(record.clusterId);
    if (!records) {
      records = { byKey: new Map(), keys: [] };
      this.clusters.set(record.clusterId, records);
    }
    const key = `${isoOf(record.eventTime, 'eventTime')}#${record.eventId}`;
    // A rejected redelivery never replaces what an event became (sent, failed, folded).
    const existing = records.byKey.get(key);
    if (record.outcome === 'rejected' && existing && existing.outcome !== 'rejected') return;
    if (!existing) {
      records.keys.splice(insertionIndex(records.keys, key), 0, key);
      this.recordCount++;
    }
    records.byKey.set(key, record);
  }

  private dropExpired(nowMs: number): void {
    for (const [eventId, claim] of this.claims) if (claim.expiresAt < nowMs) this.claims.delete(eventId);
    for (const [key, fold] of this.folds) if (fold.expiresAt < nowMs) this.folds.delete(key);
    const oldest = nowMs - this.recordRetentionMs;
    for (const [clusterId, records] of this.clusters) {
      const kept = records.keys.filter((key) => {
        const record = records.byKey.get(key);
        if (record && Date.parse(record.at) >= oldest) return true;
        records.byKey.delete(key);
        this.recordCount--;
        return false;
      });
      if (kept.length === 0) this.clusters.delete(clusterId);
      else records.keys = kept;
    }
  }

  private liveCount(): number {
    return this.claims.size + this.folds.size + this.recordCount;
  }

  // One writer drains the queue in batches, so the journal keeps the order of the operations
  // and a burst of them costs a few writes instead of one each.
  private async drain(): Promise<void> {
    try {
      // Group commit: the changes of the next few milliseconds (one event makes four or five)
      // share one write, instead of one write each competing with the mail being sent.
      // flush() and close() cut the wait short.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, GROUP_COMMIT_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await writeAll(this.handle, Buffer.from(batch.join(''), 'utf8'));
        this.written += batch.length;
        if (this.shouldCompact()) await this.compact();
      }
    } catch (error) {
      this.failure = new Error(`The delivery ledger journal ${this.file} could not be written`, {
        cause: error,
      });
    } finally {
      this.writing = undefined;
    }
  }

  private shouldCompact(): boolean {
    const live = this.liveCount();
    const superseded = this.lineCount - live;
    return !this.compactionFailed && superseded >= COMPACT_MIN_SUPERSEDED && superseded >= live;
  }

  /**
   * Replaces the journal with the live state only (expired claims, folds and old records
   * dropped). Runs at open, or from the writer between batches: never with a batch in flight.
   * The snapshot is taken synchronously, so it holds exactly the operations queued so far; the
   * pending lines it covers are dropped, and later ones queue behind it for the new file.
   */
  private async compact(): Promise<void> {
    this.dropExpired(this.clock().getTime());
    const lines: string[] = [];
    for (const [key, fold] of this.folds)
      lines.push(JSON.stringify({ op: 'fold', key, fold } satisfies Entry));
    for (const [eventId, claim] of this.claims) {
      lines.push(JSON.stringify({ op: 'claim', eventId, claim } satisfies Entry));
    }
    for (const records of this.clusters.values()) {
      for (const key of records.keys) {
        const record = records.byKey.get(key);
        if (record) lines.push(JSON.stringify({ op: 'record', record } satisfies Entry));
      }
    }
    const covered = this.pending.length;
    try {
      await writeFileAtomic(this.file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    } catch {
      // The old journal is intact and the pending lines are still queued for it: carry on
      // appending there and leave compaction to the next open.
      this.compactionFailed = true;
      return;
    }
    // From here the old handle writes to a file that is no longer in the directory: failing to
    // open the new one must stop the ledger (the writer records the error).
    const previous = this.handle;
    this.handle = await open(this.file, 'a', PRIVATE_FILE_MODE);
    await previous.close();
    this.pending.splice(0, covered);
    this.written += covered;
    this.lineCount = lines.length + this.pending.length;
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('The delivery ledger is closed');
  }
}

interface Replay {
  entries: Entry[];
  lineCount: number;
  /** Bytes up to and including the last complete line. */
  validBytes: number;
  totalBytes: number;
}

async function readJournal(file: string): Promise<Replay> {
  const text = await readFileIfExists(file);
  if (text === undefined) return { entries: [], lineCount: 0, validBytes: 0, totalBytes: 0 };
  const end = text.lastIndexOf('\n') + 1;
  const entries: Entry[] = [];
  let lineCount = 0;
  for (const line of text.slice(0, end).split('\n')) {
    if (line.length === 0) continue;
    lineCount++;
    // A line that does not parse is skipped rather than refusing to start: the rest of the
    // journal is still the best account there is, and the next compaction drops it.
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = EntrySchema.safeParse(json);
    if (parsed.success) entries.push(parsed.data);
  }
  return {
    entries,
    lineCount,
    validBytes: Buffer.byteLength(text.slice(0, end), 'utf8'),
    totalBytes: Buffer.byteLength(text, 'utf8'),
  };
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

function insertionIndex(keys: string[], key: string): number {
  // Events mostly arrive in time order: the end is the usual place.
  const last = keys[keys.length - 1];
  if (last === undefined || last < key) return keys.length;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function days(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`FileLedger: ${name} must be a number > 0, got ${value}`);
  }
  return value * DAY_MS;
}
