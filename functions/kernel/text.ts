/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export const REDACTED = '[redacted]';

/**
 * Replaces every occurrence of each secret (and its base64 form, as SMTP AUTH sends it) with
 * `[redacted]`, longest first so that a secret inside a longer one leaves nothing visible.
 * Values shorter than 4 characters are skipped: redacting "a" would shred the text and
 * protect nothing.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = secrets
    .filter((secret) => secret.length >= 4)
    .flatMap((secret) => [secret, Buffer.from(secret).toString('base64')])
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) out = out.split(form).join(REDACTED);
  return out;
}

export type Language = 'en' | 'de';

/** `28 Nov 2026, 18:06:51 UTC` / `28.11.2026, 18:06:51 UTC`: an unambiguous time for a reader at 3 a.m. */
export function formatTime(date: Date, language: Language): string {
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map(twoDigits).join(':');
  return `${formatDate(date, language)}, ${time} UTC`;
}

// The month names of en-GB's medium date style (CLDR: "Sept", not "Sep").
const EN_GB_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];
const twoDigits = (value: number) => String(value).padStart(2, '0');

/**
 * `28 Nov 2026` / `28.11.2026`: the UTC date as Intl's medium date style writes it for en-GB and
 * de-DE. Written out by hand: the first Intl.DateTimeFormat a process creates loads ICU's locale
 * data, tens of milliseconds of a cold start for a handful of fixed formats, and the output no
 * longer depends on the runtime's ICU version.
 */
export function formatDate(date: Date, language: Language): string {
  const day = date.getUTCDate();
  const month = date.getUTCMonth();
  const year = date.getUTCFullYear();
  return language === 'de'
    ? `${twoDigits(day)}.${twoDigits(month + 1)}.${year}`
    : `${day} ${EN_GB_MONTHS[month]} ${year}`;
}
