import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { FUNCTION_TIMEOUTS_MS } from '../functions/kernel/function-timeouts.js';
import { NOSNIFF_HEADER } from '../functions/shared/security-headers.js';

/** Builds the API Gateway HTTP API (payload 2.0) event that a deployed function would receive. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  now = new Date(),
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== 'cookie')
      headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const cookies = request.headers.cookie?.split(/;\s*/).filter(Boolean);
  const method = (request.method ?? 'GET').toUpperCase();
  const textual =
    body.length === 0 ||
    /^(application\/(?:[\w.+-]+\+)?json|text\/|application\/x-www-form-urlencoded)/i.test(
      headers['content-type'] ?? '',
    );
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(cookies?.length ? { cookies } : {}),
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length
      ? textual
        ? { body: body.toString('utf8'), isBase64Encoded: false }
        : { body: body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

/** The deployed functions' timeouts (FUNCTION_TIMEOUTS_MS), by the local function names. */
export const LOCAL_FUNCTION_TIMEOUTS_MS: Record<string, number> = {
  'admin-api': FUNCTION_TIMEOUTS_MS.adminApi,
  notify: FUNCTION_TIMEOUTS_MS.notify,
  'daily-notice': FUNCTION_TIMEOUTS_MS.dailyNotice,
};

/** A Lambda context good enough for middy and Powertools. */
export function localContext(functionName: string): Context {
  const requestId = randomUUID();
  const deadline = Date.now() + (LOCAL_FUNCTION_TIMEOUTS_MS[functionName] ?? 30_000);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Writes a handler's result as API Gateway would; the runtime's own answers (413, 503) get `nosniff` too. */
export function writeApiGatewayResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string' || result === undefined || result === null) {
    response
      .writeHead(200, { 'content-type': 'application/json', ...NOSNIFF_HEADER })
      .end(JSON.stringify(result ?? null));
    return;
  }
  const headers: Record<string, string | number | string[]> = { ...NOSNIFF_HEADER };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body
    ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  response.writeHead(result.statusCode ?? 200, headers).end(body);
}
