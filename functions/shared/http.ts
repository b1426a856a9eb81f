import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConfigTooLargeError } from '../core/config/config-store.js';
import type { Log } from '../core/ports.js';
import { type FieldIssue, NotFoundError, ValidationError } from '../kernel/field-issues.js';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

/** An error whose status and message are meant for the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly issues?: FieldIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The request's JSON body: 415 when it is not declared as JSON, 400 when it does not parse. */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = event.headers['content-type'] ?? event.headers['Content-Type'] ?? '';
  if (!JSON_CONTENT_TYPE.test(contentType)) {
    throw new HttpError(
      415,
      `Content-Type must be application/json (got ${contentType ? `"${contentType}"` : 'none'})`,
    );
  }
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  if (raw.trim() === '') throw new HttpError(400, 'Request body is empty: send a JSON document');
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A boolean query flag: absent → false; `true`/`1` or `false`/`0`; anything else is a 400. */
export function queryFlag(event: APIGatewayProxyEventV2, name: string): boolean {
  const value = event.queryStringParameters?.[name];
  if (value === undefined) return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new HttpError(400, 'Invalid query parameter', [{ path: name, message: 'must be true or false' }]);
}

interface StatusError {
  statusCode: number;
  expose?: boolean;
  message: string;
}

const isStatusError = (error: unknown): error is StatusError =>
  typeof error === 'object' && error !== null && typeof (error as StatusError).statusCode === 'number';

/**
 * Maps every error to a JSON response `{ error, issues? }`. Client errors say what is wrong;
 * anything unexpected is logged with its stack and answered with a bare 500: never a stack
 * trace or an internal message in a response.
 */
export function jsonErrorHandler(
  log: Log,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof ValidationError) {
        request.response = jsonResponse(400, { error: error.message, issues: error.issues });
      } else if (error instanceof ConfigTooLargeError) {
        // 413 Content Too Large: the stored document, not the request body, is over the limit.
        request.response = jsonResponse(413, {
          error: error.message,
          bytes: error.bytes,
          limitBytes: error.limit,
        });
      } else if (error instanceof NotFoundError) {
        request.response = jsonResponse(404, { error: error.message });
      } else if (error instanceof HttpError) {
        request.response = jsonResponse(
          error.statusCode,
          { error: error.message, ...(error.issues ? { issues: error.issues } : {}) },
          error.headers,
        );
      } else if (isStatusError(error) && error.statusCode < 500 && error.expose !== false) {
        // middy's createError (e.g. http-router's 404 "Route does not exist")
        request.response = jsonResponse(error.statusCode, { error: error.message });
      } else {
        log.error('Unhandled error', error as Error);
        request.response = jsonResponse(500, {
          error: 'Internal error',
          requestId: request.context.awsRequestId,
        });
      }
    },
  };
}
