// Who may write what: only the admin API writes configurations (SSM); the OAuth2 grant that a
// token refresh rotates is an item in the table (DynamoDbGrantStore), so notify and the daily
// notice need no PutParameter at all, on `*/email-config` or anywhere else.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildStack, FUNCTION_DESCRIPTIONS, functionId, statementsOfFunction, TEST_ENV } from './support.js';

let template: Template;
let roles: Record<keyof typeof FUNCTION_DESCRIPTIONS, string>;
let fnIds: Record<keyof typeof FUNCTION_DESCRIPTIONS, string>;
let tableId: string;

const parameters = (suffix: string) =>
  Match.objectLike({
    'Fn::Join': [
      '',
      Match.arrayWith([
        Match.stringLikeRegexp(
          `^:ssm:${TEST_ENV.region}:${TEST_ENV.account}:parameter/appliance-notifier/clusters${suffix.replace('*', '\\*')}$`,
        ),
      ]),
    ],
  });

beforeAll(() => {
  ({ template } = buildStack());
  const names = Object.keys(FUNCTION_DESCRIPTIONS) as Array<keyof typeof FUNCTION_DESCRIPTIONS>;
  fnIds = Object.fromEntries(
    names.map((name) => [name, functionId(template, FUNCTION_DESCRIPTIONS[name])]),
  ) as typeof fnIds;
  roles = Object.fromEntries(
    names.map((name) => [
      name,
      (template.toJSON().Resources[fnIds[name]].Properties.Role as { 'Fn::GetAtt': [string] })[
        'Fn::GetAtt'
      ][0],
    ]),
  ) as typeof roles;
  tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
});

const policyOf = (name: keyof typeof FUNCTION_DESCRIPTIONS, statement: object) => ({
  Roles: Match.arrayWith([{ Ref: roles[name] }]),
  PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(statement)]) },
});

describe('configuration writes: the admin API only', () => {
  test('the admin API may read, write and delete every cluster configuration under the prefix, and list them', () => {
    template.hasResourceProperties(
      'AWS::IAM::Policy',
      policyOf('adminApi', {
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        Resource: parameters('/*'),
      }),
    );
    // GET /clusters: the fleet overview lists the clusters by the parameters' path.
    template.hasResourceProperties(
      'AWS::IAM::Policy',
      policyOf('adminApi', {
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: [parameters(''), parameters('/*')],
      }),
    );
    template.hasResourceProperties(
      'AWS::IAM::Policy',
      policyOf('adminApi', {
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Condition: Match.objectLike({
          StringEquals: { 'kms:ViaService': `ssm.${TEST_ENV.region}.amazonaws.com` },
        }),
      }),
    );
  });

  test.each(['notify', 'dailyNotice'] as const)(
    '%s may read configurations but put no parameter (none on */email-config) and encrypt nothing through SSM',
    (name) => {
      // Prepare
      const statements = statementsOfFunction(template, fnIds[name]);
      const actions = (s: Record<string, unknown>) => [s.Action].flat() as string[];

      // Assess
      template.hasResourceProperties(
        'AWS::IAM::Policy',
        policyOf(name, { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameters('/*') }),
      );
      expect(statements.length).toBeGreaterThan(0);
      const writes = statements.filter((s) =>
        actions(s).some(
          (a) => /^ssm:(PutParameter|DeleteParameters?|LabelParameterVersion|\*)$/.test(a) || a === '*',
        ),
      );
      expect(writes).toEqual([]);
      const ssmEncrypt = statements.filter(
        (s) =>
          actions(s).some((a) => a === 'kms:Encrypt' || a === 'kms:GenerateDataKey') &&
          JSON.stringify(s.Condition ?? {}).includes('ssm.'),
      );
      expect(ssmEncrypt).toEqual([]);
    },
  );
});

describe('OAuth2 grant writes: a table item, conditional on its version', () => {
  test.each(['adminApi', 'notify', 'dailyNotice'] as const)(
    '%s may put and delete items of the table (the grant among them), on the table only',
    (name) => {
      template.hasResourceProperties(
        'AWS::IAM::Policy',
        policyOf(name, {
          Effect: 'Allow',
          Action: Match.arrayWith(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']),
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        }),
      );
    },
  );
});

describe('replay of a failed event: the admin API sends it to the notify queue', () => {
  const queueId = () => template.toJSON().Outputs.NotifyQueueUrl.Value.Ref as string;

  test('the admin API may SendMessage to the notify queue, that action only, and is told its URL', () => {
    template.hasResourceProperties(
      'AWS::IAM::Policy',
      policyOf('adminApi', {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      }),
    );
    expect(template.toJSON().Resources[fnIds.adminApi].Properties.Environment.Variables).toMatchObject({
      EVENT_QUEUE_URL: { Ref: queueId() },
    });
    const onQueue = statementsOfFunction(template, fnIds.adminApi).filter((s) =>
      JSON.stringify(s.Resource).includes(`"${queueId()}"`),
    );
    expect(onQueue.map((s) => s.Action)).toEqual(['sqs:SendMessage']);
  });

  test('the queue uses SQS-managed encryption, so the replay needs no KMS grant (and has none on a queue key)', () => {
    expect(template.toJSON().Resources[queueId()].Properties).toMatchObject({ SqsManagedSseEnabled: true });
    expect(template.toJSON().Resources[queueId()].Properties.KmsMasterKeyId).toBeUndefined();
  });
});
