import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgeEnvelopeSchema } from '../events/envelope.js';
import { MAX_MESSAGE_BYTES } from '../functions/adapters/local/sqlite-event-queue.js';
import { ErrorBodySchema } from '../functions/admin-api/api-schemas.js';
import type { DailyNoticeRun } from '../functions/core/daily-notice/daily-notice-service.js';
import { SEND_DEADLINE_MS } from '../functions/core/mail/deadlines.js';
import type { ListFailedOptions } from '../functions/core/notify/delivery-ledger.js';
import type { EventReplayer, ReplayOutcome } from '../functions/core/notify/event-replayer.js';
import { RetryableNotifyError } from '../functions/core/notify/notify-service.js';
import { ValidationError } from '../functions/kernel/field-issues.js';
import type { Principal } from '../functions/shared/auth.js';
import { HttpError, jsonResponse, readJsonBody } from '../functions/shared/http.js';
import { bindRoutes, type RouteSpec } from '../functions/shared/http-api.js';
import type { RouteDefinition, RouteDoc } from '../functions/shared/route-definition.js';
import {
  type LocalEventBus,
  PutEventsRequestSchema,
  type PutEventsResultEntry,
  type QueuedDelivery,
} from './event-bus.js';
import type { PublisherBinding } from './publisher-binding.js';

export interface FailedEventSource {
  listFailed(options?: ListFailedOptions): Promise<{ eventId: string; envelope?: unknown }[]>;
}

/**
 * How long `/events/envelope` and a replay wait for notify's first answer: one send's deadline and
 * some. A longer wait (a backlog in front of the event) answers "queued".
 */
export const DELIVERY_WAIT_MS = SEND_DEADLINE_MS + 10_000;

const isWait = (error: Error): error is RetryableNotifyError =>
  error instanceof RetryableNotifyError && error.wait;

export interface LocalRoutesDeps {
  bus: LocalEventBus;
  /** Runs the daily notice now, through the daily-notice function as the schedule does. */
  runDailyNotice: () => Promise<DailyNoticeRun>;
  failed: FailedEventSource;
  /** What a publisher token may post (its own cluster's events); without it, publisher tokens post nothing. */
  publishers?: PublisherBinding;
}

function jsonObject(event: APIGatewayProxyEventV2): Record<string, unknown> {
  const body = readJsonBody(event);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * The embedded runtime's stand-ins for what AWS provides around the functions: the event bus
 * (PutEvents and direct envelope delivery), the daily schedule, and replay of failed events.
 */
export const LOCAL_RUNTIME_ROUTES = {
  putEvents: { method: 'POST', path: '/events', access: 'admin' },
  deliverEnvelope: { method: 'POST', path: '/events/envelope', access: 'admin' },
  runDailyNotice: { method: 'POST', path: '/daily-notice/run', access: 'admin' },
  replayFailed: { method: 'POST', path: '/deliveries/replay-failed', access: 'admin' },
} as const satisfies Record<string, RouteDefinition>;

const error = (description: string) => ({ description, schema: ErrorBodySchema });
const Iso = z.string().describe('ISO 8601 time');
const NotifyResultSchema = z
  .looseObject({ outcome: z.string(), reason: z.string().optional() })
  .describe("notify's outcome for the event, as the delivery log records it");

/** What GET /openapi.json says about the embedded runtime's own routes. */
export const LOCAL_RUNTIME_ROUTE_DOCS = {
  putEvents: {
    summary: 'PutEvents to the local event bus (as EventBridge takes it)',
    description:
      "Answers once the entries are committed to the durable queue; the entries are matched against the rules of the condition catalog as in AWS. `npm run emit` sends here. With a publisher token, an entry for another cluster (by its detail's clusterId, `default` when absent, or its source `appliance.failover.<clusterId>`) is refused in its place (`AccessDeniedException`) and recorded as rejected in that cluster's delivery log.",
    body: { schema: PutEventsRequestSchema, required: true },
    responses: {
      200: {
        description: 'One result per entry, as PutEvents answers',
        schema: z.looseObject({
          FailedEntryCount: z.number().int(),
          Entries: z.array(
            z.union([
              z.looseObject({ EventId: z.string() }),
              z.looseObject({ ErrorCode: z.string(), ErrorMessage: z.string() }),
            ]),
          ),
        }),
      },
      400: error('Not a PutEvents request (with field issues)'),
      415: error('The body is not declared as JSON'),
    },
  },
  deliverEnvelope: {
    summary: 'Hand one EventBridge event (the envelope) to notify, and wait for its first answer',
    description:
      'Queued as received: notify validates it, and an invalid one is recorded as rejected in the delivery log.',
    body: { schema: EventBridgeEnvelopeSchema, required: true },
    responses: {
      200: { description: "notify's outcome", schema: NotifyResultSchema },
      202: {
        description: 'Queued: waiting for its group email or a relay limit, or notify did not answer in time',
        schema: z.looseObject({ messageId: z.string().optional(), status: z.string() }),
      },
      400: error('The body is not a JSON object'),
      403: error(
        "A publisher token's event for another cluster (recorded as rejected in that cluster's log)",
      ),
      413: error('The envelope is over 256 KiB'),
      415: error('The body is not declared as JSON'),
      503: {
        description: 'The delivery failed; the event stays on the queue and is retried',
        schema: z.looseObject({ error: z.string(), retry: z.string() }),
      },
    },
  },
  runDailyNotice: {
    summary: 'Send the daily notice now, to every cluster that has it on',
    responses: {
      200: {
        description: 'One result per cluster',
        schema: z.looseObject({
          at: Iso,
          results: z.array(
            z.looseObject({ clusterId: z.string(), outcome: z.string(), reason: z.string().optional() }),
          ),
          retryable: z.array(z.string()),
        }),
      },
    },
  },
  replayFailed: {
    summary:
      'Replay the failed events (given-up ones from the dead letters, permanent failures from their records)',
    query: z.object({ clusterId: z.string().optional().describe('Only this cluster') }),
    responses: {
      200: {
        description: "Each replayed event's outcome",
        schema: z.looseObject({
          replayed: z.array(
            z.looseObject({
              eventId: z.string(),
              ok: z.boolean(),
              outcome: z.string().describe('`queued`, `failed`, or the notify outcome (sent, folded, ...)'),
              result: NotifyResultSchema.optional(),
              error: z.string().optional(),
            }),
          ),
        }),
      },
    },
  },
} as const satisfies Record<keyof typeof LOCAL_RUNTIME_ROUTES, RouteDoc>;

/**
 * Replays failed events through the bus and waits for notify's first attempt on each, as
 * `/events/envelope` does: the one replay of the embedded runtime (`/deliveries/replay-failed`
 * and the admin API's per-event replay).
 */
export async function replayEvents(
  bus: LocalEventBus,
  records: readonly { eventId: string; envelope?: unknown }[],
): Promise<ReplayOutcome[]> {
  // A given-up event is in the dead letters: it goes back from there (so none is left behind
  // there); one that failed for good (5xx) was acknowledged, and goes back from its record.
  // Either way with its own id: an event that got through meanwhile is a duplicate, and one
  // that fails for a while again is retried as any other.
  const dead = new Map(
    (await bus.deadLetters()).flatMap((letter) =>
      letter.eventId ? [[letter.eventId, letter.messageId] as const] : [],
    ),
  );
  const fromDeadLetters = records.filter((record) => dead.has(record.eventId));
  const fromRecords = records.filter((record) => !dead.has(record.eventId));
  const [redriven, requeued] = await Promise.all([
    bus.redrive(
      fromDeadLetters.map((record) => dead.get(record.eventId) as string),
      DELIVERY_WAIT_MS,
    ),
    bus.deliver(
      fromRecords.map((record) => record.envelope),
      DELIVERY_WAIT_MS,
    ),
  ]);
  const outcomes = new Map<string, QueuedDelivery | undefined>([
    ...fromDeadLetters.map((record, index) => [record.eventId, redriven[index]] as const),
    ...fromRecords.map((record, index) => [record.eventId, requeued[index]] as const),
  ]);
  // Each replay's own outcome: `queued` (waits for its group email or a relay's limit, or
  // notify had not answered in time), `failed` (again: for good, or for now and retried),
  // or the notify outcome it got (sent, duplicate, folded, inhibited, rejected).
  return records.map((record): ReplayOutcome => {
    const outcome = outcomes.get(record.eventId)?.outcome;
    if (!outcome) {
      return {
        eventId: record.eventId,
        ok: false,
        outcome: 'queued',
        error: 'still queued: see the delivery log',
      };
    }
    if (!outcome.ok) {
      const wait = isWait(outcome.error);
      const error = wait ? `still queued: ${outcome.error.message}` : outcome.error.message;
      return { eventId: record.eventId, ok: false, outcome: wait ? 'queued' : 'failed', error };
    }
    // Replayed means delivered: an event that failed again (for good) is still failing.
    const ok = outcome.result.outcome !== 'failed' && outcome.result.outcome !== 'rejected';
    return {
      eventId: record.eventId,
      ok,
      outcome: outcome.result.outcome,
      result: outcome.result,
      ...(ok ? {} : { error: outcome.result.reason }),
    };
  });
}

/** The embedded runtime's replayer for the admin API: one event through `replayEvents`. */
export function localEventReplayer(bus: LocalEventBus): EventReplayer {
  return {
    replay: async (event) => {
      const [outcome] = await replayEvents(bus, [event]);
      if (!outcome) throw new Error(`replayEvents gave no outcome for event ${event.eventId}`);
      return outcome;
    },
  };
}

/** The routes a publisher token opens (its own cluster's events); every other one answers it 403. */
const PUBLISHER_ROUTES = new Set<string>(['putEvents', 'deliverEnvelope']);

export function localRoutes({ bus, runDailyNotice, failed, publishers }: LocalRoutesDeps): RouteSpec[] {
  const bindingFor = (principal: Principal | undefined): PublisherBinding | undefined => {
    if (principal?.publisherFor === undefined) return undefined;
    if (!publishers) throw new HttpError(403, 'Publisher tokens are not enabled here');
    return publishers;
  };
  return bindRoutes(
    LOCAL_RUNTIME_ROUTES,
    {
      putEvents: async (event, principal) => {
        const parsed = PutEventsRequestSchema.safeParse(jsonObject(event));
        if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid PutEvents request');
        const binding = bindingFor(principal);
        if (!binding || !principal) return jsonResponse(200, await bus.putEvents(parsed.data.Entries));
        // A refused entry is answered in its place, as PutEvents does; the others go to the bus.
        const decisions = [];
        for (const entry of parsed.data.Entries) decisions.push(await binding.entry(principal, entry));
        const allowed = decisions.flatMap((decision) => (decision.ok ? [decision.value] : []));
        const answered = allowed.length > 0 ? (await bus.putEvents(allowed)).Entries : [];
        let next = 0;
        const entries = decisions.map(
          (decision): PutEventsResultEntry =>
            decision.ok
              ? (answered[next++] as PutEventsResultEntry)
              : { ErrorCode: 'AccessDeniedException', ErrorMessage: decision.reason },
        );
        return jsonResponse(200, {
          FailedEntryCount: entries.filter((entry) => 'ErrorCode' in entry).length,
          Entries: entries,
        });
      },
      deliverEnvelope: async (event, principal) => {
        // Queued as received: the notify function validates it (and records a bad one).
        let envelope = jsonObject(event);
        const binding = bindingFor(principal);
        if (binding && principal) {
          const decision = await binding.envelope(principal, envelope);
          if (!decision.ok) throw new HttpError(403, decision.reason);
          envelope = decision.value;
        }
        const bytes = Buffer.byteLength(JSON.stringify(envelope));
        if (bytes > MAX_MESSAGE_BYTES) {
          throw new HttpError(
            413,
            `The envelope is ${bytes} bytes; the event queue takes at most ${MAX_MESSAGE_BYTES} (256 KiB, as SQS and PutEvents do)`,
          );
        }
        const [delivery] = await bus.deliver([envelope], DELIVERY_WAIT_MS);
        if (!delivery?.outcome) {
          return jsonResponse(202, {
            messageId: delivery?.messageId,
            status: `queued; notify had not finished its first attempt within ${DELIVERY_WAIT_MS / 1000} s: see the delivery log`,
          });
        }
        if (!delivery.outcome.ok) {
          const { error } = delivery.outcome;
          // Waiting for its group email or a relay's limit is no failure: it is queued.
          if (isWait(error))
            return jsonResponse(202, { messageId: delivery.messageId, status: error.message });
          // The queue keeps it whether or not the failure could be recorded: never claim the log has it.
          return jsonResponse(503, {
            error: error.message,
            retry:
              'scheduled: the event stays on the queue and is delivered again (the delivery log says when)',
          });
        }
        return jsonResponse(200, delivery.outcome.result);
      },
      runDailyNotice: async () => jsonResponse(200, await runDailyNotice()),
      replayFailed: async (event) => {
        const clusterId = event.queryStringParameters?.clusterId;
        const records = (await failed.listFailed(clusterId ? { clusterId } : {})).filter(
          (record) => record.envelope !== undefined,
        );
        const replayed = await replayEvents(bus, records);
        return jsonResponse(200, { replayed });
      },
    },
    LOCAL_RUNTIME_ROUTE_DOCS,
  ).map((route) => ({ ...route, embeddedOnly: true, publishers: PUBLISHER_ROUTES.has(route.id) }));
}
