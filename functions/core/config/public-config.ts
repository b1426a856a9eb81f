import type { CredentialHealth } from '../credentials/credential-health.js';
import { type CertificateFacts, certificateFacts } from './client-certificate.js';
import {
  type EmailConfig,
  type GraphSettings,
  graphLimitsOf,
  type SmtpAuth,
  type SmtpSettings,
} from './email-config.js';
import { type EffectiveRelayLimits, effectiveRelayLimits } from './presets.js';
import { type ServiceAccountKeyFacts, serviceAccountKeyFacts } from './service-account-key.js';
import { grantMatches, type OAuthGrantStatus, type StoredEmailConfig } from './stored-config.js';

type PasswordAuth = Extract<SmtpAuth, { type: 'password' }>;
type OAuth2Auth = Extract<SmtpAuth, { type: 'oauth2' }>;

/** An SMTP authentication as an admin sees it: write-only secrets become `…Set` flags. */
export type PublicSmtpAuth =
  | Extract<SmtpAuth, { type: 'none' }>
  | (Omit<PasswordAuth, 'password'> & { passwordSet: boolean })
  | (Omit<OAuth2Auth, 'clientSecret' | 'clientCertificate' | 'serviceAccountKey'> & {
      clientSecretSet: boolean;
      /** App-only with a certificate: the certificate and what it says; the private key only as `privateKeySet`. */
      clientCertificate?: { certificatePem: string; privateKeySet: boolean } & Partial<CertificateFacts>;
      /** Flow `service-account`: what the JSON key says; the private key only as `privateKeySet`. */
      serviceAccountKey?: ServiceAccountKeyFacts;
    });

/** The configuration as the API returns it (GET, and PUT's `config`). */
export type PublicGraphSettings = Omit<
  GraphSettings,
  'clientSecret' | 'clientCertificate' | 'effectiveLimits'
> & {
  clientSecretSet: boolean;
  clientCertificate?: { certificatePem: string; privateKeySet: boolean } & Partial<CertificateFacts>;
  /** Read-only: the per-mailbox limits sending keeps to (`graph.limits`, else Exchange Online's). */
  effectiveLimits: ReturnType<typeof graphLimitsOf>;
};

export type PublicEmailConfig = Omit<EmailConfig, 'smtp' | 'graph'> & {
  clusterId: string;
  smtp?: Omit<SmtpSettings, 'auth' | 'effectiveLimits'> & {
    auth: PublicSmtpAuth;
    /** Read-only: the limits delivery keeps to (`smtp.limits`, else the host's preset) and their source. */
    effectiveLimits: EffectiveRelayLimits;
  };
  /** `transport: "graph"`: the secret as `clientSecretSet`, the certificate's key as `privateKeySet`. */
  graph?: PublicGraphSettings;
  /** For OAuth2 relays: the grant's status, never a token. */
  oauth?: PublicOAuthStatus;
  /** Read-only: how long the credentials still work (GET and the fleet overview); absent without credentials. */
  credentialHealth?: CredentialHealth;
  updatedAt: string;
};

/**
 * What GET returns: secrets replaced by `passwordSet` / `clientSecretSet`, and for OAuth2 the
 * grant's status (never a token).
 */
export function toPublicConfig(
  stored: StoredEmailConfig,
  credentialHealth?: CredentialHealth,
): PublicEmailConfig {
  const { smtp: settings, graph: graphSettings, ...config } = stored.config;
  const graph = graphSettings && publicGraph(graphSettings);
  const smtp = settings && {
    ...settings,
    auth: publicAuth(settings.auth),
    effectiveLimits: effectiveRelayLimits(settings),
  };
  const oauth =
    config.transport === 'smtp' && settings?.auth.type === 'oauth2' ? publicOAuth(stored) : undefined;
  return {
    clusterId: stored.clusterId,
    ...config,
    ...(smtp ? { smtp } : {}),
    ...(graph ? { graph } : {}),
    ...(oauth ? { oauth } : {}),
    ...(credentialHealth ? { credentialHealth } : {}),
    updatedAt: stored.updatedAt,
  };
}

export interface PublicOAuthStatus {
  /**
   * `app-only`: the client-credentials flow; `service-account`: a Google service account with
   * domain-wide delegation. Neither has a grant to authorize.
   */
  status: OAuthGrantStatus | 'app-only' | 'service-account';
  authorizedAt?: string;
  authorizedAs?: string;
  lastRefreshAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

function publicOAuth(stored: StoredEmailConfig): PublicOAuthStatus {
  const auth = stored.config.smtp?.auth;
  if (auth?.type === 'oauth2' && auth.flow === 'client-credentials') return { status: 'app-only' };
  if (auth?.type === 'oauth2' && auth.flow === 'service-account') return { status: 'service-account' };
  const grant = stored.oauth && grantMatches(stored.oauth, stored.config) ? stored.oauth : undefined;
  if (!grant) return { status: 'needs-authorization' };
  // Listed field by field: a field added to the grant later stays private until it is added here.
  const { status, authorizedAt, authorizedAs, lastRefreshAt, lastError, lastErrorAt } = grant;
  return {
    status: status === 'authorized' && grant.refreshToken ? 'authorized' : 'needs-authorization',
    authorizedAt,
    ...(authorizedAs !== undefined ? { authorizedAs } : {}),
    ...(lastRefreshAt !== undefined ? { lastRefreshAt } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
    ...(lastErrorAt !== undefined ? { lastErrorAt } : {}),
  };
}

function publicAuth(auth: SmtpAuth): PublicSmtpAuth {
  switch (auth.type) {
    case 'none':
      return auth;
    case 'password': {
      const { password, ...rest } = auth;
      return { ...rest, passwordSet: Boolean(password) };
    }
    case 'oauth2': {
      const { clientSecret, clientCertificate, serviceAccountKey, ...rest } = auth;
      return {
        ...rest,
        clientSecretSet: Boolean(clientSecret),
        ...(clientCertificate
          ? {
              clientCertificate: {
                certificatePem: clientCertificate.certificatePem,
                privateKeySet: Boolean(clientCertificate.privateKeyPem),
                ...certificateFacts(clientCertificate.certificatePem),
              },
            }
          : {}),
        ...(serviceAccountKey ? { serviceAccountKey: serviceAccountKeyFacts(serviceAccountKey) } : {}),
      };
    }
  }
}

function publicCertificate(certificate: { certificatePem: string; privateKeyPem?: string | undefined }) {
  return {
    certificatePem: certificate.certificatePem,
    privateKeySet: Boolean(certificate.privateKeyPem),
    ...certificateFacts(certificate.certificatePem),
  };
}

function publicGraph(graph: GraphSettings): PublicGraphSettings {
  const { clientSecret, clientCertificate, ...rest } = graph;
  return {
    ...rest,
    clientSecretSet: Boolean(clientSecret),
    ...(clientCertificate ? { clientCertificate: publicCertificate(clientCertificate) } : {}),
    effectiveLimits: graphLimitsOf(graph),
  };
}
