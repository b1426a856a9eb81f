// An in-memory ConfigHistory for tests of other concerns (grant races, notify, deadlines) that
// build an EmailConfigService by hand; the real adapters have their contract test.
import {
  CONFIG_HISTORY_LIMIT,
  type ConfigHistory,
  type ConfigVersion,
  ConfigVersionConflictError,
  type TestEmailSummary,
} from '../../functions/core/config/config-history.js';

export function memoryConfigHistory(limit = CONFIG_HISTORY_LIMIT): ConfigHistory {
  const versions = new Map<string, ConfigVersion[]>();
  const lastTests = new Map<string, TestEmailSummary>();
  const of = (clusterId: string) => versions.get(clusterId) ?? [];
  return {
    async append(entry, options = {}) {
      const kept = of(entry.clusterId);
      const newest = kept[0]?.version ?? 0;
      if (options.after !== undefined && options.after !== newest) {
        throw new ConfigVersionConflictError(entry.clusterId, options.after + 1);
      }
      const version = { ...entry, version: (kept[0]?.version ?? 0) + 1 };
      versions.set(entry.clusterId, [version, ...kept].slice(0, limit));
      return version;
    },
    list: async (clusterId, max = limit) => of(clusterId).slice(0, max),
    get: async (clusterId, version) => of(clusterId).find((v) => v.version === version),
    async setTest(clusterId, version, test) {
      const found = of(clusterId).find((v) => v.version === version);
      if (found) found.testEmail = test;
      return Boolean(found);
    },
    async putLastTest(clusterId, test) {
      lastTests.set(clusterId, test);
    },
    lastTest: async (clusterId) => lastTests.get(clusterId),
  };
}
