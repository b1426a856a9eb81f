// `npm run smoke` against the embedded runtime: every check passes on a working setup, and a
// broken one (nothing listening, a wrong token) fails with a reason an operator can act on.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { formatCheck, runSmoke } from '../../ops/smoke.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const CLUSTER = 'smoke';

let dataDir: string;
let runtime: LocalRuntime;
let relay: SmtpTestServer;

/** A loopback port where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'smoke-'));
  relay = await startSmtpTestServer({ mode: 'plain' });
  runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    dailyNoticeTime: 'off',
    log: createLogger({ logLevel: 'SILENT' }),
  });
  const saved = await fetch(`${runtime.url}/clusters/${CLUSTER}/email-config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${runtime.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      sender: 'appliance@example.com',
      smtp: { host: relay.host, port: relay.port, encryption: 'none' },
      adminContacts: 'ops@example.com',
      grouping: { waitSeconds: 0 },
      language: 'en',
    }),
  });
  expect(saved.status).toBe(201);
});

afterAll(async () => {
  await runtime?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run smoke', () => {
  it('passes every check against a working runtime: pages, 401, test email, and an event in the delivery log', async () => {
    const lines: string[] = [];

    const summary = await runSmoke({
      api: `${runtime.url}/`,
      token: runtime.adminToken,
      cluster: CLUSTER,
      local: true,
      deliveryTimeoutMs: 20_000,
      pollIntervalMs: 100,
      print: (line) => lines.push(line),
    });

    process.stdout.write(`${lines.join('\n')}\n`);
    expect(summary.checks.map((c) => [c.name, c.status, c.detail])).toEqual(
      summary.checks.map((c) => [c.name, 'ok', c.detail]),
    );
    expect(summary.ok).toBe(true);
    expect(summary.checks).toHaveLength(5);
    expect(lines).toEqual(summary.checks.map(formatCheck));
    expect(summary.checks[1]?.detail).toContain('400 "This sign-in link is not valid');
    expect(summary.checks[3]?.detail).toContain('sent to ops@example.com');
    expect(summary.checks[4]?.detail).toMatch(/^event [0-9a-f-]{36} sent to ops@example.com$/);
    // The test email and the event's email both reached the relay.
    const messages = await relay.waitForMessages(2);
    expect(messages.map((m) => m.headers['x-appliance-notifier-condition'])).toContain('data-sync-stale');
  }, 30_000);

  it('skips the token and event checks without their flags, and still passes', async () => {
    const summary = await runSmoke({ api: runtime.url });

    expect(summary.ok).toBe(true);
    expect(summary.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'ok', 'skipped', 'skipped']);
    expect(summary.checks[3]?.detail).toBe('needs --token');
  });

  it('fails every check with the reason when nothing listens at the URL', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;

    const summary = await runSmoke({ api, token: runtime.adminToken, cluster: CLUSTER, local: true });

    expect(summary.ok).toBe(false);
    expect(summary.checks.map((c) => c.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(summary.checks[0]?.detail).toBe(
      `GET ${api}/admin/: no answer: connect ECONNREFUSED ${api.slice('http://'.length)}`,
    );
    expect(formatCheck(summary.checks[0] as never)).toBe(
      `FAILED  admin page GET /admin/: ${summary.checks[0]?.detail}`,
    );
  });

  it('fails the test email with the reason when the token is wrong', async () => {
    const summary = await runSmoke({ api: runtime.url, token: 'wrong-token-wrong-token', cluster: CLUSTER });

    expect(summary.ok).toBe(false);
    const testEmail = summary.checks.find((c) => c.name.startsWith('test email'));
    expect(testEmail).toEqual({
      name: `test email POST /clusters/${CLUSTER}/email-config/test`,
      status: 'failed',
      detail: expect.stringMatching(/^HTTP 401 .*: the token was refused$/),
    });
  });

  it('fails the test email with the diagnosis when the relay is gone', async () => {
    const port = await closedPort();
    const saved = await fetch(`${runtime.url}/clusters/gone/email-config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${runtime.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        sender: 'appliance@example.com',
        smtp: { host: '127.0.0.1', port, encryption: 'none' },
        adminContacts: 'ops@example.com',
        language: 'en',
      }),
    });
    expect(saved.status).toBe(201);

    const summary = await runSmoke({ api: runtime.url, token: runtime.adminToken, cluster: 'gone' });

    expect(summary.checks[3]).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/^not sent: stage connect/),
    });
  });
});
