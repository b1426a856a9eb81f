import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { conditionsSummary } from '../../events/catalog.js';
import { type DeliveryLedger, OUTCOMES } from '../core/notify/delivery-ledger.js';
import { ValidationError } from '../kernel/field-issues.js';
import { jsonResponse } from '../shared/http.js';
import { clusterIdParam } from '../shared/http-api.js';
import type { AdminApiRouteHandlers } from './app.js';

export const DeliveriesQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 500')
    .max(500, 'must be between 1 and 500')
    .default(50),
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 time like 2026-11-28T00:00:00Z' })
    .optional(),
  outcome: z.enum(OUTCOMES, { error: `must be one of ${OUTCOMES.join(', ')}` }).optional(),
});

function deliveriesQuery(event: APIGatewayProxyEventV2) {
  const parsed = DeliveriesQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid query parameters');
  return parsed.data;
}

/** `GET /conditions` and `GET /clusters/{clusterId}/deliveries`. */
export function catalogHandlers(
  ledger: DeliveryLedger,
): Pick<AdminApiRouteHandlers, 'listConditions' | 'listDeliveries'> {
  return {
    listConditions: async () => jsonResponse(200, { items: conditionsSummary() }),
    listDeliveries: async (event) => {
      const clusterId = clusterIdParam(event);
      const query = deliveriesQuery(event);
      // An outcome filter is applied after reading, so read more to still fill the page.
      const records = await ledger.list(clusterId, {
        limit: query.outcome ? query.limit * 10 : query.limit,
        ...(query.since ? { since: new Date(query.since) } : {}),
      });
      const items = records
        .filter((record) => !query.outcome || record.outcome === query.outcome)
        .slice(0, query.limit)
        .map(({ envelope: _replayOnly, ...record }) => record);
      return jsonResponse(200, { clusterId, items });
    },
  };
}
