import type { EmailConfig } from '../core/config/email-config.js';
import { DeliveryError, type Mailer, type MailerFactory } from '../core/mail/mailer.js';
import type { AccessTokenSource } from '../core/oauth/oauth-ports.js';
import type { SmtpMailerOptions } from './smtp/smtp-mailer.js';

export interface TransportMailerFactoryOptions {
  /** The mailer for `transport: "ses"`: Amazon SES in AWS; SES-local or the outbox on one machine. */
  ses: () => Mailer | Promise<Mailer>;
  /** When set, every message goes here instead (the embedded runtime's dry-run mode). */
  outbox?: () => Mailer | Promise<Mailer>;
  smtpTimeouts?: SmtpMailerOptions['timeouts'];
  /** The relay's deadline for one whole send (SEND_DEADLINE_MS by default); tests make it short. */
  smtpDeadlineMs?: number;
  /** XOAUTH2 access tokens for `auth.type: "oauth2"` (the OAuthTokenProvider); without it OAuth2 cannot send. */
  oauthTokens?: AccessTokenSource;
}

// Loaded on first use and kept: an SES-only function never loads the SMTP stack, and a warm one
// does not pay for the module lookup on every send.
let smtpModule: Promise<typeof import('./smtp/smtp-mailer.js')> | undefined;
const loadSmtpMailer = () => {
  smtpModule ??= import('./smtp/smtp-mailer.js');
  return smtpModule;
};

/** Picks the transport a configuration asks for; SMTP code is loaded only when a relay is used. */
export class TransportMailerFactory implements MailerFactory {
  private sesMailer: Promise<Mailer> | undefined;

  constructor(private readonly options: TransportMailerFactoryOptions) {}

  async forConfig(config: EmailConfig, context: { clusterId: string }): Promise<Mailer> {
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
      const tokens = this.options.oauthTokens;
      if (!tokens) {
        throw new DeliveryError({
          stage: 'auth',
          transient: false,
          reason: 'OAUTH_NOT_AUTHORIZED',
          message: 'OAuth2 is configured but this service has no OAuth2 token provider',
        });
      }
      const { user, accessToken } = await tokens.accessTokenFor(context.clusterId);
      credentials = { user, accessToken };
    }
    const { SmtpMailer } = await loadSmtpMailer();
    const mailer = new SmtpMailer({
      settings,
      ...(credentials ? { credentials } : {}),
      ...(this.options.smtpTimeouts ? { timeouts: this.options.smtpTimeouts } : {}),
      ...(this.options.smtpDeadlineMs !== undefined ? { deadlineMs: this.options.smtpDeadlineMs } : {}),
    });
    const tokens = this.options.oauthTokens;
    if (auth.type !== 'oauth2' || !tokens) return mailer;
    // A relay that rejects the access token (revoked early, scope removed) gets a fresh one next time.
    return {
      send: async (message, options) => {
        try {
          return await mailer.send(message, options);
        } catch (error) {
          if (error instanceof DeliveryError && error.failure.stage === 'auth')
            tokens.invalidate(context.clusterId);
          throw error;
        }
      },
    };
  }
}
