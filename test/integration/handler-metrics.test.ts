// The custom metrics the dashboard and the alarms read: notify counts an event that waits for a
// relay's limit (RelayThrottled) and not one that waits for its group email; the daily notice
// counts the notices a run had to send (DailyNoticeDue), which DailyNoticeNotSent needs above
// zero before it can breach. The notify service tells the two waits apart (embedded ledger).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { loadSample } from '../../events/samples.js';
import type { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import type { DailyNoticeRun } from '../../functions/core/daily-notice/daily-notice-service.js';
import { DeliveryError, type Mailer } from '../../functions/core/mail/mailer.js';
import type { EventQueue } from '../../functions/core/notify/event-queue.js';
import { NotifyService, RetryableNotifyError } from '../../functions/core/notify/notify-service.js';
import { createDailyNoticeHandler, DailyNoticeRetryError } from '../../functions/daily-notice/app.js';
import { createNotifyHandler } from '../../functions/notify/app.js';
import { createLogger } from '../../functions/shared/logger.js';
import { METRIC_NAMES } from '../../functions/shared/metric-names.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';
import { sqsEvent, sqsMessage } from '../../local-runtime/sqs-event.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { openSqliteLedger } from '../support/sqlite-ledger.js';

const CLUSTER = 'metrics';
const log = createLogger({ logLevel: 'CRITICAL' as 'ERROR' });

/** Real Powertools metrics; the names and values added are recorded, nothing is printed. */
function recordingMetrics() {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  const added: Array<[string, number]> = [];
  jest.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    added.push([name, value]);
    return metrics;
  });
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  return { metrics, added };
}

const queue: EventQueue = { retryLater: async () => undefined, deadLetter: async () => undefined };

describe('notify: RelayThrottled', () => {
  const handlerFailingWith = (error: Error) => {
    const { metrics, added } = recordingMetrics();
    const handler = createNotifyHandler({
      service: {
        handle: async () => {
          throw error;
        },
      },
      log,
      metrics,
      queue,
    });
    return { handler, added };
  };

  it('counts an event that waits for a relay limit, and no retry', async () => {
    const { handler, added } = handlerFailingWith(
      new RetryableNotifyError("waiting for the relay's limit", 40, { wait: true, waitingFor: 'relay' }),
    );
    await handler(sqsEvent(sqsMessage({})), localContext('notify'));
    expect(added).toEqual([[METRIC_NAMES.relayThrottled, 1]]);
  });

  it('does not count an event waiting for its group email', async () => {
    const { handler, added } = handlerFailingWith(
      new RetryableNotifyError('waiting for the group email', 30, { wait: true, waitingFor: 'group' }),
    );
    await handler(sqsEvent(sqsMessage({})), localContext('notify'));
    expect(added).toEqual([]);
  });

  it('a temporary failure is a retry, not a relay throttle', async () => {
    const { handler, added } = handlerFailingWith(new RetryableNotifyError('relay down', 60));
    await handler(sqsEvent(sqsMessage({})), localContext('notify'));
    expect(added).toEqual([[METRIC_NAMES.notificationRetried, 1]]);
  });
});

describe('notify service: what an event waits for', () => {
  let directory: string;
  let ledger: SqliteLedger;
  let close: () => Promise<void>;
  let stored: StoredEmailConfig;
  const now = new Date('2026-12-01T10:00:00.000Z');
  const store: ConfigStore = {
    get: async () => stored,
    put: async () => undefined,
    listClusterIds: async () => [CLUSTER],
    delete: async () => false,
  };
  const relayAtItsLimit: Mailer = {
    send: async () => {
      throw new DeliveryError({
        stage: 'connect',
        message: "waiting for the relay's limit (smtp.limits: 2 messages per minute); next try in 40 s",
        transient: true,
        waitMs: 40_000,
      });
    },
  };
  const service = () =>
    new NotifyService({
      store,
      mailers: { forConfig: async () => relayAtItsLimit },
      ledger,
      clock: () => now,
      log,
    });
  const event = () => {
    const sample = loadSample('primary-check-failed');
    return { ...sample, id: randomUUID(), detail: { ...sample.detail, clusterId: CLUSTER } };
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'handler-metrics-'));
    ({ ledger, close } = await openSqliteLedger(directory, () => now));
  });
  afterEach(async () => {
    await close();
    await rm(directory, { recursive: true, force: true });
  });

  it("a relay's limit: waitingFor relay", async () => {
    stored = storedConfig(CLUSTER, passwordConfig({ password: 'p', grouping: { waitSeconds: 0 } }));
    await expect(service().handle(event())).rejects.toMatchObject({ wait: true, waitingFor: 'relay' });
  });

  it('a group email not due yet: waitingFor group', async () => {
    stored = storedConfig(CLUSTER, passwordConfig({ password: 'p', grouping: { waitSeconds: 30 } }));
    await expect(service().handle(event())).rejects.toMatchObject({ wait: true, waitingFor: 'group' });
  });
});

describe('daily notice: DailyNoticeDue', () => {
  const run = (outcomes: string[], retryable: string[] = []): DailyNoticeRun => ({
    at: '2026-12-01T07:00:00.000Z',
    results: outcomes.map(
      (outcome, i) => ({ clusterId: `c${i}`, outcome }) as DailyNoticeRun['results'][number],
    ),
    retryable,
  });
  const metricsOf = async (outcomes: string[]) => {
    const { metrics, added } = recordingMetrics();
    const handler = createDailyNoticeHandler({
      service: { run: async () => run(outcomes) } as never,
      log,
      metrics,
    });
    await handler({}, localContext('daily-notice'));
    return Object.fromEntries(added);
  };

  it('due: the sent and the failed; not the skipped (notice off) nor the duplicates (already sent today)', async () => {
    expect(await metricsOf(['sent', 'failed', 'duplicate', 'skipped', 'sent'])).toEqual({
      [METRIC_NAMES.dailyNoticeDue]: 3,
      [METRIC_NAMES.dailyNoticeSent]: 2,
      [METRIC_NAMES.dailyNoticeFailed]: 1,
      [METRIC_NAMES.dailyNoticeRetrying]: 0,
    });
  });

  it('a stack without a cluster that has the notice on: due 0, so DailyNoticeNotSent cannot breach', async () => {
    expect(await metricsOf([])).toMatchObject({ [METRIC_NAMES.dailyNoticeDue]: 0 });
    expect(await metricsOf(['skipped', 'skipped'])).toMatchObject({ [METRIC_NAMES.dailyNoticeDue]: 0 });
  });

  it('a temporary failure: counted failed and retrying (the DailyNoticeFailed alarm subtracts it), and the run fails for Lambda to retry', async () => {
    const { metrics, added } = recordingMetrics();
    const handler = createDailyNoticeHandler({
      service: { run: async () => run(['failed', 'failed', 'sent'], ['c0']) } as never,
      log,
      metrics,
    });
    await expect(handler({}, localContext('daily-notice'))).rejects.toBeInstanceOf(DailyNoticeRetryError);
    expect(Object.fromEntries(added)).toEqual({
      [METRIC_NAMES.dailyNoticeDue]: 3,
      [METRIC_NAMES.dailyNoticeSent]: 1,
      [METRIC_NAMES.dailyNoticeFailed]: 2,
      [METRIC_NAMES.dailyNoticeRetrying]: 1,
    });
  });
});
