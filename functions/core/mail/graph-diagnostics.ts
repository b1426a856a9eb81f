// Hints for `transport: "graph"` (Microsoft Graph sendMail with an app-only token). Core: knows
// the reasons the Graph mailer reports and Entra ID's AADSTS codes, never fetch.
import type { EmailConfig } from '../config/email-config.js';
import type { DeliveryFailure } from './mailer.js';

/** What the Graph mailer puts in DeliveryFailure.reason (stage `send`); the HTTP status is in `code`. */
export const GRAPH_REASONS = {
  /** 401 (InvalidAuthenticationToken): the token was refused; a new one is fetched and tried once. */
  unauthorized: 'GRAPH_UNAUTHORIZED',
  /** 403 (ErrorAccessDenied): no Mail.Send application permission, or an access policy excludes the mailbox. */
  accessDenied: 'GRAPH_ACCESS_DENIED',
  /** 404 (ErrorInvalidUser, ResourceNotFound, MailboxNotEnabledForRESTAPI). */
  mailboxNotFound: 'GRAPH_MAILBOX_NOT_FOUND',
  /** Another 4xx (ErrorInvalidRecipients, a malformed message): refused for good. */
  badRequest: 'GRAPH_BAD_REQUEST',
  /** 429: the mailbox's limit; `waitMs` from Retry-After. */
  throttled: 'GRAPH_THROTTLED',
  /** 5xx: Graph or Exchange is unavailable for now. */
  unavailable: 'GRAPH_UNAVAILABLE',
  /** No HTTP answer at all (connection refused, DNS, TLS, reset). */
  unreachable: 'GRAPH_UNREACHABLE',
  /** An answer that is neither 202 nor an error (a redirect, another 2xx). */
  unexpected: 'GRAPH_UNEXPECTED_RESPONSE',
} as const;

const RETRIED = 'Delivery will be retried.';

type GraphSettings = NonNullable<EmailConfig['graph']>;

const APP_ONLY_AADSTS: Record<string, string> = {
  AADSTS7000215:
    'Entra ID did not accept the client secret (AADSTS7000215): enter the secret’s Value (shown once, when it is created under Certificates & secrets), not its Secret ID.',
  AADSTS7000222:
    'The client secret has expired (AADSTS7000222): create a new one under Certificates & secrets in the app registration and save its Value in graph.clientSecret.',
  AADSTS700027:
    'Entra ID did not accept the client assertion (AADSTS700027): upload this certificate (graph.clientCertificate.certificatePem, its thumbprint is shown in the configuration) under Certificates & secrets > Certificates of the app registration, and check that it has not expired.',
  AADSTS700016:
    'Entra ID does not know this application in the tenant (AADSTS700016): check graph.clientId and graph.tenant (its ID or domain).',
  AADSTS90002:
    'Entra ID does not know this tenant (AADSTS90002): set graph.tenant to the directory (tenant) ID or its domain.',
  AADSTS7000218:
    'Entra ID wants a client secret or a certificate (AADSTS7000218): save graph.clientSecret or graph.clientCertificate.',
  AADSTS900023:
    'Entra ID cannot read the tenant (AADSTS900023): set graph.tenant to the directory (tenant) ID or a verified domain.',
};

const PERMISSION =
  'The app needs the Mail.Send application permission (API permissions > Microsoft Graph > Application permissions), with admin consent.';
const ACCESS_POLICY =
  'If an application access policy limits the app (New-ApplicationAccessPolicy -AccessRight RestrictAccess), the mailbox must be in its group: Test-ApplicationAccessPolicy -Identity <mailbox> -AppId <client ID> says whether it is. Changes can take up to an hour to apply.';

function tokenHint(failure: DeliveryFailure, graph: GraphSettings): string | undefined {
  const aadsts = /\bAADSTS\d{5,8}\b/.exec(failure.message)?.[0];
  if (aadsts && APP_ONLY_AADSTS[aadsts]) return APP_ONLY_AADSTS[aadsts];
  switch (failure.reason) {
    case 'OAUTH_INVALID_CLIENT':
      return 'Entra ID did not accept graph.clientId with its secret or certificate: check the client (application) ID, and save a new client secret if the old one expired (Entra ID client secrets expire after at most 24 months).';
    case 'OAUTH_INVALID_SCOPE':
      return `Entra ID refused the scope ${new URL(graph.endpoint).origin}/.default: graph.endpoint must be the Graph of the tenant’s cloud (https://graph.microsoft.com, or a national cloud’s such as https://graph.microsoft.us).`;
    case 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE':
      return `The token endpoint ${graph.tokenEndpoint} could not be reached or is unavailable for now. ${RETRIED}`;
    case 'OAUTH_TOKEN_ENDPOINT_BAD_RESPONSE':
      return 'The token endpoint answered with something that is not an OAuth2 token response: check graph.tokenEndpoint (https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token, or leave it out).';
    default:
      return 'Entra ID refused to issue an app-only token; its answer says why. Check graph.tenant, graph.clientId and the secret or certificate.';
  }
}

/** A hint for a failure of `transport: "graph"`; undefined when none applies. */
export function graphHintFor(failure: DeliveryFailure, config: EmailConfig): string | undefined {
  const graph = config.graph;
  if (config.transport !== 'graph' || !graph) return undefined;
  if (failure.stage === 'token') return tokenHint(failure, graph);
  const mailbox = graph.mailbox;
  switch (failure.reason) {
    case GRAPH_REASONS.accessDenied:
      return `Microsoft Graph refused to send as ${mailbox} (403). ${PERMISSION} ${ACCESS_POLICY}`;
    case GRAPH_REASONS.mailboxNotFound:
      return `Microsoft Graph does not know the mailbox ${mailbox} in this tenant, or it has no Exchange Online mailbox (license): check graph.mailbox (the user principal name or primary address) and graph.tenant.`;
    case GRAPH_REASONS.unauthorized:
      return `Microsoft Graph refused the access token (401) even after a new one was fetched: check that graph.endpoint is the Graph of the tenant’s cloud and that the token endpoint is the tenant’s. ${PERMISSION}`;
    case GRAPH_REASONS.throttled:
      return `Microsoft Graph throttles ${mailbox} (429): Exchange Online allows 30 messages per minute per mailbox. This service waits as long as Graph asks (Retry-After) before it sends again; lower graph.limits.messagesPerMinute if it happens often.`;
    case GRAPH_REASONS.unavailable:
      return `Microsoft Graph or Exchange Online is unavailable for the moment. ${RETRIED}`;
    case GRAPH_REASONS.badRequest:
      return 'Microsoft Graph refused the message; its answer says why (ErrorInvalidRecipients: check the admin contact addresses; a sender address the mailbox may not send as: make the sender the mailbox, or grant it Send As).';
    case GRAPH_REASONS.unreachable:
      return `${new URL(graph.endpoint).host} could not be reached: check graph.endpoint and that this service can reach it over HTTPS (a Lambda function in a VPC needs a NAT gateway). ${RETRIED}`;
    case GRAPH_REASONS.unexpected:
      return 'Microsoft Graph answered with something other than 202 Accepted: check graph.endpoint (the Graph base URL, such as https://graph.microsoft.com, without /v1.0).';
    default:
      return undefined;
  }
}

/** The deadline passed while talking to Graph. */
export function graphDeadlineHint(failure: DeliveryFailure, config: EmailConfig): string {
  const host = config.graph ? new URL(config.graph.endpoint).host : 'Microsoft Graph';
  if (failure.stage === 'token') {
    return `The token endpoint did not answer in time: check that this service can reach ${config.graph?.tokenEndpoint ?? 'it'} over HTTPS. ${RETRIED}`;
  }
  return `${host} did not confirm the message in time. Graph may have accepted it anyway, so the retry can deliver it twice; if it persists, check that this service can reach ${host} over HTTPS. ${RETRIED}`;
}
