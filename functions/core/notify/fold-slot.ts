// The folding decision as a pure state machine, so every ledger adapter applies the same rules
// (the file/SQLite ledger directly, DynamoDB by read-compute-conditional-write on `version`).
//
// A slot belongs to the event whose email it stands for. Its send is `pending` until the
// service confirms it; a pending slot folds repeats only while its owner's lease runs, so a
// crash during a send cannot suppress the alert: the owner's redelivery is that event again (it
// sends, never folds as its own repeat), and once the lease has passed without a confirmation the
// slot folds nothing and the next event takes it over. The owner's own event is never folded: its
// redelivery means its outcome was not committed.
import type { FoldDecision, FoldState } from './delivery-ledger.js';

/** Times are epoch milliseconds. */
export interface FoldSlot {
  /** When the owner's email went out (or, while pending, was decided). */
  lastSentAt: number;
  lastSentEventId: string;
  /** Repeats folded since that email. */
  foldedCount: number;
  firstFoldedAt?: number;
  /** Set while the owner's send is not confirmed: until then the slot is the owner's to send. */
  pendingUntil?: number;
  /** What the owner's email reports as folded before it (kept for a redelivery and for undo). */
  reported?: FoldState;
  /** Bumped by every change: the conditional write's guard. */
  version: number;
  /** When the store may drop the slot. */
  expiresAt: number;
}

export interface FoldTiming {
  nowMs: number;
  windowMs: number;
  /** How long an unconfirmed send holds the slot: the owner's claim lease. */
  pendingMs: number;
  /** How long a slot outlives its window after its last change. */
  retentionMs: number;
}

export interface FoldStep {
  decision: FoldDecision;
  /** The slot to store. */
  next: FoldSlot;
}

export function stateOfSlot(slot: FoldSlot): FoldState {
  return {
    lastSentAt: new Date(slot.lastSentAt).toISOString(),
    lastSentEventId: slot.lastSentEventId,
    foldedCount: slot.foldedCount,
    ...(slot.firstFoldedAt !== undefined
      ? { firstFoldedAt: new Date(slot.firstFoldedAt).toISOString() }
      : {}),
  };
}

/** Decides for `eventId` against the stored slot (undefined: none) and returns the slot to store. */
export function decideFoldSlot(slot: FoldSlot | undefined, eventId: string, timing: FoldTiming): FoldStep {
  const { nowMs, windowMs, pendingMs, retentionMs } = timing;
  const expiresAt = nowMs + windowMs + retentionMs;
  const version = (slot?.version ?? 0) + 1;
  const live = slot && slot.expiresAt >= nowMs ? slot : undefined;

  if (live && live.lastSentEventId === eventId) {
    // A redelivery of the owner is the same event, so it sends again: its send never finished
    // (a crash after the relay accepted it and before its outcome was committed is the one case
    // that emails twice). A confirmed slot stays confirmed.
    return {
      decision: live.reported ? { send: true, previous: live.reported } : { send: true },
      next: {
        ...live,
        ...(live.pendingUntil !== undefined ? { pendingUntil: nowMs + pendingMs } : {}),
        version,
        expiresAt: Math.max(live.expiresAt, expiresAt),
      },
    };
  }

  const unconfirmed = live?.pendingUntil !== undefined && live.pendingUntil < nowMs;
  if (!live || live.lastSentAt <= nowMs - windowMs || unconfirmed) {
    const previous = live ? (unconfirmed ? carriedFromUnconfirmed(live) : stateOfSlot(live)) : undefined;
    return {
      decision: previous ? { send: true, previous } : { send: true },
      next: {
        lastSentAt: nowMs,
        lastSentEventId: eventId,
        foldedCount: 0,
        pendingUntil: nowMs + pendingMs,
        ...(previous ? { reported: previous } : {}),
        version,
        expiresAt,
      },
    };
  }

  const next: FoldSlot = {
    ...live,
    foldedCount: live.foldedCount + 1,
    firstFoldedAt: live.firstFoldedAt ?? nowMs,
    version,
    expiresAt: Math.max(live.expiresAt, expiresAt),
  };
  return { decision: { send: false, state: stateOfSlot(next) }, next };
}

/**
 * An owner whose send was never confirmed was not emailed: the taking-over email reports what the
 * owner would have reported, plus the owner and the repeats folded into it.
 */
function carriedFromUnconfirmed(slot: FoldSlot): FoldState {
  const folded = slot.foldedCount + 1;
  if (slot.reported) {
    return {
      ...slot.reported,
      foldedCount: slot.reported.foldedCount + folded,
      firstFoldedAt: slot.reported.firstFoldedAt ?? new Date(slot.lastSentAt).toISOString(),
    };
  }
  return {
    lastSentAt: new Date(slot.lastSentAt).toISOString(),
    lastSentEventId: slot.lastSentEventId,
    foldedCount: folded,
    firstFoldedAt: new Date(slot.lastSentAt).toISOString(),
    lastSentUnconfirmed: true,
  };
}

/** The owner's email went out: the slot folds repeats for its whole window. Undefined: no change. */
export function confirmFoldSlot(slot: FoldSlot | undefined, eventId: string): FoldSlot | undefined {
  if (!slot || slot.lastSentEventId !== eventId || slot.pendingUntil === undefined) return undefined;
  const { pendingUntil: _sent, ...confirmed } = slot;
  return { ...confirmed, version: slot.version + 1 };
}

/**
 * The owner's email failed for good: the slot goes back to what it was before the owner took it
 * (`null`: no slot at all). Undefined: not the owner's any more, no change.
 */
export function undoFoldSlot(slot: FoldSlot | undefined, eventId: string): FoldSlot | null | undefined {
  if (!slot || slot.lastSentEventId !== eventId) return undefined;
  const before = slot.reported;
  if (!before) return null;
  return {
    lastSentAt: Date.parse(before.lastSentAt),
    lastSentEventId: before.lastSentEventId,
    foldedCount: before.foldedCount,
    ...(before.firstFoldedAt !== undefined ? { firstFoldedAt: Date.parse(before.firstFoldedAt) } : {}),
    version: slot.version + 1,
    // It was set from a later time than the restored state's.
    expiresAt: slot.expiresAt,
  };
}
