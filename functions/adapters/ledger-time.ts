// Time handling and retention shared by the delivery log adapters.

/** How long a finished event stays a duplicate by default: past the platform's redeliveries and retries. */
export const DEFAULT_CLAIM_TTL_DAYS = 7;
/** How long fold state outlives its window after its last change. */
export const FOLD_RETENTION_AFTER_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Milliseconds since the epoch of a Date or ISO string; an invalid time is an error, not NaN. */
export function millis(value: Date | string, name: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (!Number.isFinite(ms)) throw new Error(`Ledger: ${name} is not a valid time: ${String(value)}`);
  return ms;
}

// Sort keys compare as strings: one canonical form keeps "newest first" and `since` exact.
export function isoOf(value: Date | string, name: string): string {
  return new Date(millis(value, name)).toISOString();
}
