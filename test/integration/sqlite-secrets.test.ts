// Secrets at rest in the embedded database, at the adapters: rows sealed with the key that lives
// apart from notifier.db, plaintext rows of older versions sealed at the next open, key rotation,
// and the refusals (missing key, wrong key, readable key file, altered rows).
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { keyIdOf, SecretDecryptError, SecretsKeyError } from '../../functions/adapters/local/secret-box.js';
import { SqliteConfigHistory } from '../../functions/adapters/local/sqlite-config-history.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { type SqliteDatabase as Db, SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import {
  authorizedGrant,
  microsoftOAuthConfig,
  passwordConfig,
  storedConfig,
} from '../support/config-fixtures.js';

const PASSWORD = 'Sqlite-Relay-Password-1c9e';
const CLIENT_SECRET = 'Sqlite-Client-Secret-77ab';
const REFRESH_TOKEN = 'Sqlite-Refresh-Token-04fd';
const SECRETS = [PASSWORD, CLIENT_SECRET, REFRESH_TOKEN];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sqlite-secrets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withDatabase<T>(
  fn: (db: Db) => Promise<T>,
  secrets?: Parameters<typeof SqliteDatabase.open>[0]['secrets'],
) {
  const database = await SqliteDatabase.open({ directory: dir, ...(secrets ? { secrets } : {}) });
  try {
    return await fn(database);
  } finally {
    database.close();
  }
}

async function saveAll(database: Db): Promise<void> {
  await new SqliteConfigStore(database).put(storedConfig('relay-eu', passwordConfig({ password: PASSWORD })));
  const oauth = storedConfig('o365-eu', microsoftOAuthConfig({ auth: { clientSecret: CLIENT_SECRET } }));
  await new SqliteConfigStore(database).put(oauth);
  await new SqliteConfigHistory(database).append({
    clusterId: 'o365-eu',
    savedAt: '2026-11-28T18:00:00.000Z',
    savedBy: 'test',
    document: oauth,
  });
  await new SqliteGrantStore(database).put('o365-eu', authorizedGrant(REFRESH_TOKEN), undefined);
}

async function readAll(database: Db) {
  const store = new SqliteConfigStore(database);
  const relay = await store.get('relay-eu');
  const oauth = await store.get('o365-eu');
  const [version] = await new SqliteConfigHistory(database).list('o365-eu');
  const grant = (await new SqliteGrantStore(database).get('o365-eu'))?.grant;
  return {
    password: relay?.config.smtp?.auth?.type === 'password' ? relay.config.smtp.auth.password : undefined,
    clientSecret:
      oauth?.config.smtp?.auth?.type === 'oauth2' ? oauth.config.smtp.auth.clientSecret : undefined,
    historySecret:
      version?.document.config.smtp?.auth?.type === 'oauth2'
        ? version.document.config.smtp.auth.clientSecret
        : undefined,
    refreshToken: grant?.refreshToken,
  };
}

const EXPECTED = {
  password: PASSWORD,
  clientSecret: CLIENT_SECRET,
  historySecret: CLIENT_SECRET,
  refreshToken: REFRESH_TOKEN,
};

/** Every secret-bearing column, straight from SQLite. */
function rawRows(database: Db): string[] {
  const { connection } = database;
  return [
    ...connection.prepare<[], string>('SELECT document FROM email_config').pluck().all(),
    ...connection.prepare<[], string>('SELECT document FROM config_version').pluck().all(),
    ...connection.prepare<[], string>('SELECT grant_json FROM oauth_grant').pluck().all(),
  ];
}

/** The key ids the rows' sealed values name. */
function kidsIn(rows: string[]): Set<string> {
  return new Set(rows.flatMap((row) => [...row.matchAll(/"kid":"([0-9a-f]+)"/g)].map((m) => m[1] as string)));
}

describe('the key file', () => {
  it('is created 0600 beside the database, not in it, and seals every secret field of every row', async () => {
    const { rows, atOpen } = await withDatabase(async (database) => {
      await saveAll(database);
      return { rows: rawRows(database), atOpen: database.secretsAtOpen };
    });
    const keyFile = join(dir, 'secrets.key');
    const key = (await readFile(keyFile, 'utf8')).trim();
    const db = await readFile(join(dir, 'notifier.db'));

    expect(atOpen).toEqual({ keyCreated: true, resealed: 0 });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(rows).toHaveLength(4);
    for (const row of rows) for (const secret of SECRETS) expect(row).not.toContain(secret);
    for (const secret of [...SECRETS, key]) expect(db.includes(secret)).toBe(false);
    expect(kidsIn(rows)).toEqual(new Set([keyIdOf(Buffer.from(key, 'base64'))]));
    // The rest stays readable JSON.
    expect(rows.join('\n')).toContain('"username":"relay@example.com"');
    expect(rows.join('\n')).toContain('"status":"authorized"');
    expect(await withDatabase(readAll)).toEqual(EXPECTED);
  });

  it('when lost, refuses to open a database that holds sealed secrets, and makes no new key', async () => {
    await withDatabase(saveAll);
    await unlink(join(dir, 'secrets.key'));

    const open = SqliteDatabase.open({ directory: dir });

    await expect(open).rejects.toThrow(SecretsKeyError);
    await expect(SqliteDatabase.open({ directory: dir })).rejects.toThrow(
      /^the database holds secrets encrypted with key id [0-9a-f]{12}, but SECRETS_KEY is not set and the key file .*secrets\.key does not exist: restore the key file from its backup/,
    );
    await expect(stat(join(dir, 'secrets.key'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a key file other users can read', async () => {
    await withDatabase(saveAll);
    await chmod(join(dir, 'secrets.key'), 0o644);

    await expect(SqliteDatabase.open({ directory: dir })).rejects.toThrow(
      /the secrets key file .*secrets\.key can be read by other users \(mode 644\): chmod 600 it/,
    );
  });

  it('can live elsewhere (SECRETS_KEY_FILE)', async () => {
    const keyDir = await mkdtemp(join(tmpdir(), 'sqlite-secrets-key-'));
    try {
      const keyFile = join(keyDir, 'notifier.key');
      await withDatabase(saveAll, { keyFile });

      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      await expect(stat(join(dir, 'secrets.key'))).rejects.toThrow(/ENOENT/);
      expect(await withDatabase(readAll, { keyFile })).toEqual(EXPECTED);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });
});

describe('SECRETS_KEY and rotation', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);

  it('uses SECRETS_KEY instead of a key file, and refuses another key', async () => {
    await withDatabase(saveAll, { key: keyA.toString('hex') });

    await expect(stat(join(dir, 'secrets.key'))).rejects.toThrow(/ENOENT/);
    expect(await withDatabase(readAll, { key: keyA.toString('base64') })).toEqual(EXPECTED);
    await expect(
      SqliteDatabase.open({ directory: dir, secrets: { key: keyB.toString('hex') } }),
    ).rejects.toThrow(
      new RegExp(
        `is encrypted with key id ${keyIdOf(keyA)}, but the key in use \\(SECRETS_KEY\\) has id ${keyIdOf(keyB)}: set SECRETS_KEY`,
      ),
    );
  });

  it('rotates: with the old key as SECRETS_KEY_PREVIOUS every row is rewritten under the new one at open', async () => {
    await withDatabase(saveAll, { key: keyA.toString('hex') });

    const rotated = await withDatabase(
      async (database) => ({
        values: await readAll(database),
        kids: kidsIn(rawRows(database)),
        atOpen: database.secretsAtOpen,
      }),
      { key: keyB.toString('hex'), previousKey: keyA.toString('hex') },
    );

    expect(rotated.values).toEqual(EXPECTED);
    expect(rotated.kids).toEqual(new Set([keyIdOf(keyB)]));
    expect(rotated.atOpen).toEqual({ keyCreated: false, resealed: 4 });
    // The previous key is no longer needed, and no longer enough.
    expect(await withDatabase(readAll, { key: keyB.toString('hex') })).toEqual(EXPECTED);
    await expect(
      SqliteDatabase.open({ directory: dir, secrets: { key: keyA.toString('hex') } }),
    ).rejects.toThrow(SecretsKeyError);
  });
});

describe('rows of older versions', () => {
  it('reads plaintext rows and seals them at the next open', async () => {
    // An older version wrote the secrets as plaintext JSON.
    await withDatabase(async (database) => {
      const { connection } = database;
      const relay = storedConfig('relay-eu', passwordConfig({ password: PASSWORD }));
      const oauth = storedConfig('o365-eu', microsoftOAuthConfig({ auth: { clientSecret: CLIENT_SECRET } }));
      connection.prepare('INSERT INTO email_config VALUES (?, ?)').run('relay-eu', JSON.stringify(relay));
      connection.prepare('INSERT INTO email_config VALUES (?, ?)').run('o365-eu', JSON.stringify(oauth));
      connection
        .prepare('INSERT INTO config_version VALUES (?, 1, ?, ?, NULL, ?, NULL)')
        .run('o365-eu', '2026-11-28T18:00:00.000Z', 'test', JSON.stringify(oauth));
      connection
        .prepare('INSERT INTO oauth_grant VALUES (?, ?, 1)')
        .run('o365-eu', JSON.stringify(authorizedGrant(REFRESH_TOKEN)));
      // Readable as they are, before they are sealed.
      expect(await readAll(database)).toEqual(EXPECTED);
    });

    const after = await withDatabase(async (database) => ({
      values: await readAll(database),
      rows: rawRows(database),
      resealed: database.secretsAtOpen.resealed,
    }));

    expect(after.values).toEqual(EXPECTED);
    expect(after.rows).toHaveLength(4);
    expect(after.resealed).toBe(4);
    for (const row of after.rows) for (const secret of SECRETS) expect(row).not.toContain(secret);
    // The grant's version is unchanged: resealing is not a write of new content.
    expect(
      await withDatabase(async (database) => (await new SqliteGrantStore(database).get('o365-eu'))?.version),
    ).toBe(1);
  });
});

describe('altered rows', () => {
  it('a flipped byte in a sealed value, or a value moved to another cluster, fails its read clearly', async () => {
    await withDatabase(async (database) => {
      await saveAll(database);
      await new SqliteConfigStore(database).put(
        storedConfig('relay-us', passwordConfig({ password: 'other' })),
      );
      const { connection } = database;
      const select = connection
        .prepare<[string], string>('SELECT document FROM email_config WHERE cluster_id = ?')
        .pluck();
      const update = connection.prepare('UPDATE email_config SET document = ? WHERE cluster_id = ?');
      const relay = JSON.parse(select.get('relay-eu') as string);
      const sealed = relay.config.smtp.auth.password;
      const ct = Buffer.from(sealed.ct, 'base64');
      ct[0] = (ct[0] ?? 0) ^ 0x80;
      update.run(
        JSON.stringify({
          ...relay,
          config: {
            ...relay.config,
            smtp: {
              ...relay.config.smtp,
              auth: { ...relay.config.smtp.auth, password: { ...sealed, ct: ct.toString('base64') } },
            },
          },
        }),
        'relay-eu',
      );
      const us = JSON.parse(select.get('relay-us') as string);
      us.config.smtp.auth.password = sealed;
      update.run(JSON.stringify(us), 'relay-us');

      const store = new SqliteConfigStore(database);

      await expect(store.get('relay-eu')).rejects.toThrow(SecretDecryptError);
      await expect(store.get('relay-eu')).rejects.toThrow(
        /^Stored configuration of cluster "relay-eu" \(in .*notifier\.db\): config\.smtp\.auth\.password cannot be decrypted with key id [0-9a-f]{12}: it was altered/,
      );
      await expect(store.get('relay-us')).rejects.toThrow(/cluster "relay-us" .*cannot be decrypted/);
      // The other rows are unharmed.
      expect((await store.get('o365-eu'))?.clusterId).toBe('o365-eu');
    });
    // An altered row does not keep the database from opening; its reads keep failing.
    await withDatabase(async (database) => {
      await expect(new SqliteConfigStore(database).get('relay-eu')).rejects.toThrow(SecretDecryptError);
      expect((await new SqliteGrantStore(database).get('o365-eu'))?.grant.refreshToken).toBe(REFRESH_TOKEN);
    });
  });
});
