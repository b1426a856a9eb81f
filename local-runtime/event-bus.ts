import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CONDITION_IDS } from '../events/catalog.js';
import type { EventBridgeEnvelope } from '../events/envelope.js';
import { matchesPattern, rulePattern } from '../events/event-pattern.js';
import { publisherOfSource } from '../events/publisher-source.js';
import { MAX_MESSAGE_BYTES, type SqliteEventQueue } from '../functions/adapters/local/sqlite-event-queue.js';
import type { Clock, Log } from '../functions/core/ports.js';
import type { NotifyRecordOutcome } from '../functions/notify/app.js';
import type { LocalQueueConsumer } from './queue-consumer.js';

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

/** What became of an envelope handed to the queue: its message, and notify's first answer if it came in time. */
export interface QueuedDelivery {
  messageId: string;
  /** Undefined when notify had not finished an attempt within the wait (the event is still queued). */
  outcome?: NotifyRecordOutcome;
}

export interface LocalEventBusOptions {
  /** The durable queue in front of notify (the SQS queue every rule targets in AWS). */
  queue: SqliteEventQueue;
  /** Notify's event source mapping on that queue: woken by each send, and asked for outcomes. */
  consumer: LocalQueueConsumer;
  clock: Clock;
  log: Log;
  region?: string;
}

const MAX_ENTRY_BYTES = 256 * 1024;
// The plain source too: here a publisher is bound to its cluster by its token, not by its source.
const RULES = CONDITION_IDS.map((id) => ({ id, pattern: rulePattern(id, { legacySource: true }) }));

/** EventBridge prints event times with whole seconds. */
const eventTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/**
 * The embedded runtime's event bus: PutEvents entries become EventBridge envelopes, matched
 * against the same per-condition patterns the CDK rules use (plus the catch-all for unknown
 * detail-types of the appliance source), and sent to the durable queue in front of notify, as
 * every rule in AWS targets the notify queue. PutEvents answers once the entries are committed
 * to the queue (milliseconds), never after sending: the consumer delivers them, and retries.
 */
export class LocalEventBus {
  constructor(private readonly options: LocalEventBusOptions) {}

  /** Answers like PutEvents once the accepted entries are on disk in the queue. */
  async putEvents(entries: unknown[]): Promise<PutEventsResult> {
    const results: PutEventsResultEntry[] = [];
    const accepted: { index: number; body: string }[] = [];
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
      const rule = this.ruleFor(envelope);
      if (!rule) {
        // EventBridge accepts an event no rule matches, and drops it.
        this.options.log.warn('No rule matches the event; it is dropped as EventBridge would drop it', {
          eventId: envelope.id,
          source: envelope.source,
        });
        results.push({ EventId: envelope.id });
        continue;
      }
      const body = JSON.stringify(envelope);
      if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
        results.push({
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `The event exceeds the notify queue's ${MAX_MESSAGE_BYTES / 1024} KiB message limit`,
        });
        continue;
      }
      results.push({ EventId: envelope.id });
      accepted.push({ index: results.length - 1, body });
    }
    if (accepted.length > 0) {
      try {
        await this.options.queue.send(accepted.map((entry) => entry.body));
        this.options.consumer.wake();
      } catch (error) {
        // Nothing of this call is queued (one transaction): say so for each entry, as PutEvents
        // does for an internal failure, so that the client sends them again.
        this.options.log.error('Could not queue the events', error as Error);
        for (const { index } of accepted) {
          results[index] = {
            ErrorCode: 'InternalFailure',
            ErrorMessage: `The event could not be queued: ${(error as Error).message}`,
          };
        }
      }
    }
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Which rule takes this event: a condition's, the catch-all for the appliance source, or none. */
  ruleFor(envelope: EventBridgeEnvelope): string | undefined {
    const rule = RULES.find((r) => matchesPattern(r.pattern, envelope));
    if (rule) return rule.id;
    return publisherOfSource(envelope.source) ? 'unknown-detail-type' : undefined;
  }

  /**
   * Queues envelopes as they are (no rule matching: notify validates them, and records a bad one)
   * and waits up to `waitMs` for notify's first answer on each. An event still on the queue then
   * stays there: it is delivered and retried as any other.
   */
  async deliver(envelopes: unknown[], waitMs: number): Promise<QueuedDelivery[]> {
    if (envelopes.length === 0) return [];
    const messageIds = await this.options.queue.send(envelopes.map((envelope) => JSON.stringify(envelope)));
    return this.outcomesOf(messageIds, waitMs);
  }

  /** The dead letters, each with the event id its body names (when it names one). */
  async deadLetters(): Promise<{ messageId: string; eventId?: string }[]> {
    return (await this.options.queue.listDeadLetters()).map((letter) => {
      const eventId = eventIdOf(letter.body);
      return eventId ? { messageId: letter.messageId, eventId } : { messageId: letter.messageId };
    });
  }

  /** Moves dead letters back onto the queue (a fresh receive count) and waits as `deliver` does. */
  async redrive(messageIds: string[], waitMs: number): Promise<QueuedDelivery[]> {
    if (messageIds.length === 0) return [];
    const moved = new Set(await this.options.queue.redrive(messageIds));
    return this.outcomesOf(
      messageIds.filter((id) => moved.has(id)),
      waitMs,
    );
  }

  private outcomesOf(messageIds: string[], waitMs: number): Promise<QueuedDelivery[]> {
    // Registered before the consumer can have finished an attempt (it runs on a later turn).
    const outcomes = messageIds.map((messageId) => this.options.consumer.outcomeOf(messageId, waitMs));
    this.options.consumer.wake();
    return Promise.all(
      messageIds.map(async (messageId, index) => {
        const outcome = await outcomes[index];
        return outcome ? { messageId, outcome } : { messageId };
      }),
    );
  }
}

function eventIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
