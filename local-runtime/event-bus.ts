import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CONDITION_IDS, EVENT_SOURCE } from '../events/catalog.js';
import type { EventBridgeEnvelope } from '../events/envelope.js';
import { matchesPattern, rulePattern } from '../events/event-pattern.js';
import type { Clock, Log } from '../functions/core/ports.js';

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

/** A rule target: resolves when handled; throws to ask for a retry (as a Lambda error does). */
export type EventTarget = (envelope: EventBridgeEnvelope) => Promise<unknown>;

export interface LocalEventBusOptions {
  target: EventTarget;
  clock: Clock;
  log: Log;
  region?: string;
  /** Delays between retries after a target failure; EventBridge retries for up to 24 h. */
  retryDelaysMs?: number[];
}

const MAX_ENTRY_BYTES = 256 * 1024;
const RULES = CONDITION_IDS.map((id) => ({ id, pattern: rulePattern(id) }));

/** EventBridge prints event times with whole seconds. */
const eventTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/**
 * The embedded runtime's event bus: PutEvents entries become EventBridge envelopes, matched
 * against the same per-condition patterns the CDK rules use (plus the catch-all for unknown
 * detail-types of the appliance source), and delivered to the notify handler with retries.
 */
export class LocalEventBus {
  private readonly retryDelaysMs: number[];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: LocalEventBusOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [5_000, 30_000, 120_000];
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
   * Delivers one envelope to the target. With `retry` (the default, as EventBridge does) a
   * failure is retried later on the schedule of `retryDelaysMs` (the target has recorded the
   * failure already), then given up: the record stays `failed` and can be replayed.
   */
  deliver(envelope: EventBridgeEnvelope, options: { retry?: boolean } = {}): Promise<DeliveryAttempt> {
    return this.attempt(envelope, options.retry === false ? Number.POSITIVE_INFINITY : 0);
  }

  private async attempt(envelope: EventBridgeEnvelope, attempt: number): Promise<DeliveryAttempt> {
    try {
      return { ok: true, result: await this.options.target(envelope) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const delay = this.retryDelaysMs[attempt];
      if (delay === undefined) {
        this.options.log.warn(
          'Event delivery failed; no further automatic retry (replay it once the cause is fixed)',
          {
            eventId: envelope.id,
            attempts: attempt + 1,
          },
        );
      } else {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.attempt(envelope, attempt + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      }
      return { ok: false, error: message };
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
