import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OUTCOMES } from '../functions/core/notify/delivery-ledger.js';
import { METRIC_NAMES } from '../functions/shared/metric-names.js';
import { busRulesQuery } from './alarms.js';

export interface DashboardProps {
  /** The queue in front of notify: events in, and how long they wait. */
  readonly eventQueue: sqs.IQueue;
  readonly bus: events.IEventBus;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly apiStage: apigwv2.IHttpStage;
  /** Shown at the top: what is in alarm now. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** The custom metrics (Powertools EMF) the functions emit. */
  readonly metrics: {
    readonly namespace: string;
    readonly notifyService: string;
    readonly dailyNoticeService: string;
  };
}

const PERIOD = Duration.minutes(5);
/** Notify's outcomes, as it counts them (functions/notify/app.ts): the ledger's plus duplicate. */
const NOTIFY_OUTCOMES = [...OUTCOMES, 'duplicate'] as const;

/**
 * One CloudWatch dashboard for the on-call engineer: what is in alarm, events in, emails out,
 * notify's outcomes, how long events wait, the relays' throttling, the dead-letter queues and
 * the errors. Named after the stack (`<stack>-operations`); the stack outputs its URL.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.dashboardName = `${stack.stackName}-operations`;

    const custom = (metricName: string, service: string, label: string) =>
      new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName,
        dimensionsMap: { service },
        statistic: 'Sum',
        period: PERIOD,
        label,
      });
    const notify = (metricName: string, label: string) =>
      custom(metricName, props.metrics.notifyService, label);
    const graph = (title: string, left: cloudwatch.IMetric[], options: { stacked?: boolean } = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, stacked: options.stacked ?? false });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.dashboardName,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms (each says what to look at)',
            alarms: [...props.alarms],
            width: 24,
            height: 6,
            sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
          }),
        ],
        [
          graph('Events in', [
            props.eventQueue.metricNumberOfMessagesSent({
              period: PERIOD,
              statistic: 'Sum',
              label: 'Sent to the notify queue (by the rules, redrives)',
            }),
            new cloudwatch.MathExpression({
              expression: busRulesQuery('Invocations', props.bus.eventBusName),
              period: PERIOD,
              label: 'Rule invocations (all rules of the bus)',
            }),
          ]),
          graph('Emails out', [
            notify(METRIC_NAMES.notification('sent'), 'Notifications sent (an email, or a group email)'),
            custom(METRIC_NAMES.dailyNoticeSent, props.metrics.dailyNoticeService, 'Daily notices sent'),
            custom(METRIC_NAMES.dailyNoticeFailed, props.metrics.dailyNoticeService, 'Daily notices failed'),
          ]),
        ],
        [
          graph(
            'Notify outcomes',
            [
              ...NOTIFY_OUTCOMES.map((outcome) => notify(METRIC_NAMES.notification(outcome), outcome)),
              notify(METRIC_NAMES.notificationRetried, 'retried (temporary failure)'),
            ],
            { stacked: true },
          ),
          graph('Relay throttles', [
            notify(METRIC_NAMES.relayThrottled, "Events waiting for a relay's limit"),
          ]),
        ],
        [
          graph('Notify queue', [
            props.eventQueue.metricApproximateAgeOfOldestMessage({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'Age of the oldest event (s)',
            }),
            props.eventQueue.metricApproximateNumberOfMessagesVisible({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'Events waiting',
            }),
          ]),
          graph(
            'Dead-letter queues (events waiting for a redrive)',
            Object.entries(props.deadLetterQueues).map(([name, queue]) =>
              queue.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                statistic: 'Maximum',
                label: name,
              }),
            ),
          ),
        ],
        [
          graph('Errors', [
            ...Object.entries(props.functions).flatMap(([name, fn]) => [
              fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: `${name} errors` }),
              fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: `${name} throttles` }),
            ]),
            props.apiStage.metricServerError({ period: PERIOD, statistic: 'Sum', label: 'Admin API 5xx' }),
          ]),
          graph(
            'Duration (max, ms)',
            Object.entries(props.functions).map(([name, fn]) =>
              fn.metricDuration({ period: PERIOD, statistic: 'Maximum', label: name }),
            ),
          ),
        ],
      ],
    });
  }

  /** The dashboard in the CloudWatch console (the stack's region). */
  get url(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboardName}`;
  }
}
