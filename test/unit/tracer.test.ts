// The tracer is off outside a Lambda execution environment (the tests, `npm start`, the benches):
// SDK clients pass through unwrapped and the handler middleware neither opens segments nor
// complains that no X-Ray context exists.
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, expect, it, jest } from '@jest/globals';
import middy from '@middy/core';
import { createTracer, traced } from '../../functions/shared/tracer.js';
import { localContext } from '../../local-runtime/api-gateway-event.js';

afterEach(() => {
  jest.restoreAllMocks();
});

it('is disabled without AWS_EXECUTION_ENV', () => {
  expect(process.env.AWS_EXECUTION_ENV).toBeUndefined();
  expect(createTracer({ serviceName: 'test' }).isTracingEnabled()).toBe(false);
});

it('leaves an SDK client as it is (no X-Ray middleware on its stack)', () => {
  const tracer = createTracer({ serviceName: 'test' });
  const client = new DynamoDBClient({ region: 'eu-west-1' });
  const before = client.middlewareStack.identify();
  expect(traced(tracer, client)).toBe(client);
  expect(client.middlewareStack.identify()).toEqual(before);
  expect(traced(undefined, client)).toBe(client);
});

it('the handler middleware runs the handler and writes nothing to the console', async () => {
  const tracer = createTracer({ serviceName: 'test' });
  const writes = [jest.spyOn(console, 'error'), jest.spyOn(console, 'warn'), jest.spyOn(console, 'log')];
  for (const spy of writes) spy.mockImplementation(() => undefined);
  const handler = middy(async (event: { n: number }) => event.n + 1).use(
    captureLambdaHandler(tracer, { captureResponse: false }),
  );
  await expect(handler({ n: 1 }, localContext('test'))).resolves.toBe(2);
  for (const spy of writes) expect(spy).not.toHaveBeenCalled();
});

it('is enabled in a Lambda execution environment (what the deployed functions get)', () => {
  const previous = process.env.AWS_EXECUTION_ENV;
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
  try {
    expect(createTracer({ serviceName: 'test' }).isTracingEnabled()).toBe(true);
  } finally {
    if (previous === undefined) delete process.env.AWS_EXECUTION_ENV;
    else process.env.AWS_EXECUTION_ENV = previous;
  }
});
