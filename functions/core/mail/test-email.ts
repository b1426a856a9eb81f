import { escapeHtml, formatTime, type Language, redact } from '../../kernel/text.js';
import type { EmailConfig } from '../config/email-config.js';
import { secretsOf } from '../config/secrets.js';
import type { StoredEmailConfig } from '../config/stored-config.js';
import type { Clock, Log } from '../ports.js';
import { TEST_EMAIL_DEADLINE_MS } from './deadlines.js';
import { type EgressMode, hintFor } from './diagnostics.js';
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
  durationMs: number;
  at: string;
}

/** One line per setting in use; never a secret. Shared by the test email and the daily notice. */
export function describeDelivery(config: EmailConfig, language: Language): string[] {
  const de = language === 'de';
  if (config.transport === 'ses' || !config.smtp) {
    return [
      de ? 'Versand: Amazon SES' : 'Transport: Amazon SES',
      `${de ? 'Absender' : 'Sender'}: ${config.sender}`,
    ];
  }
  const { host, port, encryption, verifyCertificate, auth } = config.smtp;
  const encryptionText = { tls: 'TLS', starttls: 'STARTTLS', none: de ? 'keine' : 'none' }[encryption];
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
        ? 'keine'
        : 'none'
      : auth.type === 'password'
        ? `${de ? 'Benutzername und Passwort' : 'username and password'} (${auth.username})`
        : `OAuth2 (${auth.provider}${auth.user ? `, ${auth.user}` : ''})`;
  return [
    `${de ? 'Versand: SMTP-Relay' : 'Transport: SMTP relay'} ${host}:${port}`,
    `${de ? 'Verschlüsselung' : 'Encryption'}: ${encryptionText}${certificate}`,
    `${de ? 'Authentifizierung' : 'Authentication'}: ${authText}`,
    `${de ? 'Absender' : 'Sender'}: ${config.sender}`,
  ];
}

export function composeTestEmail(stored: StoredEmailConfig, now: Date): OutgoingMessage {
  const { config, clusterId } = stored;
  const de = config.language === 'de';
  const subject = de
    ? `Test-E-Mail von appliance-notifier (Cluster ${clusterId})`
    : `Test email from appliance-notifier (cluster ${clusterId})`;
  const intro = de
    ? `Diese Test-E-Mail bestätigt, dass appliance-notifier mit den gespeicherten Einstellungen E-Mails an die Admin-Kontakte des Clusters ${clusterId} zustellen kann.`
    : `This test email confirms that appliance-notifier can deliver email to the admin contacts of cluster ${clusterId} with the saved settings.`;
  const settings = describeDelivery(config, config.language);
  const recipients = `${de ? 'Empfänger' : 'Recipients'}: ${config.adminContacts.join(', ')}`;
  const sent = `${de ? 'Gesendet' : 'Sent'}: ${formatTime(now, config.language)}`;
  const text = [intro, '', ...settings, recipients, sent, ''].join('\n');
  const html = [
    `<p>${escapeHtml(intro)}</p>`,
    '<ul>',
    ...[...settings, recipients, sent].map((line) => `<li>${escapeHtml(line)}</li>`),
    '</ul>',
  ].join('\n');
  return {
    from: config.sender,
    to: config.adminContacts,
    subject,
    text,
    html,
    headers: { 'X-Appliance-Notifier-Kind': 'test-email', 'X-Appliance-Notifier-Cluster': clusterId },
  };
}

export interface TestEmailDeps {
  mailers: MailerFactory;
  clock: Clock;
  log: Log;
  /** The whole test may take this long (TEST_EMAIL_DEADLINE_MS by default); tests make it short. */
  deadlineMs?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
}

/** What is left for the send after an OAuth2 token request, never less than this. */
const MIN_SEND_BUDGET_MS = 1_000;

/** Sends the test email and turns any failure into a diagnosis; never throws for delivery problems. */
export async function sendTestEmail(
  deps: TestEmailDeps,
  stored: StoredEmailConfig,
): Promise<TestEmailResult> {
  const started = deps.clock();
  const message = composeTestEmail(stored, started);
  const secrets = secretsOf(stored.config);
  const finish = () => ({
    durationMs: deps.clock().getTime() - started.getTime(),
    at: started.toISOString(),
  });
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
    deps.log.info('Test email sent', {
      clusterId: stored.clusterId,
      messageId: receipt.messageId,
      destination: receipt.destination,
    });
    return {
      ok: true,
      messageId: receipt.messageId,
      destination: receipt.destination,
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
      ...finish(),
    };
  }
}
