import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { localContext } from '../../local-runtime/api-gateway-event.js';

export interface ApiRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** Verified JWT claims, as API Gateway's JWT authorizer passes them to the function. */
  claims?: Record<string, string>;
}

/** An API Gateway HTTP API (payload 2.0) event as a deployed function receives it. */
export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  const body =
    request.body === undefined || typeof request.body === 'string'
      ? request.body
      : JSON.stringify(request.body);
  const headers = {
    ...(request.body !== undefined && typeof request.body !== 'string'
      ? { 'content-type': 'application/json' }
      : {}),
    ...request.headers,
  };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    headers,
    ...(request.query ? { queryStringParameters: request.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'jest',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '28/Nov/2026:18:00:00 +0000',
      timeEpoch: 1_795_888_800_000,
      ...(request.claims ? { authorizer: { jwt: { claims: request.claims, scopes: [] } } } : {}),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

export type Handler = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof localContext>,
) => Promise<unknown>;

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  raw: string;
}

export async function invoke(handler: Handler, request: ApiRequest): Promise<ApiResponse> {
  const result = (await handler(
    apiEvent(request),
    localContext('admin-api'),
  )) as APIGatewayProxyStructuredResultV2;
  const raw = result.body ?? '';
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  // HTML pages, scripts and styles come back as text in `raw`; JSON is parsed into `body`.
  const json = raw !== '' && /json/.test(headers['content-type'] ?? 'application/json');
  return { status: result.statusCode ?? 200, headers, body: json ? JSON.parse(raw) : {}, raw };
}
