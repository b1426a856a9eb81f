import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AdminApiEnvSchema } from '../../functions/admin-api/env.js';
import type { LambdaEnvironment } from '../../lib/notifier-function.js';
import { stackPropsFromContext } from '../../lib/stack-config.js';
import { buildStack } from './support.js';

/** Offline unless the context says otherwise, as in the other infra tests. */
const fromContext = (context: Record<string, unknown>) =>
  stackPropsFromContext((key) => ({ offline: 'true', ...context })[key]);

const REAL = {
  offline: 'false',
  account: '210987654321',
  region: 'eu-west-1',
  owner: 'platform-team',
  costCenter: 'CC-4711',
  dataClassification: 'confidential',
} as const;

describe('the environment and the tags', () => {
  test('a real environment: the account, region and tags given, nothing from the CLI', () => {
    const props = fromContext(REAL);
    expect(props.offline).toBe(false);
    expect(props.env).toEqual({ account: '210987654321', region: 'eu-west-1' });
    expect(props.resourceTags).toEqual({
      project: 'appliance-notifier',
      owner: 'platform-team',
      'cost-center': 'CC-4711',
      'data-classification': 'confidential',
    });
  });

  test('without -c offline=true, a missing account, region or tag fails with what to pass', () => {
    expect(() => fromContext({ offline: 'false' })).toThrow(
      /-c account: required for a real environment \(-c account=<12-digit account id>\)[\s\S]*-c region: [\s\S]*-c owner: [\s\S]*-c costCenter: [\s\S]*-c dataClassification: /,
    );
    for (const key of ['account', 'region', 'owner', 'costCenter', 'dataClassification'] as const) {
      const { [key]: _missing, ...rest } = REAL;
      expect(() => fromContext(rest)).toThrow(new RegExp(`-c ${key}: required for a real environment`));
    }
  });

  test('the CLI environment is ignored: CDK_DEFAULT_REGION does not stand in for -c region', () => {
    const saved = process.env.CDK_DEFAULT_REGION;
    process.env.CDK_DEFAULT_REGION = 'us-east-1';
    try {
      const { region: _region, ...rest } = REAL;
      expect(() => fromContext(rest)).toThrow(/-c region: required/);
    } finally {
      if (saved === undefined) delete process.env.CDK_DEFAULT_REGION;
      else process.env.CDK_DEFAULT_REGION = saved;
    }
  });

  test('bin/app.ts, as `cdk synth` and `cdk deploy` run it: the CLI account and region do not count', () => {
    // Prepare: what the CLI passes with a profile of account 999999999999 and no region configured.
    const outdir = mkdtempSync(join(tmpdir(), 'app-'));
    try {
      // Act
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          CDK_DEFAULT_ACCOUNT: '999999999999',
          CDK_DEFAULT_REGION: 'us-east-1',
          CDK_CONTEXT_JSON: JSON.stringify({ sesIdentity: 'example.com' }),
          CDK_OUTDIR: outdir,
        },
      });
      // Assess: it stops before building anything, naming what to pass, without a stack trace.
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/-c account: required for a real environment/);
      expect(run.stderr).toMatch(/-c region: required for a real environment/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 90_000);

  test.each([
    [{ account: '1234' }, /-c account: a 12-digit AWS account id/],
    [{ region: 'Frankfurt' }, /-c region: an AWS region/],
  ])('rejects %j', (context, message) => {
    expect(() => fromContext({ ...REAL, ...context })).toThrow(message);
  });

  test('offline: dummy account and region, placeholder tags; never mixed with a real account', () => {
    const props = fromContext({});
    expect(props.offline).toBe(true);
    expect(props.env).toEqual({ account: '111111111111', region: 'eu-central-1' });
    expect(props.resourceTags).toEqual({
      project: 'appliance-notifier',
      owner: 'offline-synth-placeholder',
      'cost-center': 'offline-synth-placeholder',
      'data-classification': 'offline-synth-placeholder',
    });
    expect(() => fromContext({ account: '210987654321', region: 'eu-west-1' })).toThrow(
      /-c offline: an offline synth uses a dummy account and region/,
    );
  });
});

describe('context -> stack props', () => {
  test('defaults: Cognito sign-in, 08:00 Europe/Berlin, retained data, the documented prefix', () => {
    const props = fromContext({});
    expect(props).toMatchObject({
      stackName: 'ApplianceNotifier',
      dailyNotice: { time: '08:00', timeZone: 'Europe/Berlin' },
      parameterPrefix: '/appliance-notifier/clusters',
      logRetention: 90,
      removalPolicy: 'retain',
      auth: { kind: 'cognito', localCallbackUrls: [] },
    });
    expect(props.ses).toBeUndefined();
  });

  test('strings from `cdk -c` are parsed: external issuer, audiences, retention, removal policy', () => {
    const props = fromContext({
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: 'a, b',
      logRetentionDays: '30',
      removalPolicy: 'destroy',
      localhostCallback: 'true',
    });
    expect(props).toMatchObject({
      auth: { kind: 'external', issuer: 'https://issuer.example.com/', audience: ['a', 'b'] },
      logRetention: 30,
      removalPolicy: 'destroy',
    });
  });

  test.each([
    [{ dailyNoticeTime: '8am' }, /dailyNoticeTime/],
    [{ timeZone: 'Mars/Olympus' }, /timeZone/],
    [{ parameterPrefix: '/trailing/' }, /parameterPrefix/],
    [{ jwtIssuer: 'https://issuer.example.com/' }, /jwtAudience/],
    [{ logRetentionDays: '31' }, /logRetentionDays/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
  ])('rejects %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });
});

describe('context variants of the stack', () => {
  test('an external issuer replaces the user pool in the JWT authorizer', () => {
    const { template } = buildStack({
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: 'api://notifier',
    });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://issuer.example.com/', Audience: ['api://notifier'] },
    });
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('UserPoolId');
  });

  test('without an SES identity no function may send through SES', () => {
    const { template } = buildStack();
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('ses:');
  });

  test('an SES configuration set is passed to the functions and allowed next to the identity', () => {
    const { template } = buildStack({ sesIdentity: 'example.com', sesConfigurationSet: 'notifier' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SES_CONFIGURATION_SET: 'notifier' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ses:SendRawEmail',
            Resource: [
              {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-central-1:123456789012:identity/example.com'],
                ],
              },
              {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':ses:eu-central-1:123456789012:configuration-set/notifier',
                  ],
                ],
              },
            ],
          }),
        ]),
      },
    });
  });

  test('the app client accepts no localhost URL unless localhostCallback=true (development stacks)', () => {
    const admin = [{ 'Fn::Join': ['', [Match.anyValue(), '/admin/']] }];
    const { template: production } = buildStack();
    production.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: Match.exact(admin),
      LogoutURLs: Match.exact(admin),
    });
    expect(JSON.stringify(production.findResources('AWS::Cognito::UserPoolClient'))).not.toContain(
      'localhost',
    );

    const { template: development } = buildStack({ localhostCallback: 'true' });
    development.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: [...admin, 'http://localhost:3000/admin/'],
      LogoutURLs: [...admin, 'http://localhost:3000/admin/'],
    });
  });

  test('removalPolicy=destroy lets the table and key go with the stack', () => {
    const { template } = buildStack({ removalPolicy: 'destroy' });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});

test('the environment type follows the function schema (checked by tsc)', () => {
  const complete: LambdaEnvironment<typeof AdminApiEnvSchema> = {
    CONFIG_PARAMETER_PREFIX: '/p',
    CONFIG_KMS_KEY_ID: 'key',
    LEDGER_TABLE_NAME: 'table',
    PUBLIC_BASE_URL: 'https://api.example.com',
    EVENT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events',
  };
  // @ts-expect-error LEDGER_TABLE_NAME is required by AdminApiEnvSchema
  const missing: LambdaEnvironment<typeof AdminApiEnvSchema> = {
    CONFIG_PARAMETER_PREFIX: '/p',
    CONFIG_KMS_KEY_ID: 'k',
  };
  const unknown: LambdaEnvironment<typeof AdminApiEnvSchema> = {
    ...complete,
    // @ts-expect-error the admin API has no EVENT_LEASE_SECONDS
    EVENT_LEASE_SECONDS: '300',
  };
  expect(AdminApiEnvSchema.safeParse(complete).success).toBe(true);
  expect(AdminApiEnvSchema.safeParse(missing).success).toBe(false);
  expect(unknown).toBeDefined();
});
