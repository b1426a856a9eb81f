// Turns a classified delivery failure into advice an admin can act on. Core: knows SMTP reply
// codes and the reasons the SMTP adapter reports, never nodemailer or AWS.
import type { EmailConfig } from '../config/email-config.js';
import { graphDeadlineHint, graphHintFor } from './graph-diagnostics.js';
import type { DeliveryFailure } from './mailer.js';
import { RELAY_ADDRESS_NOT_ALLOWED, RELAY_ADDRESS_REFUSED } from './relay-address-policy.js';

// ---------------------------------------------------------------------------------------------
// SMTP replies
// ---------------------------------------------------------------------------------------------

export interface SmtpReply {
  /** The three-digit reply code, when the reply starts with one. */
  code?: number;
  /** The RFC 3463 enhanced status code (`5.7.139`), when the server sent one. */
  enhancedCode?: string;
  /** The reply text without codes; the lines of a multi-line reply joined with spaces. */
  text: string;
}

const REPLY_CODE = /^(\d{3})(?:[ -]|$)/;
const ENHANCED_CODE = /^([245])\.\d{1,3}\.\d{1,3}(?=\s|$)/;

/** Splits one reply line into its code, its enhanced code (when its class matches) and its text. */
function parseLine(line: string): SmtpReply {
  const codeMatch = REPLY_CODE.exec(line);
  if (!codeMatch) return { text: line.trim() };
  const code = Number(codeMatch[1]);
  const rest = line.slice(codeMatch[0].length);
  const enhanced = ENHANCED_CODE.exec(rest);
  // RFC 3463: the enhanced code's class repeats the reply's (5.x.x with 5yz); anything else is text.
  if (enhanced && enhanced[1] === codeMatch[1]?.[0]) {
    return { code, enhancedCode: enhanced[0], text: rest.slice(enhanced[0].length).trim() };
  }
  return { code, text: rest.trim() };
}

/**
 * Parses `535 5.7.139 Authentication unsuccessful` or a multi-line reply
 * (`535-5.7.8 Username ...\r\n535 5.7.8 https://...`). Text that is not a reply comes back as `text`.
 */
export function parseSmtpReply(reply: string): SmtpReply {
  const lines = reply
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map(parseLine);
  const first = lines[0];
  if (first?.code === undefined) return { text: reply.trim() };
  const text = lines
    .map((line) => line.text)
    .filter(Boolean)
    .join(' ');
  return first.enhancedCode
    ? { code: first.code, enhancedCode: first.enhancedCode, text }
    : { code: first.code, text };
}

// ---------------------------------------------------------------------------------------------
// Reasons: what the adapters put in DeliveryFailure.reason
// ---------------------------------------------------------------------------------------------

/** STARTTLS was required, and the server's EHLO reply did not offer it. */
export const STARTTLS_NOT_OFFERED = 'STARTTLS_NOT_OFFERED';
/** The server offered STARTTLS but answered the command with an error. */
export const STARTTLS_REFUSED = 'STARTTLS_REFUSED';
/** Credentials are configured, and the server's EHLO reply did not offer AUTH. */
export const AUTH_NOT_OFFERED = 'AUTH_NOT_OFFERED';
/**
 * The send's overall deadline passed (a relay answering slowly at every step, or not at all):
 * the adapter dropped the connection; the failure's stage says where the send was.
 */
export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

/** What OpenSSL reports when a TLS client reads a plaintext SMTP greeting as a TLS record. */
const PLAINTEXT_PEER_REASONS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'EPROTO',
]);

const UNTRUSTED_CERTIFICATE_REASONS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const EXPIRED_CERTIFICATE_REASONS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const OLD_TLS_REASONS = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_NO_SHARED_CIPHER',
]);

const CONNECT_TIMEOUT_REASONS = new Set(['CONNECT_TIMEOUT', 'ETIMEDOUT']);
const DNS_NOT_FOUND_REASONS = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'EBADNAME']);

// ---------------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------------

interface Facts {
  failure: DeliveryFailure;
  config: EmailConfig;
  code: number | undefined;
  enhancedCode: string | undefined;
  text: string;
  /** `smtp.example.com:587`, or "the relay" for a transport without host and port. */
  where: string;
  port: number | undefined;
  egress: EgressMode | undefined;
}

type Rule = (facts: Facts) => string | undefined;

const PORT_CONVENTION =
  'By convention port 465 uses implicit TLS and port 587 uses STARTTLS, but the relay decides: check its documentation.';

/**
 * Where this service's connections leave from, which decides what can be done about port 25:
 * `lambda` is Lambda's own network (no VPC), `vpc` a VPC with NAT gateways (`-c egress=vpc`).
 * Unknown (the embedded runtime, a test): the hint names only what holds on any network.
 */
export type EgressMode = 'lambda' | 'vpc';

const SUBMISSION_PORTS = 'the relay’s port 587 (STARTTLS) or 465 (TLS)';

/** Why port 25 may be the problem, and what can be done about it where this service runs. */
export function port25Hint(egress: EgressMode | undefined): string {
  switch (egress) {
    case 'lambda':
      return `AWS blocks outbound port 25 from Lambda functions outside a VPC, and cannot lift that: use ${SUBMISSION_PORTS}, or SES. Port 25 needs the VPC mode (-c egress=vpc).`;
    case 'vpc':
      return `Port 25 leaves through the NAT gateways’ Elastic IPs (output NatEgressIps), where AWS restricts it until it grants a request to remove the email sending limitations; until then use ${SUBMISSION_PORTS}.`;
    default:
      return `Many networks block outbound port 25 (internet providers, cloud providers by default): if this one does, use ${SUBMISSION_PORTS}.`;
  }
}

const port25Note = (facts: Facts) => (facts.port === 25 ? ` ${port25Hint(facts.egress)}` : '');

const isGoogle = (facts: Facts) =>
  /(^|\.)(gmail|googlemail|google)\.com$/i.test(facts.config.smtp?.host ?? '') ||
  /gsmtp|support\.google\.com/i.test(facts.failure.message);

const isMicrosoft = (facts: Facts) =>
  /(^|\.)(office365|outlook)\.com$/i.test(facts.config.smtp?.host ?? '') ||
  /outlook\.com|office365|microsoft/i.test(facts.failure.message);

const providerOf = (facts: Facts) => {
  const auth = facts.config.smtp?.auth;
  return auth?.type === 'oauth2' ? auth.provider : undefined;
};

const AUTHORIZE_AGAIN =
  'Open the email configuration and click Authorize again, signing in as the mailbox that sends.';

const appOnly = (facts: Facts) => {
  const auth = facts.config.smtp?.auth;
  return auth?.type === 'oauth2' && auth.flow === 'client-credentials';
};

const mailboxOf = (facts: Facts) => {
  const auth = facts.config.smtp?.auth;
  return (auth?.type === 'oauth2' && auth.user) || 'the mailbox';
};

const APP_ONLY_SETUP =
  'In Exchange Online PowerShell: New-ServicePrincipal -AppId <application (client) ID> -ObjectId <object ID of the Enterprise application>, then Add-MailboxPermission -Identity <mailbox> -User <that service principal> -AccessRights FullAccess.';

// Entra ID's AADSTS codes for the client-credentials grant (app-only), before the generic OAuth2 rules.
const APP_ONLY_AADSTS: Record<string, string> = {
  AADSTS7000215:
    'Entra ID did not accept the client secret (AADSTS7000215): enter the secret’s Value (shown once, when it is created under Certificates & secrets), not its Secret ID.',
  AADSTS7000222:
    'The client secret has expired (AADSTS7000222): create a new one under Certificates & secrets in the app registration and save its Value.',
  AADSTS700027:
    'Entra ID did not accept the client assertion (AADSTS700027): upload this certificate (certificatePem, its thumbprint is shown in the configuration) under Certificates & secrets > Certificates of the app registration, and check that it has not expired.',
  AADSTS700016:
    'Entra ID does not know this application in the tenant (AADSTS700016): check the client (application) ID and the tenant (its ID or domain).',
  AADSTS90002:
    'Entra ID does not know this tenant (AADSTS90002): set tenant to the directory (tenant) ID or its domain.',
  AADSTS7000218:
    'Entra ID wants a client secret or a certificate (AADSTS7000218): save clientSecret or clientCertificate.',
  AADSTS70011: `Entra ID refused the scope (AADSTS70011): app-only SMTP uses https://outlook.office365.com/.default (leave scopes out).`,
  AADSTS1002012: `Entra ID refused the scope (AADSTS1002012): app-only SMTP uses https://outlook.office365.com/.default (leave scopes out).`,
  AADSTS500011: `The Office 365 Exchange Online resource is not in the tenant (AADSTS500011): check the tenant, and that the scope is https://outlook.office365.com/.default.`,
};

const APP_ONLY_RULES: Rule[] = [
  (facts) => {
    if (!appOnly(facts) || facts.failure.stage !== 'auth' || !facts.failure.reason?.startsWith('OAUTH_'))
      return undefined;
    const code = /\bAADSTS\d{5,8}\b/.exec(facts.failure.message)?.[0];
    return code ? APP_ONLY_AADSTS[code] : undefined;
  },
  (facts) =>
    appOnly(facts) && facts.code === 535 && facts.enhancedCode === '5.7.3'
      ? `Exchange Online refused the app-only token for ${mailboxOf(facts)} (535 5.7.3). The app needs the SMTP.SendAsApp application permission (API permissions > Office 365 Exchange Online, with admin consent), and Exchange needs the app’s service principal with access to the mailbox. ${APP_ONLY_SETUP} Changes can take up to an hour to apply.`
      : undefined,
];

// A Google service account with domain-wide delegation (the JWT bearer grant): Google's answers.
const serviceAccountOf = (facts: Facts) => {
  const auth = facts.config.smtp?.auth;
  return auth?.type === 'oauth2' && auth.flow === 'service-account' ? auth : undefined;
};

const GOOGLE_SMTP_SCOPE = 'https://mail.google.com/';

function delegationSteps(auth: NonNullable<ReturnType<typeof serviceAccountOf>>): string {
  const clientId = auth.serviceAccountKey?.client_id ?? auth.clientId;
  return `In the Google Workspace Admin console (admin.google.com): Security > Access and data control > API controls > Manage Domain Wide Delegation, add a new API client with the client ID ${clientId} (the service account’s unique ID, client_id in its JSON key) and the OAuth scope ${auth.scopes.join(',')}. A new delegation can take from minutes up to 24 hours to apply.`;
}

const SERVICE_ACCOUNT_RULES: Rule[] = [
  (facts) => {
    const auth = serviceAccountOf(facts);
    if (!auth || facts.failure.stage !== 'auth' || !facts.failure.reason?.startsWith('OAUTH_'))
      return undefined;
    const { message } = facts.failure;
    const account = auth.serviceAccountKey?.client_email ?? 'the service account';
    if (/\bunauthorized_client\b/.test(message)) {
      return `Google refused to let ${account} act for ${mailboxOf(facts)} (unauthorized_client): domain-wide delegation is not set up for this service account, or not with this scope. ${delegationSteps(auth)}`;
    }
    if (/Invalid email or User ID|Not a valid email/i.test(message)) {
      return `Google does not know ${mailboxOf(facts)} as a user (invalid_grant: Invalid email or User ID): user must be the primary address of a mailbox of the Google Workspace organization that set up the domain-wide delegation (not an alias, a group or a consumer @gmail.com address).`;
    }
    if (/Invalid JWT Signature/i.test(message)) {
      const keyId = auth.serviceAccountKey?.private_key_id;
      return `Google did not accept the key’s signature (invalid_grant: Invalid JWT Signature): the key${keyId ? ` ${keyId}` : ''} of ${account} was deleted or disabled in the Google Cloud console (IAM & Admin > Service accounts > Keys), or it is not this service account’s key. Create a new JSON key for the service account and save it here.`;
    }
    if (/short-lived token|reasonable timeframe|\biat\b|\bexp\b/i.test(message)) {
      return 'Google refused the token request’s time stamps (invalid_grant: Invalid JWT: Token must be a short-lived token…): this server’s clock is off; synchronize it (NTP). Delivery will be retried.';
    }
    if (/account not found|disabled/i.test(message)) {
      return `Google does not know ${account}, or it is disabled (invalid_grant): check the service account in the Google Cloud console (IAM & Admin > Service accounts), enable it or create a new one with a new JSON key, and save the key here.`;
    }
    if (facts.failure.reason === 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE') return undefined;
    if (facts.failure.reason === 'OAUTH_TOKEN_ENDPOINT_BAD_RESPONSE') return undefined;
    return `Google refused the service account’s token request; its answer says why. Check that the JSON key of ${account} is still active (Google Cloud console: IAM & Admin > Service accounts > Keys), that user is a mailbox of the Workspace domain, and the domain-wide delegation. ${delegationSteps(auth)}`;
  },
  (facts) => {
    const auth = serviceAccountOf(facts);
    return auth && facts.failure.stage === 'auth' && facts.code === 535
      ? `Gmail refused the service account’s token for ${mailboxOf(facts)}${facts.enhancedCode ? ` (535 ${facts.enhancedCode})` : ''}. SMTP needs the full scope ${GOOGLE_SMTP_SCOPE} in the domain-wide delegation (gmail.send is not enough for SMTP), and user must be the mailbox that signs in. ${delegationSteps(auth)}`
      : undefined;
  },
];

// OAuth2 token endpoint reasons (the token provider's OAUTH_* reasons), before anything SMTP.
const OAUTH_RULES: Rule[] = [
  ({ failure }) =>
    failure.reason === 'OAUTH_NOT_AUTHORIZED'
      ? 'OAuth2 is configured but nobody has authorized it yet: click Authorize in the email configuration and sign in as the mailbox that sends (register the redirect URI shown there with the provider first).'
      : undefined,
  ({ failure }) =>
    failure.reason === 'OAUTH_NEEDS_AUTHORIZATION'
      ? `The stored OAuth2 authorization no longer works (see the last error). ${AUTHORIZE_AGAIN}`
      : undefined,
  (facts) => {
    if (facts.failure.reason !== 'OAUTH_INVALID_GRANT') return undefined;
    const provider = providerOf(facts);
    const why =
      provider === 'google'
        ? ' Google revokes refresh tokens when the account’s password changes, when access is removed in the Google account’s security settings, after six months without use, and after 7 days while the OAuth consent screen is in "Testing" status (publish the app to avoid that).'
        : provider === 'microsoft'
          ? ' Microsoft Entra ID revokes refresh tokens when the mailbox’s password changes or its sessions are revoked, when consent is withdrawn, after 90 days without use, and when Conditional Access policies change.'
          : ' The provider no longer accepts the refresh token (expired, revoked, or issued to another client).';
    return `The provider refused the stored refresh token (invalid_grant), so this service can no longer get access tokens.${why} ${AUTHORIZE_AGAIN}`;
  },
  (facts) =>
    facts.failure.reason === 'OAUTH_INVALID_CLIENT'
      ? `The token endpoint did not accept the client ID or client secret. Check the client (application) ID, and create a new client secret if the old one expired${providerOf(facts) === 'microsoft' ? ' (Entra ID client secrets expire after at most 24 months: Certificates & secrets in the app registration)' : ''}; save it, then send a test email.`
      : undefined,
  ({ failure }) =>
    failure.reason === 'OAUTH_INVALID_SCOPE'
      ? `The token endpoint refused the scopes. Use the provider’s SMTP scope (Microsoft: https://outlook.office.com/SMTP.Send offline_access; Google: https://mail.google.com/), then authorize again.`
      : undefined,
  ({ failure }) =>
    failure.reason === 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE'
      ? 'The OAuth2 token endpoint could not be reached or had a server error, so no access token could be had; delivery will be retried. If it persists, check the token endpoint URL and that this service can reach it (a Lambda function in a VPC needs a NAT gateway to reach the internet).'
      : undefined,
  ({ failure }) =>
    failure.reason === 'OAUTH_TOKEN_ENDPOINT_BAD_RESPONSE'
      ? 'The token endpoint answered with something that is not an OAuth2 token response: check the token endpoint URL (for Microsoft .../oauth2/v2.0/token, for Google https://oauth2.googleapis.com/token).'
      : undefined,
  ({ failure }) =>
    failure.reason === 'OAUTH_TOKEN_ERROR'
      ? `The token endpoint refused to issue an access token; its answer says why. If it mentions consent or the grant, ${AUTHORIZE_AGAIN.charAt(0).toLowerCase()}${AUTHORIZE_AGAIN.slice(1)}`
      : undefined,
];

const RETRIED = 'Delivery will be retried.';

/** The deadline passed: what was slow depends on where the send was. */
function deadlineHint(facts: Facts): string {
  const { failure, config, where } = facts;
  if (config.transport === 'graph') return graphDeadlineHint(failure, config);
  if (config.transport === 'ses' || !config.smtp) {
    return `Amazon SES did not answer in time. If this service runs in a VPC, it needs a route to the SES endpoint (a NAT gateway or a VPC endpoint); otherwise SES is slow for the moment. ${RETRIED}`;
  }
  switch (failure.stage) {
    case 'dns':
      return `The DNS lookup of "${config.smtp.host}" did not finish in time: check the DNS resolution of the network this service runs in (for a Lambda function in a VPC, the VPC’s DNS settings). ${RETRIED}`;
    case 'connect':
      return `${where} did not accept the connection and greet in time: the host or port may be wrong, a firewall may silently drop the connection, or the relay is overloaded.${port25Note(facts)} ${RETRIED}`;
    case 'tls':
      return `The TLS handshake with ${where} did not finish in time. If it happens every time, check the encryption mode against the port (implicit TLS is "tls", an upgrade after connecting is "starttls"); otherwise the relay is overloaded. ${RETRIED}`;
    case 'auth':
      return `${where} answered the authentication too slowly: the relay, or the identity provider behind it, is overloaded or slows down this client. ${RETRIED}`;
    case 'envelope':
      return `${where} answered the sender and recipient commands too slowly. Relays slow down (tarpit) clients that send too much or that they distrust: if it persists, check the relay’s limits and logs. ${RETRIED}`;
    case 'data':
      return `${where} did not confirm the message in time. It may have received it anyway, so the retry can deliver it twice; if it persists, check the relay’s logs for what slows it down (content filters, overload).`;
    case 'token':
    case 'send':
      return graphDeadlineHint(failure, config);
  }
}

// First match wins: provider-specific codes before generic ones, the reason before the stage.
const RULES: Rule[] = [
  ...APP_ONLY_RULES,
  ...SERVICE_ACCOUNT_RULES,
  ...OAUTH_RULES,
  // The relay address policy (relay-address-policy.ts), before anything was connected to.
  ({ failure }) =>
    failure.reason === RELAY_ADDRESS_REFUSED
      ? 'Link-local (including the instance metadata address 169.254.169.254), multicast, broadcast and "this network" addresses are never SMTP relays, and no deployment setting (allowedRelayCidrs, allowedRelayHosts) allows them: set the host to your relay’s own name or address.'
      : undefined,
  ({ failure }) =>
    failure.reason === RELAY_ADDRESS_NOT_ALLOWED
      ? 'This deployment connects to public relay addresses only. For a relay in your own network, deploy with the relay allowed: -c allowedRelayCidrs=<its range, e.g. 10.0.0.0/8> or -c allowedRelayHosts=<its host name>.'
      : undefined,
  (facts) => (facts.failure.reason === DEADLINE_EXCEEDED ? deadlineHint(facts) : undefined),
  // Microsoft 365
  ({ enhancedCode, text }) =>
    enhancedCode === '5.7.139' || /SmtpClientAuthentication is disabled/i.test(text)
      ? 'Microsoft 365 refused SMTP AUTH: it is off for the tenant or this mailbox (security defaults turn it off). Enable "Authenticated SMTP" for the mailbox in the Microsoft 365 admin center (Users > Active users > Mail > Manage email apps), or use OAuth2. Where it must stay off, send with "transport": "graph" (Microsoft Graph, the Mail.Send application permission).'
      : undefined,
  ({ code, enhancedCode, config }) =>
    code === 535 && enhancedCode === '5.7.3' && config.smtp?.auth.type !== 'oauth2'
      ? 'Microsoft 365 did not accept the credentials: check the username (the full mailbox address) and the password. If the account uses multi-factor authentication or the tenant has security defaults on, basic authentication is blocked: use OAuth2 instead.'
      : undefined,
  ({ enhancedCode }) =>
    enhancedCode === '5.7.57'
      ? 'The relay accepts mail only from authenticated clients ("client was not authenticated"). Choose authentication "password" or "oauth2" with encryption "starttls" (Microsoft 365: smtp.office365.com, port 587).'
      : undefined,
  ({ enhancedCode, text, config }) =>
    enhancedCode === '5.7.60' || /SendAsDenied|send as this sender/i.test(text)
      ? `The authenticated mailbox is not allowed to send as ${config.sender}. Use the authenticated mailbox as the sender, or grant it "Send As" permission for the sender address in Exchange / the Microsoft 365 admin center.`
      : undefined,

  // Google
  ({ enhancedCode }) =>
    enhancedCode === '5.7.9'
      ? 'Google requires an app password for this account: turn on 2-Step Verification, create an app password in the Google account’s security settings and enter it as the password, or use OAuth2.'
      : undefined,
  ({ enhancedCode }) =>
    enhancedCode === '5.7.14'
      ? 'Google wants an interactive sign-in before it accepts this account over SMTP: sign in to the account in a web browser and confirm any security prompt, then try again. An app password or OAuth2 avoids this.'
      : undefined,
  (facts) =>
    facts.code === 535 && facts.enhancedCode === '5.7.8' && isGoogle(facts)
      ? 'Google did not accept the username and password. Gmail and Google Workspace do not take the normal account password over SMTP: use an app password (requires 2-Step Verification) or OAuth2.'
      : undefined,

  // TLS mode against the port's protocol
  ({ failure, where, config }) =>
    failure.stage === 'tls' && PLAINTEXT_PEER_REASONS.has(failure.reason ?? '')
      ? `The server at ${where} answered in plain text, so this port does not use implicit TLS${config.smtp?.encryption === 'tls' ? ' (encryption is set to "tls")' : ''}. Set encryption to "starttls" (or "none" if the relay offers no encryption at all). ${PORT_CONVENTION}`
      : undefined,
  ({ failure, where, config }) =>
    failure.reason === 'GREETING_TIMEOUT' && config.smtp?.encryption !== 'tls'
      ? `The server at ${where} accepted the connection but sent no SMTP greeting, which is what an implicit-TLS port does while the client waits in plain text. If this port expects TLS from the first byte, set encryption to "tls". ${PORT_CONVENTION}`
      : undefined,
  ({ failure, where }) =>
    failure.reason === STARTTLS_NOT_OFFERED
      ? `The server at ${where} does not offer STARTTLS, and encryption "starttls" requires it, so nothing was sent unencrypted. If the port uses implicit TLS (usually 465) set encryption to "tls"; otherwise enable STARTTLS on the relay, or choose "none" only on a network you trust.`
      : undefined,
  ({ failure, where }) =>
    failure.reason === STARTTLS_REFUSED
      ? `The server at ${where} offers STARTTLS but refused to start it; its reply says why. Check the relay’s TLS configuration (certificate and key), or try again later if the reply is temporary (4xx).`
      : undefined,

  // Certificates
  ({ failure }) =>
    UNTRUSTED_CERTIFICATE_REASONS.has(failure.reason ?? '')
      ? 'The server’s certificate is self-signed or issued by a certificate authority this service does not trust. Install a certificate from a public CA (with its full chain) on the relay; turn certificate verification off only if you trust the network between this service and the relay.'
      : undefined,
  ({ failure }) =>
    EXPIRED_CERTIFICATE_REASONS.has(failure.reason ?? '')
      ? 'The server’s certificate has expired (or is not valid yet). Renew the certificate on the relay and check the relay’s clock; turning verification off would hide the problem, not fix it.'
      : undefined,
  ({ failure, config }) =>
    failure.reason === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `The server’s certificate is not issued for "${config.smtp?.host ?? 'this host'}". Enter the host name the certificate names (for example smtp.office365.com rather than an IP address or an alias), or have the certificate reissued with this name.`
      : undefined,
  ({ failure }) =>
    failure.stage === 'tls' && OLD_TLS_REASONS.has(failure.reason ?? '')
      ? 'The TLS handshake failed: the relay offers no TLS version or cipher this service accepts (TLS 1.2 or newer is required). Update the relay’s TLS configuration.'
      : undefined,

  // Authentication
  ({ failure, where }) =>
    failure.reason === AUTH_NOT_OFFERED
      ? `The server at ${where} does not offer SMTP authentication on this connection, so the credentials could not be used. Some relays offer it only after STARTTLS or only on the submission port 587; if this relay accepts mail from this service without it, set authentication to "none".`
      : undefined,
  ({ code, text }) =>
    code === 538 || /must issue a STARTTLS command first|encryption required/i.test(text)
      ? 'The server accepts authentication only over an encrypted connection: set encryption to "starttls" (or "tls" for an implicit-TLS port).'
      : undefined,
  ({ failure, code }) =>
    failure.stage === 'auth' &&
    (code === 504 || code === 502 || /unrecognized authentication type/i.test(failure.message))
      ? 'The server does not support the authentication method this configuration uses. Check that the relay has SMTP authentication enabled on this port, or set authentication to "none" if it accepts mail without it.'
      : undefined,
  (facts) =>
    facts.code === 535 || (facts.failure.stage === 'auth' && facts.code !== undefined && facts.code >= 500)
      ? facts.config.smtp?.auth.type === 'oauth2'
        ? 'The server rejected the OAuth2 access token: authorize again, and check that the app has the SMTP send scope and that the authenticating user is the mailbox that sends.'
        : `The server rejected the username or password: check both (the username is usually the full email address).${isMicrosoft(facts) ? ' Microsoft 365 also rejects basic authentication when security defaults or multi-factor authentication apply: use OAuth2 then.' : ''}`
      : undefined,
  ({ code, enhancedCode, text }) =>
    code === 530 || enhancedCode === '5.7.0' || /authentication required/i.test(text)
      ? 'The relay requires authentication: choose authentication "password" or "oauth2" (with encryption "starttls" or "tls").'
      : undefined,

  // Connecting
  ({ failure, config }) =>
    failure.stage === 'dns' && DNS_NOT_FOUND_REASONS.has(failure.reason ?? '')
      ? `The host name "${config.smtp?.host ?? ''}" does not exist in DNS: check the spelling of the SMTP relay server.`
      : undefined,
  ({ failure, config }) =>
    failure.stage === 'dns'
      ? `The DNS lookup of "${config.smtp?.host ?? ''}" failed temporarily; delivery will be retried. If it persists, check the DNS resolution of the network this service runs in (for a Lambda function in a VPC, the VPC’s DNS settings).`
      : undefined,
  (facts) =>
    facts.failure.reason === 'ECONNREFUSED'
      ? `Nothing accepts connections on ${facts.where} (connection refused): check the host and port, that the relay is running, and that no firewall rejects the connection.${port25Note(facts)}`
      : undefined,
  (facts) =>
    facts.failure.stage === 'connect' && CONNECT_TIMEOUT_REASONS.has(facts.failure.reason ?? '')
      ? `No answer from ${facts.where} in time: the host or port may be wrong, or a firewall, security group or network ACL silently drops the connection (a Lambda function in a VPC needs a NAT gateway to reach the internet).${port25Note(facts)}`
      : undefined,
  ({ failure, where }) =>
    failure.reason === 'GREETING_TIMEOUT'
      ? `The connection to ${where} was established but the server sent no SMTP greeting in time: the service on this port may not be an SMTP server, or it is overloaded. Delivery will be retried.`
      : undefined,
  ({ failure, where }) =>
    failure.reason === 'ECONNRESET' || failure.reason === 'ECONNECTION'
      ? `The server at ${where} closed the connection unexpectedly. If it happens at once, check the encryption mode against the port and whether the relay accepts connections from this service’s address; otherwise it is temporary and delivery will be retried.`
      : undefined,

  // Sender and recipients
  ({ failure, text, enhancedCode }) =>
    failure.stage === 'envelope' && (/relay/i.test(text) || enhancedCode === '5.7.1')
      ? 'The relay refuses to forward this mail ("relay access denied"): relays deliver to outside domains only for authenticated clients or allowed addresses. Turn on authentication, or allow this service’s outbound IP address on the relay.'
      : undefined,
  ({ failure, code, config }) =>
    failure.stage === 'envelope' && failure.command?.startsWith('MAIL') && code !== undefined && code >= 500
      ? `The server refused the sender address ${config.sender}: use an address the authenticated account may send from (often the account’s own address), or a domain the relay accepts.`
      : undefined,
  ({ failure, code }) =>
    failure.stage === 'envelope' && failure.command?.startsWith('RCPT') && code !== undefined && code >= 500
      ? 'The server refused the recipient address: check the admin contact addresses for typos, and that the mailboxes exist.'
      : undefined,

  // Anything else the server answered
  ({ code }) =>
    code !== undefined && code >= 400 && code < 500
      ? 'The server is temporarily unable to accept the message; delivery will be retried. If it persists, the reply text says why (rate limit, greylisting, maintenance).'
      : undefined,
  ({ failure, code }) =>
    failure.stage === 'data' && code !== undefined && code >= 500
      ? 'The server refused the message after receiving it; its reply says why (often a spam or policy filter, or a size limit).'
      : undefined,
];

/**
 * One or two sentences an admin can act on, for the failures we know; undefined otherwise.
 * The mode is never inferred from the port: the port is only mentioned as a convention.
 * `egress` says where connections leave from (port 25 advice differs); unknown when omitted.
 */
export function hintFor(
  failure: DeliveryFailure,
  config: EmailConfig,
  egress?: EgressMode,
): string | undefined {
  const reply = parseSmtpReply(failure.message);
  const code = failure.code ?? reply.code;
  const enhancedCode = failure.enhancedCode ?? reply.enhancedCode;
  // Graph's own reasons first; a passed deadline goes through the common rule below.
  const graphHint = failure.reason === DEADLINE_EXCEEDED ? undefined : graphHintFor(failure, config);
  if (graphHint) return graphHint;
  const smtp = config.smtp;
  const facts: Facts = {
    failure,
    config,
    code,
    enhancedCode,
    text: reply.text,
    where: smtp ? `${smtp.host}:${smtp.port}` : 'the relay',
    port: smtp?.port,
    egress,
  };
  for (const rule of RULES) {
    const hint = rule(facts);
    if (hint) return hint;
  }
  return undefined;
}
