// The delivery log port: what happened to every event (and daily notice), plus the two
// pieces of state that make delivery exactly-once and fold repeats. Adapters: DynamoDB (AWS)
// and SQLite (embedded runtime). Core decides; the ledger only stores atomically.

/**
 * `grouped` is the one outcome that is not final: the event waits in its cluster's group email
 * (issue 12), which records it `sent` (or `failed`) when it goes out. `inhibited`: a follow-on
 * condition superseded it (events/catalog.ts `supersedes`).
 */
export const OUTCOMES = ['sent', 'folded', 'rejected', 'failed', 'grouped', 'inhibited'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** How long the delivery log keeps a record by default (both ledgers; the notify service's time rule). */
export const DEFAULT_RECORD_RETENTION_DAYS = 30;

export interface DeliveryRecord {
  clusterId: string;
  /** The EventBridge event id (stable across redeliveries), or `daily-notice:<cluster>:<date>`. */
  eventId: string;
  /** Condition id, `daily-notice`, or `unknown` for an event that could not be identified. */
  condition: string;
  outcome: Outcome;
  /** Why it was folded, rejected or failed, in words an admin can act on. */
  reason?: string;
  /** Who got the email. */
  recipients: string[];
  /** Refused for now (4xx): the event is retried for these recipients only. */
  pendingRecipients?: string[];
  /** Refused for good (5xx). */
  refusedRecipients?: string[];
  messageId?: string;
  /** When this outcome was recorded. */
  at: string;
  /**
   * When the event arrived (the queue's SentTimestamp of its message): the record's position in
   * the log. The ledger keeps the first arrival it was given for an event id, so retries, replays
   * and redeliveries (even as a new message) replace the record in its place.
   */
  receivedAt: string;
  /** The event's own time (EventBridge `time`, clamped to its arrival when implausible): information only. */
  eventTime: string;
  /** Hostname of the reporting appliance, when known. */
  appliance?: string;
  /** For `failed`: the platform retries it (temporary failure) or not (permanent). */
  transient?: boolean;
  /** For `failed`: the original envelope, so the event can be replayed once the cause is fixed. */
  envelope?: unknown;
  /** The group email the event is (or was) in. */
  groupId?: string;
  /** For `inhibited`: the event that superseded it. */
  supersededBy?: { eventId: string; condition: string };
  /**
   * Failed attempts so far (relay errors, unexpected errors): the retry budget counts these, not
   * the queue's receives, so waiting for a group or for a relay's limit costs nothing.
   */
  failedAttempts?: number;
}

export type EventClaim =
  /** This invocation owns the event now and must finish or release it. */
  | { status: 'claimed' }
  /** The event was already handled with this final outcome: do nothing (a duplicate delivery). */
  | { status: 'duplicate'; outcome: Outcome }
  /** Another invocation holds a live lease on it: retry later rather than risk a second email. */
  | { status: 'in-progress' };

export interface FoldState {
  /** When the last email for this key went out. */
  lastSentAt: string;
  /** The event whose email that was (so only its own failure can undo the slot). */
  lastSentEventId: string;
  /** Repeats folded since that email. */
  foldedCount: number;
  /** The first folded repeat since that email. */
  firstFoldedAt?: string;
  /** That email's send was never confirmed (its sender crashed): it may not have gone out. */
  lastSentUnconfirmed?: boolean;
}

export type FoldDecision =
  /** Email this event; `previous` is what the email reports as folded since the last one. */
  | { send: true; previous?: FoldState }
  /** Inside the window: fold it; `state` counts it already. */
  | { send: false; state: FoldState };

export interface ListOptions {
  limit: number;
  /** Only records of events that arrived at or after this. */
  since?: Date;
}

/** A record's place in a cluster's log: newest arrival first, then event id descending. */
export interface LogPosition {
  receivedAt: string;
  eventId: string;
}

export interface PageOptions extends ListOptions {
  /** Only records after this place in the log (the `next` of the previous page). */
  after?: LogPosition;
  /** Only records with one of these outcomes. */
  outcomes?: readonly Outcome[];
  /** Only records of this condition id. */
  condition?: string;
}

export interface DeliveryPage {
  /** At most `limit` records, in log order. */
  records: DeliveryRecord[];
  /**
   * Where the next page starts, when more records may follow: absent at the end of the log. A
   * page may hold fewer than `limit` records and still have a `next` (an adapter reads a bounded
   * amount per call).
   */
  next?: LogPosition;
}

export interface DeliveryLedger {
  /**
   * Claims an event id for processing (a conditional write). A finished event is a duplicate,
   * unless it finished `failed`: a failed event may be claimed again (retry or replay).
   * A claim whose lease expired (a crashed invocation) may be taken over.
   */
  claimEvent(eventId: string, now: Date, leaseMs: number): Promise<EventClaim>;
  /** Marks the event finished with its final outcome; later deliveries of it are duplicates. */
  finishEvent(eventId: string, outcome: Outcome, now: Date): Promise<void>;
  /** Gives a claim back after a temporary failure so that the platform's retry can take it. */
  releaseEvent(eventId: string): Promise<void>;

  /**
   * Atomically decides whether an event for `key` (cluster, condition, appliance) is emailed or
   * folded: emailed when no confirmed email went out for the key within `windowMs` before `now`
   * (the rules are `decideFoldSlot` in fold-slot.ts). The event that is to be emailed owns the slot
   * until `confirmFold`; a redelivery of the owner sends again, and an owner unconfirmed for
   * `pendingMs` (its lease) folds nothing more.
   */
  decideFold(
    key: string,
    eventId: string,
    now: Date,
    windowMs: number,
    pendingMs: number,
  ): Promise<FoldDecision>;
  /**
   * Optional, a hint: starts reading the slot of `key` that the next decideFold of it (in this
   * invocation, soon) reads, so that the read overlaps other work. decideFold stays atomic
   * either way: a slot changed since it was read fails the adapter's conditional write, which
   * then reads again.
   */
  prefetchFold?(key: string): void;
  /** The owner's email went out: the slot now folds repeats for its window. */
  confirmFold(key: string, eventId: string): Promise<void>;
  /** The email of `eventId` failed for good: restore the state from before its decision. */
  undoFold(key: string, eventId: string): Promise<void>;

  /**
   * Stores or replaces the record of (clusterId, eventId). The first `receivedAt` stored for the
   * event stays its position; a later record's is ignored. A `rejected` record never replaces a
   * sent, folded or failed one (a bad redelivery must not hide what the event became).
   */
  record(record: DeliveryRecord): Promise<void>;
  /** The record of one event, if there is one. */
  getRecord(clusterId: string, eventId: string): Promise<DeliveryRecord | undefined>;
  /** A cluster's records, newest arrival first (ties: event id descending). */
  list(clusterId: string, options: ListOptions): Promise<DeliveryRecord[]>;
  /** One page of a cluster's records in the order of `list`, filtered, from a position on. */
  page(clusterId: string, options: PageOptions): Promise<DeliveryPage>;
}

/** One event in a cluster's group email, as the ledger keeps it until the email goes out. */
export interface GroupMemberEntry {
  eventId: string;
  /** When it arrived (ISO): the order of the members. */
  receivedAt: string;
  /** The event as it arrived (kept envelope, at most 64 KiB): the email is rendered from it. */
  envelope: unknown;
  /** The fold key it owns (its send decided to email it), to confirm or undo when the group ends. */
  foldKey?: string;
  /** What the email reports as folded before it, for this member's condition and appliance. */
  folded?: FoldState;
}

export type GroupState = 'open' | 'sending' | 'sent' | 'failed';

export interface GroupInfo {
  groupId: string;
  clusterId: string;
  state: GroupState;
  /** The event whose queue message is the group's timer: its redelivery sends the email. */
  openerEventId: string;
  openedAt: string;
  /** When the email is due. */
  sendAt: string;
  size: number;
  messageId?: string;
}

export interface GroupTiming {
  /** Collect for this long after the first event of a quiet cluster (`grouping.waitSeconds`). */
  waitMs: number;
  /** At most one group email per this long (`grouping.intervalMinutes`). */
  intervalMs: number;
}

export type JoinResult = GroupInfo & {
  /** This event opened the group: its message stays queued until `sendAt`, then sends it. */
  opener: boolean;
  /** The event was already a member (a redelivery): nothing was added. */
  alreadyMember: boolean;
};

export type CloseResult =
  /** The email is due: the caller owns the send (for `leaseMs`) and must finish or release it. */
  | { status: 'closed'; group: GroupInfo; members: GroupMemberEntry[] }
  /** Not due yet: try again at `sendAt`. */
  | { status: 'open'; group: GroupInfo }
  /** Another invocation is sending it now. */
  | { status: 'in-progress'; group: GroupInfo }
  /** Already sent or failed for good. */
  | { status: 'done'; group: GroupInfo };

/** A superseding event that inhibits later events under its keys until `until`. */
export interface InhibitorMark {
  eventId: string;
  condition: string;
  until: string;
}

/**
 * The group emails of issue 12: per cluster at most one open group; events join it until it is
 * due; the opener's redelivery closes and sends it. Every method is one atomic step (a
 * transaction, or conditional writes on a version) so concurrent invocations agree. The rules of
 * the states are core/notify/group-slot.ts, shared by the adapters:
 *
 *   open --closeGroup when due--> sending (leased) --finishGroup--> sent | failed
 *
 * A join and a close of the same group never lose the member: it is either in the member list
 * the close hands out, or (its join returning the next group) in the next group, never both.
 * Groups, members and marks are kept for the delivery log's retention after their last change.
 */
export interface GroupLedger {
  /**
   * Adds the event to its cluster's open group, or opens one: due at `now + waitMs`, but never
   * earlier than `intervalMs` after the previous group of the cluster closed. Idempotent per
   * event id: a member's redelivery gets its group back with `alreadyMember` (whatever that
   * group's state: an event already in a closed, sent or failed group does not join another),
   * and `opener` says whether it opened it. `size` counts the members, the opener included.
   */
  joinGroup(clusterId: string, member: GroupMemberEntry, now: Date, timing: GroupTiming): Promise<JoinResult>;
  /** The group an event is a member of, if any (its newest). */
  groupOf(clusterId: string, eventId: string): Promise<GroupInfo | undefined>;
  /**
   * Closes a due group for sending (`now >= sendAt`; new events then open the next group, and the
   * interval counts from this close), or takes over a send whose lease expired (`now >
   * leaseUntil`) or was released. Either way `closed`, with every member in arrival order (then
   * event id), and a lease of `leaseMs`. Not due: `open`; a live lease: `in-progress`; finished:
   * `done`. An unknown group is an error.
   */
  closeGroup(clusterId: string, groupId: string, now: Date, leaseMs: number): Promise<CloseResult>;
  /**
   * The send failed for now: the group stays closed (`sending`, its members stay in it) with its
   * lease cleared, so the opener's retry takes it at once. No change unless it is `sending`.
   */
  releaseGroup(clusterId: string, groupId: string): Promise<void>;
  /**
   * The email went out (`sent`, with its message id) or failed for good. Final is final: a
   * finished group stays as it is (a late report from a sender whose lease was taken over must
   * not undo the other's outcome). A group that was never closed is an error.
   */
  finishGroup(
    clusterId: string,
    groupId: string,
    outcome: 'sent' | 'failed',
    now: Date,
    messageId?: string,
  ): Promise<void>;
  /**
   * Marks `eventId` (of `condition`) as inhibiting later events under `keys` until `until`: one
   * mark per key, a later mark replacing an earlier one of the same key (even one ending later).
   */
  markInhibitor(clusterId: string, keys: string[], mark: InhibitorMark): Promise<void>;
  /** The live inhibitor (`until > now`) under any of `keys`, if any; of several, the one ending last. */
  findInhibitor(clusterId: string, keys: string[], now: Date): Promise<InhibitorMark | undefined>;
}

/** The folding key: one condition from one appliance of one cluster. */
export function foldKey(clusterId: string, condition: string, appliance: string): string {
  return `${clusterId}#${condition}#${appliance.toLowerCase()}`;
}

/** Which failed events to list for a replay. */
export interface ListFailedOptions {
  /** Only this cluster's; every cluster's when absent (the DynamoDB ledger requires it). */
  clusterId?: string;
  /** Newest arrival first; all of them when absent. */
  limit?: number;
}
