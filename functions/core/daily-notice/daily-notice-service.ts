import { redact } from '../../kernel/text.js';
import type { ConfigStore } from '../config/config-store.js';
import { secretsOf } from '../config/secrets.js';
import { grantMatches, type OAuthGrant, type StoredEmailConfig } from '../config/stored-config.js';
import { type CredentialHealth, credentialHealthOf } from '../credentials/credential-health.js';
import { composeCredentialWarning, dueCredentialWarnings } from '../credentials/credential-warning.js';
import { SEND_DEADLINE_MS, TOKEN_REQUEST_TIMEOUT_MS } from '../mail/deadlines.js';
import { type EgressMode, hintFor } from '../mail/diagnostics.js';
import { DeliveryError, type MailerFactory, type SendReceipt } from '../mail/mailer.js';
import type { DeliveryLedger, Outcome } from '../notify/delivery-ledger.js';
import { type GrantStore, withGrant } from '../oauth/grant-store.js';
import type { Clock, Log } from '../ports.js';
import { composeDailyNotice, summarizeDeliveries } from './daily-notice-email.js';

export interface DailyNoticeDeps {
  store: ConfigStore;
  mailers: MailerFactory;
  ledger: DeliveryLedger;
  clock: Clock;
  log: Log;
  /** How many clusters are served at once (DAILY_NOTICE_CONCURRENCY by default). */
  concurrency?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): emails link the cluster's admin page; none without it. */
  publicBaseUrl?: string;
  /** The OAuth2 grants, for the credential health line (and warnings); without it only entered expiries count. */
  grants?: GrantStore;
  /** Days ahead of a credential's expiry that the notice warns (DEFAULT_CREDENTIAL_WARNING_DAYS). */
  credentialWarningDays?: number;
}

export interface DailyNoticeClusterResult {
  clusterId: string;
  outcome: Outcome | 'skipped' | 'duplicate';
  reason?: string;
  /** For `failed`: a retry may succeed (Lambda's retry of the invocation sends this cluster's notice again). */
  transient?: boolean;
  messageId?: string;
  /** The credential warning emails this run sent for the cluster (their ids), when any were due. */
  credentialWarnings?: string[];
}

export interface DailyNoticeRun {
  at: string;
  /** One per cluster, in cluster order. */
  results: DailyNoticeClusterResult[];
  /** Clusters whose notice failed temporarily: Lambda's retry of the invocation sends only those again. */
  retryable: string[];
}

/**
 * Clusters served at once: a slow relay holds up only its own cluster, and a fleet's notices
 * still go out within the function's timeout (each send ends by SEND_DEADLINE_MS), without
 * opening connections to every relay at the same moment.
 */
export const DAILY_NOTICE_CONCURRENCY = 4;

/**
 * The options of one run.
 */
export interface DailyNoticeRunOptions {
  /** Send even where today's notice went out (an admin's "send now"). */
  force?: boolean;
  /**
   * Identifies a forced run across its retries (the Lambda request id, which Lambda keeps when
   * it retries an asynchronous invocation): the retry of a forced run claims the same notices,
   * so it sends only those that failed, not every cluster's again.
   */
  runId?: string;
  clusterIds?: string[];
  /**
   * How much of the invocation is left (the Lambda context's getRemainingTimeInMillis). Without
   * it, a run is not limited (the embedded runtime).
   */
  remainingMs?: () => number;
}

/**
 * What a cluster's notice may take once begun: the configuration read, the claim and the day's
 * summary, an OAuth2 token request, a send and the ledger writes after it. A cluster is begun
 * only with at least this much of the invocation left; otherwise it fails temporarily without a
 * claim, the invocation fails, and Lambda's retry sends it.
 */
export const CLUSTER_START_MIN_MS = 5_000 + TOKEN_REQUEST_TIMEOUT_MS + 15_000 + 10_000;

/**
 * What a send leaves of the invocation: the ledger writes after it and the handler's metrics.
 * A send's deadline is SEND_DEADLINE_MS or what is left of the invocation less this, whichever
 * is shorter, so a relay that is slow at the end of a run ends the send, not the invocation.
 */
export const SEND_FINISH_MARGIN_MS = 10_000;

/** A send always gets at least this long, even when the steps before it used up the budget. */
const MIN_SEND_DEADLINE_MS = 1_000;

/**
 * How long a claim on today's notice keeps other runs (Lambda's retries, a concurrent
 * "send now") out: longer than a send may take (SEND_DEADLINE_MS), so a notice being sent is
 * never sent again by a run that thinks its claim expired.
 */
export const NOTICE_LEASE_MS = 5 * 60_000;

const DAY_MS = 24 * 60 * 60_000;
/** The most records a summary reads per cluster; a busier day is summarized from the newest. */
const SUMMARY_RECORD_LIMIT = 20_000;
/** Enough of an unexpected error's message to know what happened, not a page of it. */
const MAX_ERROR_TEXT = 300;

/** What the cluster's notice was doing when it failed, for the reason an admin reads. */
type Step = 'config' | 'claim' | 'summary' | 'compose' | 'send';

const STEP_FAILED: Record<Step, string> = {
  config: 'the stored email configuration could not be read',
  claim: 'the delivery log could not be reached to claim today’s notice',
  summary: 'the last 24 hours could not be read from the delivery log',
  compose: 'the notice could not be composed',
  send: 'the notice could not be sent',
};

/**
 * The daily "notification works" email: for every cluster with the notice on, a 24-hour
 * summary per condition and the delivery settings in use. One notice per cluster and UTC day
 * (a retried run does not send twice); `force` sends again (the admin's "run now").
 * Clusters are independent: a configuration that cannot be read, a slow relay or a bug in one
 * cluster's notice is that cluster's failure, and the others are served all the same.
 */
export class DailyNoticeService {
  private readonly concurrency: number;

  constructor(private readonly deps: DailyNoticeDeps) {
    const concurrency = deps.concurrency ?? DAILY_NOTICE_CONCURRENCY;
    this.concurrency = Number.isFinite(concurrency) ? Math.max(1, Math.floor(concurrency)) : 1;
  }

  async run(options: DailyNoticeRunOptions = {}): Promise<DailyNoticeRun> {
    const now = this.deps.clock();
    const force = options.force ?? false;
    const remaining = options.remainingMs;
    const clusterIds = [...(options.clusterIds ?? (await this.deps.store.listClusterIds()))].sort();
    const results = await mapBounded(clusterIds, this.concurrency, (clusterId) => {
      const left = remaining?.();
      if (left !== undefined && left < CLUSTER_START_MIN_MS)
        return Promise.resolve(this.notStarted(clusterId, left));
      const noticeId = force
        ? `daily-notice:${clusterId}:${options.runId ? `run:${options.runId}` : now.toISOString()}`
        : `daily-notice:${clusterId}:${now.toISOString().slice(0, 10)}`;
      return this.serve(clusterId, noticeId, now, remaining)
        .catch((error: unknown) => this.lastResort(clusterId, error))
        .then(async (result) => {
          const left = remaining?.();
          if (left !== undefined && left < CLUSTER_START_MIN_MS) return result;
          const warnings = await this.credentialWarnings(clusterId, now);
          return warnings.length > 0 ? { ...result, credentialWarnings: warnings } : result;
        });
    });
    const retryable = results.filter((r) => r.outcome === 'failed' && r.transient).map((r) => r.clusterId);
    const count = (outcome: DailyNoticeClusterResult['outcome']) =>
      results.filter((r) => r.outcome === outcome).length;
    this.deps.log.info('Daily notice run', {
      clusters: results.length,
      sent: count('sent'),
      failed: count('failed'),
      duplicate: count('duplicate'),
      skipped: count('skipped'),
      retryable,
    });
    return { at: now.toISOString(), results, retryable };
  }

  /** One cluster's notice; every failure becomes this cluster's result, recorded in the ledger. */
  private async serve(
    clusterId: string,
    noticeId: string,
    now: Date,
    remaining: (() => number) | undefined,
  ): Promise<DailyNoticeClusterResult> {
    const { ledger } = this.deps;
    let step: Step = 'config';
    let stored: StoredEmailConfig | undefined;
    let claimed = false;
    let receipt: SendReceipt;
    try {
      stored = await this.deps.store.get(clusterId);
      if (!stored) return { clusterId, outcome: 'skipped', reason: 'no email configuration' };
      if (!stored.config.dailyNotice) return { clusterId, outcome: 'skipped', reason: 'daily notice is off' };

      step = 'claim';
      const claim = await ledger.claimEvent(noticeId, now, NOTICE_LEASE_MS);
      if (claim.status !== 'claimed') {
        return {
          clusterId,
          outcome: 'duplicate',
          reason: `today's notice is already ${claim.status === 'duplicate' ? claim.outcome : 'being sent'}`,
        };
      }
      claimed = true;

      step = 'summary';
      const periodStart = new Date(now.getTime() - DAY_MS);
      const records = await ledger.list(clusterId, { since: periodStart, limit: SUMMARY_RECORD_LIMIT });
      step = 'compose';
      const health = await this.credentialHealthOf(clusterId, stored, now);
      const message = composeDailyNotice({
        clusterId,
        config: stored.config,
        now,
        periodStart,
        counts: summarizeDeliveries(records),
        noticeId,
        ...(this.deps.publicBaseUrl ? { publicBaseUrl: this.deps.publicBaseUrl } : {}),
        ...(health ? { credentialHealth: health } : {}),
      });
      step = 'send';
      const mailer = await this.deps.mailers.forConfig(stored.config, { clusterId });
      const left = remaining?.();
      receipt = await mailer.send(
        message,
        left === undefined
          ? {}
          : {
              deadlineMs: Math.max(
                MIN_SEND_DEADLINE_MS,
                Math.min(SEND_DEADLINE_MS, left - SEND_FINISH_MARGIN_MS),
              ),
            },
      );
    } catch (error) {
      return this.failed({ clusterId, noticeId, now, step, stored, claimed, error });
    }
    return this.sent(clusterId, noticeId, now, receipt);
  }

  /** The cluster's credential health, with its grant when a grant store is given. */
  private async credentialHealthOf(
    clusterId: string,
    stored: StoredEmailConfig,
    now: Date,
  ): Promise<CredentialHealth | undefined> {
    // The notice matters more than its credential line: without the grant it goes out all the same.
    const grant = await this.grantOf(clusterId);
    return credentialHealthOf(
      withGrant(stored, grant && { grant, version: 0 }),
      now,
      this.deps.credentialWarningDays,
    );
  }

  /**
   * The credential warnings due for the cluster, each sent once: claimed in the ledger under its
   * deterministic id, finished `sent` once it went out, released after a failure so the next run
   * tries again. Whether or not the daily notice is on: an expiring secret matters either way.
   * Never fails the cluster's result; a failure is logged.
   */
  private async credentialWarnings(clusterId: string, now: Date): Promise<string[]> {
    const { ledger, log } = this.deps;
    const sent: string[] = [];
    try {
      const stored = await this.deps.store.get(clusterId);
      if (!stored) return sent;
      const grant = await this.grantOf(clusterId);
      const document = withGrant(stored, grant && { grant, version: 0 });
      const due = dueCredentialWarnings({
        clusterId,
        config: stored.config,
        grant: document.oauth && grantMatches(document.oauth, stored.config) ? document.oauth : undefined,
        now,
        ...(this.deps.credentialWarningDays !== undefined
          ? { warningDays: this.deps.credentialWarningDays }
          : {}),
      });
      for (const warning of due) {
        const claim = await ledger.claimEvent(warning.id, now, NOTICE_LEASE_MS);
        if (claim.status !== 'claimed') continue;
        try {
          const message = composeCredentialWarning({
            clusterId,
            config: stored.config,
            warning,
            now,
            ...(this.deps.publicBaseUrl ? { publicBaseUrl: this.deps.publicBaseUrl } : {}),
          });
          const mailer = await this.deps.mailers.forConfig(stored.config, { clusterId });
          await mailer.send(message, { deadlineMs: SEND_DEADLINE_MS });
        } catch (error) {
          await ledger.releaseEvent(warning.id);
          log.warn('Credential warning not sent; the next run tries again', {
            clusterId,
            warning: warning.id,
            error: redact(errorText(error), secretsOf(stored)),
          });
          continue;
        }
        await ledger.finishEvent(warning.id, 'sent', now);
        log.info('Credential warning sent', { clusterId, warning: warning.id });
        sent.push(warning.id);
      }
    } catch (error) {
      log.error('Credential warnings could not be handled', { clusterId, error: errorText(error) });
    }
    return sent;
  }

  private async grantOf(clusterId: string): Promise<OAuthGrant | undefined> {
    if (!this.deps.grants) return undefined;
    try {
      return (await this.deps.grants.get(clusterId))?.grant;
    } catch (error) {
      this.deps.log.warn('Daily notice: the OAuth2 grant could not be read', {
        clusterId,
        error: errorText(error),
      });
      return undefined;
    }
  }

  /** The email went out: whatever the ledger says now, the claim is not given back (no resend). */
  private async sent(
    clusterId: string,
    noticeId: string,
    now: Date,
    receipt: SendReceipt,
  ): Promise<DailyNoticeClusterResult> {
    const { ledger, log } = this.deps;
    const problems: string[] = [];
    try {
      await ledger.record({
        clusterId,
        eventId: noticeId,
        condition: 'daily-notice',
        outcome: 'sent',
        recipients: receipt.accepted,
        messageId: receipt.messageId,
        at: now.toISOString(),
        receivedAt: now.toISOString(),
        eventTime: now.toISOString(),
      });
    } catch (error) {
      problems.push(`not recorded in the delivery log (${errorText(error)})`);
    }
    try {
      await ledger.finishEvent(noticeId, 'sent', now);
    } catch (error) {
      // The claim stays until its lease ends, which keeps Lambda's retries from resending.
      problems.push(`not marked finished (${errorText(error)})`);
    }
    if (problems.length > 0) {
      log.error('Daily notice sent, but the delivery log failed', { clusterId, problems });
      return {
        clusterId,
        outcome: 'sent',
        messageId: receipt.messageId,
        reason: `sent, ${problems.join('; ')}`,
      };
    }
    return { clusterId, outcome: 'sent', messageId: receipt.messageId };
  }

  private async failed(facts: {
    clusterId: string;
    noticeId: string;
    now: Date;
    step: Step;
    stored: StoredEmailConfig | undefined;
    claimed: boolean;
    error: unknown;
  }): Promise<DailyNoticeClusterResult> {
    const { clusterId, noticeId, now, step, stored, claimed, error } = facts;
    const { ledger, log } = this.deps;
    let detail: string;
    let transient: boolean;
    if (error instanceof DeliveryError && stored) {
      const { failure } = error;
      const hint = hintFor(failure, stored.config, this.deps.egress);
      detail = `${failure.stage} failed${failure.code ? ` (${failure.code})` : ''}: ${failure.message}${hint ? ` ${hint}` : ''}`;
      transient = failure.transient;
      log.error('Daily notice failed', { clusterId, stage: failure.stage, code: failure.code, transient });
    } else {
      detail = `${STEP_FAILED[step]}: ${redact(errorText(error), secretsOf(stored))}`;
      transient = mayPassOnRetry(error);
      log.error('Daily notice failed', { clusterId, step, transient, error });
    }
    const reason = transient ? `temporary, will be retried: ${detail}` : detail;
    try {
      await ledger.record({
        clusterId,
        eventId: noticeId,
        condition: 'daily-notice',
        outcome: 'failed',
        reason,
        transient,
        recipients: stored?.config.adminContacts ?? [],
        at: now.toISOString(),
        receivedAt: now.toISOString(),
        eventTime: now.toISOString(),
      });
      if (claimed) {
        // A temporary failure gives the claim back for Lambda's retry; a permanent one is
        // finished `failed`, which a later run (once the cause is fixed) may claim again.
        if (transient) await ledger.releaseEvent(noticeId);
        else await ledger.finishEvent(noticeId, 'failed', now);
      }
    } catch (ledgerError) {
      // The result still reports the failure; an unreleased claim ends with its lease.
      log.error('Daily notice failure could not be recorded', { clusterId, error: ledgerError });
    }
    return { clusterId, outcome: 'failed', reason, transient };
  }

  /**
   * Too little of the invocation left to begin this cluster's notice: nothing claimed or sent,
   * a temporary failure, so the invocation fails and Lambda's retry sends it.
   */
  private notStarted(clusterId: string, leftMs: number): DailyNoticeClusterResult {
    this.deps.log.warn('Daily notice not started: the invocation is nearly over', { clusterId, leftMs });
    return {
      clusterId,
      outcome: 'failed',
      reason: `temporary, will be retried: not started, only ${Math.max(0, Math.floor(leftMs / 1000))} s of the invocation were left`,
      transient: true,
    };
  }

  /** Only if reporting a failure failed itself: the cluster is still reported, never the run aborted. */
  private lastResort(clusterId: string, error: unknown): DailyNoticeClusterResult {
    this.deps.log.error('Daily notice failed unexpectedly', { clusterId, error });
    const transient = mayPassOnRetry(error);
    const detail = `the notice failed unexpectedly: ${errorText(error)}`;
    return {
      clusterId,
      outcome: 'failed',
      reason: transient ? `temporary, will be retried: ${detail}` : detail,
      transient,
    };
  }
}

/** Runs `task` on every item, at most `limit` at once; the results in the items' order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
]);

/**
 * Whether a retry may help, by the marks the ports' adapters leave on their errors (the AWS
 * SDK's `$retryable`, server faults and throttling; Node's network and resource codes). A
 * configuration that does not validate, or a bug, fails the same way next time: not transient.
 */
function mayPassOnRetry(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (e.$retryable || e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  return typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}
