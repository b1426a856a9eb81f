import * as z from 'zod';

// The expiry date an admin copies next to a secret (Entra ID shows it on the client secret,
// a relay's password policy knows it). Free of other imports: the config schema reaches it.

/**
 * `2027-06-30` (read as the start of that day, UTC: the earlier reading, so a warning is never
 * late) or a date and time with an offset. A date in the past is accepted: the credential
 * health then says the secret has expired.
 */
export const ExpiryDateSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be an ISO date like 2027-06-30 or a date and time like 2027-06-30T12:00:00Z',
});

/** The instant an entered expiry stands for (a date alone is 00:00 UTC of that day). */
export function expiryInstant(entered: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(entered) ? `${entered}T00:00:00Z` : entered);
}
