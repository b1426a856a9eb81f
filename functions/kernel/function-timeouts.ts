/**
 * Each function's timeout, in one place: the stack deploys them (lib/notifier-function.ts) and the
 * embedded runtime gives a local invocation as long (local-runtime/api-gateway-event.ts), so the
 * handlers that budget by getRemainingTimeInMillis behave the same in both.
 */
export const FUNCTION_TIMEOUTS_MS = {
  /** API Gateway gives up after 30 s. */
  adminApi: 29_000,
  /** A relay that is slow at every stage still finishes; the event lease (300 s) is longer. */
  notify: 120_000,
  /** Sends one notice per cluster in sequence. */
  dailyNotice: 300_000,
} as const;
