import { type Duration, TimeZone } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DailyScheduleProps {
  /**
   * The daily notice function's `live` alias. The scheduler role CDK creates may invoke exactly
   * that alias (no `:*` wildcard, as an unqualified function target would get).
   */
  readonly target: lambda.IFunction;
  /** Local time of day, `HH:MM` (24 h). */
  readonly time: string;
  /** IANA time zone, e.g. `Europe/Berlin`: the notice follows daylight saving time. */
  readonly timeZone: string;
  readonly deadLetterQueue: sqs.IQueue;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/** Parses `HH:MM` (24 h); throws on anything else so a typo fails `cdk synth`. */
export function parseTimeOfDay(time: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!match) throw new Error(`dailyNoticeTime must be HH:MM (24 h), got "${time}"`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** The daily "notifications still work" notice: one EventBridge Scheduler schedule. */
export class DailySchedule extends Construct {
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DailyScheduleProps) {
    super(scope, id);
    const { hour, minute } = parseTimeOfDay(props.time);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `appliance-notifier daily notice at ${props.time} ${props.timeZone}`,
      schedule: scheduler.ScheduleExpression.cron({
        minute: String(minute),
        hour: String(hour),
        timeZone: TimeZone.of(props.timeZone),
      }),
      target: new LambdaInvoke(props.target, {
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
      }),
    });
  }
}
