// OAuth2 pieces for the composition roots: the admin API function, the notify and daily-notice
// functions, and the embedded runtime. Each process builds one token provider on the SAME
// ConfigStore instance its services use, so the SSM store's cache sees rotated refresh tokens.
import { z } from 'zod';
import type { ConfigStore } from '../core/config/config-store.js';
import { OAuthTokenProvider } from '../core/oauth/oauth-token-provider.js';
import type { Clock, Log } from '../core/ports.js';
import { FetchTokenClient } from './oauth-token-client.js';

/** The admin API function's extra environment: where the provider redirects back to. */
export const OAuthEnvShape = {
  /** The API's public URL (`https://{api-id}.execute-api.{region}.amazonaws.com` or a custom domain). */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be the public http(s) URL of the API' }),
};

export const LOCAL_PUBLIC_BASE_URL = 'http://localhost:3000';

/** For every process that sends mail: XOAUTH2 access tokens from the stored refresh tokens. */
export function oauthTokenProvider(deps: { store: ConfigStore; clock: Clock; log: Log }): OAuthTokenProvider {
  return new OAuthTokenProvider({ ...deps, tokens: new FetchTokenClient() });
}
