// Secrets at rest in the embedded runtime, as an admin uses it: a relay password, an OAuth2
// client secret and a grant saved through the API end up in notifier.db (and its WAL) encrypted;
// the API still says they are set, the test emails still authenticate, after a restart too. And
// `npm start` refuses a SECRETS_KEY it cannot use, in one line.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { EXIT } from '../../ops/cli.js';
import { type OAuthTestProvider, startOAuthProvider } from '../support/oauth-provider.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const USERNAME = 'relay@example.com';
const PASSWORD = 'At-Rest-Relay-Password-5e2a';
const CLIENT_SECRET = 'At-Rest-Client-Secret-b81d';
const MAILBOX = 'alerts@example.com';

let dataDir: string;
let runtime: LocalRuntime;
let relay: SmtpTestServer;
let provider: OAuthTestProvider;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${runtime.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    body: text.startsWith('{') ? JSON.parse(text) : undefined,
  };
}

const smtp = (auth: Record<string, unknown>) => ({
  host: relay.host,
  port: relay.port,
  encryption: 'starttls',
  verifyCertificate: false,
  auth,
});
const passwordBody = () => ({
  sender: `Appliance <${MAILBOX}>`,
  smtp: smtp({ type: 'password', username: USERNAME, password: PASSWORD }),
  adminContacts: 'ops@example.com',
});
const oauthBody = () => ({
  sender: `Appliance <${MAILBOX}>`,
  smtp: smtp({
    type: 'oauth2',
    provider: 'custom',
    clientId: 'at-rest-client',
    clientSecret: CLIENT_SECRET,
    scopes: 'https://mail.example.test/smtp.send offline_access',
    authorizationEndpoint: provider.authorizationEndpoint,
    tokenEndpoint: provider.tokenEndpoint,
  }),
  adminContacts: 'ops@example.com',
});

/** Every secret that went into the runtime: the two the admin typed, and every token the provider issued. */
function secrets(): string[] {
  const issued = provider.issuedSecrets();
  expect(issued.length).toBeGreaterThan(0);
  return [PASSWORD, CLIENT_SECRET, ...issued];
}

/** The database's files as bytes: notifier.db and, while it is open, its -wal and -shm. */
async function databaseFiles(): Promise<Map<string, Buffer>> {
  const names = (await readdir(dataDir)).filter((name) => name.startsWith('notifier.db'));
  return new Map(
    await Promise.all(names.map(async (name) => [name, await readFile(join(dataDir, name))] as const)),
  );
}

function expectNoSecretIn(files: Map<string, Buffer>): void {
  expect(files.has('notifier.db')).toBe(true);
  for (const [name, bytes] of files) {
    for (const secret of secrets()) {
      for (const form of [secret, Buffer.from(secret).toString('base64')]) {
        if (bytes.includes(form)) throw new Error(`${name} contains a secret (${secret.slice(0, 4)}...)`);
      }
    }
  }
}

function startRuntime(): Promise<LocalRuntime> {
  return startLocalRuntime({
    port: 0,
    dataDir,
    dailyNoticeTime: 'off',
    log: createLogger({ logLevel: 'SILENT' }),
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'secrets-at-rest-'));
  provider = await startOAuthProvider({ email: MAILBOX });
  relay = await startSmtpTestServer({
    mode: 'starttls',
    auth: (attempt) => {
      if (attempt.method === 'XOAUTH2') {
        const claims = attempt.accessToken ? provider.verifyAccessToken(attempt.accessToken) : undefined;
        return claims && attempt.username === MAILBOX
          ? { user: MAILBOX }
          : { reply: '535 5.7.3 Authentication unsuccessful' };
      }
      return attempt.username === USERNAME && attempt.password === PASSWORD
        ? { user: USERNAME }
        : { reply: '535 5.7.8 Authentication credentials invalid' };
    },
  });
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.close();
  await relay?.close();
  await provider?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('secrets at rest in the embedded runtime', () => {
  it('saves a password, an OAuth2 client secret and a grant; the database files hold none of them', async () => {
    const saved = await api('PUT', '/clusters/relay-pw/email-config?sendTestEmail=true', passwordBody());
    await api('PUT', '/clusters/relay-oauth/email-config', oauthBody());
    // The OAuth2 redirect flow, as a browser follows it.
    const start = await api('GET', '/clusters/relay-oauth/oauth/authorize');
    const signIn = await fetch(start.location ?? '', { redirect: 'manual' });
    const back = new URL(signIn.headers.get('location') ?? '');
    const callback = await fetch(`${runtime.url}${back.pathname}${back.search}`);
    const oauthTest = await api('POST', '/clusters/relay-oauth/email-config/test');
    const pw = await api('GET', '/clusters/relay-pw/email-config');
    const oauth = await api('GET', '/clusters/relay-oauth/email-config');
    const files = await databaseFiles();

    expect(saved.status).toBe(201);
    expect(saved.body.testEmail).toMatchObject({ ok: true });
    expect(await callback.text()).toContain('OAuth2 authorized');
    expect(oauthTest.body).toMatchObject({ ok: true });
    expect(relay.messages.map((m) => m.user)).toEqual([USERNAME, MAILBOX]);
    expect(pw.body.smtp.auth).toEqual({ type: 'password', username: USERNAME, passwordSet: true });
    expect(oauth.body.smtp.auth).toMatchObject({ clientSecretSet: true });
    expect(oauth.body.oauth).toMatchObject({ status: 'authorized', authorizedAs: MAILBOX });
    expect(files.has('notifier.db-wal')).toBe(true);
    expectNoSecretIn(files);
  });

  it('holds each secret as a sealed envelope, the rest of the rows as readable JSON', async () => {
    const db = new Database(join(dataDir, 'notifier.db'), { readonly: true });
    try {
      const configs = db
        .prepare('SELECT document FROM email_config ORDER BY cluster_id')
        .pluck()
        .all() as string[];
      const versions = db.prepare('SELECT document FROM config_version').pluck().all() as string[];
      const grants = db.prepare('SELECT grant_json FROM oauth_grant').pluck().all() as string[];
      const [oauthConfig, pwConfig] = configs.map((text) => JSON.parse(text));
      const [grant] = grants.map((text) => JSON.parse(text));

      expect(pwConfig.config.smtp.auth).toMatchObject({
        type: 'password',
        username: USERNAME,
        password: {
          enc: 'v1',
          kid: expect.stringMatching(/^[0-9a-f]{12}$/),
          iv: expect.any(String),
          ct: expect.any(String),
        },
      });
      expect(oauthConfig.config.smtp.auth).toMatchObject({
        clientId: 'at-rest-client',
        clientSecret: { enc: 'v1' },
      });
      expect(grant).toMatchObject({
        status: 'authorized',
        authorizedAs: MAILBOX,
        refreshToken: { enc: 'v1' },
      });
      expect(versions.length).toBeGreaterThanOrEqual(2);
      for (const text of [...configs, ...versions, ...grants]) {
        for (const secret of secrets()) expect(text).not.toContain(secret);
      }
    } finally {
      db.close();
    }
  });

  it('keeps the key apart from the database, 0600; after a restart the secrets still authenticate', async () => {
    await runtime.close();
    const closed = await databaseFiles();
    runtime = await startRuntime();
    relay.reset();

    const pwTest = await api('POST', '/clusters/relay-pw/email-config/test');
    const oauthTest = await api('POST', '/clusters/relay-oauth/email-config/test');
    const key = await stat(join(dataDir, 'secrets.key'));

    expectNoSecretIn(closed);
    expect(key.mode & 0o777).toBe(0o600);
    expect(pwTest.body).toMatchObject({ ok: true });
    expect(oauthTest.body).toMatchObject({ ok: true });
    expect(relay.messages.map((m) => m.user)).toEqual([USERNAME, MAILBOX]);
    expectNoSecretIn(await databaseFiles());
  });
});

function runBin(
  bin: 'local' | 'config',
  args: string[],
  env: Record<string, string>,
  dir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      ...env,
    };
    delete childEnv.NODE_OPTIONS;
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin', `${bin}.ts`), ...args],
      { cwd: ROOT, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
const runStart = (env: Record<string, string>, dir: string) => runBin('local', [], env, dir);

describe('npm start with a SECRETS_KEY it cannot use', () => {
  it('refuses a malformed key, and a key the database was not encrypted with, in one line each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secrets-key-start-'));
    try {
      // A database whose secrets are sealed with one key (the runtime above's key file is elsewhere).
      const keyA = randomBytes(32).toString('hex');
      const seeded = await startLocalRuntime({
        port: 0,
        dataDir: dir,
        dailyNoticeTime: 'off',
        secrets: { key: keyA },
        log: createLogger({ logLevel: 'SILENT' }),
      });
      await fetch(`${seeded.url}/clusters/seeded/email-config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${seeded.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(passwordBody()),
      });
      await seeded.close();

      const malformed = await runStart({ SECRETS_KEY: 'not-a-key' }, dir);
      const wrong = await runStart({ SECRETS_KEY: randomBytes(32).toString('base64') }, dir);
      const missing = await runStart({}, dir);

      expect(malformed.code).toBe(EXIT.usage);
      expect(malformed.stderr).toMatch(
        /^npm start: invalid environment: SECRETS_KEY: must be 32 bytes as 64 hex digits or base64 .*\n/,
      );
      expect(wrong.code).toBe(EXIT.failed);
      expect(wrong.stderr).toMatch(
        /^npm start: .* is encrypted with key id [0-9a-f]{12}, but the key in use \(SECRETS_KEY\)/,
      );
      expect(missing.code).toBe(EXIT.failed);
      expect(missing.stderr).toMatch(
        /^npm start: the database holds secrets encrypted with key id [0-9a-f]{12}, but SECRETS_KEY is not set/,
      );
      for (const run of [malformed, wrong, missing]) expect(run.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('npm run config -- export|import --local with SECRETS_KEY', () => {
  it('exports the secrets decrypted with the key, refuses without it; the restored database seals them', async () => {
    const source = await mkdtemp(join(tmpdir(), 'secrets-export-'));
    const target = await mkdtemp(join(tmpdir(), 'secrets-import-'));
    try {
      const key = randomBytes(32).toString('base64');
      const seeded = await startLocalRuntime({
        port: 0,
        dataDir: source,
        dailyNoticeTime: 'off',
        secrets: { key },
        log: createLogger({ logLevel: 'SILENT' }),
      });
      const put = await fetch(`${seeded.url}/clusters/exported/email-config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${seeded.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(passwordBody()),
      });
      await seeded.close();
      const file = join(source, 'backup.json');

      const withoutKey = await runBin('config', ['export', '--local'], {}, source);
      const exported = await runBin(
        'config',
        ['export', '--local', '--out', file],
        { SECRETS_KEY: key },
        source,
      );
      const imported = await runBin('config', ['import', '--local', '--file', file], {}, target);
      const restored = await readFile(join(target, 'notifier.db'));
      const wal = await readFile(join(target, 'notifier.db-wal')).catch(() => Buffer.alloc(0));

      expect(put.status).toBe(201);
      expect(withoutKey.code).toBe(EXIT.failed);
      expect(withoutKey.stderr.trim().split('\n')).toHaveLength(1);
      expect(withoutKey.stderr).toMatch(/but SECRETS_KEY is not set and the key file .* does not exist/);
      expect(exported.code).toBe(0);
      expect(JSON.parse(await readFile(file, 'utf8')).clusters[0].document.config.smtp.auth.password).toBe(
        PASSWORD,
      );
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('exported: created');
      expect(restored.includes(PASSWORD)).toBe(false);
      expect(wal.includes(PASSWORD)).toBe(false);
      expect((await stat(join(target, 'secrets.key'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(source, { recursive: true, force: true });
      await rm(target, { recursive: true, force: true });
    }
  }, 90_000);
});
