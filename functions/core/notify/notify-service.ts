import { createHash } from 'node:crypto';
import {
  CATALOG,
  type ConditionId,
  clusterIdOf,
  conditionByDetailType,
  inhibitableKeys,
  inhibitedKeys,
  supersessionReason,
} from '../../../events/catalog.js';
import { type ValidConditionEvent, validateConditionEvent } from '../../../events/envelope.js';
import { DEFAULT_CLUSTER_ID } from '../../kernel/cluster-id.js';
import { ClusterIdSchema } from '../../kernel/cluster-id-schema.js';
import { redact } from '../../kernel/text.js';
import type { ConfigStore } from '../config/config-store.js';
import type { EmailConfig } from '../config/email-config.js';
import { secretsOf } from '../config/secrets.js';
import type { StoredEmailConfig } from '../config/stored-config.js';
import { type EgressMode, hintFor } from '../mail/diagnostics.js';
import { DeliveryError, type MailerFactory, type SendReceipt } from '../mail/mailer.js';
import type { Clock, Log } from '../ports.js';
import { composeConditionEmail, type FoldedSummary } from './condition-email.js';
import {
  DEFAULT_RECORD_RETENTION_DAYS,
  type DeliveryLedger,
  type DeliveryRecord,
  type FoldDecision,
  type FoldState,
  foldKey,
  type GroupInfo,
  type GroupLedger,
  type GroupMemberEntry,
  type Outcome,
} from './delivery-ledger.js';
import { composeGroupEmail, type GroupMember, type InhibitedMember } from './group-email.js';
import {
  describeGiveUp,
  describeRetry,
  hasAttemptsLeft,
  RETRY_POLICY,
  retryDelaySeconds,
} from './retry-policy.js';

export interface NotifyDeps {
  store: ConfigStore;
  mailers: MailerFactory;
  ledger: DeliveryLedger & GroupLedger;
  clock: Clock;
  log: Log;
  /**
   * How long a claim on an event id keeps other invocations out. Longer than the function's
   * timeout, so a slow send is never duplicated by a redelivery.
   */
  leaseMs?: number;
  /** The retry policy's jitter source, in [0, 1); injectable for tests. */
  random?: () => number;
  /** Attempts before the queue dead-letters an event (its maxReceiveCount); the retry policy's by default. */
  maxAttempts?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): emails link the cluster's admin page; none without it. */
  publicBaseUrl?: string;
}

export type NotifyOutcome = Outcome | 'duplicate';

export interface NotifyResult {
  eventId: string;
  clusterId: string;
  outcome: NotifyOutcome;
  reason?: string;
  messageId?: string;
}

/**
 * Thrown for a temporary failure (relay unreachable, 4xx reply, throttling, another invocation
 * still holding the event): the platform retries the event, and after the last retry it lands
 * in the dead-letter queue. The failure is recorded first, so nothing is lost silently.
 */
export class RetryableNotifyError extends Error {
  override readonly name = 'RetryableNotifyError';
  /**
   * The last attempt failed: the failure is recorded as given up, and the handler moves the event
   * to the dead-letter queue (for a redrive once the cause is fixed).
   */
  readonly deadLetter: boolean;
  /**
   * Not a failure: the event waits (for its group email, for a relay's limit). It costs no
   * attempt, and the handler does not count it as a retry.
   */
  readonly wait: boolean;
  /** For `wait`: what the event waits for (a relay's limit is counted as a relay throttle). */
  readonly waitingFor: 'relay' | 'group' | undefined;
  /** For `deadLetter`: what the delivery log says of the event now. */
  readonly result: NotifyResult | undefined;

  constructor(
    message: string,
    /** When the queue should deliver the event again (the retry policy's delay for this attempt). */
    readonly retryAfterSeconds: number,
    options: {
      deadLetter?: boolean;
      wait?: boolean;
      waitingFor?: 'relay' | 'group';
      result?: NotifyResult;
    } = {},
  ) {
    super(message);
    this.deadLetter = options.deadLetter ?? false;
    this.wait = options.wait ?? false;
    this.waitingFor = this.wait ? (options.waitingFor ?? 'group') : undefined;
    this.result = options.result;
  }
}

/** One delivery of an event by the queue. */
export interface DeliveryAttempt {
  /** How often the queue has delivered this event (1 = the first delivery), e.g. SQS's ApproximateReceiveCount. */
  attempt: number;
  /**
   * When the event arrived: when its message was queued (SQS SentTimestamp), the same on every
   * receive of it. The clock's time when absent.
   */
  receivedAt?: Date;
}

export const DEFAULT_LEASE_MS = 5 * 60_000;

interface EventIdentity {
  eventId: string;
  clusterId: string;
  /** When the event arrived (ISO): its place in the delivery log. */
  receivedAt: string;
  eventTime: string;
  /** Why `eventTime` is not the event's own time. */
  timeNote?: string;
  appliance?: string;
}

const text = (value: unknown, max: number): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;

/**
 * The best identity an unvalidated event offers (a rejected one, or one that failed unexpectedly):
 * its own id, cluster and time when they are
 * usable, else a content hash (so redeliveries of one bad event replace one record), `default`,
 * and the time it arrived.
 */
function identityOfInput(input: unknown, receivedAt: Date): EventIdentity {
  const envelope = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const detail = (
    typeof envelope.detail === 'object' && envelope.detail !== null ? envelope.detail : {}
  ) as Record<string, unknown>;
  const cluster = ClusterIdSchema.safeParse(detail.clusterId);
  const time = text(envelope.time, 40);
  let eventId = text(envelope.id, 128);
  if (!eventId || !/^[\x21-\x7e]+$/.test(eventId)) {
    let serialized = '';
    try {
      serialized = JSON.stringify(input) ?? '';
    } catch {
      serialized = String(input);
    }
    eventId = `sha256:${createHash('sha256').update(serialized).digest('hex').slice(0, 32)}`;
  }
  return {
    eventId,
    clusterId: cluster.success ? cluster.data : DEFAULT_CLUSTER_ID,
    receivedAt: receivedAt.toISOString(),
    ...plausibleTime(time, receivedAt),
  };
}

const unique = (addresses: string[]): string[] => [...new Set(addresses)];

/** What is kept of an envelope for a replay: at most this much JSON. */
export const MAX_KEPT_ENVELOPE_BYTES = 64 * 1024;

function keptEnvelope(envelope: unknown): { kept?: unknown; note?: string } {
  let json: string | undefined;
  try {
    json = JSON.stringify(envelope);
  } catch {
    return { note: '(the envelope was not kept for a replay: it cannot be serialized)' };
  }
  if (json === undefined) return {};
  if (Buffer.byteLength(json) > MAX_KEPT_ENVELOPE_BYTES) {
    return {
      note: `(the envelope was not kept for a replay: larger than ${MAX_KEPT_ENVELOPE_BYTES / 1024} KiB)`,
    };
  }
  return { kept: JSON.parse(json) };
}

/** The condition of an event that could not be processed, as far as its detail-type tells. */
function conditionOf(input: unknown): string {
  const detailType = (input as { 'detail-type'?: unknown } | null)?.['detail-type'];
  return (typeof detailType === 'string' && conditionByDetailType(detailType)?.id) || 'unknown';
}

/** Clocks drift, but an event from the future would sit at the top of the log (and every notice). */
export const MAX_EVENT_TIME_AHEAD_MS = 5 * 60_000;
/** Older than the delivery log keeps records: it would be dropped as soon as it was written. */
export const MAX_EVENT_AGE_MS = DEFAULT_RECORD_RETENTION_DAYS * 24 * 60 * 60_000;

/**
 * The event's own time, clamped to its arrival when it is implausible, with the reason. Measured
 * from the arrival, not from the clock, so every attempt at one event (valid, rejected, failed
 * unexpectedly, retried hours later) computes the same time.
 */
function plausibleTime(time: string | undefined, arrival: Date): { eventTime: string; timeNote?: string } {
  const parsed = time === undefined ? Number.NaN : Date.parse(time);
  if (Number.isNaN(parsed)) return { eventTime: arrival.toISOString() };
  const given = new Date(parsed).toISOString();
  if (parsed > arrival.getTime() + MAX_EVENT_TIME_AHEAD_MS) {
    return {
      eventTime: arrival.toISOString(),
      timeNote: `(the event time ${given} is more than 5 minutes ahead of its arrival: logged at its arrival)`,
    };
  }
  if (parsed < arrival.getTime() - MAX_EVENT_AGE_MS) {
    return {
      eventTime: arrival.toISOString(),
      timeNote: `(the event time ${given} is older than the delivery log keeps records: logged at its arrival)`,
    };
  }
  return { eventTime: given };
}

/**
 * Turns one EventBridge event into at most one email: validate, claim the event id (exactly
 * once), fold repeats, render, send, and record the outcome. Bad events are rejected with a
 * reason and never throw; temporary delivery failures throw RetryableNotifyError.
 */
export class NotifyService {
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly maxAttempts: number;

  constructor(private readonly deps: NotifyDeps) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    this.random = deps.random ?? Math.random;
    this.maxAttempts = deps.maxAttempts ?? RETRY_POLICY.maxAttempts;
  }

  async handle(input: unknown, attempt: DeliveryAttempt = { attempt: 1 }): Promise<NotifyResult> {
    const now = this.deps.clock();
    const arrival = attempt.receivedAt;
    const delivery = {
      attempt: attempt.attempt,
      receivedAt: arrival && Number.isFinite(arrival.getTime()) ? arrival : now,
    };
    try {
      return await this.process(input, delivery, now);
    } catch (error) {
      if (error instanceof RetryableNotifyError) throw error;
      return this.failUnexpected(input, error, delivery, now);
    }
  }

  /**
   * Anything that is not a delivery error (the configuration unreadable, the store or the ledger
   * unavailable, a bug) is recorded as a failure with its reason and retried like a temporary
   * one; after the last attempt it stays failed, for a replay.
   */
  private async failUnexpected(
    input: unknown,
    error: unknown,
    delivery: Arrival,
    now: Date,
  ): Promise<NotifyResult> {
    const identity = identityOfInput(input, delivery.receivedAt);
    const message = error instanceof Error ? error.message : String(error);
    const last = !hasAttemptsLeft(delivery.attempt, this.maxAttempts);
    const retryAfterSeconds = last ? 0 : retryDelaySeconds(delivery.attempt, this.random);
    const status = last
      ? describeGiveUp(delivery.attempt, now)
      : describeRetry(delivery.attempt, new Date(now.getTime() + retryAfterSeconds * 1000), this.maxAttempts);
    const reason = `${status}: unexpected error: ${message}`;
    this.logFailure(last ? 'error' : 'warn', 'Event processing failed unexpectedly', {
      eventId: identity.eventId,
      clusterId: identity.clusterId,
      condition: conditionOf(input),
      attempt: delivery.attempt,
      reason,
    });
    try {
      await this.record(identity, conditionOf(input), 'failed', now, {
        reason,
        envelope: input,
        transient: !last,
      });
      if (last) await this.deps.ledger.finishEvent(identity.eventId, 'failed', now);
      else await this.deps.ledger.releaseEvent(identity.eventId);
    } catch (recordError) {
      // The ledger itself is down: the queue still holds the event and delivers it again.
      this.deps.log.error('The failure could not be recorded; the queue keeps the event', {
        eventId: identity.eventId,
        error: recordError instanceof Error ? recordError.message : String(recordError),
      });
    }
    throw new RetryableNotifyError(
      reason,
      retryAfterSeconds,
      last
        ? {
            deadLetter: true,
            result: { eventId: identity.eventId, clusterId: identity.clusterId, outcome: 'failed', reason },
          }
        : {},
    );
  }

  private async process(input: unknown, delivery: Arrival, now: Date): Promise<NotifyResult> {
    const validated = validateConditionEvent(input);
    if (!validated.ok) {
      const identity = identityOfInput(input, delivery.receivedAt);
      await this.record(identity, 'unknown', 'rejected', now, { reason: validated.reason });
      this.deps.log.warn('Event rejected', {
        eventId: identity.eventId,
        code: validated.code,
        reason: validated.reason,
      });
      return {
        eventId: identity.eventId,
        clusterId: identity.clusterId,
        outcome: 'rejected',
        reason: validated.reason,
      };
    }

    const identity: EventIdentity = {
      eventId: validated.envelope.id,
      clusterId: clusterIdOf(validated.detail),
      receivedAt: delivery.receivedAt.toISOString(),
      ...plausibleTime(validated.envelope.time, delivery.receivedAt),
      appliance: validated.detail.appliance.hostname,
    };
    // The configuration is read while the claim is written (the store caches it, and joins
    // concurrent reads of one cluster's): it is used only once the claim is ours, so a read that
    // fails counts only then, as it did when read after the claim.
    const stored = this.deps.store.get(identity.clusterId);
    stored.catch(() => {});
    const claim = await this.deps.ledger.claimEvent(identity.eventId, now, this.leaseMs);
    if (claim.status === 'duplicate') {
      this.deps.log.info('Duplicate delivery ignored', { eventId: identity.eventId, outcome: claim.outcome });
      return { ...identity, outcome: 'duplicate', reason: `already ${claim.outcome}` };
    }
    if (claim.status === 'in-progress') {
      throw new RetryableNotifyError(
        `event ${identity.eventId} is being processed by another invocation`,
        retryDelaySeconds(delivery.attempt, this.random),
      );
    }

    return this.deliver(validated, identity, now, input, delivery, await stored);
  }

  private async deliver(
    event: ValidConditionEvent,
    identity: EventIdentity,
    now: Date,
    envelope: unknown,
    delivery: Arrival,
    stored: StoredEmailConfig | undefined,
  ): Promise<NotifyResult> {
    const { ledger, log } = this.deps;
    const condition = event.id;
    if (!stored) {
      const reason = `cluster "${identity.clusterId}" has no email configuration (PUT /clusters/${identity.clusterId}/email-config)`;
      this.logFailure('error', 'Delivery failed: the cluster has no email configuration', {
        eventId: identity.eventId,
        clusterId: identity.clusterId,
        condition,
        stage: 'config',
        reason,
      });
      return this.finish(identity, condition, 'failed', now, { reason, envelope, transient: false });
    }
    const { config } = stored;

    // On an event's first receive, the reads the decision below may need go out together: the
    // event's record, the inhibitor marks and (for a condition that folds) the fold slot. Each is
    // used where it was read before, and only if it is needed there: one not needed is dropped,
    // its failure too. A later receive (a group member back at its group's time, a retry) most
    // likely takes another path, and reads one after the other, only what it needs.
    const key = foldKey(identity.clusterId, condition, identity.appliance ?? '');
    const inhibitorRead = () =>
      this.inhibitorOf(identity.clusterId, inhibitableKeys(condition, event.detail), now);
    const early = delivery.attempt === 1 ? inhibitorRead() : undefined;
    if (early) {
      early.catch(() => {});
      if (config.repeatIntervalMinutes > 0) ledger.prefetchFold?.(key);
      // The code the send needs loads meanwhile (CPU work, while the reads are waits).
      this.deps.mailers.prepare?.(config);
    }

    const earlier = await ledger.getRecord(identity.clusterId, identity.eventId);
    // The retry budget counts failed attempts, not receives: waiting for a group email or for a
    // relay's limit is a receive that costs nothing.
    const attempt = earlier?.failedAttempts !== undefined ? earlier.failedAttempts + 1 : delivery.attempt;
    // In a group email: its redelivery at the group's time sends it, or finds it sent.
    // Or the group email went out to some recipients, and this event retries it for the rest.
    if (earlier?.groupId && (earlier.outcome === 'grouped' || earlier.pendingRecipients?.length)) {
      return this.groupDue(identity, config, earlier, now, attempt);
    }
    // Superseded by a follow-on condition emailed recently: listed, not alerted on its own.
    const inhibitor = await (early ?? inhibitorRead());
    if (inhibitor) {
      return this.finish(identity, condition, 'inhibited', now, {
        reason: supersededReason(inhibitor.condition as ConditionId, inhibitor.eventId, condition, true),
        supersededBy: { eventId: inhibitor.eventId, condition: inhibitor.condition },
      });
    }

    // A retry after a partial delivery is owed to the recipients still pending, and to them only:
    // it is never folded.
    const pendingOnly = earlier?.pendingRecipients?.length ? earlier.pendingRecipients : undefined;
    const windowMs = pendingOnly ? 0 : config.repeatIntervalMinutes * 60_000;
    const grouped = !pendingOnly && config.grouping.waitSeconds > 0;
    const decision: FoldDecision =
      windowMs > 0
        ? await ledger.decideFold(key, identity.eventId, now, windowMs, this.foldPendingMs(config, grouped))
        : { send: true };
    if (!decision.send) {
      const reason = `repeat within ${config.repeatIntervalMinutes} min of the email sent at ${decision.state.lastSentAt}; folded into the next email (${decision.state.foldedCount} so far)`;
      return this.finish(identity, condition, 'folded', now, { reason, recipients: [] });
    }
    if (grouped) {
      return this.joinGroup(identity, condition, config, envelope, now, attempt, {
        ...(windowMs > 0 ? { foldKey: key } : {}),
        ...(decision.previous ? { folded: decision.previous } : {}),
      });
    }

    const previous = decision.previous;
    const folded: FoldedSummary | undefined =
      previous && previous.foldedCount > 0
        ? {
            count: previous.foldedCount,
            since: previous.firstFoldedAt ?? previous.lastSentAt,
            lastSentAt: previous.lastSentAt,
            ...(previous.lastSentUnconfirmed ? { lastSentUnconfirmed: true } : {}),
          }
        : undefined;

    let receipt: SendReceipt;
    try {
      const composed = composeConditionEmail({
        condition: event.condition,
        detail: event.detail,
        eventId: identity.eventId,
        eventTime: identity.eventTime,
        clusterId: identity.clusterId,
        config,
        ...(folded ? { folded } : {}),
        ...(this.deps.publicBaseUrl ? { publicBaseUrl: this.deps.publicBaseUrl } : {}),
      });
      const message = pendingOnly ? { ...composed, to: pendingOnly } : composed;
      const mailer = await this.deps.mailers.forConfig(config, { clusterId: identity.clusterId });
      receipt = await mailer.send(message);
    } catch (error) {
      // Not a delivery error: the slot stays this event's (pending) for its retry, and folds
      // nothing beyond its lease. A delivery error gives it back: the next event is emailed (it
      // tries the relay again), and this one's retry decides afresh.
      if (!(error instanceof DeliveryError)) throw error;
      if (error.failure.waitMs !== undefined) {
        // The relay's limit, not this event's failure: it keeps its slot and tries again then.
        await ledger.releaseEvent(identity.eventId);
        throw this.waitFor(
          error.failure.waitMs,
          `waiting for the relay's limit: ${error.failure.message}`,
          'relay',
        );
      }
      if (windowMs > 0) await ledger.undoFold(key, identity.eventId);
      const { failure } = error;
      const hint = hintFor(failure, config, this.deps.egress);
      const reason = [
        `${failure.stage} failed${failure.code ? ` (${failure.code}${failure.enhancedCode ? ` ${failure.enhancedCode}` : ''})` : ''}: ${failure.message}`,
        hint,
      ]
        .filter(Boolean)
        .join(' ');
      // What every log line of this failure names, first.
      const failed = {
        eventId: identity.eventId,
        clusterId: identity.clusterId,
        condition,
        stage: failure.stage,
        code: failure.code,
      };
      if (failure.transient && hasAttemptsLeft(attempt, this.maxAttempts)) {
        const retryAfterSeconds = retryDelaySeconds(attempt, this.random);
        const nextAttemptAt = new Date(now.getTime() + retryAfterSeconds * 1000);
        await this.record(identity, condition, 'failed', now, {
          reason: `${describeRetry(attempt, nextAttemptAt, this.maxAttempts)}: ${reason}`,
          envelope,
          transient: true,
          recipients: config.adminContacts,
          failedAttempts: attempt,
        });
        await ledger.releaseEvent(identity.eventId);
        this.logFailure(
          'warn',
          'Temporary delivery failure; the event will be retried',
          { ...failed, attempt, nextAttemptAt: nextAttemptAt.toISOString(), reason },
          config,
        );
        throw new RetryableNotifyError(reason, retryAfterSeconds);
      }
      if (failure.transient) {
        this.logFailure(
          'error',
          'Delivery failed on every attempt; giving up',
          { ...failed, attempt, reason },
          config,
        );
        const gaveUp = `${describeGiveUp(attempt, now)} (temporary failures only; the last: ${reason})`;
        const result = await this.finish(identity, condition, 'failed', now, {
          reason: gaveUp,
          envelope,
          transient: false,
          recipients: config.adminContacts,
        });
        throw new RetryableNotifyError(gaveUp, 0, { deadLetter: true, result });
      }
      this.logFailure('error', 'Delivery failed permanently', { ...failed, reason }, config);
      return this.finish(identity, condition, 'failed', now, {
        reason,
        envelope,
        transient: false,
        recipients: config.adminContacts,
      });
    }

    // Someone has the email: the slot folds repeats for its window, and what it supersedes is
    // inhibited for as long. Written along with the record (independent items; a crash before the
    // claim is finished sends again on the redelivery whichever of them landed).
    const emailed = together(
      windowMs > 0 ? ledger.confirmFold(key, identity.eventId) : Promise.resolve(),
      this.markInhibitor(identity, event, config, now),
    );
    const delivered = unique([...(pendingOnly ? (earlier?.recipients ?? []) : []), ...receipt.accepted]);
    const refused = unique([...(earlier?.refusedRecipients ?? []), ...receipt.rejected]);
    const deferred = receipt.deferred ?? [];
    const sentTo = delivered.length > 0 ? `delivered to ${delivered.join(', ')}` : 'delivered to nobody yet';
    const refusedNote = refused.length > 0 ? `; refused for good by the relay: ${refused.join(', ')}` : '';
    if (deferred.length > 0 && hasAttemptsLeft(attempt, this.maxAttempts)) {
      const retryAfterSeconds = retryDelaySeconds(attempt, this.random);
      const nextAttemptAt = new Date(now.getTime() + retryAfterSeconds * 1000);
      const reason = `partial: ${sentTo}; refused for now: ${deferred.join(', ')} (${describeRetry(attempt, nextAttemptAt, this.maxAttempts)}, for them only)${refusedNote}`;
      await together(
        emailed,
        this.record(identity, condition, 'sent', now, {
          reason,
          recipients: delivered,
          pendingRecipients: deferred,
          refusedRecipients: refused,
          messageId: receipt.messageId,
          transient: true,
        }),
      );
      await ledger.releaseEvent(identity.eventId);
      log.warn('Partial delivery; the pending recipients will be retried', {
        eventId: identity.eventId,
        pending: deferred.length,
        attempt: attempt,
      });
      throw new RetryableNotifyError(reason, retryAfterSeconds);
    }
    const gaveUp = deferred.length > 0 ? `; gave up on ${deferred.join(', ')} after ${attempt} attempts` : '';
    log.info('Notification sent', { eventId: identity.eventId, condition, messageId: receipt.messageId });
    return this.finish(
      identity,
      condition,
      'sent',
      now,
      {
        recipients: delivered,
        messageId: receipt.messageId,
        refusedRecipients: unique([...refused, ...deferred]),
        ...(refused.length > 0 || deferred.length > 0 || pendingOnly
          ? {
              reason: `${refused.length > 0 || deferred.length > 0 ? 'partial: ' : ''}${sentTo}${refusedNote}${gaveUp}`,
            }
          : {}),
      },
      emailed,
    );
  }

  /**
   * How long a fold slot whose email is not confirmed yet keeps folding repeats: the owner's lease,
   * and while it waits in a group email, the group's wait and interval too.
   */
  private foldPendingMs(config: EmailConfig, grouped: boolean): number {
    if (!grouped) return this.leaseMs;
    const { waitSeconds, intervalMinutes } = config.grouping;
    return this.leaseMs + waitSeconds * 1000 + intervalMinutes * 60_000 + MEMBER_GRACE_MS;
  }

  /** The live superseding event under any of `keys`; no lookup for a condition nothing supersedes. */
  private inhibitorOf(clusterId: string, keys: string[], now: Date) {
    return keys.length === 0
      ? Promise.resolve(undefined)
      : this.deps.ledger.findInhibitor(clusterId, keys, now);
  }

  /** A wait on the queue that costs the event no attempt. */
  /**
   * Every failed delivery in the log with its reason, as every sent one is: warn while it is
   * retried, error when it failed for good or was given up. The reason is the delivery log's
   * (relay answers are redacted where the mailer reads them); the configuration's secrets are
   * redacted from it once more, and the logger redacts secret-named keys.
   */
  private logFailure(
    level: 'warn' | 'error',
    message: string,
    fields: { eventId: string; clusterId: string; reason: string } & Record<string, unknown>,
    config?: EmailConfig,
  ): void {
    const reason = config ? redact(fields.reason, secretsOf(config)) : fields.reason;
    this.deps.log[level](message, { ...fields, reason });
  }

  private waitFor(ms: number, reason: string, on: 'relay' | 'group' = 'group'): RetryableNotifyError {
    return new RetryableNotifyError(reason, Math.max(1, Math.ceil(ms / 1000)), {
      wait: true,
      waitingFor: on,
    });
  }

  /** An emailed event of a superseding condition inhibits what it supersedes for a while. */
  private async markInhibitor(
    identity: EventIdentity,
    event: Pick<ValidConditionEvent, 'id' | 'detail'>,
    config: EmailConfig,
    now: Date,
  ): Promise<void> {
    const keys = inhibitedKeys(event.id, event.detail);
    if (keys.length === 0) return;
    await this.deps.ledger.markInhibitor(identity.clusterId, keys, {
      eventId: identity.eventId,
      condition: event.id,
      until: new Date(now.getTime() + inhibitWindowMs(config)).toISOString(),
    });
  }

  /**
   * Puts the event into its cluster's group email (opening one if none is open) and leaves it on
   * the queue until the group is due: every member's message is a timer for the group, so no
   * single lost message can hold the email back.
   */
  private async joinGroup(
    identity: EventIdentity,
    condition: string,
    config: EmailConfig,
    envelope: unknown,
    now: Date,
    attempt: number,
    fold: Pick<GroupMemberEntry, 'foldKey' | 'folded'>,
  ): Promise<NotifyResult> {
    const { ledger } = this.deps;
    const { waitSeconds, intervalMinutes } = config.grouping;
    const group = await ledger.joinGroup(
      identity.clusterId,
      {
        eventId: identity.eventId,
        receivedAt: identity.receivedAt,
        envelope: keptEnvelope(envelope).kept ?? envelope,
        ...fold,
      },
      now,
      { waitMs: waitSeconds * 1000, intervalMs: intervalMinutes * 60_000 },
    );
    const reason = waitingReason(group);
    await this.record(identity, condition, 'grouped', now, {
      reason,
      groupId: group.groupId,
      failedAttempts: attempt - 1,
    });
    await ledger.releaseEvent(identity.eventId);
    throw this.waitFor(untilDue(group, now, group.opener), reason);
  }

  /** A member's message is back at its group's time: send the group email, or find it sent. */
  private async groupDue(
    identity: EventIdentity,
    config: EmailConfig,
    earlier: DeliveryRecord,
    now: Date,
    attempt: number,
  ): Promise<NotifyResult> {
    const { ledger } = this.deps;
    const groupId = earlier.groupId as string;
    const closed = await ledger.closeGroup(identity.clusterId, groupId, now, this.leaseMs);
    switch (closed.status) {
      case 'open':
        await ledger.releaseEvent(identity.eventId);
        throw this.waitFor(untilDue(closed.group, now, true), waitingReason(closed.group));
      case 'in-progress':
        // Another member's invocation is sending it; its outcome covers this event too.
        await ledger.releaseEvent(identity.eventId);
        throw this.waitFor(IN_PROGRESS_WAIT_MS, `the group email ${groupId} is being sent`);
      case 'done': {
        const record = await ledger.getRecord(identity.clusterId, identity.eventId);
        const outcome: Outcome =
          record && record.outcome !== 'grouped'
            ? record.outcome
            : closed.group.state === 'sent'
              ? 'sent'
              : 'failed';
        await ledger.finishEvent(identity.eventId, outcome, now);
        const result: NotifyResult = {
          eventId: identity.eventId,
          clusterId: identity.clusterId,
          outcome,
          ...(record?.reason ? { reason: record.reason } : {}),
          ...(closed.group.messageId ? { messageId: closed.group.messageId } : {}),
        };
        // Given up after its last attempt: every member goes to the dead letters, for a redrive.
        if (outcome === 'failed' && record?.reason?.startsWith('gave up')) {
          throw new RetryableNotifyError(record.reason, 0, { deadLetter: true, result });
        }
        return result;
      }
      case 'closed':
        return this.sendGroup(identity, config, closed.group, closed.members, now, attempt, earlier);
    }
  }

  /**
   * Sends one email for the group's members: superseded ones under "also reported", the rest
   * critical first. Records every member's outcome, so their own messages only find it done.
   */
  private async sendGroup(
    me: EventIdentity,
    config: EmailConfig,
    group: GroupInfo,
    entries: GroupMemberEntry[],
    now: Date,
    attempt: number,
    /** This event's record: after a partial delivery, who is still owed the email. */
    earlier?: DeliveryRecord,
  ): Promise<NotifyResult> {
    const { ledger, log } = this.deps;
    const pendingOnly = earlier?.pendingRecipients?.length ? earlier.pendingRecipients : undefined;
    const members = entries.flatMap((entry) => {
      const validated = validateConditionEvent(entry.envelope);
      return validated.ok
        ? [{ entry, event: validated, identity: memberIdentity(entry, validated, group.clusterId) }]
        : [];
    });
    const superseders = members.map((m) => ({ m, keys: new Set(inhibitedKeys(m.event.id, m.event.detail)) }));
    const alerting: typeof members = [];
    const alsoReported: {
      member: (typeof members)[number];
      by: { eventId: string; condition: ConditionId };
    }[] = [];
    for (const member of members) {
      const keys = inhibitableKeys(member.event.id, member.event.detail);
      const inGroup = superseders.find((s) => s.m !== member && keys.some((key) => s.keys.has(key)));
      const mark = inGroup ? undefined : await this.inhibitorOf(group.clusterId, keys, now);
      const by = inGroup
        ? { eventId: inGroup.m.identity.eventId, condition: inGroup.m.event.id }
        : mark
          ? { eventId: mark.eventId, condition: mark.condition as ConditionId }
          : undefined;
      if (by) alsoReported.push({ member, by });
      else alerting.push(member);
    }
    const inhibitedRecords = async () => {
      for (const { member, by } of alsoReported) {
        await this.record(member.identity, member.event.id, 'inhibited', now, {
          reason: supersededReason(by.condition, by.eventId, member.event.id, false),
          supersededBy: by,
          groupId: group.groupId,
        });
        if (member.entry.foldKey) await ledger.undoFold(member.entry.foldKey, member.identity.eventId);
        await ledger.finishEvent(member.identity.eventId, 'inhibited', now);
      }
    };
    const mine = (outcome: Outcome, extra: { reason?: string; messageId?: string } = {}): NotifyResult => ({
      eventId: me.eventId,
      clusterId: me.clusterId,
      outcome: members.some((m) => m.identity.eventId === me.eventId) ? outcome : 'failed',
      ...extra,
    });
    if (alerting.length === 0) {
      await inhibitedRecords();
      await ledger.finishGroup(group.clusterId, group.groupId, 'sent', now);
      return mine('inhibited', { reason: 'every event of the group was superseded' });
    }

    let receipt: SendReceipt;
    try {
      const message = composeGroupEmail({
        clusterId: group.clusterId,
        groupId: group.groupId,
        config,
        ...(this.deps.publicBaseUrl ? { publicBaseUrl: this.deps.publicBaseUrl } : {}),
        members: alerting.map(
          ({ entry, event, identity }): GroupMember => ({
            eventId: identity.eventId,
            condition: event.condition,
            detail: event.detail,
            eventTime: identity.eventTime,
            receivedAt: identity.receivedAt,
            ...(entry.folded && entry.folded.foldedCount > 0
              ? { folded: foldedSummaryOf(entry.folded) }
              : {}),
          }),
        ),
        alsoReported: alsoReported.map(
          ({ member, by }): InhibitedMember => ({
            eventId: member.identity.eventId,
            condition: member.event.condition,
            detail: member.event.detail,
            receivedAt: member.identity.receivedAt,
            supersededBy: { eventId: by.eventId, conditionId: by.condition },
            why: supersessionReason(by.condition, member.event.id) ?? '',
          }),
        ),
        openedAt: group.openedAt,
        closedAt: now.toISOString(),
      });
      const mailer = await this.deps.mailers.forConfig(config, { clusterId: group.clusterId });
      receipt = await mailer.send(pendingOnly ? { ...message, to: pendingOnly } : message);
    } catch (error) {
      if (!(error instanceof DeliveryError)) {
        await ledger.releaseGroup(group.clusterId, group.groupId);
        throw error;
      }
      const { failure } = error;
      if (failure.waitMs !== undefined) {
        await ledger.releaseGroup(group.clusterId, group.groupId);
        await ledger.releaseEvent(me.eventId);
        throw this.waitFor(failure.waitMs, `waiting for the relay's limit: ${failure.message}`, 'relay');
      }
      const cause =
        `${failure.stage} failed${failure.code ? ` (${failure.code})` : ''}: ${failure.message} ${hintFor(failure, config, this.deps.egress) ?? ''}`.trim();
      if (failure.transient && hasAttemptsLeft(attempt, this.maxAttempts)) {
        const retryAfterSeconds = retryDelaySeconds(attempt, this.random);
        const next = new Date(now.getTime() + retryAfterSeconds * 1000);
        const reason = `the group email (${alerting.length} events) failed for now: ${describeRetry(attempt, next, this.maxAttempts)}: ${cause}`;
        await ledger.releaseGroup(group.clusterId, group.groupId);
        await this.record(
          me,
          members.find((m) => m.identity.eventId === me.eventId)?.event.id ?? 'unknown',
          'grouped',
          now,
          {
            reason,
            groupId: group.groupId,
            failedAttempts: attempt,
          },
        );
        await ledger.releaseEvent(me.eventId);
        this.logFailure(
          'warn',
          'Temporary failure of a group email; it will be retried',
          {
            eventId: me.eventId,
            clusterId: group.clusterId,
            groupId: group.groupId,
            events: alerting.length,
            stage: failure.stage,
            code: failure.code,
            attempt,
            reason,
          },
          config,
        );
        throw new RetryableNotifyError(reason, retryAfterSeconds);
      }
      const gaveUp = failure.transient;
      const reason = gaveUp
        ? `${describeGiveUp(attempt, now)} (the group email ${group.groupId}; the last: ${cause})`
        : `the group email ${group.groupId} failed: ${cause}`;
      await ledger.finishGroup(group.clusterId, group.groupId, 'failed', now);
      for (const { entry, event, identity } of members) {
        await this.record(identity, event.id, 'failed', now, {
          reason,
          envelope: entry.envelope,
          transient: false,
          groupId: group.groupId,
          recipients: config.adminContacts,
          failedAttempts: attempt,
        });
        if (entry.foldKey) await ledger.undoFold(entry.foldKey, identity.eventId);
        await ledger.finishEvent(identity.eventId, 'failed', now);
      }
      this.logFailure(
        'error',
        gaveUp ? 'Group email failed on every attempt; giving up' : 'Group email failed permanently',
        {
          eventId: me.eventId,
          clusterId: group.clusterId,
          groupId: group.groupId,
          eventIds: members.map((m) => m.identity.eventId),
          stage: failure.stage,
          code: failure.code,
          attempt,
          reason,
        },
        config,
      );
      const result = mine('failed', { reason });
      if (gaveUp) throw new RetryableNotifyError(reason, 0, { deadLetter: true, result });
      return result;
    }

    const delivered = unique([...(pendingOnly ? (earlier?.recipients ?? []) : []), ...receipt.accepted]);
    const refusedForGood = unique([...(earlier?.refusedRecipients ?? []), ...receipt.rejected]);
    const deferred = receipt.deferred ?? [];
    if (deferred.length > 0 && hasAttemptsLeft(attempt, this.maxAttempts)) {
      // Some recipients refused it for now (4xx): every member reads sent (partial), and this
      // event's message retries the group email for them only; the group stays open for that.
      const retryAfterSeconds = retryDelaySeconds(attempt, this.random);
      const next = new Date(now.getTime() + retryAfterSeconds * 1000);
      const reason = `partial: delivered to ${delivered.join(', ') || 'nobody yet'}; refused for now: ${deferred.join(', ')} (${describeRetry(attempt, next, this.maxAttempts)}, for them only, by event ${me.eventId}); in the group email of ${alerting.length} events (${group.groupId})`;
      for (const { entry, event, identity } of alerting) {
        await this.record(identity, event.id, 'sent', now, {
          reason,
          recipients: delivered,
          pendingRecipients: deferred,
          refusedRecipients: refusedForGood,
          messageId: receipt.messageId,
          groupId: group.groupId,
          transient: true,
          ...(identity.eventId === me.eventId ? { failedAttempts: attempt } : {}),
        });
        if (entry.foldKey) await ledger.confirmFold(entry.foldKey, identity.eventId);
        await this.markInhibitor(identity, event, config, now);
        if (identity.eventId !== me.eventId) await ledger.finishEvent(identity.eventId, 'sent', now);
      }
      await inhibitedRecords();
      await ledger.releaseGroup(group.clusterId, group.groupId);
      await ledger.releaseEvent(me.eventId);
      throw new RetryableNotifyError(reason, retryAfterSeconds);
    }
    await ledger.finishGroup(group.clusterId, group.groupId, 'sent', now, receipt.messageId);
    const refused = unique([...refusedForGood, ...deferred]);
    const gaveUpOn =
      deferred.length > 0 ? `; gave up on ${deferred.join(', ')} after ${attempt} attempts` : '';
    for (const { entry, event, identity } of alerting) {
      await this.record(identity, event.id, 'sent', now, {
        recipients: delivered,
        messageId: receipt.messageId,
        groupId: group.groupId,
        ...(refused.length > 0 ? { refusedRecipients: refused } : {}),
        ...(alerting.length > 1 || refused.length > 0 || pendingOnly
          ? {
              reason: `${refused.length > 0 ? `partial: delivered to ${delivered.join(', ') || 'nobody'}; refused: ${refused.join(', ')}${gaveUpOn}; ` : ''}in the group email of ${alerting.length} events (${group.groupId})`,
            }
          : {}),
      });
      if (entry.foldKey) await ledger.confirmFold(entry.foldKey, identity.eventId);
      await this.markInhibitor(identity, event, config, now);
      await ledger.finishEvent(identity.eventId, 'sent', now);
    }
    await inhibitedRecords();
    log.info('Group email sent', {
      groupId: group.groupId,
      events: alerting.length,
      alsoReported: alsoReported.length,
      messageId: receipt.messageId,
    });
    const meInhibited = alsoReported.some(({ member }) => member.identity.eventId === me.eventId);
    return mine(meInhibited ? 'inhibited' : 'sent', { messageId: receipt.messageId });
  }

  private async finish(
    identity: EventIdentity,
    condition: string,
    outcome: Outcome,
    now: Date,
    extra: RecordExtra,
    /** Writes under way that must land, like the record, before the claim is finished. */
    alongside?: Promise<void>,
  ): Promise<NotifyResult> {
    const recorded = this.record(identity, condition, outcome, now, extra);
    await (alongside ? together(alongside, recorded) : recorded);
    await this.deps.ledger.finishEvent(identity.eventId, outcome, now);
    return {
      eventId: identity.eventId,
      clusterId: identity.clusterId,
      outcome,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.messageId ? { messageId: extra.messageId } : {}),
    };
  }

  private record(
    identity: EventIdentity,
    condition: string,
    outcome: Outcome,
    now: Date,
    extra: RecordExtra,
  ): Promise<void> {
    const record: DeliveryRecord = {
      clusterId: identity.clusterId,
      eventId: identity.eventId,
      condition,
      outcome,
      recipients: extra.recipients ?? [],
      at: now.toISOString(),
      receivedAt: identity.receivedAt,
      eventTime: identity.eventTime,
      ...(identity.appliance ? { appliance: identity.appliance } : {}),
      ...(extra.messageId ? { messageId: extra.messageId } : {}),
      ...(extra.transient !== undefined ? { transient: extra.transient } : {}),
      ...(extra.pendingRecipients?.length ? { pendingRecipients: extra.pendingRecipients } : {}),
      ...(extra.refusedRecipients?.length ? { refusedRecipients: extra.refusedRecipients } : {}),
      ...(extra.groupId ? { groupId: extra.groupId } : {}),
      ...(extra.supersededBy ? { supersededBy: extra.supersededBy } : {}),
      ...(extra.failedAttempts !== undefined ? { failedAttempts: extra.failedAttempts } : {}),
    };
    const envelope = extra.envelope === undefined ? { kept: undefined } : keptEnvelope(extra.envelope);
    if (envelope.kept !== undefined) record.envelope = envelope.kept;
    const reason = [extra.reason, identity.timeNote, envelope.note].filter(Boolean).join(' ');
    if (reason) record.reason = reason;
    return this.deps.ledger.record(record);
  }
}

/**
 * Waits for independent writes made together, every one of them settled before the first
 * failure is thrown: whatever the caller does on a failure comes after them.
 */
async function together(...writes: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Why an event is inhibited, in the catalog's words; `emailedBefore`: by an earlier email, not its own group's. */
function supersededReason(
  by: ConditionId,
  byEventId: string,
  condition: ConditionId,
  emailedBefore: boolean,
): string {
  const title = CATALOG[by]?.title.en ?? by;
  return `superseded by "${title}" (${byEventId})${emailedBefore ? ', emailed before it' : ''}: ${supersessionReason(by, condition) ?? ''}`;
}

/** Members come back a little after the opener, which usually sends the group first. */
const MEMBER_GRACE_MS = 5_000;
/** How long a member waits when another invocation is sending its group. */
const IN_PROGRESS_WAIT_MS = 30_000;

/** Until the group is due (members a little later than the opener). */
function untilDue(group: GroupInfo, now: Date, opener: boolean): number {
  return Math.max(0, Date.parse(group.sendAt) - now.getTime()) + (opener ? 0 : MEMBER_GRACE_MS);
}

function waitingReason(group: GroupInfo): string {
  return `waiting in the group email ${group.groupId} of cluster ${group.clusterId}, due at ${group.sendAt} (${group.size} event${group.size === 1 ? '' : 's'} so far)`;
}

/** How long an emailed superseding event inhibits what it supersedes: the fold window, at least the group interval. */
function inhibitWindowMs(config: EmailConfig): number {
  return Math.max(config.repeatIntervalMinutes, config.grouping.intervalMinutes) * 60_000;
}

function foldedSummaryOf(state: FoldState): FoldedSummary {
  return {
    count: state.foldedCount,
    since: state.firstFoldedAt ?? state.lastSentAt,
    lastSentAt: state.lastSentAt,
    ...(state.lastSentUnconfirmed ? { lastSentUnconfirmed: true } : {}),
  };
}

/** A group member's identity, as its own invocation computed it. */
function memberIdentity(
  entry: GroupMemberEntry,
  event: ValidConditionEvent,
  clusterId: string,
): EventIdentity {
  return {
    eventId: event.envelope.id,
    clusterId,
    receivedAt: entry.receivedAt,
    ...plausibleTime(event.envelope.time, new Date(entry.receivedAt)),
    appliance: event.detail.appliance.hostname,
  };
}

/** A delivery with its arrival settled. */
type Arrival = Required<DeliveryAttempt>;

interface RecordExtra {
  reason?: string;
  recipients?: string[];
  pendingRecipients?: string[];
  refusedRecipients?: string[];
  messageId?: string;
  transient?: boolean;
  envelope?: unknown;
  groupId?: string;
  supersededBy?: { eventId: string; condition: string };
  failedAttempts?: number;
}
