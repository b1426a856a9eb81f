// Issue 15's HTTP defects against the real admin API handler (as Lambda runs it) and the embedded
// runtime's HTTP server: malformed escapes, nosniff, HEAD, authentication before the body, the
// admin token's strength, and the test email's honest result (outbox, credentials in clear).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { adminTokenProblem, generateAdminToken } from '../../functions/shared/admin-token.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { type ApiRequest, type Handler, invoke } from '../support/api-gateway.js';
import { testServices } from '../support/services.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const TOKEN = 'http-hardening-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const MALFORMED = '/clusters/%E0%A4%A/email-config';
const log = createLogger({ logLevel: 'ERROR' });

describe('the admin API handler (as in Lambda)', () => {
  let dataDir: string;
  let handler: Handler;
  const call = (request: ApiRequest) => invoke(handler, request);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'http-hardening-'));
    const services = await testServices({ dataDir, log });
    handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a malformed percent-escape in the path with 400 naming the parameter', async () => {
    const response = await call({ method: 'GET', path: MALFORMED, headers: auth });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      issues: [{ path: 'clusterId', message: expect.stringMatching(/malformed %-escape/) }],
    });
  });

  it.each([
    ['200', { method: 'GET', path: '/conditions', headers: auth }, 200],
    ['401', { method: 'GET', path: '/conditions' }, 401],
    ['404', { method: 'GET', path: '/no-such-route', headers: auth }, 404],
    ['405', { method: 'PATCH', path: '/clusters/a/email-config', headers: auth }, 405],
    ['400', { method: 'PUT', path: '/clusters/a/email-config', headers: auth, body: {} }, 400],
  ] as const)('sends X-Content-Type-Options: nosniff on a %s', async (_name, request, status) => {
    const response = await call(request);

    expect(response.status).toBe(status);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers HEAD on a GET route like GET, without the body', async () => {
    const get = await call({ method: 'GET', path: '/conditions', headers: auth });
    const head = await call({ method: 'HEAD', path: '/conditions', headers: auth });
    const anonymous = await call({ method: 'HEAD', path: '/conditions' });

    expect(get.raw).not.toBe('');
    expect(head.status).toBe(200);
    expect(head.raw).toBe('');
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['x-content-type-options']).toBe('nosniff');
    expect(anonymous).toMatchObject({ status: 401, raw: '' });
  });

  it('lists HEAD beside GET in a 405 Allow', async () => {
    const response = await call({ method: 'PATCH', path: '/clusters/a/email-config', headers: auth });

    expect(response.headers.allow).toBe('GET, HEAD, PUT, DELETE');
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with node:http, so a body can be streamed and HEAD's empty body seen as sent. */
function send(
  runtime: LocalRuntime,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; bodyBytes?: number } = {},
): Promise<RawResponse> {
  return new Promise((done, fail) => {
    const url = new URL(path, runtime.url);
    const req = httpRequest(url, { method, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', fail);
    if (options.bodyBytes) {
      req.setHeader('content-type', 'application/json');
      req.setHeader('content-length', options.bodyBytes);
      req.end(Buffer.alloc(options.bodyBytes, 0x20));
    } else {
      req.end();
    }
  });
}

describe('the embedded runtime', () => {
  let dataDir: string;
  let runtime: LocalRuntime;
  let relay: SmtpTestServer;
  const bearer = () => ({ authorization: `Bearer ${runtime.adminToken}` });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'http-hardening-runtime-'));
    relay = await startSmtpTestServer({
      mode: 'plain',
      auth: { username: 'relay@example.com', password: 'Relay-Pass-42' },
    });
    runtime = await startLocalRuntime({ port: 0, dataDir, log });
  });
  afterAll(async () => {
    await runtime?.close();
    await relay?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 401 to an unauthenticated request with a large body, without reading it first', async () => {
    const anonymous = await send(runtime, 'POST', '/events', { bodyBytes: 3 * 1024 * 1024 });
    const authenticated = await send(runtime, 'POST', '/events', {
      headers: bearer(),
      bodyBytes: 3 * 1024 * 1024,
    });

    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(authenticated.status).toBe(413);
    expect(authenticated.headers['x-content-type-options']).toBe('nosniff');
  });

  it('keeps the public routes working for unauthenticated requests', async () => {
    const page = await send(runtime, 'GET', '/admin/');
    const script = await send(runtime, 'GET', '/admin/app.js');
    const styles = await send(runtime, 'GET', '/admin/app.css');
    const root = await send(runtime, 'GET', '/');
    const redirect = await send(runtime, 'GET', '/login/smtp-verification/?state=nope&code=x');

    for (const response of [page, script, styles, root, redirect]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    expect(script.status).toBe(200);
    expect(styles.status).toBe(200);
    expect(root.status).toBe(302);
    expect(redirect.status).toBeLessThan(500);
  });

  it('answers HEAD like GET without a body, on the page and on an admin route', async () => {
    const page = await send(runtime, 'HEAD', '/admin/');
    const conditions = await send(runtime, 'HEAD', '/conditions', { headers: bearer() });
    const anonymous = await send(runtime, 'HEAD', '/conditions');

    expect(page).toMatchObject({ status: 200, body: '' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(conditions).toMatchObject({ status: 200, body: '' });
    expect(anonymous).toMatchObject({ status: 401, body: '' });
  });

  it('answers a malformed escape with 400, and its own 404 with nosniff', async () => {
    const malformed = await send(runtime, 'GET', MALFORMED, { headers: bearer() });
    const missing = await send(runtime, 'GET', '/no-such-route', { headers: bearer() });

    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).issues).toEqual([
      { path: 'clusterId', message: expect.stringMatching(/malformed %-escape/) },
    ]);
    expect(missing.status).toBe(404);
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
  });

  it('generated a token that meets the rule', () => {
    expect(runtime.adminTokenGenerated).toBe(true);
    expect(adminTokenProblem(runtime.adminToken)).toBeUndefined();
  });

  async function putAndTest(clusterId: string, config: unknown) {
    const json = { ...bearer(), 'content-type': 'application/json' };
    const put = await fetch(`${runtime.url}/clusters/${clusterId}/email-config`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify(config),
    });
    expect(put.status).toBeLessThan(300);
    const test = await fetch(`${runtime.url}/clusters/${clusterId}/email-config/test`, {
      method: 'POST',
      headers: bearer(),
    });
    return (await test.json()) as Record<string, unknown>;
  }

  it('says a test email over transport "ses" without an SES endpoint went to the outbox, not out', async () => {
    const result = await putAndTest('outbox-only', {
      sender: 'alerts@example.com',
      transport: 'ses',
      adminContacts: 'ops@example.com',
    });

    expect(result).toMatchObject({
      ok: true,
      delivered: false,
      outbox: expect.stringContaining(runtime.outboxDir),
    });
    expect(result.warnings).toEqual([expect.stringMatching(/^Not sent: .*outbox.*SES_ENDPOINT/)]);
  });

  it('warns in the test-email result when credentials went in clear (smtp.allowInsecureAuth)', async () => {
    const result = await putAndTest('in-clear', {
      sender: 'alerts@example.com',
      adminContacts: 'ops@example.com',
      smtp: {
        host: relay.host,
        port: relay.port,
        encryption: 'none',
        allowInsecureAuth: true,
        auth: { type: 'password', username: 'relay@example.com', password: 'Relay-Pass-42' },
      },
    });
    const shown = await fetch(`${runtime.url}/clusters/in-clear/email-config`, { headers: bearer() });

    expect(result).toMatchObject({ ok: true });
    expect(result).not.toHaveProperty('delivered');
    expect(result.warnings).toEqual([expect.stringMatching(/password was sent in clear text/)]);
    expect(relay.messages).toHaveLength(1);
    expect(((await shown.json()) as { smtp: unknown }).smtp).toMatchObject({ allowInsecureAuth: true });
  });
});

describe('the admin token', () => {
  it.each([
    ['16 characters of one', 'a'.repeat(16), /ADMIN_TOKEN must be at least 32 characters \(it has 16\)/],
    ['32 characters of one', 'a'.repeat(32), /ADMIN_TOKEN must have at least 10 distinct characters/],
    ['a repeated pattern', 'abcdefghij'.repeat(4), /ADMIN_TOKEN must not be a repeated pattern/],
    ['mostly one character', `${'x'.repeat(20)}abcdefghijkl`, /ADMIN_TOKEN must not be mostly one character/],
    [
      'digits only, too short for 128 bits',
      '01234567890123456789012345678901',
      /ADMIN_TOKEN (is too weak|must not be a repeated)/,
    ],
    ['spaces', 'correct horse battery staple 0123456789', /ADMIN_TOKEN must be printable ASCII/],
  ])('refuses %s to start, in one line saying how to make one', async (_name, adminToken, message) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weak-token-'));
    try {
      const failure = await startLocalRuntime({ port: 0, dataDir, log, adminToken }).then(
        () => new Error('started'),
        (error: Error) => error,
      );
      expect(failure.message).toMatch(message);
      expect(failure.message).toMatch(/openssl rand -base64 32$/);
      expect(failure.message).not.toContain('\n');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a weak token in DATA_DIR/admin-token, naming the file', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weak-token-file-'));
    try {
      await writeFile(join(dataDir, 'admin-token'), 'short-token-1234\n', { mode: 0o600 });
      const failure = await startLocalRuntime({ port: 0, dataDir, log }).then(
        () => new Error('started'),
        (error: Error) => error,
      );
      expect(failure.message).toMatch(/admin token in .*admin-token must be at least 32 characters/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('takes generated tokens and the ones openssl makes', () => {
    for (let n = 0; n < 2000; n++) expect(adminTokenProblem(generateAdminToken())).toBeUndefined();
    expect(adminTokenProblem('q3Jd8vK1mZ0pL7xR2sT9uW4yB6nC5eF+gH/iA0bDcE8=')).toBeUndefined();
    expect(adminTokenProblem(TOKEN)).toBeUndefined();
  });
});
