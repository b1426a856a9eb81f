import { formatTime, type Language } from '../functions/kernel/text.js';

interface Unit {
  seconds: number;
  en: [one: string, many: string];
  de: [one: string, many: string];
}

const UNITS: readonly Unit[] = [
  { seconds: 86400, en: ['day', 'days'], de: ['Tag', 'Tage'] },
  { seconds: 3600, en: ['h', 'h'], de: ['Std.', 'Std.'] },
  { seconds: 60, en: ['min', 'min'], de: ['Min.', 'Min.'] },
  { seconds: 1, en: ['s', 's'], de: ['Sek.', 'Sek.'] },
];

/**
 * `4 min 30 s`, `1 day 2 h` / `4 Min. 30 Sek.`, `1 Tag 2 Std.`: the two largest units only,
 * because at night "26 h 3 min" is what matters, not the seconds.
 */
export function formatDuration(totalSeconds: number, language: Language): string {
  let rest = Math.max(0, Math.floor(totalSeconds));
  const parts: string[] = [];
  for (const unit of UNITS) {
    const count = Math.floor(rest / unit.seconds);
    rest -= count * unit.seconds;
    if (count > 0) parts.push(`${count} ${unit[language][count === 1 ? 0 : 1]}`);
    // Adjacent units only: "1 day 2 h", never "1 day 30 s".
    if (parts.length === 2 || (parts.length > 0 && count === 0)) break;
  }
  return parts.length > 0 ? parts.join(' ') : `0 ${UNITS[3]?.[language][1]}`;
}

/**
 * A time, and how long before the observation it was. Relative to `observedAt`, not to "now":
 * the email may be read (or folded, retried) hours later, and the appliance's own clock is the
 * one both times come from.
 */
export function formatTimeBeforeObservation(at: string, observedAt: string, language: Language): string {
  const seconds = Math.round((Date.parse(observedAt) - Date.parse(at)) / 1000);
  const time = formatTime(new Date(at), language);
  const span = formatDuration(Math.abs(seconds), language);
  if (seconds >= 0) {
    return language === 'de'
      ? `${time} (${span} vor der Feststellung)`
      : `${time} (${span} before it was observed)`;
  }
  // A time after the observation means the appliance's clocks disagree: say so instead of hiding it.
  return language === 'de'
    ? `${time} (${span} nach der Feststellung: Uhren der Appliances prüfen)`
    : `${time} (${span} after it was observed: check the appliances' clocks)`;
}

/** `4 min 30 s (28 Nov 2026, 18:11:21 UTC)`: the countdown and the moment it ends. */
export function formatCountdown(seconds: number, from: string, language: Language): string {
  const end = new Date(Date.parse(from) + seconds * 1000);
  return `${formatDuration(seconds, language)} (${formatTime(end, language)})`;
}

export function formatList(values: readonly string[], language: Language): string {
  return values.length > 0 ? values.join(', ') : language === 'de' ? 'keine' : 'none';
}
