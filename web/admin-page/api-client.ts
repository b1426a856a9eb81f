// The admin API as the page sees it: the JSON its routes answer with, and one fetch wrapper that
// adds the bearer token and never throws. The shapes are the wire format (what toPublicConfig,
// the test email and the delivery log send), declared here because the domain's own types live
// in modules that import zod and Node built-ins, which the page cannot load.
import type { OAuthProvider, SmtpEncryption } from '../../functions/core/config/presets.js';
import type { DeliveryStage } from '../../functions/core/mail/delivery-stages.js';
import { messageOf } from './dom.js';
import { readToken } from './session.js';

/** `/admin/config.json`, written by adminPageRoutes. */
export type PageAuth =
  | { mode: 'token' }
  | {
      mode: 'oidc';
      clientId: string;
      redirectUri: string;
      issuer?: string;
      authorizationEndpoint?: string;
      tokenEndpoint?: string;
      scopes: string[];
      bearer: 'access_token' | 'id_token';
    };
export type OidcAuth = Extract<PageAuth, { mode: 'oidc' }>;

export interface PageConfig {
  auth: PageAuth;
  smtpRedirectUri?: string;
}

/** An SMTP authentication as GET returns it: secrets replaced by whether they are set. */
export type PublicSmtpAuth =
  | { type: 'none' }
  | { type: 'password'; username: string; passwordSet: boolean }
  | {
      type: 'oauth2';
      provider: OAuthProvider;
      tenant?: string;
      clientId: string;
      clientSecretSet: boolean;
      scopes: string[];
      authorizationEndpoint: string;
      tokenEndpoint: string;
      user?: string;
    };

export interface PublicOAuthStatus {
  status: 'authorized' | 'needs-authorization';
  authorizedAt?: string;
  authorizedAs?: string;
  lastRefreshAt?: string;
  lastError?: string;
  lastErrorAt?: string;
}

/** `GET /clusters/{clusterId}/email-config`. */
export interface PublicEmailConfig {
  clusterId: string;
  sender: string;
  transport: 'smtp' | 'ses';
  smtp?: {
    host: string;
    port: number;
    encryption: SmtpEncryption;
    verifyCertificate: boolean;
    auth: PublicSmtpAuth;
  };
  adminContacts: string[];
  dailyNotice: boolean;
  language: 'en' | 'de';
  repeatIntervalMinutes: number;
  oauth?: PublicOAuthStatus;
  updatedAt?: string;
}

/** `POST .../email-config/test`, and `testEmail` of a PUT with `?sendTestEmail=true`. */
export interface TestEmailResult {
  ok: boolean;
  stage?: DeliveryStage;
  code?: number;
  enhancedCode?: string;
  message?: string;
  hint?: string;
  transcript?: string[];
  transient?: boolean;
  recipients: string[];
  durationMs: number;
  at: string;
}

/** `PUT /clusters/{clusterId}/email-config`. */
export interface SaveResponse {
  config: PublicEmailConfig;
  testEmail?: TestEmailResult;
}

/** One entry of `GET /clusters/{clusterId}/deliveries`. */
export interface DeliveryRecord {
  condition: string;
  outcome: string;
  reason?: string;
  recipients: string[];
  at: string;
  eventTime: string;
  appliance?: string;
}

export interface DeliveriesResponse {
  items: DeliveryRecord[];
}

/** `GET /clusters/{clusterId}/oauth/authorize?format=json`. */
export interface AuthorizeResponse {
  url?: string;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** What every error answer carries (400s add the field issues). */
export interface ApiErrorBody {
  error?: string;
  issues?: FieldIssue[];
}

export type ApiResult<T> =
  | { status: number; ok: true; data: T }
  | { status: number; ok: false; data: ApiErrorBody | null };

export type ApiCall = <T>(
  method: string,
  path: string,
  body?: unknown,
  options?: { token?: string },
) => Promise<ApiResult<T>>;

export const errorText = (res: ApiResult<unknown>): string =>
  (!res.ok && res.data?.error) || `HTTP ${res.status}`;

/**
 * Calls the API at `base` with the session's token (or `options.token`, to try one before it is
 * stored). A 401 for the session's token means it expired or was revoked: `onUnauthorized`.
 */
export function apiClient(base: URL, onUnauthorized: () => void): ApiCall {
  return async <T>(method: string, path: string, body?: unknown, options?: { token?: string }) => {
    const token = readToken();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token.value}`;
    if (options?.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
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
        data: { error: `The service could not be reached (${messageOf(error)}).` },
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
    return response.ok
      ? { status: response.status, ok: true, data: data as T }
      : { status: response.status, ok: false, data: data as ApiErrorBody | null };
  };
}
