// What GET /openapi.json says about each route of the admin API's table. Keyed by the table's
// route ids and checked with `satisfies`, so a route added to the table without its entry here
// does not compile (bindRoutes takes both).
import * as z from 'zod';
import { EmailConfigInputSchema } from '../core/config/email-config.js';
import type { RouteDoc, RouteResponseDoc } from '../shared/route-definition.js';
import {
  AuditEntriesSchema,
  AuthorizationStartSchema,
  ConditionsSchema,
  ConfigTooLargeBodySchema,
  ConfigVersionsSchema,
  DeliveriesSchema,
  DeliveryRecordSchema,
  ErrorBodySchema,
  FleetOverviewSchema,
  NotDeliveredBodySchema,
  OpenApiDocumentSchema,
  PreconditionFailedBodySchema,
  PublicEmailConfigSchema,
  PutEmailConfigResultSchema,
  ReplayQueuedSchema,
  ReplayResultSchema,
  RestoredConfigSchema,
  TestEmailResultSchema,
} from './api-schemas.js';
import { AuditQuerySchema } from './audit-routes.js';
import { DeliveriesQuerySchema } from './catalog-routes.js';
import type { AdminApiRouteId } from './route-table.js';

const error = (description: string): RouteResponseDoc => ({ description, schema: ErrorBodySchema });
const html = (description: string): RouteResponseDoc => ({ description, contentType: 'text/html' });

const invalidClusterId = error('Invalid cluster id, or another invalid input (with field issues)');
const noConfig = error('The cluster has no email configuration');
const pageNotServed = error('The admin page is not served by this deployment (no sign-in configured)');
const notModified: RouteResponseDoc = { description: 'Not modified (the `If-None-Match` ETag matches)' };

const etagHeader = { etag: 'The configuration\'s version as a strong entity tag: `"v7"`' };
const ifMatch = z.object({
  'If-Match': z
    .string()
    .optional()
    .describe(
      'Change only if the current configuration is this version: the `ETag` of GET (`"v7"`) or `*` (any). Absent: unconditional (the last save wins; kept secrets are still merged from the newest version)',
    ),
});
const preconditionFailed: RouteResponseDoc = {
  description:
    '`If-Match` names another version: nothing was changed; the body names the current version, who saved it when, and its configuration',
  schema: PreconditionFailedBodySchema,
  headers: etagHeader,
};

const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .describe('A flag: `true`/`1` or `false`/`0`; absent is false');

export const ADMIN_API_ROUTE_DOCS = {
  getEmailConfig: {
    summary: "Read a cluster's email configuration",
    description:
      'Secrets are never returned: `passwordSet` / `clientSecretSet` / `clientCertificate.privateKeySet` say whether they are set.',
    responses: {
      200: { description: 'The configuration', schema: PublicEmailConfigSchema, headers: etagHeader },
      400: invalidClusterId,
      404: noConfig,
    },
  },
  putEmailConfig: {
    summary: "Create or replace a cluster's email configuration",
    description:
      'The read-only fields a GET returns (`clusterId`, `updatedAt`, `oauth`, `passwordSet`, `smtp.effectiveLimits`, ...) are accepted and ignored, so a fetched document can be edited and sent back. A secret left out keeps its stored value.',
    query: z.object({
      sendTestEmail: flag.describe('Send a test email with the configuration (before it is stored)'),
      saveOnlyIfDelivered: flag.describe(
        'With `sendTestEmail=true`: store only if the test email was delivered, otherwise 422',
      ),
    }),
    requestHeaders: ifMatch,
    body: { schema: EmailConfigInputSchema, required: true },
    responses: {
      200: { description: 'Replaced', schema: PutEmailConfigResultSchema, headers: etagHeader },
      201: { description: 'Created', schema: PutEmailConfigResultSchema, headers: etagHeader },
      400: error('Invalid configuration (one issue per field), or a malformed `If-Match`'),
      412: preconditionFailed,
      413: {
        description: 'The stored configuration would exceed its size limit',
        schema: ConfigTooLargeBodySchema,
      },
      415: error('The body is not declared as JSON'),
      422: {
        description: 'With `saveOnlyIfDelivered=true`: the test email failed, nothing was stored',
        schema: NotDeliveredBodySchema,
      },
    },
  },
  deleteEmailConfig: {
    summary: "Delete a cluster's email configuration (its versions are kept)",
    requestHeaders: ifMatch,
    responses: {
      204: { description: 'Deleted, with its OAuth2 grant' },
      400: error('Invalid cluster id, or a malformed `If-Match`'),
      404: noConfig,
      412: preconditionFailed,
    },
  },
  listConfigVersions: {
    summary: "A cluster's configuration versions, newest first",
    responses: {
      200: { description: 'The versions (secrets shown as set or not set)', schema: ConfigVersionsSchema },
      400: invalidClusterId,
    },
  },
  restoreConfigVersion: {
    summary: 'Restore a configuration version (saved as a new version)',
    requestHeaders: ifMatch,
    responses: {
      200: { description: 'The restored configuration', schema: RestoredConfigSchema, headers: etagHeader },
      400: error('Invalid cluster id, version number or `If-Match`'),
      404: error('No such version'),
      412: preconditionFailed,
    },
  },
  listClusters: {
    summary: 'Every configured cluster with its delivery health, unhealthy first',
    responses: { 200: { description: 'The fleet overview', schema: FleetOverviewSchema } },
  },
  sendTestEmail: {
    summary: 'Send a test email with the configuration in the body, or the stored one',
    description:
      'With a body (the PUT schema; secrets left out come from the stored configuration) it tests that configuration without saving it. A failed test is still a 200: `ok: false` with the stage, the reply, a hint and the transcript.',
    body: { schema: EmailConfigInputSchema, required: false },
    responses: {
      200: { description: 'The test-email result', schema: TestEmailResultSchema },
      400: invalidClusterId,
      404: noConfig,
    },
  },
  listAuditEntries: {
    summary: "A cluster's audit trail, newest first",
    description:
      'Who did what and when: saves, restores, deletes, test emails, OAuth2 authorizations, replays and token changes. ' +
      'Pages of at most `limit` entries; pass `nextCursor` as `cursor` for the next (older) page.',
    query: AuditQuerySchema,
    responses: {
      200: { description: 'The audit entries', schema: AuditEntriesSchema },
      400: error('Invalid cluster id or query parameters (e.g. a `cursor` not from an earlier page)'),
    },
  },
  listDeliveries: {
    summary: "A cluster's delivery log, newest first",
    description:
      'Pages of at most `limit` records, newest arrival first (ties: event id descending). A page ' +
      'with `nextCursor` may be followed: pass it as `cursor`. A filtered page may hold fewer than ' +
      '`limit` records and still have a `nextCursor` (each request reads a bounded part of the log).',
    query: DeliveriesQuerySchema,
    responses: {
      200: { description: 'The delivery records', schema: DeliveriesSchema },
      400: error('Invalid cluster id or query parameters (e.g. a `cursor` not from an earlier page)'),
    },
  },
  getDelivery: {
    summary: "One event's delivery record, as the delivery log lists it",
    responses: {
      200: { description: 'The record', schema: DeliveryRecordSchema },
      400: invalidClusterId,
      404: error('The cluster has no record of this event'),
    },
  },
  replayDelivery: {
    summary: 'Replay a failed event from its record once the cause is fixed',
    description:
      'The envelope the record kept goes back to notify with its own id, so an event that got ' +
      'through meanwhile is a duplicate. In AWS it is queued (202), and `GET .../deliveries/{eventId}` ' +
      "shows the outcome; the embedded runtime waits for notify's first attempt (200).",
    responses: {
      200: { description: "notify's attempt, and the record after it", schema: ReplayResultSchema },
      202: { description: 'Queued: notify has not finished an attempt yet', schema: ReplayQueuedSchema },
      400: invalidClusterId,
      404: error('The cluster has no record of this event'),
      409: error('The event did not fail, or its record kept no envelope to replay'),
      501: error('This deployment has no replay'),
    },
  },
  startOAuthAuthorization: {
    summary: "Start the OAuth2 authorization of a cluster's mailbox",
    query: z.object({
      format: z.literal('json').optional().describe('`json`: answer the URL instead of redirecting'),
    }),
    responses: {
      200: { description: 'With `format=json`: where to send the browser', schema: AuthorizationStartSchema },
      302: {
        description: "Redirect to the provider's sign-in",
        headers: { location: "The provider's authorization URL" },
      },
      400: invalidClusterId,
      404: noConfig,
      409: error('The configuration does not use OAuth2'),
    },
  },
  listConditions: {
    summary: 'The condition catalog: severities, texts, checks and what supersedes what',
    responses: { 200: { description: 'Every condition', schema: ConditionsSchema } },
  },
  completeOAuthAuthorization: {
    summary: "The OAuth2 provider's redirect target",
    description: 'Public: the one-time `state` protects it. Answers a page for the browser.',
    query: z.object({
      state: z.string().optional(),
      code: z.string().optional(),
      error: z.string().optional(),
      error_description: z.string().optional(),
    }),
    responses: {
      200: html('The mailbox is authorized'),
      400: html('The link is not valid (unknown, used or expired state) or the provider refused'),
      409: html('The configuration changed during the authorization'),
      502: html('The token request to the provider failed'),
    },
  },
  adminPage: {
    summary: 'The admin page',
    responses: {
      200: html('The page'),
      301: { description: '`/admin` redirects to `/admin/`', headers: { location: '`admin/`' } },
      304: notModified,
      404: pageNotServed,
    },
  },
  adminPageScript: {
    summary: "The admin page's script",
    responses: {
      200: { description: 'The script', contentType: 'text/javascript' },
      304: notModified,
      404: pageNotServed,
    },
  },
  adminPageStyles: {
    summary: "The admin page's stylesheet",
    responses: {
      200: { description: 'The stylesheet', contentType: 'text/css' },
      304: notModified,
      404: pageNotServed,
    },
  },
  adminPageSettings: {
    summary: "The admin page's sign-in settings",
    responses: {
      200: {
        description: 'How the page signs in, and the OAuth redirect URI to register',
        schema: z.looseObject({ auth: z.looseObject({}) }),
      },
      304: notModified,
      404: pageNotServed,
    },
  },
  root: {
    summary: 'The service root: redirects to the admin page',
    responses: {
      302: { description: 'To the admin page', headers: { location: '`/admin/`' } },
      404: pageNotServed,
    },
  },
  openApiDocument: {
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI document', schema: OpenApiDocumentSchema } },
  },
} as const satisfies Record<AdminApiRouteId, RouteDoc>;
