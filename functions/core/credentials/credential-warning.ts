// One email to the admin contacts per credential and threshold (14, 3 and 1 days before its
// expiry, and the day it expired), sent by the daily-notice run. Exactly once: each warning has a
// deterministic id that the delivery ledger's claim lets through once, across runs, retries and
// concurrent runs; a new expiry date (the secret was renewed) is a new warning.

import { formatTime } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import {
  adminLinkFor,
  automaticMessage,
  emailHtml,
  htmlParagraphRow,
  textClosing,
} from '../mail/email-layout.js';
import type { OutgoingMessage } from '../mail/mailer.js';
import {
  type CredentialExpiry,
  type CredentialGrantFacts,
  type CredentialHealth,
  credentialExpiries,
  DEFAULT_CREDENTIAL_WARNING_DAYS,
  expiryHealth,
  thresholdReached,
} from './credential-health.js';
import { credentialSentence } from './credential-words.js';

/** A warning that is due: the credential, the threshold it reached, and its health now. */
export interface DueCredentialWarning {
  /** `credential-warning:<cluster>:<credential>:<threshold>:<expiresAt>`: the ledger claims it once. */
  id: string;
  threshold: number;
  health: CredentialHealth & { credential: CredentialExpiry['credential']; expiresAt: string };
}

/** The warnings due today: one per credential, at the smallest threshold it has reached. */
export function dueCredentialWarnings(input: {
  clusterId: string;
  config: EmailConfig;
  grant?: CredentialGrantFacts | undefined;
  now: Date;
  warningDays?: number;
}): DueCredentialWarning[] {
  const warningDays = input.warningDays ?? DEFAULT_CREDENTIAL_WARNING_DAYS;
  const due: DueCredentialWarning[] = [];
  for (const expiry of credentialExpiries(input.config, input.grant)) {
    const health = expiryHealth(expiry, input.now, warningDays);
    const threshold = thresholdReached(health.daysLeft ?? Number.POSITIVE_INFINITY, warningDays);
    if (threshold === undefined) continue;
    const expiresAt = expiry.expiresAt.toISOString();
    due.push({
      id: `credential-warning:${input.clusterId}:${expiry.credential}:${threshold}:${expiresAt}`,
      threshold,
      health: { ...health, credential: expiry.credential, expiresAt },
    });
  }
  return due;
}

const WORDS = {
  en: {
    heading: (expired: boolean) => (expired ? 'A credential has expired' : 'A credential expires soon'),
    subject: (expired: boolean, clusterId: string) =>
      `appliance-notifier: ${expired ? 'credential expired' : 'credential expires soon'} (cluster ${clusterId})`,
    intro: (clusterId: string) =>
      `appliance-notifier sends the alerts of cluster ${clusterId} with this credential. Once it stops working, alerts and the daily notice no longer arrive.`,
    footer: (clusterId: string) => `Automatic message from appliance-notifier for cluster ${clusterId}.`,
    warning: 'Warning',
    generated: 'Generated',
  },
  de: {
    heading: (expired: boolean) =>
      expired ? 'Eine Anmeldeinformation ist abgelaufen' : 'Eine Anmeldeinformation läuft bald ab',
    subject: (expired: boolean, clusterId: string) =>
      `appliance-notifier: ${expired ? 'Anmeldeinformation abgelaufen' : 'Anmeldeinformation läuft bald ab'} (Cluster ${clusterId})`,
    intro: (clusterId: string) =>
      `appliance-notifier versendet die Warnmeldungen des Clusters ${clusterId} mit dieser Anmeldeinformation. Funktioniert sie nicht mehr, kommen weder Warnmeldungen noch der Tagesbericht an.`,
    footer: (clusterId: string) =>
      `Automatisch erstellte Nachricht von appliance-notifier für den Cluster ${clusterId}.`,
    warning: 'Warnung',
    generated: 'Erstellt',
  },
} as const;

/** The warning email, in the layout of the other emails. */
export function composeCredentialWarning(input: {
  clusterId: string;
  config: EmailConfig;
  warning: DueCredentialWarning;
  now: Date;
  publicBaseUrl?: string;
}): OutgoingMessage {
  const { clusterId, config, warning, now } = input;
  const language = config.language;
  const words = WORDS[language];
  const expired = warning.health.status === 'expired';
  const subject = words.subject(expired, clusterId);
  const sentence = credentialSentence(warning.health, language) ?? '';
  const adminLink = adminLinkFor(input.publicBaseUrl, clusterId, language);
  const footer = [
    words.footer(clusterId),
    `${words.warning}: ${warning.id}`,
    `${words.generated}: ${formatTime(now, language)}`,
  ];
  const colour = expired ? '#b00020' : '#b36b00';
  const tint = expired ? '#fdecee' : '#fff4e0';
  const text = [
    words.heading(expired),
    '',
    sentence,
    '',
    words.intro(clusterId),
    '',
    ...textClosing(adminLink, footer),
  ].join('\n');
  const html = emailHtml({
    language,
    title: subject,
    banner: { colour, tint, heading: words.heading(expired) },
    rows: [
      htmlParagraphRow(
        sentence,
        language,
        `padding:8px 12px;background-color:${tint};border-left:4px solid ${colour};`,
      ),
      htmlParagraphRow(words.intro(clusterId), language),
    ],
    footer,
    ...(adminLink ? { adminLink } : {}),
  });
  return automaticMessage(
    config,
    { subject, text, html },
    {
      'X-Appliance-Notifier-Kind': 'credential-warning',
      'X-Appliance-Notifier-Cluster': clusterId,
      'X-Appliance-Notifier-Event': warning.id,
    },
  );
}
