import { Metrics } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics as embedded-metric-format log lines; the stack's alarms read them. */
export function createMetrics(options: { namespace: string; serviceName: string }): Metrics {
  return new Metrics({ namespace: options.namespace, serviceName: options.serviceName });
}

export { METRIC_NAMES } from './metric-names.js';
