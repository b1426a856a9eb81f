// `npm run config -- export|import --local` as an operator runs it: a backup of one data
// directory, restored into an empty one, gives the same configurations and OAuth2 grants.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import { type OAuthGrant, oauthBindingOf } from '../../functions/core/config/stored-config.js';
import { oauthAuthOf } from '../../functions/core/oauth/oauth-authorization.js';
import { microsoftOAuthConfig, passwordConfig, storedConfig } from '../support/config-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORD = 'backup-relay-password-93d1';
const REFRESH_TOKEN = 'backup-refresh-token-5a7c';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runConfig(args: string[], dataDir: string): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin', 'config.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, NODE_OPTIONS: '' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const oauthConfig = microsoftOAuthConfig({ sender: 'alerts@example.com', auth: { clientSecret: 'cs-1' } });
const auth = oauthAuthOf(oauthConfig);
if (!auth) throw new Error('fixture is not oauth2');
const grant: OAuthGrant = {
  status: 'authorized',
  refreshToken: REFRESH_TOKEN,
  authorizedAt: '2026-12-01T10:00:00.000Z',
  binding: oauthBindingOf(auth),
};

async function snapshot(dataDir: string) {
  const database = await SqliteDatabase.open({ directory: dataDir });
  try {
    const store = new SqliteConfigStore(database);
    const grants = new SqliteGrantStore(database);
    const ids = await store.listClusterIds();
    return await Promise.all(
      ids.map(async (id) => ({ id, document: await store.get(id), grant: (await grants.get(id))?.grant })),
    );
  } finally {
    database.close();
  }
}

let work: string;
let source: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'config-backup-'));
  source = join(work, 'source');
  const database = await SqliteDatabase.open({ directory: source });
  await new SqliteConfigStore(database).put(storedConfig('relay-eu', passwordConfig({ password: PASSWORD })));
  await new SqliteConfigStore(database).put(storedConfig('o365-eu', oauthConfig));
  await new SqliteGrantStore(database).put('o365-eu', grant, undefined);
  database.close();
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('npm run config --local', () => {
  it('export -> empty data directory -> import gives the same configurations and grants', async () => {
    // Prepare
    const file = join(work, 'backup.json');
    const target = join(work, 'restored');

    // Act
    const exported = await runConfig(['export', '--local', '--out', file], source);
    const dryRun = await runConfig(['import', '--local', '--file', file, '--dry-run'], target);
    const afterDryRun = await snapshot(target);
    const imported = await runConfig(['import', '--local', '--file', file], target);

    // Assess
    expect(exported).toMatchObject({ code: 0, stdout: '' });
    expect(exported.stderr).toContain('holds every secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain(REFRESH_TOKEN);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('o365-eu: would create (valid, with its OAuth2 grant)');
    expect(afterDryRun).toEqual([]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('relay-eu: created');
    expect(imported.stdout).toContain('o365-eu: created (with its OAuth2 grant)');
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect((await snapshot(target)).find((c) => c.id === 'o365-eu')?.grant).toEqual(grant);
  }, 90_000);

  it('reports each cluster and exits non-zero when one document is invalid', async () => {
    // Prepare
    const file = join(work, 'broken.json');
    const exported = await runConfig(['export', '--local'], source);
    const backup = JSON.parse(exported.stdout);
    backup.clusters[0].document.config.sender = 'not an address';
    await writeFile(file, JSON.stringify(backup), { mode: 0o600 });
    const target = join(work, 'partly');

    // Act
    const imported = await runConfig(['import', '--local', '--file', file], target);

    // Assess
    expect(exported.code).toBe(0);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toMatch(
      new RegExp(`${backup.clusters[0].clusterId}: invalid \\(document\\.config\\.sender`),
    );
    expect(imported.stdout).toContain(`${backup.clusters[1].clusterId}: created`);
    expect((await snapshot(target)).map((c) => c.id)).toEqual([backup.clusters[1].clusterId]);
  }, 90_000);
});
