import { createServer } from 'node:net';
import { SESClient } from '@aws-sdk/client-ses';
import { classifySesError, SesMailer } from '../../functions/adapters/aws/ses-mailer.js';
import { DeliveryError, type OutgoingMessage } from '../../functions/core/mail/mailer.js';
import { SES_LOCAL_CLIENT_CONFIG, type SesLocal, startSesLocal } from '../support/ses-local.js';

const message: OutgoingMessage = {
  from: '"Appliance Notifier" <notifier@example.com>',
  to: ['ops@example.com', 'oncall@example.com'],
  subject: 'Failover Version Mismatch on fw-1',
  text: 'The primary runs 7.2.1, the backup 7.1.0.',
  html: '<p>The primary runs 7.2.1, the backup 7.1.0.</p>',
  headers: { 'X-Appliance-Notifier-Event': 'evt-123' },
};

let ses: SesLocal;
let client: SESClient;

beforeAll(async () => {
  ses = await startSesLocal();
  client = new SESClient({ ...SES_LOCAL_CLIENT_CONFIG, endpoint: ses.endpoint, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await ses.close();
});

beforeEach(async () => {
  await ses.clear();
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('SesMailer against aws-ses-v2-local', () => {
  it('sends the composed MIME message and returns the SES message id', async () => {
    // Prepare
    const mailer = new SesMailer({ client });

    // Act
    const receipt = await mailer.send(message);

    // Assess
    const emails = await ses.emails();
    expect(emails).toHaveLength(1);
    const [email] = emails;
    expect(email?.messageId).toBe(receipt.messageId);
    expect(email?.from).toBe('"Appliance Notifier" <notifier@example.com>');
    expect(email?.destination.to).toEqual(['ops@example.com, oncall@example.com']);
    expect(email?.subject).toBe('Failover Version Mismatch on fw-1');
    expect(email?.body.text?.trim()).toBe('The primary runs 7.2.1, the backup 7.1.0.');
    expect(email?.body.html).toContain('<p>The primary runs 7.2.1, the backup 7.1.0.</p>');
    expect(receipt).toEqual({
      messageId: expect.stringMatching(/^ses-\d+$/),
      accepted: ['ops@example.com', 'oncall@example.com'],
      rejected: [],
      destination: 'ses:eu-west-1',
    });
  });

  it('passes the envelope and the configuration set to SES, and names the configured region', async () => {
    // Prepare: the emulator does not keep the request parameters, so read them on the way out.
    const inputs: unknown[] = [];
    const observed = new SESClient({ ...SES_LOCAL_CLIENT_CONFIG, endpoint: ses.endpoint, maxAttempts: 1 });
    observed.middlewareStack.add(
      (next) => async (args) => {
        inputs.push(args.input);
        return next(args);
      },
      { step: 'initialize' },
    );
    const mailer = new SesMailer({ client: observed, region: 'us-east-1', configurationSetName: 'notifier' });

    // Act
    const receipt = await mailer.send(message);
    observed.destroy();

    // Assess
    expect(receipt.destination).toBe('ses:us-east-1');
    expect(inputs).toEqual([
      expect.objectContaining({
        Source: 'notifier@example.com',
        Destinations: ['ops@example.com', 'oncall@example.com'],
        ConfigurationSetName: 'notifier',
      }),
    ]);
    expect(await ses.emails()).toHaveLength(1);
  });

  it('reports an unreachable endpoint as a transient connect failure', async () => {
    // Prepare
    const port = await closedPort();
    const offline = new SESClient({
      ...SES_LOCAL_CLIENT_CONFIG,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
    });
    const mailer = new SesMailer({ client: offline });

    // Act
    const error = await mailer.send(message).catch((e: unknown) => e);
    offline.destroy();

    // Assess
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).failure).toMatchObject({
      stage: 'connect',
      transient: true,
      reason: 'ECONNREFUSED',
    });
    expect((error as DeliveryError).message).toMatch(
      /^Cannot reach SES: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
    );
  });

  it('reports missing credentials as an auth failure', async () => {
    // Prepare: the provider fails as the default chain does in a process without credentials.
    const unsigned = new SESClient({
      region: 'eu-west-1',
      endpoint: ses.endpoint,
      maxAttempts: 1,
      credentials: () =>
        Promise.reject(Object.assign(new Error('no creds'), { name: 'CredentialsProviderError' })),
    });
    const mailer = new SesMailer({ client: unsigned });

    // Act
    const error = await mailer.send(message).catch((e: unknown) => e);
    unsigned.destroy();

    // Assess
    expect((error as DeliveryError).failure).toMatchObject({
      stage: 'auth',
      transient: false,
      reason: 'CredentialsProviderError',
    });
    expect(await ses.emails()).toHaveLength(0);
  });
});

describe('classifySesError', () => {
  const sdkError = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`${name} from SES`), { name, $metadata: {}, ...extra });

  it.each([
    ['MessageRejected', 'envelope', false],
    ['MailFromDomainNotVerifiedException', 'envelope', false],
    ['ConfigurationSetDoesNotExistException', 'envelope', false],
    ['ConfigurationSetDoesNotExist', 'envelope', false],
    ['Throttling', 'data', true],
    ['ThrottlingException', 'data', true],
    ['TooManyRequestsException', 'data', true],
    ['ServiceUnavailable', 'data', true],
    ['AccessDenied', 'auth', false],
    ['AccessDeniedException', 'auth', false],
    ['UnrecognizedClientException', 'auth', false],
    ['InvalidClientTokenId', 'auth', false],
    ['SignatureDoesNotMatch', 'auth', false],
    ['CredentialsProviderError', 'auth', false],
    ['TimeoutError', 'connect', true],
  ] as const)('%s -> stage %s, transient %s', (name, stage, transient) => {
    // Prepare
    const error = sdkError(name);

    // Act
    const failure = classifySesError(error);

    // Assess
    expect(failure).toMatchObject({ stage, transient, reason: name });
    expect(failure.message).toContain(`${name} from SES`);
  });

  it('treats an unknown HTTP 5xx answer as transient', () => {
    // Prepare
    const error = sdkError('UnknownError', { $metadata: { httpStatusCode: 502 } });

    // Act
    const failure = classifySesError(error);

    // Assess
    expect(failure).toMatchObject({ stage: 'data', transient: true, reason: 'UnknownError' });
    expect(failure.message).toContain('HTTP 502');
  });

  it('treats an unknown client error as permanent', () => {
    // Prepare
    const error = sdkError('InvalidParameterValue', { $fault: 'client', $metadata: { httpStatusCode: 400 } });

    // Act
    const failure = classifySesError(error);

    // Assess
    expect(failure).toMatchObject({ stage: 'data', transient: false, reason: 'InvalidParameterValue' });
  });

  it('finds the network code inside an AggregateError', () => {
    // Prepare
    const error = new AggregateError([
      Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' }),
    ]);

    // Act
    const failure = classifySesError(error);

    // Assess
    expect(failure).toMatchObject({ stage: 'connect', transient: true, reason: 'ECONNREFUSED' });
  });
});
