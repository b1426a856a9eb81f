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
