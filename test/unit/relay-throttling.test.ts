// Which relay replies are a relay's limit (back the relay off, wait, count no attempt) and which
// are an ordinary temporary failure.
import { describe, expect, it } from '@jest/globals';
import {
  CONNECTION_LIMIT_BACK_OFF_MS,
  RATE_LIMIT_BACK_OFF_MS,
  throttlingWaitMs,
} from '../../functions/adapters/smtp/throttling.js';

describe('throttling replies', () => {
  it.each([
    [
      432,
      '4.3.2',
      'Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending',
      CONNECTION_LIMIT_BACK_OFF_MS,
    ],
    [
      421,
      '4.4.2',
      'Message submission rate for this client has exceeded the configured limit',
      RATE_LIMIT_BACK_OFF_MS,
    ],
    [421, '4.7.0', 'Try again later, closing connection.', RATE_LIMIT_BACK_OFF_MS],
    [450, '4.7.1', 'Client host rejected: too fast', RATE_LIMIT_BACK_OFF_MS],
    [451, '4.7.0', 'Temporary rate limit, try again in 2 minutes', 120_000],
    [450, '4.2.1', 'Peak SMTP relay limit exceeded for this customer', RATE_LIMIT_BACK_OFF_MS],
    [421, undefined, 'Too many concurrent connections from this client', CONNECTION_LIMIT_BACK_OFF_MS],
  ])('%s %s %s: wait %s ms', (code, enhanced, text, waitMs) => {
    expect(throttlingWaitMs(code, enhanced, text)).toBe(waitMs);
  });

  it.each([
    [421, '4.3.2', 'Service not available, closing transmission channel'],
    [451, '4.3.0', 'Try again later'],
    [451, '4.4.1', 'Connection timed out'],
    [550, '5.7.1', 'Rate limit exceeded'],
    [535, '5.7.139', 'Authentication unsuccessful'],
    [undefined, undefined, 'connect ECONNREFUSED'],
  ])('%s %s %s: not throttling', (code, enhanced, text) => {
    expect(throttlingWaitMs(code, enhanced, text)).toBeUndefined();
  });
});
