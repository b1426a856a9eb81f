import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
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
  /** Each function's own alarms: errors, throttles, and a duration close to its timeout. */
  readonly functions: Readonly<Record<string, lambda.Function>>;
  /** The appliance bus: its rules' failed deliveries to the queue. */
  readonly bus: events.IEventBus;
  /** The delivery log: its throttled reads and writes. */
  readonly table: dynamodb.ITable;
  /** The admin API's stage: its 5xx answers. */
  readonly apiStage: apigwv2.IHttpStage;
  /** SES is the transport (the stack has an SES identity): its account reputation is alarmed on. */
  readonly ses?: boolean;
  /** The custom metrics (Powertools EMF) the functions emit. */
  readonly metrics: {
    readonly namespace: string;
    /** `service` dimension of the notify function's metrics. */
    readonly notifyService: string;
    /** `service` dimension of the daily notice function's metrics. */
    readonly dailyNoticeService: string;
  };
}

/** A function alarms when an invocation runs longer than this share of its timeout. */
export const DURATION_NEAR_TIMEOUT_SHARE = 0.8;
/** 5xx answers of the admin API in 5 minutes that alarm (see the alarm for why not one). */
export const API_5XX_THRESHOLD = 3;
/** Read plus write throttle events of the delivery log per 5 minutes, two periods running. */
export const TABLE_THROTTLE_THRESHOLD = 10;
/** SES reputation (fractions): below SES's review levels of 5% bounces and 0.1% complaints. */
export const SES_BOUNCE_RATE_THRESHOLD = 0.02;
export const SES_COMPLAINT_RATE_THRESHOLD = 0.0008;

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

    // Age rather than depth: a storm puts hundreds of events on the queue at once, and the relay's
    // pace (about 30 emails a minute) and the 30 s grouping wait keep some of them there for a few
    // minutes; that is the design working, not a backlog. Fifteen minutes is several times that, and
    // two consecutive 5-minute periods at that age mean it is not clearing. SQS stops counting a
    // message in this metric once it has been received three times, so events that wait for their
    // group email or a relay's limit (received again and again) do not hold it up.
    add('NotifyQueueBacklog', {
      alarmDescription: `Events have waited over ${EVENT_QUEUE_MAX_AGE_MINUTES} minutes in the notify queue for 10 minutes: notify is not consuming it (event source mapping disabled, throttling, crashes) or their deliveries keep failing temporarily (see the delivery log)`,
      metric: props.eventQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: EVENT_QUEUE_MAX_AGE_MINUTES * 60,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // No datapoint: SQS publishes this metric for every queue every 5 minutes, so missing data
      // is a gap of CloudWatch's, not an old message.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The rules' deliveries to the queue. Both metrics exist per rule only (RuleName, and
    // EventBusName for a custom bus; no bus-wide aggregate), and the catalog has more rules than
    // the 10 metrics one metric-math alarm may hold, so one Metrics Insights query per metric sums
    // every rule of this bus: one alarm each, however the catalog grows. EventBridge publishes
    // them only when non-zero. Each one is an event that is lost or parked (FailedInvocations: a
    // delivery that failed for good outside the DLQ path; InvocationsFailedToBeSentToDlq: not even
    // the DLQ took it), so the first one alarms: a benign duplicate never shows up here.
    for (const metricName of ['FailedInvocations', 'InvocationsFailedToBeSentToDlq']) {
      add(`EventRules${metricName}`, {
        alarmDescription: `${metricName} on a rule of the ${props.bus.eventBusName} bus: events did not reach the notify queue${metricName === 'FailedInvocations' ? '' : ' nor the event-target dead-letter queue (lost: replay them from the bus archive)'}; see the rule's metrics and the queue policies`,
        metric: new cloudwatch.MathExpression({
          label: `${metricName} (all rules of the bus)`,
          expression: busRulesQuery(metricName, props.bus.eventBusName),
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // The daily schedule is in the default schedule group (AWS/Scheduler metrics have the
    // ScheduleGroup dimension only), so these also count any other schedule of that group in this
    // account and region. TargetErrorCount: the scheduler could not invoke the function (it
    // retries, up to its retry policy); InvocationDroppedCount: it gave up and the DLQ did not
    // take it either; both are rare and a day's notice, so the first one alarms. (A function that
    // ran and failed is the DailyNotice function's Errors alarm, not a target error: Lambda
    // accepted the asynchronous invocation.)
    const scheduleGroup = scheduler.ScheduleGroup.fromDefaultScheduleGroup(this, 'DefaultScheduleGroup');
    const scheduleMetrics = {
      TargetErrors: scheduleGroup.metricTargetErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      InvocationsDropped: scheduleGroup.metricDropped({ period: Duration.minutes(5), statistic: 'Sum' }),
    };
    for (const [metricId, metric] of Object.entries(scheduleMetrics)) {
      add(`DailySchedule${metricId}`, {
        alarmDescription: `EventBridge Scheduler ${metricId === 'TargetErrors' ? 'could not invoke' : 'gave up invoking'} the daily notice function (default schedule group): see the schedule's target, its role and the DailyNotice dead-letter queue`,
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // 5xx of the admin API (its HTTP API stage): integration failures, a function error or
    // timeout, a throttled function. A handful of administrators use it, so a rate would swing on
    // single requests; three in five minutes is more than one admin's retry of a failed page, and
    // a broken route answers every request it gets.
    add('AdminApi5xx', {
      alarmDescription:
        'The admin API answered 5xx at least 3 times in 5 minutes: see the AdminApi function errors and the API access log',
      metric: props.apiStage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: API_5XX_THRESHOLD,
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
      if (!fn.timeout) throw new Error(`the ${name} function has no timeout to alarm against`);
      const nearTimeoutMs = Math.floor(fn.timeout.toMilliseconds() * DURATION_NEAR_TIMEOUT_SHARE);
      // The slowest invocation (Maximum) above 80% of the timeout: the next slow relay or SSM
      // call times it out. A timeout itself is an error (above); this is the warning before it.
      // One slow send to a slow relay is normal, so the admin API and notify need two of three
      // periods; the daily notice runs once a day (its retries minutes later), so its one run is
      // all there is to judge.
      const daily = name === 'DailyNotice';
      add(`${name}DurationNearTimeout`, {
        alarmDescription: `The ${name} function ran longer than ${DURATION_NEAR_TIMEOUT_SHARE * 100}% of its ${fn.timeout.toSeconds()} s timeout${daily ? '' : ' in two of three 5-minute periods'}: relays, SSM or DynamoDB are slow; it will soon time out`,
        metric: fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: nearTimeoutMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: daily ? 1 : 3,
        datapointsToAlarm: daily ? 1 : 2,
        // No invocations, no duration: nothing is slow.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // The delivery log is on demand: throttling means a hot key (the relay gate's row of one
    // relay, an event's claim) or a sudden jump past twice the previous peak. The SDK retries a
    // throttled call (with backoff), so a few throttles at the start of a storm cost milliseconds
    // and are not worth a page; throttles in two consecutive 5-minute periods are sustained, and
    // then claims, folds and records start failing (events retried, notices late).
    const tableMetric = (metricName: string) =>
      props.table.metric(metricName, { period: Duration.minutes(5), statistic: 'Sum' });
    add('DeliveryLogThrottled', {
      alarmDescription: `DynamoDB throttled reads or writes of the delivery log at least ${TABLE_THROTTLE_THRESHOLD} times in each of two consecutive 5-minute periods: see the table's metrics (a hot key) and the notify errors`,
      metric: new cloudwatch.MathExpression({
        label: 'Read + write throttle events',
        expression: 'FILL(readThrottles, 0) + FILL(writeThrottles, 0)',
        usingMetrics: {
          readThrottles: tableMetric('ReadThrottleEvents'),
          writeThrottles: tableMetric('WriteThrottleEvents'),
        },
        period: Duration.minutes(5),
      }),
      threshold: TABLE_THROTTLE_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.ses) {
      // The account's reputation (AWS/SES, no dimension; a fraction, 0.05 = 5%). SES places an
      // account under review at a bounce rate of 5% and pauses sending at 10%, and recommends
      // staying below 2%; for complaints, review at 0.1% and pause at 0.5%. The alarms sit below
      // the review levels so that there is time to fix a wrong admin address before SES acts.
      // SES computes these rates over a window of its own (a representative volume, not one
      // email), so they move slowly and one hourly maximum is enough; missing data means no
      // bounce or complaint has been computed yet.
      for (const [metricName, threshold, what] of [
        ['Reputation.BounceRate', SES_BOUNCE_RATE_THRESHOLD, 'bounce'],
        ['Reputation.ComplaintRate', SES_COMPLAINT_RATE_THRESHOLD, 'complaint'],
      ] as const) {
        add(`Ses${what === 'bounce' ? 'Bounce' : 'Complaint'}Rate`, {
          alarmDescription: `The SES account's ${what} rate reached ${threshold * 100}%: SES reviews the account at ${what === 'bounce' ? '5%' : '0.1%'} and pauses sending at ${what === 'bounce' ? '10%' : '0.5%'}; remove or fix the recipients that ${what === 'bounce' ? 'bounce' : 'complain'} (see the SES reputation page)`,
          metric: new cloudwatch.Metric({
            namespace: 'AWS/SES',
            metricName,
            statistic: 'Maximum',
            period: Duration.hours(1),
          }),
          threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      }
    }

    const custom = (metricName: string, service: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName,
        dimensionsMap: { service },
        statistic: 'Sum',
        period,
      });

    // The day's runs together (the scheduled run, Lambda's retries minutes later, an admin's
    // "send now"): notices were due (DailyNoticeDue: clusters with the notice on that a run tried
    // to serve, not counting those already served today) and not one was sent. A stack without a
    // cluster that has the notice on emits DailyNoticeDue = 0 and never alarms; so does a retry
    // that only finds today's notices already sent. One daily period, so the run and its retries
    // are judged together (the retries come minutes after the run: a notice scheduled within
    // minutes of midnight UTC could see its failed run and its successful retry in two periods).
    // No datapoint (no run in the period) is not breaching: a schedule that fails to invoke is the
    // DailySchedule alarms' and a run that crashes is DailyNoticeErrors'.
    add('DailyNoticeNotSent', {
      alarmDescription:
        'Daily notices were due but none was sent in a day: every delivery of the notice failed (see the delivery log and DailyNoticeFailed)',
      metric: new cloudwatch.MathExpression({
        label: 'Notices due but none sent (1 = yes)',
        expression: 'IF(due > 0 AND FILL(sent, 0) == 0, 1, 0)',
        usingMetrics: {
          due: custom(METRIC_NAMES.dailyNoticeDue, props.metrics.dailyNoticeService, Duration.days(1)),
          sent: custom(METRIC_NAMES.dailyNoticeSent, props.metrics.dailyNoticeService, Duration.days(1)),
        },
        period: Duration.days(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Failures the run gives up on: a temporary failure (relay unreachable, a 4xx reply) fails the
    // invocation so that Lambda runs it again a minute or two later, and that retry usually
    // delivers; alarming on it would page for a greylisting and clear itself. So the retried ones
    // (DailyNoticeRetrying, emitted with DailyNoticeFailed by the same run) are subtracted; a
    // notice still failing after Lambda's last retry lands in the DailyNotice dead-letter queue,
    // whose alarm covers it.
    add('DailyNoticeFailed', {
      alarmDescription:
        'A daily notice failed for good for a cluster (configuration, authentication, a permanent relay refusal): see the delivery log',
      metric: new cloudwatch.MathExpression({
        label: 'Daily notices failed, not retried',
        expression: 'FILL(failed, 0) - FILL(retrying, 0)',
        usingMetrics: {
          failed: custom(
            METRIC_NAMES.dailyNoticeFailed,
            props.metrics.dailyNoticeService,
            Duration.minutes(5),
          ),
          retrying: custom(
            METRIC_NAMES.dailyNoticeRetrying,
            props.metrics.dailyNoticeService,
            Duration.minutes(5),
          ),
        },
        period: Duration.minutes(5),
      }),
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

/**
 * A Metrics Insights query summing `metricName` over every rule of `busName` (custom-bus rule
 * metrics carry EventBusName and RuleName).
 */
export function busRulesQuery(metricName: string, busName: string): string {
  return `SELECT SUM(${metricName}) FROM SCHEMA("AWS/Events", EventBusName, RuleName) WHERE EventBusName = '${busName}'`;
}
