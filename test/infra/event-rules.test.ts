import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CONDITION_IDS, type ConditionId } from '../../events/catalog.js';
import { buildStack, logicalIdOf } from './support.js';

// Written out from SPEC.md rather than read from the catalog, so a drifted catalog fails here.
// Typed over CONDITION_IDS: a new condition without a row does not compile.
const DETAIL_TYPES: Record<ConditionId, string> = {
  'version-mismatch': 'Failover Version Mismatch',
  'shared-ip-interface-disabled': 'Failover Shared IP Interface Disabled',
  'shared-ip-not-assigned': 'Failover Shared IP Not Assigned',
  'primary-and-test-ips-unreachable': 'Failover Primary And Test IPs Unreachable',
  'test-ips-unreachable': 'Failover Test IPs Unreachable',
  'backup-operations-disabled': 'Failover Backup Operations Disabled',
  'self-check-failed': 'Failover Self Check Failed',
  'primary-hostname-unreachable': 'Failover Primary Hostname Unreachable',
  'primary-check-failed': 'Failover Primary Check Failed',
  'promotion-pending': 'Failover Promotion Pending',
  'backup-promoted': 'Failover Backup Promoted',
  'data-sync-stale': 'Failover Data Sync Stale',
};

let template: Template;
let queueId: string;
let busId: string;
let dlqId: string;

beforeAll(() => {
  // Prepare
  ({ template } = buildStack());
  queueId = template.toJSON().Outputs.NotifyQueueUrl.Value.Ref;
  busId = logicalIdOf(template, 'AWS::Events::EventBus', { Name: 'appliance-notifier' });
  dlqId = template.toJSON().Outputs.EventTargetDlqUrl.Value.Ref;
});

// The target every rule must have: the queue in front of notify (the whole event as the message,
// so no Input), EventBridge's retry policy, the DLQ.
const notifyTarget = () =>
  Match.objectEquals({
    Id: Match.anyValue(),
    Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
  });

describe('one EventBridge rule per catalog condition', () => {
  test.each(CONDITION_IDS.map((id) => [id, DETAIL_TYPES[id]] as const))(
    '%s: exact pattern (per-cluster source prefix + "%s"), the notify queue as target with retry policy and DLQ',
    (_id, detailType) => {
      // Assess
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: busId },
        EventPattern: Match.objectEquals({
          source: [{ prefix: 'appliance.failover.' }],
          'detail-type': [detailType],
        }),
        State: 'ENABLED',
        Targets: [notifyTarget()],
      });
    },
  );

  test('the condition rules and the catch-all are the only rules (13)', () => {
    template.resourceCountIs('AWS::Events::Rule', CONDITION_IDS.length + 1);
  });
});

test('a catch-all rule sends every other detail-type of the source to the notify queue (recorded as rejected)', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventBusName: { Ref: busId },
    EventPattern: Match.objectEquals({
      source: [{ prefix: 'appliance.failover.' }],
      'detail-type': [{ 'anything-but': Object.values(DETAIL_TYPES) }],
    }),
    Targets: [notifyTarget()],
  });
});

test('the event target DLQ is encrypted, enforces TLS and lets only the rules send to it (one statement)', () => {
  template.hasResourceProperties('AWS::SQS::Queue', {
    SqsManagedSseEnabled: true,
    MessageRetentionPeriod: 14 * 24 * 3600,
  });
  const policies = template.findResources('AWS::SQS::QueuePolicy', {
    Properties: { Queues: [{ Ref: dlqId }] },
  });
  const statements = Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
  );
  expect(statements).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          ArnLike: { 'aws:SourceArn': expect.objectContaining({ 'Fn::Join': expect.any(Array) }) },
        },
      }),
    ]),
  );
  expect(statements).toHaveLength(2);
});

test('the bus keeps an archive of appliance events for replay', () => {
  template.hasResourceProperties('AWS::Events::Archive', {
    EventPattern: { source: [{ prefix: 'appliance.failover.' }] },
    RetentionDays: 30,
  });
});

describe('-c legacyPublisher=true', () => {
  let legacy: Template;
  beforeAll(() => {
    ({ template: legacy } = buildStack({ legacyPublisher: 'true' }));
  });

  test('every rule and the archive take the plain appliance.failover source besides the prefix', () => {
    const rules = Object.values(legacy.findResources('AWS::Events::Rule')) as {
      Properties: { EventPattern: { source: unknown[] } };
    }[];
    expect(rules).toHaveLength(CONDITION_IDS.length + 1);
    for (const rule of rules) {
      expect(rule.Properties.EventPattern.source).toEqual([
        { prefix: 'appliance.failover.' },
        'appliance.failover',
      ]);
    }
    legacy.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: [{ prefix: 'appliance.failover.' }, 'appliance.failover'] },
    });
  });
});
