// The token endpoint over HTTP (RFC 6749 sections 4.1.3 and 6), with Node's global fetch.
import { TOKEN_REQUEST_TIMEOUT_MS } from '../core/mail/deadlines.js';
import { CLIENT_ASSERTION_TYPE } from '../core/oauth/client-assertion.js';
import { JWT_BEARER_GRANT_TYPE } from '../core/oauth/jwt-bearer-assertion.js';
import {
  type ClientCredentialsRequest,
  type CodeExchange,
  type JwtBearerRequest,
  type RefreshRequest,
  type TokenClient,
  TokenEndpointError,
  type TokenEndpointFailure,
  type TokenSet,
} from '../core/oauth/oauth-ports.js';

export interface FetchTokenClientOptions {
  /** The whole request, connect to last byte (TOKEN_REQUEST_TIMEOUT_MS by default). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = TOKEN_REQUEST_TIMEOUT_MS;
const MAX_DESCRIPTION = 500;

/**
 * Client credentials go in the body (`client_secret_post`), which Microsoft Entra ID and Google
 * both accept. Errors name the endpoint, the status and the provider's error code, never a
 * token, a code or the secret.
 */
export class FetchTokenClient implements TokenClient {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: FetchTokenClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  exchangeCode(request: CodeExchange): Promise<TokenSet> {
    return this.post(request.tokenEndpoint, {
      grant_type: 'authorization_code',
      code: request.code,
      redirect_uri: request.redirectUri,
      code_verifier: request.codeVerifier,
      client_id: request.clientId,
      client_secret: request.clientSecret,
    });
  }

  clientCredentials(request: ClientCredentialsRequest): Promise<TokenSet> {
    return this.post(request.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: request.clientId,
      scope: request.scopes.join(' '),
      ...(request.clientAssertion
        ? { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: request.clientAssertion }
        : { client_secret: request.clientSecret ?? '' }),
    });
  }

  jwtBearer(request: JwtBearerRequest): Promise<TokenSet> {
    return this.post(request.tokenEndpoint, {
      grant_type: JWT_BEARER_GRANT_TYPE,
      assertion: request.assertion,
    });
  }

  refresh(request: RefreshRequest): Promise<TokenSet> {
    return this.post(request.tokenEndpoint, {
      grant_type: 'refresh_token',
      refresh_token: request.refreshToken,
      client_id: request.clientId,
      client_secret: request.clientSecret,
      ...(request.scopes?.length ? { scope: request.scopes.join(' ') } : {}),
    });
  }

  private async post(endpoint: string, form: Record<string, string>): Promise<TokenSet> {
    const fail = (failure: TokenEndpointFailure): never => {
      throw new TokenEndpointError(failure, endpoint);
    };
    let response: Response;
    try {
      response = await this.fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
        // A token endpoint that redirects is misconfigured; following it would resend the secret.
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return fail(networkFailure(error, this.timeoutMs));
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return fail(networkFailure(error, this.timeoutMs));
    }
    const body = parseJson(text);
    const status = response.status;
    if (status >= 500 || status === 429) {
      return fail({
        kind: 'unavailable',
        status,
        reason: `HTTP ${status}`,
        detail: oauthErrorText(body) ?? `HTTP ${status} ${response.statusText}`.trim(),
      });
    }
    if (status >= 400) {
      if (body && typeof body.error === 'string') {
        return fail({
          kind: 'oauth-error',
          status,
          error: body.error.slice(0, 100),
          ...(typeof body.error_description === 'string'
            ? { description: body.error_description.slice(0, MAX_DESCRIPTION) }
            : {}),
        });
      }
      return fail({ kind: 'bad-response', status, detail: `HTTP ${status} without an OAuth2 error` });
    }
    if (!body || typeof body.access_token !== 'string' || body.access_token === '') {
      return fail({ kind: 'bad-response', status, detail: 'no access_token in the answer' });
    }
    const expiresIn = Number(body.expires_in);
    const refreshExpiresIn = Number(body.refresh_token_expires_in);
    return {
      accessToken: body.access_token,
      ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresIn } : {}),
      ...(typeof body.refresh_token === 'string' && body.refresh_token
        ? { refreshToken: body.refresh_token }
        : {}),
      ...(Number.isFinite(refreshExpiresIn) && refreshExpiresIn > 0
        ? { refreshTokenExpiresIn: refreshExpiresIn }
        : {}),
      ...(typeof body.id_token === 'string' ? { idToken: body.id_token } : {}),
      ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
    };
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function oauthErrorText(body: Record<string, unknown> | undefined): string | undefined {
  if (!body || typeof body.error !== 'string') return undefined;
  const description =
    typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, MAX_DESCRIPTION)}` : '';
  return `${body.error}${description}`;
}

/**
 * fetch wraps the socket error (`ECONNREFUSED`, `ENOTFOUND`, a TLS code) in `cause`. Checked by
 * shape, not `instanceof`: the error may come from another realm.
 */
function networkFailure(error: unknown, timeoutMs: number): TokenEndpointFailure {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  if (shape.name === 'TimeoutError' || shape.name === 'AbortError') {
    return { kind: 'unavailable', reason: 'TIMEOUT', detail: `no answer within ${timeoutMs / 1000} s` };
  }
  const cause = typeof shape.cause === 'object' && shape.cause !== null ? shape.cause : {};
  const code = typeof cause.code === 'string' ? cause.code : 'NETWORK_ERROR';
  const detail =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND'
        ? 'the host name does not resolve'
        : typeof cause.message === 'string'
          ? cause.message
          : typeof shape.message === 'string'
            ? shape.message
            : String(error);
  return { kind: 'unavailable', reason: code, detail };
}
