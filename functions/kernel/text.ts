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
  return `${dateTimeFormat(language, 'dateTime').format(date)} UTC`;
}

// Creating an Intl formatter costs far more than formatting with one: keep one per kind.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached UTC formatter: `dateTime` (date and time, medium) or `date` (date only). */
export function dateTimeFormat(language: Language, kind: 'dateTime' | 'date'): Intl.DateTimeFormat {
  const key = `${language}:${kind}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(language === 'de' ? 'de-DE' : 'en-GB', {
      dateStyle: 'medium',
      ...(kind === 'dateTime' ? { timeStyle: 'medium' } : {}),
      timeZone: 'UTC',
    });
    formatters.set(key, format);
  }
  return format;
}
