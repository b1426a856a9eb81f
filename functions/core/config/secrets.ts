import type { FieldIssue } from '../../kernel/field-issues.js';
import type { EmailConfig, SmtpAuth } from './email-config.js';
import type { StoredEmailConfig } from './stored-config.js';

// Secrets are write-only: a save may leave them out, GET never returns them, and every
// transcript and message is redacted with them.

/** A save that leaves a secret out keeps the stored one (for the same kind of authentication). */
export function keepStoredSecrets(input: EmailConfig, previous: EmailConfig | undefined): EmailConfig {
  if (input.graph) return keepStoredGraphSecrets(input, previous);
  const auth = input.smtp?.auth;
  const before = previous?.smtp?.auth;
  if (!auth || !before || auth.type !== before.type) return input;
  if (auth.type === 'password' && before.type === 'password' && auth.password === undefined) {
    return withAuth(input, { ...auth, password: before.password });
  }
  if (auth.type === 'oauth2' && before.type === 'oauth2' && auth.flow === 'service-account') {
    // A service account key sent back without its private key (GET's view) keeps the stored
    // one, only for the same key of the same service account.
    const key = auth.serviceAccountKey;
    const stored = before.serviceAccountKey;
    return key &&
      key.private_key === undefined &&
      stored?.private_key &&
      stored.client_email === key.client_email &&
      stored.private_key_id === key.private_key_id
      ? withAuth(input, {
          ...auth,
          serviceAccountKey: { ...stored, ...key, private_key: stored.private_key },
        })
      : input;
  }
  if (auth.type === 'oauth2' && before.type === 'oauth2') {
    // A certificate saved without its key keeps the stored key, only for the same certificate:
    // a key never pairs with a certificate it was not checked against.
    const keptKey =
      auth.clientCertificate &&
      auth.clientCertificate.privateKeyPem === undefined &&
      before.clientCertificate?.privateKeyPem &&
      before.clientCertificate.certificatePem === auth.clientCertificate.certificatePem
        ? {
            clientCertificate: {
              ...auth.clientCertificate,
              privateKeyPem: before.clientCertificate.privateKeyPem,
            },
          }
        : {};
    const keptSecret = auth.clientSecret === undefined ? { clientSecret: before.clientSecret } : {};
    return withAuth(input, { ...auth, ...keptSecret, ...keptKey });
  }
  return input;
}

function withAuth(config: EmailConfig, auth: SmtpAuth): EmailConfig {
  if (!config.smtp) return config;
  return { ...config, smtp: { ...config.smtp, auth } };
}

/** Secrets a configuration cannot work without, after the stored ones were merged in. */
export function missingSecrets(config: EmailConfig): FieldIssue[] {
  if (config.graph) return missingGraphSecrets(config.graph);
  const auth = config.smtp?.auth;
  if (auth?.type === 'password' && !auth.password) {
    return [{ path: 'smtp.auth.password', message: 'is required (no password is stored yet)' }];
  }
  if (auth?.type === 'oauth2' && auth.flow === 'service-account') {
    return auth.serviceAccountKey?.private_key
      ? []
      : [
          {
            path: 'smtp.auth.serviceAccountKey.private_key',
            message:
              'is required (no private key is stored for this service account key yet): save the whole JSON key file',
          },
        ];
  }
  if (auth?.type === 'oauth2' && auth.flow === 'client-credentials') {
    if (auth.clientCertificate && !auth.clientCertificate.privateKeyPem) {
      return [
        {
          path: 'smtp.auth.clientCertificate.privateKeyPem',
          message: 'is required (no private key is stored for this certificate yet)',
        },
      ];
    }
    if (!auth.clientCertificate && !auth.clientSecret) {
      return [
        {
          path: 'smtp.auth.clientSecret',
          message:
            'flow "client-credentials" needs a client secret or a clientCertificate ({ privateKeyPem, certificatePem })',
        },
      ];
    }
    return [];
  }
  if (auth?.type === 'oauth2' && !auth.clientSecret) {
    return [{ path: 'smtp.auth.clientSecret', message: 'is required (no client secret is stored yet)' }];
  }
  return [];
}

/**
 * Every secret value of a configuration (or of a stored document, which adds the OAuth2
 * refresh token), for redaction of transcripts and messages.
 */
export function secretsOf(configOrDocument: EmailConfig | StoredEmailConfig | undefined): string[] {
  if (configOrDocument && 'config' in configOrDocument) {
    const refreshToken = configOrDocument.oauth?.refreshToken;
    return [...secretsOf(configOrDocument.config), ...(refreshToken ? [refreshToken] : [])];
  }
  const graph = configOrDocument?.graph;
  if (graph) {
    return [graph.clientSecret, graph.clientCertificate?.privateKeyPem].filter((s): s is string =>
      Boolean(s),
    );
  }
  const auth = configOrDocument?.smtp?.auth;
  if (auth?.type === 'password') return auth.password ? [auth.password] : [];
  if (auth?.type === 'oauth2') {
    return [
      auth.clientSecret,
      auth.clientCertificate?.privateKeyPem,
      auth.serviceAccountKey?.private_key,
    ].filter((s): s is string => Boolean(s));
  }
  return [];
}

// transport "graph": the same rules as app-only SMTP, for the graph block.

function keepStoredGraphSecrets(input: EmailConfig, previous: EmailConfig | undefined): EmailConfig {
  const graph = input.graph;
  const before = previous?.graph;
  if (!graph || !before) return input;
  const certificate = graph.clientCertificate;
  const keptKey =
    certificate &&
    certificate.privateKeyPem === undefined &&
    before.clientCertificate?.privateKeyPem &&
    before.clientCertificate.certificatePem === certificate.certificatePem
      ? { clientCertificate: { ...certificate, privateKeyPem: before.clientCertificate.privateKeyPem } }
      : {};
  const keptSecret = graph.clientSecret === undefined ? { clientSecret: before.clientSecret } : {};
  return { ...input, graph: { ...graph, ...keptSecret, ...keptKey } };
}

function missingGraphSecrets(graph: NonNullable<EmailConfig['graph']>): FieldIssue[] {
  if (graph.clientCertificate && !graph.clientCertificate.privateKeyPem) {
    return [
      {
        path: 'graph.clientCertificate.privateKeyPem',
        message: 'is required (no private key is stored for this certificate yet)',
      },
    ];
  }
  if (!graph.clientCertificate && !graph.clientSecret) {
    return [
      {
        path: 'graph.clientSecret',
        message:
          'transport "graph" needs a client secret or a clientCertificate ({ privateKeyPem, certificatePem })',
      },
    ];
  }
  return [];
}
