// The alarms an on-call engineer gets: each one's metric, dimensions, threshold and evaluation,
// and that it reaches the alarm topic (alarm and OK). SES reputation only with an SES identity.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  API_5XX_THRESHOLD,
  DURATION_NEAR_TIMEOUT_SHARE,
  SES_BOUNCE_RATE_THRESHOLD,
  SES_COMPLAINT_RATE_THRESHOLD,
  TABLE_THROTTLE_THRESHOLD,
} from '../../lib/alarms.js';
import { DEFAULT_FUNCTION_TIMEOUTS } from '../../lib/notifier-function.js';
import { buildStack, FUNCTION_DESCRIPTIONS, functionId } from './support.js';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let smtpOnly: Template;
let withSes: Template;

beforeAll(() => {
  ({ template: smtpOnly } = buildStack());
  ({ template: withSes } = buildStack({ sesIdentity: 'example.com' }));
});

const alarmsOf = (template: Template) => template.findResources('AWS::CloudWatch::Alarm') as Resources;
const onlyId = (template: Template, type: string) => {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
};
/** The one alarm whose logical id starts with `Alarms<name>` (ids carry a hash suffix). */
const alarm = (template: Template, name: string) => {
  const found = Object.entries(alarmsOf(template)).filter(([id]) =>
    new RegExp(`^Alarms${name}[0-9A-F]{8}$`).test(id),
  );
  if (found.length !== 1) throw new Error(`expected one alarm ${name}, found ${found.length}`);
  return (found[0] as [string, { Properties: Record<string, unknown> }])[1].Properties;
};
/** The template's `Ref` of the event bus. */
const busRef = (template: Template) => ({ Ref: onlyId(template, 'AWS::Events::EventBus') });

test('every alarm sends its alarm and its OK to the alarm topic', () => {
  for (const template of [smtpOnly, withSes]) {
    const topic = { Ref: onlyId(template, 'AWS::SNS::Topic') };
    const all = Object.values(alarmsOf(template));
    expect(all.length).toBeGreaterThan(0);
    for (const { Properties } of all) {
      expect(Properties.AlarmActions).toEqual([topic]);
      expect(Properties.OKActions).toEqual([topic]);
      expect(Properties.AlarmDescription).toBeDefined();
    }
  }
});

test('count alarms treat missing data as not breaching', () => {
  for (const { Properties } of Object.values(alarmsOf(withSes))) {
    expect(Properties.TreatMissingData).toBe('notBreaching');
  }
});

describe('queues', () => {
  test('the notify queue: oldest message 15 minutes old in two consecutive 5-minute periods', () => {
    expect(alarm(smtpOnly, 'NotifyQueueBacklog')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test.each(['EventTargetDlq', 'NotifyQueueDlq', 'DailyNoticeDlq'])(
    '%s alarms on its first message',
    (name) => {
      expect(alarm(smtpOnly, `${name}NotEmpty`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.any(String), 'QueueName'] } }],
        Threshold: 1,
        EvaluationPeriods: 1,
      });
    },
  );
});

describe('EventBridge rules', () => {
  test.each(['FailedInvocations', 'InvocationsFailedToBeSentToDlq'])(
    '%s: one Metrics Insights query summing every rule of the bus, first one alarms',
    (metricName) => {
      const props = alarm(smtpOnly, `EventRules${metricName}`);
      expect(props).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      // Insights alarms evaluate the last 3 hours only: one 5-minute period is well within.
      expect(props.Metrics).toEqual([
        {
          Id: expect.any(String),
          Label: expect.any(String),
          Period: 300,
          ReturnData: true,
          Expression: {
            'Fn::Join': [
              '',
              [
                `SELECT SUM(${metricName}) FROM SCHEMA("AWS/Events", EventBusName, RuleName) WHERE EventBusName = '`,
                busRef(smtpOnly),
                "'",
              ],
            ],
          },
        },
      ]);
    },
  );

  test('one alarm per metric, not per rule: the catalog has more rules than alarms', () => {
    const rules = Object.keys(smtpOnly.findResources('AWS::Events::Rule')).length;
    const ruleAlarms = Object.keys(alarmsOf(smtpOnly)).filter((id) => id.startsWith('AlarmsEventRules'));
    expect(rules).toBeGreaterThan(10);
    expect(ruleAlarms).toHaveLength(2);
  });
});

describe('the daily schedule', () => {
  test.each([
    ['TargetErrors', 'TargetErrorCount'],
    ['InvocationsDropped', 'InvocationDroppedCount'],
  ])('%s: AWS/Scheduler %s of the default schedule group, first one alarms', (name, metricName) => {
    // The schedule is in the default group: the group the metrics' only dimension names.
    smtpOnly.hasResourceProperties('AWS::Scheduler::Schedule', { GroupName: Match.absent() });
    expect(alarm(smtpOnly, `DailySchedule${name}`)).toMatchObject({
      Namespace: 'AWS/Scheduler',
      MetricName: metricName,
      Dimensions: [{ Name: 'ScheduleGroup', Value: 'default' }],
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });
});

test('admin API: 5xx of its HTTP API stage, at least 3 in 5 minutes', () => {
  const apiId = onlyId(smtpOnly, 'AWS::ApiGatewayV2::Api');
  expect(API_5XX_THRESHOLD).toBe(3);
  expect(alarm(smtpOnly, 'AdminApi5xx')).toMatchObject({
    Namespace: 'AWS/ApiGateway',
    MetricName: '5xx',
    Dimensions: [
      { Name: 'ApiId', Value: { Ref: apiId } },
      { Name: 'Stage', Value: '$default' },
    ],
    Statistic: 'Sum',
    Period: 300,
    Threshold: 3,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
});

describe('functions', () => {
  const names = { adminApi: 'AdminApi', notify: 'Notify', dailyNotice: 'DailyNotice' } as const;

  test.each(Object.entries(names))('%s: maximum duration above 80%% of its timeout', (key, name) => {
    const fnId = functionId(smtpOnly, FUNCTION_DESCRIPTIONS[key as keyof typeof names]);
    const timeout = DEFAULT_FUNCTION_TIMEOUTS[key as keyof typeof names].toMilliseconds();
    const daily = key === 'dailyNotice';
    expect(alarm(smtpOnly, `${name}DurationNearTimeout`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Statistic: 'Maximum',
      Threshold: timeout * DURATION_NEAR_TIMEOUT_SHARE,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: daily ? 1 : 3,
      DatapointsToAlarm: daily ? 1 : 2,
    });
    // The threshold is below the timeout: it warns before the timeout becomes an error.
    expect(alarm(smtpOnly, `${name}DurationNearTimeout`).Threshold).toBeLessThan(timeout);
  });

  test.each(Object.values(names))('%s: errors and throttles, first one alarms', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarm(smtpOnly, `${name}${metric}`)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Threshold: 1,
      });
    }
  });
});

test('delivery log: read + write throttle events, 10 or more in two consecutive 5-minute periods', () => {
  const tableId = onlyId(smtpOnly, 'AWS::DynamoDB::Table');
  const props = alarm(smtpOnly, 'DeliveryLogThrottled');
  expect(TABLE_THROTTLE_THRESHOLD).toBe(10);
  expect(props).toMatchObject({ Threshold: 10, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
  const metrics = props.Metrics as Array<Record<string, unknown>>;
  expect(metrics.find((m) => m.ReturnData)?.Expression).toBe(
    'FILL(readThrottles, 0) + FILL(writeThrottles, 0)',
  );
  for (const [id, metricName] of [
    ['readThrottles', 'ReadThrottleEvents'],
    ['writeThrottles', 'WriteThrottleEvents'],
  ]) {
    expect(metrics.find((m) => m.Id === id)).toEqual({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/DynamoDB',
          MetricName: metricName,
          Dimensions: [{ Name: 'TableName', Value: { Ref: tableId } }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
  }
});

describe('SES reputation', () => {
  test.each([
    ['SesBounceRate', 'Reputation.BounceRate', SES_BOUNCE_RATE_THRESHOLD],
    ['SesComplaintRate', 'Reputation.ComplaintRate', SES_COMPLAINT_RATE_THRESHOLD],
  ])(
    '%s: account-level %s, hourly maximum, below the rate at which SES reviews the account',
    (name, metricName, threshold) => {
      expect(alarm(withSes, name)).toMatchObject({
        Namespace: 'AWS/SES',
        MetricName: metricName,
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarm(withSes, name).Dimensions).toBeUndefined();
    },
  );

  test('review levels: 5% bounces, 0.1% complaints; the alarms are below them', () => {
    expect(SES_BOUNCE_RATE_THRESHOLD).toBeLessThan(0.05);
    expect(SES_COMPLAINT_RATE_THRESHOLD).toBeLessThan(0.001);
  });

  test('an SMTP-only stack has no SES alarm', () => {
    const ses = Object.values(alarmsOf(smtpOnly)).filter((a) => a.Properties.Namespace === 'AWS/SES');
    expect(ses).toEqual([]);
    expect(() => alarm(smtpOnly, 'SesBounceRate')).toThrow(/found 0/);
  });
});

describe('DailyNoticeNotSent', () => {
  test('breaches only when notices were due and none was sent in a day; no data is not breaching', () => {
    const props = alarm(smtpOnly, 'DailyNoticeNotSent');
    expect(props).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const metrics = props.Metrics as Array<Record<string, unknown>>;
    expect(metrics.find((m) => m.ReturnData)?.Expression).toBe('IF(due > 0 AND FILL(sent, 0) == 0, 1, 0)');
    for (const [id, metricName] of [
      ['due', 'DailyNoticeDue'],
      ['sent', 'DailyNoticeSent'],
    ]) {
      expect(metrics.find((m) => m.Id === id)).toEqual({
        Id: id,
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: 'ApplianceNotifier',
            MetricName: metricName,
            Dimensions: [{ Name: 'service', Value: 'appliance-notifier-daily-notice' }],
          },
          Period: 86_400,
          Stat: 'Sum',
        },
      });
    }
  });
});

test('the old 26-hour silence rule is gone: no alarm breaches on missing data', () => {
  for (const { Properties } of Object.values(alarmsOf(smtpOnly))) {
    expect(Properties.TreatMissingData).not.toBe('breaching');
  }
});

test('DailyNoticeFailed: failures minus those Lambda retries (a retried greylisting does not page)', () => {
  const props = alarm(smtpOnly, 'DailyNoticeFailed');
  expect(props).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
  const metrics = props.Metrics as Array<Record<string, unknown>>;
  expect(metrics.find((m) => m.ReturnData)?.Expression).toBe('FILL(failed, 0) - FILL(retrying, 0)');
  for (const [id, metricName] of [
    ['failed', 'DailyNoticeFailed'],
    ['retrying', 'DailyNoticeRetrying'],
  ]) {
    expect(metrics.find((m) => m.Id === id)).toMatchObject({
      MetricStat: { Metric: { MetricName: metricName }, Period: 300, Stat: 'Sum' },
    });
  }
});
