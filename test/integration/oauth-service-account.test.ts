// A Google Workspace service account with domain-wide delegation, end to end through the
// embedded runtime: a token endpoint in the test that verifies each JWT bearer assertion's RS256
// signature with the service account's public key and Google's claims (iss, sub, scope, aud,
// exp) and answers as Google does, and an SMTP server that accepts XOAUTH2 only with a token that
// endpoint issued for the mailbox that signs in.
import { generateKeyPairSync, type KeyObject, randomBytes, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { loadSample } from '../../events/samples.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { ONE_ATTEMPT } from '../support/runtime-api.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const ADMIN_TOKEN = 'service-account-admin-token-0123456789';
const MAILBOX = 'alerts@example.com';
/** A Workspace user Google issues tokens for, whose mailbox Gmail does not let sign in over SMTP. */
const NO_GMAIL = 'no-gmail@example.com';
const SCOPE = 'https://mail.google.com/';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

interface TestServiceAccount {
  clientEmail: string;
  clientId: string;
  keyId: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  /** Whether the Workspace admin delegated https://mail.google.com/ to it. */
  delegated: boolean;
}

function serviceAccount(name: string, clientId: string, delegated: boolean): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    clientEmail: `${name}@appliance-alerts.iam.gserviceaccount.com`,
    clientId,
    keyId: randomBytes(20).toString('hex'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
    delegated,
  };
}

/** The JSON key as the Cloud console downloads it. */
const jsonKey = (account: TestServiceAccount) => ({
  type: 'service_account',
  project_id: 'appliance-alerts',
  private_key_id: account.keyId,
  private_key: account.privateKeyPem,
  client_email: account.clientEmail,
  client_id: account.clientId,
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: tokenEndpoint,
  auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
  client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(account.clientEmail)}`,
  universe_domain: 'googleapis.com',
});

let delegated: TestServiceAccount;
let undelegated: TestServiceAccount;
/** Signs with a key Google no longer has (deleted in the Cloud console). */
let deletedKey: TestServiceAccount;
let tokenServer: Server;
let tokenEndpoint: string;
let smtp: SmtpTestServer;
let runtime: LocalRuntime;
let dataDir: string;
let now = new Date('2026-11-28T18:00:00.000Z');
const output: string[] = [];
const responses: string[] = [];
/** Every token request the endpoint got, and what it made of the assertion. */
const tokenRequests: { form: Record<string, string>; claims?: Record<string, unknown>; answered: number }[] =
  [];
/** Access tokens issued, with the mailbox each is for. */
const issued = new Map<string, string>();

function googleTokenEndpoint(request: IncomingMessage, response: ServerResponse): void {
  let body = '';
  request.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  request.on('end', () => {
    const form = Object.fromEntries(new URLSearchParams(body));
    const answer = (status: number, json: Record<string, unknown>, claims?: Record<string, unknown>) => {
      tokenRequests.push({ form, ...(claims ? { claims } : {}), answered: status });
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(json));
    };
    if (form.grant_type !== JWT_BEARER || !form.assertion) {
      answer(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' });
      return;
    }
    const [h = '', c = '', s = ''] = form.assertion.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    const account = [delegated, undelegated].find((a) => a.clientEmail === claims.iss);
    const signed =
      account !== undefined &&
      header.alg === 'RS256' &&
      header.typ === 'JWT' &&
      header.kid === account.keyId &&
      verify('RSA-SHA256', Buffer.from(`${h}.${c}`), account.publicKey, Buffer.from(s, 'base64url'));
    if (!signed) {
      answer(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }, claims);
      return;
    }
    const nowS = Math.floor(now.getTime() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (claims.aud !== tokenEndpoint || !(Math.abs(iat - nowS) < 300 && exp > iat && exp - iat <= 3600)) {
      answer(
        400,
        {
          error: 'invalid_grant',
          error_description:
            'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
        },
        claims,
      );
      return;
    }
    if (claims.sub !== MAILBOX && claims.sub !== NO_GMAIL) {
      answer(400, { error: 'invalid_grant', error_description: 'Invalid email or User ID' }, claims);
      return;
    }
    if (!account.delegated || claims.scope !== SCOPE) {
      answer(
        401,
        {
          error: 'unauthorized_client',
          error_description:
            'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        },
        claims,
      );
      return;
    }
    const accessToken = `ya29.${randomBytes(48).toString('base64url')}`;
    issued.set(accessToken, String(claims.sub));
    answer(200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }, claims);
  });
}

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  responses.push(text);
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the route answers
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

const serviceAccountConfig = (auth: Record<string, unknown>) => ({
  sender: `Appliance alerts <${MAILBOX}>`,
  transport: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port: smtp.port,
    encryption: 'starttls',
    verifyCertificate: false,
    auth: { type: 'oauth2', provider: 'google', flow: 'service-account', user: MAILBOX, ...auth },
  },
  adminContacts: 'ops@example.com',
  grouping: { waitSeconds: 0 },
});

const jwtRequests = () => tokenRequests.filter((r) => r.form.grant_type === JWT_BEARER);

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    });
  }
  delegated = serviceAccount('notifier', '109876543210987654321', true);
  undelegated = serviceAccount('no-delegation', '112233445566778899001', false);
  deletedKey = {
    ...serviceAccount('notifier', delegated.clientId, true),
    clientEmail: delegated.clientEmail,
  };
  tokenServer = createServer(googleTokenEndpoint);
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenEndpoint = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
  smtp = await startSmtpTestServer({
    mode: 'starttls',
    authMethods: ['XOAUTH2'],
    auth: (attempt) =>
      attempt.method === 'XOAUTH2' &&
      attempt.accessToken !== undefined &&
      issued.get(attempt.accessToken) === attempt.username &&
      attempt.username !== NO_GMAIL
        ? { user: attempt.username }
        : {
            reply:
              '535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials',
          },
  });
  dataDir = await mkdtemp(join(tmpdir(), 'oauth-service-account-'));
  runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    adminToken: ADMIN_TOKEN,
    dailyNoticeTime: 'off',
    clock: () => now,
    log: createLogger({ logLevel: 'DEBUG' }),
    ...ONE_ATTEMPT,
  });
});

afterAll(async () => {
  await runtime?.close();
  await smtp?.close();
  await new Promise((resolve) => tokenServer?.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

beforeEach(() => {
  smtp.reset();
});

describe('a service account with domain-wide delegation', () => {
  it('saves the JSON key (as text) and sends the test email with a token for the mailbox, no Authorize step', async () => {
    // The first save's test email: the candidate's own key gets the token, nothing stored is needed.
    const saved = await api(
      'PUT',
      '/clusters/gsa/email-config?sendTestEmail=true',
      serviceAccountConfig({ serviceAccountKey: JSON.stringify(jsonKey(delegated)) }),
    );
    const authorize = await api('GET', '/clusters/gsa/oauth/authorize');

    expect(saved.status).toBe(201);
    expect(saved.body.testEmail).toMatchObject({ ok: true, recipients: ['ops@example.com'] });
    expect(jwtRequests()).toHaveLength(1);
    const [message] = await smtp.waitForMessages(1);
    expect(message?.user).toBe(MAILBOX);
    const request = jwtRequests().at(-1);
    expect(Object.keys(request?.form ?? {}).sort()).toEqual(['assertion', 'grant_type']);
    expect(request?.answered).toBe(200);
    expect(request?.claims).toMatchObject({
      iss: delegated.clientEmail,
      sub: MAILBOX,
      scope: SCOPE,
      aud: tokenEndpoint,
      iat: now.getTime() / 1000,
      exp: now.getTime() / 1000 + 3600,
    });
    expect(authorize.status).toBe(409);
    expect(authorize.body.error).toMatch(/Google service account .*no Authorize step/);
  });

  it('GET shows the key’s facts and privateKeySet, never the private key', async () => {
    const got = await api('GET', '/clusters/gsa/email-config');

    expect(got.body.oauth).toEqual({ status: 'service-account' });
    expect(got.body.smtp.auth).toMatchObject({
      type: 'oauth2',
      provider: 'google',
      flow: 'service-account',
      clientId: delegated.clientId,
      user: MAILBOX,
      scopes: [SCOPE],
      tokenEndpoint,
      serviceAccountKey: {
        clientEmail: delegated.clientEmail,
        clientId: delegated.clientId,
        privateKeyId: delegated.keyId,
        projectId: 'appliance-alerts',
        privateKeySet: true,
      },
    });
    expect(Object.keys(got.body.smtp.auth.serviceAccountKey).sort()).toEqual([
      'clientEmail',
      'clientId',
      'privateKeyId',
      'privateKeySet',
      'projectId',
    ]);
    expect(got.body.credentialHealth).toMatchObject({ status: 'ok' });
  });

  it('one token serves two sends (cached until shortly before it expires)', async () => {
    const before = jwtRequests().length;

    const first = await api('POST', '/clusters/gsa/email-config/test');
    const second = await api('POST', '/clusters/gsa/email-config/test');

    expect(first.body).toMatchObject({ ok: true });
    expect(second.body).toMatchObject({ ok: true });
    expect((await smtp.waitForMessages(2)).map((m) => m.user)).toEqual([MAILBOX, MAILBOX]);
    expect(jwtRequests().length).toBe(before);
  });

  it('delivers a notification through the runtime (event queue, notify, XOAUTH2)', async () => {
    const sample = loadSample('backup-promoted');
    const event = { ...sample, id: 'gsa-event-1', detail: { ...sample.detail, clusterId: 'gsa' } };

    const answer = await api('POST', '/events/envelope', event);

    expect(answer.status).toBeLessThan(300);
    expect(answer.body.outcome).toBe('sent');
    const [message] = await smtp.waitForMessages(1);
    expect(message?.user).toBe(MAILBOX);
    expect(message?.rcptTo).toEqual(['ops@example.com']);
  });

  it('keeps the stored key when GET’s view is saved back, and a send still works', async () => {
    const got = await api('GET', '/clusters/gsa/email-config');
    const later = new Date(now.getTime() + 2 * 60 * 60_000);
    const started = now;
    try {
      // Two hours later: the cached token has expired, so the send needs the kept private key.
      now = later;
      const saved = await api('PUT', '/clusters/gsa/email-config?sendTestEmail=true', got.body);

      expect(saved.status).toBe(200);
      expect(saved.body.testEmail).toMatchObject({ ok: true });
      expect(jwtRequests().at(-1)).toMatchObject({ answered: 200, claims: { iat: later.getTime() / 1000 } });
    } finally {
      now = started;
    }
  });

  it('a view of another key, with no private key stored for it, names the missing private key', async () => {
    const got = await api('GET', '/clusters/gsa/email-config');
    got.body.smtp.auth.serviceAccountKey.privateKeyId = deletedKey.keyId;

    const saved = await api('PUT', '/clusters/gsa/email-config', got.body);

    expect(saved.status).toBe(400);
    expect(saved.body.issues).toContainEqual({
      path: 'smtp.auth.serviceAccountKey.private_key',
      message: expect.stringMatching(/is required/),
    });
  });
});

describe('Google’s refusals', () => {
  it('no domain-wide delegation: unauthorized_client at stage auth, the hint names the client ID and the scope', async () => {
    await api(
      'PUT',
      '/clusters/gsa-undelegated/email-config',
      serviceAccountConfig({ serviceAccountKey: jsonKey(undelegated) }),
    );

    const test = await api('POST', '/clusters/gsa-undelegated/email-config/test');

    expect(test.body).toMatchObject({ ok: false, stage: 'auth', transient: false });
    expect(test.body.message).toContain('unauthorized_client');
    expect(test.body.hint).toContain('Domain Wide Delegation');
    expect(test.body.hint).toContain(`client ID ${undelegated.clientId}`);
    expect(test.body.hint).toContain(SCOPE);
    expect(smtp.authAttempts).toHaveLength(0);
  });

  it('an unsaved form is tested with its own key; the saved configuration still sends with its own', async () => {
    const form = await api(
      'POST',
      '/clusters/gsa/email-config/test',
      serviceAccountConfig({ serviceAccountKey: jsonKey(undelegated) }),
    );
    const saved = await api('POST', '/clusters/gsa/email-config/test');
    const got = await api('GET', '/clusters/gsa/email-config');

    expect(form.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(form.body.hint).toContain(`client ID ${undelegated.clientId}`);
    expect(saved.body).toMatchObject({ ok: true });
    expect(got.body.smtp.auth.serviceAccountKey.clientEmail).toBe(delegated.clientEmail);
  });

  it('a user Google does not know: invalid_grant "Invalid email or User ID" with the Workspace mailbox hint', async () => {
    await api('PUT', '/clusters/gsa-stranger/email-config', {
      ...serviceAccountConfig({ serviceAccountKey: jsonKey(delegated), user: 'stranger@example.net' }),
      sender: 'stranger@example.net',
    });

    const test = await api('POST', '/clusters/gsa-stranger/email-config/test');

    expect(test.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(test.body.message).toContain('Invalid email or User ID');
    expect(test.body.hint).toMatch(/stranger@example\.net .*user must be the primary address of a mailbox/);
  });

  it('a deleted key: invalid_grant "Invalid JWT Signature." with the new-key hint', async () => {
    await api(
      'PUT',
      '/clusters/gsa-deleted/email-config',
      serviceAccountConfig({ serviceAccountKey: jsonKey(deletedKey) }),
    );

    const test = await api('POST', '/clusters/gsa-deleted/email-config/test');

    expect(test.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(test.body.hint).toContain(
      `the key ${deletedKey.keyId} of ${deletedKey.clientEmail} was deleted or disabled`,
    );
  });

  it('a token Gmail refuses for the mailbox (535 5.7.8) gets the full-scope hint', async () => {
    await api('PUT', '/clusters/gsa-535/email-config', {
      ...serviceAccountConfig({ serviceAccountKey: jsonKey(delegated), user: NO_GMAIL }),
      sender: NO_GMAIL,
    });

    const test = await api('POST', '/clusters/gsa-535/email-config/test');

    expect(jwtRequests().at(-1)).toMatchObject({ answered: 200, claims: { sub: NO_GMAIL } });
    expect(test.body).toMatchObject({ ok: false, stage: 'auth' });
    expect(test.body.hint).toContain(`Gmail refused the service account’s token for ${NO_GMAIL}`);
    expect(test.body.hint).toContain('gmail.send is not enough');
  });
});

describe('secrets', () => {
  it('no private key, assertion or access token appears in a response or a log line', async () => {
    for (const path of [
      '/clusters',
      '/clusters/gsa/email-config/versions',
      '/clusters/gsa/audit',
      '/clusters/gsa/deliveries',
    ]) {
      expect((await api('GET', path)).status).toBe(200);
    }
    const keyBody = (pem: string) =>
      pem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
    const tokens = [...issued.keys()];
    const secrets = [
      ...[delegated, undelegated, deletedKey].flatMap((a) => keyBody(a.privateKeyPem)),
      ...tokenRequests.map((r) => r.form.assertion).filter((s): s is string => Boolean(s)),
      ...tokens,
      // XOAUTH2's initial response carries the token base64-encoded.
      ...tokens.map((t) => Buffer.from(`user=${MAILBOX}\x01auth=Bearer ${t}\x01\x01`).toString('base64')),
    ];
    const everything = [...responses, ...output].join('\n');
    // At rest: the database (and its write-ahead log) holds the private key sealed only.
    const files = (await readdir(dataDir)).filter((name) => name.startsWith('notifier.db'));
    const stored = (await Promise.all(files.map((name) => readFile(join(dataDir, name))))).map((b) =>
      b.toString('latin1'),
    );

    expect(files).toContain('notifier.db');
    expect(stored.join('\n')).toContain(delegated.clientEmail);
    for (const line of keyBody(delegated.privateKeyPem)) {
      expect(stored.some((text) => text.includes(line)) ? line : 'sealed').toBe('sealed');
    }
    expect(tokens.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(30);
    expect(output.join('')).toContain('OAuth2 service account access token fetched');
    for (const secret of secrets) expect(everything.includes(secret) ? secret : 'absent').toBe('absent');
  });
});
