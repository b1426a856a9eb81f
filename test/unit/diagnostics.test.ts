import { type EmailConfig, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  AUTH_NOT_OFFERED,
  DEADLINE_EXCEEDED,
  hintFor,
  parseSmtpReply,
  STARTTLS_NOT_OFFERED,
  STARTTLS_REFUSED,
} from '../../functions/core/mail/diagnostics.js';
import type { DeliveryFailure } from '../../functions/core/mail/mailer.js';

function smtpConfig(smtp: Record<string, unknown> = {}): EmailConfig {
  return EmailConfigSchema.parse({
    sender: 'alerts@example.com',
    adminContacts: 'ops@example.com',
    smtp: {
      host: 'smtp.example.com',
      port: 587,
      encryption: 'starttls',
      auth: { type: 'password', username: 'alerts@example.com', password: 'pw' },
      ...smtp,
    },
  });
}

/** A failure as the SMTP adapter reports it: code and enhanced code parsed from the reply. */
function failure(partial: Partial<DeliveryFailure> & Pick<DeliveryFailure, 'stage'>): DeliveryFailure {
  const reply = parseSmtpReply(partial.message ?? '');
  return {
    transient: false,
    message: '',
    ...(reply.code !== undefined ? { code: reply.code } : {}),
    ...(reply.enhancedCode ? { enhancedCode: reply.enhancedCode } : {}),
    ...partial,
  };
}

describe('parseSmtpReply', () => {
  test.each([
    {
      reply: '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
      parsed: {
        code: 535,
        enhancedCode: '5.7.139',
        text: 'Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
      },
    },
    {
      reply:
        '535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-2 gsmtp',
      parsed: {
        code: 535,
        enhancedCode: '5.7.8',
        text: 'Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials a1-2 gsmtp',
      },
    },
    {
      reply: '500 Error: command not recognized',
      parsed: { code: 500, text: 'Error: command not recognized' },
    },
    { reply: '250 OK', parsed: { code: 250, text: 'OK' } },
    // The class of an enhanced code must match the reply's: this "5.0.0" is just text
    { reply: '250 5.0.0 odd', parsed: { code: 250, text: '5.0.0 odd' } },
    { reply: 'connect ECONNREFUSED 10.0.0.1:25', parsed: { text: 'connect ECONNREFUSED 10.0.0.1:25' } },
  ])('$reply', ({ reply, parsed }) => {
    // Act
    const result = parseSmtpReply(reply);

    // Assess
    expect(result).toEqual(parsed);
  });
});

interface HintCase {
  name: string;
  failure: DeliveryFailure;
  config?: EmailConfig;
  expected: RegExp[];
  absent?: RegExp[];
}

const cases: HintCase[] = [
  // Microsoft 365
  {
    name: '535 5.7.139: SMTP AUTH disabled for the tenant',
    failure: failure({
      stage: 'auth',
      message:
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
    }),
    config: smtpConfig({ host: 'smtp.office365.com' }),
    expected: [/Microsoft 365/, /Authenticated SMTP/, /admin center/, /OAuth2/],
  },
  {
    name: '535 5.7.3: Microsoft 365 authentication unsuccessful',
    failure: failure({
      stage: 'auth',
      message: '535 5.7.3 Authentication unsuccessful [AM0PR01CA0001.eurprd01.prod]',
    }),
    config: smtpConfig({ host: 'smtp.office365.com' }),
    expected: [/credentials/, /multi-factor|security defaults/, /OAuth2/],
  },
  {
    name: '530 5.7.57: client not authenticated',
    failure: failure({
      stage: 'envelope',
      command: 'MAIL FROM',
      message: '530 5.7.57 Client not authenticated to send mail. [DB6PR0301CA0001]',
    }),
    config: smtpConfig({ host: 'smtp.office365.com', auth: { type: 'none' } }),
    expected: [/requires|only from authenticated/, /"password" or "oauth2"/, /"starttls"/],
  },
  {
    name: '5.7.60 SendAsDenied',
    failure: failure({
      stage: 'data',
      command: 'DATA',
      message: '550 5.7.60 SMTP; Client does not have permissions to send as this sender',
    }),
    expected: [/not allowed to send as alerts@example\.com/, /Send As/],
  },
  // Google
  {
    name: '534 5.7.9: application-specific password required',
    failure: failure({
      stage: 'auth',
      message:
        '534-5.7.9 Application-specific password required.\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor gsmtp',
    }),
    config: smtpConfig({ host: 'smtp.gmail.com' }),
    expected: [/app password/, /2-Step Verification/, /OAuth2/],
  },
  {
    name: '535 5.7.8 from Gmail: username and password not accepted',
    failure: failure({
      stage: 'auth',
      message:
        '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials gsmtp',
    }),
    config: smtpConfig({ host: 'smtp.gmail.com' }),
    expected: [/Google/, /app password/, /2-Step Verification/, /OAuth2/],
  },
  {
    name: '534 5.7.14: sign in via web browser',
    failure: failure({
      stage: 'auth',
      message:
        '534-5.7.14 <https://accounts.google.com/signin/continue?...> Please log in via your web browser and\n534 5.7.14 then try again. gsmtp',
    }),
    config: smtpConfig({ host: 'smtp.gmail.com' }),
    expected: [/web browser/],
  },
  // Generic authentication
  {
    name: 'generic 535 with password authentication',
    failure: failure({
      stage: 'auth',
      message: '535 5.7.8 Error: authentication failed: authentication failure',
    }),
    expected: [/username or password/],
    absent: [/Google/],
  },
  {
    name: 'generic 535 from Microsoft 365 without an enhanced code',
    failure: failure({ stage: 'auth', message: '535 Authentication unsuccessful' }),
    config: smtpConfig({ host: 'smtp.office365.com' }),
    expected: [/username or password/, /security defaults|multi-factor/],
  },
  {
    name: '535 5.7.3 for an OAuth2 configuration is about the token, not the password',
    failure: failure({
      stage: 'auth',
      command: 'AUTH XOAUTH2',
      message: '535 5.7.3 Authentication unsuccessful',
    }),
    config: smtpConfig({
      host: 'mail.example.com',
      auth: { type: 'oauth2', provider: 'google', clientId: 'client', clientSecret: 'secret' },
    }),
    expected: [/OAuth2 access token/],
    absent: [/password/],
  },
  {
    name: '535 without an enhanced code for an OAuth2 configuration',
    failure: failure({
      stage: 'auth',
      command: 'AUTH XOAUTH2',
      message: '535 Error: Username and Password not accepted',
    }),
    config: smtpConfig({
      host: 'mail.example.com',
      auth: {
        type: 'oauth2',
        provider: 'custom',
        clientId: 'c',
        scopes: 's',
        authorizationEndpoint: 'https://a.example.com/auth',
        tokenEndpoint: 'https://a.example.com/token',
      },
    }),
    expected: [/OAuth2 access token/, /authorize again/],
  },
  {
    name: '538: encryption required before AUTH',
    failure: failure({ stage: 'auth', message: '538 5.7.0 Error: Must issue a STARTTLS command first' }),
    config: smtpConfig({ encryption: 'none', allowInsecureAuth: true }),
    expected: [/encrypted connection/, /"starttls"/],
  },
  {
    name: '530 5.7.0 Must issue a STARTTLS command first (Gmail wording)',
    failure: failure({
      stage: 'envelope',
      command: 'MAIL FROM',
      message: '530 5.7.0 Must issue a STARTTLS command first. gsmtp',
    }),
    config: smtpConfig({ encryption: 'none', allowInsecureAuth: true }),
    expected: [/encrypted connection/],
  },
  {
    name: 'credentials configured, but the server offers no AUTH',
    failure: failure({
      stage: 'auth',
      reason: AUTH_NOT_OFFERED,
      command: 'AUTH PLAIN',
      message: '502 5.5.1 Error: command not implemented',
    }),
    expected: [/does not offer SMTP authentication/, /"none"/],
  },
  {
    name: '504: authentication method not supported',
    failure: failure({
      stage: 'auth',
      command: 'AUTH PLAIN',
      message: '504 5.5.4 Error: Unrecognized authentication type',
    }),
    expected: [/does not support the authentication method/],
  },
  {
    name: '530 authentication required',
    failure: failure({
      stage: 'envelope',
      command: 'MAIL FROM',
      message: '530 Error: authentication Required',
    }),
    config: smtpConfig({ auth: { type: 'none' } }),
    expected: [/requires authentication/],
  },
  // TLS mode against the port
  {
    name: 'implicit TLS against a plaintext (STARTTLS) port',
    failure: failure({
      stage: 'tls',
      reason: 'ERR_SSL_WRONG_VERSION_NUMBER',
      message: 'wrong version number',
    }),
    config: smtpConfig({ port: 587, encryption: 'tls' }),
    expected: [/plain text/, /Set encryption to "starttls"/, /465.*587/, /smtp\.example\.com:587/],
  },
  {
    name: 'implicit TLS against a plaintext port on 465: the port does not decide',
    failure: failure({
      stage: 'tls',
      reason: 'ERR_SSL_PACKET_LENGTH_TOO_LONG',
      message: 'packet length too long',
    }),
    config: smtpConfig({ port: 465, encryption: 'tls' }),
    expected: [/Set encryption to "starttls"/],
  },
  {
    name: 'STARTTLS against an implicit-TLS port (greeting timeout)',
    failure: failure({
      stage: 'connect',
      reason: 'GREETING_TIMEOUT',
      transient: true,
      message: 'no greeting',
    }),
    config: smtpConfig({ port: 465, encryption: 'starttls' }),
    expected: [/no SMTP greeting/, /set encryption to "tls"/, /465.*587/],
  },
  {
    name: 'none against an implicit-TLS port (greeting timeout)',
    failure: failure({
      stage: 'connect',
      reason: 'GREETING_TIMEOUT',
      transient: true,
      message: 'no greeting',
    }),
    config: smtpConfig({ port: 465, encryption: 'none', auth: { type: 'none' } }),
    expected: [/set encryption to "tls"/],
  },
  {
    name: 'greeting timeout with implicit TLS already on: not a mode problem',
    failure: failure({
      stage: 'connect',
      reason: 'GREETING_TIMEOUT',
      transient: true,
      message: 'no greeting',
    }),
    config: smtpConfig({ port: 465, encryption: 'tls' }),
    expected: [/no SMTP greeting in time/, /retried/],
    absent: [/set encryption/],
  },
  {
    name: 'STARTTLS required but not offered',
    failure: failure({
      stage: 'tls',
      reason: STARTTLS_NOT_OFFERED,
      command: 'STARTTLS',
      message: 'STARTTLS is required, but smtp.example.com:25 does not offer it',
    }),
    config: smtpConfig({ port: 25 }),
    expected: [/does not offer STARTTLS/, /"tls"/],
  },
  {
    name: 'STARTTLS offered but refused',
    failure: failure({
      stage: 'tls',
      reason: STARTTLS_REFUSED,
      command: 'STARTTLS',
      message: '454 4.7.0 TLS not available',
    }),
    expected: [/refused to start it/],
  },
  // Certificates
  {
    name: 'self-signed certificate',
    failure: failure({
      stage: 'tls',
      reason: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      message: 'self-signed certificate',
    }),
    expected: [/self-signed or issued by a certificate authority/, /verification off only if/],
  },
  {
    name: 'certificate from an unknown CA',
    failure: failure({
      stage: 'tls',
      reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      message: 'unable to verify the first certificate',
    }),
    expected: [/self-signed or issued by a certificate authority/],
  },
  {
    name: 'expired certificate',
    failure: failure({ stage: 'tls', reason: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }),
    expected: [/expired/, /Renew/],
  },
  {
    name: 'certificate for another host name',
    failure: failure({
      stage: 'tls',
      reason: 'ERR_TLS_CERT_ALTNAME_INVALID',
      message: "Hostname/IP does not match certificate's altnames",
    }),
    config: smtpConfig({ host: '203.0.113.10' }),
    expected: [/not issued for "203\.0\.113\.10"/, /host name the certificate names/],
  },
  {
    name: 'TLS version or cipher mismatch',
    failure: failure({
      stage: 'tls',
      reason: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
      message: 'unsupported protocol',
    }),
    expected: [/TLS 1\.2 or newer/],
  },
  // Connecting
  {
    name: 'unknown host (NXDOMAIN)',
    failure: failure({
      stage: 'dns',
      reason: 'ENOTFOUND',
      message: 'getaddrinfo ENOTFOUND smtp.exmaple.com',
    }),
    config: smtpConfig({ host: 'smtp.exmaple.com' }),
    expected: [/"smtp\.exmaple\.com" does not exist in DNS/, /spelling/],
  },
  {
    name: 'temporary DNS failure',
    failure: failure({
      stage: 'dns',
      reason: 'EAI_AGAIN',
      transient: true,
      message: 'getaddrinfo EAI_AGAIN smtp.example.com',
    }),
    expected: [/failed temporarily/, /retried/],
  },
  {
    name: 'connection refused',
    failure: failure({
      stage: 'connect',
      reason: 'ECONNREFUSED',
      transient: true,
      message: 'Connection refused',
    }),
    expected: [/connection refused/, /firewall/],
    absent: [/port 25/],
  },
  {
    name: 'connection refused on port 25 mentions that networks block it (where this runs is unknown)',
    failure: failure({
      stage: 'connect',
      reason: 'ECONNREFUSED',
      transient: true,
      message: 'Connection refused',
    }),
    config: smtpConfig({ port: 25 }),
    expected: [/connection refused/, /Many networks block outbound port 25/, /587.*465/],
    absent: [/Lambda/, /NAT/, /lift/],
  },
  {
    name: 'connection timeout',
    failure: failure({
      stage: 'connect',
      reason: 'CONNECT_TIMEOUT',
      transient: true,
      message: 'Could not connect',
    }),
    expected: [/No answer from smtp\.example\.com:587/, /security group/],
    absent: [/port 25/],
  },
  {
    name: 'connection timeout on port 25 (the usual symptom of a blocked port)',
    failure: failure({
      stage: 'connect',
      reason: 'ETIMEDOUT',
      transient: true,
      message: 'connect ETIMEDOUT',
    }),
    config: smtpConfig({ port: 25 }),
    expected: [/No answer/, /Many networks block outbound port 25/],
  },
  {
    name: 'connection reset',
    failure: failure({ stage: 'connect', reason: 'ECONNRESET', transient: true, message: 'read ECONNRESET' }),
    expected: [/closed the connection unexpectedly/],
  },
  // Sender and recipients
  {
    name: 'relay access denied',
    failure: failure({
      stage: 'envelope',
      command: 'RCPT TO',
      message: '554 5.7.1 <ops@example.org>: Relay access denied',
    }),
    config: smtpConfig({ auth: { type: 'none' } }),
    expected: [/relay access denied/, /authentication/, /IP address/],
  },
  {
    name: 'recipient refused',
    failure: failure({
      stage: 'envelope',
      command: 'RCPT TO',
      message: '550 5.1.1 <nobody@example.com>: Recipient address rejected',
    }),
    expected: [/refused the recipient/, /admin contact addresses/],
  },
  {
    name: 'sender refused',
    failure: failure({
      stage: 'envelope',
      command: 'MAIL FROM',
      message: '553 5.1.8 Sender address rejected: Domain not found',
    }),
    expected: [/refused the sender address alerts@example\.com/],
  },
  // Other replies
  {
    name: 'temporary refusal (4xx)',
    failure: failure({
      stage: 'envelope',
      command: 'MAIL FROM',
      transient: true,
      message: '451 4.3.0 Try again later',
    }),
    expected: [/temporarily/, /retried/],
  },
  {
    name: 'message refused after DATA',
    failure: failure({ stage: 'data', command: 'DATA', message: '554 5.6.0 Message refused' }),
    expected: [/refused the message/, /spam|size/],
  },
];

describe('hintFor', () => {
  test.each(cases)('$name', ({ failure: input, config, expected, absent }) => {
    // Prepare
    const effective = config ?? smtpConfig();

    // Act
    const hint = hintFor(input, effective);

    // Assess
    expect(hint).toBeDefined();
    for (const pattern of expected) expect(hint).toMatch(pattern);
    for (const pattern of absent ?? []) expect(hint).not.toMatch(pattern);
    // One or two sentences an admin reads, not an essay
    expect((hint ?? '').length).toBeLessThan(450);
  });

  describe('port 25 advice, by where the connection leaves from', () => {
    const blocked = [
      failure({ stage: 'connect', reason: 'ECONNREFUSED', transient: true, message: 'Connection refused' }),
      failure({ stage: 'connect', reason: 'ETIMEDOUT', transient: true, message: 'connect ETIMEDOUT' }),
      failure({ stage: 'connect', reason: DEADLINE_EXCEEDED, transient: true, message: 'deadline passed' }),
    ];
    const modes = [
      {
        egress: 'lambda',
        expected: [
          /blocks outbound port 25 from Lambda functions outside a VPC/,
          /cannot lift/,
          /587.*465/,
          /SES/,
          /-c egress=vpc/,
        ],
        absent: [/request/, /NatEgressIps/],
      },
      {
        egress: 'vpc',
        expected: [
          /NAT gateways’ Elastic IPs/,
          /NatEgressIps/,
          /request to remove the email sending limitations/,
          /587.*465/,
        ],
        absent: [/cannot lift/, /outside a VPC/],
      },
      {
        egress: undefined,
        expected: [/Many networks block outbound port 25/, /internet providers/, /587.*465/],
        absent: [/AWS blocks/, /Elastic IP/, /lift/, /request/],
      },
    ] as const;

    test.each(
      modes.flatMap((mode) =>
        blocked.map((f) => ({ ...mode, failure: f, name: `${mode.egress ?? 'unknown'}, ${f.reason}` })),
      ),
    )('$name', ({ egress, failure: input, expected, absent }) => {
      // Act
      const hint = hintFor(input, smtpConfig({ port: 25 }), egress);

      // Assess
      for (const pattern of expected) expect(hint).toMatch(pattern);
      for (const pattern of absent) expect(hint).not.toMatch(pattern);
      expect((hint ?? '').length).toBeLessThan(450);
    });

    test.each(modes.map((m) => m.egress))('says nothing about port 25 on port 587 (egress %s)', (egress) => {
      // Act
      const hint = hintFor(blocked[1] as DeliveryFailure, smtpConfig({ port: 587 }), egress);

      // Assess
      expect(hint).toMatch(/No answer/);
      expect(hint).not.toMatch(/port 25/);
    });
  });

  test('has no hint for a failure it does not know', () => {
    // Prepare
    const unknown = failure({ stage: 'data', reason: 'ESTREAM', message: 'stream ended early' });

    // Act
    const hint = hintFor(unknown, smtpConfig());

    // Assess
    expect(hint).toBeUndefined();
  });

  test('takes the code from the message when the failure has none', () => {
    // Prepare: as a handler might store it, the reply text only
    const bare: DeliveryFailure = {
      stage: 'auth',
      transient: false,
      message:
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
    };

    // Act
    const hint = hintFor(bare, smtpConfig());

    // Assess
    expect(hint).toMatch(/Authenticated SMTP/);
  });

  test('works for a configuration without an SMTP block (SES)', () => {
    // Prepare
    const ses = EmailConfigSchema.parse({
      sender: 'a@example.com',
      adminContacts: 'ops@example.com',
      transport: 'ses',
    });

    // Act
    const hint = hintFor(
      failure({ stage: 'connect', reason: 'ECONNREFUSED', transient: true, message: 'refused' }),
      ses,
    );

    // Assess
    expect(hint).toMatch(/the relay/);
  });

  test.each([
    { stage: 'dns', expected: /DNS lookup of "smtp\.example\.com" did not finish in time/ },
    { stage: 'connect', expected: /smtp\.example\.com:587 did not accept the connection and greet in time/ },
    { stage: 'tls', expected: /TLS handshake with smtp\.example\.com:587 did not finish in time/ },
    { stage: 'auth', expected: /answered the authentication too slowly/ },
    { stage: 'envelope', expected: /answered the sender and recipient commands too slowly/ },
    { stage: 'data', expected: /did not confirm the message in time\. It may have received it anyway/ },
  ] as const)('explains a passed deadline at the $stage stage', ({ stage, expected }) => {
    // Prepare: the reason decides, whatever the message says.
    const late = failure({ stage, reason: DEADLINE_EXCEEDED, transient: true, message: '421 nope' });

    // Act
    const hint = hintFor(late, smtpConfig());

    // Assess
    expect(hint).toMatch(expected);
    expect((hint ?? '').length).toBeLessThan(450);
  });
});
