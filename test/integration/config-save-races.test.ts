// Two admins save the same cluster at once: one sets a new password, the other leaves the
// password out (keep the stored one). Before the merge was tied to the history's conditional
// append, the second save could merge the password from before the first and revert it (5 of 20
// rounds). These rounds run the real stores of each deployment (SQLite as two processes on one
// database; SSM with the SDK client answered from a map, as no SSM emulator exists, and the
// history on dynalite), each call delayed by a seeded random few milliseconds so the two saves
// interleave differently in every round.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbConfigHistory } from '../../functions/adapters/aws/dynamodb-config-history.js';
import { DynamoDbGrantStore } from '../../functions/adapters/aws/dynamodb-grant-store.js';
import { SsmConfigStore } from '../../functions/adapters/aws/ssm-config-store.js';
import { SqliteConfigHistory } from '../../functions/adapters/local/sqlite-config-history.js';
import { SqliteConfigStore } from '../../functions/adapters/local/sqlite-config-store.js';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteGrantStore } from '../../functions/adapters/local/sqlite-grant-store.js';
import type { ConfigHistory, ConfigVersion } from '../../functions/core/config/config-history.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import type { MailerFactory } from '../../functions/core/mail/mailer.js';
import type { GrantStore } from '../../functions/core/oauth/grant-store.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { answerFromParameterMap, testSsmClient } from '../support/ssm-parameters.js';

const ROUNDS = 20;
const log = createLogger({ logLevel: 'SILENT' });
const noMailers: MailerFactory = {
  forConfig: () => Promise.reject(new Error('no mail is sent in these tests')),
};

/** mulberry32: a small seeded generator, so every run interleaves the same way. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same object, each of its methods called after 0 to 3 ms. */
function jittered<T extends object>(target: T, random: () => number): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
        return value.apply(object, args);
      };
    },
  });
}

function input(sender: string, password?: string): EmailConfig {
  return EmailConfigInputSchema.parse({
    sender,
    smtp: {
      host: 'smtp.example.com',
      port: 587,
      encryption: 'starttls',
      auth: { type: 'password', username: 'relay@example.com', ...(password ? { password } : {}) },
    },
    adminContacts: 'ops@example.com',
  });
}

interface Ports {
  store: ConfigStore;
  history: ConfigHistory;
  grants: GrantStore;
}

interface Deployment {
  /** Two processes' own adapter instances (two runtimes, two Lambda environments) on one storage. */
  processes(): Promise<[Ports, Ports]>;
  close(): Promise<void>;
}

let dynalite: Dynalite;
const ssm = mockClient(SSMClient);

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  ssm.restore();
  await dynalite?.close();
});

async function localDeployment(): Promise<Deployment> {
  const directory = await mkdtemp(join(tmpdir(), 'save-races-'));
  const databases: SqliteDatabase[] = [];
  const open = async (): Promise<Ports> => {
    const database = await SqliteDatabase.open({ directory });
    databases.push(database);
    return {
      store: new SqliteConfigStore(database),
      history: new SqliteConfigHistory(database),
      grants: new SqliteGrantStore(database),
    };
  };
  return {
    processes: async () => [await open(), await open()],
    close: async () => {
      for (const database of databases) database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function awsDeployment(): Promise<Deployment> {
  answerFromParameterMap(ssm);
  const tableName = await dynalite.createTable();
  const open = (): Ports => ({
    // As deployed: each function caches what it read for a while.
    store: new SsmConfigStore({
      client: testSsmClient(),
      parameterPrefix: '/appliance-notifier/clusters',
      cacheTtlMs: 30_000,
    }),
    history: new DynamoDbConfigHistory({ client: dynalite.client, tableName }),
    grants: new DynamoDbGrantStore({ client: dynalite.client, tableName }),
  });
  return {
    processes: async () => [open(), open()],
    close: async () => {
      ssm.reset();
    },
  };
}

const deployments: Array<[string, () => Promise<Deployment>]> = [
  ['embedded runtime (SQLite, two processes)', localDeployment],
  ['AWS (SSM + DynamoDB, two functions)', awsDeployment],
];

const passwordOf = (version: ConfigVersion | undefined) => {
  const auth = version?.document.config.smtp?.auth;
  return auth?.type === 'password' ? auth.password : undefined;
};

describe.each(deployments)('concurrent saves of one cluster: %s', (_name, makeDeployment) => {
  let deployment: Deployment | undefined;

  afterEach(async () => {
    await deployment?.close();
  });

  it(`keeps the new password in ${ROUNDS} rounds of a save that sets it racing one that omits it`, async () => {
    // Prepare
    deployment = await makeDeployment();
    const [first, second] = await deployment.processes();
    const random = seeded(20261201);
    let tick = 0;
    const clock = () => new Date(Date.UTC(2026, 11, 1, 12, 0, 0, tick++));
    const service = (ports: Ports) =>
      new EmailConfigService({
        store: jittered(ports.store, random),
        history: jittered(ports.history, random),
        grants: ports.grants,
        mailers: noMailers,
        clock,
        log,
      });
    const setter = service(first);
    const keeper = service(second);
    const outcomes: Array<{
      round: number;
      stored?: string;
      newest?: string;
      storeIsNewest: boolean;
      lastSavedBy?: string;
    }> = [];

    // Act
    for (let round = 1; round <= ROUNDS; round++) {
      const clusterId = `race-${round}`;
      await setter.save(clusterId, input('alerts@example.com', `Old-${round}`), { savedBy: 'setup' });
      await Promise.all([
        setter.save(clusterId, input('alerts@example.com', `New-${round}`), { savedBy: 'setter' }),
        keeper.save(clusterId, input('"Renamed" <alerts@example.com>'), { savedBy: 'keeper' }),
      ]);
      // A fresh process reads what is stored (no cache of either saver).
      const reader = (await deployment.processes())[0];
      const document = await reader.store.get(clusterId);
      const stored = document?.config.smtp?.auth;
      const versions = await reader.history.list(clusterId);
      outcomes.push({
        round,
        storeIsNewest: JSON.stringify(document) === JSON.stringify(versions[0]?.document),
        ...(stored?.type === 'password' && stored.password ? { stored: stored.password } : {}),
        ...(passwordOf(versions[0]) ? { newest: passwordOf(versions[0]) } : {}),
        ...(versions[0] ? { lastSavedBy: versions[0].savedBy } : {}),
      });
      // Every version that left the password out has the password of the version it superseded.
      for (const version of versions) {
        if (version.savedBy !== 'keeper') continue;
        const before = versions.find((item) => item.version === version.version - 1);
        expect({ round, keeper: passwordOf(version) }).toEqual({ round, keeper: passwordOf(before) });
      }
      expect(versions.map((item) => item.savedBy).sort()).toEqual(['keeper', 'setter', 'setup']);
    }

    // Assess: whichever save came last in version order, the new password is what is stored,
    // and the store holds the newest version's document.
    expect(outcomes).toEqual(
      outcomes.map(({ round, lastSavedBy }) => ({
        round,
        stored: `New-${round}`,
        newest: `New-${round}`,
        storeIsNewest: true,
        ...(lastSavedBy ? { lastSavedBy } : {}),
      })),
    );
    // Both orders occurred, so both the retry and the plain path were exercised.
    expect(new Set(outcomes.map((outcome) => outcome.lastSavedBy))).toEqual(new Set(['setter', 'keeper']));
  });
});
