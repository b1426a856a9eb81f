// The page's languages: English and German. The page follows the browser's language until the
// admin picks one with the switch (kept in this browser). Every text comes from messages.ts;
// markup names its message with data-i18n, code names it with t(). Times are shown in the
// viewer's time zone and the page's language everywhere (when()).
import { MESSAGES, type MessageKey, UI_LANGUAGES, type UiLanguage } from './messages.js';

export type { MessageKey, UiLanguage };
export { UI_LANGUAGES };

const LANGUAGE_KEY = 'appliance-notifier.language';

const isUiLanguage = (value: unknown): value is UiLanguage =>
  typeof value === 'string' && (UI_LANGUAGES as readonly string[]).includes(value);

/** The switch's choice, else the browser's first language the page speaks, else English. */
function initialLanguage(): UiLanguage {
  try {
    const chosen = localStorage.getItem(LANGUAGE_KEY);
    if (isUiLanguage(chosen)) return chosen;
  } catch {
    // Storage may be unavailable (privacy settings): the browser's language decides.
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isUiLanguage(base)) return base;
  }
  return 'en';
}

let current: UiLanguage = initialLanguage();
const listeners: Array<() => void> = [];

export const language = (): UiLanguage => current;

/** The locale for numbers and times: the browser's own variant of the page's language. */
export function locale(): string {
  return (
    (navigator.languages ?? [navigator.language]).find((tag) => tag.toLowerCase().startsWith(current)) ??
    (current === 'de' ? 'de-DE' : 'en-US')
  );
}

export type Params = Record<string, string | number>;

/** The message in the page's language, with `{name}` replaced by its parameter. */
export function t(key: MessageKey, params: Params = {}): string {
  const text: string = MESSAGES[current][key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A message that depends on a count: `<key>.one` for 1, `<key>.other` otherwise; `{count}` is the count. */
export function tn(key: string, count: number, params: Params = {}): string {
  const plural = new Intl.PluralRules(current).select(count) === 'one' ? 'one' : 'other';
  return t(`${key}.${plural}` as MessageKey, { count: count.toLocaleString(locale()), ...params });
}

/**
 * Writes a message as text into a node: `code` between backticks and *emphasis* between
 * asterisks become <code> and <em>. Never HTML: the catalog's words only reach textContent.
 */
export function writeRich(node: Element, text: string): void {
  node.textContent = '';
  for (const part of text.split(/(`[^`]+`|\*[^*]+\*)/)) {
    if (!part) continue;
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) {
      const code = document.createElement('code');
      code.textContent = part.slice(1, -1);
      node.append(code);
    } else if (part.startsWith('*') && part.endsWith('*') && part.length > 1) {
      const em = document.createElement('em');
      em.textContent = part.slice(1, -1);
      node.append(em);
    } else {
      node.append(part);
    }
  }
}

const isMessageKey = (key: string): key is MessageKey => key in MESSAGES.en;

/** Every element with data-i18n gets its message (the markup carries no text of its own). */
export function translateStatic(root: ParentNode = document): void {
  for (const node of root.querySelectorAll('[data-i18n]')) {
    const key = node.getAttribute('data-i18n') ?? '';
    if (isMessageKey(key)) writeRich(node, t(key));
  }
  document.documentElement.lang = current;
}

/** Called after the language changed, to render what code wrote (tables, status lines). */
export function onLanguageChange(listener: () => void): void {
  listeners.push(listener);
}

export function setLanguage(next: UiLanguage): void {
  current = next;
  try {
    localStorage.setItem(LANGUAGE_KEY, next);
  } catch {
    // Not kept: the switch still applies to this page.
  }
  translateStatic();
  for (const listener of listeners) listener();
}

export const toUiLanguage = (value: string): UiLanguage | undefined =>
  isUiLanguage(value) ? value : undefined;

/** A time in the page's language and the viewer's time zone (named, so it is never ambiguous). */
export function formatTime(date: Date): string {
  return date.toLocaleString(locale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

/** A day in the page's language (UTC: an entered expiry date is 00:00 UTC of that day). */
export function formatDay(iso: string): string {
  return new Date(iso).toLocaleDateString(locale(), { dateStyle: 'long', timeZone: 'UTC' });
}
