// Time handling shared by the delivery log adapters.

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
