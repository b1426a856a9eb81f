// What the on-call engineer reads: the platform's REPORT lines (system logs at INFO), X-Ray
// traces of every function, and one dashboard of the service's metrics.
import type { Template } from 'aws-cdk-lib/assertions';
import { OUTCOMES } from '../../functions/core/notify/delivery-ledger.js';
import { METRIC_NAMES } from '../../functions/shared/metric-names.js';
import {
  actionsOf,
  buildStack,
  FUNCTION_DESCRIPTIONS,
  functionId,
  statementsOfFunction,
  TEST_ENV,
} from './support.js';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let template: Template;
let ids: string[];

beforeAll(() => {
  ({ template } = buildStack({ sesIdentity: 'example.com' }));
  ids = Object.values(FUNCTION_DESCRIPTIONS).map((prefix) => functionId(template, prefix));
});

const fnProps = (id: string) => (template.toJSON().Resources as Resources)[id]?.Properties ?? {};

describe('functions', () => {
  test('three functions', () => {
    expect(ids).toHaveLength(3);
  });

  test('system logs at INFO (the REPORT line: duration, memory, init), JSON format', () => {
    for (const id of ids) {
      expect(fnProps(id).LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'INFO' });
    }
  });

  test('active X-Ray tracing', () => {
    for (const id of ids) expect(fnProps(id).TracingConfig).toEqual({ Mode: 'Active' });
  });

  test('each role may write trace segments and telemetry', () => {
    for (const id of ids) {
      const xray = statementsOfFunction(template, id).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('xray:')),
      );
      expect(xray).toEqual([
        { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
      ]);
    }
  });

  test('X-Ray is the only `*` resource of a function role (what its cdk-nag acknowledgement says)', () => {
    for (const id of ids) {
      const wildcard = statementsOfFunction(template, id).filter((s) =>
        ([] as unknown[]).concat(s.Resource).includes('*'),
      );
      expect(wildcard.flatMap(actionsOf)).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });
});

describe('dashboard', () => {
  const dashboards = () => template.findResources('AWS::CloudWatch::Dashboard') as Resources;
  /** The body's parts: literal strings and references (`Fn::GetAtt`, `Ref`). */
  const bodyParts = (): unknown[] => {
    const [dashboard] = Object.values(dashboards());
    if (!dashboard) throw new Error('no dashboard');
    return (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  };
  /** The body with its references as `"<ref>"`. */
  const body = () =>
    bodyParts()
      .map((part) => (typeof part === 'string' ? part : '"<ref>"'))
      .join('');

  test('one dashboard, named after the stack, its URL an output', () => {
    expect(Object.keys(dashboards())).toHaveLength(1);
    const [dashboard] = Object.values(dashboards());
    expect(dashboard?.Properties.DashboardName).toBe('ApplianceNotifier-operations');
    expect(template.toJSON().Outputs.DashboardUrl.Value).toBe(
      `https://${TEST_ENV.region}.console.aws.amazon.com/cloudwatch/home?region=${TEST_ENV.region}#dashboards/dashboard/ApplianceNotifier-operations`,
    );
  });

  test('events in: the notify queue and the rules of the bus', () => {
    expect(body()).toContain('"AWS/SQS","NumberOfMessagesSent"');
    expect(body()).toContain('SELECT SUM(Invocations) FROM SCHEMA(\\"AWS/Events\\", EventBusName, RuleName)');
  });

  test("emails out and every one of notify's outcomes, retries and relay throttles", () => {
    const text = body();
    for (const outcome of [...OUTCOMES, 'duplicate']) {
      expect(text).toContain(`"ApplianceNotifier","${METRIC_NAMES.notification(outcome)}"`);
    }
    for (const name of [METRIC_NAMES.notificationRetried, METRIC_NAMES.relayThrottled]) {
      expect(text).toContain(`"ApplianceNotifier","${name}"`);
    }
    expect(text).toContain(`"ApplianceNotifier","${METRIC_NAMES.dailyNoticeSent}"`);
  });

  test('queue age, dead-letter queue depths, errors, API 5xx, durations', () => {
    const text = body();
    expect(text).toContain('"AWS/SQS","ApproximateAgeOfOldestMessage"');
    // The notify queue and the three dead-letter queues.
    expect(text.match(/"AWS\/SQS","ApproximateNumberOfMessagesVisible"/g)).toHaveLength(4);
    expect(text.match(/"AWS\/Lambda","Errors"/g)).toHaveLength(3);
    expect(text.match(/"AWS\/Lambda","Duration"/g)).toHaveLength(3);
    expect(text).toContain('"AWS/ApiGateway","5xx"');
  });

  test('the alarm status widget lists every alarm', () => {
    const alarmArns = bodyParts().filter(
      (part) =>
        typeof part === 'object' &&
        part !== null &&
        JSON.stringify(part).includes('"Arn"') &&
        JSON.stringify(part).includes('Alarms'),
    );
    expect(alarmArns).toHaveLength(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length);
  });
});
