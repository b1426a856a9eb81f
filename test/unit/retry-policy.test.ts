import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  hasAttemptsLeft,
  RETRY_POLICY,
  retryDelaySeconds,
} from '../../functions/core/notify/retry-policy.js';

const totalWait = (random: () => number) => {
  let seconds = 0;
  for (let attempt = 1; hasAttemptsLeft(attempt); attempt++) seconds += retryDelaySeconds(attempt, random);
  return seconds;
};

describe('the retry policy', () => {
  it('keeps retrying for at least 24 hours before dead-lettering, even with the shortest jitter', () => {
    expect(totalWait(() => 0)).toBeGreaterThanOrEqual(24 * 3600);
  });

  it('backs off exponentially from 30 s to a cap of one hour', () => {
    const noJitter = () => 1 - Number.EPSILON;

    expect(retryDelaySeconds(1, noJitter)).toBe(30);
    expect(retryDelaySeconds(2, noJitter)).toBe(60);
    expect(retryDelaySeconds(20, noJitter)).toBe(RETRY_POLICY.maxDelaySeconds);
  });

  it('draws every delay within [floor, 1] of the exponential delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: RETRY_POLICY.maxAttempts }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          const full = retryDelaySeconds(attempt, () => 1 - Number.EPSILON);
          const delay = retryDelaySeconds(attempt, () => r);
          return delay >= Math.floor(full * RETRY_POLICY.jitterFloor) && delay <= full;
        },
      ),
    );
  });
});
