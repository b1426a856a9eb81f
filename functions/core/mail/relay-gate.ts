// Pacing per relay identity (host, port, user): what every concurrent Lambda and the embedded
// runtime agree on before they open a connection to a relay or hand it a message. The decisions
// are pure functions of one stored state per identity, which each adapter applies atomically
// (SQLite: one IMMEDIATE transaction; DynamoDB: read, compute, conditional write on `version`),
// as fold-slot.ts does for folding.
//
// Three things are kept per identity:
//
// - The sends of the recent past, counted in sub-windows of RATE_BUCKET_MS. A relay such as
//   Exchange Online counts messages over a sliding 60 s window, so a token bucket that refills
//   at messagesPerMinute would let it see up to twice the limit (a full bucket, then a minute of
//   refill). Here a message may go when fewer than messagesPerMinute were let through in the
//   last RATE_WINDOW_MS, counting whole sub-windows (so the span counted is never shorter): no
//   window of that length, and so no 60 s window at the relay, ever holds more. The window is
//   longer than 60 s by the slack a send takes between its turn here and its arrival at the
//   relay. Storage stays small (a few counters) however high the limit.
// - Connection slots, one per connection a holder may have open, each a lease (holder, until):
//   a holder that crashed or froze stops renewing, and its slot frees itself when the lease ends.
// - A relay-wide back-off, set when the relay answered with a throttling reply.
import { type EffectiveRelayLimits, relayLimitsPreset } from '../config/presets.js';

/** `smtp.office365.com:587:alerts@contoso.com`; `-` for a relay without authentication. */
export type RelayIdentity = string;

export function relayIdentity(smtp: { host: string; port: number }, user: string | undefined): RelayIdentity {
  const host = smtp.host.trim().toLowerCase().replace(/\.$/, '');
  // Mailbox names are case-insensitive at every relay that limits per mailbox.
  const name = user?.trim().toLowerCase() || '-';
  return `${host}:${smtp.port}:${name}`;
}

/** The span counted against messagesPerMinute: the relay's 60 s and a send's way to it. */
export const RATE_WINDOW_MS = 65_000;
/** The width of one counted sub-window. */
export const RATE_BUCKET_MS = 5_000;
/** How long a connection slot is held without a renewal. */
export const SLOT_LEASE_MS = 150_000;
/**
 * When all slots are taken, ask again after this at most: holders give slots back when their
 * connections idle out, long before the leases (the backstop for a crashed holder) end.
 */
export const CONNECTION_RETRY_MS = 5_000;

/** A connection slot as its holder keeps it. Times are epoch milliseconds. */
export interface RelaySlot {
  /** 0 .. maxConnections - 1. */
  index: number;
  holder: string;
  until: number;
}

export interface RelayState {
  /** Bumped by every change: the DynamoDB adapter's guard. */
  version: number;
  /** `[start of sub-window, messages let through in it]`, oldest first, only those still counted. */
  sends: Array<[number, number]>;
  /** Leased slots by index. */
  slots: Array<{ index: number; holder: string; until: number }>;
  backOffUntil?: number;
  backOffReason?: string;
  /** When the store may drop the state (nothing in it counts any more). */
  expiresAt: number;
}

export type RelayRefusal = 'back-off' | 'rate' | 'connections' | 'slot-lost';

export type RelayGrant =
  | { ok: true; slot?: RelaySlot }
  | { ok: false; reason: RelayRefusal; retryAfterMs: number; detail?: string };

export interface RelayRequest {
  limits: EffectiveRelayLimits;
  /** Who asks: one id per process (a Lambda execution environment, the embedded runtime). */
  holder: string;
  nowMs: number;
  /** Take one message's turn (checked against messagesPerMinute). */
  message?: boolean;
  /**
   * `new`: lease another connection slot (checked against maxConnections; none is leased when
   * the relay has no connection limit). A slot: renew it (refused as `slot-lost` when its lease
   * ran out and someone else holds the index now).
   */
  slot?: 'new' | RelaySlot;
  /** The lease of a new or renewed slot; SLOT_LEASE_MS by default. */
  leaseMs?: number;
}

/** The port: one shared state per relay identity. */
export interface RelayGate {
  /** All of the request or nothing of it, in one atomic step. */
  acquire(identity: RelayIdentity, request: RelayRequest): Promise<RelayGrant>;
  /** Gives a slot back (a no-op when it is no longer the holder's). */
  release(identity: RelayIdentity, slot: RelaySlot, nowMs: number): Promise<void>;
  /** No message and no new connection for this relay before `untilMs` (a later back-off wins). */
  backOff(identity: RelayIdentity, untilMs: number, reason: string, nowMs: number): Promise<void>;
  /** The stored state, for diagnostics and tests; undefined when there is none. */
  inspect(identity: RelayIdentity, nowMs: number): Promise<RelayState | undefined>;
}

export interface RelayStep<T> {
  result: T;
  /** The state to store; undefined when nothing changed (no write needed). */
  next?: RelayState;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;

/** What of a stored state still counts at `nowMs` (expired leases, old sub-windows dropped). */
export function liveState(state: RelayState | undefined, nowMs: number): RelayState {
  if (!state || state.expiresAt < nowMs)
    return { version: state?.version ?? 0, sends: [], slots: [], expiresAt: 0 };
  const { backOffUntil, backOffReason, ...rest } = state;
  const live: RelayState = {
    ...rest,
    sends: state.sends.filter(([start]) => start + RATE_BUCKET_MS > nowMs - RATE_WINDOW_MS),
    slots: state.slots.filter((slot) => slot.until > nowMs),
  };
  if (backOffUntil !== undefined && backOffUntil > nowMs) {
    live.backOffUntil = backOffUntil;
    if (backOffReason !== undefined) live.backOffReason = backOffReason;
  }
  return live;
}

function withExpiry(state: RelayState, version: number): RelayState {
  const latest = Math.max(
    0,
    ...state.sends.map(([start]) => start + RATE_BUCKET_MS + RATE_WINDOW_MS),
    ...state.slots.map((slot) => slot.until),
    state.backOffUntil ?? 0,
  );
  const next: RelayState = {
    version,
    sends: state.sends,
    slots: state.slots,
    expiresAt: latest + RETENTION_MS,
  };
  if (state.backOffUntil !== undefined) {
    next.backOffUntil = state.backOffUntil;
    if (state.backOffReason !== undefined) next.backOffReason = state.backOffReason;
  }
  return next;
}

/** When fewer than `limit` sends are counted again (the sub-windows leave oldest first). */
function rateRetryAfter(sends: Array<[number, number]>, limit: number, nowMs: number): number {
  let counted = sends.reduce((sum, [, count]) => sum + count, 0);
  for (const [start, count] of sends) {
    counted -= count;
    if (counted < limit) return Math.max(1, start + RATE_BUCKET_MS + RATE_WINDOW_MS - nowMs);
  }
  return 1;
}

export function decideAcquire(stored: RelayState | undefined, request: RelayRequest): RelayStep<RelayGrant> {
  const { limits, holder, nowMs } = request;
  const leaseMs = request.leaseMs ?? SLOT_LEASE_MS;
  const state = liveState(stored, nowMs);
  const version = (stored?.version ?? 0) + 1;
  let slots = state.slots;
  let sends = state.sends;
  let slot: RelaySlot | undefined;
  let changed = false;

  if (request.slot && request.slot !== 'new') {
    // A renewal: the holder's own slot, even if its lease ran out meanwhile, as long as nobody
    // took the index and the relay's limit still has room for it.
    const held = request.slot;
    const taken = slots.find((s) => s.index === held.index && s.holder !== held.holder);
    const others = slots.filter((s) => !(s.index === held.index && s.holder === held.holder));
    const max = limits.maxConnections;
    if (taken || (max !== undefined && (others.length >= max || held.index >= max))) {
      return {
        result: {
          ok: false,
          reason: 'slot-lost',
          retryAfterMs: 0,
          detail: 'the connection slot was taken over after its lease ran out',
        },
      };
    }
    slot = { index: held.index, holder: held.holder, until: nowMs + leaseMs };
    slots = [...others, slot].sort((a, b) => a.index - b.index);
    changed = true;
  }

  if (state.backOffUntil !== undefined && (request.message || request.slot === 'new')) {
    return {
      result: {
        ok: false,
        reason: 'back-off',
        retryAfterMs: Math.max(1, state.backOffUntil - nowMs),
        ...(state.backOffReason ? { detail: state.backOffReason } : {}),
      },
    };
  }

  if (request.slot === 'new' && limits.maxConnections !== undefined) {
    const max = limits.maxConnections;
    if (slots.length >= max) {
      const earliest = Math.min(...slots.map((s) => s.until));
      const retryAfterMs = Math.max(1, Math.min(earliest - nowMs, CONNECTION_RETRY_MS));
      return { result: { ok: false, reason: 'connections', retryAfterMs } };
    }
    let index = 0;
    while (slots.some((s) => s.index === index)) index++;
    slot = { index, holder, until: nowMs + leaseMs };
    slots = [...slots, slot].sort((a, b) => a.index - b.index);
    changed = true;
  }

  if (request.message && limits.messagesPerMinute !== undefined) {
    const limit = limits.messagesPerMinute;
    const counted = sends.reduce((sum, [, count]) => sum + count, 0);
    if (counted >= limit) {
      return { result: { ok: false, reason: 'rate', retryAfterMs: rateRetryAfter(sends, limit, nowMs) } };
    }
    const bucket = nowMs - (nowMs % RATE_BUCKET_MS);
    // Another process's clock may be a little behind: its sub-window need not be the last one.
    const current = sends.find(([start]) => start === bucket)?.[1] ?? 0;
    const counts: Array<[number, number]> = sends.filter(([start]) => start !== bucket);
    counts.push([bucket, current + 1]);
    sends = counts.sort((a, b) => a[0] - b[0]);
    changed = true;
  }

  const result: RelayGrant = slot ? { ok: true, slot } : { ok: true };
  if (!changed) return { result };
  return { result, next: withExpiry({ ...state, slots, sends }, version) };
}

export function decideRelease(
  stored: RelayState | undefined,
  slot: RelaySlot,
  nowMs: number,
): RelayStep<void> {
  if (!stored) return { result: undefined };
  const state = liveState(stored, nowMs);
  const slots = state.slots.filter((s) => !(s.index === slot.index && s.holder === slot.holder));
  if (slots.length === state.slots.length) return { result: undefined };
  return { result: undefined, next: withExpiry({ ...state, slots }, stored.version + 1) };
}

export function decideBackOff(
  stored: RelayState | undefined,
  untilMs: number,
  reason: string,
  nowMs: number,
): RelayStep<void> {
  const state = liveState(stored, nowMs);
  if (untilMs <= nowMs || (state.backOffUntil !== undefined && state.backOffUntil >= untilMs)) {
    return { result: undefined };
  }
  return {
    result: undefined,
    next: withExpiry({ ...state, backOffUntil: untilMs, backOffReason: reason }, (stored?.version ?? 0) + 1),
  };
}

/** `the Exchange Online preset: 3 connections, 30 messages per minute`, for messages. */
export function describeRelayLimits(limits: EffectiveRelayLimits, host: string): string {
  const parts = [
    limits.maxConnections !== undefined
      ? `${limits.maxConnections} connection${limits.maxConnections === 1 ? '' : 's'}`
      : undefined,
    limits.messagesPerMinute !== undefined ? `${limits.messagesPerMinute} messages per minute` : undefined,
  ].filter(Boolean);
  const what = parts.join(', ') || 'no limits';
  if (limits.source === 'configured') return `smtp.limits: ${what}`;
  if (limits.source === 'none') return what;
  return `${relayLimitsPreset(host)?.label ?? limits.source} preset: ${what}`;
}
