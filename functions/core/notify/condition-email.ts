// The email an admin reads at night when an appliance reports a failover condition. Everything in
// it comes from the catalog (wording, facts, checks) and from a detail the catalog's schema has
// validated; every value is escaped in the HTML part, and header values are checked once more here
// because a line break in a subject or header would let an event write its own headers.
import type { z } from 'zod';
import {
  type ConditionDefinition,
  type ConditionDetail,
  type ConditionId,
  commonFacts,
  type Fact,
  type Severity,
} from '../../../events/catalog.js';
import { formatTime, type Language } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import {
  adminLinkFor,
  automaticMessage,
  emailHtml,
  FONT,
  formatInterval,
  htmlBanner,
  htmlParagraphRow,
  htmlRow,
  htmlText,
  plural,
  textClosing,
} from '../mail/email-layout.js';
import type { OutgoingMessage } from '../mail/mailer.js';

/** Repeats folded since the previous email for this condition and appliance. */
export interface FoldedSummary {
  count: number;
  /** ISO time of the first folded repeat. */
  since: string;
  /** ISO time the previous email went out. */
  lastSentAt: string;
  /**
   * That email's send was interrupted (a crash) and never confirmed: it may not have gone out, so
   * the note does not claim it did.
   */
  lastSentUnconfirmed?: boolean;
}

/**
 * `condition` and `detail` share `K`, so a detail of another condition does not compile when the
 * condition is a literal catalog entry; the erased view of `ValidConditionEvent` (K = every id)
 * is accepted as it is.
 */
export interface ConditionEmailInput<K extends ConditionId = ConditionId> {
  condition: ConditionDefinition<z.ZodType, K>;
  detail: ConditionDetail<K>;
  eventId: string;
  /** ISO time of the event (EventBridge `time`). */
  eventTime: string;
  clusterId: string;
  config: EmailConfig;
  folded?: FoldedSummary;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): the email links the cluster's admin page. */
  publicBaseUrl?: string;
}

export interface SeverityStyle {
  tag: Record<Language, string>;
  /** Text and border colour: dark enough to read on white and on the tint. */
  colour: string;
  tint: string;
}

export const SEVERITY_STYLE: Record<Severity, SeverityStyle> = {
  critical: { tag: { en: 'CRITICAL', de: 'KRITISCH' }, colour: '#b00020', tint: '#fdecee' },
  warning: { tag: { en: 'WARNING', de: 'WARNUNG' }, colour: '#8a4b00', tint: '#fff4e0' },
};

const at = (iso: string, language: Language) => formatTime(new Date(iso), language);

export function foldedNote(folded: FoldedSummary, language: Language): string {
  const { count } = folded;
  const since = at(folded.since, language);
  const last = at(folded.lastSentAt, language);
  if (language === 'de') {
    const previous = folded.lastSentUnconfirmed
      ? `die E-Mail vom ${last} wurde womöglich nicht gesendet, weil ihr Versand unterbrochen wurde`
      : `die vorherige E-Mail wurde am ${last} gesendet`;
    return count === 1
      ? `Seit ${since} wurde 1 Wiederholung dieser Meldung von dieser Appliance nicht per E-Mail gesendet (${previous}).`
      : `Seit ${since} wurden ${count} Wiederholungen dieser Meldung von dieser Appliance nicht per E-Mail gesendet (${previous}).`;
  }
  const previous = folded.lastSentUnconfirmed
    ? `the email of ${last} may not have gone out: its send was interrupted`
    : `the previous email went out at ${last}`;
  return count === 1
    ? `1 repeat of this condition from this appliance was not emailed since ${since} (${previous}).`
    : `${count} repeats of this condition from this appliance were not emailed since ${since} (${previous}).`;
}

/**
 * The folding rule in a sentence: about this email's condition (`this`), or about every condition
 * of a group email (`any`).
 */
export function foldingPolicy(
  config: EmailConfig,
  clusterId: string,
  language: Language,
  about: 'this' | 'any' = 'this',
): string {
  const minutes = config.repeatIntervalMinutes;
  if (language === 'de') {
    const what = about === 'this' ? 'dieser Meldung' : 'einer Meldung';
    return minutes === 0
      ? `Jedes Ereignis${about === 'this' ? ' dieser Meldung wird per E-Mail gesendet' : ' wird gemeldet'}; Wiederholungen werden nicht zusammengefasst.`
      : `Wiederholungen ${what} von derselben Appliance innerhalb von ${formatInterval(minutes, language)} nach einer E-Mail werden zusammengefasst: Die nächste E-Mail nennt ihre Anzahl, und das Zustellprotokoll des Clusters ${clusterId} auf der Admin-Seite führt jede einzeln auf.`;
  }
  const what = about === 'this' ? 'this condition' : 'a condition';
  return minutes === 0
    ? `Every event${about === 'this' ? ' of this condition is emailed' : ' is reported'}; repeats are not folded.`
    : `Repeats of ${what} from the same appliance within ${formatInterval(minutes, language)} of an email are folded: the next email says how many, and the delivery log of cluster ${clusterId} on the admin page lists each one.`;
}

/**
 * `Backup became primary on pra-backup-01` / `Sicherungsknoten ist … geworden – pra-backup-01`: in
 * German, "auf pra-backup-01" after a verb reads as "answers to", so the host follows a dash.
 */
export function titleWithHost(title: string, hostname: string, language: Language): string {
  return language === 'de' ? `${title} – ${hostname}` : `${title} on ${hostname}`;
}

const WORDS = {
  en: {
    cluster: 'cluster',
    repeats: (n: number) => plural(n, 'repeat', 'repeats'),
    details: 'Details',
    checks: 'What to check next',
    footer: (clusterId: string) => `Automatic message from appliance-notifier for cluster ${clusterId}.`,
    event: 'Event',
    eventTime: 'Event time',
  },
  de: {
    cluster: 'Cluster',
    repeats: (n: number) => plural(n, 'Wiederholung', 'Wiederholungen'),
    details: 'Details',
    checks: 'Was Sie jetzt prüfen sollten',
    footer: (clusterId: string) =>
      `Automatisch erstellte Nachricht von appliance-notifier für den Cluster ${clusterId}.`,
    event: 'Ereignis',
    eventTime: 'Zeitpunkt des Ereignisses',
  },
} as const;

/** One fact table for both emails' house style: labels left, values right, wrapping on phones. */
export function htmlFactRows(facts: readonly Fact[], language: Language): string {
  return facts
    .map(
      ({ label, value }) =>
        '<tr>' +
        `<th scope="row" align="left" valign="top" style="${FONT};font-size:14px;font-weight:bold;color:#444444;padding:6px 12px 6px 0;border-bottom:1px solid #e5e5e5;width:40%;">${htmlText(label, language)}</th>` +
        // Values are hostnames, addresses and ids as well as words: one too long for the column
        // may break anywhere rather than widen the table past a phone's screen.
        `<td valign="top" style="${FONT};font-size:14px;color:#1a1a1a;padding:6px 0;border-bottom:1px solid #e5e5e5;word-break:break-word;">${htmlText(value, language)}</td>` +
        '</tr>',
    )
    .join('\n');
}

/** The email's first row: the severity tag and the headline on the severity's tint. */
export function htmlSeverityBanner(
  style: SeverityStyle,
  tag: string,
  headline: string,
  language: Language,
): string {
  return htmlBanner({ colour: style.colour, tint: style.tint, tag, heading: headline }, language);
}

export function composeConditionEmail<K extends ConditionId>(input: ConditionEmailInput<K>): OutgoingMessage {
  const { condition, detail, eventId, eventTime, clusterId, config, folded } = input;
  const language = config.language;
  const words = WORDS[language];
  const style = SEVERITY_STYLE[condition.severity];
  const tag = style.tag[language];
  const title = condition.title[language];
  const description = condition.description[language];
  const hostname = detail.appliance.hostname;
  const foldedCount = folded && folded.count > 0 ? folded.count : 0;

  const where = `${titleWithHost(title, hostname, language)} (${words.cluster} ${clusterId})`;
  const subject = [
    `[${tag}] ${where}`,
    ...(foldedCount > 0 ? [`(+${words.repeats(foldedCount)})`] : []),
  ].join(' ');

  const facts = [...condition.facts(detail, language), ...commonFacts(detail, language)];
  const checks = condition.checks[language];
  const foldNote = folded && foldedCount > 0 ? foldedNote(folded, language) : undefined;
  const policy = foldingPolicy(config, clusterId, language);
  const adminLink = adminLinkFor(input.publicBaseUrl, clusterId, language);
  const footer = [
    words.footer(clusterId),
    `${words.event}: ${eventId}`,
    `${words.eventTime}: ${at(eventTime, language)}`,
  ];

  const text = [
    `${tag}: ${title}`,
    '',
    description,
    '',
    ...(foldNote ? [foldNote, ''] : []),
    `${words.details}:`,
    ...facts.map((f) => `- ${f.label}: ${f.value}`),
    '',
    `${words.checks}:`,
    ...checks.map((step, i) => `${i + 1}. ${step}`),
    '',
    policy,
    '',
    ...textClosing(adminLink, footer),
  ].join('\n');

  const heading = `${FONT};font-size:16px;font-weight:bold;margin:0 0 8px 0;`;
  const html = emailHtml({
    language,
    title: subject,
    banner: { colour: style.colour, tint: style.tint, tag, heading: title },
    rows: [
      htmlParagraphRow(description, language),
      ...(foldNote
        ? [
            htmlParagraphRow(
              foldNote,
              language,
              'padding:8px 12px;background-color:#f2f2f2;border-left:4px solid #777777;',
            ),
          ]
        : []),
      htmlRow(
        [
          `<h2 style="${heading}">${htmlText(words.details, language)}</h2>`,
          '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">',
          htmlFactRows(facts, language),
          '</table>',
        ].join('\n'),
      ),
      htmlRow(
        [
          `<h2 style="${heading}">${htmlText(words.checks, language)}</h2>`,
          '<ol style="margin:0;padding-left:24px;">',
          ...checks.map((step) => `<li style="margin:0 0 6px 0;">${htmlText(step, language)}</li>`),
          '</ol>',
        ].join('\n'),
      ),
      htmlParagraphRow(policy, language, 'font-size:13px;color:#555555;'),
    ],
    footer,
    adminLink,
  });

  return automaticMessage(
    config,
    { subject, text, html },
    {
      'X-Appliance-Notifier-Kind': 'condition',
      'X-Appliance-Notifier-Event': eventId,
      'X-Appliance-Notifier-Condition': condition.id,
      'X-Appliance-Notifier-Cluster': clusterId,
      ...(condition.severity === 'critical' ? { 'X-Priority': '1', Importance: 'high' } : {}),
    },
  );
}
