// The audit trail of the admin API: every route that changes something (or sends a test email)
// is recorded here, in one wrapper over the handlers, after it answered with success; and
// `GET /clusters/{clusterId}/audit` reads the trail back.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import type { AuditAction, AuditLog, AuditPosition, NewAuditEntry } from '../core/audit/audit-log.js';
import { ValidationError } from '../kernel/field-issues.js';
import { type HttpResponse, jsonResponse } from '../shared/http.js';
import { clusterIdParam } from '../shared/http-api.js';
import type { AdminApiRouteHandlers } from './app.js';
import { pageCursorParam, pageLimitParam } from './paging-params.js';
import type { AdminApiRouteId } from './route-table.js';

type Detail = NonNullable<NewAuditEntry['detail']>;
type Body = Record<string, unknown>;

/** What a successful answer of a route records; undefined records nothing. */
type Audited = (answer: {
  event: APIGatewayProxyEventV2;
  status: number;
  body: Body;
}) => { action: AuditAction; detail?: Detail } | undefined;

const ok = (status: number) => status >= 200 && status < 400;

/** Only the values worth keeping: strings, numbers and booleans, never a configuration. */
function pick(body: Body, ...keys: string[]): Detail {
  const detail: Detail = {};
  for (const key of keys) {
    const value = body[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      detail[key] = value;
  }
  return detail;
}

const testEmailOk = (body: Body): Detail => {
  const test = body.testEmail as Body | undefined;
  return test && typeof test.ok === 'boolean'
    ? { testEmailOk: test.ok, ...(typeof test.stage === 'string' ? { testEmailStage: test.stage } : {}) }
    : {};
};

/** The routes whose success is recorded, and what they record. */
export const AUDITED_ROUTES: { readonly [Id in AdminApiRouteId]?: Audited } = {
  putEmailConfig: ({ status, body }) =>
    status === 422
      ? { action: 'config.test-email', detail: { saved: false, ...testEmailOk(body) } }
      : ok(status)
        ? {
            action: 'config.save',
            detail: { ...pick(body, 'version'), created: status === 201, ...testEmailOk(body) },
          }
        : undefined,
  restoreConfigVersion: ({ status, body }) =>
    ok(status) ? { action: 'config.restore', detail: pick(body, 'version', 'restoredFrom') } : undefined,
  deleteEmailConfig: ({ status }) => (ok(status) ? { action: 'config.delete' } : undefined),
  sendTestEmail: ({ status, body, event }) =>
    ok(status)
      ? {
          action: 'config.test-email',
          detail: { ...pick(body, 'ok', 'stage'), unsavedConfig: Boolean(event.body?.trim()) },
        }
      : undefined,
  startOAuthAuthorization: ({ status }) => (ok(status) ? { action: 'oauth.authorize.start' } : undefined),
  replayDelivery: ({ status, body }) =>
    ok(status) ? { action: 'delivery.replay', detail: pick(body, 'eventId', 'outcome', 'ok') } : undefined,
};

function bodyOf(response: HttpResponse): Body {
  if (!response.headers['content-type']?.startsWith('application/json') || !response.body) return {};
  try {
    const parsed: unknown = JSON.parse(response.body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Body) : {};
  } catch {
    return {};
  }
}

/** The handlers, with the audited ones recording their successful answers (actor: the principal). */
export function auditedHandlers(handlers: AdminApiRouteHandlers, audit: AuditLog): AdminApiRouteHandlers {
  const wrapped = { ...handlers };
  for (const [id, audited] of Object.entries(AUDITED_ROUTES) as [AdminApiRouteId, Audited][]) {
    const handler = handlers[id];
    wrapped[id] = async (event, principal) => {
      const response = await handler(event, principal);
      const entry = audited({ event, status: response.statusCode, body: bodyOf(response) });
      if (entry) {
        await audit.record({
          actor: principal?.id ?? 'unknown',
          clusterId: clusterIdParam(event),
          ...entry,
        });
      }
      return response;
    };
  }
  return wrapped;
}

const MAX_CURSOR_LENGTH = 512;

export function encodeAuditCursor(position: AuditPosition): string {
  return Buffer.from(JSON.stringify({ at: position.at, id: position.id })).toString('base64url');
}

export function decodeAuditCursor(cursor: string): AuditPosition | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const { at, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (typeof at !== 'string' || typeof id !== 'string' || id === '' || id.length > 64) return undefined;
    const time = Date.parse(at);
    return Number.isFinite(time) && new Date(time).toISOString() === at ? { at, id } : undefined;
  } catch {
    return undefined;
  }
}

export const AuditQuerySchema = z.strictObject({
  limit: pageLimitParam(),
  cursor: pageCursorParam(
    decodeAuditCursor,
    'The `nextCursor` of the previous page: the (older) page after it',
  ),
});

/** `GET /clusters/{clusterId}/audit`: the cluster's trail, newest first. */
export function auditHandlers(audit: AuditLog): Pick<AdminApiRouteHandlers, 'listAuditEntries'> {
  return {
    listAuditEntries: async (event) => {
      const clusterId = clusterIdParam(event);
      const parsed = AuditQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'Invalid query parameters');
      const { limit, cursor } = parsed.data;
      const page = await audit.page(clusterId, { limit, ...(cursor ? { after: cursor } : {}) });
      return jsonResponse(200, {
        clusterId,
        items: page.entries,
        ...(page.next ? { nextCursor: encodeAuditCursor(page.next) } : {}),
      });
    },
  };
}
