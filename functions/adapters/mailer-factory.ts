import type { EmailConfig } from '../core/config-model.js';
import { DeliveryError, type Mailer, type MailerFactory } from '../core/ports.js';
import type { SmtpMailerOptions } from './smtp-mailer.js';

export interface TransportMailerFactoryOptions {
  /** The mailer for `transport: "ses"`: Amazon SES in AWS; SES-local or the outbox on one machine. */
  ses: () => Mailer | Promise<Mailer>;
  /** When set, every message goes here instead (the embedded runtime's dry-run mode). */
  outbox?: () => Mailer | Promise<Mailer>;
  smtpTimeouts?: SmtpMailerOptions['timeouts'];
}

/** Picks the transport a configuration asks for; SMTP code is loaded only when a relay is used. */
export class TransportMailerFactory implements MailerFactory {
  private sesMailer: Promise<Mailer> | undefined;

  constructor(private readonly options: TransportMailerFactoryOptions) {}

  async forConfig(config: EmailConfig, _context: { clusterId: string }): Promise<Mailer> {
    if (this.options.outbox) return this.options.outbox();
    if (config.transport === 'ses' || !config.smtp) {
      this.sesMailer ??= Promise.resolve(this.options.ses());
      return this.sesMailer;
    }
    const settings = config.smtp;
    const auth = settings.auth;
    let credentials: SmtpMailerOptions['credentials'];
    if (auth.type === 'password') {
      credentials = { user: auth.username, pass: auth.password ?? '' };
    } else if (auth.type === 'oauth2') {
      throw new DeliveryError({
        stage: 'auth',
        transient: false,
        reason: 'OAUTH_NOT_AUTHORIZED',
        message: 'OAuth2 is configured but not authorized yet: no refresh token is stored for this cluster',
      });
    }
    const { SmtpMailer } = await import('./smtp-mailer.js');
    return new SmtpMailer({
      settings,
      ...(credentials ? { credentials } : {}),
      ...(this.options.smtpTimeouts ? { timeouts: this.options.smtpTimeouts } : {}),
    });
  }
}
