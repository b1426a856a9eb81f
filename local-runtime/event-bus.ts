import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { CONDITION_IDS, EVENT_SOURCE } from '../events/catalog.js';
import type { EventBridgeEnvelope } from '../events/envelope.js';
import { matchesPattern, rulePattern } from '../events/event-pattern.js';
import type { EventQueue } from '../functions/core/notify/event-queue.js';
import { RETRY_POLICY, retryDelaySeconds } from '../functions/core/notify/retry-policy.js';
import type { Clock, Log } from '../functions/core/ports.js';
import type { NotifyRecordOutcome } from '../functions/notify/app.js';
import { sqsEvent } from './sqs-event.js';

/** One PutEvents entry as the API takes it. */
export const PutEventsEntrySchema = z.object({
  Source: z.string().min(1),
  DetailType: z.string().min(1),
  Detail: z.string(),
  EventBusName: z.string().optional(),
  Resources: z.array(z.string()).optional(),
  Time: z.union([z.string(), z.number()]).optional(),
});
export const PutEventsRequestSchema = z.strictObject({
  Entries: z
    .array(z.unknown())
    .min(1, 'at least one entry')
    .max(10, 'at most 10 entries, as PutEvents allows'),
  EndpointId: z.string().optional(),
});

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface DeliveryAttempt {
  ok: boolean;
  result?: unknown;
  error?: string;
}

/**
 * The notify function as the event source mapping invokes it: a batch of SQS records in, the
 * records that are not done out (`batchItemFailures`). A rejection fails the whole batch, as a
 * Lambda error does.
 */
export type EventTarget = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface LocalEventBusOptions {
  target: EventTarget;
  clock: Clock;
  log: Log;
  region?: string;
  /**
   * Deliveries of one event before the bus gives up on it (SQS's maxReceiveCount): the retry
   * policy's by default; 1 turns automatic retries off.
   */
  maxAttempts?: number;
}

/** An event on the bus's queue: the message body and id stay the same on every delivery. */
interface QueuedMessage {
  body: string;
  messageId: string;
  eventId: unknown;
}

/** A message while the target has it: what notify said about it, and when to try it again. */
interface InFlight {
  retryAfterSeconds?: number;
  outcome?: NotifyRecordOutcome;
}

const MAX_ENTRY_BYTES = 256 * 1024;
const RULES = CONDITION_IDS.map((id) => ({ id, pattern: rulePattern(id) }));

/** EventBridge prints event times with whole seconds. */
const eventTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/**
 * The embedded runtime's event bus: PutEvents entries become EventBridge envelopes, matched
 * against the same per-condition patterns the CDK rules use (plus the catch-all for unknown
 * detail-types of the appliance source), and delivered to the notify handler as SQS records,
 * with retries on the schedule notify sets (as the SQS queue in AWS does).
 */
export class LocalEventBus {
  private readonly maxAttempts: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly receipts = new Map<string, InFlight>();

  /**
   * The queue in front of notify, as notify sees it: `retryLater` sets when the bus delivers the
   * message again (the visibility timeout SQS would change).
   */
  readonly queue: EventQueue = {
    retryLater: async (receiptHandle, delaySeconds) => {
      const message = this.receipts.get(receiptHandle);
      if (!message) throw new Error(`unknown or expired receipt handle ${receiptHandle}`);
      message.retryAfterSeconds = delaySeconds;
    },
  };

  /** Pass to the notify handler (`onRecord`): each record's outcome, to answer HTTP callers with. */
  readonly onRecord = (messageId: string, outcome: NotifyRecordOutcome): void => {
    const message = this.inFlight.get(messageId);
    if (message) message.outcome = outcome;
  };

  constructor(private readonly options: LocalEventBusOptions) {
    this.maxAttempts = options.maxAttempts ?? RETRY_POLICY.maxAttempts;
  }

  /** Answers like PutEvents; accepted entries are delivered before it resolves. */
  async putEvents(entries: unknown[]): Promise<PutEventsResult> {
    const results: PutEventsResultEntry[] = [];
    const accepted: EventBridgeEnvelope[] = [];
    for (const raw of entries) {
      const entry = PutEventsEntrySchema.safeParse(raw);
      if (!entry.success) {
        const fields = entry.error.issues.map((issue) => issue.path.join('.') || 'entry').join(', ');
        results.push({
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Missing or invalid field(s): ${fields}`,
        });
        continue;
      }
      const { Source, DetailType, Detail, Resources, Time } = entry.data;
      if (
        Buffer.byteLength(Detail) + Buffer.byteLength(DetailType) + Buffer.byteLength(Source) >
        MAX_ENTRY_BYTES
      ) {
        results.push({
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Entry exceeds the 256 KB PutEvents limit',
        });
        continue;
      }
      let detail: unknown;
      try {
        detail = JSON.parse(Detail);
      } catch {
        detail = undefined;
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        results.push({
          ErrorCode: 'MalformedDetail',
          ErrorMessage: 'Detail is malformed: it must be a JSON object',
        });
        continue;
      }
      const time =
        Time === undefined ? this.options.clock() : new Date(typeof Time === 'number' ? Time * 1000 : Time);
      const envelope: EventBridgeEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': DetailType,
        source: Source,
        account: '000000000000',
        time: eventTime(Number.isNaN(time.getTime()) ? this.options.clock() : time),
        region: this.options.region ?? 'local',
        resources: Resources ?? [],
        detail,
      };
      results.push({ EventId: envelope.id });
      accepted.push(envelope);
    }
    for (const envelope of accepted) await this.route(envelope);
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Which rule takes this event: a condition's, the catch-all for the appliance source, or none. */
  ruleFor(envelope: EventBridgeEnvelope): string | undefined {
    const rule = RULES.find((r) => matchesPattern(r.pattern, envelope));
    if (rule) return rule.id;
    return envelope.source === EVENT_SOURCE ? 'unknown-detail-type' : undefined;
  }

  private async route(envelope: EventBridgeEnvelope): Promise<void> {
    const rule = this.ruleFor(envelope);
    if (!rule) {
      this.options.log.warn('No rule matches the event; it is dropped as EventBridge would drop it', {
        eventId: envelope.id,
        source: envelope.source,
      });
      return;
    }
    await this.deliver(envelope);
  }

  /**
   * Delivers one envelope to the target as a one-record SQS batch. With `retry` (the default, as
   * the queue does) a record that is not done is delivered again after the delay notify asked
   * for (`queue.retryLater`; the retry policy's when it asked for none), until `maxAttempts`
   * deliveries; then it is given up: the record stays `failed` and can be replayed.
   */
  deliver(envelope: EventBridgeEnvelope, options: { retry?: boolean } = {}): Promise<DeliveryAttempt> {
    const queued = { body: JSON.stringify(envelope), messageId: randomUUID(), eventId: envelope.id };
    return this.attempt(queued, 1, options.retry !== false);
  }

  private async attempt(
    queued: QueuedMessage,
    receiveCount: number,
    retry: boolean,
  ): Promise<DeliveryAttempt> {
    const { body, messageId } = queued;
    const receiptHandle = randomUUID();
    const message: InFlight = {};
    this.inFlight.set(messageId, message);
    this.receipts.set(receiptHandle, message);
    let error: string;
    try {
      const response = await this.options.target(
        sqsEvent({ messageId, receiptHandle, body, receiveCount, sentAt: this.options.clock() }),
      );
      const failed = response.batchItemFailures.some((item) => item.itemIdentifier === messageId);
      if (!failed) return { ok: true, result: message.outcome?.ok ? message.outcome.result : undefined };
      error =
        message.outcome && !message.outcome.ok
          ? message.outcome.error.message
          : 'the notify function reported the event as not done';
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown);
    } finally {
      this.inFlight.delete(messageId);
      this.receipts.delete(receiptHandle);
    }

    if (!retry) return { ok: false, error };
    if (receiveCount >= this.maxAttempts) {
      this.options.log.warn(
        'Event delivery failed; no further automatic retry (replay it once the cause is fixed)',
        { eventId: queued.eventId, attempts: receiveCount },
      );
      return { ok: false, error };
    }
    const delaySeconds = message.retryAfterSeconds ?? retryDelaySeconds(receiveCount);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(queued, receiveCount + 1, true);
    }, delaySeconds * 1000);
    timer.unref();
    this.timers.add(timer);
    return { ok: false, error };
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
