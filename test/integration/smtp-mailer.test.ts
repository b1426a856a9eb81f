// The SMTP relay mailer against real smtp-server instances on loopback: every encryption mode,
// authentication, and each failure class the diagnostics rely on.
import { SmtpMailer, type SmtpMailerOptions } from '../../functions/adapters/smtp/smtp-mailer.js';
import {
  type EmailConfig,
  EmailConfigSchema,
  type SmtpSettings,
} from '../../functions/core/config/email-config.js';
import { hintFor } from '../../functions/core/mail/diagnostics.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type OutgoingMessage,
} from '../../functions/core/mail/mailer.js';
import { type SmtpTestServer, startSmtpTestServer, unusedPort } from '../support/smtp-test-server.js';

const USER = 'relay@example.com';
const PASSWORD = 'Corr3ct-Horse-Battery!';
const M365_USER = 'm365@example.com';
const TOKEN = 'ya29.test-access-token-0123456789';
const M365_DISABLED =
  '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.';
const BODY = 'The primary appliance fw-01 stopped answering; the backup takes over in 120 seconds.';

const message: OutgoingMessage = {
  from: '"Appliance Notifier" <notifier@example.com>',
  to: ['ops@example.com'],
  subject: 'Failover Promotion Pending on fw-01',
  text: BODY,
  headers: { 'X-Appliance-Notifier-Event': 'evt-1' },
};

// Small timeouts: the mismatch cases end in a greeting timeout, and the file must stay fast.
const timeouts = { connectionMs: 2000, greetingMs: 400, socketMs: 3000, dnsMs: 2000 };

let tlsServer: SmtpTestServer;
let starttlsServer: SmtpTestServer;
let plainServer: SmtpTestServer;
let expiredServer: SmtpTestServer;
let wrongHostServer: SmtpTestServer;

beforeAll(async () => {
  [tlsServer, starttlsServer, plainServer, expiredServer, wrongHostServer] = await Promise.all([
    startSmtpTestServer({ mode: 'tls' }),
    startSmtpTestServer({
      mode: 'starttls',
      auth: (attempt) => {
        if (attempt.username === M365_USER) return { reply: M365_DISABLED };
        if (attempt.method === 'XOAUTH2') {
          return attempt.accessToken === TOKEN
            ? { user: attempt.username }
            : { xoauth2Error: { status: '401' } };
        }
        return attempt.username === USER && attempt.password === PASSWORD
          ? { user: attempt.username }
          : { reply: '535 5.7.8 Error: authentication credentials invalid' };
      },
    }),
    startSmtpTestServer({ mode: 'plain' }),
    startSmtpTestServer({ mode: 'tls', certificate: 'expired' }),
    startSmtpTestServer({ mode: 'tls', certificate: 'wrong-host' }),
  ]);
});

afterAll(async () => {
  await Promise.all(
    [tlsServer, starttlsServer, plainServer, expiredServer, wrongHostServer].map((s) => s?.close()),
  );
});

afterEach(() => {
  for (const server of [tlsServer, starttlsServer, plainServer, expiredServer, wrongHostServer])
    server.reset();
});

function settingsFor(
  server: { port: number },
  encryption: SmtpSettings['encryption'],
  overrides: Partial<SmtpSettings> = {},
): SmtpSettings {
  return {
    host: '127.0.0.1',
    port: server.port,
    encryption,
    verifyCertificate: false,
    auth: { type: 'none' },
    ...overrides,
  };
}

function mailer(settings: SmtpSettings, options: Partial<SmtpMailerOptions> = {}): SmtpMailer {
  return new SmtpMailer({ settings, timeouts, ...options });
}

const passwordAuth = { type: 'password' as const, username: USER, password: PASSWORD };

function configFor(settings: SmtpSettings): EmailConfig {
  return EmailConfigSchema.parse({
    sender: 'notifier@example.com',
    smtp: settings,
    adminContacts: 'ops@example.com',
  });
}

async function failureOf(sending: Promise<unknown>): Promise<DeliveryFailure> {
  try {
    await sending;
  } catch (error) {
    if (error instanceof DeliveryError) return error.failure;
    throw error;
  }
  throw new Error('expected the send to fail');
}

describe('SmtpMailer delivers', () => {
  test('over implicit TLS, with the composed message and a receipt', async () => {
    // Prepare
    const settings = settingsFor(tlsServer, 'tls');

    // Act
    const receipt = await mailer(settings).send(message);

    // Assess
    const [received] = await tlsServer.waitForMessages(1);
    expect(received?.secure).toBe(true);
    expect(received?.mailFrom).toBe('notifier@example.com');
    expect(received?.rcptTo).toEqual(['ops@example.com']);
    expect(received?.subject).toBe(message.subject);
    expect(received?.from).toBe('Appliance Notifier <notifier@example.com>');
    expect(received?.headers['x-appliance-notifier-event']).toBe('evt-1');
    expect(received?.text).toBe(BODY);
    expect(received?.messageId).toBe(receipt.messageId);
    expect(receipt).toMatchObject({
      accepted: ['ops@example.com'],
      rejected: [],
      destination: `smtp://127.0.0.1:${tlsServer.port}`,
    });
    expect(receipt.response).toMatch(/^250 /);
  });

  test('over STARTTLS with password authentication', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'starttls', { auth: passwordAuth });

    // Act
    const receipt = await mailer(settings, { credentials: { user: USER, pass: PASSWORD } }).send(message);

    // Assess
    const [received] = await starttlsServer.waitForMessages(1);
    expect(received?.secure).toBe(true);
    expect(received?.user).toBe(USER);
    expect(receipt.transcript).toContain('C: STARTTLS');
    expect(starttlsServer.authAttempts).toEqual([{ method: 'PLAIN', username: USER, password: PASSWORD }]);
  });

  test('over STARTTLS with an OAuth2 access token (XOAUTH2)', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'starttls');

    // Act
    const receipt = await mailer(settings, { credentials: { user: USER, accessToken: TOKEN } }).send(message);

    // Assess
    await starttlsServer.waitForMessages(1);
    expect(starttlsServer.authAttempts).toEqual([{ method: 'XOAUTH2', username: USER, accessToken: TOKEN }]);
    expect(JSON.stringify(receipt.transcript)).not.toContain(TOKEN);
  });

  test('without TLS when encryption is none', async () => {
    // Prepare
    const settings = settingsFor(plainServer, 'none');

    // Act
    const receipt = await mailer(settings).send(message);

    // Assess
    const [received] = await plainServer.waitForMessages(1);
    expect(received?.secure).toBe(false);
    expect(receipt.accepted).toEqual(['ops@example.com']);
  });

  test('to a self-signed server only when verification is off, or when its certificate is trusted', async () => {
    // Prepare
    const unverified = settingsFor(tlsServer, 'tls', { verifyCertificate: false });
    const verified = settingsFor(tlsServer, 'tls', { verifyCertificate: true });

    // Act
    const off = await mailer(unverified).send(message);
    const trusted = await mailer(verified, { ca: [tlsServer.cert] }).send(message);

    // Assess
    expect(off.accepted).toEqual(['ops@example.com']);
    expect(trusted.accepted).toEqual(['ops@example.com']);
    expect(await tlsServer.waitForMessages(2)).toHaveLength(2);
  });

  test('keeps a transcript of the dialogue without the message body', async () => {
    // Prepare
    const settings = settingsFor(plainServer, 'none');

    // Act
    const receipt = await mailer(settings).send(message);

    // Assess
    const transcript = receipt.transcript ?? [];
    expect(transcript).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^S: 220 /),
        expect.stringMatching(/^C: EHLO /),
        'C: MAIL FROM:<notifier@example.com>',
        'C: RCPT TO:<ops@example.com>',
        'C: DATA',
        expect.stringMatching(/^C: <message, \d+ bytes, not shown>$/),
      ]),
    );
    expect(transcript.join('\n')).not.toContain('fw-01 stopped answering');
    expect(transcript.join('\n')).not.toContain(message.subject);
  });

  test('keeps the transcript bounded in lines and line length', async () => {
    // Prepare: 150 recipients make ~300 lines; a refusal with a 700 character reply makes one long line
    const recipients = Array.from({ length: 150 }, (_, i) => `admin${i}@example.com`);
    plainServer.setHandlers({
      onRcptTo: (address) => (address === 'admin7@example.com' ? `550 5.1.1 ${'x'.repeat(700)}` : undefined),
    });

    // Act
    const receipt = await mailer(settingsFor(plainServer, 'none')).send({ ...message, to: recipients });

    // Assess
    const transcript = receipt.transcript ?? [];
    expect(receipt.rejected).toEqual(['admin7@example.com']);
    expect(transcript.length).toBeLessThanOrEqual(200);
    expect(transcript.some((line) => /lines omitted/.test(line))).toBe(true);
    expect(Math.max(...transcript.map((line) => line.length))).toBeLessThanOrEqual(500);
    expect(transcript.at(-1)).toMatch(/^(S: 250|\*)/);
  });
});

describe('SmtpMailer authentication failures', () => {
  test('a wrong password fails at stage auth with 535, and the transcript holds no password', async () => {
    // Prepare
    const wrong = 'Wr0ng-Passw0rd-123';
    const settings = settingsFor(starttlsServer, 'starttls', { auth: { ...passwordAuth, password: wrong } });

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: USER, pass: wrong } }).send(message),
    );

    // Assess
    expect(failure).toMatchObject({ stage: 'auth', code: 535, enhancedCode: '5.7.8', transient: false });
    expect(failure.command).toBe('AUTH PLAIN');
    const everything = JSON.stringify(failure);
    for (const form of [wrong, b64(wrong), b64(`\0${USER}\0${wrong}`)])
      expect(everything).not.toContain(form);
    expect(failure.transcript).toEqual(expect.arrayContaining([expect.stringMatching(/^C: AUTH PLAIN /)]));
    expect(hintFor(failure, configFor(settings))).toMatch(/username or password/);
    expect(starttlsServer.messages).toHaveLength(0);
  });

  test('redacts credentials and extra secrets even when the server echoes them back', async () => {
    // Prepare: a (misbehaving) server that quotes the password and a secret in its replies
    const echo = await startSmtpTestServer({
      mode: 'plain',
      auth: (attempt) => ({ reply: `535 5.7.8 Bad password ${attempt.password} for ${attempt.username}` }),
    });
    const settings = settingsFor(echo, 'none', { auth: passwordAuth });

    try {
      // Act
      const failure = await failureOf(
        mailer(settings, { credentials: { user: USER, pass: PASSWORD }, secrets: [USER] }).send(message),
      );

      // Assess
      expect(failure.message).toBe('535 5.7.8 Bad password [redacted] for [redacted]');
      expect(JSON.stringify(failure)).not.toContain(PASSWORD);
      expect(JSON.stringify(failure)).not.toContain(USER);
    } finally {
      await echo.close();
    }
  });

  test('Microsoft 365 "SMTP AUTH disabled" is parsed into 535 / 5.7.139 with its hint', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'starttls', {
      auth: { ...passwordAuth, username: M365_USER },
    });

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: M365_USER, pass: PASSWORD } }).send(message),
    );

    // Assess
    expect(failure).toMatchObject({ stage: 'auth', code: 535, enhancedCode: '5.7.139', transient: false });
    expect(failure.message).toMatch(
      /^535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled/,
    );
    expect(hintFor(failure, configFor(settings))).toMatch(/Authenticated SMTP.*OAuth2/);
  });

  test('with encryption none even where STARTTLS is offered (no upgrade is attempted)', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'none', { auth: passwordAuth, allowInsecureAuth: true });

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: USER, pass: PASSWORD } }).send(message),
    );

    // Assess: the server insists on TLS before AUTH, so "none" really stayed in plain text
    expect(failure).toMatchObject({ stage: 'auth', code: 538 });
    expect(failure.transcript).not.toContain('C: STARTTLS');
    expect(hintFor(failure, configFor(settings))).toMatch(/"starttls"/);
  });

  test('credentials against a server that offers no AUTH fail at stage auth instead of sending unauthenticated', async () => {
    // Prepare
    const settings = settingsFor(plainServer, 'none', { auth: passwordAuth, allowInsecureAuth: true });

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: USER, pass: PASSWORD } }).send(message),
    );

    // Assess
    expect(failure).toMatchObject({ stage: 'auth', reason: 'AUTH_NOT_OFFERED', transient: false });
    expect(failure.code).toBeGreaterThanOrEqual(500);
    expect(hintFor(failure, configFor(settings))).toMatch(/does not offer SMTP authentication/);
    expect(plainServer.messages).toHaveLength(0);
  });

  test('a rejected XOAUTH2 token fails at stage auth', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'starttls');

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: USER, accessToken: 'expired-token' } }).send(message),
    );

    // Assess
    expect(failure).toMatchObject({ stage: 'auth', code: 535, command: 'AUTH XOAUTH2', transient: false });
    expect(JSON.stringify(failure)).not.toContain('expired-token');
  });
});

describe('SmtpMailer TLS failures', () => {
  test('STARTTLS required against a server without it fails at stage tls before anything is sent', async () => {
    // Prepare
    const settings = settingsFor(plainServer, 'starttls');

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure).toMatchObject({
      stage: 'tls',
      reason: 'STARTTLS_NOT_OFFERED',
      command: 'STARTTLS',
      transient: false,
    });
    expect(failure.message).toMatch(/STARTTLS is required, but 127\.0\.0\.1:\d+ does not offer it/);
    expect(failure.transcript?.some((line) => line.startsWith('C: MAIL'))).toBe(false);
    expect(hintFor(failure, configFor(settings))).toMatch(/does not offer STARTTLS/);
    expect(plainServer.messages).toHaveLength(0);
  });

  test('implicit TLS against a STARTTLS port fails at stage tls and suggests starttls', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'tls');

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure).toMatchObject({ stage: 'tls', reason: 'ERR_SSL_WRONG_VERSION_NUMBER', transient: false });
    expect(failure.message).not.toMatch(/deps\/openssl/);
    expect(hintFor(failure, configFor(settings))).toMatch(/Set encryption to "starttls"/);
  });

  test.each(['starttls', 'none'] as const)(
    '%s against an implicit-TLS port times out waiting for the greeting and suggests tls',
    async (encryption) => {
      // Prepare
      const settings = settingsFor(tlsServer, encryption);

      // Act
      const failure = await failureOf(mailer(settings).send(message));

      // Assess
      expect(failure).toMatchObject({ stage: 'connect', reason: 'GREETING_TIMEOUT', transient: true });
      const hint = hintFor(failure, configFor(settings));
      expect(hint).toMatch(/set encryption to "tls"/);
      expect(hint).toMatch(/465.*587/);
    },
  );

  test('a self-signed certificate is refused at stage tls when verification is on', async () => {
    // Prepare
    const settings = settingsFor(tlsServer, 'tls', { verifyCertificate: true });

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure).toMatchObject({ stage: 'tls', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT', transient: false });
    expect(hintFor(failure, configFor(settings))).toMatch(/self-signed/);
    expect(tlsServer.messages).toHaveLength(0);
  });

  test('a self-signed certificate is refused after STARTTLS too', async () => {
    // Prepare
    const settings = settingsFor(starttlsServer, 'starttls', { verifyCertificate: true, auth: passwordAuth });

    // Act
    const failure = await failureOf(
      mailer(settings, { credentials: { user: USER, pass: PASSWORD } }).send(message),
    );

    // Assess: and no credentials went out over the unverified connection
    expect(failure).toMatchObject({ stage: 'tls', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(starttlsServer.authAttempts).toHaveLength(0);
  });

  test('an expired certificate gives its own reason and hint', async () => {
    // Prepare
    const settings = settingsFor(expiredServer, 'tls', { verifyCertificate: true });

    // Act
    const failure = await failureOf(mailer(settings, { ca: [expiredServer.cert] }).send(message));

    // Assess
    expect(failure).toMatchObject({ stage: 'tls', reason: 'CERT_HAS_EXPIRED', transient: false });
    expect(hintFor(failure, configFor(settings))).toMatch(/expired/);
  });

  test('a certificate for another host name gives the mismatch reason and hint', async () => {
    // Prepare
    const settings = settingsFor(wrongHostServer, 'tls', { verifyCertificate: true });

    // Act
    const failure = await failureOf(mailer(settings, { ca: [wrongHostServer.cert] }).send(message));

    // Assess
    expect(failure).toMatchObject({ stage: 'tls', reason: 'ERR_TLS_CERT_ALTNAME_INVALID', transient: false });
    expect(hintFor(failure, configFor(settings))).toMatch(/not issued for "127\.0\.0\.1"/);
  });
});

describe('SmtpMailer connection failures', () => {
  test('a refused connection fails at stage connect and is transient', async () => {
    // Prepare
    const settings = settingsFor({ port: await unusedPort() }, 'none');

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure).toMatchObject({ stage: 'connect', reason: 'ECONNREFUSED', transient: true });
    expect(failure.code).toBeUndefined();
    expect(hintFor(failure, configFor(settings))).toMatch(/connection refused/);
  });

  test('an unknown host fails at stage dns', async () => {
    // Prepare: .invalid never resolves (RFC 6761)
    const settings = settingsFor({ port: 587 }, 'starttls', { host: 'relay.no-such-host.invalid' });

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure.stage).toBe('dns');
    expect(hintFor(failure, configFor(settings))).toMatch(/relay\.no-such-host\.invalid/);
  });
});

describe('SmtpMailer envelope and data refusals', () => {
  test('a refused recipient fails at stage envelope with 550', async () => {
    // Prepare
    plainServer.setHandlers({ onRcptTo: (address) => `550 5.1.1 <${address}>: Recipient address rejected` });
    const settings = settingsFor(plainServer, 'none');

    // Act
    const failure = await failureOf(mailer(settings).send(message));

    // Assess
    expect(failure).toMatchObject({
      stage: 'envelope',
      code: 550,
      enhancedCode: '5.1.1',
      command: 'RCPT TO',
      transient: false,
    });
    expect(hintFor(failure, configFor(settings))).toMatch(/refused the recipient/);
  });

  test('a partly refused recipient list is delivered and reports the refused ones', async () => {
    // Prepare
    plainServer.setHandlers({
      onRcptTo: (address) => (address === 'gone@example.com' ? '550 5.1.1 No such user' : undefined),
    });

    // Act
    const receipt = await mailer(settingsFor(plainServer, 'none')).send({
      ...message,
      to: ['ops@example.com', 'gone@example.com'],
    });

    // Assess
    expect(receipt).toMatchObject({ accepted: ['ops@example.com'], rejected: ['gone@example.com'] });
    expect((await plainServer.waitForMessages(1))[0]?.rcptTo).toEqual(['ops@example.com']);
  });

  test.each([
    { when: 'MAIL FROM', reply: '421 4.3.2 Service shutting down', stage: 'envelope', transient: true },
    { when: 'MAIL FROM', reply: '451 4.3.0 Try again later', stage: 'envelope', transient: true },
    { when: 'MAIL FROM', reply: '550 5.7.1 Sender not allowed', stage: 'envelope', transient: false },
    { when: 'DATA', reply: '451 4.7.1 Greylisted, try again', stage: 'data', transient: true },
    { when: 'DATA', reply: '554 5.6.0 Message refused', stage: 'data', transient: false },
  ] as const)(
    '$reply at $when: stage $stage, transient $transient',
    async ({ when, reply, stage, transient }) => {
      // Prepare
      plainServer.setHandlers(when === 'DATA' ? { onData: () => reply } : { onMailFrom: () => reply });

      // Act
      const failure = await failureOf(mailer(settingsFor(plainServer, 'none')).send(message));

      // Assess
      const [code, enhancedCode] = reply.split(' ');
      expect(failure).toMatchObject({ stage, transient, code: Number(code), enhancedCode });
      expect(failure.message).toBe(reply);
      expect(plainServer.messages).toHaveLength(0);
    },
  );
});

const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
