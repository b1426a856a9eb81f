// The fleet overview service: every configured cluster once, at most N records read per cluster,
// a cluster that cannot be read listed as failing (not dropped), one deleted meanwhile left out.
import { describe, expect, it } from '@jest/globals';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import { EmailConfigService } from '../../functions/core/config/email-config-service.js';
import { FleetOverviewService } from '../../functions/core/fleet/fleet-overview-service.js';
import type { DeliveryLedger, ListOptions } from '../../functions/core/notify/delivery-ledger.js';
import type { GrantStore } from '../../functions/core/oauth/grant-store.js';
import { createLogger } from '../../functions/shared/logger.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { recordOf } from '../support/ledger-fixtures.js';
import { memoryConfigHistory } from '../support/memory-config-history.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const log = createLogger({ logLevel: 'SILENT' as 'ERROR' });

describe('FleetOverviewService', () => {
  it('reads each cluster once with a bounded ledger read, lists an unreadable one as failing, skips a deleted one', async () => {
    // Prepare
    const documents = new Map(
      ['ok-1', 'broken'].map((id) => [id, storedConfig(id, passwordConfig({ password: 'x' }))]),
    );
    const store: ConfigStore = {
      get: async (id) => {
        if (id === 'broken')
          throw new Error('SSM parameter /x/broken/email-config holds an invalid configuration');
        return documents.get(id);
      },
      put: async () => undefined,
      delete: async () => false,
      // "gone" was deleted after the listing.
      listClusterIds: async () => ['broken', 'gone', 'ok-1'],
    };
    const grants: GrantStore = {
      get: async () => undefined,
      put: async () => 1,
      delete: async () => undefined,
    };
    const reads: Array<[string, ListOptions]> = [];
    const ledger = {
      list: async (clusterId: string, options: ListOptions) => {
        reads.push([clusterId, options]);
        return [recordOf({ clusterId, eventId: `${clusterId}-1`, at: NOW.toISOString() })];
      },
    } as unknown as DeliveryLedger;
    const history = memoryConfigHistory();
    await history.putLastTest('ok-1', { ok: true, at: NOW.toISOString(), of: { stored: true } });
    const emailConfig = new EmailConfigService({
      store,
      grants,
      history,
      mailers: { forConfig: async () => Promise.reject(new Error('no mail in this test')) },
      clock: () => NOW,
      log,
    });
    const fleet = new FleetOverviewService({
      store,
      emailConfig,
      ledger,
      clock: () => NOW,
      log,
      recordsPerCluster: 25,
    });

    // Act
    const overview = await fleet.overview();

    // Assess
    expect(overview.generatedAt).toBe(NOW.toISOString());
    expect(overview.items.map((c) => [c.clusterId, c.health])).toEqual([
      ['broken', 'failing'],
      ['ok-1', 'ok'],
    ]);
    expect(overview.items[0]?.problems[0]).toMatch(/could not be read: SSM parameter/);
    expect(overview.items[0]?.findings).toEqual([{ code: 'unreadable' }]);
    expect(overview.items[1]?.findings).toEqual([]);
    expect(reads.every(([, options]) => options.limit === 25)).toBe(true);
    expect(reads.map(([id]) => id).sort()).toEqual(['broken', 'gone', 'ok-1']);
  });
});
