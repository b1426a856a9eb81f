import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../functions/adapters/local/atomic-file.js';
import { FileConfigStore } from '../../functions/adapters/local/file-config-store.js';
import {
  type StoredEmailConfig,
  StoredEmailConfigSchema,
} from '../../functions/core/config/stored-config.js';

const SECRET = 'file-store-secret-password';

function storedDocument(clusterId: string, n = 0): StoredEmailConfig {
  return StoredEmailConfigSchema.parse({
    schemaVersion: 1,
    clusterId,
    updatedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    config: {
      sender: `appliance-${n}@example.com`,
      transport: 'smtp',
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        encryption: 'starttls',
        auth: { type: 'password', username: 'relay@example.com', password: SECRET },
      },
      adminContacts: [`ops-${n}@example.com`],
    },
  });
}

let root: string;
let directory: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-config-store-'));
  directory = join(root, 'data', 'config');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FileConfigStore', () => {
  it('returns what it stored', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });
    const document = storedDocument('prod-eu');

    // Act
    await store.put(document);
    const result = await new FileConfigStore({ directory }).get('prod-eu');

    // Assess
    expect(result).toEqual(document);
  });

  it('returns undefined for a cluster without a file, and lists nothing before the first save', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });

    // Act
    const result = await store.get('unconfigured');
    const ids = await store.listClusterIds();

    // Assess
    expect(result).toBeUndefined();
    expect(ids).toEqual([]);
  });

  it('keeps the file readable by its owner only (0600, directory 0700)', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });

    // Act
    await store.put(storedDocument('prod-eu'));

    // Assess
    const file = await stat(join(directory, 'prod-eu.json'));
    const dir = await stat(directory);
    expect(file.mode & 0o777).toBe(0o600);
    expect(dir.mode & 0o777).toBe(0o700);
  });

  it('leaves one complete document and no temp files after 50 concurrent saves', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });
    const documents = Array.from({ length: 50 }, (_, n) => storedDocument('busy', n));

    // Act
    await Promise.all(documents.map((document) => store.put(document)));

    // Assess
    expect(await readdir(directory)).toEqual(['busy.json']);
    const stored = await store.get('busy');
    expect(documents).toContainEqual(stored);
    // In-process saves are serialized, so the last call is the one that stays.
    expect(stored).toEqual(documents.at(-1));
  });

  it('keeps the file a valid document when writers do not coordinate (as separate processes)', async () => {
    // Prepare: bypass the in-process lock, as a second process would.
    await new FileConfigStore({ directory }).put(storedDocument('shared', 0));
    const file = join(directory, 'shared.json');
    const documents = Array.from({ length: 50 }, (_, n) => storedDocument('shared', n + 1));

    // Act
    await Promise.all(
      documents.map((document) => writeFileAtomic(file, `${JSON.stringify(document, null, 2)}\n`)),
    );

    // Assess
    expect(await readdir(directory)).toEqual(['shared.json']);
    expect(documents).toContainEqual(JSON.parse(await readFile(file, 'utf8')));
  });

  it('lists clusters from the file names, ignoring temp and foreign files', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });
    await store.put(storedDocument('beta'));
    await store.put(storedDocument('alpha'));
    await writeFile(join(directory, '.alpha.json.0123456789ab.tmp'), '{');
    await writeFile(join(directory, 'notes.txt'), 'not a config');

    // Act
    const ids = await store.listClusterIds();

    // Assess
    expect(ids).toEqual(['alpha', 'beta']);
  });

  it('names the file and the field issues of a corrupt document, without the secret', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });
    await store.put(storedDocument('prod-eu'));
    const file = join(directory, 'prod-eu.json');
    const document = JSON.parse(await readFile(file, 'utf8'));
    document.config.adminContacts = [];
    await writeFile(file, JSON.stringify(document));

    // Act
    const error = await store.get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('config.adminContacts');
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('reports a file that is not JSON without quoting it', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });
    await store.put(storedDocument('prod-eu'));
    const file = join(directory, 'prod-eu.json');
    await writeFile(file, `{"password": "${SECRET}"`);

    // Act
    const error = await store.get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toBe(`Stored configuration ${file} is not valid JSON`);
  });

  it('refuses a cluster id that would leave the directory', async () => {
    // Prepare
    const store = new FileConfigStore({ directory });

    // Act
    const get = store.get('../../etc/passwd');

    // Assess
    await expect(get).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
