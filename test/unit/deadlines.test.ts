// The deadlines against the limits around them: a send that outlived the claim lease on its
// event could be sent twice, and a test email that outlived API Gateway would answer 504/500
// instead of the diagnosis.
import { describe, expect, it } from '@jest/globals';
import {
  CLUSTER_START_MIN_MS,
  NOTICE_LEASE_MS,
  SEND_FINISH_MARGIN_MS,
} from '../../functions/core/daily-notice/daily-notice-service.js';
import {
  API_GATEWAY_TIMEOUT_MS,
  formatSeconds,
  GRAPH_REQUEST_TIMEOUT_MS,
  SEND_DEADLINE_MS,
  SMTP_PHASE_TIMEOUTS_MS,
  TEST_EMAIL_DEADLINE_MS,
  TOKEN_REQUEST_TIMEOUT_MS,
} from '../../functions/core/mail/deadlines.js';
import type { Mailer, SendOptions } from '../../functions/core/mail/mailer.js';
import { sendTestEmail } from '../../functions/core/mail/test-email.js';
import { DEFAULT_LEASE_MS } from '../../functions/core/notify/notify-service.js';
import { createLogger } from '../../functions/shared/logger.js';
import { DEFAULT_FUNCTION_TIMEOUTS } from '../../lib/notifier-function.js';
import { LOCAL_FUNCTION_TIMEOUTS_MS } from '../../local-runtime/api-gateway-event.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';

describe('the send deadlines', () => {
  it('end a send before the notify lease on its event expires', () => {
    expect(SEND_DEADLINE_MS).toBeLessThan(DEFAULT_LEASE_MS);
  });

  it('end a send before the notify function times out', () => {
    expect(SEND_DEADLINE_MS).toBeLessThan(DEFAULT_FUNCTION_TIMEOUTS.notify.toMilliseconds());
  });

  it('end a daily notice before its claim expires and before the daily notice function times out', () => {
    expect(SEND_DEADLINE_MS).toBeLessThan(NOTICE_LEASE_MS);
    expect(SEND_DEADLINE_MS).toBeLessThan(DEFAULT_FUNCTION_TIMEOUTS.dailyNotice.toMilliseconds());
  });

  it('answer the test email before the admin API function and API Gateway give up', () => {
    const adminApiTimeoutMs = DEFAULT_FUNCTION_TIMEOUTS.adminApi.toMilliseconds();
    expect(TEST_EMAIL_DEADLINE_MS).toBeLessThan(adminApiTimeoutMs);
    expect(adminApiTimeoutMs).toBeLessThan(API_GATEWAY_TIMEOUT_MS);
    expect(TEST_EMAIL_DEADLINE_MS).toBeLessThan(SEND_DEADLINE_MS);
  });

  it('end every SMTP phase timeout before the send deadline and before every function times out', () => {
    const shortestFunctionMs = Math.min(
      ...Object.values(DEFAULT_FUNCTION_TIMEOUTS).map((timeout) => timeout.toMilliseconds()),
    );
    expect(shortestFunctionMs).toBe(DEFAULT_FUNCTION_TIMEOUTS.adminApi.toMilliseconds());
    for (const [phase, ms] of Object.entries(SMTP_PHASE_TIMEOUTS_MS)) {
      expect([phase, ms < SEND_DEADLINE_MS, ms < shortestFunctionMs]).toEqual([phase, true, true]);
    }
    expect(TOKEN_REQUEST_TIMEOUT_MS).toBeLessThan(shortestFunctionMs);
  });

  it('end a Microsoft Graph request before the send deadline and before every function times out', () => {
    const shortestFunctionMs = Math.min(
      ...Object.values(DEFAULT_FUNCTION_TIMEOUTS).map((timeout) => timeout.toMilliseconds()),
    );
    expect(GRAPH_REQUEST_TIMEOUT_MS).toBeLessThan(SEND_DEADLINE_MS);
    expect(GRAPH_REQUEST_TIMEOUT_MS).toBeLessThan(shortestFunctionMs);
    expect(TOKEN_REQUEST_TIMEOUT_MS + GRAPH_REQUEST_TIMEOUT_MS).toBeLessThan(
      DEFAULT_FUNCTION_TIMEOUTS.notify.toMilliseconds(),
    );
  });

  it('fit an OAuth2 token request and a whole send into one notify invocation', () => {
    expect(TOKEN_REQUEST_TIMEOUT_MS + SEND_DEADLINE_MS).toBeLessThan(
      DEFAULT_FUNCTION_TIMEOUTS.notify.toMilliseconds(),
    );
  });

  it('fit the test email, its token request included, before the admin API function times out', () => {
    expect(TOKEN_REQUEST_TIMEOUT_MS).toBeLessThan(TEST_EMAIL_DEADLINE_MS);
    expect(TEST_EMAIL_DEADLINE_MS).toBeLessThan(DEFAULT_FUNCTION_TIMEOUTS.adminApi.toMilliseconds());
  });

  it('begin a daily notice cluster only with room for a token request, a send and the ledger writes', () => {
    expect(CLUSTER_START_MIN_MS).toBeGreaterThan(TOKEN_REQUEST_TIMEOUT_MS + SEND_FINISH_MARGIN_MS);
    expect(CLUSTER_START_MIN_MS).toBeLessThan(DEFAULT_FUNCTION_TIMEOUTS.dailyNotice.toMilliseconds());
    // A send's deadline is what is left less this margin (see daily-notice-isolation.test.ts).
    expect(SEND_FINISH_MARGIN_MS).toBeLessThan(SEND_DEADLINE_MS);
  });

  it('give a local invocation as long as the deployed function has', () => {
    expect(LOCAL_FUNCTION_TIMEOUTS_MS).toEqual({
      'admin-api': DEFAULT_FUNCTION_TIMEOUTS.adminApi.toMilliseconds(),
      notify: DEFAULT_FUNCTION_TIMEOUTS.notify.toMilliseconds(),
      'daily-notice': DEFAULT_FUNCTION_TIMEOUTS.dailyNotice.toMilliseconds(),
    });
  });

  it('read as seconds in messages', () => {
    expect(formatSeconds(SEND_DEADLINE_MS)).toBe('60 s');
    expect(formatSeconds(350)).toBe('0.35 s');
  });
});

describe('the test email deadline', () => {
  /** The deadline each send was given, after `setupMs` went by getting the mailer (a token request). */
  async function deadlineGiven(setupMs: number, deadlineMs?: number): Promise<number | undefined> {
    let now = Date.parse('2026-11-28T03:00:00Z');
    const given: SendOptions[] = [];
    const mailer: Mailer = {
      send: async (message, options = {}) => {
        given.push(options);
        return { messageId: '<m@x>', accepted: message.to, rejected: [], destination: 'test' };
      },
    };
    await sendTestEmail(
      {
        mailers: {
          forConfig: async () => {
            now += setupMs;
            return mailer;
          },
        },
        clock: () => new Date(now),
        log: createLogger({ logLevel: 'SILENT' }),
        ...(deadlineMs !== undefined ? { deadlineMs } : {}),
      },
      storedConfig('c1', passwordConfig({ password: 'pw' })),
    );
    return given[0]?.deadlineMs;
  }

  it('gives the send the test email deadline', async () => {
    expect(await deadlineGiven(0)).toBe(TEST_EMAIL_DEADLINE_MS);
  });

  it('covers the OAuth2 token request too: the send gets what is left', async () => {
    expect(await deadlineGiven(8_000)).toBe(TEST_EMAIL_DEADLINE_MS - 8_000);
  });

  it('still lets the send try briefly when the token request took it all', async () => {
    expect(await deadlineGiven(25_000)).toBe(1_000);
    expect(await deadlineGiven(900, 300)).toBe(300);
  });
});
