import { NotFoundError } from '../../kernel/field-issues.js';
import type { ConfigStore } from '../config/config-store.js';
import type { EmailConfigService } from '../config/email-config-service.js';
import { toPublicConfig } from '../config/public-config.js';
import { credentialHealthOf, sendEvidenceOf } from '../credentials/credential-health.js';
import type { DeliveryLedger } from '../notify/delivery-ledger.js';
import type { Clock, Log } from '../ports.js';
import {
  type ClusterHealth,
  clusterHealth,
  compareHealth,
  FLEET_LEDGER_READ_LIMIT,
} from './cluster-health.js';

export interface FleetOverviewDeps {
  store: ConfigStore;
  emailConfig: EmailConfigService;
  ledger: DeliveryLedger;
  clock: Clock;
  log: Log;
  /** Records read per cluster (FLEET_LEDGER_READ_LIMIT by default). */
  recordsPerCluster?: number;
  /** Clusters read at once. */
  concurrency?: number;
  /** Days ahead of a credential's expiry that it is a warning (DEFAULT_CREDENTIAL_WARNING_DAYS). */
  credentialWarningDays?: number;
}

/** One cluster the overview could not read: listed as failing with the reason, not left out. */
export interface UnreadableCluster {
  clusterId: string;
  health: 'failing';
  problems: string[];
  /** `problems` as codes: one `unreadable`. */
  findings: [{ code: 'unreadable' }];
}

export interface FleetOverview {
  generatedAt: string;
  /** Unhealthy first, then by cluster id. */
  items: Array<ClusterHealth | UnreadableCluster>;
}

const DEFAULT_CONCURRENCY = 8;

/** `GET /clusters`: every configured cluster with its health, read with bounded work per cluster. */
export class FleetOverviewService {
  constructor(private readonly deps: FleetOverviewDeps) {}

  /** `permitted`: only the clusters it accepts (the caller's own, for an admin of some clusters). */
  async overview(permitted: (clusterId: string) => boolean = () => true): Promise<FleetOverview> {
    const now = this.deps.clock();
    const ids = (await this.deps.store.listClusterIds()).filter(permitted);
    const limit = this.deps.recordsPerCluster ?? FLEET_LEDGER_READ_LIMIT;
    const items: Array<ClusterHealth | UnreadableCluster | undefined> = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const index = next++;
        const clusterId = ids[index] as string;
        items[index] = await this.one(clusterId, limit, now);
      }
    };
    const workers = Math.max(1, Math.min(this.deps.concurrency ?? DEFAULT_CONCURRENCY, ids.length));
    await Promise.all(Array.from({ length: workers }, worker));
    // A cluster deleted while the overview was read is left out.
    const listed = items.filter((item) => item !== undefined).sort(compareHealth);
    return { generatedAt: now.toISOString(), items: listed };
  }

  private async one(
    clusterId: string,
    limit: number,
    now: Date,
  ): Promise<ClusterHealth | UnreadableCluster | undefined> {
    try {
      const [document, lastTestEmail, records] = await Promise.all([
        this.deps.emailConfig.get(clusterId),
        this.deps.emailConfig.lastTest(clusterId),
        this.deps.ledger.list(clusterId, { limit }),
      ]);
      return clusterHealth({
        config: toPublicConfig(
          document,
          credentialHealthOf(
            document,
            now,
            this.deps.credentialWarningDays,
            sendEvidenceOf(records, lastTestEmail),
          ),
        ),
        ...(lastTestEmail ? { lastTestEmail } : {}),
        records,
        limit,
        now,
      });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      this.deps.log.warn('Fleet overview: a cluster could not be read', {
        clusterId,
        error: (error as Error).message,
      });
      return {
        clusterId,
        health: 'failing',
        problems: [`Its configuration or delivery log could not be read: ${(error as Error).message}`],
        findings: [{ code: 'unreadable' }],
      };
    }
  }
}
