// Conditional writes through the admin API on the embedded runtime's adapters (SQLite): GET and a
// save answer the configuration's version as `ETag: "v<N>"`; PUT, DELETE and restore honour
// `If-Match` (412 with the current version, who saved it when, and its configuration; 400 for a
// malformed header); without one, the last save wins and kept secrets are still merged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const auth = { authorization: `Bearer ${TOKEN}` };

let dataDir: string;
let now: Date;
let services: TestServices;
let handler: Handler;
const raws: string[] = [];

async function call(request: ApiRequest): Promise<ApiResponse> {
  const response = await invoke(handler, { ...request, headers: { ...auth, ...request.headers } });
  raws.push(response.raw);
  return response;
}

const configWith = (sender: string, password?: string) => ({
  sender,
  transport: 'smtp',
  smtp: {
    host: 'smtp.example.com',
    port: 587,
    encryption: 'starttls',
    auth: { type: 'password', username: 'relay@example.com', ...(password ? { password } : {}) },
  },
  adminContacts: ['ops@example.com'],
});

const storedPassword = async (clusterId: string) => {
  const auth = (await services.emailConfig.get(clusterId)).config.smtp?.auth;
  return auth?.type === 'password' ? auth.password : undefined;
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-etag-'));
  now = new Date('2026-12-01T09:00:00.000Z');
  services = await testServices({ dataDir, log: createLogger({ logLevel: 'ERROR' }), clock: () => now });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
});

afterAll(async () => {
  await services?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  now = new Date(now.getTime() + 60_000);
});

const path = (clusterId: string) => `/clusters/${clusterId}/email-config`;

describe('ETag and If-Match on the email configuration', () => {
  it('answers the version as ETag on GET and on each save, and in the GET body', async () => {
    // Act
    const created = await call({
      method: 'PUT',
      path: path('tags'),
      body: configWith('a@example.com', 'Pw-1'),
    });
    const read = await call({ method: 'GET', path: path('tags') });
    const replaced = await call({
      method: 'PUT',
      path: path('tags'),
      headers: { 'if-match': read.headers.etag ?? '' },
      body: read.body,
    });
    const reread = await call({ method: 'GET', path: path('tags') });

    // Assess
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"v1"');
    expect(read.headers.etag).toBe('"v1"');
    expect(read.body.version).toBe(1);
    expect(replaced.status).toBe(200);
    expect(replaced.headers.etag).toBe('"v2"');
    expect(replaced.body.version).toBe(2);
    expect(reread.headers.etag).toBe('"v2"');
    expect(await storedPassword('tags')).toBe('Pw-1');
  });

  it('refuses a save based on an older version with 412, naming the current version and who saved it when', async () => {
    // Prepare: two admins read version 1; the first saves a new password.
    await call({ method: 'PUT', path: path('stale'), body: configWith('a@example.com', 'Pw-old') });
    const seen = await call({ method: 'GET', path: path('stale') });
    const savedAt = new Date(now.getTime() + 60_000).toISOString();
    now = new Date(savedAt);
    await call({
      method: 'PUT',
      path: path('stale'),
      headers: { 'if-match': '"v1"' },
      body: configWith('a@example.com', 'Pw-new'),
    });

    // Act: the second saves over what it read, leaving the password out.
    const refused = await call({
      method: 'PUT',
      path: path('stale'),
      headers: { 'if-match': seen.headers.etag ?? '' },
      body: configWith('"Renamed" <a@example.com>'),
    });

    // Assess
    expect(refused.status).toBe(412);
    expect(refused.headers.etag).toBe('"v2"');
    expect(refused.body).toEqual({
      error: expect.stringContaining('version 2 (saved by admin-token at'),
      clusterId: 'stale',
      ifMatch: '"v1"',
      current: {
        version: 2,
        etag: '"v2"',
        savedAt,
        savedBy: 'admin-token',
        config: expect.objectContaining({ clusterId: 'stale', sender: 'a@example.com' }),
      },
    });
    expect((refused.body.current as { config: { smtp: { auth: unknown } } }).config.smtp.auth).toEqual({
      type: 'password',
      username: 'relay@example.com',
      passwordSet: true,
    });
    expect(await storedPassword('stale')).toBe('Pw-new');
    const versions = await call({ method: 'GET', path: `${path('stale')}/versions` });
    expect((versions.body.items as unknown[]).length).toBe(2);
    expect(raws.some((raw) => raw.includes('Pw-new') || raw.includes('Pw-old'))).toBe(false);
  });

  it('accepts `*` and a list holding the current tag; refuses a weak or foreign tag, and any tag once deleted', async () => {
    // Prepare
    await call({ method: 'PUT', path: path('lists'), body: configWith('a@example.com', 'Pw') });

    // Act
    const star = await call({
      method: 'PUT',
      path: path('lists'),
      headers: { 'if-match': '*' },
      body: configWith('a@example.com'),
    });
    const list = await call({
      method: 'PUT',
      path: path('lists'),
      headers: { 'if-match': '"v1", "v2"' },
      body: configWith('a@example.com'),
    });
    const weak = await call({
      method: 'PUT',
      path: path('lists'),
      headers: { 'if-match': 'W/"v3"' },
      body: configWith('a@example.com'),
    });
    const foreign = await call({
      method: 'PUT',
      path: path('lists'),
      headers: { 'if-match': '"abc"' },
      body: configWith('a@example.com'),
    });
    const deleteStale = await call({
      method: 'DELETE',
      path: path('lists'),
      headers: { 'if-match': '"v2"' },
    });
    const deleted = await call({ method: 'DELETE', path: path('lists'), headers: { 'if-match': '"v3"' } });
    const afterDelete = await call({
      method: 'PUT',
      path: path('lists'),
      headers: { 'if-match': '*' },
      body: configWith('a@example.com', 'Pw'),
    });

    // Assess
    expect([star.status, star.headers.etag]).toEqual([200, '"v2"']);
    expect([list.status, list.headers.etag]).toEqual([200, '"v3"']);
    expect(weak.status).toBe(412);
    expect(foreign.status).toBe(412);
    expect(deleteStale.status).toBe(412);
    expect((deleteStale.body.current as { version: number }).version).toBe(3);
    expect(deleted.status).toBe(204);
    expect(afterDelete.status).toBe(412);
    expect(afterDelete.body).toMatchObject({ clusterId: 'lists', current: null });
    expect(afterDelete.body.error).toContain('no email configuration');
    expect((await call({ method: 'GET', path: path('lists') })).status).toBe(404);
  });

  it('honours If-Match on restore', async () => {
    // Prepare
    await call({ method: 'PUT', path: path('restore'), body: configWith('a@example.com', 'Pw') });
    await call({ method: 'PUT', path: path('restore'), body: configWith('b@example.com') });

    // Act
    const stale = await call({
      method: 'POST',
      path: `${path('restore')}/versions/1/restore`,
      headers: { 'if-match': '"v1"' },
    });
    const current = await call({
      method: 'POST',
      path: `${path('restore')}/versions/1/restore`,
      headers: { 'if-match': '"v2"' },
    });

    // Assess
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ current: { version: 2, etag: '"v2"' } });
    expect(current.status).toBe(200);
    expect(current.headers.etag).toBe('"v3"');
    expect(current.body).toMatchObject({ version: 3, restoredFrom: 1, config: { sender: 'a@example.com' } });
  });

  it.each([['v1'], ['"v1" x'], ['"v1",'], ['"v1'], ['']])(
    'answers 400 naming the header for a malformed If-Match %j, and changes nothing',
    async (ifMatch) => {
      // Prepare
      await call({ method: 'PUT', path: path('malformed'), body: configWith('a@example.com', 'Pw') });
      const before = await call({ method: 'GET', path: path('malformed') });

      // Act
      const put = await call({
        method: 'PUT',
        path: path('malformed'),
        headers: { 'if-match': ifMatch },
        body: configWith('changed@example.com'),
      });
      const del = await call({ method: 'DELETE', path: path('malformed'), headers: { 'if-match': ifMatch } });
      const after = await call({ method: 'GET', path: path('malformed') });

      // Assess
      for (const response of [put, del]) {
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          error: 'Invalid If-Match header',
          issues: [{ path: 'If-Match', message: expect.stringContaining('"v7"') }],
        });
      }
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(after.body.sender).toBe('a@example.com');
    },
  );

  it('without If-Match the last save wins, and a save that leaves the password out keeps the newest one', async () => {
    // Prepare
    await call({ method: 'PUT', path: path('plain'), body: configWith('a@example.com', 'Pw-1') });
    await call({ method: 'PUT', path: path('plain'), body: configWith('a@example.com', 'Pw-2') });

    // Act
    const saved = await call({ method: 'PUT', path: path('plain'), body: configWith('c@example.com') });

    // Assess
    expect(saved.status).toBe(200);
    expect(saved.headers.etag).toBe('"v3"');
    expect(await storedPassword('plain')).toBe('Pw-2');
  });
});
