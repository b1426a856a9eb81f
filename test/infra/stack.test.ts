import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ADMIN_API_ROUTES, apiGatewayRoutes } from '../../functions/admin-api/route-table.js';
import {
  actionsOf,
  aliasId,
  buildStack,
  FUNCTION_DESCRIPTIONS,
  functionId,
  statementsOfFunction,
  TEST_ENV,
} from './support.js';

// The one suite that bundles the functions with esbuild for real (as `cdk synth` does).
let template: Template;
let ids: Record<keyof typeof FUNCTION_DESCRIPTIONS, string>;
let keyId: string;
let tableId: string;
const PARAMETERS = `arn:aws:ssm:${TEST_ENV.region}:${TEST_ENV.account}:parameter/appliance-notifier/clusters`;

beforeAll(() => {
  ({ template } = buildStack(
    { sesIdentity: 'example.com', alarmEmail: 'ops@example.com' },
    { bundle: true },
  ));
  ids = {
    adminApi: functionId(template, FUNCTION_DESCRIPTIONS.adminApi),
    notify: functionId(template, FUNCTION_DESCRIPTIONS.notify),
    dailyNotice: functionId(template, FUNCTION_DESCRIPTIONS.dailyNotice),
  };
  keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0] as string;
  tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
}, 120_000);

/** Renders `{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:...']] }` as a plain ARN. */
function plain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const join = (value as Record<string, unknown>)['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) {
    return join[1]
      .map((part) => (JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : part))
      .join('');
  }
  return value;
}

function resourcesOf(statement: Record<string, unknown>): unknown[] {
  const r = statement.Resource;
  return (Array.isArray(r) ? r : [r]).map(plain);
}

describe('functions', () => {
  test.each(['adminApi', 'notify', 'dailyNotice'] as const)(
    '%s: Node.js 22 on ARM64, JSON logs into its own log group, bundled ESM with source maps',
    (name) => {
      const fn = template.toJSON().Resources[ids[name]];
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/LogGroup/) } },
        Environment: {
          Variables: expect.objectContaining({
            CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
            CONFIG_KMS_KEY_ID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            LEDGER_TABLE_NAME: { Ref: tableId },
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
      // A real asset (esbuild output), not inline code.
      expect(fn.Properties.Code).toHaveProperty('S3Key', expect.stringMatching(/\.zip$/));
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref;
      expect(template.toJSON().Resources[logGroupId].Properties).toMatchObject({ RetentionInDays: 90 });
    },
  );

  test('admin API: the OAuth redirect base and the admin page sign-in come from the API and the user pool', () => {
    const variables = template.toJSON().Resources[ids.adminApi].Properties.Environment.Variables;
    const client = Object.keys(template.findResources('AWS::Cognito::UserPoolClient'))[0];
    expect(JSON.stringify(variables.PUBLIC_BASE_URL)).toMatch(/HttpApi/);
    expect(variables.ADMIN_PAGE_CLIENT_ID).toEqual({ Ref: client });
    expect(JSON.stringify(variables.ADMIN_PAGE_AUTHORIZATION_ENDPOINT)).toMatch(/oauth2\/authorize/);
    expect(JSON.stringify(variables.ADMIN_PAGE_TOKEN_ENDPOINT)).toMatch(/oauth2\/token/);
  });

  test('each function deploys its own bundle', () => {
    const keys = (['adminApi', 'notify', 'dailyNotice'] as const).map(
      (name) => template.toJSON().Resources[ids[name]].Properties.Code.S3Key,
    );
    expect(new Set(keys).size).toBe(3);
  });

  test('no function uses a managed policy (their roles carry only the statements below)', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) {
      expect((role as { Properties: Record<string, unknown> }).Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('daily notice: Lambda async retries end in its DLQ (notify is fed by its queue instead)', () => {
    const outputs = template.toJSON().Outputs;
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.dailyNotice },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [outputs.DailyNoticeDlqUrl.Value.Ref, 'Arn'] } },
      },
    });
  });
});

describe('IAM: each function gets what it uses, on named resources', () => {
  const expectStatements = (
    name: keyof typeof ids,
    expected: Array<{ actions: string[]; resources: unknown[] }>,
  ) => {
    const all = statementsOfFunction(template, ids[name]).map((s) => ({
      actions: actionsOf(s),
      resources: resourcesOf(s),
    }));
    // Active tracing: the one statement on `*` (X-Ray has no resource-level permissions; see
    // test/infra/observability.test.ts).
    const xray = all.filter((s) => s.actions.every((a) => a.startsWith('xray:')));
    expect(xray).toEqual([
      { actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resources: ['*'] },
    ]);
    const actual = all.filter((s) => !xray.includes(s));
    expect(actual).toEqual(
      expect.arrayContaining(expected.map((e) => ({ ...e, actions: [...e.actions].sort() }))),
    );
    expect(actual).toHaveLength(expected.length);
    for (const statement of actual) expect(statement.resources).not.toContain('*');
  };
  const logs = (name: keyof typeof ids) => {
    const fn = template.toJSON().Resources[ids[name]];
    return {
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [{ 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] }],
    };
  };
  const key = () => ({ 'Fn::GetAtt': [keyId, 'Arn'] });
  const ledger = () => [
    {
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
      resources: [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
    },
    { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [key()] },
  ];
  const ses = {
    actions: ['ses:SendRawEmail'],
    resources: [`arn:aws:ses:${TEST_ENV.region}:${TEST_ENV.account}:identity/example.com`],
  };
  // The admin API also deletes configurations and lists them (GET /clusters).
  const configReadWrite = () => [
    {
      actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
      resources: [`${PARAMETERS}/*`],
    },
    { actions: ['ssm:GetParametersByPath'], resources: [PARAMETERS, `${PARAMETERS}/*`] },
    { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [key()] },
  ];
  // The OAuth2 grant is an item in the table, written through the ledger statement.
  const configRead = () => [
    { actions: ['ssm:GetParameter'], resources: [`${PARAMETERS}/*`] },
    { actions: ['kms:Decrypt'], resources: [key()] },
  ];

  test('admin API: read, save, delete and list configurations, the delivery log, SES on the identity only, replay to the queue', () => {
    const queue = { 'Fn::GetAtt': [template.toJSON().Outputs.NotifyQueueUrl.Value.Ref, 'Arn'] };
    expectStatements('adminApi', [
      logs('adminApi'),
      ...configReadWrite(),
      ...ledger(),
      ses,
      // POST .../deliveries/{eventId}/replay: the failed event back onto notify's queue.
      { actions: ['sqs:SendMessage'], resources: [queue] },
    ]);
  });

  test('notify: reads configurations (the OAuth2 grant is a table item), consumes its queue', () => {
    const queue = { 'Fn::GetAtt': [template.toJSON().Outputs.NotifyQueueUrl.Value.Ref, 'Arn'] };
    expectStatements('notify', [
      logs('notify'),
      ...configRead(),
      ...ledger(),
      ses,
      // The event source mapping's, as CDK grants it.
      {
        actions: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        resources: [queue],
      },
      // The function's own: scheduling a failed record's next attempt (SqsEventQueue).
      { actions: ['sqs:ChangeMessageVisibility'], resources: [queue] },
      // And moving an event that used up its attempts to the dead-letter queue.
      {
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [{ 'Fn::GetAtt': [template.toJSON().Outputs.NotifyQueueDlqUrl.Value.Ref, 'Arn'] }],
      },
    ]);
  });

  test('daily notice: also lists the configuration path', () => {
    const dlq = template.toJSON().Outputs.DailyNoticeDlqUrl.Value.Ref;
    expectStatements('dailyNotice', [
      logs('dailyNotice'),
      ...configRead(),
      { actions: ['ssm:GetParametersByPath'], resources: [PARAMETERS, `${PARAMETERS}/*`] },
      ...ledger(),
      ses,
      {
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [{ 'Fn::GetAtt': [dlq, 'Arn'] }],
      },
    ]);
  });

  test('KMS use is bound to SSM (with the parameter ARN as context) and to DynamoDB', () => {
    for (const id of Object.values(ids)) {
      const kms = statementsOfFunction(template, id).filter((s) => actionsOf(s).includes('kms:Decrypt'));
      const conditions = kms.map((s) => JSON.stringify(plain(s.Condition)));
      expect(kms.map((s) => s.Condition)).toEqual(
        expect.arrayContaining([
          {
            StringEquals: { 'kms:ViaService': `ssm.${TEST_ENV.region}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': expect.anything() },
          },
          { StringEquals: { 'kms:ViaService': `dynamodb.${TEST_ENV.region}.amazonaws.com` } },
        ]),
      );
      expect(conditions).toHaveLength(2);
    }
  });

  test('no publisher policy without -c publisherClusters, and none for the legacy source by default', () => {
    const publishers = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((policy) =>
      JSON.stringify(policy).includes('events:PutEvents'),
    );
    expect(publishers).toEqual([]);
  });
});

describe('daily schedule', () => {
  test('08:00 Europe/Berlin, the daily notice function, retry policy and DLQ', () => {
    const dlq = template.toJSON().Outputs.DailyNoticeDlqUrl.Value.Ref;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: aliasId(template, FUNCTION_DESCRIPTIONS.dailyNotice) },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
      }),
    });
  });
});

describe('admin API', () => {
  const routes = () =>
    Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) =>
        (r as { Properties: { RouteKey: string; AuthorizationType: string; AuthorizerId?: unknown } })
          .Properties,
    );

  test.each([
    ['GET /clusters/{clusterId}/email-config', 'JWT'],
    ['PUT /clusters/{clusterId}/email-config', 'JWT'],
    ['POST /clusters/{clusterId}/email-config/test', 'JWT'],
    ['GET /clusters/{clusterId}/deliveries', 'JWT'],
    ['GET /clusters/{clusterId}/oauth/authorize', 'JWT'],
    ['GET /conditions', 'JWT'],
    ['GET /login/smtp-verification', 'NONE'],
    ['GET /login/smtp-verification/{proxy+}', 'NONE'],
    ['GET /admin', 'NONE'],
    ['GET /admin/{proxy+}', 'NONE'],
  ])('%s: %s', (routeKey, authorizationType) => {
    const route = routes().find((r) => r.RouteKey === routeKey);
    expect(route?.AuthorizationType).toBe(authorizationType);
    if (authorizationType === 'JWT') expect(route?.AuthorizerId).toBeDefined();
    else expect(route?.AuthorizerId).toBeUndefined();
  });

  test('exactly the routes of the route table, and no catch-all route', () => {
    expect(
      routes()
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual(
      apiGatewayRoutes()
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
  });

  test.each(Object.entries(ADMIN_API_ROUTES))(
    'route table entry %s: reached, with its access',
    (_id, entry) => {
      // A trailing slash is not part of a route key, except for the root itself (`GET /`).
      const key = `${entry.method} ${entry.path === '/' ? '/' : entry.path.replace(/\/+$/, '')}`;
      const route = routes().find((r) => r.RouteKey === key);
      expect(route?.AuthorizationType).toBe(entry.access === 'admin' ? 'JWT' : 'NONE');
    },
  );

  test('JWT authorizer: the Cognito user pool as issuer, its app client as audience', () => {
    const pool = Object.keys(template.findResources('AWS::Cognito::UserPool'))[0];
    const client = Object.keys(template.findResources('AWS::Cognito::UserPoolClient'))[0];
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: client }],
        Issuer: {
          'Fn::Join': ['', [`https://cognito-idp.${TEST_ENV.region}.amazonaws.com/`, { Ref: pool }]],
        },
      },
    });
  });

  test('stage: throttled, JSON access logs with the request id and without the query string', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
      Properties: { AccessLogSettings: { Format: string } };
    };
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/querystring|\$context\.path/i);
  });

  test('Cognito: no self sign-up, MFA required, Plus tier with threat protection, code + PKCE client', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      CallbackURLs: [{ 'Fn::Join': ['', [Match.anyValue(), '/admin/']] }],
    });
  });
});

describe('storage', () => {
  test('delivery log: on demand, TTL, point-in-time recovery, customer managed key, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        },
        DeletionProtectionEnabled: true,
      }),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: Record<string, unknown> }).Properties,
    );

  test('every dead-letter queue alarms on its first message', () => {
    const outputs = template.toJSON().Outputs;
    for (const output of ['EventTargetDlqUrl', 'NotifyQueueDlqUrl', 'DailyNoticeDlqUrl']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [outputs[output].Value.Ref, 'QueueName'] } },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  test.each(['Errors', 'Throttles'])('every function alarms on %s', (metricName) => {
    for (const id of Object.values(ids)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  test('every alarm notifies the encrypted, TLS-only topic, which has the email subscription', () => {
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    // 3 dead-letter queues, the notify queue's backlog, 2 for the bus's rules, 2 for the schedule,
    // API 5xx, 3 functions x errors, throttles and duration, table throttles, 2 SES (this stack has
    // an SES identity), 4 custom (test/infra/alarms.test.ts checks each).
    expect(alarms()).toHaveLength(3 + 1 + 2 + 2 + 1 + 3 * 3 + 1 + 2 + 4);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('outputs', () => {
  test.each([
    'ApiUrl',
    'OAuthRedirectUri',
    'EventBusName',
    'EventBusArn',
    'UserPoolId',
    'UserPoolClientId',
    'HostedUiDomain',
    'EventTargetDlqUrl',
    'NotifyQueueUrl',
    'NotifyQueueDlqUrl',
    'DailyNoticeDlqUrl',
    'NotifyFunctionName',
  ])('%s', (name) => {
    expect(template.toJSON().Outputs[name]?.Value).toBeDefined();
  });

  test('the OAuth redirect URI is the API endpoint plus /login/smtp-verification/', () => {
    template.hasOutput('OAuthRedirectUri', {
      Value: {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^AdminApiHttpApi'), 'ApiEndpoint'] },
            '/login/smtp-verification/',
          ],
        ],
      },
    });
    template.hasOutput('NotifyFunctionName', { Value: { Ref: ids.notify } });
  });
});
