import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { CATALOG, CONDITION_IDS, conditionsSummary, isConditionId } from '../../events/catalog.js';
import {
  type DeliveryLedger,
  type DeliveryRecord,
  type LogPosition,
  OUTCOMES,
  type Outcome,
} from '../core/notify/delivery-ledger.js';
import type { EventReplayer } from '../core/notify/event-replayer.js';
import { ValidationError } from '../kernel/field-issues.js';
import { HttpError, jsonResponse } from '../shared/http.js';
import { clusterIdParam } from '../shared/http-api.js';
import type { AdminApiRouteHandlers } from './app.js';
import { pageCursorParam, pageLimitParam } from './paging-params.js';

/** Besides the catalog's conditions, the log holds daily notices under this condition id. */
const DAILY_NOTICE = 'daily-notice';
const FILTER_CONDITIONS = [...CONDITION_IDS, DAILY_NOTICE] as const;
const MAX_CURSOR_LENGTH = 2048;

/**
 * A page's `nextCursor`: base64url of the JSON of the last record's log position
 * (`{ receivedAt, eventId }`). Clients pass it back unchanged; its content is no contract.
 */
export function encodeCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify({ receivedAt: position.receivedAt, eventId: position.eventId })).toString(
    'base64url',
  );
}

/** The position a cursor names, or undefined when it is not one `encodeCursor` makes. */
export function decodeCursor(cursor: string): LogPosition | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { receivedAt, eventId } = value as Record<string, unknown>;
  if (typeof receivedAt !== 'string' || typeof eventId !== 'string' || eventId === '') return undefined;
  // Canonical ISO only (what the ledgers store), so the position is exact in both stores.
  const time = Date.parse(receivedAt);
  if (!Number.isFinite(time) || new Date(time).toISOString() !== receivedAt) return undefined;
  return { receivedAt, eventId };
}

export const DeliveriesQuerySchema = z.strictObject({
  limit: pageLimitParam(),
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 time like 2026-11-28T00:00:00Z' })
    .optional(),
  outcome: z
    .string()
    .describe(`Only these outcomes: one or a comma-separated list of ${OUTCOMES.join(', ')}`)
    .transform((value, context): Outcome[] => {
      const outcomes = value.split(',').map((part) => part.trim());
      if (outcomes.some((outcome) => !(OUTCOMES as readonly string[]).includes(outcome))) {
        context.addIssue({
          code: 'custom',
          message: `must be one or a comma-separated list of ${OUTCOMES.join(', ')}`,
        });
        return z.NEVER;
      }
      return [...new Set(outcomes as Outcome[])];
    })
    .optional(),
  condition: z
    .enum(FILTER_CONDITIONS, { error: `must be a condition id of GET /conditions or ${DAILY_NOTICE}` })
    .describe(`Only this condition (an id of \`GET /conditions\`, or \`${DAILY_NOTICE}\`)`)
    .optional(),
  cursor: pageCursorParam(decodeCursor, 'The `nextCursor` of the previous page: the page after it'),
});

function deliveriesQuery(event: APIGatewayProxyEventV2) {
  const parsed = DeliveriesQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid query parameters');
  return parsed.data;
}

/** A record as the API shows it: without the replay envelope, with its condition's title and severity. */
function deliveryItem({ envelope: _replayOnly, ...record }: DeliveryRecord) {
  if (!isConditionId(record.condition)) return record;
  const condition = CATALOG[record.condition];
  return { ...record, title: condition.title.en, severity: condition.severity };
}

const MAX_EVENT_ID_LENGTH = 256;

/** The `{eventId}` path parameter: an event id or a daily notice's `daily-notice:<cluster>:<date>`. */
function eventIdParam(event: APIGatewayProxyEventV2): string {
  let eventId: string;
  try {
    eventId = decodeURIComponent(event.pathParameters?.eventId ?? '');
  } catch {
    eventId = '';
  }
  if (eventId === '' || eventId.length > MAX_EVENT_ID_LENGTH) {
    throw new HttpError(400, 'Invalid event id', [
      { path: 'eventId', message: `must be an event id of 1 to ${MAX_EVENT_ID_LENGTH} characters` },
    ]);
  }
  return eventId;
}

async function recordOf(ledger: DeliveryLedger, event: APIGatewayProxyEventV2): Promise<DeliveryRecord> {
  const clusterId = clusterIdParam(event);
  const eventId = eventIdParam(event);
  const record = await ledger.getRecord(clusterId, eventId);
  if (!record) throw new HttpError(404, `Cluster ${clusterId} has no delivery record of event ${eventId}`);
  return record;
}

/** Why a record cannot be replayed (409), or undefined when it can. */
function notReplayable(record: DeliveryRecord): string | undefined {
  const { eventId, outcome } = record;
  if (outcome !== 'failed') {
    return `Event ${eventId} is ${outcome}, not failed: only a failed event is replayed`;
  }
  if (record.envelope !== undefined) return undefined;
  if (record.condition === DAILY_NOTICE) {
    return `Event ${eventId} is a daily notice, which keeps no envelope to replay: the daily schedule sends the next one`;
  }
  return `Event ${eventId} failed, but its record kept no envelope to replay${record.reason ? ` (${record.reason})` : ''}`;
}

/** `POST .../deliveries/{eventId}/replay`: a failed event's kept envelope back to notify. */
async function replayDelivery(
  ledger: DeliveryLedger,
  replayer: EventReplayer | undefined,
  event: APIGatewayProxyEventV2,
) {
  const record = await recordOf(ledger, event);
  const conflict = notReplayable(record);
  if (conflict) throw new HttpError(409, conflict);
  if (!replayer) throw new HttpError(501, 'This deployment has no replay of events');
  const { clusterId, eventId } = record;
  const { outcome, ok, error } = await replayer.replay({ clusterId, eventId, envelope: record.envelope });
  if (outcome === 'queued') {
    return jsonResponse(202, {
      eventId,
      ok: false,
      outcome,
      status: error ?? 'queued: see the delivery log',
    });
  }
  const after = await ledger.getRecord(clusterId, eventId);
  return jsonResponse(200, {
    eventId,
    ok,
    outcome,
    ...(error ? { error } : {}),
    ...(after ? { record: deliveryItem(after) } : {}),
  });
}

/**
 * `GET /conditions` and the delivery log: `GET /clusters/{clusterId}/deliveries`, one record
 * (`.../{eventId}`) and the replay of a failed one (`POST .../{eventId}/replay`, with `replayer`).
 */
export function catalogHandlers(
  ledger: DeliveryLedger,
  replayer?: EventReplayer,
): Pick<AdminApiRouteHandlers, 'listConditions' | 'listDeliveries' | 'getDelivery' | 'replayDelivery'> {
  return {
    getDelivery: async (event) => jsonResponse(200, deliveryItem(await recordOf(ledger, event))),
    replayDelivery: (event) => replayDelivery(ledger, replayer, event),
    listConditions: async () => jsonResponse(200, { items: conditionsSummary() }),
    listDeliveries: async (event) => {
      const clusterId = clusterIdParam(event);
      const query = deliveriesQuery(event);
      const page = await ledger.page(clusterId, {
        limit: query.limit,
        ...(query.since ? { since: new Date(query.since) } : {}),
        ...(query.cursor ? { after: query.cursor } : {}),
        ...(query.outcome ? { outcomes: query.outcome } : {}),
        ...(query.condition ? { condition: query.condition } : {}),
      });
      return jsonResponse(200, {
        clusterId,
        items: page.records.map(deliveryItem),
        ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
      });
    },
  };
}
