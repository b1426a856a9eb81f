// The daily "notification works" email (the seed's "Tägliche Kommunikationsmitteilung", which the
// email itself calls "Tagesbericht"): its
// arrival proves delivery works, and its table shows what happened to every condition's events in
// the period, so an admin sees the whole picture, including what was folded, rejected or failed.
import { CATALOG, CONDITION_IDS, type ConditionId, isConditionId } from '../../../events/catalog.js';
import { formatDate, formatTime, type Language } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import type { CredentialHealth } from '../credentials/credential-health.js';
import { credentialSentence } from '../credentials/credential-words.js';
import {
  adminLinkFor,
  automaticMessage,
  emailHtml,
  FONT,
  formatInterval,
  htmlListRow,
  htmlParagraphRow,
  htmlRow,
  htmlText,
  textClosing,
} from '../mail/email-layout.js';
import type { OutgoingMessage } from '../mail/mailer.js';
import { describeDelivery } from '../mail/test-email.js';
import type { DeliveryRecord, Outcome } from '../notify/delivery-ledger.js';

export interface ConditionCounts {
  /** Every event of the condition in the period, whatever became of it. */
  received: number;
  sent: number;
  folded: number;
  rejected: number;
  failed: number;
}

/** The row for events that could not be tied to a catalog condition. */
export const UNKNOWN_CONDITION = 'unknown';
const DAILY_NOTICE = 'daily-notice';

const COLUMNS = ['received', 'sent', 'folded', 'rejected', 'failed'] as const satisfies readonly (
  | keyof ConditionCounts
  | Outcome
)[];

const zero = (): ConditionCounts => ({ received: 0, sent: 0, folded: 0, rejected: 0, failed: 0 });

function add(into: ConditionCounts, counts: ConditionCounts): void {
  for (const column of COLUMNS) into[column] += counts[column];
}

/**
 * Counts per condition id. Records of the daily notice itself are not events and are left out;
 * a condition the catalog does not know (unidentifiable, or one since removed) counts as
 * `unknown`. A redelivered event counts once, with its latest outcome, should a ledger return it twice.
 */
export function summarizeDeliveries(records: DeliveryRecord[]): Map<string, ConditionCounts> {
  const latest = new Map<string, DeliveryRecord>();
  for (const record of records) {
    if (record.condition === DAILY_NOTICE) continue;
    const seen = latest.get(record.eventId);
    if (!seen || Date.parse(record.at) >= Date.parse(seen.at)) latest.set(record.eventId, record);
  }
  const counts = new Map<string, ConditionCounts>();
  for (const record of latest.values()) {
    const key = isConditionId(record.condition) ? record.condition : UNKNOWN_CONDITION;
    const row = counts.get(key) ?? zero();
    row.received += 1;
    // Superseded events were not emailed on their own, like folded repeats; one still waiting
    // in its group email (a few minutes at most) counts as received only.
    if (record.outcome === 'inhibited') row.folded += 1;
    else if (record.outcome !== 'grouped') row[record.outcome] += 1;
    counts.set(key, row);
  }
  return counts;
}

export interface DailyNoticeInput {
  clusterId: string;
  config: EmailConfig;
  now: Date;
  /** Start of the period the counts cover (normally `now` minus 24 hours). */
  periodStart: Date;
  counts: Map<string, ConditionCounts>;
  /** The ledger's id of this notice, e.g. `daily-notice:<cluster>:<date>`. */
  noticeId: string;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): the email links the cluster's admin page. */
  publicBaseUrl?: string;
  /** The cluster's credential health: an expiring, expired or refused credential gets a line. */
  credentialHealth?: CredentialHealth;
}

interface Row {
  label: string;
  counts: ConditionCounts;
}

const WORDS = {
  en: {
    subject: 'notification works',
    cluster: 'cluster',
    heading: 'Daily communication notice',
    intro: (clusterId: string) =>
      `If you are reading this, appliance-notifier can deliver email to the admin contacts of cluster ${clusterId}: notification works. This notice is sent once a day; if it stops arriving, alerts are not getting through either.`,
    period: 'Period',
    condition: 'Condition',
    columns: { received: 'Received', sent: 'Sent', folded: 'Folded', rejected: 'Rejected', failed: 'Failed' },
    total: 'Total',
    unknown: 'Unidentifiable events (unknown type or malformed)',
    legend:
      'Received: events that arrived. Sent: emailed. Folded: repeats not emailed, counted in the next email, and events a follow-on condition superseded. Rejected: invalid events. Failed: could not be delivered.',
    problems: (summary: string, failed: number, clusterId: string) =>
      `In this period: ${summary}. The delivery log of cluster ${clusterId} on the admin page has the reasons.${failed > 0 ? ' Failed events can be replayed once the cause is fixed.' : ''}`,
    noProblems: 'No event failed or was rejected in this period.',
    settings: 'Delivery settings in use',
    recipients: 'Recipients',
    footer: (clusterId: string) => `Automatic message from appliance-notifier for cluster ${clusterId}.`,
    notice: 'Notice',
    generated: 'Generated',
    attention: (failed: number, rejected: number) =>
      [failed > 0 ? `${failed} failed` : '', rejected > 0 ? `${rejected} rejected` : '']
        .filter(Boolean)
        .join(', '),
  },
  de: {
    subject: 'Benachrichtigung funktioniert',
    cluster: 'Cluster',
    heading: 'Tagesbericht: Die Benachrichtigung funktioniert',
    intro: (clusterId: string) =>
      `Wenn Sie diese E-Mail lesen, kann appliance-notifier E-Mails an die Admin-Kontakte des Clusters ${clusterId} zustellen: Die Benachrichtigung funktioniert. Dieser Bericht kommt einmal täglich; bleibt er aus, kommen auch Warnmeldungen nicht an.`,
    period: 'Zeitraum',
    condition: 'Meldung',
    columns: {
      received: 'Empfangen',
      sent: 'Gesendet',
      folded: 'Zusammengefasst',
      rejected: 'Abgelehnt',
      failed: 'Fehlgeschlagen',
    },
    total: 'Summe',
    unknown: 'Nicht zuordenbare Ereignisse (unbekannter Typ oder fehlerhaftes Format)',
    legend:
      'Empfangen: eingegangene Ereignisse. Gesendet: per E-Mail gemeldet. Zusammengefasst: Wiederholungen ohne eigene E-Mail, in der nächsten E-Mail gezählt, und von einer Folgemeldung überholte Ereignisse. Abgelehnt: ungültige Ereignisse. Fehlgeschlagen: konnten nicht zugestellt werden.',
    problems: (summary: string, failed: number, clusterId: string) =>
      `In diesem Zeitraum: ${summary}. Die Gründe stehen im Zustellprotokoll des Clusters ${clusterId} auf der Admin-Seite.${failed > 0 ? ' Fehlgeschlagene Ereignisse können nach Behebung der Ursache erneut zugestellt werden.' : ''}`,
    noProblems: 'In diesem Zeitraum ist kein Ereignis fehlgeschlagen oder abgelehnt worden.',
    settings: 'Verwendete Zustelleinstellungen',
    recipients: 'Empfänger',
    footer: (clusterId: string) =>
      `Automatisch erstellte Nachricht von appliance-notifier für den Cluster ${clusterId}.`,
    notice: 'Bericht',
    generated: 'Erstellt',
    attention: (failed: number, rejected: number) =>
      [failed > 0 ? `${failed} fehlgeschlagen` : '', rejected > 0 ? `${rejected} abgelehnt` : '']
        .filter(Boolean)
        .join(', '),
  },
} as const;

/** The twelve catalog rows in catalog order, then `unknown` when anything landed there. */
function rowsOf(counts: Map<string, ConditionCounts>, language: Language): Row[] {
  const rows: Row[] = CONDITION_IDS.map((id: ConditionId) => ({
    label: CATALOG[id].title[language],
    counts: { ...zero(), ...counts.get(id) },
  }));
  // Keys outside the catalog (a caller's own map) join the unknown row, so the rows add up to the total.
  const unknown = zero();
  for (const [key, value] of counts) if (!isConditionId(key)) add(unknown, value);
  if (COLUMNS.some((column) => unknown[column] > 0)) {
    rows.push({ label: WORDS[language].unknown, counts: unknown });
  }
  return rows;
}

/** Numbers first and the condition last, so long (German) titles do not break the columns. */
function textTable(rows: Row[], total: Row, language: Language): string[] {
  const words = WORDS[language];
  const widths = COLUMNS.map((column) =>
    Math.max(words.columns[column].length, ...[...rows, total].map((r) => String(r.counts[column]).length)),
  );
  const line = (cells: string[], label: string) =>
    `${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}  ${label}`;
  return [
    line(
      COLUMNS.map((column) => words.columns[column]),
      words.condition,
    ),
    ...[...rows, total].map((row) =>
      line(
        COLUMNS.map((column) => String(row.counts[column])),
        row.label,
      ),
    ),
  ];
}

/**
 * The counts as a table that fits a phone: the five count columns side by side, and each
 * condition's title on a row of its own above its counts, so a long (German) title never squeezes
 * the numbers or widens the table.
 */
function htmlTable(rows: Row[], total: Row, language: Language): string {
  const words = WORDS[language];
  const font = `${FONT};font-size:13px;`;
  const cell = `${font}padding:4px 6px;`;
  const number = (column: (typeof COLUMNS)[number], value: number, bold: boolean) => {
    const alarming = (column === 'failed' || column === 'rejected') && value > 0;
    const colour = alarming ? '#b00020' : value === 0 ? '#888888' : '#1a1a1a';
    const weight = bold || alarming ? 'bold' : 'normal';
    return `<td align="right" valign="top" style="${cell}padding-bottom:6px;border-bottom:1px solid #e5e5e5;color:${colour};font-weight:${weight};">${value}</td>`;
  };
  const row = (r: Row, bold: boolean) =>
    `<tr><td colspan="${COLUMNS.length}" style="${cell}padding-top:8px;padding-bottom:0;font-weight:${bold ? 'bold' : 'normal'};">${htmlText(r.label, language)}</td></tr>\n` +
    `<tr>${COLUMNS.map((column) => number(column, r.counts[column], bold)).join('')}</tr>`;
  return [
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">',
    '<tr>' +
      COLUMNS.map(
        (column) =>
          `<th align="right" valign="bottom" style="${cell}font-size:12px;border-bottom:2px solid #444444;">${htmlText(words.columns[column], language)}</th>`,
      ).join('') +
      '</tr>',
    ...rows.map((r) => row(r, false)),
    row(total, true),
    '</table>',
  ].join('\n');
}

export function composeDailyNotice(input: DailyNoticeInput): OutgoingMessage {
  const { clusterId, config, now, periodStart, counts, noticeId } = input;
  const language = config.language;
  const words = WORDS[language];

  const rows = rowsOf(counts, language);
  const totals = zero();
  for (const row of rows) add(totals, row.counts);
  const total: Row = { label: words.total, counts: totals };
  const { failed, rejected } = totals;

  const attention = words.attention(failed, rejected);
  const subject = `appliance-notifier: ${words.subject} (${words.cluster} ${clusterId}, ${formatDate(now, language)}${attention ? `; ${attention}` : ''})`;

  const minutes = Math.max(0, Math.round((now.getTime() - periodStart.getTime()) / 60_000));
  const period = `${words.period}: ${formatTime(periodStart, language)} – ${formatTime(now, language)} (${formatInterval(minutes, language)})`;
  const problems = attention ? words.problems(attention, failed, clusterId) : words.noProblems;
  const credentials = input.credentialHealth && credentialSentence(input.credentialHealth, language);
  const settings = [
    ...describeDelivery(config, language),
    `${words.recipients}: ${config.adminContacts.join(', ')}`,
  ];
  const adminLink = adminLinkFor(input.publicBaseUrl, clusterId, language);
  const footer = [
    words.footer(clusterId),
    `${words.notice}: ${noticeId}`,
    `${words.generated}: ${formatTime(now, language)}`,
  ];

  const text = [
    words.heading,
    '',
    words.intro(clusterId),
    '',
    period,
    '',
    ...textTable(rows, total, language),
    '',
    words.legend,
    '',
    problems,
    '',
    ...(credentials ? [credentials, ''] : []),
    `${words.settings}:`,
    ...settings.map((line) => `- ${line}`),
    '',
    ...textClosing(adminLink, footer),
  ].join('\n');

  const problemStyle = attention
    ? 'padding:8px 12px;background-color:#fdecee;border-left:4px solid #b00020;'
    : 'padding:8px 12px;background-color:#eaf6ec;border-left:4px solid #1e7b34;';
  const html = emailHtml({
    language,
    title: subject,
    banner: { colour: '#1e7b34', tint: '#eaf6ec', heading: words.heading },
    rows: [
      htmlParagraphRow(words.intro(clusterId), language),
      htmlParagraphRow(period, language, 'font-weight:bold;'),
      htmlRow(
        [
          htmlTable(rows, total, language),
          `<p style="margin:8px 0 0 0;font-size:12px;color:#555555;">${htmlText(words.legend, language)}</p>`,
        ].join('\n'),
      ),
      htmlParagraphRow(problems, language, problemStyle),
      ...(credentials
        ? [
            htmlParagraphRow(
              credentials,
              language,
              'padding:8px 12px;background-color:#fff4e0;border-left:4px solid #b36b00;',
            ),
          ]
        : []),
      htmlListRow(words.settings, settings, language),
    ],
    footer,
    adminLink,
  });

  return automaticMessage(
    config,
    { subject, text, html },
    {
      'X-Appliance-Notifier-Kind': 'daily-notice',
      'X-Appliance-Notifier-Cluster': clusterId,
      'X-Appliance-Notifier-Event': noticeId,
    },
  );
}
