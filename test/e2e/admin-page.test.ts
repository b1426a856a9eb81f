// The admin page in a real browser (Debian's chromium via playwright-core) against the embedded
// runtime, a real SMTP relay (smtp-server) and, for Authorize, oauth2-mock-server.
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CATALOG } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { adminPageHandlers } from '../../functions/admin-api/admin-page-routes.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { RELAY_PRESETS } from '../../functions/core/config/presets.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { buildAdminPage } from '../../web/admin-page/build.js';
import { openCluster, signedInView, signIn as signInAs } from '../support/admin-page-session.js';
import { collectPageProblems, launchBrowser, tabTo } from '../support/browser.js';
import { type OAuthTestProvider, startOAuthProvider } from '../support/oauth-provider.js';
import { runtimeApi } from '../support/runtime-api.js';
import {
  type SmtpTestServer,
  startSlowSmtpServer,
  startSmtpTestServer,
  unusedPort,
} from '../support/smtp-test-server.js';

const ADMIN_TOKEN = 'admin-page-e2e-token-0123456789-abcdef';
const USERNAME = 'relay@example.com';
const PASSWORD = 'Page-Relay-Secret-42';
// A test artifact (CI keeps test-results/); docs/admin-page.png, linked from the README, is a copy.
const SCREENSHOT = join(process.cwd(), 'test-results', 'admin-page.png');
const log = createLogger({ logLevel: 'ERROR' });

let dataDir: string;
let relay: SmtpTestServer;
let runtime: LocalRuntime;
let browser: Browser;
/** Where the browser loads the page: the runtime serves page and API on one origin. */
let origin: string;
let context: BrowserContext;
let page: Page;
let problems: string[];

const api = runtimeApi(() => runtime);

const relayConfig = (overrides: Record<string, unknown> = {}) => ({
  sender: 'Appliance Cluster <appliance@example.com>',
  smtp: {
    host: relay.host,
    port: relay.port,
    encryption: 'starttls',
    verifyCertificate: false,
    auth: { type: 'password', username: USERNAME, password: PASSWORD },
  },
  adminContacts: 'ops@example.com oncall@example.com',
  // One email per event: what this test is about (group emails have tests of their own).
  grouping: { waitSeconds: 0 },
  ...overrides,
});

const signIn = (target: Page = page) => signInAs(target, origin, ADMIN_TOKEN);
const loadCluster = (id: string) => openCluster(page, id);

/** Fills the form as an admin would for the test relay (username and password). */
async function fillRelayForm(): Promise<void> {
  await page.getByLabel('Sender').fill('Appliance Cluster <appliance@example.com>');
  await page.getByLabel('SMTP relay server', { exact: true }).fill(relay.host);
  await page.getByLabel('SMTP port').fill(String(relay.port));
  await page.getByLabel('SMTP encryption').selectOption('starttls');
  await page.getByLabel("Verify the relay's certificate").uncheck();
  await page.getByLabel('Username and password').check();
  await page.getByLabel('Username', { exact: true }).fill(USERNAME);
  await page.getByLabel(/^Password (not )?set/).fill(PASSWORD);
  await page.getByLabel('Admin contact email addresses').fill('ops@example.com oncall@example.com');
  await page.getByLabel('Language of the emails').selectOption('de');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'admin-page-'));
  relay = await startSmtpTestServer({ mode: 'starttls', auth: { username: USERNAME, password: PASSWORD } });
  const port = await unusedPort();
  runtime = await startLocalRuntime({
    port,
    dataDir,
    adminToken: ADMIN_TOKEN,
    publicBaseUrl: `http://127.0.0.1:${port}`,
    dailyNoticeTime: 'off',
    log,
  });
  origin = runtime.url;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await runtime?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  problems = collectPageProblems(page);
  relay.reset();
});

afterEach(async () => {
  await context?.close();
});

describe('admin page: serving', () => {
  it('is served by the embedded runtime at /admin/ with strict security and caching headers', async () => {
    const bare = await fetch(`${runtime.url}/admin`, { redirect: 'manual' });
    const html = await fetch(`${runtime.url}/admin/`);
    const body = await html.text();
    const again = await fetch(`${runtime.url}/admin/app.js`, {
      headers: { 'if-none-match': (await fetch(`${runtime.url}/admin/app.js`)).headers.get('etag') ?? '' },
    });
    const config = await fetch(`${runtime.url}/admin/config.json`);

    expect(bare.status).toBe(301);
    expect(new URL(bare.headers.get('location') ?? '', `${runtime.url}/admin`).pathname).toBe('/admin/');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('referrer-policy')).toBe('no-referrer');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(body).not.toMatch(/<script>|<style>|\son\w+=|https?:\/\//);
    expect(again.status).toBe(304);
    expect(await config.json()).toEqual({
      auth: { mode: 'token' },
      smtpRedirectUri: `${runtime.url}/login/smtp-verification/`,
    });
  });

  it('in oidc mode names the sign-in endpoints and lets the page reach only the token endpoint', async () => {
    const handlers = adminPageHandlers({
      assets: buildAdminPage(),
      auth: {
        mode: 'oidc',
        clientId: 'page-client',
        redirectUri: 'https://api.example.com/admin/',
        authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
        tokenEndpoint: 'https://login.example.com/oauth2/token',
      },
    });
    const response = await handlers.adminPageSettings(
      { headers: {}, requestContext: { http: { path: '/admin/config.json' } } } as never,
      undefined,
    );

    expect(JSON.parse(response?.body ?? '{}')).toEqual({
      auth: {
        mode: 'oidc',
        clientId: 'page-client',
        redirectUri: 'https://api.example.com/admin/',
        authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
        tokenEndpoint: 'https://login.example.com/oauth2/token',
        scopes: ['openid', 'email'],
        bearer: 'access_token',
      },
    });
    expect(response?.headers['content-security-policy']).toContain(
      "connect-src 'self' https://login.example.com;",
    );
    const pageRoutes = [
      ADMIN_API_ROUTES.adminPage,
      ADMIN_API_ROUTES.adminPageScript,
      ADMIN_API_ROUTES.adminPageStyles,
      ADMIN_API_ROUTES.adminPageSettings,
    ];
    expect(pageRoutes.every((route) => route.access === 'public')).toBe(true);
  });
});

describe('admin page: in the browser', () => {
  it('refuses a wrong token and says so next to the token field', async () => {
    await page.goto(`${origin}/admin/`);
    await page.getByLabel('Admin token').fill('not-the-admin-token-at-all');

    await page.getByRole('button', { name: 'Sign in' }).click();

    const error = page.locator('#token-error');
    await error.filter({ hasText: 'This token was not accepted.' }).waitFor();
    expect(await page.getByLabel('Admin token').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#workspace').isHidden()).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('fills and saves a configuration; secrets come back as "set", never as values', async () => {
    await signIn();
    await loadCluster('page-save');
    await fillRelayForm();

    await page.getByRole('button', { name: 'Save' }).click();

    await page.locator('#save-status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await api('GET', '/clusters/page-save/email-config');
    expect(stored.body).toMatchObject({
      sender: '"Appliance Cluster" <appliance@example.com>',
      transport: 'smtp',
      smtp: {
        host: relay.host,
        port: relay.port,
        encryption: 'starttls',
        verifyCertificate: false,
        auth: { type: 'password', username: USERNAME, passwordSet: true },
      },
      adminContacts: ['ops@example.com', 'oncall@example.com'],
      language: 'de',
    });
    await page.reload();
    await loadCluster('page-save');
    expect(await page.getByLabel(/^Password (not )?set/).inputValue()).toBe('');
    expect(await page.locator('#password-state').textContent()).toBe('set');
    expect(await page.content()).not.toContain(PASSWORD);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(ADMIN_TOKEN);
    expect(problems).toEqual([]);
  });

  it('shows a field error next to the port, summarizes it at the top and moves focus there', async () => {
    await signIn();
    await loadCluster('page-errors');
    await fillRelayForm();
    await page.getByLabel('SMTP port').fill('70000');

    await page.getByRole('button', { name: 'Save' }).click();

    const portError = page.locator('#f-smtp-port-error');
    await portError.filter({ hasText: 'must be between 1 and 65535' }).waitFor();
    const port = page.getByLabel('SMTP port');
    expect(await port.getAttribute('aria-invalid')).toBe('true');
    expect(await port.getAttribute('aria-describedby')).toContain('f-smtp-port-error');
    expect(await page.evaluate('document.activeElement.id')).toBe('error-summary');
    const link = page.locator('#error-list a');
    expect(await link.textContent()).toBe('SMTP port: must be between 1 and 65535');
    await link.click();
    expect(await page.evaluate('document.activeElement.id')).toBe('f-smtp-port');
    expect((await api('GET', '/clusters/page-errors/email-config')).status).toBe(404);
  });

  it('shows the relay preset for the host as it is typed, and saves grouping and relay limits', async () => {
    await signIn();
    await loadCluster('page-storm');
    await fillRelayForm();
    const hint = page.locator('#f-smtp-limits-hint');
    const host = page.getByLabel('SMTP relay server', { exact: true });
    const maxConnections = page.getByLabel('Max connections');
    const perMinute = page.getByLabel('Messages per minute');
    await hint.filter({ hasText: 'No preset for this relay: leave empty for no limit.' }).waitFor();
    await host.fill('smtp.gmail.com');
    await hint.filter({ hasText: 'Gmail preset: 2 connections, 20 messages per minute' }).waitFor();

    await host.fill('smtp.office365.com');

    await hint
      .filter({
        hasText: 'Exchange Online preset: 3 connections, 30 messages per minute; leave empty to use it.',
      })
      .waitFor();
    expect(await maxConnections.getAttribute('placeholder')).toBe('3');
    expect(await perMinute.getAttribute('placeholder')).toBe('30');
    expect(await maxConnections.getAttribute('aria-describedby')).toContain('f-smtp-limits-hint');
    expect(await page.getByLabel('Group wait (seconds)').inputValue()).toBe('30');
    expect(await page.getByLabel('Group interval (minutes)').inputValue()).toBe('5');

    // Prepare the save: grouping, and one limit overridden (the preset keeps the other).
    await page.getByLabel('Group wait (seconds)').fill('45');
    await page.getByLabel('Group interval (minutes)').fill('10');
    await perMinute.fill('20');
    await hint.filter({ hasText: 'In effect: 3 connections, 20 messages per minute.' }).waitFor();

    // Act
    await page.getByRole('button', { name: 'Save' }).click();

    // Assess: stored as entered, with the effective limits and their source; the same after a reload.
    await page.locator('#save-status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await api('GET', '/clusters/page-storm/email-config');
    expect(stored.body).toMatchObject({
      grouping: { waitSeconds: 45, intervalMinutes: 10 },
      smtp: {
        host: 'smtp.office365.com',
        limits: { messagesPerMinute: 20 },
        effectiveLimits: { maxConnections: 3, messagesPerMinute: 20, source: 'configured' },
      },
    });
    expect(stored.body.smtp.limits).toEqual({ messagesPerMinute: 20 });
    await page.reload();
    await loadCluster('page-storm');
    expect(await page.getByLabel('Group wait (seconds)').inputValue()).toBe('45');
    expect(await page.getByLabel('Group interval (minutes)').inputValue()).toBe('10');
    expect(await maxConnections.inputValue()).toBe('');
    expect(await maxConnections.getAttribute('placeholder')).toBe('3');
    expect(await perMinute.inputValue()).toBe('20');
    expect(await hint.textContent()).toContain(
      'Exchange Online preset: 3 connections, 30 messages per minute',
    );
    expect(problems).toEqual([]);
  });

  it('fills host, port and encryption from a relay preset, keeps later edits, and saves them', async () => {
    await signIn();
    await loadCluster('page-presets');
    await page.getByLabel('Sender').fill('Appliance Cluster <appliance@example.com>');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com');
    const preset = page.getByLabel('Relay preset');
    const host = page.getByLabel('SMTP relay server', { exact: true });
    const port = page.getByLabel('SMTP port');
    const encryption = page.getByLabel('SMTP encryption');
    const limitsLine = page.locator('#f-smtp-preset-limits');
    // The page lists the server's table (functions/core/config/presets.ts), then custom.
    expect(await preset.locator('option').allTextContents()).toEqual([
      ...RELAY_PRESETS.map((entry) => entry.label),
      'Custom',
    ]);

    await preset.selectOption({ label: 'Exchange Online' });

    expect(await host.inputValue()).toBe('smtp.office365.com');
    expect(await port.inputValue()).toBe('587');
    expect(await encryption.inputValue()).toBe('starttls');
    expect(await limitsLine.textContent()).toBe(
      'Exchange Online allows 3 connections and 30 messages a minute; the service paces to that.',
    );
    expect(await page.getByLabel('SES region').isVisible()).toBe(false);

    // Gmail over implicit TLS; then SES in a region chosen in the form.
    await preset.selectOption({ label: 'Gmail / Google Workspace (465, TLS)' });
    expect([await host.inputValue(), await port.inputValue(), await encryption.inputValue()]).toEqual([
      'smtp.gmail.com',
      '465',
      'tls',
    ]);
    await preset.selectOption({ label: 'Amazon SES SMTP interface' });
    await page.getByLabel('SES region').selectOption('eu-central-1');
    expect(await host.inputValue()).toBe('email-smtp.eu-central-1.amazonaws.com');
    expect(await port.inputValue()).toBe('587');
    expect(await encryption.inputValue()).toBe('starttls');
    expect(await limitsLine.isVisible()).toBe(false);

    // A later edit is kept, the select says custom, and choosing custom changes nothing.
    await port.fill('2587');
    expect(await preset.inputValue()).toBe('custom');
    await preset.selectOption('custom');
    expect(await host.inputValue()).toBe('email-smtp.eu-central-1.amazonaws.com');
    expect(await port.inputValue()).toBe('2587');

    // Act: Exchange Online again, saved.
    await preset.selectOption({ label: 'Exchange Online' });
    await page.getByRole('button', { name: 'Save' }).click();

    // Assess: the stored configuration has the preset's relay; its limits come from the host's rule.
    await page.locator('#save-status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await api('GET', '/clusters/page-presets/email-config');
    expect(stored.body.smtp).toMatchObject({
      host: 'smtp.office365.com',
      port: 587,
      encryption: 'starttls',
      effectiveLimits: { maxConnections: 3, messagesPerMinute: 30, source: 'preset:exchange-online' },
    });
    await page.reload();
    await loadCluster('page-presets');
    expect(await preset.inputValue()).toBe('exchange-online');
    expect(problems).toEqual([]);
  });

  it('saves the SES SMTP host of the region chosen in the form', async () => {
    await signIn();
    await loadCluster('page-ses-preset');
    await page.getByLabel('Sender').fill('Appliance Cluster <appliance@example.com>');
    await page.getByLabel('Admin contact email addresses').fill('ops@example.com');
    await page.getByLabel('Relay preset').selectOption({ label: 'Amazon SES SMTP interface' });
    await page.getByLabel('SES region').selectOption('eu-west-1');

    await page.getByRole('button', { name: 'Save' }).click();

    await page.locator('#save-status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await api('GET', '/clusters/page-ses-preset/email-config');
    expect(stored.body.smtp).toMatchObject({
      host: 'email-smtp.eu-west-1.amazonaws.com',
      port: 587,
      encryption: 'starttls',
    });
    await page.reload();
    await loadCluster('page-ses-preset');
    expect(await page.getByLabel('Relay preset').inputValue()).toBe('amazon-ses');
    expect(await page.getByLabel('SES region').inputValue()).toBe('eu-west-1');
    expect(problems).toEqual([]);
  });

  it("proposes the Microsoft relay over another preset's host, never over the admin's own; shows the Entra ID help", async () => {
    await signIn();
    await loadCluster('page-oauth-relay');
    const host = page.getByLabel('SMTP relay server', { exact: true });
    await page.getByLabel('Relay preset').selectOption({ label: 'Gmail / Google Workspace (465, TLS)' });
    await page.getByLabel('OAuth2').check();
    await page.getByLabel('Provider', { exact: true }).selectOption('google');

    await page.getByLabel('Provider', { exact: true }).selectOption('microsoft');

    expect(await host.inputValue()).toBe('smtp.office365.com');
    expect(await page.getByLabel('SMTP port').inputValue()).toBe('587');
    expect(await page.getByLabel('SMTP encryption').inputValue()).toBe('starttls');
    expect(await page.getByLabel('Relay preset').inputValue()).toBe('exchange-online');
    const help = page.locator('#entra-help');
    await help.locator('summary').click();
    const text = await help.textContent();
    for (const phrase of [
      'Value',
      'not its Secret ID',
      'SMTP.Send',
      'Office 365 Exchange Online',
      'authenticated SMTP',
      'Overview',
    ]) {
      expect(text).toContain(phrase);
    }

    await host.fill('relay.internal.example');
    await page.getByLabel('Provider', { exact: true }).selectOption('google');
    await page.getByLabel('Provider', { exact: true }).selectOption('microsoft');
    expect(await host.inputValue()).toBe('relay.internal.example');
    expect(await help.isVisible()).toBe(true);
    await page.getByLabel('Provider', { exact: true }).selectOption('google');
    expect(await help.isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  it('shows the field errors of bad grouping and relay limit values next to their fields', async () => {
    await signIn();
    await loadCluster('page-storm-errors');
    await fillRelayForm();
    await page.getByLabel('Group wait (seconds)').fill('601');
    await page.getByLabel('Max connections').fill('50');

    await page.getByRole('button', { name: 'Save' }).click();

    const waitError = page.locator('#f-grouping-waitSeconds-error');
    await waitError.filter({ hasText: 'must be between 0 and 600 seconds (10 minutes)' }).waitFor();
    const connectionsError = page.locator('#f-smtp-limits-maxConnections-error');
    expect(await connectionsError.textContent()).toBe('must be between 1 and 20 connections');
    const wait = page.getByLabel('Group wait (seconds)');
    expect(await wait.getAttribute('aria-invalid')).toBe('true');
    expect(await wait.getAttribute('aria-describedby')).toContain('f-grouping-waitSeconds-error');
    expect(await page.getByLabel('Max connections').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#error-list a').allTextContents()).toEqual([
      'Max connections: must be between 1 and 20 connections',
      'Group wait (seconds): must be between 0 and 600 seconds (10 minutes)',
    ]);
    expect((await api('GET', '/clusters/page-storm-errors/email-config')).status).toBe(404);
  });

  it('sends a test email that the relay receives and shows the result; saves the screenshot', async () => {
    await signIn();
    await loadCluster('page-test');
    await fillRelayForm();
    await page.getByLabel('Send a test email with this save').check();

    await page.getByRole('button', { name: 'Save' }).click();

    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message?.user).toBe(USERNAME);
    const result = page.locator('#test-result');
    await result.filter({ hasText: 'Sent to ops@example.com, oncall@example.com' }).waitFor();
    await result.locator('summary').click();
    const transcript = (await result.locator('pre').textContent()) ?? '';
    expect(transcript).toContain('AUTH');
    expect(transcript).not.toContain(PASSWORD);
    expect(transcript).not.toContain(Buffer.from(`\0${USERNAME}\0${PASSWORD}`).toString('base64'));

    await page.getByRole('button', { name: 'Send test email', exact: true }).click();
    await relay.waitForMessages(2);
    await mkdir(join(process.cwd(), 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(20_000);
    expect(problems).toEqual([]);
  });

  it('shows the stage, codes, hint and redacted transcript of a failing test email', async () => {
    const wrongPassword = 'not-the-relay-password';
    const config = relayConfig();
    config.smtp.auth.password = wrongPassword;
    await api('PUT', '/clusters/page-fail/email-config', config);
    await signIn();
    await loadCluster('page-fail');

    await page.getByRole('button', { name: 'Send test email', exact: true }).click();

    const result = page.locator('#test-result');
    await result.filter({ hasText: 'Failed at the authentication stage.' }).waitFor();
    const facts = (await result.locator('dl').textContent()) ?? '';
    expect(facts).toContain('Reply code535');
    expect(facts).toContain('Enhanced code5.7.8');
    expect(facts).toContain('What to do');
    await result.locator('summary').click();
    expect(await result.locator('pre').textContent()).not.toContain(wrongPassword);
    expect(relay.messages).toHaveLength(0);
  });

  it('saves with the keyboard alone (Tab, Space, Enter and typing), with visible focus', async () => {
    await page.goto(`${origin}/admin/`);
    await tabTo(page, '#token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#workspace').waitFor({ state: 'visible' });
    await signedInView(page);
    await page.keyboard.press('Enter'); // nothing focused that acts on Enter: a no-op
    await tabTo(page, '#cluster');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('page-keyboard');
    await page.keyboard.press('Enter');
    await page
      .locator('#load-status')
      .filter({ hasText: 'page-keyboard has no configuration yet' })
      .waitFor();

    await tabTo(page, '#f-sender');
    await page.keyboard.type('keyboard@example.com');
    await tabTo(page, '#f-smtp-host');
    await page.keyboard.type('relay.example.net');
    await tabTo(page, '#f-smtp-verifyCertificate');
    await page.keyboard.press('Space');
    await tabTo(page, '#f-adminContacts');
    await page.keyboard.type('ops@example.com');
    await tabTo(page, '#save');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    await page.keyboard.press('Enter');

    await page.locator('#save-status').filter({ hasText: 'Saved' }).waitFor();
    expect(outline).toBe('solid');
    const stored = await api('GET', '/clusters/page-keyboard/email-config');
    expect(stored.body).toMatchObject({
      sender: 'keyboard@example.com',
      smtp: { host: 'relay.example.net', port: 587, encryption: 'starttls', verifyCertificate: false },
      adminContacts: ['ops@example.com'],
    });
  });

  it('shows an event in the delivery log after it was emailed', async () => {
    await api('PUT', '/clusters/page-log/email-config', relayConfig());
    const sample = loadSample('promotion-pending');
    const emitted = await api('POST', '/events', {
      Entries: [
        {
          Source: sample.source,
          DetailType: sample['detail-type'],
          Detail: JSON.stringify({ ...sample.detail, clusterId: 'page-log' }),
        },
      ],
    });
    expect(emitted.status).toBe(200);
    await relay.waitForMessages(1);
    await signIn();

    await loadCluster('page-log');

    const title = CATALOG['promotion-pending'].title.en;
    const row = page.locator('#deliveries-body tr').filter({ hasText: title });
    for (let attempt = 0; attempt < 20 && (await row.count()) === 0; attempt++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(100);
    }
    const cells = await row.first().locator('td').allTextContents();
    expect(cells.slice(1)).toEqual([
      `${title} ${CATALOG['promotion-pending'].severity}`,
      sample.detail.appliance.hostname,
      'Sent',
      '',
      'ops@example.com, oncall@example.com',
      '',
    ]);
  });
  it('sends a test email that links the cluster, and the link opens the page on that cluster', async () => {
    await signIn();
    await loadCluster('linked-1');
    await fillRelayForm();
    await page.getByLabel('Send a test email with this save').check();
    await page.getByRole('button', { name: 'Save' }).click();

    const [message] = await relay.waitForMessages(1);
    expect(message?.headers['auto-submitted']).toBe('auto-generated');
    expect(message?.headers['x-appliance-notifier-kind']).toBe('test-email');
    const link = message?.text?.match(/^(http\S+\/admin\/#cluster=linked-1)$/m)?.[1];
    expect(link).toBe(`${origin}/admin/#cluster=linked-1`);

    // A fresh browser, as from a mail client: the link survives the sign-in.
    const linked = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    try {
      const target = await linked.newPage();
      await target.goto(link ?? '');
      await target.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await target.getByRole('button', { name: 'Sign in' }).click();
      await target.locator('#cluster-name').filter({ hasText: 'linked-1' }).waitFor();
      await target
        .locator('#load-status')
        .filter({ hasText: 'Loaded the configuration of cluster linked-1' })
        .waitFor();
      expect(new URL(target.url()).hash).toBe('#cluster=linked-1');
      expect(await target.locator('#overview').isHidden()).toBe(true);
    } finally {
      await linked.close();
    }
    expect(problems).toEqual([]);
  });
});

/** WCAG relative luminance of a computed CSS colour ("rgb(r, g, b)" or "rgba(r, g, b, a)"). */
function luminance(cssColor: string): number {
  const channels = cssColor
    .match(/[\d.]+/g)
    ?.slice(0, 3)
    .map(Number);
  if (!channels || channels.length !== 3) throw new Error(`not an rgb() colour: ${cssColor}`);
  const [r = 0, g = 0, b = 0] = channels.map((c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The computed colours of the page body and its first card, read in the page. */
async function bodyColours(): Promise<{ background: string; text: string; card: string }> {
  return (await page.evaluate(`(() => {
    const body = getComputedStyle(document.body);
    return {
      background: body.backgroundColor,
      text: body.color,
      card: getComputedStyle(document.querySelector('.card')).backgroundColor,
    };
  })()`)) as { background: string; text: string; card: string };
}

describe('admin page: colour scheme', () => {
  it('is dark with light text when the browser prefers dark', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await signIn();

    const colours = await bodyColours();
    expect(luminance(colours.background)).toBeLessThan(0.2);
    expect(luminance(colours.card)).toBeLessThan(0.2);
    expect(luminance(colours.text)).toBeGreaterThan(0.6);
    expect(problems).toEqual([]);
  });

  it('is light with dark text when the browser prefers light', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await signIn();

    const colours = await bodyColours();
    expect(luminance(colours.background)).toBeGreaterThan(0.8);
    expect(luminance(colours.card)).toBeGreaterThan(0.8);
    expect(luminance(colours.text)).toBeLessThan(0.2);
    expect(problems).toEqual([]);
  });
});

describe('admin page: test email progress', () => {
  it('counts the seconds while a slow relay holds the test email, and stops when the result shows', async () => {
    // Prepare: a relay that confirms the message only when the test opens the gate.
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const slow = await startSlowSmtpServer({ beforeMessageReply: () => gate });
    try {
      await api('PUT', '/clusters/page-slow/email-config', {
        ...relayConfig(),
        smtp: { host: slow.host, port: slow.port, encryption: 'none' },
      });
      await signIn();
      await loadCluster('page-slow');
      const status = page.locator('#save-status');

      // Act
      await page.getByRole('button', { name: 'Send test email', exact: true }).click();

      // Assess: the counter goes up second by second while the relay holds the message.
      await status.filter({ hasText: /^Sending test email… 0 s$/ }).waitFor();
      expect(await status.getAttribute('aria-busy')).toBe('true');
      await status.filter({ hasText: /^Sending test email… 1 s$/ }).waitFor({ timeout: 3000 });
      await status.filter({ hasText: /^Sending test email… 2 s$/ }).waitFor({ timeout: 3000 });
      expect(slow.messagesReceived).toBe(1);

      openGate();
      const result = page.locator('#test-result');
      await result.filter({ hasText: 'Sent to ops@example.com, oncall@example.com' }).waitFor();
      expect(await status.textContent()).toBe('The test email was sent.');
      expect(await status.getAttribute('aria-busy')).toBeNull();
      // The counter stopped: a second and a half later the result is still what the line says.
      await page.waitForTimeout(1500);
      expect(await status.textContent()).toBe('The test email was sent.');
      expect(problems).toEqual([]);
    } finally {
      openGate();
      await slow.close();
    }
  });
});

describe('admin page: OAuth2 Authorize', () => {
  let provider: OAuthTestProvider;
  const MAILBOX = 'alerts@contoso.example';

  beforeAll(async () => {
    provider = await startOAuthProvider({ email: MAILBOX });
  });
  afterAll(async () => {
    await provider?.close();
  });

  it('runs Authorize through the provider and comes back to the page showing who authorized', async () => {
    const probe = await api('GET', '/clusters/page-oauth/oauth/authorize');
    expect(probe.body?.error ?? '').not.toMatch(/^No route/);
    await api('PUT', '/clusters/page-oauth/email-config', {
      ...relayConfig(),
      smtp: {
        ...relayConfig().smtp,
        auth: {
          type: 'oauth2',
          provider: 'custom',
          clientId: 'page-client',
          clientSecret: 'page-client-secret',
          scopes: 'openid email offline_access',
          authorizationEndpoint: provider.authorizationEndpoint,
          tokenEndpoint: provider.tokenEndpoint,
        },
      },
    });
    await signIn();
    await loadCluster('page-oauth');
    await page.locator('#oauth-status').filter({ hasText: 'Needs authorization' }).waitFor();
    expect(await page.locator('#redirect-uri').inputValue()).toBe(`${origin}/login/smtp-verification/`);

    await page.getByRole('button', { name: 'Authorize' }).click();

    await page.waitForURL(/\/login\/smtp-verification\//);
    expect(await page.locator('h1').textContent()).toBe('OAuth2 authorized');
    await page.getByRole('link', { name: 'Back to the email configuration' }).click();
    const status = page.locator('#oauth-status');
    await status.filter({ hasText: `Authorized as ${MAILBOX}` }).waitFor();
    expect(await page.locator('#cluster-name').textContent()).toBe('page-oauth');
    expect(await page.locator('#authorize-status').textContent()).toBe('Back from the provider: authorized.');
    expect(provider.tokenRequests.some((r) => r.body.grant_type === 'authorization_code')).toBe(true);
  });
});
