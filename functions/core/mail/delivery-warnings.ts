import type { EmailConfig } from '../config/email-config.js';
import type { SendReceipt } from './mailer.js';

// What a test email's result says even when it is ok: the admin decides whether it is acceptable.

/** Credentials that the configuration sends over an unencrypted connection (allowed by smtp.allowInsecureAuth). */
export function credentialsInClearWarning(config: EmailConfig): string | undefined {
  const smtp = config.transport === 'smtp' ? config.smtp : undefined;
  if (smtp?.encryption !== 'none' || smtp.auth.type === 'none') return undefined;
  const what = smtp.auth.type === 'password' ? 'The password' : 'The OAuth2 access token';
  return `${what} was sent in clear text (encryption "none"${smtp.allowInsecureAuth ? ', allowed by smtp.allowInsecureAuth' : ''}). Anyone on the network path to ${smtp.host}:${smtp.port} can read it; use "starttls" or "tls" if the relay offers it.`;
}

/** A message written to a file instead of sent. */
export function notSentWarning(receipt: SendReceipt): string | undefined {
  if (!receipt.notSent) return undefined;
  return `Not sent: the message was written to the outbox file ${receipt.destination}, because ${receipt.notSent.reason}. No admin contact received it.`;
}
