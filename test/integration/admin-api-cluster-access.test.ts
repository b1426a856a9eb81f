// Admins bound to their clusters: every admin route with a {clusterId} answers 403 for a cluster
// its caller may not administer (the route table iterated, so a new route is covered), the fleet
// overview lists only the caller's clusters, per-cluster admin tokens, and the audit trail.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteAdminTokenStore } from '../../functions/adapters/local/sqlite-admin-tokens.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { hashToken } from '../../functions/core/access/admin-tokens.js';
import { bearerTokenAuthenticator, jwtAuthorizerAuthenticator } from '../../functions/shared/auth.js';
import { jsonResponse } from '../../functions/shared/http.js';
import type { RouteSpec } from '../../functions/shared/http-api.js';
import { createLogger } from '../../functions/shared/logger.js';
import { ADMIN_TOKEN_ROUTES, adminTokenRoutes } from '../../local-runtime/admin-token-routes.js';
import { type ApiRequest, type Handler, invoke } from '../support/api-gateway.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'Zq8v1fXw3kLpR7sT2mNb6yHc4dJg9eAu';
const fleet = { authorization: `Bearer ${TOKEN}` };
const MINE = 'c-mine';
const OTHER = 'c-other';
const ann = { sub: 'u-ann', email: 'ann@example.com', 'cognito:groups': `[ops cluster-${MINE}]` };
const fleetUser = { sub: 'u-fay', email: 'fay@example.com', 'cognito:groups': '[fleet-admins]' };
const nobody = { sub: 'u-ned', email: 'ned@example.com' };

const sesConfig = {
  sender: 'Appliance <appliance@example.com>',
  transport: 'ses',
  adminContacts: 'ops@example.com',
  language: 'en',
};

/** A fleet-wide admin route (no {clusterId}), as the embedded runtime's /events is. */
const fleetWide: RouteSpec = {
  id: 'fleetWide',
  method: 'POST',
  path: '/fleet-wide',
  access: 'admin',
  embeddedOnly: true,
  doc: { summary: 'A fleet-wide test route', responses: { 200: { description: 'ok' } } },
  handler: async () => jsonResponse(200, { ran: true }),
};

let dataDir: string;
let services: TestServices;
let database: SqliteDatabase;
let jwt: Handler;
let bearer: Handler;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cluster-access-'));
  const log = createLogger({ logLevel: 'ERROR' });
  services = await testServices({ dataDir, log, mailOutbox: true });
  database = await SqliteDatabase.open({ directory: dataDir });
  const tokens = new SqliteAdminTokenStore(database);
  const localRoutes = [
    fleetWide,
    ...adminTokenRoutes({ tokens, audit: services.audit, clock: services.clock }),
  ];
  jwt = createAdminApiHandler({ services, authenticator: jwtAuthorizerAuthenticator, localRoutes });
  bearer = createAdminApiHandler({
    services,
    authenticator: bearerTokenAuthenticator(TOKEN, tokens),
    localRoutes,
  });
  for (const clusterId of [MINE, OTHER]) {
    const saved = await invoke(bearer, {
      method: 'PUT',
      path: `/clusters/${clusterId}/email-config`,
      headers: fleet,
      body: sesConfig,
    });
    expect(saved.status).toBe(201);
  }
});

afterAll(async () => {
  await services.close();
  database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const CLUSTER_ROUTES = Object.entries({ ...ADMIN_API_ROUTES, ...ADMIN_TOKEN_ROUTES }).filter(
  ([, route]) => route.access === 'admin' && route.path.includes('{clusterId}'),
);

function requestFor(route: { method: string; path: string }, clusterId: string): ApiRequest {
  return {
    method: route.method,
    path: route.path
      .replace('{clusterId}', clusterId)
      .replace('{eventId}', 'event-1')
      .replace('{version}', '1')
      .replace('{tokenId}', 'token-1'),
    ...(route.method === 'PUT' || route.method === 'POST' ? { body: sesConfig } : {}),
  };
}

describe('every admin route with a {clusterId}', () => {
  it('covers the table (a new route is checked without a new test)', () => {
    expect(CLUSTER_ROUTES.map(([id]) => id)).toEqual(
      expect.arrayContaining([
        'getEmailConfig',
        'putEmailConfig',
        'replayDelivery',
        'listAuditEntries',
        'createAdminToken',
      ]),
    );
  });

  it.each(CLUSTER_ROUTES)(
    '%s answers 403 for a cluster of another admin, naming what grants it',
    async (_id, route) => {
      const response = await invoke(jwt, { ...requestFor(route, OTHER), claims: ann });

      expect(response.status).toBe(403);
      expect(response.body.error).toBe(
        `ann@example.com may not administer cluster ${OTHER}: that needs membership of the fleet admin group or of the group cluster-${OTHER} in the user pool`,
      );
    },
  );

  it.each(CLUSTER_ROUTES)('%s answers 403 to a user without any cluster', async (_id, route) => {
    const response = await invoke(jwt, { ...requestFor(route, MINE), claims: nobody });

    expect(response.status).toBe(403);
  });

  it.each(CLUSTER_ROUTES)('%s answers 403 to another cluster’s admin token', async (_id, route) => {
    const created = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${MINE}/admin-tokens`,
      headers: fleet,
    });
    const scoped = { authorization: `Bearer ${String(created.body.token)}` };

    const response = await invoke(bearer, { ...requestFor(route, OTHER), headers: scoped });

    expect(response.status).toBe(403);
    expect(response.body.error).toMatch(
      new RegExp(
        `^admin-token:\\w+ may not administer cluster ${OTHER}: .*POST /clusters/${OTHER}/admin-tokens`,
      ),
    );
  });

  it('lets the admin of the cluster in, and left the other cluster as it was', async () => {
    const own = await invoke(jwt, { method: 'GET', path: `/clusters/${MINE}/email-config`, claims: ann });
    const other = await invoke(bearer, {
      method: 'GET',
      path: `/clusters/${OTHER}/email-config`,
      headers: fleet,
    });

    expect(own.status).toBe(200);
    expect(other.status).toBe(200);
    expect(other.body.adminContacts).toEqual(['ops@example.com']);
  });

  it('keeps fleet-wide routes for fleet admins, and the catalog for everyone signed in', async () => {
    const scoped = await invoke(jwt, { method: 'POST', path: '/fleet-wide', claims: ann });
    const asFleet = await invoke(jwt, { method: 'POST', path: '/fleet-wide', claims: fleetUser });
    const conditions = await invoke(jwt, { method: 'GET', path: '/conditions', claims: nobody });

    expect(scoped.status).toBe(403);
    expect(scoped.body.error).toMatch(/^ann@example.com may not POST \/fleet-wide: only a fleet admin may/);
    expect(asFleet.status).toBe(200);
    expect(conditions.status).toBe(200);
  });
});

describe('GET /clusters', () => {
  const listed = async (claims: Record<string, string>) => {
    const response = await invoke(jwt, { method: 'GET', path: '/clusters', claims });
    expect(response.status).toBe(200);
    return (response.body.items as { clusterId: string }[]).map((item) => item.clusterId).sort();
  };

  it('lists only the clusters the caller administers', async () => {
    expect(await listed(ann)).toEqual([MINE]);
    expect(await listed(fleetUser)).toEqual([MINE, OTHER]);
    expect(await listed(nobody)).toEqual([]);
  });
});

describe('per-cluster admin tokens (embedded runtime)', () => {
  it('are created by a fleet admin, shown once, stored hashed, administer their cluster, and stop at revocation', async () => {
    // Prepare
    const created = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${MINE}/admin-tokens`,
      headers: fleet,
      body: { label: 'night shift' },
    });
    const token = String(created.body.token);
    const tokenId = String(created.body.tokenId);
    const scoped = { authorization: `Bearer ${token}` };

    // Act
    const own = await invoke(bearer, {
      method: 'GET',
      path: `/clusters/${MINE}/email-config`,
      headers: scoped,
    });
    const list = await invoke(bearer, {
      method: 'GET',
      path: `/clusters/${MINE}/admin-tokens`,
      headers: fleet,
    });
    const selfService = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${MINE}/admin-tokens`,
      headers: scoped,
    });
    const overview = await invoke(bearer, { method: 'GET', path: '/clusters', headers: scoped });
    const revoked = await invoke(bearer, {
      method: 'DELETE',
      path: `/clusters/${MINE}/admin-tokens/${tokenId}`,
      headers: fleet,
    });
    const afterRevocation = await invoke(bearer, {
      method: 'GET',
      path: `/clusters/${MINE}/email-config`,
      headers: scoped,
    });
    const again = await invoke(bearer, {
      method: 'DELETE',
      path: `/clusters/${MINE}/admin-tokens/${tokenId}`,
      headers: fleet,
    });

    // Assess
    expect(created.status).toBe(201);
    expect(token).toMatch(/^cat_\w{12}_[\w-]{43}$/);
    expect(created.body).toMatchObject({ clusterId: MINE, label: 'night shift', createdBy: 'admin-token' });
    expect(own.status).toBe(200);
    const listedToken = (list.body.items as Record<string, unknown>[]).find(
      (item) => item.tokenId === tokenId,
    );
    expect(listedToken).toMatchObject({ tokenId, label: 'night shift' });
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(selfService.status).toBe(403);
    expect((overview.body.items as { clusterId: string }[]).map((item) => item.clusterId)).toEqual([MINE]);
    expect(revoked.status).toBe(204);
    expect(afterRevocation.status).toBe(401);
    expect(again.status).toBe(404);
  });

  it('keeps only the SHA-256 of a token in the database', async () => {
    const created = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${OTHER}/admin-tokens`,
      headers: fleet,
    });
    const token = String(created.body.token);

    const row = database.connection
      .prepare<[string], { hash: Buffer }>('SELECT hash FROM admin_token WHERE token_id = ?')
      .get(String(created.body.tokenId));
    // The database and its write-ahead log, where a fresh row is before a checkpoint.
    const files = (await readdir(dataDir)).filter((name) => name.startsWith('notifier.db'));
    const raw = Buffer.concat(await Promise.all(files.map((name) => readFile(join(dataDir, name)))));

    expect(files).toContain('notifier.db');
    expect(row?.hash.equals(hashToken(token))).toBe(true);
    expect(raw.includes(row?.hash as Buffer)).toBe(true);
    // The secret is base64url and may itself contain `_`: everything after `cat_<tokenId>_`.
    const secret = token.split('_').slice(2).join('_');
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect(raw.includes(Buffer.from(secret))).toBe(false);
  });

  it('answers 400 naming the field for a bad label', async () => {
    const response = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${MINE}/admin-tokens`,
      headers: fleet,
      body: { label: 'a\u202Eb' },
    });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'label' })]);
  });
});

describe('the audit trail', () => {
  it('records who saved, tested, restored and deleted, and token changes, newest first with a cursor', async () => {
    // Prepare: a cluster of its own, changed by a JWT user and by the fleet admin token
    const cluster = 'c-audit';
    const owner = { sub: 'u-ola', email: 'ola@example.com', 'cognito:groups': `[cluster-${cluster}]` };
    const as = (request: ApiRequest) => invoke(jwt, { ...request, claims: owner });
    const path = `/clusters/${cluster}/email-config`;
    const first = await invoke(bearer, { method: 'PUT', path, headers: fleet, body: sesConfig });
    const second = await as({ method: 'PUT', path, body: { ...sesConfig, adminContacts: 'x@example.com' } });
    const tested = await as({ method: 'POST', path: `${path}/test` });
    const restored = await as({ method: 'POST', path: `${path}/versions/1/restore` });
    const token = await invoke(bearer, {
      method: 'POST',
      path: `/clusters/${cluster}/admin-tokens`,
      headers: fleet,
    });
    const refused = await invoke(jwt, { method: 'DELETE', path, claims: ann });
    const deleted = await as({ method: 'DELETE', path });

    // Act
    const page1 = await as({ method: 'GET', path: `/clusters/${cluster}/audit`, query: { limit: '4' } });
    const page2 = await as({
      method: 'GET',
      path: `/clusters/${cluster}/audit`,
      query: { limit: '4', cursor: String(page1.body.nextCursor) },
    });

    // Assess
    expect([first.status, second.status, tested.status, restored.status, token.status]).toEqual([
      201, 200, 200, 200, 201,
    ]);
    expect([refused.status, deleted.status]).toEqual([403, 204]);
    const entries = [
      ...(page1.body.items as Record<string, unknown>[]),
      ...(page2.body.items as Record<string, unknown>[]),
    ];
    expect(page2.body.nextCursor).toBeUndefined();
    expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
      ['config.delete', 'ola@example.com'],
      ['admin-token.create', 'admin-token'],
      ['config.restore', 'ola@example.com'],
      ['config.test-email', 'ola@example.com'],
      ['config.save', 'ola@example.com'],
      ['config.save', 'admin-token'],
    ]);
    expect(entries[2]?.detail).toEqual({ version: 3, restoredFrom: 1 });
    expect(entries[3]?.detail).toMatchObject({ ok: true, unsavedConfig: false });
    expect(entries[4]?.detail).toEqual({ version: 2, created: false });
    expect(entries[5]?.detail).toEqual({ version: 1, created: true });
    expect(entries[1]?.detail).toEqual({ tokenId: token.body.tokenId });
    for (const entry of entries) expect(Date.parse(String(entry.at))).not.toBeNaN();
  });

  it('answers 400 naming the cursor that is not one', async () => {
    const response = await invoke(bearer, {
      method: 'GET',
      path: `/clusters/${MINE}/audit`,
      headers: fleet,
      query: { cursor: 'not-a-cursor' },
    });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'cursor' })]);
  });
});
