// Replies by which a relay says "too many connections" or "too fast" rather than "this message
// is wrong" or "I am down": Exchange Online's `432 4.3.2 Concurrent connections limit exceeded`, Exchange
// Server's `421 4.4.2 Message submission rate for this client has exceeded the configured limit`,
// Gmail's `421 4.7.0 Try again later, closing connection` and `450 4.2.1 ... rate limit`,
// Google Workspace's `450 4.2.1 Peak SMTP relay limit exceeded`, `451 4.7.x` rate limits.

/** How long to wait when the reply does not say. */
export const CONNECTION_LIMIT_BACK_OFF_MS = 30_000;
export const RATE_LIMIT_BACK_OFF_MS = 60_000;
/** A relay that asks for more than this is asking for a pause, not pacing; the queue retries then. */
const MAX_BACK_OFF_MS = 15 * 60_000;

const CONNECTION_TEXT =
  /too many (concurrent |simultaneous )?(connections|sessions)|concurrent connections|connection limit/i;
const RATE_TEXT = /rate limit|rate for this client|too many (messages|mails|emails)|limit exceeded|throttl/i;
const HINTED_WAIT = /\b(?:in|after)\s+(\d{1,5})\s*(seconds?|secs?|s|minutes?|mins?|m)\b/i;

/**
 * The back-off a 4xx reply asks for, in milliseconds, when it is a throttling reply; undefined
 * for anything else (a 5xx is never one: it refuses the message for good).
 */
export function throttlingWaitMs(
  code: number | undefined,
  enhancedCode: string | undefined,
  text: string | undefined,
): number | undefined {
  if (code === undefined || code < 400 || code >= 500) return undefined;
  const reply = text ?? '';
  const connections = (code === 432 && enhancedCode === '4.3.2') || CONNECTION_TEXT.test(reply);
  // A bare `421 4.3.2 Service not available` is an outage, not a limit: the retry policy, with
  // its attempts, is the answer to that. A 421 that names a rate (4.4.2, 4.7.x) is a limit.
  const rate =
    ((code === 421 || code === 450 || code === 451) && (enhancedCode?.startsWith('4.7.') ?? false)) ||
    (code === 421 && enhancedCode === '4.4.2') ||
    RATE_TEXT.test(reply);
  if (!connections && !rate) return undefined;
  const hinted = HINTED_WAIT.exec(reply);
  if (hinted?.[1] && hinted[2]) {
    const amount = Number(hinted[1]) * (hinted[2].toLowerCase().startsWith('m') ? 60_000 : 1000);
    if (amount > 0) return Math.min(amount, MAX_BACK_OFF_MS);
  }
  return connections ? CONNECTION_LIMIT_BACK_OFF_MS : RATE_LIMIT_BACK_OFF_MS;
}
