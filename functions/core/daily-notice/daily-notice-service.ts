import type { ConfigStore } from '../config/config-store.js';
import { hintFor } from '../mail/diagnostics.js';
import { DeliveryError, type MailerFactory } from '../mail/mailer.js';
import type { DeliveryLedger, Outcome } from '../notify/delivery-ledger.js';
import type { Clock, Log } from '../ports.js';
import { composeDailyNotice, summarizeDeliveries } from './daily-notice-email.js';

export interface DailyNoticeDeps {
  store: ConfigStore;
  mailers: MailerFactory;
  ledger: DeliveryLedger;
  clock: Clock;
  log: Log;
}

export interface DailyNoticeClusterResult {
  clusterId: string;
  outcome: Outcome | 'skipped' | 'duplicate';
  reason?: string;
  /** For `failed`: a retry may succeed (the schedule's retry sends this cluster's notice again). */
  transient?: boolean;
  messageId?: string;
}

export interface DailyNoticeRun {
  at: string;
  results: DailyNoticeClusterResult[];
  /** Clusters whose notice failed temporarily: the schedule's retry sends only those again. */
  retryable: string[];
}

const DAY_MS = 24 * 60 * 60_000;
/** The most records a summary reads per cluster; a busier day is summarized from the newest. */
const SUMMARY_RECORD_LIMIT = 20_000;

/**
 * The daily "notification works" email: for every cluster with the notice on, a 24-hour
 * summary per condition and the delivery settings in use. One notice per cluster and UTC day
 * (a retried schedule does not send twice); `force` sends again (the admin's "run now").
 */
export class DailyNoticeService {
  constructor(private readonly deps: DailyNoticeDeps) {}

  async run(options: { force?: boolean; clusterIds?: string[] } = {}): Promise<DailyNoticeRun> {
    const now = this.deps.clock();
    const clusterIds = options.clusterIds ?? (await this.deps.store.listClusterIds());
    const results: DailyNoticeClusterResult[] = [];
    for (const clusterId of clusterIds.sort()) {
      results.push(await this.runCluster(clusterId, now, options.force ?? false));
    }
    const retryable = results
      .filter((r) => r.outcome === 'failed' && r.reason?.startsWith('temporary'))
      .map((r) => r.clusterId);
    this.deps.log.info('Daily notice run', {
      clusters: results.length,
      sent: results.filter((r) => r.outcome === 'sent').length,
      failed: results.filter((r) => r.outcome === 'failed').length,
    });
    return { at: now.toISOString(), results, retryable };
  }

  private async runCluster(clusterId: string, now: Date, force: boolean): Promise<DailyNoticeClusterResult> {
    const { ledger, log } = this.deps;
    const stored = await this.deps.store.get(clusterId);
    if (!stored) return { clusterId, outcome: 'skipped', reason: 'no email configuration' };
    if (!stored.config.dailyNotice) return { clusterId, outcome: 'skipped', reason: 'daily notice is off' };

    const day = now.toISOString().slice(0, 10);
    const noticeId = force
      ? `daily-notice:${clusterId}:${now.toISOString()}`
      : `daily-notice:${clusterId}:${day}`;
    const claim = await ledger.claimEvent(noticeId, now, 5 * 60_000);
    if (claim.status !== 'claimed') {
      return {
        clusterId,
        outcome: 'duplicate',
        reason: `today's notice is already ${claim.status === 'duplicate' ? claim.outcome : 'being sent'}`,
      };
    }

    const periodStart = new Date(now.getTime() - DAY_MS);
    const base = {
      clusterId,
      eventId: noticeId,
      condition: 'daily-notice',
      at: now.toISOString(),
      eventTime: now.toISOString(),
    };
    try {
      const records = await ledger.list(clusterId, { since: periodStart, limit: SUMMARY_RECORD_LIMIT });
      const message = composeDailyNotice({
        clusterId,
        config: stored.config,
        now,
        periodStart,
        counts: summarizeDeliveries(records),
        noticeId,
      });
      const mailer = await this.deps.mailers.forConfig(stored.config, { clusterId });
      const receipt = await mailer.send(message);
      await ledger.record({
        ...base,
        outcome: 'sent',
        recipients: receipt.accepted,
        messageId: receipt.messageId,
      });
      await ledger.finishEvent(noticeId, 'sent', now);
      return { clusterId, outcome: 'sent', messageId: receipt.messageId };
    } catch (error) {
      if (!(error instanceof DeliveryError)) {
        await ledger.releaseEvent(noticeId);
        throw error;
      }
      const { failure } = error;
      const hint = hintFor(failure, stored.config);
      const detail = `${failure.stage} failed${failure.code ? ` (${failure.code})` : ''}: ${failure.message}${hint ? ` ${hint}` : ''}`;
      const reason = failure.transient ? `temporary, will be retried: ${detail}` : detail;
      await ledger.record({
        ...base,
        outcome: 'failed',
        reason,
        transient: failure.transient,
        recipients: stored.config.adminContacts,
      });
      if (failure.transient) await ledger.releaseEvent(noticeId);
      else await ledger.finishEvent(noticeId, 'failed', now);
      log.error('Daily notice failed', { clusterId, stage: failure.stage, code: failure.code });
      return { clusterId, outcome: 'failed', reason, transient: failure.transient };
    }
  }
}
