import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray tracing of a Lambda (the functions have active tracing): the handler's segment through
 * the captureLambdaHandler middleware, and each AWS SDK call through the clients that
 * functions/adapters/aws/aws-adapters.ts wraps. Powertools turns the tracer off by itself outside
 * a Lambda execution environment (no AWS_EXECUTION_ENV: the embedded runtime, the tests, the
 * benches) and when POWERTOOLS_TRACE_ENABLED is `false`; then every call on it is a no-op, and a
 * wrapped client is the client itself.
 *
 * The handlers use captureLambdaHandler with `captureResponse: false`: a response (a delivery log
 * page, a configuration, a run's results) holds addresses and settings that have no place in X-Ray.
 */
export function createTracer(options: { serviceName: string }): Tracer {
  return new Tracer({ serviceName: options.serviceName });
}

/** Wraps an AWS SDK v3 client so its calls are subsegments; unchanged without a tracer. */
export function traced<T>(tracer: Tracer | undefined, client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
