import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { EventBridgeEnvelope } from '../events/envelope.js';
import type { DailyNoticeRun } from '../functions/core/daily-notice/daily-notice-service.js';
import type { ListFailedOptions } from '../functions/core/notify/delivery-ledger.js';
import { ValidationError } from '../functions/kernel/field-issues.js';
import { HttpError, jsonResponse, readJsonBody } from '../functions/shared/http.js';
import { bindRoutes, type RouteSpec } from '../functions/shared/http-api.js';
import type { RouteDefinition } from '../functions/shared/route-definition.js';
import { type LocalEventBus, PutEventsRequestSchema } from './event-bus.js';

export interface FailedEventSource {
  listFailed(options?: ListFailedOptions): Promise<{ eventId: string; envelope?: unknown }[]>;
}

export interface LocalRoutesDeps {
  bus: LocalEventBus;
  /** Runs the daily notice now, through the daily-notice function as the schedule does. */
  runDailyNotice: () => Promise<DailyNoticeRun>;
  failed: FailedEventSource;
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

export function localRoutes({ bus, runDailyNotice, failed }: LocalRoutesDeps): RouteSpec[] {
  return bindRoutes(LOCAL_RUNTIME_ROUTES, {
    putEvents: async (event) => {
      const parsed = PutEventsRequestSchema.safeParse(jsonObject(event));
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid PutEvents request');
      return jsonResponse(200, await bus.putEvents(parsed.data.Entries));
    },
    deliverEnvelope: async (event) => {
      // Delivered as received: the notify function validates it (and records a bad one).
      const envelope = jsonObject(event) as EventBridgeEnvelope;
      const delivery = await bus.deliver(envelope);
      if (!delivery.ok) {
        return jsonResponse(503, {
          error: delivery.error,
          retry: 'scheduled; the failure is in the delivery log',
        });
      }
      return jsonResponse(200, delivery.result);
    },
    runDailyNotice: async () => jsonResponse(200, await runDailyNotice()),
    replayFailed: async (event) => {
      const clusterId = event.queryStringParameters?.clusterId;
      const records = await failed.listFailed(clusterId ? { clusterId } : {});
      const replayed = [];
      for (const record of records) {
        if (record.envelope === undefined) continue;
        const delivery = await bus.deliver(record.envelope as EventBridgeEnvelope, { retry: false });
        // Replayed means delivered: an event that failed again (for good) is still failing.
        const outcome = (delivery.result as { outcome?: string; reason?: string } | undefined)?.outcome;
        const ok = delivery.ok && outcome !== 'failed';
        replayed.push({
          eventId: record.eventId,
          ok,
          result: delivery.result,
          error:
            delivery.error ?? (ok ? undefined : (delivery.result as { reason?: string } | undefined)?.reason),
        });
      }
      return jsonResponse(200, { replayed });
    },
  });
}
