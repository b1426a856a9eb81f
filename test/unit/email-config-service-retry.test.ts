// A save whose conditional append loses the version number to a concurrent save merges again
// from that save. With a test email, what is stored is what was tested: the test is sent again
// only when the new merge changed the configuration (a kept password that another save replaced).
import { describe, expect, it } from '@jest/globals';
import type { ConfigHistory, NewConfigVersion } from '../../functions/core/config/config-history.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { type EmailConfig, EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import type { MailerFactory } from '../../functions/core/mail/mailer.js';
import type { GrantStore } from '../../functions/core/oauth/grant-store.js';
import { createLogger } from '../../functions/shared/logger.js';
import { memoryConfigHistory } from '../support/memory-config-history.js';

const CLUSTER = 'retry';
const log = createLogger({ logLevel: 'SILENT' });

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

function memoryStore(): ConfigStore {
  const documents = new Map<string, StoredEmailConfig>();
  return {
    get: async (clusterId) => documents.get(clusterId),
    put: async (document) => {
      documents.set(document.clusterId, document);
    },
    listClusterIds: async () => [...documents.keys()],
    delete: async (clusterId) => documents.delete(clusterId),
  };
}

const noGrants: GrantStore = {
  get: async () => undefined,
  put: () => Promise.reject(new Error('no grant in these tests')),
  delete: () => Promise.reject(new Error('no grant in these tests')),
};

/** A mailer that delivers and records the password of every configuration it sent with. */
function recordingMailers(sentWith: Array<string | undefined>): MailerFactory {
  return {
    forConfig: async (config) => ({
      send: async (message) => {
        const auth = config.smtp?.auth;
        sentWith.push(auth?.type === 'password' ? auth.password : undefined);
        return {
          messageId: '<t@example.com>',
          accepted: message.to,
          rejected: [],
          destination: 'smtp://test',
        };
      },
    }),
  };
}

/** A history whose next append is preceded by `concurrent` (another admin's save). */
function raceOnce(history: ConfigHistory, concurrent: () => Promise<unknown>): ConfigHistory {
  let armed = true;
  return {
    ...history,
    list: (clusterId, limit) => history.list(clusterId, limit),
    append: async (entry: NewConfigVersion, options) => {
      if (armed) {
        armed = false;
        await concurrent();
      }
      return history.append(entry, options);
    },
  };
}

describe('EmailConfigService save that loses the append to a concurrent save', () => {
  it.each([
    [
      'replaced the password',
      () => input('other@example.com', 'Pw-concurrent'),
      'Pw-concurrent',
      ['Pw-1', 'Pw-concurrent'],
    ],
    ['changed another field only', () => input('other@example.com'), 'Pw-1', ['Pw-1']],
  ] as const)(
    'merges again from the save that %s, tests again only if that changed the merge',
    async (_what, concurrentInput, password, tested) => {
      // Prepare
      const store = memoryStore();
      const memory = memoryConfigHistory();
      const sentWith: Array<string | undefined> = [];
      const deps = {
        store,
        grants: noGrants,
        mailers: recordingMailers(sentWith),
        clock: () => new Date(),
        log,
      };
      const other = new EmailConfigService({ ...deps, history: memory });
      await other.save(CLUSTER, input('alerts@example.com', 'Pw-1'), { savedBy: 'setup' });
      const service = new EmailConfigService({
        ...deps,
        history: raceOnce(memory, () => other.save(CLUSTER, concurrentInput(), { savedBy: 'other' })),
      });

      // Act
      const result = await service.saveIfDelivered(CLUSTER, input('alerts@example.com'), { savedBy: 'me' });

      // Assess
      expect(result).toMatchObject({ saved: true, version: 3, testEmail: { ok: true } });
      expect(sentWith).toEqual(tested);
      const stored = (await store.get(CLUSTER))?.config.smtp?.auth;
      expect(stored).toMatchObject({ password });
      const versions = await memory.list(CLUSTER);
      expect(versions.map((v) => [v.version, v.savedBy, v.testEmail?.ok])).toEqual([
        [3, 'me', true],
        [2, 'other', undefined],
        [1, 'setup', undefined],
      ]);
    },
  );
});
