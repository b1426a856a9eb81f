// The codes of the fleet overview's health findings (functions/core/fleet/cluster-health.ts).

/**
 * What a health finding is, as a code a page can translate (`problems` has the English
 * sentence). A module of its own, free of imports, so the admin page can import it (cluster-health.ts
 * reaches zod through its types).
 */
export const HEALTH_FINDING_CODES = [
  /** The last test email failed: `stage` is where. */
  'test-email-failed',
  'oauth-needs-authorization',
  /** The newest event failed for now and is retried. */
  'last-event-retrying',
  /** The newest event was not delivered (given up). */
  'last-event-failed',
  /** `count` deliveries failed (for good) in the last 24 hours. */
  'failed-24h',
  'daily-notice-failed',
  'no-test-email',
  /** The relay refused `count` deliveries for now in the last 24 hours. */
  'throttled-24h',
  /** `count` deliveries wait for a retry or a group email. */
  'pending-retries',
  'daily-notice-overdue',
  /** A credential expires in `count` days (within the warning days): `credentialHealth` says which. */
  'credential-expiring',
  /** A credential has expired, or the provider refused it (`credentialHealth.status` `failing`). */
  'credential-expired',
  /** The cluster's stored configuration could not be read (the fleet overview's `UnreadableCluster`). */
  'unreadable',
] as const;
export type HealthFindingCode = (typeof HEALTH_FINDING_CODES)[number];
