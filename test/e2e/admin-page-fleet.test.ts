// The admin page for a fleet, in a real browser (Debian's chromium) against the embedded runtime
// and a real SMTP relay: the overview (unhealthy first, sortable), testing the unsaved form,
// save-only-if-delivered, the history and its restore, delete with confirmation, the unsaved-edit
// guard, the delivery log's filters, paging and replay, German, and a 390 px phone.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generate } from 'selfsigned';
import { CATALOG } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { openCluster, signIn } from '../support/admin-page-session.js';
import { collectPageProblems, launchBrowser } from '../support/browser.js';
import { runtimeApi } from '../support/runtime-api.js';
import { type SmtpTestServer, startSmtpTestServer, unusedPort } from '../support/smtp-test-server.js';

const ADMIN_TOKEN = 'admin-page-fleet-token-0123456789';
const USERNAME = 'relay@example.com';
const PASSWORD = 'Fleet-Relay-Secret-42';
/** The relay refuses this recipient for good (550), so its events fail and can be replayed. */
const REFUSED = 'refused@example.com';

let dataDir: string;
let relay: SmtpTestServer;
let runtime: LocalRuntime;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
/** A port nothing listens on: a relay that is down. */
let deadPort: number;

const api = runtimeApi(() => runtime);

const relayConfig = (overrides: Record<string, unknown> = {}, port = relay.port) => ({
  sender: 'Appliance Cluster <appliance@example.com>',
  smtp: {
    host: relay.host,
    port,
    encryption: 'starttls',
    verifyCertificate: false,
    auth: { type: 'password', username: USERNAME, password: PASSWORD },
  },
  adminContacts: 'ops@example.com',
  grouping: { waitSeconds: 0 },
  ...overrides,
});

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<void> {
  context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US', ...options });
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  problems = collectPageProblems(page);
}

/** Emits one sample event for a cluster through the runtime's PutEvents stand-in. */
async function emit(
  clusterId: string,
  id: Parameters<typeof loadSample>[0] = 'promotion-pending',
): Promise<void> {
  const sample = loadSample(id);
  const answer = await api('POST', '/events', {
    Entries: [
      {
        Source: sample.source,
        DetailType: sample['detail-type'],
        Detail: JSON.stringify({ ...sample.detail, clusterId }),
      },
    ],
  });
  expect(answer.status).toBe(200);
}

/**
 * Waits for the save's status line to say `text`; if the page shows its error summary instead,
 * fails with what it says (a save that was refused, not a slow one).
 */
async function savedWith(text: string): Promise<void> {
  const status = page.locator('#save-status').filter({ hasText: text });
  await status.or(page.locator('#error-summary:not([hidden])')).first().waitFor({ timeout: 20_000 });
  if (await page.locator('#error-summary').isVisible()) {
    throw new Error(`The page did not save: ${await page.locator('#error-summary').innerText()}`);
  }
}

/** One attribute of every element a locator matches, in document order. */
async function attributes(locator: ReturnType<Page['locator']>, name: string): Promise<Array<string | null>> {
  return Promise.all((await locator.all()).map((node) => node.getAttribute(name)));
}

/** Waits (bounded) until the cluster's delivery log has `count` records. */
async function logHas(clusterId: string, count: number, outcome?: string): Promise<void> {
  const query = outcome ? `&outcome=${outcome}` : '';
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await api('GET', `/clusters/${clusterId}/deliveries?limit=100${query}`);
    if (answer.body.items.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${clusterId}: fewer than ${count} ${outcome ?? ''} records`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-page-fleet-'));
  relay = await startSmtpTestServer({
    mode: 'starttls',
    auth: { username: USERNAME, password: PASSWORD },
    rejectRecipients: [REFUSED],
  });
  deadPort = await unusedPort();
  const port = await unusedPort();
  runtime = await startLocalRuntime({
    port,
    dataDir,
    adminToken: ADMIN_TOKEN,
    publicBaseUrl: `http://127.0.0.1:${port}`,
    dailyNoticeTime: 'off',
    log: createLogger({ logLevel: 'ERROR' }),
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await runtime?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => relay.reset());

afterEach(async () => {
  await context?.close();
});

describe('admin page: test before you save', () => {
  it('"Send test email" tests the unsaved form, not the saved configuration', async () => {
    await api('PUT', '/clusters/form-test/email-config', relayConfig());
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'form-test');

    // An unsaved edit that breaks delivery: the test fails at the connection, nothing is sent.
    await page.getByLabel('SMTP port').fill(String(deadPort));
    await page.getByRole('button', { name: 'Send test email', exact: true }).click();
    await page.locator('#test-result').filter({ hasText: 'Failed at the connection stage.' }).waitFor();
    expect(relay.messages).toHaveLength(0);
    expect((await api('GET', '/clusters/form-test/email-config')).body.smtp.port).toBe(relay.port);

    // Back to the working port, still unsaved: delivered, and the page says it is not saved.
    await page.getByLabel('SMTP port').fill(String(relay.port));
    await page.getByLabel('Admin contact email addresses').fill('unsaved@example.com');
    await page.getByRole('button', { name: 'Send test email', exact: true }).click();
    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual(['unsaved@example.com']);
    await page.locator('#save-status').filter({ hasText: 'They are not saved yet.' }).waitFor();
    expect((await api('GET', '/clusters/form-test/email-config')).body.adminContacts).toEqual([
      'ops@example.com',
    ]);
    // The last test is the server's: it is still shown after a reload.
    await page.reload();
    await page.locator('#last-test').filter({ hasText: 'delivered' }).waitFor();
    expect(await page.locator('#last-test').textContent()).toContain('an unsaved form');
    expect(problems).toEqual([]);
  });

  it('a save whose test email fails keeps the old configuration and the edits in the form', async () => {
    await api('PUT', '/clusters/only-good/email-config?sendTestEmail=true', relayConfig());
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'only-good');
    relay.reset();

    await page.getByLabel('SMTP port').fill(String(deadPort));
    await page.getByLabel('Send a test email with this save').check();
    // Offered as the default once a test email is asked for.
    expect(await page.getByLabel('Save only if the test email is delivered').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();

    await page.locator('#save-status').filter({ hasText: 'Not saved: the test email failed' }).waitFor();
    await page.locator('#test-result').filter({ hasText: 'Failed at the connection stage.' }).waitFor();
    const stored = await api('GET', '/clusters/only-good/email-config');
    expect(stored.body.smtp.port).toBe(relay.port);
    const versions = await api('GET', '/clusters/only-good/email-config/versions');
    expect(versions.body.items.map((item: { version: number }) => item.version)).toEqual([1]);
    expect(await page.getByLabel('SMTP port').inputValue()).toBe(String(deadPort));
    expect(problems).toEqual([]);
  });
});

describe('admin page: no lost updates', () => {
  it('does not overwrite a save made meanwhile: it shows what changed, and saves on the second click', async () => {
    await api(
      'PUT',
      '/clusters/concurrent/email-config',
      relayConfig({ adminContacts: 'first@example.com' }),
    );
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'concurrent');
    // Another admin saves while this form is open.
    await api(
      'PUT',
      '/clusters/concurrent/email-config',
      relayConfig({ adminContacts: 'other@example.com' }),
    );
    await page.getByLabel('Sender').fill('mine@example.com');

    await page.getByRole('button', { name: 'Save' }).click();

    const conflict = page.locator('#conflict');
    await conflict.filter({ hasText: 'admin-token saved version 2' }).waitFor();
    expect(await conflict.locator('li').allTextContents()).toEqual([
      'Sender: saved “"Appliance Cluster" <appliance@example.com>”, yours “mine@example.com”',
      'Admin contact email addresses: saved “other@example.com”, yours “first@example.com”',
    ]);
    const stored = await api('GET', '/clusters/concurrent/email-config');
    expect(stored.body).toMatchObject({ version: 2, adminContacts: ['other@example.com'] });
    expect(await page.getByLabel('Sender').inputValue()).toBe('mine@example.com');

    // Saving again is a decision made knowing the other version: it replaces it.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#save-status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await conflict.isHidden()).toBe(true);
    expect((await api('GET', '/clusters/concurrent/email-config')).body).toMatchObject({
      version: 3,
      sender: 'mine@example.com',
    });
    expect(problems).toEqual([]);
  });
});

describe('admin page: no credentials in clear', () => {
  it('refuses a password over an unencrypted relay until the admin allows it explicitly', async () => {
    await api('PUT', '/clusters/in-clear/email-config', relayConfig());
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'in-clear');
    const allow = page.getByLabel('Send the credentials without encryption');
    expect(await allow.isVisible()).toBe(false);

    await page.getByLabel('SMTP encryption').selectOption('none');
    expect(await allow.isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#f-smtp-encryption-error').filter({ hasText: 'allowInsecureAuth' }).waitFor();
    expect((await api('GET', '/clusters/in-clear/email-config')).body.smtp.encryption).toBe('starttls');

    await allow.check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#save-status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await api('GET', '/clusters/in-clear/email-config')).body.smtp).toMatchObject({
      encryption: 'none',
      allowInsecureAuth: true,
    });
    expect(await allow.isChecked()).toBe(true);
  });
});

describe('admin page: credentials that do not expire at night', () => {
  it('shows an app-only configuration (set through the API) with its flow, expiry date and credential health, and a save keeps them', async () => {
    // Ten days from now: the warning is due whatever the day the suite runs.
    const inTenDays = new Date(Date.now() + 10 * 24 * 60 * 60 * 1000 + 60_000).toISOString();
    const appOnly = {
      sender: 'alerts@example.com',
      smtp: {
        host: 'smtp.office365.com',
        port: 587,
        encryption: 'starttls',
        auth: {
          type: 'oauth2',
          provider: 'microsoft',
          tenant: 'contoso.onmicrosoft.com',
          flow: 'client-credentials',
          clientId: 'app-id',
          clientSecret: 'App-Only-Secret-Value-42',
          clientSecretExpiresAt: inTenDays,
          user: 'alerts@example.com',
        },
      },
      adminContacts: 'ops@example.com',
    };
    expect((await api('PUT', '/clusters/app-only/email-config', appOnly)).status).toBe(201);
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'app-only');
    await page.locator('#oauth-status').filter({ hasText: 'App-only' }).waitFor();
    expect(await page.getByRole('button', { name: 'Authorize' }).isHidden()).toBe(true);
    expect(await page.locator('#f-smtp').getByLabel('Flow').inputValue()).toBe('client-credentials');
    expect(await page.locator('#f-smtp').getByLabel('Client secret expires on (optional)').inputValue()).toBe(
      inTenDays.slice(0, 10),
    );
    const health = page.locator('#credential-health');
    expect(await health.textContent()).toMatch(/^Expiring The client secret expires in 1[01] days, on /);
    // The app-only steps are offered, the delegated ones and the redirect URI are not.
    expect(await page.locator('#entra-app-only-help').isVisible()).toBe(true);
    expect(await page.locator('#entra-help').isHidden()).toBe(true);
    expect(await page.locator('#f-smtp').getByLabel('Authorization endpoint').isHidden()).toBe(true);

    await page.getByLabel('Admin contact email addresses').fill('ops@example.com oncall@example.com');
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('Saved.');

    const stored = await api('GET', '/clusters/app-only/email-config');
    expect(stored.body.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(stored.body.smtp.auth).toMatchObject({
      flow: 'client-credentials',
      // Sent back as it was entered (a date and time), since its day was not changed.
      clientSecretExpiresAt: inTenDays,
      clientSecretSet: true,
      user: 'alerts@example.com',
      scopes: ['https://outlook.office365.com/.default'],
    });
    expect(stored.body.credentialHealth).toMatchObject({ status: 'expiring', credential: 'client-secret' });
    expect(problems).toEqual([]);
  });

  it('sets up app-only with a certificate from the form: the scopes follow the flow, the private key is never shown again', async () => {
    const pems = await generate([{ name: 'commonName', value: 'appliance-notifier page test' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 24 * 60 * 60 * 1000),
      notAfterDate: new Date(Date.now() + 400 * 24 * 60 * 60 * 1000),
    });
    const thumbprint = new X509Certificate(pems.cert).fingerprint.replace(/:/g, '');
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'app-only-certificate');
    await page.getByLabel('Sender').fill('alerts@example.com');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com');
    await page.getByLabel('OAuth2').check();
    await page.locator('#f-smtp').getByLabel('Provider', { exact: true }).selectOption('microsoft');
    await page.locator('#f-smtp').getByLabel('Tenant', { exact: true }).fill('contoso.onmicrosoft.com');
    expect(await page.locator('#f-smtp').getByLabel('Scopes', { exact: true }).inputValue()).toContain(
      'SMTP.Send',
    );
    await page.locator('#f-smtp').getByLabel('Flow', { exact: true }).selectOption('client-credentials');
    expect(await page.locator('#f-smtp').getByLabel('Scopes', { exact: true }).inputValue()).toBe(
      'https://outlook.office365.com/.default',
    );
    await page.locator('#f-smtp').getByLabel('Client (application) ID').fill('app-id');
    await page.locator('#f-smtp').getByLabel('Mailbox (optional)').fill('alerts@example.com');
    await page.locator('#f-smtp').getByLabel('Client certificate (PEM, optional)').fill(pems.cert);
    await page.locator('#f-smtp').getByLabel('Private key of the certificate (PEM)').fill(pems.private);
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('now has a configuration');

    const stored = await api('GET', '/clusters/app-only-certificate/email-config');
    expect(stored.body.smtp.auth).toMatchObject({
      flow: 'client-credentials',
      scopes: ['https://outlook.office365.com/.default'],
      clientSecretSet: false,
      clientCertificate: { privateKeySet: true },
    });
    expect(JSON.stringify(stored.body)).not.toContain('PRIVATE KEY');
    // After the save: the key's field is empty and marked set, the certificate named as Entra ID lists it.
    expect(
      await page.locator('#f-smtp').getByLabel('Private key of the certificate (PEM)').inputValue(),
    ).toBe('');
    expect(await page.locator('#private-key-state').textContent()).toBe('set');
    expect(await page.locator('#certificate-facts').textContent()).toContain(thumbprint);
    expect(await page.locator('#credential-health').textContent()).toMatch(
      /^Valid The client certificate is valid until /,
    );
    expect(await page.content()).not.toContain('PRIVATE KEY');

    // A later save without the key keeps the stored one.
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com oncall@example.com');
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('Saved.');
    const again = await api('GET', '/clusters/app-only-certificate/email-config');
    expect(again.body.smtp.auth.clientCertificate).toMatchObject({ privateKeySet: true });
    expect(again.body.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(problems).toEqual([]);
  });

  it('sets up a Google service account from the form: the JSON key is write-only, its facts are shown, a later save keeps it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = {
      type: 'service_account',
      project_id: 'fleet-alerts',
      private_key_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'notifier@fleet-alerts.iam.gserviceaccount.com',
      client_id: '112233445566778899001',
      token_uri: 'https://oauth2.googleapis.com/token',
    };
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'service-account');
    const smtp = page.locator('#f-smtp');
    await page.getByLabel('Sender').fill('alerts@example.com');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com');
    await smtp.getByLabel('OAuth2').check();
    await smtp.getByLabel('Provider', { exact: true }).selectOption('google');
    await smtp.getByLabel('Flow', { exact: true }).selectOption('service-account');
    // No app client of its own, nothing to authorize: the key names the service account.
    expect(await smtp.getByLabel('Client (application) ID').isHidden()).toBe(true);
    expect(await page.locator('#redirect-field').isHidden()).toBe(true);
    expect(await page.locator('#google-service-account-help').isVisible()).toBe(true);
    await smtp.getByLabel('Mailbox (optional)').fill('alerts@example.com');
    await smtp.getByLabel('Service account key (JSON)').fill(JSON.stringify(key, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('now has a configuration');

    const stored = await api('GET', '/clusters/service-account/email-config');
    expect(stored.body.oauth).toEqual({ status: 'service-account' });
    expect(stored.body.smtp.auth).toMatchObject({
      flow: 'service-account',
      user: 'alerts@example.com',
      scopes: ['https://mail.google.com/'],
      serviceAccountKey: {
        clientEmail: key.client_email,
        clientId: key.client_id,
        privateKeyId: key.private_key_id,
        privateKeySet: true,
      },
    });
    expect(JSON.stringify(stored.body)).not.toContain('PRIVATE KEY');
    expect(await smtp.getByLabel('Service account key (JSON)').inputValue()).toBe('');
    expect(await page.locator('#service-account-facts').textContent()).toBe(
      `Key ${key.private_key_id} of ${key.client_email} (client ID ${key.client_id}).`,
    );
    await page.locator('#oauth-status').filter({ hasText: 'Service account' }).waitFor();
    expect(await page.content()).not.toContain('PRIVATE KEY');

    await page.getByLabel('Admin contact email addresses').fill('ops@example.com oncall@example.com');
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('Saved.');
    const again = await api('GET', '/clusters/service-account/email-config');
    expect(again.body.smtp.auth.serviceAccountKey).toMatchObject({ privateKeySet: true });
    expect(again.body.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(problems).toEqual([]);
  });

  it('sets up Microsoft Graph from the form: the secret write-only, the endpoints defaulted, its expiry watched', async () => {
    const inFiveDays = new Date(Date.now() + 5 * 24 * 60 * 60 * 1000 + 60 * 60 * 1000)
      .toISOString()
      .slice(0, 10);
    const secret = 'Graph-App-Secret-Value-42';
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'graph-page');
    const graph = page.locator('#f-graph');
    await page.getByLabel('Sender').fill('alerts@contoso.example');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com');
    expect(await graph.isHidden()).toBe(true);
    await page.getByLabel('Microsoft Graph (when SMTP AUTH is off)').check();
    expect(await graph.isVisible()).toBe(true);
    expect(await page.locator('#f-smtp').isHidden()).toBe(true);
    await graph.getByLabel('Mailbox', { exact: true }).fill('alerts@contoso.example');
    await graph.getByLabel('Tenant', { exact: true }).fill('contoso.onmicrosoft.com');
    await graph.getByLabel('Client (application) ID').fill('graph-app-id');
    await graph.getByLabel(/^Client secret (not )?set/).fill(secret);
    await graph.getByLabel('Client secret expires on (optional)').fill(inFiveDays);
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('now has a configuration');

    const stored = await api('GET', '/clusters/graph-page/email-config');
    expect(stored.body.transport).toBe('graph');
    expect(stored.body.smtp).toBeUndefined();
    expect(stored.body.graph).toMatchObject({
      mailbox: 'alerts@contoso.example',
      tenant: 'contoso.onmicrosoft.com',
      clientId: 'graph-app-id',
      clientSecretSet: true,
      clientSecretExpiresAt: inFiveDays,
      endpoint: 'https://graph.microsoft.com',
      tokenEndpoint: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
    });
    expect(JSON.stringify(stored.body)).not.toContain(secret);
    expect(await graph.getByLabel(/^Client secret (not )?set/).inputValue()).toBe('');
    expect(await page.locator('#graph-secret-state').textContent()).toBe('set');
    expect(await page.locator('#credential-health').textContent()).toMatch(
      /^Expiring The client secret expires in [56] days, on /,
    );
    expect(await page.content()).not.toContain(secret);

    // Limits set through the API (the page has no field for them), GET's view sent back as it is.
    const view = stored.body;
    const limited = { ...view, graph: { ...view.graph, limits: { messagesPerMinute: 10 } } };
    expect((await api('PUT', '/clusters/graph-page/email-config', limited)).status).toBe(200);

    // Opened again, the form shows what was saved; a save keeps the stored secret and the limits.
    await context.close();
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'graph-page');
    // The locator above belongs to the closed page.
    const reopened = page.locator('#f-graph');
    expect(await reopened.getByLabel('Mailbox', { exact: true }).inputValue()).toBe('alerts@contoso.example');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com oncall@example.com');
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('Saved.');
    const again = await api('GET', '/clusters/graph-page/email-config');
    expect(again.body.graph).toMatchObject({
      clientSecretSet: true,
      clientSecretExpiresAt: inFiveDays,
      limits: { messagesPerMinute: 10 },
    });
    expect(again.body.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(problems).toEqual([]);
  });

  it('saves a password’s expiry date from the form and warns in the form once it is near', async () => {
    const inTwoDays = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000 + 60 * 60 * 1000)
      .toISOString()
      .slice(0, 10);
    expect((await api('PUT', '/clusters/password-expiry/email-config', relayConfig())).status).toBe(201);
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'password-expiry');
    expect(await page.locator('#credential-health').textContent()).toContain('No expiry is known');
    await page.locator('#f-smtp').getByLabel('Password expires on (optional)').fill(inTwoDays);
    await page.getByRole('button', { name: 'Save' }).click();
    await savedWith('Saved.');
    const stored = await api('GET', '/clusters/password-expiry/email-config');
    expect(stored.body.smtp.auth).toMatchObject({ passwordExpiresAt: inTwoDays, passwordSet: true });
    expect(await page.locator('#credential-health').textContent()).toMatch(
      /^Expiring The password expires in [23] days, on /,
    );
    expect(problems).toEqual([]);
  });
});

describe('admin page: history', () => {
  it('restores the last version that delivered with one click', async () => {
    await api('PUT', '/clusters/history-1/email-config?sendTestEmail=true', relayConfig());
    await api('PUT', '/clusters/history-1/email-config?sendTestEmail=true', relayConfig({}, deadPort));
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'history-1');

    const rows = page.locator('#history-body tr');
    await rows.nth(1).waitFor();
    expect(await rows.nth(0).locator('td').nth(3).textContent()).toBe('Failed (connection)');
    expect(await rows.nth(1).locator('td').nth(3).textContent()).toBe('Delivered');
    await page.getByRole('button', { name: 'Restore the last version that delivered (version 1)' }).click();

    await page.locator('#history-status').filter({ hasText: 'Restored version 1 as version 3.' }).waitFor();
    expect((await api('GET', '/clusters/history-1/email-config')).body.smtp.port).toBe(relay.port);
    expect(await page.getByLabel('SMTP port').inputValue()).toBe(String(relay.port));
    await rows.nth(2).waitFor();
    expect(await rows.nth(0).textContent()).toContain('restore of version 1');
    expect(await rows.nth(0).textContent()).toContain('live');
    expect(problems).toEqual([]);
  });

  it('restores any version from its row, after asking when the form has unsaved edits', async () => {
    await api('PUT', '/clusters/history-2/email-config', relayConfig({ adminContacts: 'first@example.com' }));
    await api(
      'PUT',
      '/clusters/history-2/email-config',
      relayConfig({ adminContacts: 'second@example.com' }),
    );
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'history-2');
    await page.getByLabel('Sender').fill('edited@example.com');

    await page.getByRole('button', { name: 'Restore version 1' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.filter({ hasText: 'Discard your unsaved changes?' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByLabel('Sender').inputValue()).toBe('edited@example.com');
    expect((await api('GET', '/clusters/history-2/email-config')).body.adminContacts).toEqual([
      'second@example.com',
    ]);

    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await dialog.getByRole('button', { name: 'Discard and restore' }).click();
    await page.locator('#history-status').filter({ hasText: 'Restored version 1 as version 3.' }).waitFor();
    expect(await page.getByLabel('Admin contact email addresses').inputValue()).toBe('first@example.com');
    expect((await api('GET', '/clusters/history-2/email-config')).body.adminContacts).toEqual([
      'first@example.com',
    ]);
  });
});

describe('admin page: the fleet overview', () => {
  it('opens on the overview with the unhealthy cluster first, sorts by column and links each cluster', async () => {
    await api('PUT', '/clusters/aa-healthy/email-config?sendTestEmail=true', relayConfig());
    const broken = relayConfig();
    broken.smtp.auth.password = 'not-the-relay-password';
    await api('PUT', '/clusters/zz-failing/email-config?sendTestEmail=true', broken);
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);

    const ids = () => attributes(page.locator('#overview-body tr'), 'data-cluster-id');
    const before = await ids();
    expect(before.indexOf('zz-failing')).toBeLessThan(before.indexOf('aa-healthy'));
    const failing = page.locator('#overview-body tr[data-cluster-id="zz-failing"]');
    expect(await failing.locator('td').nth(1).textContent()).toContain(
      'The last test email failed (authentication)',
    );
    expect(await page.locator('#overview-head th').nth(1).getAttribute('aria-sort')).toBe('ascending');

    await page.getByRole('button', { name: 'Cluster', exact: true }).click();
    const byName = await ids();
    expect(byName.indexOf('aa-healthy')).toBeLessThan(byName.indexOf('zz-failing'));
    expect(await page.locator('#overview-head th').first().getAttribute('aria-sort')).toBe('ascending');

    await page.getByRole('link', { name: 'zz-failing' }).click();
    await page
      .locator('#load-status')
      .filter({ hasText: 'Loaded the configuration of cluster zz-failing' })
      .waitFor();
    await page.locator('#last-test').filter({ hasText: 'failed (authentication)' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('asks before unsaved edits are dropped by leaving the form', async () => {
    await api('PUT', '/clusters/guarded/email-config', relayConfig());
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'guarded');
    await page.getByLabel('Sender').fill('unsaved@example.com');

    await page.getByRole('link', { name: 'All clusters' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.filter({ hasText: 'The form of cluster guarded has changes that are not saved.' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // The page puts the cluster's address back once the dialog has closed.
    await page.waitForURL((url) => url.hash === '#cluster=guarded');
    expect(await page.locator('#cluster-view').isVisible()).toBe(true);
    expect(await page.getByLabel('Sender').inputValue()).toBe('unsaved@example.com');

    await page.getByRole('link', { name: 'All clusters' }).click();
    await dialog.getByRole('button', { name: 'Discard changes' }).click();
    await page.locator('#overview').waitFor({ state: 'visible' });
  });

  it('deletes a configuration after confirmation; its versions are kept', async () => {
    await api('PUT', '/clusters/to-delete/email-config', relayConfig());
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'to-delete');

    await page.getByRole('button', { name: 'Delete configuration…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.filter({ hasText: 'Delete the configuration of cluster to-delete?' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await api('GET', '/clusters/to-delete/email-config')).status).toBe(200);

    await page.getByRole('button', { name: 'Delete configuration…' }).click();
    await dialog.getByRole('button', { name: 'Delete configuration' }).click();
    await page
      .locator('#page-status')
      .filter({ hasText: 'Deleted the configuration of cluster to-delete.' })
      .waitFor();
    await page.locator('#overview').waitFor({ state: 'visible' });
    expect((await api('GET', '/clusters/to-delete/email-config')).status).toBe(404);
    expect((await api('GET', '/clusters/to-delete/email-config/versions')).body.items).toHaveLength(1);
    await page
      .locator('#overview-status')
      .filter({ hasText: /clusters?\./ })
      .waitFor();
    expect(await page.locator('#overview-body tr[data-cluster-id="to-delete"]').count()).toBe(0);
  });
});

describe('admin page: the delivery log', () => {
  it('shows condition titles, filters by outcome, and replays a failed event with its result', async () => {
    await api('PUT', '/clusters/log-replay/email-config', relayConfig({ adminContacts: REFUSED }));
    await emit('log-replay');
    await logHas('log-replay', 1, 'failed');
    await api('PUT', '/clusters/log-replay/email-config', relayConfig({ adminContacts: 'ops@example.com' }));
    await emit('log-replay', 'version-mismatch');
    await logHas('log-replay', 2);
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'log-replay');

    const rows = page.locator('#deliveries-body tr');
    await page.locator('#deliveries-status').filter({ hasText: '2 events shown.' }).waitFor();
    await page.getByLabel('Outcome', { exact: true }).selectOption('failed');
    await page.locator('#deliveries-status').filter({ hasText: '1 event shown.' }).waitFor();
    const failed = rows.first();
    expect(await failed.textContent()).toContain(CATALOG['promotion-pending'].title.en);
    relay.reset();

    await failed.getByRole('button', { name: 'Replay' }).click();
    await page.locator('.replay-result').filter({ hasText: 'Replayed: Sent.' }).waitFor();
    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual(['ops@example.com']);
    const records = await api('GET', '/clusters/log-replay/deliveries?outcome=sent');
    expect(records.body.items).toHaveLength(2);
    expect(problems).toEqual([]);
  });

  it('pages through older events with a cursor', async () => {
    await api('PUT', '/clusters/log-pages/email-config', relayConfig());
    // Invalid events are recorded (rejected) without an email: 55 of them, quickly.
    for (let index = 0; index < 55; index++) {
      const answer = await api('POST', '/events/envelope', {
        id: `bad-${String(index).padStart(2, '0')}`,
        source: 'appliance.failover',
        'detail-type': 'Not A Condition',
        time: new Date().toISOString(),
        detail: { clusterId: 'log-pages' },
      });
      expect(answer.status).toBeLessThan(500);
    }
    await logHas('log-pages', 55);
    await newPage();
    await signIn(page, runtime.url, ADMIN_TOKEN);
    await openCluster(page, 'log-pages');

    await page
      .locator('#deliveries-status')
      .filter({ hasText: '50 events shown. Older events are available.' })
      .waitFor();
    await page.getByRole('button', { name: 'Show older events' }).click();
    await page
      .locator('#deliveries-status')
      .filter({ hasText: /^55 events shown\.$/ })
      .waitFor();
    const ids = await attributes(page.locator('#deliveries-body tr'), 'data-event-id');
    expect(new Set(ids).size).toBe(55);
    expect(await page.getByRole('button', { name: 'Show older events' }).isHidden()).toBe(true);
  });
});

describe('admin page: German and a phone', () => {
  it('follows a German browser, switches to English and back, and shows times in the viewer’s zone', async () => {
    await api('PUT', '/clusters/deutsch/email-config?sendTestEmail=true', relayConfig());
    await newPage({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    await page.goto(`${runtime.url}/admin/#cluster=deutsch`);
    await page.getByLabel('Admin-Token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page
      .locator('#load-status')
      .filter({ hasText: 'Die Konfiguration von Cluster deutsch ist geladen' })
      .waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.getByLabel('Absender').inputValue()).toBe(
      '"Appliance Cluster" <appliance@example.com>',
    );
    expect(await page.getByRole('button', { name: 'Test-E-Mail senden' }).isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Zustellprotokoll' }).isVisible()).toBe(true);

    // The last test's time: the Berlin wall clock, not UTC.
    const time = page.locator('#last-test time');
    const iso = (await time.getAttribute('datetime')) ?? '';
    const berlin = new Date(iso).toLocaleTimeString('de-DE', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
    });
    expect(await time.textContent()).toContain(berlin);

    await page.getByLabel('Sprache', { exact: true }).selectOption('en');
    await page.getByLabel('Sender').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('button', { name: 'Send test email' }).isVisible()).toBe(true);
    await page.reload();
    await page
      .locator('#load-status')
      .filter({ hasText: 'Loaded the configuration of cluster deutsch' })
      .waitFor();
    await page.getByLabel('Language', { exact: true }).selectOption('de');
    await page.getByLabel('Absender').waitFor();
    expect(problems).toEqual([]);
  });

  it('fits a 390 px phone: no horizontal scroll, the outcome and the replay visible', async () => {
    await api('PUT', '/clusters/phone/email-config', relayConfig({ adminContacts: REFUSED }));
    await emit('phone');
    await logHas('phone', 1, 'failed');
    await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signIn(page, runtime.url, ADMIN_TOKEN);

    const overflow = async () =>
      Number(
        await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
      );
    expect(await overflow()).toBeLessThanOrEqual(0);
    await openCluster(page, 'phone');
    await page.locator('#deliveries-status').filter({ hasText: '1 event shown.' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    for (const target of [
      page.locator('#deliveries-body td.outcome-failed'),
      page.locator('#deliveries-body').getByRole('button', { name: 'Replay' }),
    ]) {
      const box = await target.boundingBox();
      expect(box).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
    }
    expect(await page.locator('#deliveries-body td.outcome-failed').textContent()).toBe('Failed');
    expect(problems).toEqual([]);
  });
});
