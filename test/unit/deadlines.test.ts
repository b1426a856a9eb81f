// The deadlines against the limits around them: a send that outlived the claim lease on its
// event could be sent twice, and a test email that outlived API Gateway would answer 504/500
// instead of the diagnosis.
import { describe, expect, it } from '@jest/globals';
import {
  API_GATEWAY_TIMEOUT_MS,
  formatSeconds,
  SEND_DEADLINE_MS,
  TEST_EMAIL_DEADLINE_MS,
} from '../../functions/core/mail/deadlines.js';
import { DEFAULT_LEASE_MS } from '../../functions/core/notify/notify-service.js';
import { DEFAULT_FUNCTION_TIMEOUTS } from '../../lib/notifier-function.js';

describe('the send deadlines', () => {
  it('end a send before the notify lease on its event expires', () => {
    expect(SEND_DEADLINE_MS).toBeLessThan(DEFAULT_LEASE_MS);
  });

  it('end a send before the notify function times out', () => {
    expect(SEND_DEADLINE_MS).toBeLessThan(DEFAULT_FUNCTION_TIMEOUTS.notify.toMilliseconds());
  });

  it('answer the test email before the admin API function and API Gateway give up', () => {
    const adminApiTimeoutMs = DEFAULT_FUNCTION_TIMEOUTS.adminApi.toMilliseconds();
    expect(TEST_EMAIL_DEADLINE_MS).toBeLessThan(adminApiTimeoutMs);
    expect(adminApiTimeoutMs).toBeLessThan(API_GATEWAY_TIMEOUT_MS);
    expect(TEST_EMAIL_DEADLINE_MS).toBeLessThan(SEND_DEADLINE_MS);
  });

  it('read as seconds in messages', () => {
    expect(formatSeconds(SEND_DEADLINE_MS)).toBe('60 s');
    expect(formatSeconds(350)).toBe('0.35 s');
  });
});
