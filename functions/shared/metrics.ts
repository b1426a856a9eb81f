import { Metrics } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics as embedded-metric-format log lines; the stack's alarms read them. */
export function createMetrics(options: { namespace: string; serviceName: string }): Metrics {
  return new Metrics({ namespace: options.namespace, serviceName: options.serviceName });
}

export const METRIC_NAMES = {
  /** One per notify outcome: `NotificationSent`, `NotificationFolded`, ... */
  notification: (outcome: string) => `Notification${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`,
  dailyNoticeSent: 'DailyNoticeSent',
  dailyNoticeFailed: 'DailyNoticeFailed',
} as const;
