// Publisher tokens of the embedded runtime: an appliance's credential for one cluster. It posts
// that cluster's events, is refused (and recorded) for any other, opens no admin route, and is
// stored as a hash only.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { CATALOG, type ConditionId, EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { DATABASE_FILE_NAME } from '../../functions/adapters/local/sqlite-database.js';
import type { LocalRuntime } from '../../local-runtime/server.js';
import {
  ONE_ATTEMPT,
  type RuntimeWithRelay,
  runtimeApi,
  startRuntimeWithRelay,
} from '../support/runtime-api.js';
import type { SmtpTestServer } from '../support/smtp-test-server.js';

const OWN = 'eu-prod-1';
const VICTIM = 'us-east-2';

let started: RuntimeWithRelay | undefined;
let runtime: LocalRuntime;
let relay: SmtpTestServer;
const now = new Date('2026-11-28T02:00:00Z');

const api = runtimeApi(() => runtime);

/** A request with another bearer token (or none). */
async function as(token: string | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

async function configure(clusterId: string) {
  const response = await api('PUT', `/clusters/${clusterId}/email-config`, {
    sender: 'appliance@example.com',
    smtp: { host: relay.host, port: relay.port, encryption: 'none' },
    adminContacts: `ops@${clusterId}.example.com`,
    grouping: { waitSeconds: 0 },
  });
  expect([200, 201]).toContain(response.status);
}

/** A PutEvents entry from a condition's sample, with the detail patched (clusterId undefined: none). */
function entry(id: ConditionId, detailPatch: Record<string, unknown>, source: string = EVENT_SOURCE) {
  const detail: Record<string, unknown> = { ...loadSample(id).detail, ...detailPatch };
  if (detailPatch.clusterId === undefined) delete detail.clusterId;
  return { Source: source, DetailType: CATALOG[id].detailType, Detail: JSON.stringify(detail) };
}

async function createToken(clusterId: string) {
  const created = await api('POST', `/clusters/${clusterId}/publisher-tokens`);
  expect(created.status).toBe(201);
  return created.body as {
    tokenId: string;
    token: string;
    clusterId: string;
    createdAt: string;
    createdBy: string;
  };
}

async function deliveries(clusterId: string) {
  const page = await api('GET', `/clusters/${clusterId}/deliveries`);
  return page.body.items as { eventId: string; outcome: string; reason?: string; condition: string }[];
}

beforeAll(async () => {
  started = await startRuntimeWithRelay('publishers-', { clock: () => now, ...ONE_ATTEMPT });
  ({ runtime, relay } = started);
  await configure(OWN);
  await configure(VICTIM);
});

afterAll(() => started?.close());

beforeEach(() => relay.reset());

describe('publisher tokens: create, list, revoke', () => {
  it('shows the token once (256 random bits), lists it without the token, and stores only its SHA-256', async () => {
    // Act
    const created = await createToken(OWN);
    const listed = await api('GET', `/clusters/${OWN}/publisher-tokens`);

    // Assess
    expect(created).toEqual({
      tokenId: expect.stringMatching(/^[0-9a-f]{16}$/),
      token: expect.stringMatching(/^anp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
      clusterId: OWN,
      createdAt: now.toISOString(),
      createdBy: 'admin-token',
    });
    // 43 base64url characters are 258 bits: the secret part is 32 random bytes.
    expect(Buffer.from(created.token.split('_').slice(2).join('_'), 'base64url')).toHaveLength(32);
    expect(listed.status).toBe(200);
    const { token: _, ...info } = created;
    expect(listed.body.items).toEqual([info]);
    expect(JSON.stringify(listed.body)).not.toContain(created.token);

    const db = new Database(join(runtime.dataDir, DATABASE_FILE_NAME), { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM publisher_token WHERE token_id = ?').all(created.tokenId);
      expect(rows).toEqual([
        {
          token_id: created.tokenId,
          cluster_id: OWN,
          token_hash: createHash('sha256').update(created.token).digest('hex'),
          created_at: now.toISOString(),
          created_by: 'admin-token',
        },
      ]);
    } finally {
      db.close();
    }
    const raw = await readFile(join(runtime.dataDir, DATABASE_FILE_NAME));
    const secret = created.token.split('_').slice(2).join('_');
    expect(raw.includes(secret)).toBe(false);
  });

  it('revokes a token (204), then 404 for it, and the revoked token is 401', async () => {
    const { tokenId, token } = await createToken(OWN);
    expect(
      (await as(token, 'POST', '/events', { Entries: [entry('data-sync-stale', { clusterId: OWN })] }))
        .status,
    ).toBe(200);

    // Act
    const revoked = await as(runtime.adminToken, 'DELETE', `/clusters/${OWN}/publisher-tokens/${tokenId}`);
    const again = await as(runtime.adminToken, 'DELETE', `/clusters/${OWN}/publisher-tokens/${tokenId}`);
    const afterwards = await as(token, 'POST', '/events', {
      Entries: [entry('data-sync-stale', { clusterId: OWN })],
    });

    // Assess
    expect(revoked.status).toBe(204);
    expect(again.status).toBe(404);
    expect(again.body.error).toContain(tokenId);
    expect(afterwards.status).toBe(401);
    const listed = await api('GET', `/clusters/${OWN}/publisher-tokens`);
    expect((listed.body.items as { tokenId: string }[]).map((t) => t.tokenId)).not.toContain(tokenId);
    // Both changes are in the cluster's audit trail, with who made them.
    const audit = await api('GET', `/clusters/${OWN}/audit?limit=50`);
    const mine = (
      audit.body.items as { action: string; actor: string; detail?: { tokenId?: string } }[]
    ).filter((item) => item.detail?.tokenId === tokenId);
    // (Two entries of the same millisecond come back in either order.)
    expect(mine.map((item) => `${item.action} by ${item.actor}`).sort()).toEqual([
      'publisher-token.create by admin-token',
      'publisher-token.revoke by admin-token',
    ]);
    await runtime.consumer.idle();
  });

  it('a token of one cluster cannot be revoked through another cluster (404)', async () => {
    const { tokenId } = await createToken(OWN);

    const response = await as(
      runtime.adminToken,
      'DELETE',
      `/clusters/${VICTIM}/publisher-tokens/${tokenId}`,
    );

    expect(response.status).toBe(404);
  });
});

describe('a publisher token posts for its own cluster only', () => {
  let token: string;
  let tokenId: string;
  beforeAll(async () => {
    ({ token, tokenId } = await createToken(OWN));
  });

  it("posts its cluster's event: the email arrives at the relay", async () => {
    // Act
    const put = await as(token, 'POST', '/events', {
      Entries: [
        entry('self-check-failed', {
          clusterId: OWN,
          appliance: { hostname: 'fw1.eu.example.com', role: 'backup', version: '9.1' },
        }),
      ],
    });
    await runtime.consumer.idle();

    // Assess
    expect(put.body).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual([`ops@${OWN}.example.com`]);
    expect(message?.headers['x-appliance-notifier-condition']).toBe('self-check-failed');
  });

  it("refuses an entry for another cluster in its place, records it rejected in that cluster's log, and the victim's genuine alert still emails", async () => {
    const victimAppliance = { hostname: 'fw2.us.example.com', role: 'backup', version: '9.1' };

    // Act: one entry of its own, one pre-sent for the victim's appliance, one without a cluster (default)
    const put = await as(token, 'POST', '/events', {
      Entries: [
        entry('shared-ip-not-assigned', { clusterId: OWN }),
        entry('primary-check-failed', { clusterId: VICTIM, appliance: victimAppliance }),
        entry('primary-check-failed', { clusterId: undefined }),
      ],
    });
    await runtime.consumer.idle();

    // Assess: the answer, entry by entry
    expect(put.status).toBe(200);
    expect(put.body.FailedEntryCount).toBe(2);
    const [mine, forged, unnamed] = put.body.Entries as Record<string, string>[];
    expect(mine).toEqual({ EventId: expect.any(String) });
    expect(forged).toEqual({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: expect.stringContaining('cluster mismatch'),
    });
    expect(forged?.ErrorMessage).toContain(`"${VICTIM}"`);
    expect(forged?.ErrorMessage).toContain(`"${OWN}"`);
    expect(unnamed?.ErrorMessage).toContain('"default"');
    // ...the victim's log shows the attempt, naming the token
    const victimLog = await deliveries(VICTIM);
    const refused = victimLog.filter((item) => item.outcome === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ condition: 'primary-check-failed' });
    expect(refused[0]?.reason).toContain(`publisher-token:${tokenId}`);
    // ...and nothing of it was queued: only this cluster's own event was emailed
    expect(relay.messages.map((m) => m.rcptTo)).toEqual([[`ops@${OWN}.example.com`]]);
    relay.reset();

    // Act: the victim's genuine alert for the same condition and appliance, by the fleet admin token
    const genuine = await api('POST', '/events', {
      Entries: [entry('primary-check-failed', { clusterId: VICTIM, appliance: victimAppliance })],
    });
    await runtime.consumer.idle();

    // Assess: emailed, not folded under the forgery
    const eventId = ((genuine.body.Entries as { EventId: string }[])[0] as { EventId: string }).EventId;
    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual([`ops@${VICTIM}.example.com`]);
    const outcome = (await deliveries(VICTIM)).find((item) => item.eventId === eventId);
    expect(outcome?.outcome).toBe('sent');
  });

  it('refuses a per-cluster source naming another cluster, even with a detail of its own cluster', async () => {
    const put = await as(token, 'POST', '/events', {
      Entries: [entry('test-ips-unreachable', { clusterId: OWN }, `appliance.failover.${VICTIM}`)],
    });

    expect(put.body).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'AccessDeniedException' }],
    });
    expect((put.body.Entries as { ErrorMessage: string }[])[0]?.ErrorMessage).toContain(
      `source "appliance.failover.${VICTIM}"`,
    );
  });

  it('refuses an envelope for another cluster with 403, recorded, and takes one of its own', async () => {
    const sample = loadSample('backup-operations-disabled');
    const forged = {
      ...sample,
      id: 'forged-envelope-1',
      time: now.toISOString(),
      detail: { ...sample.detail, clusterId: VICTIM },
    };
    const own = { ...forged, id: 'own-envelope-1', detail: { ...sample.detail, clusterId: OWN } };

    const refused = await as(token, 'POST', '/events/envelope', forged);
    const accepted = await as(token, 'POST', '/events/envelope', own);

    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('cluster mismatch');
    expect(
      (await deliveries(VICTIM)).some(
        (i) => i.outcome === 'rejected' && i.condition === 'backup-operations-disabled',
      ),
    ).toBe(true);
    expect(accepted.status).toBe(200);
    expect(accepted.body.outcome).toBe('sent');
  });

  it.each([
    ['GET', `/clusters/${OWN}/email-config`],
    ['GET', '/clusters'],
    ['GET', `/clusters/${OWN}/deliveries`],
    ['POST', `/clusters/${OWN}/publisher-tokens`],
    ['GET', `/clusters/${OWN}/publisher-tokens`],
    ['POST', '/daily-notice/run'],
    ['POST', '/deliveries/replay-failed'],
  ])('opens no admin route: %s %s answers 403', async (method, path) => {
    const response = await as(token, method, path);

    expect(response.status).toBe(403);
    expect(response.body.error).toContain('publisher token');
  });

  it('an unknown token of the right shape is 401', async () => {
    const forgedToken = `anp_${tokenId}_${'A'.repeat(43)}`;

    const response = await as(forgedToken, 'POST', '/events', {
      Entries: [entry('data-sync-stale', { clusterId: OWN })],
    });

    expect(response.status).toBe(401);
  });
});
