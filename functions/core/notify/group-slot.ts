// The group email's life as a pure state machine, so both ledger adapters apply the same rules
// (SQLite inside one transaction, DynamoDB by read-decide-conditional-write on `version`), the way
// fold-slot.ts does for folding.
//
// open --closeGroup when due--> sending (leased) --finishGroup--> sent | failed
//                                  ^  |
//                                  |  releaseGroup (lease cleared), or the lease runs out
//                                  +--+ closeGroup takes it again
import { randomBytes } from 'node:crypto';
import type { GroupInfo, GroupMemberEntry, GroupState, GroupTiming } from './delivery-ledger.js';

/** A group as the adapters store it; times are epoch milliseconds. */
export interface GroupHead {
  groupId: string;
  clusterId: string;
  state: GroupState;
  openerEventId: string;
  openedAt: number;
  sendAt: number;
  /** When it was first closed for sending (the cluster's `lastClosedAt` from then on). */
  closedAt?: number;
  /** While `sending`: until when the sender owns it. Absent: released, the next close takes it. */
  leaseUntil?: number;
  finishedAt?: number;
  messageId?: string;
  size: number;
  /** Bumped by every change of state (not by joins): the conditional write's guard. */
  version: number;
}

export type GroupCloseStep =
  | { status: 'open' | 'in-progress' | 'done' }
  /** Close it (or take an abandoned send over): store `next`, then hand out the members. */
  | { status: 'take'; next: GroupHead };

/** When a new group of the cluster is due: the wait, but never sooner than the interval after the last close. */
export function groupSendAt(nowMs: number, timing: GroupTiming, lastClosedAt?: number): number {
  checkTiming(timing);
  const afterWait = nowMs + timing.waitMs;
  return lastClosedAt === undefined ? afterWait : Math.max(afterWait, lastClosedAt + timing.intervalMs);
}

export function checkTiming(timing: GroupTiming): void {
  for (const name of ['waitMs', 'intervalMs'] as const) {
    const value = timing[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`Group timing: ${name} must be a number >= 0, got ${value}`);
    }
  }
}

/** Unique and readable in logs: `grp-<clusterId>-<openedAt epoch ms>-<random>`. */
export function newGroupId(clusterId: string, nowMs: number): string {
  return `grp-${clusterId}-${nowMs}-${randomBytes(4).toString('hex')}`;
}

export function openGroupHead(
  clusterId: string,
  opener: GroupMemberEntry,
  nowMs: number,
  sendAt: number,
): GroupHead {
  return {
    groupId: newGroupId(clusterId, nowMs),
    clusterId,
    state: 'open',
    openerEventId: opener.eventId,
    openedAt: nowMs,
    sendAt,
    size: 1,
    version: 1,
  };
}

/**
 * What `closeGroup` does with the group as stored. Due means `now >= sendAt`; a lease is live
 * while `now <= leaseUntil` (as for event claims). A takeover keeps the first `closedAt`.
 */
export function decideGroupClose(head: GroupHead, nowMs: number, leaseMs: number): GroupCloseStep {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new Error(`closeGroup: leaseMs must be a number > 0, got ${leaseMs}`);
  }
  switch (head.state) {
    case 'open':
      if (nowMs < head.sendAt) return { status: 'open' };
      return {
        status: 'take',
        next: {
          ...head,
          state: 'sending',
          closedAt: nowMs,
          leaseUntil: nowMs + leaseMs,
          version: head.version + 1,
        },
      };
    case 'sending':
      if (head.leaseUntil !== undefined && head.leaseUntil >= nowMs) return { status: 'in-progress' };
      return {
        status: 'take',
        next: { ...head, leaseUntil: nowMs + leaseMs, version: head.version + 1 },
      };
    case 'sent':
    case 'failed':
      return { status: 'done' };
  }
}

/** The send failed for now: still `sending`, lease cleared. Undefined: nothing to change. */
export function releaseGroupHead(head: GroupHead): GroupHead | undefined {
  if (head.state !== 'sending' || head.leaseUntil === undefined) return undefined;
  const { leaseUntil: _released, ...rest } = head;
  return { ...rest, version: head.version + 1 };
}

/**
 * The final state. Final is final: finishing a sent or failed group again changes nothing (a late
 * report of a send whose lease was taken over must not undo the other's outcome). An open group
 * was never closed, so it was never handed to a sender: that is a caller's error.
 */
export function finishGroupHead(
  head: GroupHead,
  outcome: 'sent' | 'failed',
  nowMs: number,
  messageId?: string,
): GroupHead | undefined {
  if (outcome !== 'sent' && outcome !== 'failed') {
    throw new Error(`finishGroup: outcome must be sent or failed, got ${JSON.stringify(outcome)}`);
  }
  if (head.state === 'open') {
    throw new Error(`finishGroup: group ${head.groupId} is still open; close it for sending first`);
  }
  if (head.state !== 'sending') return undefined;
  const { leaseUntil: _done, messageId: _none, ...rest } = head;
  return {
    ...rest,
    state: outcome,
    finishedAt: nowMs,
    ...(messageId !== undefined ? { messageId } : {}),
    version: head.version + 1,
  };
}

export function groupInfoOf(head: GroupHead): GroupInfo {
  return {
    groupId: head.groupId,
    clusterId: head.clusterId,
    state: head.state,
    openerEventId: head.openerEventId,
    openedAt: new Date(head.openedAt).toISOString(),
    sendAt: new Date(head.sendAt).toISOString(),
    size: head.size,
    ...(head.messageId !== undefined ? { messageId: head.messageId } : {}),
  };
}

/** The members' order in the email: arrival, then event id. */
export function compareMembers(a: GroupMemberEntry, b: GroupMemberEntry): number {
  const byArrival = Date.parse(a.receivedAt) - Date.parse(b.receivedAt);
  if (byArrival !== 0) return byArrival;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** The live mark with the latest `until` among `marks` (live: `until > now`). */
export function liveInhibitor<T extends { until: string }>(
  marks: (T | undefined)[],
  nowMs: number,
): T | undefined {
  let best: T | undefined;
  for (const mark of marks) {
    if (!mark || !(Date.parse(mark.until) > nowMs)) continue;
    if (!best || Date.parse(mark.until) > Date.parse(best.until)) best = mark;
  }
  return best;
}
