import { type EmailConfig, type GraphSettings, hasNoGrant } from '../core/config/email-config.js';
import { graphScopeOf } from '../core/config/graph-endpoints.js';
import { effectiveRelayLimits } from '../core/config/presets.js';
import { secretsOf } from '../core/config/secrets.js';
import { DeliveryError, type Mailer, type MailerContext, type MailerFactory } from '../core/mail/mailer.js';
import type { RelayAddressPolicy } from '../core/mail/relay-address-policy.js';
import { type RelayGate, relayIdentity } from '../core/mail/relay-gate.js';
import type { AppOnlyCredential } from '../core/oauth/app-only-tokens.js';
import type { AccessTokenSource } from '../core/oauth/oauth-ports.js';
import type { RelayLookup } from './smtp/relay-resolver.js';
import type { SmtpMailerOptions } from './smtp/smtp-mailer.js';
import type { SmtpPools } from './smtp/smtp-pool.js';

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
  /**
   * The relays' limits as every process shares them. With it, notifications (not the test
   * email) go over pooled connections, paced per relay identity; without it, each message
   * opens a connection of its own, unpaced.
   */
  relayGate?: RelayGate;
  /** The pools to use (tests: their own, with a short idle time); this process's shared ones by default. */
  smtpPools?: SmtpPools;
  /**
   * Which addresses a relay may be at: the Lambdas pass the deployment's (allowedRelayCidrs,
   * allowedRelayHosts); the embedded runtime's policy (private and loopback allowed) otherwise.
   */
  relayAddresses?: RelayAddressPolicy;
  /** Resolves relay names (dns.promises.lookup by default; tests inject their own). */
  relayLookup?: RelayLookup;
  /** transport "graph": the fetch for Graph's requests (global fetch by default). */
  graphFetch?: typeof fetch;
}

// Loaded on first use and kept: an SES-only function never loads the SMTP stack, and a warm one
// does not pay for the module lookup on every send.
let smtpModule: Promise<typeof import('./smtp/smtp-mailer.js')> | undefined;
const loadSmtpMailer = () => {
  smtpModule ??= import('./smtp/smtp-mailer.js');
  return smtpModule;
};
let graphModule: Promise<typeof import('./graph/graph-mailer.js')> | undefined;
const loadGraphMailer = () => {
  graphModule ??= import('./graph/graph-mailer.js');
  return graphModule;
};
let poolModule: Promise<typeof import('./smtp/smtp-pool.js')> | undefined;
const loadSmtpPool = () => {
  poolModule ??= import('./smtp/smtp-pool.js');
  return poolModule;
};

/** Picks the transport a configuration asks for; SMTP code is loaded only when a relay is used. */
export class TransportMailerFactory implements MailerFactory {
  private sesMailer: Promise<Mailer> | undefined;

  constructor(private readonly options: TransportMailerFactoryOptions) {}

  prepare(config: EmailConfig): void {
    if (!this.options.outbox && config.transport === 'graph') {
      loadGraphMailer().catch(() => {});
      return;
    }
    if (this.options.outbox || config.transport === 'ses' || !config.smtp) return;
    // What forConfig loads for a notification; a failed load rejects there again.
    (this.options.relayGate ? loadSmtpPool() : loadSmtpMailer()).catch(() => {});
  }

  async forConfig(config: EmailConfig, context: MailerContext): Promise<Mailer> {
    if (this.options.outbox) return this.options.outbox();
    if (config.transport === 'graph' && config.graph) return this.graphMailer(config, config.graph, context);
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
      // A test email may be of a configuration not saved yet: a flow without a grant gets its
      // token from that configuration's own credentials.
      const { user, accessToken } = await tokens.accessTokenFor(
        context.clusterId,
        context.purpose === 'test-email' && hasNoGrant(auth) ? auth : undefined,
      );
      credentials = { user, accessToken };
    }
    const mailerOptions: SmtpMailerOptions = {
      settings,
      ...(credentials ? { credentials } : {}),
      ...(this.options.smtpTimeouts ? { timeouts: this.options.smtpTimeouts } : {}),
      ...(this.options.smtpDeadlineMs !== undefined ? { deadlineMs: this.options.smtpDeadlineMs } : {}),
      ...(this.options.relayAddresses ? { relayAddresses: this.options.relayAddresses } : {}),
      ...(this.options.relayLookup ? { lookup: this.options.relayLookup } : {}),
    };
    let mailer: Mailer;
    const gate = this.options.relayGate;
    if (gate && context.purpose !== 'test-email') {
      const { sharedSmtpPools } = await loadSmtpPool();
      const pools = this.options.smtpPools ?? sharedSmtpPools(gate);
      if (credentials && 'accessToken' in credentials) {
        // Each new pooled connection asks for a token: the provider's cached one, or a fresh
        // one when the relay refused the last.
        const { clusterId } = context;
        const tokens = this.options.oauthTokens;
        credentials.provision = async (renew) => {
          if (!tokens) throw new Error('no OAuth2 token provider');
          if (renew) tokens.invalidate(clusterId);
          return (await tokens.accessTokenFor(clusterId)).accessToken;
        };
      }
      mailer = pools.mailer({
        ...mailerOptions,
        identity: relayIdentity(settings, credentials?.user),
        limits: effectiveRelayLimits(settings),
        ...(auth.type === 'oauth2' ? { partition: context.clusterId } : {}),
      });
    } else {
      const { SmtpMailer } = await loadSmtpMailer();
      mailer = new SmtpMailer(mailerOptions);
    }
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
  /** transport "graph": Microsoft Graph sendMail with an app-only token, paced per mailbox for notifications. */
  private async graphMailer(
    config: EmailConfig,
    graph: GraphSettings,
    context: MailerContext,
  ): Promise<Mailer> {
    const tokens = this.options.oauthTokens?.graphTokens;
    if (!tokens) {
      throw new DeliveryError({
        stage: 'token',
        transient: false,
        reason: 'OAUTH_NOT_AUTHORIZED',
        message: 'transport "graph" is configured but this service has no token provider for it',
      });
    }
    const { GraphMailer, graphHolder } = await loadGraphMailer();
    const { clusterId } = context;
    const credential: AppOnlyCredential = {
      tokenEndpoint: graph.tokenEndpoint,
      clientId: graph.clientId,
      scopes: [graphScopeOf(graph.endpoint)],
      clientSecret: graph.clientSecret,
      clientCertificate: graph.clientCertificate,
      user: graph.mailbox,
    };
    const gate = this.options.relayGate;
    return new GraphMailer({
      settings: graph,
      accessToken: async (renew) => {
        if (renew) tokens.invalidate(clusterId);
        return tokens.accessToken(clusterId, credential);
      },
      secrets: secretsOf(config),
      ...(this.options.smtpDeadlineMs !== undefined ? { deadlineMs: this.options.smtpDeadlineMs } : {}),
      ...(this.options.graphFetch ? { fetch: this.options.graphFetch } : {}),
      ...(gate && context.purpose !== 'test-email' ? { pacing: { gate, holder: graphHolder } } : {}),
    });
  }
}
