import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EVENT_SOURCE } from '../../events/catalog.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const PASSWORD = 'e2e-Relay-Secret-42';
const USERNAME = 'relay@example.com';

let dataDir: string;
let runtime: LocalRuntime;
let relay: SmtpTestServer;

async function api(method: string, path: string, body?: unknown, token = runtime.adminToken) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

const configFor = (server: SmtpTestServer) => ({
  sender: 'Appliance Cluster <appliance@example.com>',
  smtp: {
    host: server.host,
    port: server.port,
    encryption: 'starttls',
    // The relay's certificate is self-signed (made by the test): trust it explicitly.
    verifyCertificate: false,
    auth: { type: 'password', username: USERNAME, password: PASSWORD },
  },
  adminContacts: 'ops@example.com oncall@example.com',
  dailyNotice: true,
  language: 'en',
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'runtime-'));
  relay = await startSmtpTestServer({ mode: 'starttls', auth: { username: USERNAME, password: PASSWORD } });
  runtime = await startLocalRuntime({ port: 0, dataDir, log: createLogger({ logLevel: 'INFO' }) });
});

afterAll(async () => {
  await runtime?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded runtime', () => {
  it('generates an admin token, stores it 0600, and refuses requests without it', async () => {
    const tokenFile = await stat(join(dataDir, 'admin-token'));

    const anonymous = await api(
      'GET',
      '/clusters/default/email-config',
      undefined,
      'wrong-token-wrong-token',
    );

    expect(runtime.adminTokenGenerated).toBe(true);
    expect(tokenFile.mode & 0o777).toBe(0o600);
    expect(anonymous.status).toBe(401);
  });

  it('saves a configuration and delivers the test email through a real relay to every admin contact', async () => {
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    let saved: Awaited<ReturnType<typeof api>>;
    try {
      saved = await api('PUT', '/clusters/default/email-config?sendTestEmail=true', configFor(relay));
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }

    expect(saved.status).toBe(201);
    expect(saved.body.testEmail).toMatchObject({
      ok: true,
      recipients: ['ops@example.com', 'oncall@example.com'],
    });
    const [message] = await relay.waitForMessages(1);
    expect(message?.mailFrom).toBe('appliance@example.com');
    expect(message?.rcptTo).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message?.subject).toBe('Test email from appliance-notifier (cluster default)');
    expect(message?.user).toBe(USERNAME);
    // Every log line of the save and the test, and the response, are free of the secret.
    const logs = written.join('');
    expect(logs).toContain('Email configuration saved');
    for (const text of [logs, saved.text]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(PASSWORD).toString('base64'));
      expect(text).not.toContain(Buffer.from(`\0${USERNAME}\0${PASSWORD}`).toString('base64'));
    }
  });

  it('keeps the configuration on disk, readable after a restart', async () => {
    await runtime.close();
    runtime = await startLocalRuntime({ port: 0, dataDir });

    const fetched = await api('GET', '/clusters/default/email-config');
    const file = await stat(join(dataDir, 'notifier.db'));

    expect(runtime.adminTokenGenerated).toBe(false);
    expect(fetched.status).toBe(200);
    expect(fetched.body.smtp.auth).toEqual({ type: 'password', username: USERNAME, passwordSet: true });
    expect(file.mode & 0o777).toBe(0o600);
  });

  it('tells why the test email fails when the relay refuses the password', async () => {
    const wrong = configFor(relay);
    wrong.smtp.auth.password = 'not-the-password';
    await api('PUT', '/clusters/wrong-pass/email-config', wrong);

    const result = await api('POST', '/clusters/wrong-pass/email-config/test');

    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: false, stage: 'auth', code: 535 });
    expect(result.body.transcript.join('\n')).not.toContain('not-the-password');
  });

  it('serves per-cluster admin tokens: its own cluster only, no fleet-wide route, and it survives a restart', async () => {
    // Prepare
    const created = await api('POST', '/clusters/default/admin-tokens', { label: 'e2e' });
    const token = String(created.body.token);
    await runtime.close();
    runtime = await startLocalRuntime({ port: 0, dataDir });

    // Act
    const own = await api('GET', '/clusters/default/email-config', undefined, token);
    const other = await api('GET', '/clusters/wrong-pass/email-config', undefined, token);
    const fleetWide = await api('POST', '/daily-notice/run', undefined, token);
    const overview = await api('GET', '/clusters', undefined, token);
    const audit = await api('GET', '/clusters/default/audit', undefined, token);

    // Assess
    expect(created.status).toBe(201);
    expect(own.status).toBe(200);
    expect(other.status).toBe(403);
    expect(other.body.error).toContain('may not administer cluster wrong-pass');
    expect(fleetWide.status).toBe(403);
    expect(overview.body.items.map((item: { clusterId: string }) => item.clusterId)).toEqual(['default']);
    expect(audit.body.items[0]).toMatchObject({
      action: 'admin-token.create',
      actor: 'admin-token',
      detail: { tokenId: created.body.tokenId, label: 'e2e' },
    });
  });
});

describe('the data directory and the event queue', () => {
  it('refuses a second runtime on a data directory that is in use, and names the holder', async () => {
    await expect(startLocalRuntime({ port: 0, dataDir })).rejects.toThrow(
      new RegExp(`data directory .* is in use by another appliance-notifier \\(pid ${process.pid} `),
    );
    // The first one still works.
    expect((await api('GET', '/clusters/default/email-config')).status).toBe(200);
  });

  it('keeps queued events across a restart and delivers them after it', async () => {
    // Prepare: a runtime whose consumer does not run (no invocations), so the events stay queued.
    await runtime.close();
    runtime = await startLocalRuntime({ port: 0, dataDir, eventConsumers: 1 });
    await runtime.consumer.stop();
    const put = await api('POST', '/events', {
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: 'Failover Backup Promoted',
          Detail: JSON.stringify({ clusterId: 'default' }),
        },
      ],
    });
    const queuedBefore = await runtime.queue.depth();

    // Act
    await runtime.close();
    runtime = await startLocalRuntime({ port: 0, dataDir });
    await runtime.consumer.idle();

    // Assess: the event was handled after the restart (a detail this thin is rejected, with a reason).
    const eventId = put.body.Entries[0].EventId;
    const log = await api('GET', '/clusters/default/deliveries?limit=500');
    expect(put.body.FailedEntryCount).toBe(0);
    expect(queuedBefore.visible).toBe(1);
    expect(log.body.items).toContainEqual(expect.objectContaining({ eventId, outcome: 'rejected' }));
    expect(await runtime.queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('answers 413 naming the limit for an envelope larger than the event queue takes', async () => {
    const response = await api('POST', '/events/envelope', { id: 'big', padding: 'x'.repeat(300 * 1024) });

    expect(response.status).toBe(413);
    expect(response.body.error).toMatch(/the event queue takes at most 262144/);
  });
});
