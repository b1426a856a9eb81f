import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES } from '../functions/shared/metric-names.js';

export interface AlarmsProps {
  /** Encrypts the topic; CloudWatch is allowed to use it for publishing alarms. */
  readonly key: kms.Key;
  /** Subscribed by email when given (the recipient confirms the subscription once). */
  readonly email?: string;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The queue in front of notify: alarms when its events wait too long. */
  readonly eventQueue: sqs.IQueue;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The custom metrics (Powertools EMF) the functions emit. */
  readonly metrics: {
    readonly namespace: string;
    /** `service` dimension of the notify function's metrics. */
    readonly notifyService: string;
    /** `service` dimension of the daily notice function's metrics. */
    readonly dailyNoticeService: string;
  };
}

/** DAILY_NOTICE_SILENCE_HOURS of no `DailyNoticeSent` (a day plus slack for a slow run). */
export const DAILY_NOTICE_SILENCE_HOURS = 26;

/**
 * An event normally leaves the notify queue within seconds. One that waits this long either
 * finds no consumer (the event source mapping disabled, notify throttled or crashing before it
 * answers) or keeps failing temporarily (about the sixth attempt of the retry policy: a relay
 * outage, which the delivery log shows as `failed` with the next attempt).
 */
export const EVENT_QUEUE_MAX_AGE_MINUTES = 15;

/** What pages the operators: every alarm goes to one SNS topic. */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'appliance-notifier alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it; limited to alarms of
    // this account.
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'], // in a key policy, `*` means this key
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    // `enforceSSL` gives the topic a policy of its own (the TLS-only Deny), and a topic policy
    // replaces SNS's default one, which let the account's services publish. Without this Allow
    // CloudWatch is refused and every alarm action fails silently. Only this stack's alarms (their
    // ARNs, resolved once all are added) of this account may publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: {
            'aws:SourceArn': Lazy.list({ produce: () => this.alarms.map((alarm) => alarm.alarmArn) }),
          },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const action = new actions.SnsAction(this.topic);

    const add = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, alarmProps);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(`${name}NotEmpty`, {
        alarmDescription: `Events failed for good and wait in the ${name} dead-letter queue: fix the cause, then npm run redrive`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    add('NotifyQueueBacklog', {
      alarmDescription: `Events have waited over ${EVENT_QUEUE_MAX_AGE_MINUTES} minutes in the notify queue: notify is not consuming it (event source mapping disabled, throttling, crashes) or their deliveries keep failing temporarily (see the delivery log)`,
      metric: props.eventQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: EVENT_QUEUE_MAX_AGE_MINUTES * 60,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const [name, fn] of Object.entries(props.functions)) {
      add(`${name}Errors`, {
        alarmDescription: `The ${name} function failed (unhandled error or timeout)`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      add(`${name}Throttles`, {
        alarmDescription: `The ${name} function was throttled (account concurrency exhausted)`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const custom = (metricName: string, service: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName,
        dimensionsMap: { service },
        statistic: 'Sum',
        period,
      });

    // Hourly periods, all of them breaching: no DailyNoticeSent in 26 consecutive hours. Missing
    // data is breaching, because a notice that never ran emits nothing at all.
    add('DailyNoticeNotSent', {
      alarmDescription: `No daily notice was sent in ${DAILY_NOTICE_SILENCE_HOURS} hours: the schedule, the function or every delivery is broken`,
      metric: custom('DailyNoticeSent', props.metrics.dailyNoticeService, Duration.hours(1)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: DAILY_NOTICE_SILENCE_HOURS,
      datapointsToAlarm: DAILY_NOTICE_SILENCE_HOURS,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    add('DailyNoticeFailed', {
      alarmDescription: 'A daily notice could not be delivered to a cluster (see the delivery log)',
      metric: custom('DailyNoticeFailed', props.metrics.dailyNoticeService, Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // A retry now and then is normal (greylisting, a relay restart); retries in each of three
    // 5-minute periods mean deliveries keep failing temporarily (a relay outage) while events wait.
    add('NotificationRetried', {
      alarmDescription:
        'Notifications have failed temporarily for 15 minutes and are being retried (relay down or refusing): see the delivery log',
      metric: custom(METRIC_NAMES.notificationRetried, props.metrics.notifyService, Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    add('NotificationFailed', {
      alarmDescription: 'A notification could not be delivered (see the delivery log for the reason)',
      metric: custom('NotificationFailed', props.metrics.notifyService, Duration.minutes(5)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
