// When a temporarily failed event is tried again: exponential backoff with jitter, capped, and
// enough attempts that retries go on for at least 24 hours (a relay outage overnight) before the
// event is dead-lettered. The same policy drives the SQS queue in AWS (visibility timeout per
// attempt, maxReceiveCount) and the embedded runtime's queue.

export const RETRY_POLICY = {
  /** The delay after the first failed attempt. */
  firstDelaySeconds: 30,
  /** No single wait is longer (SQS allows up to 12 hours of visibility). */
  maxDelaySeconds: 3600,
  /** Each delay is drawn from [jitterFloor, 1] × the exponential delay, so retries of a storm spread out. */
  jitterFloor: 0.75,
  /** Failed attempts in all, the first included; then notify dead-letters the event. */
  maxAttempts: 39,
  /**
   * The queue's maxReceiveCount, a backstop for events notify never finishes: above maxAttempts,
   * because waiting for a group email or for a relay's limit is a receive that is not a failure.
   */
  maxReceives: 100,
} as const;

/**
 * How long to wait after failed attempt `attempt` (1 = the first delivery) before the next one.
 * `random` returns a number in [0, 1).
 */
export function retryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  const { firstDelaySeconds, maxDelaySeconds, jitterFloor } = RETRY_POLICY;
  const exponential = Math.min(maxDelaySeconds, firstDelaySeconds * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (jitterFloor + (1 - jitterFloor) * random()));
}

/**
 * Whether attempt `attempt` failing leaves another attempt, or the event is dead-lettered.
 * `maxAttempts` is the queue's maxReceiveCount (the policy's unless a runtime sets fewer).
 */
export function hasAttemptsLeft(attempt: number, maxAttempts: number = RETRY_POLICY.maxAttempts): boolean {
  return attempt < maxAttempts;
}

/** Where an event stands in its retries, for the delivery log and the admin page. */
export function describeRetry(
  attempt: number,
  nextAttemptAt: Date,
  maxAttempts: number = RETRY_POLICY.maxAttempts,
): string {
  return `temporary failure, attempt ${attempt} of ${maxAttempts}, next retry at ${nextAttemptAt.toISOString()}`;
}

/** How to send dead-lettered events back once the cause is fixed, in AWS and in the embedded runtime. */
export const REPLAY_HINT =
  'replay with `npm run redrive -- --queue <NotifyQueueDlqUrl> --to <NotifyQueueUrl>` (AWS) or `npm run redrive -- --local` (embedded runtime) once the cause is fixed';

/** The last attempt failed: the event goes to the dead-letter queue. */
export function describeGiveUp(attempt: number, at: Date): string {
  return `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} at ${at.toISOString()}: ${REPLAY_HINT}`;
}
