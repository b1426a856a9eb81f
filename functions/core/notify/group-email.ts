// The one email an admin reads for a cluster incident: every condition of the group, critical
// first, what to check once per condition, the events a follow-on condition made moot under "also
// reported", and every event id. Same house style as the single-condition email (wording from the
// catalog, values escaped in HTML, header values checked), and bounded: a region outage can put
// hundreds of events into one group, and the email must stay readable and well under a relay's
// message size limit.
import type { z } from 'zod';
import {
  CATALOG,
  type ConditionDefinition,
  type ConditionDetail,
  type ConditionId,
  commonFacts,
  type Fact,
  type Severity,
  supersessionReason,
} from '../../../events/catalog.js';
import { formatDuration } from '../../../events/format.js';
import { formatTime, type Language } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import {
  adminLinkFor,
  assertHeaderSafe,
  automaticMessage,
  emailHtml,
  FONT,
  formatInterval,
  htmlText,
  plural,
  textClosing,
} from '../mail/email-layout.js';
import type { OutgoingMessage } from '../mail/mailer.js';
import {
  composeConditionEmail,
  type FoldedSummary,
  foldedNote,
  foldingPolicy,
  htmlFactRows,
  SEVERITY_STYLE,
  titleWithHost,
} from './condition-email.js';

/** One event the group email alerts on. `condition` and `detail` share `K`, as in the single email. */
export interface GroupMember<K extends ConditionId = ConditionId> {
  eventId: string;
  condition: ConditionDefinition<z.ZodType, K>;
  detail: ConditionDetail<K>;
  /** ISO time of the event (EventBridge `time`). */
  eventTime: string;
  /** ISO time the event arrived: the order within a severity. */
  receivedAt: string;
  /** Repeats of this condition from this appliance folded before this event. */
  folded?: FoldedSummary;
}

/** An event recorded `inhibited`: listed under "also reported", not alerted on its own. */
export interface InhibitedMember {
  eventId: string;
  condition: ConditionDefinition;
  detail: ConditionDetail;
  receivedAt: string;
  supersededBy: { eventId: string; conditionId: ConditionId };
  /** The catalog's reason for the pair (`supersessionReason`). */
  why: string;
}

/** `grouping` of the configuration document; structural, so it holds before and after EmailConfig has it. */
export interface GroupingPolicy {
  waitSeconds: number;
  intervalMinutes: number;
}

export interface GroupEmailInput {
  clusterId: string;
  groupId: string;
  config: EmailConfig & { grouping?: GroupingPolicy };
  /** At least one. */
  members: GroupMember[];
  alsoReported: InhibitedMember[];
  /** The group collected events arriving in [openedAt, closedAt]. */
  openedAt: string;
  closedAt: string;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): the email links the cluster's admin page. */
  publicBaseUrl?: string;
}

/**
 * Members beyond this many are listed in one compact table (condition, appliance, time) instead of
 * a section each: 50 detailed entries are about 150 KB of HTML, and nobody reads the 51st at night.
 */
export const MAX_DETAILED_MEMBERS = 50;
/** Superseded events listed one by one; the rest are counted (their ids are in the footer). */
export const MAX_ALSO_REPORTED = 100;
/**
 * The longest value of `X-Appliance-Notifier-Events`. Nodemailer folds header lines at whitespace,
 * but an unfolded line must stay within RFC 5322's 998 characters anyway for relays that refold or
 * rewrite headers, and a storm of 200 ids would be 7.6 KB of header. The rest are counted in
 * `X-Appliance-Notifier-Events-More`; the body lists every id.
 */
export const MAX_EVENTS_HEADER_LENGTH = 900;

// Header values are for filters and scripts: one wording, whatever the email's language.
const eventsHeaderMore = (n: number) => `and ${n} more (the email body lists every event id)`;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1 };

const at = (iso: string, language: Language) => formatTime(new Date(iso), language);

const WORDS = {
  en: {
    cluster: 'cluster',
    conditions: (n: number) => plural(n, 'condition', 'conditions'),
    events: (n: number) => plural(n, 'event', 'events'),
    appliances: (n: number) => plural(n, 'appliance', 'appliances'),
    more: (n: number) => `+${n} more`,
    alsoSuffix: (n: number) => `+${n} also reported`,
    inCluster: (clusterId: string) => `in cluster ${clusterId}`,
    arrived: (events: string, appliances: string, span: string) => `${events} from ${appliances} ${span}.`,
    spanAt: (time: string) => `arrived at ${time}`,
    spanBetween: (from: string, to: string, duration: string) =>
      `arrived between ${from} and ${to} (${duration})`,
    worst: (tag: string) => `Worst severity: ${tag}.`,
    below: (n: number) =>
      n === 1 ? '1 is reported below.' : `${n} are reported below, critical first, then by arrival.`,
    superseded: (n: number) =>
      n === 1
        ? '1 superseded event is listed under "Also reported".'
        : `${n} superseded events are listed under "Also reported".`,
    from: (hostname: string) => `From ${hostname}`,
    details: 'Details',
    checks: 'What to check next',
    event: 'Event',
    overflowSome: (n: number) =>
      `${plural(n, 'more event', 'more events')} of this condition ${n === 1 ? 'is' : 'are'} listed under "Further events" below.`,
    overflowAll: (n: number) =>
      n === 1
        ? 'Its event is listed under "Further events" below.'
        : `All ${n} events of this condition are listed under "Further events" below.`,
    further: (n: number) => `Further events (${n})`,
    furtherNote: (shown: number) =>
      `The first ${shown} events are described above; these follow in brief, in the same order. Their facts are in the delivery log on the admin page.`,
    columns: ['Severity', 'Condition', 'Appliance', 'Event time'] as const,
    alsoReported: 'Also reported',
    alsoReportedNote: 'Superseded by a follow-on condition: recorded, but not alerted on their own.',
    alsoItem: (title: string, hostname: string, time: string, eventId: string) =>
      `${title}, from ${hostname}, observed at ${time} (event ${eventId})`,
    supersededBy: (title: string, eventId: string) => `Superseded by "${title}" (${eventId})`,
    alsoMore: (n: number) =>
      `${plural(n, 'more superseded event is', 'more superseded events are')} not listed here; ${n === 1 ? 'its id is' : 'their ids are'} at the end of this email.`,
    footer: (clusterId: string) => `Automatic message from appliance-notifier for cluster ${clusterId}.`,
    group: (groupId: string, from: string, to: string) =>
      `Group: ${groupId} (events arriving between ${from} and ${to})`,
    eventIds: (n: number) => `Events (${n})`,
    alsoIds: (n: number) => `Also reported (${n})`,
  },
  de: {
    cluster: 'Cluster',
    conditions: (n: number) => plural(n, 'Meldung', 'Meldungen'),
    events: (n: number) => plural(n, 'Ereignis', 'Ereignisse'),
    appliances: (n: number) => plural(n, 'Appliance', 'Appliances'),
    more: (n: number) => `+${n} weitere`,
    alsoSuffix: (n: number) => `+${n} ebenfalls gemeldet`,
    inCluster: (clusterId: string) => `im Cluster ${clusterId}`,
    arrived: (events: string, appliances: string, span: string) => `${events} von ${appliances} ${span}.`,
    spanAt: (time: string) => `gingen am ${time} ein`,
    spanBetween: (from: string, to: string, duration: string) =>
      `gingen zwischen ${from} und ${to} ein (${duration})`,
    worst: (tag: string) => `Höchster Schweregrad: ${tag}.`,
    below: (n: number) =>
      n === 1
        ? '1 davon ist unten beschrieben.'
        : `${n} davon sind unten beschrieben, kritische zuerst, dann in der Reihenfolge des Eingangs.`,
    superseded: (n: number) =>
      n === 1
        ? '1 überholtes Ereignis steht unter „Ebenfalls gemeldet“.'
        : `${n} überholte Ereignisse stehen unter „Ebenfalls gemeldet“.`,
    from: (hostname: string) => `Von ${hostname}`,
    details: 'Details',
    checks: 'Was Sie jetzt prüfen sollten',
    event: 'Ereignis',
    overflowSome: (n: number) =>
      `${plural(n, 'weiteres Ereignis', 'weitere Ereignisse')} dieser Meldung ${n === 1 ? 'steht' : 'stehen'} unten unter „Weitere Ereignisse“.`,
    overflowAll: (n: number) =>
      n === 1
        ? 'Das Ereignis steht unten unter „Weitere Ereignisse“.'
        : `Alle ${n} Ereignisse dieser Meldung stehen unten unter „Weitere Ereignisse“.`,
    further: (n: number) => `Weitere Ereignisse (${n})`,
    furtherNote: (shown: number) =>
      `Die ersten ${shown} Ereignisse sind oben beschrieben; diese folgen in Kurzform, in derselben Reihenfolge. Ihre Details stehen im Zustellprotokoll auf der Admin-Seite.`,
    columns: ['Schweregrad', 'Meldung', 'Appliance', 'Ereigniszeit'] as const,
    alsoReported: 'Ebenfalls gemeldet',
    alsoReportedNote: 'Durch eine Folgemeldung überholt: protokolliert, aber nicht einzeln gemeldet.',
    alsoItem: (title: string, hostname: string, time: string, eventId: string) =>
      `${title}, von ${hostname}, festgestellt am ${time} (Ereignis ${eventId})`,
    supersededBy: (title: string, eventId: string) => `Überholt durch „${title}“ (${eventId})`,
    alsoMore: (n: number) =>
      `${plural(n, 'weiteres überholtes Ereignis ist', 'weitere überholte Ereignisse sind')} hier nicht aufgeführt; ${n === 1 ? 'seine Kennung steht' : 'ihre Kennungen stehen'} am Ende dieser E-Mail.`,
    footer: (clusterId: string) =>
      `Automatisch erstellte Nachricht von appliance-notifier für den Cluster ${clusterId}.`,
    group: (groupId: string, from: string, to: string) =>
      `Gruppe: ${groupId} (Ereignisse mit Eingang zwischen ${from} und ${to})`,
    eventIds: (n: number) => `Ereignisse (${n})`,
    alsoIds: (n: number) => `Ebenfalls gemeldet (${n})`,
  },
} as const;

function groupingPolicy(grouping: GroupingPolicy, language: Language): string {
  const { waitSeconds, intervalMinutes } = grouping;
  const wait = formatDuration(waitSeconds, language);
  const interval = formatInterval(intervalMinutes, language);
  if (language === 'de') {
    if (waitSeconds === 0) return 'Jedes Ereignis dieses Clusters wird einzeln per E-Mail gesendet.';
    return intervalMinutes === 0
      ? `Ereignisse dieses Clusters, die innerhalb von ${wait} nach dem ersten eingehen, werden in einer E-Mail gesendet; spätere folgen in der nächsten E-Mail.`
      : `Ereignisse dieses Clusters, die innerhalb von ${wait} nach dem ersten eingehen, werden in einer E-Mail gesendet; spätere folgen in der nächsten E-Mail, höchstens eine je ${interval}.`;
  }
  if (waitSeconds === 0) return 'Each event of this cluster is emailed on its own.';
  return intervalMinutes === 0
    ? `Events of this cluster that arrive within ${wait} of the first are sent in one email; later ones follow in the next email.`
    : `Events of this cluster that arrive within ${wait} of the first are sent in one email; later ones follow in the next email, at most one per ${interval}.`;
}

/** Critical first, then by arrival; the input order breaks ties, so the result is deterministic. */
function inAlertOrder(members: readonly GroupMember[]): GroupMember[] {
  return members
    .map((member, index) => ({ member, index, arrived: Date.parse(member.receivedAt) }))
    .sort(
      (a, b) =>
        SEVERITY_RANK[a.member.condition.severity] - SEVERITY_RANK[b.member.condition.severity] ||
        a.arrived - b.arrived ||
        a.index - b.index,
    )
    .map(({ member }) => member);
}

/** One condition of the group: its wording and checks once, each detailed member's facts under it. */
interface Section {
  condition: ConditionDefinition;
  detailed: GroupMember[];
  /** Members of this condition that went into the compact table. */
  overflow: number;
  /** Distinct appliances among all its members. */
  appliances: number;
}

function sectionsOf(ordered: readonly GroupMember[], detailedCount: number): Section[] {
  const sections = new Map<ConditionId, Section & { hosts: Set<string> }>();
  ordered.forEach((member, index) => {
    const id = member.condition.id;
    let section = sections.get(id);
    if (!section) {
      section = { condition: member.condition, detailed: [], overflow: 0, appliances: 0, hosts: new Set() };
      sections.set(id, section);
    }
    if (index < detailedCount) section.detailed.push(member);
    else section.overflow += 1;
    section.hosts.add(member.detail.appliance.hostname.toLowerCase());
  });
  return [...sections.values()].map(({ hosts, ...section }) => ({ ...section, appliances: hosts.size }));
}

function memberFacts(member: GroupMember, language: Language): Fact[] {
  const { condition, detail } = member;
  return [
    ...condition.facts(detail, language),
    ...commonFacts(detail, language),
    { label: WORDS[language].event, value: `${member.eventId} (${at(member.eventTime, language)})` },
  ];
}

function memberFoldNote(member: GroupMember, language: Language): string | undefined {
  return member.folded && member.folded.count > 0 ? foldedNote(member.folded, language) : undefined;
}

/** The ids that fit the header, and how many did not. */
function boundedIds(ids: readonly string[]): { value: string; omitted: number } {
  let value = '';
  let count = 0;
  for (const id of ids) {
    const next = count === 0 ? id : `${value}, ${id}`;
    if (count > 0 && next.length > MAX_EVENTS_HEADER_LENGTH) break;
    value = next;
    count += 1;
  }
  return { value, omitted: ids.length - count };
}

function arrivalSpan(input: GroupEmailInput, language: Language): string {
  const words = WORDS[language];
  const times = [...input.members, ...input.alsoReported].map((m) => Date.parse(m.receivedAt));
  const first = Math.min(...times);
  const last = Math.max(...times);
  if (first === last) return words.spanAt(formatTime(new Date(first), language));
  return words.spanBetween(
    formatTime(new Date(first), language),
    formatTime(new Date(last), language),
    formatDuration((last - first) / 1000, language),
  );
}

export function composeGroupEmail(input: GroupEmailInput): OutgoingMessage {
  const { clusterId, groupId, config, members, alsoReported } = input;
  if (members.length === 0) throw new Error('a group email needs at least one member');
  const language = config.language;
  const words = WORDS[language];
  const ordered = inAlertOrder(members);
  const headline = ordered[0] as GroupMember;
  const memberIds = ordered.map((m) => m.eventId);
  const events = boundedIds(memberIds);
  const groupHeaders: Record<string, string> = {
    'X-Appliance-Notifier-Group': groupId,
    'X-Appliance-Notifier-Events': events.value,
    ...(events.omitted > 0 ? { 'X-Appliance-Notifier-Events-More': eventsHeaderMore(events.omitted) } : {}),
  };

  // One alert and nothing superseded: the email an admin already knows, traceable to its group.
  if (ordered.length === 1 && alsoReported.length === 0) {
    const single = composeConditionEmail({
      condition: headline.condition,
      detail: headline.detail,
      eventId: headline.eventId,
      eventTime: headline.eventTime,
      clusterId,
      config,
      ...(headline.folded ? { folded: headline.folded } : {}),
      ...(input.publicBaseUrl ? { publicBaseUrl: input.publicBaseUrl } : {}),
    });
    return assertHeaderSafe({ ...single, headers: { ...single.headers, ...groupHeaders } });
  }

  const worst = headline.condition.severity;
  const style = SEVERITY_STYLE[worst];
  const tag = style.tag[language];
  const headlineText = titleWithHost(
    headline.condition.title[language],
    headline.detail.appliance.hostname,
    language,
  );
  const subject =
    ordered.length === 1
      ? `[${tag}] ${headlineText} (${words.cluster} ${clusterId}) (${words.alsoSuffix(alsoReported.length)})`
      : `[${tag}] ${words.conditions(ordered.length)} ${words.inCluster(clusterId)}: ${headlineText} (${words.more(ordered.length - 1)})`;
  const heading = `${words.conditions(ordered.length)} ${words.inCluster(clusterId)}`;

  const hosts = new Set([...members, ...alsoReported].map((m) => m.detail.appliance.hostname.toLowerCase()));
  const summary = [
    words.arrived(
      words.events(members.length + alsoReported.length),
      words.appliances(hosts.size),
      arrivalSpan(input, language),
    ),
    words.worst(tag),
    ...(alsoReported.length > 0 ? [words.below(members.length), words.superseded(alsoReported.length)] : []),
  ].join(' ');

  const detailedCount = Math.min(ordered.length, MAX_DETAILED_MEMBERS);
  const sections = sectionsOf(ordered, detailedCount);
  const compact = ordered.slice(detailedCount);
  const shownAlso = alsoReported.slice(0, MAX_ALSO_REPORTED);
  const hiddenAlso = alsoReported.length - shownAlso.length;

  const sectionTitle = (section: Section) => {
    const count = section.detailed.length + section.overflow;
    const title = section.condition.title[language];
    return count > 1 ? `${title} (${words.events(count)}, ${words.appliances(section.appliances)})` : title;
  };
  const overflowNote = (section: Section) =>
    section.overflow === 0
      ? undefined
      : section.detailed.length === 0
        ? words.overflowAll(section.overflow)
        : words.overflowSome(section.overflow);
  const alsoLine = (item: InhibitedMember) =>
    words.alsoItem(
      item.condition.title[language],
      item.detail.appliance.hostname,
      at(item.detail.observedAt, language),
      item.eventId,
    );
  const supersededLine = (item: InhibitedMember) =>
    `${words.supersededBy(CATALOG[item.supersededBy.conditionId].title[language], item.supersededBy.eventId)}: ${supersessionReason(item.supersededBy.conditionId, item.condition.id, language) ?? item.why}`;
  const compactRow = (member: GroupMember) => [
    SEVERITY_STYLE[member.condition.severity].tag[language],
    member.condition.title[language],
    member.detail.appliance.hostname,
    at(member.eventTime, language),
  ];

  const policies = [
    ...(config.grouping ? [groupingPolicy(config.grouping, language)] : []),
    foldingPolicy(config, clusterId, language, 'any'),
  ];
  const adminLink = adminLinkFor(input.publicBaseUrl, clusterId, language);
  const footer = [
    words.footer(clusterId),
    words.group(groupId, at(input.openedAt, language), at(input.closedAt, language)),
    `${words.eventIds(memberIds.length)}: ${memberIds.join(', ')}`,
    ...(alsoReported.length > 0
      ? [`${words.alsoIds(alsoReported.length)}: ${alsoReported.map((m) => m.eventId).join(', ')}`]
      : []),
  ];

  const text = [
    `${tag}: ${heading}`,
    '',
    summary,
    '',
    ...sections.flatMap((section) => {
      const sectionTag = SEVERITY_STYLE[section.condition.severity].tag[language];
      const note = overflowNote(section);
      return [
        '='.repeat(72),
        `${sectionTag}: ${sectionTitle(section)}`,
        '',
        section.condition.description[language],
        '',
        ...section.detailed.flatMap((member) => {
          const fold = memberFoldNote(member, language);
          return [
            `${words.from(member.detail.appliance.hostname)}:`,
            ...(fold ? [fold] : []),
            ...memberFacts(member, language).map((f) => `- ${f.label}: ${f.value}`),
            '',
          ];
        }),
        ...(note ? [note, ''] : []),
        `${words.checks}:`,
        ...section.condition.checks[language].map((step, i) => `${i + 1}. ${step}`),
        '',
      ];
    }),
    ...(compact.length > 0
      ? [
          '='.repeat(72),
          `${words.further(compact.length)}:`,
          words.furtherNote(detailedCount),
          '',
          ...compact.map((member) => `- ${compactRow(member).join(' | ')}`),
          '',
        ]
      : []),
    ...(alsoReported.length > 0
      ? [
          '='.repeat(72),
          `${words.alsoReported}:`,
          words.alsoReportedNote,
          '',
          ...shownAlso.flatMap((item) => [`- ${alsoLine(item)}`, `  ${supersededLine(item)}`]),
          ...(hiddenAlso > 0 ? ['', words.alsoMore(hiddenAlso)] : []),
          '',
        ]
      : []),
    ...policies.flatMap((p) => [p, '']),
    ...textClosing(adminLink, footer),
  ].join('\n');

  const cell = 'padding:16px 16px 0 16px;';
  const h2 = `${FONT};font-size:17px;line-height:1.3;margin:4px 0 0 0;color:#1a1a1a;`;
  const h3 = `${FONT};font-size:15px;font-weight:bold;margin:12px 0 6px 0;`;
  const table =
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">';
  const note = (value: string) =>
    `<p style="margin:0 0 8px 0;padding:8px 12px;background-color:#f2f2f2;border-left:4px solid #777777;">${htmlText(value, language)}</p>`;

  const html = emailHtml({
    language,
    title: subject,
    banner: { colour: style.colour, tint: style.tint, tag, heading },
    rows: [
      `<tr><td style="${cell}"><p style="margin:0;">${htmlText(summary, language)}</p></td></tr>`,
      ...sections.flatMap((section) => {
        const sectionStyle = SEVERITY_STYLE[section.condition.severity];
        const overflow = overflowNote(section);
        return [
          `<tr><td style="padding:24px 16px 0 16px;">`,
          `<div style="border-left:6px solid ${sectionStyle.colour};background-color:${sectionStyle.tint};padding:8px 12px;">`,
          `<div style="${FONT};font-size:12px;font-weight:bold;letter-spacing:1px;color:${sectionStyle.colour};">${htmlText(sectionStyle.tag[language], language)}</div>`,
          `<h2 style="${h2}">${htmlText(sectionTitle(section), language)}</h2>`,
          '</div>',
          `<p style="margin:8px 0 0 0;">${htmlText(section.condition.description[language], language)}</p>`,
          ...section.detailed.flatMap((member) => {
            const fold = memberFoldNote(member, language);
            return [
              `<h3 style="${h3}">${htmlText(words.from(member.detail.appliance.hostname), language)}</h3>`,
              ...(fold ? [note(fold)] : []),
              table,
              htmlFactRows(memberFacts(member, language), language),
              '</table>',
            ];
          }),
          ...(overflow ? [`<p style="margin:12px 0 0 0;">${htmlText(overflow, language)}</p>`] : []),
          `<h3 style="${h3}">${htmlText(words.checks, language)}</h3>`,
          '<ol style="margin:0;padding-left:24px;">',
          ...section.condition.checks[language].map(
            (step) => `<li style="margin:0 0 6px 0;">${htmlText(step, language)}</li>`,
          ),
          '</ol>',
          '</td></tr>',
        ];
      }),
      ...(compact.length > 0
        ? [
            `<tr><td style="padding:24px 16px 0 16px;">`,
            `<h2 style="${h2}">${htmlText(words.further(compact.length), language)}</h2>`,
            `<p style="margin:4px 0 8px 0;">${htmlText(words.furtherNote(detailedCount), language)}</p>`,
            // Attributes rather than a style per cell: hundreds of rows, each as small as it can be.
            `<table cellpadding="3" cellspacing="0" border="0" style="${FONT};font-size:13px;">`,
            `<tr>${words.columns.map((c) => `<th align="left" valign="top">${htmlText(c, language)}</th>`).join('')}</tr>`,
            ...compact.map(
              (member) =>
                `<tr>${compactRow(member)
                  .map((value) => `<td>${htmlText(value, language)}</td>`)
                  .join('')}</tr>`,
            ),
            '</table>',
            '</td></tr>',
          ]
        : []),
      ...(alsoReported.length > 0
        ? [
            `<tr><td style="padding:24px 16px 0 16px;">`,
            `<h2 style="${h2}">${htmlText(words.alsoReported, language)}</h2>`,
            `<p style="margin:4px 0 8px 0;">${htmlText(words.alsoReportedNote, language)}</p>`,
            '<ul style="margin:0;padding-left:24px;">',
            ...shownAlso.map(
              (item) =>
                `<li style="margin:0 0 8px 0;">${htmlText(alsoLine(item), language)}<br><span style="color:#555555;">${htmlText(supersededLine(item), language)}</span></li>`,
            ),
            '</ul>',
            ...(hiddenAlso > 0
              ? [`<p style="margin:8px 0 0 0;">${htmlText(words.alsoMore(hiddenAlso), language)}</p>`]
              : []),
            '</td></tr>',
          ]
        : []),
      ...policies.map(
        (p) =>
          `<tr><td style="${cell}"><p style="margin:0;font-size:13px;color:#555555;">${htmlText(p, language)}</p></td></tr>`,
      ),
    ],
    footer,
    adminLink,
  });

  return automaticMessage(
    config,
    { subject, text, html },
    {
      // The headline's id and condition, as the single-condition email names them, for filters
      // and scripts written against it.
      'X-Appliance-Notifier-Kind': 'group',
      'X-Appliance-Notifier-Event': headline.eventId,
      'X-Appliance-Notifier-Condition': headline.condition.id,
      'X-Appliance-Notifier-Cluster': clusterId,
      ...groupHeaders,
      ...(worst === 'critical' ? { 'X-Priority': '1', Importance: 'high' } : {}),
    },
  );
}
