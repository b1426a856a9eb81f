import { formatTime, type Language, redact } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import { secretsOf } from '../config/secrets.js';
import type { StoredEmailConfig } from '../config/stored-config.js';
import type { Clock, Log } from '../ports.js';
import { TEST_EMAIL_DEADLINE_MS } from './deadlines.js';
import { credentialsInClearWarning, notSentWarning } from './delivery-warnings.js';
import { type EgressMode, hintFor } from './diagnostics.js';
import {
  adminLinkFor,
  automaticMessage,
  emailHtml,
  htmlListRow,
  htmlParagraphRow,
  textClosing,
} from './email-layout.js';
import { DeliveryError, type DeliveryStage, type MailerFactory, type OutgoingMessage } from './mailer.js';

/** The answer to "does my configuration work, and if not, why?" (SPEC.md "Test-email result"). */
export interface TestEmailResult {
  ok: boolean;
  stage?: DeliveryStage;
  code?: number;
  enhancedCode?: string;
  message?: string;
  hint?: string;
  transcript?: string[];
  transient?: boolean;
  messageId?: string;
  /** Where the message went: the relay, SES, or the outbox file. */
  destination?: string;
  recipients: string[];
  rejected?: string[];
  /** What the admin should know even when ok (credentials sent in clear, a message not sent). */
  warnings?: string[];
  /** false: the message was only written to the outbox file `outbox`, not sent. */
  delivered?: boolean;
  outbox?: string;
  durationMs: number;
  at: string;
}

/** One line per setting in use; never a secret. Shared by the test email and the daily notice. */
export function describeDelivery(config: EmailConfig, language: Language): string[] {
  const de = language === 'de';
  if (config.transport === 'graph' && config.graph) {
    const { mailbox, endpoint, clientCertificate } = config.graph;
    return [
      `${de ? 'Versand: Microsoft Graph' : 'Transport: Microsoft Graph'} (${new URL(endpoint).host}, ${de ? 'Postfach' : 'mailbox'} ${mailbox})`,
      `${de ? 'Authentifizierung' : 'Authentication'}: ${de ? 'App-only-Token' : 'app-only token'} (${clientCertificate ? (de ? 'Zertifikat' : 'certificate') : de ? 'geheimer Clientschlüssel' : 'client secret'})`,
      `${de ? 'Absender' : 'Sender'}: ${config.sender}`,
    ];
  }
  if (config.transport === 'ses' || !config.smtp) {
    return [
      de ? 'Versand: Amazon SES' : 'Transport: Amazon SES',
      `${de ? 'Absender' : 'Sender'}: ${config.sender}`,
    ];
  }
  const { host, port, encryption, verifyCertificate, auth } = config.smtp;
  const encryptionText = { tls: 'TLS', starttls: 'STARTTLS', none: de ? 'Keine' : 'none' }[encryption];
  const certificate =
    encryption === 'none'
      ? ''
      : verifyCertificate
        ? de
          ? ', Zertifikat geprüft'
          : ', certificate verified'
        : de
          ? ', Zertifikat NICHT geprüft'
          : ', certificate NOT verified';
  const authText =
    auth.type === 'none'
      ? de
        ? 'Keine'
        : 'none'
      : auth.type === 'password'
        ? `${de ? 'Benutzername und Passwort' : 'username and password'} (${auth.username})`
        : `OAuth2 (${auth.provider}${auth.user ? `, ${auth.user}` : ''})`;
  return [
    `${de ? 'Versand: SMTP-Relay-Server' : 'Transport: SMTP relay'} ${host}:${port}`,
    `${de ? 'Verschlüsselung' : 'Encryption'}: ${encryptionText}${certificate}`,
    `${de ? 'Authentifizierung' : 'Authentication'}: ${authText}`,
    `${de ? 'Absender' : 'Sender'}: ${config.sender}`,
  ];
}

/** The test email: the settings it went out with, in the layout and with the headers of every message. */
export function composeTestEmail(
  stored: StoredEmailConfig,
  now: Date,
  publicBaseUrl?: string,
): OutgoingMessage {
  const { config, clusterId } = stored;
  const language = config.language;
  const de = language === 'de';
  const subject = de
    ? `Test-E-Mail von appliance-notifier (Cluster ${clusterId})`
    : `Test email from appliance-notifier (cluster ${clusterId})`;
  const heading = de ? 'Test-E-Mail: Die Zustellung funktioniert' : 'Test email: delivery works';
  const intro = de
    ? `Diese Test-E-Mail bestätigt, dass appliance-notifier mit den unten aufgeführten Einstellungen E-Mails an die Admin-Kontakte des Clusters ${clusterId} zustellen kann.`
    : `This test email confirms that appliance-notifier can deliver email to the admin contacts of cluster ${clusterId} with the settings below.`;
  const settingsHeading = de ? 'Verwendete Zustelleinstellungen' : 'Delivery settings in use';
  const settings = [
    ...describeDelivery(config, language),
    `${de ? 'Empfänger' : 'Recipients'}: ${config.adminContacts.join(', ')}`,
    `${de ? 'Gesendet' : 'Sent'}: ${formatTime(now, language)}`,
  ];
  const testId = `test-email:${clusterId}:${now.toISOString()}`;
  const adminLink = adminLinkFor(publicBaseUrl, clusterId, language);
  const footer = [
    de
      ? `Automatisch erstellte Nachricht von appliance-notifier für den Cluster ${clusterId}.`
      : `Automatic message from appliance-notifier for cluster ${clusterId}.`,
    `Test: ${testId}`,
  ];
  const text = [
    heading,
    '',
    intro,
    '',
    `${settingsHeading}:`,
    ...settings.map((line) => `- ${line}`),
    '',
    ...textClosing(adminLink, footer),
  ].join('\n');
  const html = emailHtml({
    language,
    title: subject,
    banner: { colour: '#1a4f9c', tint: '#e8f0fb', heading },
    rows: [htmlParagraphRow(intro, language), htmlListRow(settingsHeading, settings, language)],
    footer,
    adminLink,
  });
  return automaticMessage(
    config,
    { subject, text, html },
    {
      'X-Appliance-Notifier-Kind': 'test-email',
      'X-Appliance-Notifier-Cluster': clusterId,
      'X-Appliance-Notifier-Event': testId,
    },
  );
}

export interface TestEmailDeps {
  mailers: MailerFactory;
  clock: Clock;
  log: Log;
  /** The whole test may take this long (TEST_EMAIL_DEADLINE_MS by default); tests make it short. */
  deadlineMs?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): the email links the cluster's admin page. */
  publicBaseUrl?: string;
}

/** What is left for the send after an OAuth2 token request, never less than this. */
const MIN_SEND_BUDGET_MS = 1_000;

/** Sends the test email and turns any failure into a diagnosis; never throws for delivery problems. */
export async function sendTestEmail(
  deps: TestEmailDeps,
  stored: StoredEmailConfig,
): Promise<TestEmailResult> {
  const started = deps.clock();
  const message = composeTestEmail(stored, started, deps.publicBaseUrl);
  const secrets = secretsOf(stored.config);
  const finish = () => ({
    durationMs: deps.clock().getTime() - started.getTime(),
    at: started.toISOString(),
  });
  const inClear = credentialsInClearWarning(stored.config);
  if (inClear) {
    deps.log.warn('Test email: credentials go over an unencrypted connection (smtp.allowInsecureAuth)', {
      clusterId: stored.clusterId,
      host: stored.config.smtp?.host,
      port: stored.config.smtp?.port,
    });
  }
  try {
    const mailer = await deps.mailers.forConfig(stored.config, {
      clusterId: stored.clusterId,
      purpose: 'test-email',
    });
    // The admin waits behind API Gateway: the deadline covers the token request before the
    // send as well, so the send gets what is left of it.
    const deadlineMs = deps.deadlineMs ?? TEST_EMAIL_DEADLINE_MS;
    const elapsed = deps.clock().getTime() - started.getTime();
    const receipt = await mailer.send(message, {
      deadlineMs: Math.max(deadlineMs - elapsed, Math.min(MIN_SEND_BUDGET_MS, deadlineMs)),
    });
    const notSent = notSentWarning(receipt);
    const warnings = [inClear, notSent].filter((w): w is string => w !== undefined);
    deps.log.info(notSent ? 'Test email written to the outbox, not sent' : 'Test email sent', {
      clusterId: stored.clusterId,
      messageId: receipt.messageId,
      destination: receipt.destination,
    });
    return {
      ok: true,
      messageId: receipt.messageId,
      destination: receipt.destination,
      ...(notSent ? { delivered: false, outbox: receipt.destination } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      recipients: receipt.accepted,
      ...(receipt.rejected.length > 0 ? { rejected: receipt.rejected } : {}),
      ...(receipt.response ? { message: redact(receipt.response, secrets) } : {}),
      ...(receipt.transcript ? { transcript: receipt.transcript.map((line) => redact(line, secrets)) } : {}),
      ...finish(),
    };
  } catch (error) {
    if (!(error instanceof DeliveryError)) throw error;
    const { failure } = error;
    const hint = hintFor(failure, stored.config, deps.egress);
    deps.log.warn('Test email failed', {
      clusterId: stored.clusterId,
      stage: failure.stage,
      code: failure.code,
      enhancedCode: failure.enhancedCode,
      reason: failure.reason,
    });
    return {
      ok: false,
      stage: failure.stage,
      ...(failure.code !== undefined ? { code: failure.code } : {}),
      ...(failure.enhancedCode ? { enhancedCode: failure.enhancedCode } : {}),
      message: redact(failure.message, secrets),
      ...(hint ? { hint } : {}),
      transient: failure.transient,
      ...(failure.transcript ? { transcript: failure.transcript.map((line) => redact(line, secrets)) } : {}),
      recipients: message.to,
      ...(inClear ? { warnings: [inClear] } : {}),
      ...finish(),
    };
  }
}
