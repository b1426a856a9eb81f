// transport "graph" end to end: the admin API and the embedded runtime's services, with
// oauth2-mock-server as Entra ID's token endpoint (client-credentials grant, with the client
// secret or an RS256 client assertion checked here) and a Graph sendMail endpoint in this test
// (node:http) that accepts a bearer token only when the mock signed it for Graph's scope, and
// parses the base64 MIME message it receives with mailparser.
import { randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type ParsedMail, simpleParser } from 'mailparser';
import type { MutableResponse, TokenRequestIncomingMessage } from 'oauth2-mock-server';
import { generate } from 'selfsigned';
import { loadSample } from '../../events/samples.js';
import { TransportMailerFactory } from '../../functions/adapters/mailer-factory.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type MailerContext,
  type SendOptions,
} from '../../functions/core/mail/mailer.js';
import type { RelayGate } from '../../functions/core/mail/relay-gate.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type ApiRequest, type ApiResponse, type Handler, invoke } from '../support/api-gateway.js';
import { type OAuthTestProvider, startOAuthProvider } from '../support/oauth-provider.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'test-admin-token-0123456789-abcdefgh';
const CLIENT_ID = '99999999-2222-3333-4444-555555555555';
const CLIENT_SECRET = 'Graph~Secret.Value-never-shown-anywhere';
const MAILBOX = 'alerts@contoso.example';
const admin = { authorization: `Bearer ${TOKEN}` };

interface Received {
  mailbox: string;
  mail: ParsedMail;
  contentType: string | undefined;
}

/** The answers the Graph endpoint gives before it accepts again (one per request). */
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

let dataDir: string;
let provider: OAuthTestProvider;
let graph: Server;
let graphUrl: string;
let handler: Handler;
let services: TestServices;
let factory: TransportMailerFactory;
let gate: RelayGate | undefined;
let key: { privateKeyPem: string; certificatePem: string };
let registered: X509Certificate;
const received: Received[] = [];
const graphRequests: { mailbox: string; tokenOk: boolean }[] = [];
const answers: Answer[] = [];
const accessTokens: string[] = [];
/** Requests in progress now, and the most there ever were at once. */
const concurrency = { now: 0, max: 0 };
let graphDelayMs = 0;
const responses: string[] = [];
const output: string[] = [];

const graphError = (status: number, code: string, message: string, headers: Record<string, string> = {}) => ({
  status,
  body: { error: { code, message, innerError: { 'request-id': randomUUID(), date: '2026-12-01T20:00:00' } } },
  headers,
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Graph's sendMail, as far as a test can make it: the token's signature and scope, the MIME payload. */
async function graphHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  res.setHeader('request-id', requestId);
  const send = (answer: Answer) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  };
  const match = /^\/v1\.0\/users\/([^/]+)\/sendMail$/.exec(req.url ?? '');
  const body = await readBody(req);
  if (req.method !== 'POST' || !match?.[1]) {
    send(graphError(400, 'BadRequest', 'Resource not found for the segment.'));
    return;
  }
  const mailbox = decodeURIComponent(match[1]);
  concurrency.now++;
  concurrency.max = Math.max(concurrency.max, concurrency.now);
  // 'close', not 'finish': a request the client cancelled is never finished, but it does end.
  res.on('close', () => concurrency.now--);
  if (graphDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, graphDelayMs));
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const claims = bearer ? provider.verifyAccessToken(bearer) : undefined;
  const tokenOk = claims?.scope === `${graphUrl}/.default`;
  if (bearer) accessTokens.push(bearer);
  graphRequests.push({ mailbox, tokenOk });
  const next = answers.shift();
  if (next) {
    send(next);
    return;
  }
  if (!tokenOk) {
    send(graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'));
    return;
  }
  if (mailbox !== MAILBOX && !/^(second|third)@contoso\.example$/.test(mailbox)) {
    send(graphError(404, 'ErrorInvalidUser', `The requested user '${mailbox}' is invalid.`));
    return;
  }
  const mail = await simpleParser(Buffer.from(body, 'base64'));
  received.push({ mailbox, mail, contentType: req.headers['content-type'] });
  res.writeHead(202);
  res.end();
}

/** Entra ID's checks of a client-credentials request: the secret, or an assertion signed by the registered certificate. */
function entraChecks(response: MutableResponse, req: TokenRequestIncomingMessage): void {
  const body = req.body as unknown as Record<string, string>;
  if (body.grant_type !== 'client_credentials') return;
  const refuse = (description: string) => {
    response.statusCode = 401;
    response.body = { error: 'invalid_client', error_description: description };
  };
  if (body.client_assertion !== undefined) {
    const [h = '', c = '', s = ''] = body.client_assertion.split('.');
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${h}.${c}`),
      registered.publicKey,
      Buffer.from(s, 'base64url'),
    );
    if (!signed || claims.iss !== CLIENT_ID || claims.aud !== provider.tokenEndpoint) {
      refuse(
        'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.',
      );
    }
    return;
  }
  if (body.client_secret !== CLIENT_SECRET) {
    refuse(
      'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
    );
  }
}

const graphConfig = (graphBlock: Record<string, unknown> = {}) => ({
  sender: `Appliance alerts <${MAILBOX}>`,
  transport: 'graph',
  graph: {
    mailbox: MAILBOX,
    tenant: 'contoso.onmicrosoft.com',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    endpoint: graphUrl,
    tokenEndpoint: provider.tokenEndpoint,
    ...graphBlock,
  },
  adminContacts: 'ops@example.com, oncall@example.com',
  grouping: { waitSeconds: 0 },
});

async function call(request: ApiRequest): Promise<ApiResponse> {
  const response = await invoke(handler, request);
  responses.push(JSON.stringify(response.headers), response.raw);
  return response;
}

const save = (clusterId: string, body: unknown) =>
  call({ method: 'PUT', path: `/clusters/${clusterId}/email-config`, headers: admin, body });
const testEmail = (clusterId: string) =>
  call({ method: 'POST', path: `/clusters/${clusterId}/email-config/test`, headers: admin });

const clientCredentialRequests = () =>
  provider.tokenRequests.filter((r) => r.body.grant_type === 'client_credentials');

/** One message straight through the factory's Graph mailer: its receipt, or the failure it reports. */
async function sendDirect(
  clusterId: string,
  block: Record<string, unknown> = {},
  purpose: MailerContext['purpose'] = 'test-email',
  options: SendOptions = {},
): Promise<{ failure?: DeliveryFailure; messageId?: string }> {
  const config = EmailConfigSchema.parse(graphConfig(block));
  const mailer = await factory.forConfig(config, { clusterId, purpose });
  try {
    const receipt = await mailer.send(
      {
        from: config.sender,
        to: ['ops@example.com'],
        subject: 'direct',
        text: 'direct send',
      },
      options,
    );
    return { messageId: receipt.messageId };
  } catch (error) {
    if (error instanceof DeliveryError) return { failure: error.failure };
    throw error;
  }
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      output.push(String(chunk));
      return true;
    });
  }
  dataDir = await mkdtemp(join(tmpdir(), 'graph-transport-'));
  const pems = await generate([{ name: 'commonName', value: 'appliance-notifier-graph' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date('2026-01-01T00:00:00.000Z'),
    notAfterDate: new Date('2028-01-01T00:00:00.000Z'),
  });
  key = { privateKeyPem: pems.private, certificatePem: pems.cert };
  registered = new X509Certificate(key.certificatePem);
  provider = await startOAuthProvider();
  provider.service.on('beforeResponse', entraChecks);
  graph = createServer((req, res) => {
    graphHandler(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
  graphUrl = `http://127.0.0.1:${(graph.address() as AddressInfo).port}`;
  const log = createLogger({ logLevel: 'DEBUG' });
  services = await testServices({
    dataDir,
    log,
    adapters: {
      mailers: (oauthTokens, relayGate) => {
        gate = relayGate;
        factory = new TransportMailerFactory({
          ses: () => {
            throw new Error('SES is not used here');
          },
          oauthTokens,
          ...(relayGate ? { relayGate } : {}),
        });
        return factory;
      },
    },
    settings: { publicBaseUrl: 'http://localhost:3000' },
  });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await services?.close();
  await new Promise((resolve) => graph?.close(resolve));
  await provider?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  answers.length = 0;
});

describe('transport graph with a client secret', () => {
  it('sends the test email as MIME through sendMail, with a token for Graph’s scope', async () => {
    const saved = await save('graph', graphConfig());
    const before = clientCredentialRequests().length;
    const seen = received.length;

    const test = await testEmail('graph');

    expect(saved.status).toBe(201);
    expect(test.body).toMatchObject({
      ok: true,
      destination: `graph:${new URL(graphUrl).host}/${MAILBOX}`,
      recipients: ['ops@example.com', 'oncall@example.com'],
    });
    expect(test.body.message).toMatch(/^202 Accepted \(request-id [0-9a-f-]{36}\)$/);
    const [request] = clientCredentialRequests().slice(before);
    expect(request?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope: `${graphUrl}/.default`,
    });
    const [message] = received.slice(seen);
    expect(message?.mailbox).toBe(MAILBOX);
    expect(message?.contentType).toBe('text/plain');
    const mail = message?.mail as ParsedMail;
    expect(mail.messageId).toBe(String(test.body.messageId));
    expect(mail.from?.value[0]?.address).toBe(MAILBOX);
    expect(mail.subject).toMatch(/test/i);
    expect(mail.text).toContain('Microsoft Graph');
    expect(mail.html).toContain('<');
    expect([...mail.headers.keys()].some((name) => name.startsWith('x-appliance-notifier-'))).toBe(true);
  });

  it('GET shows the graph block with clientSecretSet, the resolved endpoints and the limits, never the secret', async () => {
    const got = await call({ method: 'GET', path: '/clusters/graph/email-config', headers: admin });

    expect(got.body.transport).toBe('graph');
    expect(got.body.smtp).toBeUndefined();
    expect(got.body.graph).toEqual({
      mailbox: MAILBOX,
      tenant: 'contoso.onmicrosoft.com',
      clientId: CLIENT_ID,
      clientSecretSet: true,
      endpoint: graphUrl,
      tokenEndpoint: provider.tokenEndpoint,
      effectiveLimits: { maxConnections: 4, messagesPerMinute: 30, source: 'default' },
    });
    expect(got.raw).not.toContain(CLIENT_SECRET);
    // The document from GET saves back as it is, and the stored secret is kept.
    const again = await save('graph', got.body);
    const test = await testEmail('graph');
    expect(again.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true });
  });

  it('keeps the token across sends: one client-credentials request for several messages', async () => {
    await testEmail('graph');
    const before = clientCredentialRequests().length;

    const results = [await testEmail('graph'), await testEmail('graph')];

    expect(results.map((r) => r.body.ok)).toEqual([true, true]);
    expect(clientCredentialRequests().length).toBe(before);
  });

  it('delivers a notification through the embedded runtime, paced at the relay gate', async () => {
    const seen = received.length;
    const sample = loadSample('primary-check-failed');
    const event = { ...sample, id: randomUUID(), detail: { ...sample.detail, clusterId: 'graph' } };

    const result = await services.notify.handle(event);

    const state = await gate?.inspect(`graph:${graphUrl}:${MAILBOX}`, Date.now());

    expect(result.outcome).toBe('sent');
    // The send took its turn at the embedded runtime's gate, and gave its request slot back.
    expect(state?.sends.reduce((sum, [, count]) => sum + count, 0)).toBe(1);
    expect(state?.slots).toEqual([]);
    const [message] = received.slice(seen);
    expect(message?.mail.messageId).toBe(result.messageId);
    expect(message?.mail.headers.get('x-appliance-notifier-event')).toBe(event.id);
    expect(
      message?.mail.to && 'value' in message.mail.to ? message.mail.to.value.map((a) => a.address) : [],
    ).toEqual(['ops@example.com', 'oncall@example.com']);
  });

  it('sends the daily notice over Graph, naming the transport and the mailbox', async () => {
    const seen = received.length;

    const run = await services.dailyNotice.run({ clusterIds: ['graph'] });

    expect(run.results).toEqual([expect.objectContaining({ clusterId: 'graph', outcome: 'sent' })]);
    const [notice] = received.slice(seen);
    expect(notice?.mail.messageId).toBe(run.results[0]?.messageId);
    expect(notice?.mail.text).toContain(
      `Transport: Microsoft Graph (${new URL(graphUrl).host}, mailbox ${MAILBOX})`,
    );
  });

  it('a first save without a secret or certificate is refused, naming graph.clientSecret', async () => {
    const refused = await save('graph-nothing', graphConfig({ clientSecret: undefined }));
    const tenant = await save('graph-common', graphConfig({ tenant: 'common' }));

    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('graph.clientSecret');
    expect(tenant.status).toBe(400);
    expect(JSON.stringify(tenant.body)).toContain('graph.tenant');
  });

  it('a wrong secret fails at stage token with the AADSTS code and the Value-not-ID hint', async () => {
    await save('bad-secret', graphConfig({ clientSecret: 'the-secret-id-not-its-value' }));
    const before = graphRequests.length;

    const test = await testEmail('bad-secret');

    expect(test.body).toMatchObject({ ok: false, stage: 'token', transient: false });
    expect(test.body.message).toContain('AADSTS7000215');
    expect(test.body.hint).toMatch(/Value .*not its Secret ID/);
    expect(graphRequests.length).toBe(before);

    // No grant keeps the refusal: the credential health reads it from the last test email.
    const view = await call({ method: 'GET', path: '/clusters/bad-secret/email-config', headers: admin });
    const health = view.body.credentialHealth as { status: string; detail: string };
    expect(health).toMatchObject({ status: 'failing', credential: 'client-secret' });
    expect(health.detail).toMatch(/^The provider refused the OAuth2 client secret \(AADSTS7000215\) on /);
    const fleet = await call({ method: 'GET', path: '/clusters', headers: admin });
    const items = fleet.body.items as Array<{
      clusterId: string;
      credentialHealth?: unknown;
      findings?: unknown;
    }>;
    const item = items.find((entry) => entry.clusterId === 'bad-secret');
    expect(item?.credentialHealth).toMatchObject({ status: 'failing' });
    expect(item?.findings).toContainEqual(expect.objectContaining({ code: 'credential-expired' }));

    // The right secret, saved: a delivered test email clears it.
    await save('bad-secret', graphConfig());
    expect((await testEmail('bad-secret')).body).toMatchObject({ ok: true });
    const fixed = await call({ method: 'GET', path: '/clusters/bad-secret/email-config', headers: admin });
    expect(fixed.body.credentialHealth).toMatchObject({ status: 'ok' });
  });
});

describe('Graph’s errors', () => {
  it('403 ErrorAccessDenied: permanent, with the Mail.Send and access policy hint', async () => {
    answers.push(graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));

    const test = await testEmail('graph');
    const direct = await (async () => {
      answers.push(
        graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
      );
      return sendDirect('graph');
    })();

    expect(test.body).toMatchObject({ ok: false, stage: 'send', code: 403, transient: false });
    expect(test.body.message).toContain('ErrorAccessDenied: Access is denied');
    expect(test.body.hint).toContain('Mail.Send application permission');
    expect(test.body.hint).toContain('New-ApplicationAccessPolicy');
    expect(direct.failure).toMatchObject({ stage: 'send', reason: 'GRAPH_ACCESS_DENIED', transient: false });
  });

  it('404 ErrorInvalidUser: the mailbox does not exist in this tenant', async () => {
    await save('nobody', graphConfig({ mailbox: 'nobody@contoso.example' }));

    const test = await testEmail('nobody');
    const direct = await sendDirect('nobody', { mailbox: 'nobody@contoso.example' });

    expect(test.body).toMatchObject({ ok: false, stage: 'send', code: 404, transient: false });
    expect(test.body.message).toContain('ErrorInvalidUser');
    expect(test.body.hint).toContain('does not know the mailbox nobody@contoso.example');
    expect(direct.failure).toMatchObject({ reason: 'GRAPH_MAILBOX_NOT_FOUND', transient: false });
  });

  it('401 once: a new token is fetched and the message goes out; 401 again: GRAPH_UNAUTHORIZED', async () => {
    const tokensBefore = clientCredentialRequests().length;
    answers.push(
      graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
    );
    const recovered = await sendDirect('graph');
    const afterRecovery = clientCredentialRequests().length;

    answers.push(
      graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.'),
      graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.'),
    );
    const refused = await sendDirect('graph');

    expect(recovered.failure).toBeUndefined();
    expect(recovered.messageId).toMatch(/^<.+@contoso\.example>$/);
    expect(afterRecovery).toBe(tokensBefore + 1);
    expect(refused.failure).toMatchObject({
      stage: 'send',
      code: 401,
      reason: 'GRAPH_UNAUTHORIZED',
      transient: false,
    });
  });

  it('503: transient, Retry-After honoured as waitMs', async () => {
    answers.push(
      graphError(503, 'ServiceUnavailable', 'Service is temporarily unavailable.', { 'retry-after': '7' }),
    );
    const direct = await sendDirect('graph');
    answers.push(graphError(504, 'GatewayTimeout', 'Gateway timeout.'));
    const test = await testEmail('graph');

    expect(direct.failure).toMatchObject({
      stage: 'send',
      code: 503,
      reason: 'GRAPH_UNAVAILABLE',
      transient: true,
      waitMs: 7000,
    });
    expect(test.body).toMatchObject({ ok: false, stage: 'send', code: 504, transient: true });
    expect(test.body.hint).toContain('unavailable for the moment');
  });

  it('an endpoint nothing listens on: transient GRAPH_UNREACHABLE at stage send, with the reachability hint', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const direct = await sendDirect('graph-unreachable', { endpoint: deadUrl });
    expect(direct.failure).toMatchObject({ stage: 'send', transient: true, reason: 'GRAPH_UNREACHABLE' });
    expect(direct.failure?.message).toMatch(/^Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

    expect((await save('graph-unreachable', graphConfig({ endpoint: deadUrl }))).status).toBe(201);
    const test = await testEmail('graph-unreachable');
    expect(test.body).toMatchObject({ ok: false, stage: 'send', transient: true });
    expect(test.body.hint).toContain('could not be reached: check graph.endpoint');
  });

  it('a Graph that does not answer within the send deadline: the request is cancelled, transient DEADLINE_EXCEEDED', async () => {
    graphDelayMs = 3000;
    try {
      const started = Date.now();
      const direct = await sendDirect('graph', {}, 'test-email', { deadlineMs: 500 });
      expect(Date.now() - started).toBeLessThan(2500);
      expect(direct.failure).toMatchObject({ stage: 'send', transient: true, reason: 'DEADLINE_EXCEEDED' });
      expect(direct.failure?.message).toMatch(
        /^No answer from 127\.0\.0\.1:\d+ within .*: the sendMail request was cancelled$/,
      );
    } finally {
      graphDelayMs = 0;
    }
    // The cancelled request is still being held by the slow endpoint: wait (bounded) until it ends.
    for (let i = 0; i < 50 && concurrency.now > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(concurrency.now).toBe(0);
  });

  it('429 with Retry-After: waitMs, the mailbox backs off for every sender, then it is delivered', async () => {
    const identity = 'second@contoso.example';
    const block = { mailbox: identity };
    answers.push(
      graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', {
        'retry-after': '1',
      }),
    );
    const throttled = await sendDirect('graph-429', block, 'notification');
    const requestsAfterThrottle = graphRequests.length;
    const waiting = await sendDirect('graph-429', block, 'notification');
    const requestsWhileWaiting = graphRequests.length;

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const delivered = await sendDirect('graph-429', block, 'notification');

    expect(throttled.failure).toMatchObject({
      stage: 'send',
      code: 429,
      reason: 'GRAPH_THROTTLED',
      transient: true,
      waitMs: 1000,
    });
    expect(waiting.failure).toMatchObject({ reason: 'RELAY_BACK_OFF', transient: true });
    expect(waiting.failure?.waitMs).toBeGreaterThan(0);
    expect(requestsWhileWaiting).toBe(requestsAfterThrottle);
    expect(delivered.failure).toBeUndefined();
    expect(received.at(-1)?.mailbox).toBe(identity);
  });
});

describe('pacing per mailbox', () => {
  it('a storm keeps to graph.limits: one request at a time, three a minute, the rest wait without a retry', async () => {
    const block = { mailbox: 'third@contoso.example', limits: { maxConnections: 1, messagesPerMinute: 3 } };
    const seen = received.length;
    concurrency.max = 0;
    graphDelayMs = 100;
    let results: Awaited<ReturnType<typeof sendDirect>>[];
    try {
      results = await Promise.all(
        Array.from({ length: 5 }, () => sendDirect('graph-storm', block, 'notification')),
      );
    } finally {
      graphDelayMs = 0;
    }

    const sent = results.filter((r) => r.messageId !== undefined);
    const waiting = results.filter((r) => r.failure !== undefined);
    expect(sent).toHaveLength(3);
    expect(received.slice(seen).map((m) => m.mailbox)).toEqual(Array(3).fill('third@contoso.example'));
    expect(concurrency.max).toBe(1);
    expect(waiting.map((r) => [r.failure?.reason, r.failure?.transient])).toEqual([
      ['RELAY_LIMIT', true],
      ['RELAY_LIMIT', true],
    ]);
    for (const r of waiting) expect(r.failure?.waitMs).toBeGreaterThan(2000);
    expect(waiting[0]?.failure?.message).toContain(
      '1 concurrent requests, 3 messages per minute for third@contoso.example',
    );
  });
});

describe('transport graph with a certificate', () => {
  it('signs a client assertion the token endpoint verifies, and GET shows only privateKeySet', async () => {
    const saved = await save('graph-cert', graphConfig({ clientSecret: undefined, clientCertificate: key }));
    const before = clientCredentialRequests().length;

    const test = await testEmail('graph-cert');
    const got = await call({ method: 'GET', path: '/clusters/graph-cert/email-config', headers: admin });

    expect(saved.status).toBe(201);
    expect(test.body).toMatchObject({ ok: true });
    const [request] = clientCredentialRequests().slice(before);
    expect(request?.body.client_assertion_type).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(request?.body.client_secret).toBeUndefined();
    expect(request?.status).toBe(200);
    const graphView = got.body.graph as Record<string, unknown>;
    expect(graphView.clientSecretSet).toBe(false);
    expect(graphView.clientCertificate).toMatchObject({
      privateKeySet: true,
      subject: 'CN=appliance-notifier-graph',
    });
    expect(got.raw).not.toContain('PRIVATE KEY');
    expect(got.body.credentialHealth).toMatchObject({
      credential: 'client-certificate',
      expiresAt: '2028-01-01T00:00:00.000Z',
    });
  });
});

describe('secrets', () => {
  it('no secret, private key or access token in any response or log line', () => {
    const issued = [...provider.issuedSecrets(), ...accessTokens];
    const privateKeyBody = key.privateKeyPem.split('\n').find((line) => line.length > 40) ?? 'unset';
    const everything = [...responses, ...output].join('\n');

    expect(issued.length).toBeGreaterThan(0);
    expect(output.length).toBeGreaterThan(0);
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(everything).not.toContain(privateKeyBody);
    for (const secret of new Set(issued)) expect(everything).not.toContain(secret);
  });
});
