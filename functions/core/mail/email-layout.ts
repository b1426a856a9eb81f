// What every automatic message shares: headers, the single-line check, the HTML frame and footer.

import { hasControlCharacters } from '../../kernel/header-safety.js';
import { adminPageClusterUrl } from '../../kernel/public-paths.js';
import { escapeHtml, type Language } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import type { OutgoingMessage } from './mailer.js';

/**
 * Headers every automatic message carries: RFC 3834 `Auto-Submitted` for standard auto-responders,
 * and Exchange's own header so Outlook out-of-office replies stay quiet too (bounces still arrive).
 */
export const AUTOMATIC_MESSAGE_HEADERS: Readonly<Record<string, string>> = {
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'OOF, AutoReply',
};

/**
 * The subject and header values must be single lines. The values come from validated input, so a
 * control character here is a defect upstream: refuse to build the message rather than send it.
 */
export function assertHeaderSafe(message: OutgoingMessage): OutgoingMessage {
  const values = [message.subject, message.from, ...message.to, ...Object.values(message.headers ?? {})];
  if (values.some(hasControlCharacters)) {
    throw new Error('refusing to compose a message with control characters in its subject or headers');
  }
  return message;
}

/** From the configured sender to the admin contacts, with the automatic-message headers. */
export function automaticMessage(
  config: EmailConfig,
  content: { subject: string; text: string; html: string },
  headers: Record<string, string>,
): OutgoingMessage {
  return assertHeaderSafe({
    from: config.sender,
    to: config.adminContacts,
    ...content,
    headers: { ...headers, ...AUTOMATIC_MESSAGE_HEADERS },
  });
}

export const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** `4 hours`, `90 minutes`, `7 days` / `4 Stunden`, ...: how admins state a repeat window. */
export function formatInterval(minutes: number, language: Language): string {
  const de = language === 'de';
  if (minutes > 2 * 1440 && minutes % 1440 === 0) {
    return plural(minutes / 1440, de ? 'Tag' : 'day', de ? 'Tagen' : 'days');
  }
  if (minutes % 60 === 0) return plural(minutes / 60, de ? 'Stunde' : 'hour', de ? 'Stunden' : 'hours');
  return plural(minutes, de ? 'Minute' : 'minute', de ? 'Minuten' : 'minutes');
}

export const FONT = 'font-family:Arial,Helvetica,sans-serif';

/**
 * How text wraps in every part of every message: at spaces and at the soft hyphens that
 * `htmlText` puts into long words, never mid-word. `hyphens:auto` is for the clients that
 * hyphenate by `lang` themselves; many do not (Chromium on Linux does not, for one), which is why
 * the soft hyphens are in the text.
 */
export const WRAP =
  'word-break:normal;overflow-wrap:break-word;word-wrap:break-word;-webkit-hyphens:auto;hyphens:auto;';

/** The widest the message gets: on a phone it is the screen's width. */
export const MAX_WIDTH_PX = 600;

export const SOFT_HYPHEN = '\u00ad';

/**
 * Where long words of the messages' fixed wording may break, `|` marking each place. A word of
 * 12 letters or more that is not listed here is left whole (test/unit/email-layout.test.ts
 * lists every such word of every message, so a new one is noticed).
 */
const BREAK_POINTS: Record<Language, readonly string[]> = {
  de: [
    'ab|ge|schlos|sen',
    'ab|ge|schnit|ten',
    'Ak|tu|a|li|sie|ren',
    'an|ge|kün|dig|te',
    'auf|ge|führ|ten',
    'Au|then|ti|fi|zie|rung',
    'au|to|ma|ti|sche',
    'au|to|ma|ti|schen',
    'au|to|ma|ti|scher',
    'Be|nach|rich|ti|gung',
    'Be|nut|zer|na|me',
    'Da|ten|syn|chro|ni|sie|rung',
    'Da|ten|ver|kehrs|kno|ten',
    'de|ak|ti|vie|ren',
    'ein|ge|gan|ge|ne',
    'Ein|stel|lun|gen',
    'er|folg|rei|che',
    'er|folg|rei|chen',
    'feh|ler|haf|tes',
    'Fehl|ge|schla|gen',
    'Fehl|ge|schla|ge|ne',
    'Fest|ge|stellt',
    'Fest|stel|lung',
    'Fol|ge|mel|dung',
    'funk|tio|niert',
    'kon|fi|gu|riert',
    'Netz|werk|ein|stel|lun|gen',
    'Netz|werk|pro|blem',
    'Netz|werk|schnitt|stel|le',
    'nor|ma|li|siert',
    'Pro|dukt|ver|si|on',
    'Pro|dukt|ver|sio|nen',
    'pro|to|kol|liert',
    'Schnitt|stel|le',
    'Si|che|rungs|kno|ten',
    'Si|che|rungs|kno|tens',
    'Si|che|rungs|vor|gän|ge',
    'Syn|chro|ni|sie|ren',
    'Syn|chro|ni|sie|rung',
    'Ta|ges|be|richt',
    'un|ter|bro|chen',
    'un|ter|schei|den',
    'Ver|schlüs|se|lung',
    'vor|ge|se|he|nen',
    'Wahr|schein|lich',
    'Warn|mel|dun|gen',
    'Wie|der|ho|lung',
    'Wie|der|ho|lun|gen',
    'Zu|sam|men|ge|fasst',
    'Zu|stell|ein|stel|lun|gen',
    'Zu|stell|pro|to|koll',
    'Zu|stell|pro|to|kolls',
    'über|ein|stimmt',
  ],
  en: [
    'Au|then|ti|ca|tion',
    'au|to|mat|i|cal|ly',
    'com|mu|ni|ca|tion',
    'con|fig|u|ra|tion',
    'no|ti|fi|ca|tion',
    'un|ex|pect|ed|ly',
    'Un|iden|ti|fi|able',
  ],
};

/** Each listed word, in lower case, and the offsets at which it may break. */
const BREAKS: Record<Language, ReadonlyMap<string, readonly number[]>> = {
  de: breakMap(BREAK_POINTS.de),
  en: breakMap(BREAK_POINTS.en),
};

function breakMap(words: readonly string[]): ReadonlyMap<string, readonly number[]> {
  return new Map(
    words.map((word) => {
      const parts = word.split('|');
      const offsets = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('').length);
      return [parts.join('').toLowerCase(), offsets];
    }),
  );
}

/** The shortest word that gets soft hyphens: shorter ones fit the narrowest column on a phone. */
export const LONG_WORD = 12;

/** A word, as far as breaking goes: a hyphen is a break already (`Test-IP-Adressen`). */
export const WORD_PATTERN = /\p{L}+/gu;

/** `text` with soft hyphens in its long words (the plain-text part stays as it is). */
export function hyphenate(text: string, language: Language): string {
  const breaks = BREAKS[language];
  return text.replace(WORD_PATTERN, (word) => {
    const offsets = word.length >= LONG_WORD ? breaks.get(word.toLowerCase()) : undefined;
    if (!offsets) return word;
    let out = '';
    let from = 0;
    for (const offset of offsets) {
      out += `${word.slice(from, offset)}${SOFT_HYPHEN}`;
      from = offset;
    }
    return out + word.slice(from);
  });
}

/** Text for HTML element content: escaped, with `&shy;` where long words may break. */
export function htmlText(text: string, language: Language): string {
  return escapeHtml(hyphenate(text, language)).replaceAll(SOFT_HYPHEN, '&shy;');
}

/** The link to the cluster on the admin page; absent when the service knows no public URL. */
export interface AdminLink {
  url: string;
  label: string;
}

export function adminLinkFor(
  publicBaseUrl: string | undefined,
  clusterId: string,
  language: Language,
): AdminLink | undefined {
  if (!publicBaseUrl) return undefined;
  return {
    url: adminPageClusterUrl(publicBaseUrl, clusterId),
    label:
      language === 'de'
        ? `Cluster ${clusterId} auf der Admin-Seite öffnen`
        : `Open cluster ${clusterId} on the admin page`,
  };
}

/**
 * The plain-text part's last lines: the admin link (its label, then the address on its own line),
 * the signature separator `-- ` and the footer.
 */
export function textClosing(link: AdminLink | undefined, footer: readonly string[]): string[] {
  return [...(link ? [`${link.label}:`, link.url, ''] : []), '-- ', ...footer, ''];
}

/** The coloured first row: an optional tag (severity) above the heading. */
export interface EmailBanner {
  colour: string;
  tint: string;
  tag?: string;
  heading: string;
}

export interface EmailShell {
  language: Language;
  /** The document's title: the subject. */
  title: string;
  banner: EmailBanner;
  /** The message's own rows (`<tr>…</tr>`, see `htmlRow`), between the banner and the link. */
  rows: readonly string[];
  /** The small print (one line each); names no API path. */
  footer: readonly string[];
  adminLink?: AdminLink;
}

/** One row of the message's column: `content` in a padded cell. */
export function htmlRow(content: string, padding = '16px 16px 0 16px'): string {
  return `<tr><td style="padding:${padding};${WRAP}">${content}</td></tr>`;
}

/** A row with one paragraph of text (`style` adds to the paragraph's own). */
export function htmlParagraphRow(text: string, language: Language, style = ''): string {
  return htmlRow(`<p style="margin:0;${style}">${htmlText(text, language)}</p>`);
}

/** A row with a heading and a bulleted list under it (the delivery settings, for one). */
export function htmlListRow(heading: string, items: readonly string[], language: Language): string {
  return htmlRow(
    [
      `<h2 style="${FONT};font-size:16px;font-weight:bold;margin:0 0 8px 0;">${htmlText(heading, language)}</h2>`,
      '<ul style="margin:0;padding-left:24px;">',
      ...items.map((item) => `<li style="margin:0 0 4px 0;">${htmlText(item, language)}</li>`),
      '</ul>',
    ].join('\n'),
  );
}

export function htmlBanner(banner: EmailBanner, language: Language): string {
  return htmlRow(
    [
      `<div style="border-left:6px solid ${banner.colour};background-color:${banner.tint};padding:12px 16px;">`,
      ...(banner.tag
        ? [
            `<div style="${FONT};font-size:12px;font-weight:bold;letter-spacing:1px;color:${banner.colour};">${escapeHtml(banner.tag)}</div>`,
          ]
        : []),
      `<h1 style="${FONT};font-size:20px;line-height:1.3;margin:${banner.tag ? '4px' : '0'} 0 0 0;color:#1a1a1a;">${htmlText(banner.heading, language)}</h1>`,
      '</div>',
    ].join('\n'),
    '0',
  );
}

function htmlLinkRow(link: AdminLink, language: Language): string {
  return htmlRow(
    `<a href="${escapeHtml(link.url)}" style="display:inline-block;padding:10px 16px;background-color:#1a4f9c;border-radius:4px;${FONT};font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none;">${htmlText(link.label, language)}</a>`,
    '20px 16px 0 16px',
  );
}

/**
 * The HTML part of every message: one column at most 600 px wide and as wide as the screen
 * below that, tables for layout (role=presentation), inline styles only, no external resources.
 * Outlook for Windows ignores max-width: its conditional table holds the column at 600 px there.
 */
export function emailHtml(shell: EmailShell): string {
  const { language } = shell;
  const column = [
    htmlBanner(shell.banner, language),
    ...shell.rows,
    ...(shell.adminLink ? [htmlLinkRow(shell.adminLink, language)] : []),
    htmlFooterRow(shell.footer, language),
  ].join('\n');
  return [
    '<!DOCTYPE html>',
    `<html lang="${language}" xml:lang="${language}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="x-apple-disable-message-reformatting">',
    `<title>${escapeHtml(shell.title)}</title>`,
    '</head>',
    `<body lang="${language}" style="margin:0;padding:0;background-color:#ffffff;${WRAP}">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">`,
    `<tr><td align="center" style="padding:0;${WRAP}">`,
    `<!--[if mso]><table role="presentation" width="${MAX_WIDTH_PX}" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:${MAX_WIDTH_PX}px;border-collapse:collapse;${FONT};font-size:15px;line-height:1.45;color:#1a1a1a;text-align:left;">`,
    column,
    '</table>',
    '<!--[if mso]></td></tr></table><![endif]-->',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
  ].join('\n');
}

/** The small print under every message (one line each). */
export function htmlFooterRow(lines: readonly string[], language: Language): string {
  return htmlRow(
    `<p style="margin:0;padding:12px 0 16px 0;border-top:1px solid #e5e5e5;font-size:12px;color:#666666;">${lines.map((line) => htmlText(line, language)).join('<br>')}</p>`,
    '20px 16px 0 16px',
  );
}
