// The admin API as the page sees it: one fetch wrapper that adds the bearer token and never
// throws, over the wire types of api-types.ts.

import type { ApiErrorBody } from './api-types.js';
import { messageOf } from './dom.js';
import { t } from './i18n.js';
import { readToken } from './session.js';

export type * from './api-types.js';

/** `etag`: the answer's ETag (a configuration's version), for the next request's If-Match. */
export type ApiResult<T> =
  | { status: number; ok: true; data: T; etag?: string }
  | { status: number; ok: false; data: ApiErrorBody | null; etag?: string };

export interface ApiOptions {
  /** Try this token before it is stored (sign-in). */
  token?: string;
  /** Only if the resource is still this version (HTTP If-Match); a newer one answers 412. */
  ifMatch?: string;
}

export type ApiCall = <T>(
  method: string,
  path: string,
  body?: unknown,
  options?: ApiOptions,
) => Promise<ApiResult<T>>;

export const errorText = (res: ApiResult<unknown>): string =>
  (!res.ok && res.data?.error) || `HTTP ${res.status}`;

/**
 * Calls the API at `base` with the session's token (or `options.token`, to try one before it is
 * stored). A 401 for the session's token means it expired or was revoked: `onUnauthorized`.
 */
export function apiClient(base: URL, onUnauthorized: () => void): ApiCall {
  return async <T>(method: string, path: string, body?: unknown, options?: ApiOptions) => {
    const token = readToken();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token.value}`;
    if (options?.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options?.ifMatch) headers['if-match'] = options.ifMatch;
    let response: Response;
    try {
      response = await fetch(new URL(path.replace(/^\//, ''), base), {
        method,
        headers,
        cache: 'no-store',
        credentials: 'omit',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      return {
        status: 0,
        ok: false,
        data: { error: t('api.unreachable', { error: messageOf(error) }) },
      };
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { error: text.slice(0, 200) };
    }
    if (response.status === 401 && !options?.token) onUnauthorized();
    // The one place the page trusts the API's JSON to have its route's shape (declared above).
    const etag = response.headers.get('etag') ?? undefined;
    return response.ok
      ? { status: response.status, ok: true, data: data as T, ...(etag ? { etag } : {}) }
      : { status: response.status, ok: false, data: data as ApiErrorBody | null, ...(etag ? { etag } : {}) };
  };
}
