// What every automatic message shares: headers, the single-line check, the HTML frame and footer.

import { hasControlCharacters } from '../../kernel/header-safety.js';
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

/** The page around a message's content: no external resources, inline styles only. */
export function htmlPage(language: Language, title: string, content: string): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${language}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    `<body style="margin:0;padding:0;background-color:#ffffff;">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:680px;${FONT};font-size:15px;line-height:1.45;color:#1a1a1a;">`,
    content,
    '</table>',
    '</body>',
    '</html>',
  ].join('\n');
}

/** The small print under every message (one line each). */
export function htmlFooterRow(lines: readonly string[]): string {
  return `<tr><td style="padding:16px;"><p style="margin:0;padding-top:12px;border-top:1px solid #e5e5e5;font-size:12px;color:#777777;">${lines.map(escapeHtml).join('<br>')}</p></td></tr>`;
}
