import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
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
  type LogPosition,
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
import { DEFAULT_CLAIM_TTL_DAYS, FOLD_RETENTION_AFTER_WINDOW_MS, isoOf, millis } from '../ledger-time.js';
import { LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbLedgerOptions {
  /**
   * Created once per process by the composition root. The adapter wraps it in a document
   * client, which shares (and sets `translateConfig` on) the client's config: give the ledger
   * a client of its own rather than one that other document clients wrap differently.
   */
  client: DynamoDBClient;
  tableName: string;
  /** How long delivery records are kept (TTL after `at`, the last outcome's time). */
  recordTtlDays?: number;
  /**
   * How long a finished event stays a duplicate (TTL after its claim or finish). It must outlast
   * the platform's redeliveries and retries (EventBridge retries for up to 24 hours).
   */
  claimTtlDays?: number;
  /** Items a filtered Query of `page` reads at least per request (default 100; tests use fewer). */
  filteredQueryItems?: number;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = LEDGER_TABLE_KEYS;
const DAY_MS = 24 * 60 * 60 * 1000;
// Each retry needs another writer to have changed the item in between; a handful of rounds
// is plenty, and a bound keeps a pathological loop from outliving the invocation.
const MAX_CONDITIONAL_ROUNDS = 8;
/** A storm's events for one key race for its slot: each round has one winner, the rest read again. */
const MAX_FOLD_ROUNDS = 64;
// DynamoDB items hold at most 400 KB; the detail is capped at 64 KiB upstream, so an envelope
// this large means something upstream changed. Keeping the record beats failing to store it.
const MAX_ENVELOPE_BYTES = 300 * 1024;
/** Fold hints kept at most (the oldest go first). */
const MAX_FOLD_HINTS = 64;
/**
 * How long a hint is used. A slot read ahead is for the decision a few requests later in the same
 * invocation; a slot as written, for its owner's confirmation or undo after the send (the owner's
 * lease, 5 minutes by default, keeps others from taking it over meanwhile).
 */
const PREFETCHED_FOLD_HINT_MS = 10_000;
const WRITTEN_FOLD_HINT_MS = 5 * 60_000;
/** Joins of a storm race for one cluster pointer: each round has a winner, the rest read again. */
const MAX_GROUP_ROUNDS = 64;
/**
 * `page` reads at most this many Query pages per call. A FilterExpression applies after Limit,
 * so a filtered Query page may match fewer records than asked for (or none); `page` keeps
 * reading until the page is full or the log ends, but stops after this many reads and returns
 * what matched so far with a `next` position (the last item read), so one request stays bounded.
 */
export const MAX_QUERY_PAGES_PER_CALL = 10;
/** Items a filtered Query reads at least per request (Limit counts items before the filter). */
const DEFAULT_FILTERED_QUERY_ITEMS = 100;
const GROUP_STATES: readonly GroupState[] = ['open', 'sending', 'sent', 'failed'];

type Item = Record<string, NativeAttributeValue>;

/**
 * The delivery ledger in one DynamoDB table (on-demand, generic `pk`/`sk`, TTL on `expiresAt`):
 *
 * - `EVENT#<eventId>` / `CLAIM`: the event's claim (`status` processing|done, `leaseUntil` in
 *   epoch ms while processing, `outcome` when done)
 * - `FOLD#<foldKey>` / `FOLD`: fold state (`lastSentAt`, `firstFoldedAt` in epoch ms)
 * - `EVENT#<eventId>` / `RECORD#<clusterId>`: where the event's record is: the first arrival
 *   (`receivedAt`) stored for it, written with `if_not_exists`, so every later record of the event
 *   (a retry, a replay, a redelivery as a new message) finds the same sort key
 * - `CLUSTER#<clusterId>` / `AT#<receivedAt ISO>#<eventId>`: the delivery record, so a backwards
 *   Query lists newest arrival first and `since` is a key condition
 *
 * - `GROUP#<clusterId>` / `CLUSTER`: the cluster's group pointer (`openGroupId` while a group is
 *   open, `lastClosedAt` in epoch ms, `version`)
 * - `GROUP#<clusterId>#<groupId>` / `HEAD`: the group (GroupHead of group-slot.ts, times in epoch
 *   ms) and `memberIds`, the string set of the events that joined it: the commit of a join
 * - `GROUP#<clusterId>#<groupId>` / `MEMBER#<eventId>`: one member entry each (the envelope, up to
 *   64 KiB, as a JSON string), read by a paged Query and ordered by arrival when the group closes
 * - `EVENT#<eventId>` / `GROUP#<clusterId>`: the group the event last tried to join (`groupOf`
 *   and redeliveries find it; it counts only if that group's `memberIds` holds the event)
 * - `INHIBIT#<clusterId>` / `KEY#<key>`: an inhibitor mark (`until` in epoch ms)
 *
 * Atomicity comes from conditional single-item writes only (no transactions), so it also runs
 * against dynalite. Items past their TTL count as absent even before DynamoDB deletes them
 * (deletion lags by up to days), which keeps the behaviour deterministic.
 */
export class DynamoDbLedger implements DeliveryLedger, GroupLedger {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly recordTtlMs: number;
  private readonly claimTtlMs: number;
  private readonly filteredQueryItems: number;
  /**
   * Fold slots as read ahead (prefetchFold) or as this ledger last wrote them, by fold key: the
   * first round of the key's next change starts from one instead of a read. Only a guarded write
   * is ever made from one (a slot changed meanwhile fails it, and the next round reads); a
   * decision to write nothing is taken from a fresh read only.
   */
  private readonly foldHints = new Map<string, { until: number; item: Promise<Item | undefined> }>();

  constructor(options: DynamoDbLedgerOptions) {
    if (!options.tableName) throw new Error('DynamoDbLedger: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.recordTtlMs = days('recordTtlDays', options.recordTtlDays ?? DEFAULT_RECORD_RETENTION_DAYS);
    this.claimTtlMs = days('claimTtlDays', options.claimTtlDays ?? DEFAULT_CLAIM_TTL_DAYS);
    this.filteredQueryItems = Math.max(
      1,
      Math.floor(options.filteredQueryItems ?? DEFAULT_FILTERED_QUERY_ITEMS),
    );
  }

  async claimEvent(eventId: string, now: Date, leaseMs: number): Promise<EventClaim> {
    const key = claimKey(eventId);
    const nowMs = millis(now, 'now');
    const leaseUntil = nowMs + leaseMs;
    for (let round = 0; round < MAX_CONDITIONAL_ROUNDS; round++) {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...key,
              status: 'processing',
              claimedAt: now.toISOString(),
              leaseUntil,
              [TTL]: epochSeconds(Math.max(nowMs + this.claimTtlMs, leaseUntil)),
            },
            ConditionExpression:
              'attribute_not_exists(#pk) OR #outcome = :failed OR (#status = :processing AND #leaseUntil < :now) OR #ttl < :nowSeconds',
            ExpressionAttributeNames: {
              '#pk': PK,
              '#outcome': 'outcome',
              '#status': 'status',
              '#leaseUntil': 'leaseUntil',
              '#ttl': TTL,
            },
            ExpressionAttributeValues: {
              ':failed': 'failed',
              ':processing': 'processing',
              ':now': nowMs,
              ':nowSeconds': epochSeconds(nowMs),
            },
          }),
        );
        return { status: 'claimed' };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const output = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const existing = output.Item;
      // Gone, finished failed or lease expired since the write: another round can take it.
      if (!existing || isExpired(existing, nowMs)) continue;
      const status = existing.status;
      if (status === 'done') {
        const outcome = outcomeOf(existing, key.pk);
        if (outcome !== 'failed') return { status: 'duplicate', outcome };
      } else if (status === 'processing') {
        if (numberOf(existing, 'leaseUntil', key.pk) >= nowMs) return { status: 'in-progress' };
      } else {
        throw new Error(`Ledger item ${key.pk} has an unknown status ${JSON.stringify(status)}`);
      }
    }
    // The claim kept changing under us: someone else is busy with the event, so a later retry
    // is the safe answer (never a second email).
    return { status: 'in-progress' };
  }

  async finishEvent(eventId: string, outcome: Outcome, now: Date): Promise<void> {
    if (!isOutcome(outcome)) throw new Error(`Unknown outcome ${JSON.stringify(outcome)}`);
    const nowMs = millis(now, 'now');
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...claimKey(eventId),
          status: 'done',
          outcome,
          finishedAt: now.toISOString(),
          [TTL]: epochSeconds(nowMs + this.claimTtlMs),
        },
      }),
    );
  }

  async releaseEvent(eventId: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: claimKey(eventId),
          // A finished event stays finished: a late release must not turn it back into new.
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processing': 'processing' },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async decideFold(
    key: string,
    eventId: string,
    now: Date,
    windowMs: number,
    pendingMs: number,
  ): Promise<FoldDecision> {
    const nowMs = millis(now, 'now');
    const timing = { nowMs, windowMs, pendingMs, retentionMs: FOLD_RETENTION_AFTER_WINDOW_MS };
    return this.changeFold(key, 'decide', (slot) => {
      const { decision, next } = decideFoldSlot(slot, eventId, timing);
      return { next, result: decision };
    });
  }

  prefetchFold(key: string): void {
    const read = this.getItem(foldItemKey(key));
    read.catch(() => {});
    this.hintFold(key, read, PREFETCHED_FOLD_HINT_MS);
  }

  private hintFold(key: string, item: Promise<Item | undefined>, maxAgeMs: number): void {
    this.foldHints.delete(key);
    this.foldHints.set(key, { until: Date.now() + maxAgeMs, item });
    // Oldest first: a process folds few keys at once, and a hint not taken soon is of no use.
    for (const [oldest] of this.foldHints) {
      if (this.foldHints.size <= MAX_FOLD_HINTS) break;
      this.foldHints.delete(oldest);
    }
  }

  /** The key's hint, taken (used once), when it is recent and its read succeeded. */
  private async takeFoldHint(key: string): Promise<{ Item: Item | undefined } | undefined> {
    const hint = this.foldHints.get(key);
    if (!hint) return undefined;
    this.foldHints.delete(key);
    if (Date.now() > hint.until) return undefined;
    try {
      return { Item: await hint.item };
    } catch {
      return undefined;
    }
  }

  async confirmFold(key: string, eventId: string): Promise<void> {
    await this.changeFold(key, 'confirm', (slot) => ({
      next: confirmFoldSlot(slot, eventId),
      result: undefined,
    }));
  }

  async undoFold(key: string, eventId: string): Promise<void> {
    await this.changeFold(key, 'undo', (slot) => ({ next: undoFoldSlot(slot, eventId), result: undefined }));
  }

  /**
   * Read, decide with the shared rules, and write only if nobody changed the slot in between
   * (a conditional write on its version); a lost race reads again.
   */
  private async changeFold<T>(
    key: string,
    action: string,
    change: (slot: FoldSlot | undefined) => { next: FoldSlot | null | undefined; result: T },
  ): Promise<T> {
    const itemKey = foldItemKey(key);
    let hint = await this.takeFoldHint(key);
    for (let round = 0; round < MAX_FOLD_ROUNDS; round++) {
      const fromHint = hint !== undefined;
      const { Item } =
        hint ??
        (await this.documents.send(
          new GetCommand({ TableName: this.tableName, Key: itemKey, ConsistentRead: true }),
        ));
      hint = undefined;
      const slot = Item ? foldSlotOf(Item, itemKey[PK]) : undefined;
      const { next, result } = change(slot);
      if (next === undefined) {
        // Nothing to write, so no condition checks the slot: decided on a fresh read only.
        if (fromHint) {
          round--;
          continue;
        }
        return result;
      }
      const guard: {
        ConditionExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues?: Record<string, unknown>;
      } =
        slot === undefined
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
          : {
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': slot.version },
            };
      try {
        if (next === null) {
          await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: itemKey, ...guard }));
          this.hintFold(key, Promise.resolve(undefined), WRITTEN_FOLD_HINT_MS);
        } else {
          const written: Item = { ...itemKey, ...foldItemOf(next) };
          await this.documents.send(new PutCommand({ TableName: this.tableName, Item: written, ...guard }));
          this.hintFold(key, Promise.resolve(written), WRITTEN_FOLD_HINT_MS);
        }
        return result;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    // Thrown, not guessed: the caller treats it as temporary and the queue retries.
    throw new Error(
      `The fold state of "${key}" changed during each of ${MAX_FOLD_ROUNDS} attempts to ${action}`,
    );
  }

  /**
   * Joining writes the member item, then commits by adding the event to the head's `memberIds`
   * on condition that the group is still `open`. Closing flips the head to `sending` (a
   * version-guarded write that returns the head as it then is), so the `memberIds` it gets back
   * are final: every join committed before the flip, and every later one is refused and goes on
   * to the next group. The members returned are the member items whose event is in that set, so a
   * member item written by a refused join (deleted right after, or left to its TTL) is never in
   * the email, and a committed one always is: no member is lost or emailed twice.
   *
   * Opening writes the new group's head and the opener's member first, then points the cluster at
   * it (conditional on the pointer's version): of two events opening a quiet cluster at once one
   * wins, the other deletes its head and joins the winner's group. A pointer left on a group that
   * is no longer open (its closer crashed before moving it) is moved on by the next join.
   */
  async joinGroup(
    clusterId: string,
    member: GroupMemberEntry,
    now: Date,
    timing: GroupTiming,
  ): Promise<JoinResult> {
    const nowMs = millis(now, 'now');
    const receivedAt = isoOf(member.receivedAt, 'receivedAt');
    const expiresAt = epochSeconds(nowMs + this.recordTtlMs);
    const entry = memberItemOf({ ...member, receivedAt }, expiresAt);
    const mine = await this.committedGroupOf(clusterId, member.eventId, nowMs);
    if (mine) return joinedOf(mine, member.eventId, true);
    for (let round = 0; round < MAX_GROUP_ROUNDS; round++) {
      const pointer = await this.getItem(clusterPointerKey(clusterId));
      const version = pointer ? numberOf(pointer, 'version', `GROUP#${clusterId}`) : 0;
      const openGroupId = typeof pointer?.openGroupId === 'string' ? pointer.openGroupId : undefined;
      if (openGroupId !== undefined) {
        const head = await this.getHead(clusterId, openGroupId);
        if (head?.state === 'open') {
          const result = await this.tryJoin(head, member.eventId, entry, expiresAt);
          if (result) return result;
          // Closed since we read it: the next round moves the pointer on and joins the next group.
          continue;
        }
        await this.moveClusterOn(clusterId, openGroupId, head?.closedAt, nowMs);
        continue;
      }
      const lastClosedAt = typeof pointer?.lastClosedAt === 'number' ? pointer.lastClosedAt : undefined;
      const head = openGroupHead(clusterId, member, nowMs, groupSendAt(nowMs, timing, lastClosedAt));
      if (await this.tryOpen(head, entry, version, expiresAt)) return joinedOf(head, member.eventId, false);
    }
    throw new Error(
      `The group pointer of cluster "${clusterId}" changed during each of ${MAX_GROUP_ROUNDS} attempts to join it`,
    );
  }

  /** Joins an open group; undefined when it was closed meanwhile (our member item is removed again). */
  private async tryJoin(
    head: GroupHead,
    eventId: string,
    entry: Item,
    expiresAt: number,
  ): Promise<JoinResult | undefined> {
    const key = groupPartition(head.clusterId, head.groupId);
    await this.putIfAbsent({ [PK]: key, [SK]: memberSortKey(eventId), ...entry });
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...eventGroupKey(head.clusterId, eventId), groupId: head.groupId, [TTL]: expiresAt },
      }),
    );
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: headKey(head.clusterId, head.groupId),
          UpdateExpression: 'ADD #memberIds :member SET #ttl = :ttl',
          ConditionExpression: '#state = :open',
          ExpressionAttributeNames: { '#memberIds': 'memberIds', '#state': 'state', '#ttl': TTL },
          ExpressionAttributeValues: { ':member': new Set([eventId]), ':open': 'open', ':ttl': expiresAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = headOf(Attributes ?? {});
      const alreadyMember = memberIdsOf(Attributes ?? {}).has(eventId);
      return joinedOf({ ...before, size: before.size + (alreadyMember ? 0 : 1) }, eventId, alreadyMember);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Not committed: whether or not the closer saw the item, it filters it out by memberIds.
    await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: { [PK]: key, [SK]: memberSortKey(eventId) } }),
    );
    return undefined;
  }

  /** Opens `head` as the cluster's group unless someone else opened one first (then cleans up). */
  private async tryOpen(head: GroupHead, entry: Item, version: number, expiresAt: number): Promise<boolean> {
    const { clusterId, groupId, openerEventId } = head;
    const partition = groupPartition(clusterId, groupId);
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: partition, [SK]: memberSortKey(openerEventId), ...entry },
      }),
    );
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...headKey(clusterId, groupId),
          ...headItemOf(head),
          memberIds: new Set([openerEventId]),
          [TTL]: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...eventGroupKey(clusterId, openerEventId), groupId, [TTL]: expiresAt },
      }),
    );
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clusterPointerKey(clusterId),
          UpdateExpression: 'SET #open = :groupId, #version = :next, #ttl = :ttl',
          ConditionExpression:
            version === 0
              ? 'attribute_not_exists(#version)'
              : '#version = :version AND attribute_not_exists(#open)',
          ExpressionAttributeNames: { '#open': 'openGroupId', '#version': 'version', '#ttl': TTL },
          ExpressionAttributeValues: {
            ':groupId': groupId,
            ':next': version + 1,
            ':ttl': expiresAt,
            ...(version === 0 ? {} : { ':version': version }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Another event opened the cluster's group first: this one never existed for anyone.
    await Promise.all(
      [headKey(clusterId, groupId), { [PK]: partition, [SK]: memberSortKey(openerEventId) }].map((Key) =>
        this.documents.send(new DeleteCommand({ TableName: this.tableName, Key })),
      ),
    );
    return false;
  }

  /** The cluster's pointer leaves `groupId` (closed for sending): new events open the next group. */
  private async moveClusterOn(
    clusterId: string,
    groupId: string,
    closedAt: number | undefined,
    nowMs: number,
  ): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clusterPointerKey(clusterId),
          UpdateExpression:
            closedAt === undefined
              ? 'REMOVE #open ADD #version :one SET #ttl = :ttl'
              : 'REMOVE #open ADD #version :one SET #ttl = :ttl, #lastClosedAt = :closedAt',
          ConditionExpression: '#open = :groupId',
          ExpressionAttributeNames: {
            '#open': 'openGroupId',
            '#version': 'version',
            '#ttl': TTL,
            ...(closedAt === undefined ? {} : { '#lastClosedAt': 'lastClosedAt' }),
          },
          ExpressionAttributeValues: {
            ':groupId': groupId,
            ':one': 1,
            ':ttl': epochSeconds(nowMs + this.recordTtlMs),
            ...(closedAt === undefined ? {} : { ':closedAt': closedAt }),
          },
        }),
      );
    } catch (error) {
      // Moved on already, by the closer or by another join.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async groupOf(clusterId: string, eventId: string): Promise<GroupInfo | undefined> {
    // No clock here: a group past its TTL but not swept yet still answers (as DynamoDB would).
    const head = await this.committedGroupOf(clusterId, eventId);
    return head ? groupInfoOf(head) : undefined;
  }

  /** The group the event last joined, if the join was committed there (and the group not expired). */
  private async committedGroupOf(clusterId: string, eventId: string, nowMs?: number) {
    const pointer = await this.getItem(eventGroupKey(clusterId, eventId));
    if (!pointer || typeof pointer.groupId !== 'string') return undefined;
    const item = await this.getItem(headKey(clusterId, pointer.groupId));
    if (!item || (nowMs !== undefined && isExpired(item, nowMs)) || !memberIdsOf(item).has(eventId)) {
      return undefined;
    }
    return headOf(item);
  }

  async closeGroup(clusterId: string, groupId: string, now: Date, leaseMs: number): Promise<CloseResult> {
    const nowMs = millis(now, 'now');
    let closed: { head: GroupHead; memberIds: Set<string> } | undefined;
    const status = await this.changeGroup(
      clusterId,
      groupId,
      nowMs,
      (head) => {
        const step = decideGroupClose(head, nowMs, leaseMs);
        return step.status === 'take' ? step.next : step.status;
      },
      (head, memberIds) => {
        closed = { head, memberIds };
      },
    );
    if (!closed)
      return { status: status.result as 'open' | 'in-progress' | 'done', group: groupInfoOf(status.head) };
    const { head, memberIds } = closed;
    // Also on a takeover: the first closer may have crashed before it moved the pointer.
    await this.moveClusterOn(clusterId, groupId, head.closedAt, nowMs);
    const members = (await this.queryMembers(clusterId, groupId)).filter((m) => memberIds.has(m.eventId));
    return { status: 'closed', group: groupInfoOf(head), members: members.sort(compareMembers) };
  }

  async releaseGroup(clusterId: string, groupId: string): Promise<void> {
    await this.changeGroup(clusterId, groupId, Date.now(), (head) => releaseGroupHead(head) ?? 'unchanged');
  }

  async finishGroup(
    clusterId: string,
    groupId: string,
    outcome: 'sent' | 'failed',
    now: Date,
    messageId?: string,
  ): Promise<void> {
    const nowMs = millis(now, 'now');
    await this.changeGroup(
      clusterId,
      groupId,
      nowMs,
      (head) => finishGroupHead(head, outcome, nowMs, messageId) ?? 'unchanged',
    );
  }

  /**
   * Read the head, decide with group-slot.ts, and write only if its version is unchanged (joins
   * do not change it: they only add to `memberIds`). `stored` gets the head as written, with the
   * member ids it then holds.
   */
  private async changeGroup<R extends string>(
    clusterId: string,
    groupId: string,
    nowMs: number,
    change: (head: GroupHead) => GroupHead | R,
    stored?: (head: GroupHead, memberIds: Set<string>) => void,
  ): Promise<{ result: R | 'changed'; head: GroupHead }> {
    const key = headKey(clusterId, groupId);
    for (let round = 0; round < MAX_CONDITIONAL_ROUNDS; round++) {
      const item = await this.getItem(key);
      if (!item) throw new Error(`No group ${groupId} in cluster "${clusterId}"`);
      const head = headOf(item);
      const next = change(head);
      if (typeof next === 'string') return { result: next, head };
      const set: string[] = ['#version = :version', '#state = :state', '#ttl = :ttl'];
      const remove: string[] = [];
      const values: Record<string, unknown> = {
        ':version': next.version,
        ':state': next.state,
        ':ttl': epochSeconds(Math.max(nowMs + this.recordTtlMs, numberOf(item, TTL, key[PK]) * 1000)),
        ':previous': head.version,
      };
      const names: Record<string, string> = { '#version': 'version', '#state': 'state', '#ttl': TTL };
      for (const field of ['closedAt', 'leaseUntil', 'finishedAt', 'messageId'] as const) {
        names[`#${field}`] = field;
        const value = next[field];
        if (value === undefined) remove.push(`#${field}`);
        else {
          set.push(`#${field} = :${field}`);
          values[`:${field}`] = value;
        }
      }
      try {
        const { Attributes } = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
            ConditionExpression: '#version = :previous',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        const written = Attributes ?? {};
        stored?.(headOf(written), memberIdsOf(written));
        return { result: 'changed', head: headOf(written) };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    throw new Error(
      `The group ${groupId} changed during each of ${MAX_CONDITIONAL_ROUNDS} attempts to change it`,
    );
  }

  private async queryMembers(clusterId: string, groupId: string): Promise<GroupMemberEntry[]> {
    const members: GroupMemberEntry[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :member)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': groupPartition(clusterId, groupId), ':member': 'MEMBER#' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) members.push(memberOf(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return members;
  }

  async markInhibitor(clusterId: string, keys: string[], mark: InhibitorMark): Promise<void> {
    const untilMs = millis(mark.until, 'until');
    await Promise.all(
      [...new Set(keys)].map((key) =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...inhibitorKey(clusterId, key),
              eventId: mark.eventId,
              condition: mark.condition,
              until: untilMs,
              // Kept a retention past its end: the delivery log may still name it.
              [TTL]: epochSeconds(untilMs + this.recordTtlMs),
            },
          }),
        ),
      ),
    );
  }

  async findInhibitor(clusterId: string, keys: string[], now: Date): Promise<InhibitorMark | undefined> {
    const nowMs = millis(now, 'now');
    const marks = await Promise.all(
      [...new Set(keys)].map(async (key) => {
        const item = await this.getItem(inhibitorKey(clusterId, key));
        if (!item) return undefined;
        const where = `INHIBIT#${clusterId} ${key}`;
        return {
          eventId: stringOf(item, 'eventId', where),
          condition: stringOf(item, 'condition', where),
          until: new Date(numberOf(item, 'until', where)).toISOString(),
        };
      }),
    );
    return liveInhibitor(marks, nowMs);
  }

  private async getHead(clusterId: string, groupId: string): Promise<GroupHead | undefined> {
    const item = await this.getItem(headKey(clusterId, groupId));
    return item ? headOf(item) : undefined;
  }

  private async getItem(key: Item): Promise<Item | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }

  private async putIfAbsent(item: Item): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (error) {
      // Left by an earlier attempt of this event: the same entry.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async record(record: DeliveryRecord): Promise<void> {
    // Checked before anything is written: a record that cannot be placed must not half-apply.
    isoOf(record.eventTime, 'eventTime');
    const given = isoOf(record.receivedAt, 'receivedAt');
    const atMs = millis(record.at, 'at');
    const expiresAt = epochSeconds(atMs + this.recordTtlMs);
    const receivedAt = await this.placeRecord(record.clusterId, record.eventId, given, atMs, expiresAt);
    const item: Item = {
      [PK]: clusterPartition(record.clusterId),
      [SK]: recordSortKey(receivedAt, record.eventId),
      clusterId: record.clusterId,
      eventId: record.eventId,
      condition: record.condition,
      outcome: record.outcome,
      recipients: [...record.recipients],
      at: record.at,
      receivedAt,
      eventTime: record.eventTime,
      [TTL]: expiresAt,
    };
    if (record.reason !== undefined) item.reason = record.reason;
    if (record.messageId !== undefined) item.messageId = record.messageId;
    if (record.appliance !== undefined) item.appliance = record.appliance;
    if (record.transient !== undefined) item.transient = record.transient;
    if (record.pendingRecipients?.length) item.pendingRecipients = [...record.pendingRecipients];
    if (record.refusedRecipients?.length) item.refusedRecipients = [...record.refusedRecipients];
    if (record.envelope !== undefined) {
      // A string, not a map: the envelope is kept verbatim for a replay, never queried, and
      // DynamoDB maps cannot hold empty keys or every JSON shape an event may carry.
      const envelope = JSON.stringify(record.envelope);
      if (Buffer.byteLength(envelope, 'utf8') <= MAX_ENVELOPE_BYTES) item.envelope = envelope;
      else item.envelopeOmitted = true;
    }
    // A rejected redelivery never replaces what an event became (sent, failed, folded); a record
    // past its TTL (not yet swept) is gone.
    const keepOutcome =
      record.outcome === 'rejected'
        ? {
            ConditionExpression: 'attribute_not_exists(#pk) OR #outcome = :rejected OR #ttl < :nowSeconds',
            ExpressionAttributeNames: { '#pk': PK, '#outcome': 'outcome', '#ttl': TTL },
            ExpressionAttributeValues: { ':rejected': 'rejected', ':nowSeconds': epochSeconds(atMs) },
          }
        : {};
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item, ...keepOutcome }));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * The arrival the event's record is filed under: the first one stored for it (its pointer
   * item, kept with `if_not_exists`), or `given` when there is none yet or it expired. One
   * conditional write each way, so concurrent first records of one event agree on one place.
   */
  private async placeRecord(
    clusterId: string,
    eventId: string,
    given: string,
    nowMs: number,
    expiresAt: number,
  ): Promise<string> {
    const key = pointerKey(clusterId, eventId);
    for (let round = 0; round < MAX_CONDITIONAL_ROUNDS; round++) {
      try {
        const { Attributes } = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            // The TTL follows the record's: the pointer lives as long as the record it places.
            UpdateExpression:
              'SET #receivedAt = if_not_exists(#receivedAt, :given), #clusterId = :clusterId, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#pk) OR #ttl >= :nowSeconds',
            ExpressionAttributeNames: {
              '#pk': PK,
              '#receivedAt': 'receivedAt',
              '#clusterId': 'clusterId',
              '#ttl': TTL,
            },
            ExpressionAttributeValues: {
              ':given': given,
              ':clusterId': clusterId,
              ':ttl': expiresAt,
              ':nowSeconds': epochSeconds(nowMs),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return stringOf(Attributes ?? {}, 'receivedAt', key[PK]);
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      // The pointer expired (its record is gone with it): this arrival starts afresh, unless
      // another writer replaced the pointer first (then the next round reads theirs).
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, receivedAt: given, clusterId, [TTL]: expiresAt },
            ConditionExpression: '#ttl < :nowSeconds',
            ExpressionAttributeNames: { '#ttl': TTL },
            ExpressionAttributeValues: { ':nowSeconds': epochSeconds(nowMs) },
          }),
        );
        return given;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    throw new Error(
      `The record pointer of event "${eventId}" kept changing during ${MAX_CONDITIONAL_ROUNDS} attempts`,
    );
  }

  async getRecord(clusterId: string, eventId: string): Promise<DeliveryRecord | undefined> {
    const { Item: pointer } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: pointerKey(clusterId, eventId),
        ConsistentRead: true,
      }),
    );
    if (!pointer) return undefined;
    const receivedAt = stringOf(pointer, 'receivedAt', `${String(pointer[PK])} ${String(pointer[SK])}`);
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: clusterPartition(clusterId), [SK]: recordSortKey(receivedAt, eventId) },
        ConsistentRead: true,
      }),
    );
    return Item ? recordOf(Item) : undefined;
  }

  async list(clusterId: string, options: ListOptions): Promise<DeliveryRecord[]> {
    const since = options.since ? `AT#${isoOf(options.since, 'since')}` : undefined;
    return this.query(clusterId, options.limit, since, false);
  }

  async page(clusterId: string, options: PageOptions): Promise<DeliveryPage> {
    const wanted = Math.floor(options.limit);
    if (!(wanted > 0) || options.outcomes?.length === 0) return { records: [] };
    const since = options.since ? `AT#${isoOf(options.since, 'since')}` : undefined;
    const partition = clusterPartition(clusterId);
    let startKey: Item | undefined;
    if (options.after) {
      const afterKey = recordSortKey(
        isoOf(options.after.receivedAt, 'after.receivedAt'),
        options.after.eventId,
      );
      // A start key outside the key condition is an error for DynamoDB; nothing follows it anyway.
      if (since !== undefined && afterKey < since) return { records: [] };
      startKey = { [PK]: partition, [SK]: afterKey };
    }
    const names: Record<string, string> = { '#pk': PK, '#sk': SK };
    const values: Record<string, NativeAttributeValue> = { ':pk': partition, ':from': since ?? 'AT#' };
    const filters: string[] = [];
    if (options.outcomes) {
      names['#outcome'] = 'outcome';
      const placeholders = options.outcomes.map((outcome, n) => {
        values[`:outcome${n}`] = outcome;
        return `:outcome${n}`;
      });
      filters.push(`#outcome IN (${placeholders.join(', ')})`);
    }
    if (options.condition !== undefined) {
      names['#condition'] = 'condition';
      values[':condition'] = options.condition;
      filters.push('#condition = :condition');
    }
    const records: DeliveryRecord[] = [];
    for (let read = 0; read < MAX_QUERY_PAGES_PER_CALL; read++) {
      const remaining = wanted - records.length;
      // One item more than the page needs tells, unfiltered, whether another page follows.
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: since
          ? '#pk = :pk AND #sk >= :from'
          : '#pk = :pk AND begins_with(#sk, :from)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: filters.length > 0 ? Math.max(remaining + 1, this.filteredQueryItems) : remaining + 1,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      };
      const page = await this.documents.send(new QueryCommand(input));
      const items = page.Items ?? [];
      for (const item of items) {
        // A matched item past the page: the next page starts after the last one returned.
        if (records.length === wanted) return { records, next: positionOf(records) };
        records.push(recordOf(item));
      }
      if (!page.LastEvaluatedKey) return { records };
      startKey = page.LastEvaluatedKey;
      if (records.length === wanted) return { records, next: positionOf(records) };
    }
    // The read budget is spent: continue after the last item read (matched or not).
    return { records, next: positionOfKey(startKey) };
  }

  /** A cluster's failed records, newest arrival first, for a replay once the cause is fixed. */
  async listFailed(options: ListFailedOptions = {}): Promise<DeliveryRecord[]> {
    if (options.clusterId === undefined) {
      throw new Error('DynamoDbLedger.listFailed needs a clusterId: failed records are found per cluster');
    }
    return this.query(options.clusterId, options.limit ?? Number.POSITIVE_INFINITY, undefined, true);
  }

  private async query(
    clusterId: string,
    limit: number,
    fromSortKey: string | undefined,
    failedOnly: boolean,
  ): Promise<DeliveryRecord[]> {
    const wanted = Math.floor(limit);
    const records: DeliveryRecord[] = [];
    if (!(wanted > 0)) return records;
    let startKey: Item | undefined;
    do {
      const remaining = wanted - records.length;
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: fromSortKey
          ? '#pk = :pk AND #sk >= :from'
          : '#pk = :pk AND begins_with(#sk, :from)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': clusterPartition(clusterId), ':from': fromSortKey ?? 'AT#' },
        ScanIndexForward: false,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      };
      if (failedOnly) {
        // Limit counts items before the filter, so a filtered query reads whole pages instead.
        input.FilterExpression = '#outcome = :failed';
        input.ExpressionAttributeNames = { ...input.ExpressionAttributeNames, '#outcome': 'outcome' };
        input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ':failed': 'failed' };
      } else if (Number.isFinite(remaining)) {
        input.Limit = remaining;
      }
      const page = await this.documents.send(new QueryCommand(input));
      for (const item of page.Items ?? []) {
        if (records.length >= wanted) break;
        records.push(recordOf(item));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && records.length < wanted);
    return records;
  }
}

/** True for DynamoDB's "condition not met" (checked by name: errors may come from another realm). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'ConditionalCheckFailedException'
  );
}

function claimKey(eventId: string) {
  return { [PK]: `EVENT#${eventId}`, [SK]: 'CLAIM' };
}

function foldItemKey(key: string) {
  return { [PK]: `FOLD#${key}`, [SK]: 'FOLD' };
}

function pointerKey(clusterId: string, eventId: string) {
  return { [PK]: `EVENT#${eventId}`, [SK]: `RECORD#${clusterId}` };
}

function clusterPartition(clusterId: string): string {
  return `CLUSTER#${clusterId}`;
}

/** `receivedAt` is canonical ISO (isoOf), so string order is time order. */
function recordSortKey(receivedAt: string, eventId: string): string {
  return `AT#${receivedAt}#${eventId}`;
}

/** Where the last of `records` stands in the log. */
function positionOf(records: DeliveryRecord[]): LogPosition {
  const last = records.at(-1);
  if (!last) throw new Error('positionOf needs at least one record');
  return { receivedAt: last.receivedAt, eventId: last.eventId };
}

/** The log position of a record item's key (`AT#<receivedAt>#<eventId>`; an ISO time has no `#`). */
function positionOfKey(key: Item | undefined): LogPosition {
  const sortKey = key?.[SK];
  const cut = typeof sortKey === 'string' && sortKey.startsWith('AT#') ? sortKey.indexOf('#', 3) : -1;
  if (typeof sortKey !== 'string' || cut < 0) {
    throw new Error(`Not a delivery record key: ${JSON.stringify(sortKey)}`);
  }
  return { receivedAt: sortKey.slice(3, cut), eventId: sortKey.slice(cut + 1) };
}

function clusterPointerKey(clusterId: string) {
  return { [PK]: `GROUP#${clusterId}`, [SK]: 'CLUSTER' };
}

function groupPartition(clusterId: string, groupId: string): string {
  return `GROUP#${clusterId}#${groupId}`;
}

function headKey(clusterId: string, groupId: string) {
  return { [PK]: groupPartition(clusterId, groupId), [SK]: 'HEAD' };
}

function memberSortKey(eventId: string): string {
  return `MEMBER#${eventId}`;
}

function eventGroupKey(clusterId: string, eventId: string) {
  return { [PK]: `EVENT#${eventId}`, [SK]: `GROUP#${clusterId}` };
}

function inhibitorKey(clusterId: string, key: string) {
  return { [PK]: `INHIBIT#${clusterId}`, [SK]: `KEY#${key}` };
}

function headItemOf(head: GroupHead): Item {
  const { size: _counted, ...rest } = head;
  return { ...rest };
}

function headOf(item: Item): GroupHead {
  const where = `${String(item[PK])} ${String(item[SK])}`;
  const state = item.state;
  if (!(GROUP_STATES as readonly unknown[]).includes(state)) {
    throw new Error(`Ledger item ${where} has an unknown group state ${JSON.stringify(state)}`);
  }
  const head: GroupHead = {
    groupId: stringOf(item, 'groupId', where),
    clusterId: stringOf(item, 'clusterId', where),
    state: state as GroupState,
    openerEventId: stringOf(item, 'openerEventId', where),
    openedAt: numberOf(item, 'openedAt', where),
    sendAt: numberOf(item, 'sendAt', where),
    size: memberIdsOf(item).size,
    version: numberOf(item, 'version', where),
  };
  if (item.closedAt !== undefined) head.closedAt = numberOf(item, 'closedAt', where);
  if (item.leaseUntil !== undefined) head.leaseUntil = numberOf(item, 'leaseUntil', where);
  if (item.finishedAt !== undefined) head.finishedAt = numberOf(item, 'finishedAt', where);
  if (item.messageId !== undefined) head.messageId = stringOf(item, 'messageId', where);
  return head;
}

function memberIdsOf(item: Item): Set<string> {
  const ids = item.memberIds;
  return ids instanceof Set ? (ids as Set<string>) : new Set();
}

function joinedOf(head: GroupHead, eventId: string, alreadyMember: boolean): JoinResult {
  return { ...groupInfoOf(head), opener: head.openerEventId === eventId, alreadyMember };
}

function memberItemOf(member: GroupMemberEntry, expiresAt: number): Item {
  // Strings, not maps, as for records: kept verbatim, never queried.
  const envelope = JSON.stringify(member.envelope ?? null);
  if (Buffer.byteLength(envelope, 'utf8') > MAX_ENVELOPE_BYTES) {
    throw new Error(`The envelope of event "${member.eventId}" is too large to keep in its group`);
  }
  const item: Item = { eventId: member.eventId, receivedAt: member.receivedAt, envelope, [TTL]: expiresAt };
  if (member.foldKey !== undefined) item.foldKey = member.foldKey;
  if (member.folded !== undefined) item.folded = JSON.stringify(member.folded);
  return item;
}

function memberOf(item: Item): GroupMemberEntry {
  const where = `${String(item[PK])} ${String(item[SK])}`;
  const parse = (name: string) => {
    try {
      return JSON.parse(stringOf(item, name, where));
    } catch {
      throw new Error(`Ledger item ${where} holds a ${name} that is not valid JSON`);
    }
  };
  const member: GroupMemberEntry = {
    eventId: stringOf(item, 'eventId', where),
    receivedAt: stringOf(item, 'receivedAt', where),
    envelope: parse('envelope'),
  };
  if (typeof item.foldKey === 'string') member.foldKey = item.foldKey;
  if (item.folded !== undefined) member.folded = parse('folded') as FoldState;
  return member;
}

function isExpired(item: Item, nowMs: number): boolean {
  const expiresAt = item[TTL];
  return typeof expiresAt === 'number' && expiresAt < epochSeconds(nowMs);
}

function foldSlotOf(item: Item, where: string): FoldSlot {
  const slot: FoldSlot = {
    lastSentAt: numberOf(item, 'lastSentAt', where),
    lastSentEventId: stringOf(item, 'lastSentEventId', where),
    foldedCount: numberOf(item, 'foldedCount', where),
    // Items written before slots had a version read as version 0, confirmed.
    version: typeof item.version === 'number' ? item.version : 0,
    expiresAt:
      typeof item.slotExpiresAt === 'number' ? item.slotExpiresAt : numberOf(item, TTL, where) * 1000,
  };
  if (item.firstFoldedAt !== undefined) slot.firstFoldedAt = numberOf(item, 'firstFoldedAt', where);
  if (item.pendingUntil !== undefined) slot.pendingUntil = numberOf(item, 'pendingUntil', where);
  if (item.reported !== undefined) slot.reported = item.reported as FoldState;
  return slot;
}

function foldItemOf(slot: FoldSlot): Item {
  const { expiresAt, ...rest } = slot;
  return { ...rest, slotExpiresAt: expiresAt, [TTL]: epochSeconds(expiresAt) };
}

function recordOf(item: Item): DeliveryRecord {
  const where = `${String(item[PK])} ${String(item[SK])}`;
  const recipients = item.recipients;
  if (!Array.isArray(recipients) || !recipients.every((r) => typeof r === 'string')) {
    throw new Error(`Ledger item ${where} has no valid recipients`);
  }
  const record: DeliveryRecord = {
    clusterId: stringOf(item, 'clusterId', where),
    eventId: stringOf(item, 'eventId', where),
    condition: stringOf(item, 'condition', where),
    outcome: outcomeOf(item, where),
    recipients: recipients as string[],
    at: stringOf(item, 'at', where),
    // Items from before records were filed by arrival were filed by event time.
    receivedAt: typeof item.receivedAt === 'string' ? item.receivedAt : stringOf(item, 'eventTime', where),
    eventTime: stringOf(item, 'eventTime', where),
  };
  if (typeof item.reason === 'string') record.reason = item.reason;
  if (typeof item.messageId === 'string') record.messageId = item.messageId;
  if (typeof item.appliance === 'string') record.appliance = item.appliance;
  if (typeof item.transient === 'boolean') record.transient = item.transient;
  const addresses = (value: unknown) =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') && value.length > 0 ? value : undefined;
  const pending = addresses(item.pendingRecipients);
  if (pending) record.pendingRecipients = pending;
  const refused = addresses(item.refusedRecipients);
  if (refused) record.refusedRecipients = refused;
  if (typeof item.envelope === 'string') {
    try {
      record.envelope = JSON.parse(item.envelope);
    } catch {
      throw new Error(`Ledger item ${where} holds an envelope that is not valid JSON`);
    }
  }
  return record;
}

function outcomeOf(item: Item, where: string): Outcome {
  const outcome: unknown = item.outcome;
  if (!isOutcome(outcome)) {
    throw new Error(`Ledger item ${where} has an unknown outcome ${JSON.stringify(outcome)}`);
  }
  return outcome;
}

function isOutcome(value: unknown): value is Outcome {
  return (OUTCOMES as readonly unknown[]).includes(value);
}

function stringOf(item: Item, name: string, where: string): string {
  const value = item[name];
  if (typeof value !== 'string') throw new Error(`Ledger item ${where} has no string ${name}`);
  return value;
}

function numberOf(item: Item, name: string, where: string): number {
  const value = item[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`Ledger item ${where} has no number ${name}`);
  }
  return value;
}

function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function days(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`DynamoDbLedger: ${name} must be a number > 0, got ${value}`);
  }
  return value * DAY_MS;
}
