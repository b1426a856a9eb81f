import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

// Headers every response carries, whichever route or error produced it.

/** A browser must not guess a type: a JSON body with HTML in a value never renders as a page. */
export const NOSNIFF_HEADER = { 'x-content-type-options': 'nosniff' } as const;

function withSecurityHeaders(response: APIGatewayProxyResultV2 | null | undefined): void {
  if (typeof response !== 'object' || response === null) return;
  response.headers = { ...NOSNIFF_HEADER, ...response.headers };
}

/** Use it first: its `after` and `onError` run last, so they see the final response, an error's too. */
export function securityHeaders(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    after: async (request) => withSecurityHeaders(request.response),
    onError: async (request) => withSecurityHeaders(request.response),
  };
}
