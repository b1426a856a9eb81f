import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildStack, TEST_ENV } from './support.js';

// Resource policies: the alarm topic's (CloudWatch must be able to publish) and every SQS, SNS and
// KMS policy against its service's documented limits.
type Statement = {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type PolicyDocument = { Statement: Statement[] };

let template: Template;

beforeAll(() => {
  ({ template } = buildStack({ alarmEmail: 'ops@example.com' }));
});

describe('the alarm topic', () => {
  const topicId = () => Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
  const alarmIds = () => Object.keys(template.findResources('AWS::CloudWatch::Alarm'));

  test('its policy lets CloudWatch publish, for alarms of this account and stack only', () => {
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowThisStacksAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId() },
            Condition: {
              StringEquals: { 'aws:SourceAccount': TEST_ENV.account },
              ArnEquals: {
                'aws:SourceArn': Match.arrayEquals(alarmIds().map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))),
              },
            },
          },
        ]),
      },
    });
  });

  test('the only Deny is for publishing without TLS (CloudWatch publishes over TLS)', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Array<{
      Properties: { PolicyDocument: PolicyDocument };
    }>;
    const denies = (policy?.Properties.PolicyDocument.Statement ?? []).filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual([
      expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  test('the data key lets CloudWatch encrypt for the topic, for this account only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey']),
            Condition: { StringEquals: { 'aws:SourceAccount': TEST_ENV.account } },
          }),
        ]),
      },
    });
  });
});

/**
 * The documented limits of each kind of resource policy:
 * SQS: docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html
 * SNS: docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html
 * KMS: docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
 */
const LIMITS = {
  'AWS::SQS::QueuePolicy': {
    document: 'PolicyDocument',
    bytes: 8192,
    statements: 20,
    conditions: 10,
    principals: 50,
    actionsPerStatement: 7,
    uniqueSids: false,
  },
  'AWS::SNS::TopicPolicy': {
    document: 'PolicyDocument',
    bytes: 30 * 1024,
    statements: 100,
    conditions: Number.POSITIVE_INFINITY,
    principals: 200,
    actionsPerStatement: Number.POSITIVE_INFINITY,
    uniqueSids: true,
  },
  'AWS::KMS::Key': {
    document: 'KeyPolicy',
    bytes: 32_768,
    statements: Number.POSITIVE_INFINITY,
    conditions: Number.POSITIVE_INFINITY,
    principals: Number.POSITIVE_INFINITY,
    actionsPerStatement: Number.POSITIVE_INFINITY,
    uniqueSids: false,
  },
} as const;
type PolicyType = keyof typeof LIMITS;

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** Condition key/value-list pairs (`{ ArnEquals: { 'aws:SourceArn': [...] } }` is one condition). */
const conditionCount = (doc: PolicyDocument) =>
  doc.Statement.flatMap((s) => Object.values(s.Condition ?? {}).flatMap((keys) => Object.keys(keys))).length;

const principalCount = (doc: PolicyDocument) =>
  doc.Statement.flatMap((s) =>
    typeof s.Principal === 'object' && s.Principal !== null
      ? Object.values(s.Principal).flatMap(asList)
      : asList(s.Principal),
  ).length;

/**
 * The policy as the service receives it at deploy time, every reference replaced by the longest
 * value it can resolve to, so that the size check holds for any stack name and any partition.
 * An unknown reference fails the test: add its longest value here.
 */
function deployedJson(doc: PolicyDocument, resources: Resources): string {
  const region = 'ap-southeast-5';
  const account = TEST_ENV.account;
  const longest = (type: string | undefined, attribute: string): string => {
    const name = (n: number) => 'x'.repeat(n);
    switch (`${type}.${attribute}`) {
      case 'AWS::Events::Rule.Arn': // a 64-character rule on a 256-character bus
        return `arn:aws-us-gov:events:${region}:${account}:rule/${name(256)}/${name(64)}`;
      case 'AWS::Events::EventBus.Ref':
        return name(256);
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws-us-gov:sqs:${region}:${account}:${name(80)}`;
      case 'AWS::SNS::Topic.Ref':
        return `arn:aws-us-gov:sns:${region}:${account}:${name(256)}`;
      case 'AWS::CloudWatch::Alarm.Arn':
        return `arn:aws-us-gov:cloudwatch:${region}:${account}:alarm:${name(255)}`;
      default:
        throw new Error(`no longest value for a reference to ${type}.${attribute}`);
    }
  };
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws-us-gov',
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com.cn',
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return pseudo[v.Ref] ?? longest(resources[v.Ref]?.Type, 'Ref');
    const getAtt = v['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) return longest(resources[getAtt[0]]?.Type, getAtt[1]);
    const join = v['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(resolve).join(join[0]);
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, resolve(inner)]));
  };
  return JSON.stringify(resolve(doc));
}

/** Every SQS queue policy, SNS topic policy and KMS key policy of a template. */
function policiesOf(from: Template): Array<[string, PolicyType, PolicyDocument]> {
  const resources = from.toJSON().Resources as Resources;
  return Object.entries(resources).flatMap(([id, r]) => {
    const limits = LIMITS[r.Type as PolicyType];
    return limits
      ? [[id, r.Type as PolicyType, r.Properties[limits.document] as PolicyDocument] as const]
      : [];
  }) as Array<[string, PolicyType, PolicyDocument]>;
}

describe.each([
  ['defaults', {}],
  [
    'the longest bus name, SES and an alarm email',
    { eventBusName: 'b'.repeat(256), sesIdentity: 'example.com', alarmEmail: 'ops@example.com' },
  ],
])('every resource policy within its service limits: %s', (_name, context) => {
  let variant: Template;
  beforeAll(() => {
    ({ template: variant } = buildStack(context));
  });

  test('there are policies of each kind to check', () => {
    const kinds = new Set(policiesOf(variant).map(([, type]) => type));
    expect([...kinds].sort()).toEqual(Object.keys(LIMITS).sort());
  });

  test('statements, conditions, principals, actions, unique Sids and bytes', () => {
    const resources = variant.toJSON().Resources as Resources;
    const violations: string[] = [];
    for (const [id, type, doc] of policiesOf(variant)) {
      const limits = LIMITS[type];
      const measured = {
        statements: doc.Statement.length,
        conditions: conditionCount(doc),
        principals: principalCount(doc),
        actionsPerStatement: Math.max(...doc.Statement.map((s) => asList(s.Action).length)),
        bytes: Buffer.byteLength(deployedJson(doc, resources), 'utf8'),
      };
      for (const [what, value] of Object.entries(measured) as Array<[keyof typeof measured, number]>) {
        if (value > limits[what]) violations.push(`${id} (${type}): ${what} ${value} > ${limits[what]}`);
      }
      const sids = doc.Statement.map((s) => s.Sid);
      if (limits.uniqueSids && !(sids.every(Boolean) && new Set(sids).size === sids.length)) {
        violations.push(`${id} (${type}): every statement needs its own Sid, got ${JSON.stringify(sids)}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
