import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { CONDITION_IDS } from '../../events/catalog.js';
import { RETRY_POLICY } from '../../functions/core/notify/retry-policy.js';
import {
  aliasFunctionName,
  aliasId,
  buildStack,
  FUNCTION_DESCRIPTIONS,
  functionId,
  TEST_ENV,
} from './support.js';

// EventBridge -> SQS -> notify: the queue, its DLQ, the event source mapping and the policies
// that let the rules send.
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

let template: Template;
let stack: ReturnType<typeof buildStack>['stack'];
let resources: Resources;
let queueId: string;
let dlqId: string;
let targetDlqId: string;
let notifyId: string;

beforeAll(() => {
  ({ template, stack } = buildStack());
  resources = template.toJSON().Resources;
  const outputs = template.toJSON().Outputs;
  queueId = outputs.NotifyQueueUrl.Value.Ref;
  dlqId = outputs.NotifyQueueDlqUrl.Value.Ref;
  targetDlqId = outputs.EventTargetDlqUrl.Value.Ref;
  notifyId = functionId(template, FUNCTION_DESCRIPTIONS.notify);
});

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** `arn:<partition>:events:<region>:<account>:rule/<this stack's bus>/*` as the template spells it. */
const busRulesArn = () => {
  const busId = Object.keys(template.findResources('AWS::Events::EventBus'))[0] as string;
  const { account, region } = TEST_ENV;
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:events:${region}:${account}:rule/`, { Ref: busId }, '/*'],
    ],
  };
};
const ruleIds = () =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([id]) => id);
function policyOf(queue: string, from: Template = template): { Statement: Statement[] } {
  const policies = Object.values(
    from.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: queue }] } }),
  ) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  expect(policies).toHaveLength(1);
  return (policies[0] as (typeof policies)[number]).Properties.PolicyDocument;
}
/** Condition key/value pairs of a policy: what SQS counts against its 10 conditions. */
const conditionCount = (policy: { Statement: Statement[] }) =>
  policy.Statement.flatMap((s) => Object.values(s.Condition ?? {}).flatMap((keys) => Object.keys(keys)))
    .length;

/**
 * The policy as SQS receives it at deploy time, with every reference replaced by the longest value
 * it can resolve to: the given bus name, queue names of 80.
 */
function deployedPolicyJson(policy: unknown, busName: string, from: Template = template): string {
  const types = from.toJSON().Resources as Resources;
  const { account } = TEST_ENV;
  const region = 'ap-southeast-5';
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Record<string, unknown>;
    if (v.Ref === 'AWS::Partition') return 'aws-us-gov';
    if (typeof v.Ref === 'string' && types[v.Ref]?.Type === 'AWS::Events::EventBus') return busName;
    const join = v['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(resolve).join(join[0]);
    const getAtt = v['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt && types[getAtt[0]]?.Type === 'AWS::SQS::Queue')
      return `arn:aws:sqs:${region}:${account}:${'q'.repeat(80)}`;
    if (getAtt || typeof v.Ref === 'string') throw new Error(`unexpected reference ${JSON.stringify(v)}`);
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolve(inner)]));
  };
  return JSON.stringify(resolve(policy));
}

describe('the queue in front of notify', () => {
  test('encrypted (SQS-managed), 14 days, visibility 6 x the function timeout, DLQ as a backstop after maxReceives', () => {
    const timeout = resources[notifyId]?.Properties.Timeout as number;
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      VisibilityTimeout: 6 * timeout,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: RETRY_POLICY.maxReceives },
    });
    expect(RETRY_POLICY.maxAttempts).toBe(39);
    // Waits (a group email, a relay's limit) are receives that are no failures: room for them.
    expect(RETRY_POLICY.maxReceives).toBeGreaterThan(RETRY_POLICY.maxAttempts * 2);
    expect(resources[queueId]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf(dlqId),
      maxReceiveCount: RETRY_POLICY.maxReceives,
    });
  });

  test('the visibility timeout outlasts the function timeout and the event lease', () => {
    const visibility = resources[queueId]?.Properties.VisibilityTimeout as number;
    const fn = resources[notifyId]?.Properties as {
      Timeout: number;
      Environment: { Variables: Record<string, unknown> };
    };
    expect(visibility).toBeGreaterThan(fn.Timeout);
    expect(visibility).toBeGreaterThan(Number(fn.Environment.Variables.EVENT_LEASE_SECONDS));
  });

  test.each([
    ['queue', () => queueId],
    ['its DLQ', () => dlqId],
  ])('%s is encrypted and refuses requests without TLS', (_name, id) => {
    expect(resources[id()]?.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    expect(policyOf(id()).Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sqs:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  test('the DLQ keeps its messages 14 days (for npm run redrive)', () => {
    expect(resources[dlqId]?.Properties).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600 });
  });
});

describe('every rule sends the whole event to the queue', () => {
  test('synthesizes without warnings (the targets bound to queue references included)', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('13 rules (the catalog conditions and the catch-all), each targeting the queue, with the target DLQ', () => {
    expect(ruleIds()).toHaveLength(CONDITION_IDS.length + 1);
    for (const id of ruleIds()) {
      expect(resources[id]?.Properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: arnOf(queueId),
          DeadLetterConfig: { Arn: arnOf(targetDlqId) },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        },
      ]);
    }
  });
});

describe.each([
  ['the queue', () => queueId],
  ['the event target DLQ', () => targetDlqId],
])('the resource policy of %s', (_name, id) => {
  test("one statement lets events.amazonaws.com send, from the rules of this stack's bus only", () => {
    const allows = policyOf(id()).Statement.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'AllowThisStacksEventRules',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: arnOf(id()),
        Condition: { ArnLike: { 'aws:SourceArn': busRulesArn() } },
      },
    ]);
  });

  test('stays within SQS limits: at most 20 statements, 10 conditions and 8,192 bytes', () => {
    const policy = policyOf(id());
    expect(policy.Statement.length).toBeLessThanOrEqual(20);
    expect(conditionCount(policy)).toBeLessThanOrEqual(10);
    expect(deployedPolicyJson(policy, 'appliance-notifier').length).toBeLessThanOrEqual(8192);
  });
});

test('the policy does not grow with the catalog, even with the longest bus name the context accepts', () => {
  const busName = 'b'.repeat(256);
  const { template: long } = buildStack({ eventBusName: busName });
  const queue = long.toJSON().Outputs.NotifyQueueUrl.Value.Ref;
  const policy = JSON.stringify(policyOf(queue, long));
  const json = deployedPolicyJson(policyOf(queue, long), busName, long);
  expect(json).toContain(`:rule/${busName}/*`);
  // No rule is named in it: a new condition adds a rule, not a byte.
  for (const [id, r] of Object.entries(long.toJSON().Resources as Resources)) {
    if (r.Type === 'AWS::Events::Rule') expect(policy).not.toContain(`"${id}"`);
  }
  expect(json.length).toBeLessThanOrEqual(1024);
});

describe('notify consumes the queue', () => {
  test('event source mapping: partial batch responses, bounded concurrency, small batches and window', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      // The live alias (see deployment-safety.test.ts), not $LATEST.
      FunctionName: aliasFunctionName(aliasId(template, FUNCTION_DESCRIPTIONS.notify)),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 2,
    });
  });

  test('notify is told the queue and DLQ URLs, and has no async-invoke retries or on-failure destination', () => {
    expect(resources[notifyId]?.Properties).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          EVENT_QUEUE_URL: { Ref: queueId },
          EVENT_DLQ_URL: { Ref: dlqId },
        }),
      },
    });
    expect(
      Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).map(
        (r) => (r as { Properties: { FunctionName: unknown } }).Properties.FunctionName,
      ),
    ).not.toContainEqual({ Ref: notifyId });
  });

  test("besides the rules, only the admin API's role (the replay of a failed event) may send to the queue", () => {
    const adminFunction = resources[functionId(template, FUNCTION_DESCRIPTIONS.adminApi)];
    const adminRole = (adminFunction?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined)?.[
      'Fn::GetAtt'
    ][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
    }>;
    const sendsToQueue = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter(
        (s) =>
          [s.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(s.Resource) === JSON.stringify(arnOf(queueId)),
      ).map((s) => ({ roles: p.Properties.Roles, action: s.Action })),
    );
    expect(sendsToQueue).toEqual([{ roles: [{ Ref: adminRole }], action: 'sqs:SendMessage' }]);
  });

  test("notify may send to the queue's DLQ (it dead-letters a given-up event itself)", () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }>;
    const sendsToDlq = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter(
        (s) =>
          [s.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(s.Resource) === JSON.stringify(arnOf(dlqId)),
      );
    expect(sendsToDlq).toHaveLength(1);
  });
});

describe('alarms on the queue', () => {
  test('its DLQ alarms on the first visible message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('the queue alarms when its oldest message is 15 minutes old', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 15 * 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [Match.anyValue()],
    });
  });
});

test('alarms when notifications keep failing temporarily for 15 minutes (a relay outage)', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'NotificationRetried',
    Threshold: 1,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    TreatMissingData: 'notBreaching',
  });
});
