// GET /clusters/{clusterId}/deliveries on the embedded runtime's adapters (SQLite): cursor
// paging, the outcome and condition filters, their validation, and the catalog's title and
// severity on each item. The ledger behaviour under the route is the contract test's, in both stores.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { recordOf } from '../support/ledger-fixtures.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const T0 = new Date('2026-12-01T09:00:00.000Z');
const CLUSTER = 'log-a';
const OUTCOMES = ['sent', 'failed', 'folded'] as const;
const CONDITIONS = ['version-mismatch', 'backup-promoted', 'daily-notice'] as const;

let dataDir: string;
let services: TestServices;
let handler: Handler;

async function call(request: Omit<ApiRequest, 'method'>): Promise<ApiResponse> {
  return invoke(handler, { method: 'GET', ...request, headers: { authorization: `Bearer ${TOKEN}` } });
}

const idOf = (n: number) => `evt-${String(n).padStart(2, '0')}`;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-deliveries-'));
  services = await testServices({ dataDir, log: createLogger({ logLevel: 'ERROR' }), clock: () => T0 });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
  // 25 records, two to an instant, outcome and condition cycling.
  for (let n = 0; n < 25; n++) {
    const receivedAt = new Date(T0.getTime() - 3_600_000 + Math.floor(n / 2) * 1000).toISOString();
    await services.deliveries.record(
      recordOf({
        clusterId: CLUSTER,
        eventId: idOf(n),
        outcome: OUTCOMES[n % 3],
        condition: CONDITIONS[n % 3],
        at: receivedAt,
        receivedAt,
      }),
    );
  }
});

afterAll(async () => {
  await services?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Every page of a query, following nextCursor (at most 10 requests). */
async function allPages(query: Record<string, string>) {
  const pages: ApiResponse[] = [];
  let cursor: string | undefined;
  do {
    const page = await call({
      path: `/clusters/${CLUSTER}/deliveries`,
      query: { ...query, ...(cursor ? { cursor } : {}) },
    });
    pages.push(page);
    cursor = page.body.nextCursor as string | undefined;
  } while (cursor && pages.length < 10);
  return pages;
}

const eventIds = (page: ApiResponse) => (page.body.items as Array<{ eventId: string }>).map((i) => i.eventId);

describe('GET /clusters/{clusterId}/deliveries', () => {
  it('pages 25 records 10 at a time with nextCursor: each once, newest first, ties by event id', async () => {
    // Act
    const pages = await allPages({ limit: '10' });

    // Assess
    const newestFirst = Array.from({ length: 25 }, (_, n) => idOf(24 - n));
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(pages.map(eventIds)).toEqual([
      newestFirst.slice(0, 10),
      newestFirst.slice(10, 20),
      newestFirst.slice(20),
    ]);
    expect(pages.map((p) => typeof p.body.nextCursor)).toEqual(['string', 'string', 'undefined']);
  });

  it('filters by one or several outcomes and by condition, across pages', async () => {
    // Act
    const failed = (await allPages({ limit: '3', outcome: 'failed' })).flatMap(eventIds);
    const twoOutcomes = (await allPages({ limit: '4', outcome: 'failed,folded' })).flatMap(eventIds);
    const promoted = (
      await allPages({ limit: '50', condition: 'backup-promoted', outcome: 'failed' })
    ).flatMap(eventIds);

    // Assess
    const matching = (keep: (n: number) => boolean) =>
      Array.from({ length: 25 }, (_, n) => 24 - n)
        .filter(keep)
        .map(idOf);
    expect(failed).toEqual(matching((n) => n % 3 === 1));
    expect(twoOutcomes).toEqual(matching((n) => n % 3 !== 0));
    expect(promoted).toEqual(matching((n) => n % 3 === 1));
  });

  it("adds the condition's title and severity to each item, not to a daily notice, and drops the envelope", async () => {
    // Act
    const response = await call({ path: `/clusters/${CLUSTER}/deliveries`, query: { limit: '3' } });

    // Assess
    const items = response.body.items as Array<Record<string, unknown>>;
    const byCondition = Object.fromEntries(items.map((i) => [i.condition, i]));
    expect(byCondition['version-mismatch']).toMatchObject({
      severity: 'critical',
      title: 'Product versions of primary and backup differ',
    });
    expect(byCondition['backup-promoted']).toMatchObject({
      severity: 'critical',
      title: 'Backup became primary: the primary was silent too long',
    });
    expect(byCondition['daily-notice']).not.toHaveProperty('title');
    expect(byCondition['daily-notice']).not.toHaveProperty('severity');
    expect(items.every((i) => !('envelope' in i))).toBe(true);
    expect(await services.deliveries.getRecord(CLUSTER, idOf(24))).not.toHaveProperty('title');
  });

  it.each([
    ['cursor', { cursor: 'not a cursor' }],
    ['cursor', { cursor: Buffer.from('{"receivedAt":"yesterday","eventId":"e"}').toString('base64url') }],
    ['cursor', { cursor: Buffer.from('[1,2]').toString('base64url') }],
    ['outcome', { outcome: 'failed,lost' }],
    ['condition', { condition: 'no-such-condition' }],
    ['limit', { limit: '501' }],
  ])('answers 400 naming %s for %j', async (field, query) => {
    // Act
    const response = await call({ path: `/clusters/${CLUSTER}/deliveries`, query });

    // Assess
    expect(response.status).toBe(400);
    expect((response.body.issues as Array<{ path: string }>).map((i) => i.path)).toEqual([field]);
  });
});
