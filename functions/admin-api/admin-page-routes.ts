// The admin web page (Management > Email Configuration): web/admin-page built into strings
// (buildAdminPage) and passed in, so the same routes serve it from the embedded runtime and from
// a Lambda whose bundle carries the build, with no file system access and no external network.
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ADMIN_PAGE_PATH } from '../kernel/public-paths.js';
import type { HttpResponse } from '../shared/http.js';
import { HttpError } from '../shared/http.js';
import type { AdminApiRouteHandlers } from './app.js';

/** How the page signs the admin in. */
export type AdminPageAuth =
  /** The embedded runtime: the admin pastes `ADMIN_TOKEN`; kept in sessionStorage only. */
  | { mode: 'token' }
  /**
   * AWS: authorization code flow with PKCE against the API's issuer (e.g. the Cognito user
   * pool's hosted sign-in); the page sends the resulting JWT as the bearer token. Give the
   * endpoints (Cognito: `https://<domain>.auth.<region>.amazoncognito.com/oauth2/authorize` and
   * `/oauth2/token`), or an `issuer` whose `/.well-known/openid-configuration` names them on the
   * issuer's own origin.
   */
  | {
      mode: 'oidc';
      clientId: string;
      /** Where the provider returns to: the page itself, `https://<api host>/admin/`. */
      redirectUri: string;
      issuer?: string;
      authorizationEndpoint?: string;
      tokenEndpoint?: string;
      /** Default `openid email`. */
      scopes?: string[];
      /** Which token the API's JWT authorizer accepts (default `access_token`). */
      bearer?: 'access_token' | 'id_token';
    };

/** The built page (web/admin-page/build.ts): markup, one script and one stylesheet. */
export interface AdminPageAssets {
  indexHtml: string;
  appJs: string;
  appCss: string;
}

export interface AdminPageOptions {
  auth: AdminPageAuth;
  assets: AdminPageAssets;
  /**
   * The SMTP OAuth2 redirect URI the backend registers with providers
   * (`redirectUriFor(PUBLIC_BASE_URL)`), shown with a copy button. Default: derived in the
   * browser from the page's own address.
   */
  smtpRedirectUri?: string;
}

interface Asset {
  body: string;
  contentType: string;
  etag: string;
}

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

const asset = (body: string, contentType: string): Asset => ({ body, contentType, etag: etagOf(body) });

const originOf = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(parsed.hostname)) {
    throw new Error(`adminPageRoutes: ${url} must be an https:// URL`);
  }
  return parsed.origin;
};

function publicAuthConfig(auth: AdminPageAuth): Record<string, unknown> {
  if (auth.mode === 'token') return { mode: 'token' };
  if (!auth.clientId) throw new Error('adminPageRoutes: oidc mode needs clientId');
  if (!auth.redirectUri) throw new Error('adminPageRoutes: oidc mode needs redirectUri');
  if (!auth.issuer && !(auth.authorizationEndpoint && auth.tokenEndpoint)) {
    throw new Error('adminPageRoutes: oidc mode needs an issuer, or authorizationEndpoint and tokenEndpoint');
  }
  for (const url of [auth.issuer, auth.authorizationEndpoint, auth.tokenEndpoint, auth.redirectUri]) {
    originOf(url);
  }
  return {
    mode: 'oidc',
    clientId: auth.clientId,
    redirectUri: auth.redirectUri,
    ...(auth.issuer ? { issuer: auth.issuer.replace(/\/+$/, '') } : {}),
    ...(auth.authorizationEndpoint ? { authorizationEndpoint: auth.authorizationEndpoint } : {}),
    ...(auth.tokenEndpoint ? { tokenEndpoint: auth.tokenEndpoint } : {}),
    scopes: auth.scopes ?? ['openid', 'email'],
    bearer: auth.bearer ?? 'access_token',
  };
}

/**
 * Nothing inline and nothing from elsewhere: scripts, styles and fetches from this origin only
 * (plus, in oidc mode, the token endpoint and the issuer's discovery document, which the page
 * fetches itself). The page cannot be framed and sends no referrer.
 */
function securityHeaders(auth: AdminPageAuth): Record<string, string> {
  const connect = new Set(["'self'"]);
  if (auth.mode === 'oidc') {
    for (const url of [auth.issuer, auth.tokenEndpoint]) {
      const origin = originOf(url);
      if (origin) connect.add(origin);
    }
  }
  return {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ${[...connect].join(' ')}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    ...(auth.mode === 'oidc' ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

const header = (event: APIGatewayProxyEventV2, name: string) =>
  event.headers?.[name] ?? event.headers?.[name.toLowerCase()];

/**
 * The page's routes, all public (the page itself holds no data; the API it calls is
 * authenticated): `GET /admin` (redirect) and `/admin/`, `/admin/app.js`, `/admin/app.css`,
 * `/admin/config.json`, and `GET /` (a redirect to `/admin/`). Assets are revalidated on every
 * load (`no-cache` + ETag → 304), so a deploy is picked up at once without versioned file names.
 */
type AdminPageHandlers = Pick<
  AdminApiRouteHandlers,
  'adminPage' | 'adminPageScript' | 'adminPageStyles' | 'adminPageSettings' | 'root'
>;

export function adminPageHandlers(options: AdminPageOptions | undefined): AdminPageHandlers {
  if (!options) {
    const notServed = async (): Promise<HttpResponse> => {
      throw new HttpError(
        404,
        'The admin page is not served by this deployment (no sign-in is configured for it)',
      );
    };
    return {
      adminPage: notServed,
      adminPageScript: notServed,
      adminPageStyles: notServed,
      adminPageSettings: notServed,
      root: notServed,
    };
  }
  const security = securityHeaders(options.auth);
  const config = {
    auth: publicAuthConfig(options.auth),
    ...(options.smtpRedirectUri ? { smtpRedirectUri: options.smtpRedirectUri } : {}),
  };
  const assets = {
    html: asset(options.assets.indexHtml, 'text/html; charset=utf-8'),
    js: asset(options.assets.appJs, 'text/javascript; charset=utf-8'),
    css: asset(options.assets.appCss, 'text/css; charset=utf-8'),
    config: asset(`${JSON.stringify(config, null, 2)}\n`, 'application/json; charset=utf-8'),
  };

  const serve =
    (item: Asset) =>
    async (event: APIGatewayProxyEventV2): Promise<HttpResponse> => {
      const headers = {
        ...security,
        'content-type': item.contentType,
        'cache-control': 'no-cache',
        etag: item.etag,
      };
      const match = header(event, 'if-none-match');
      if (match?.split(/\s*,\s*/).some((tag) => tag.replace(/^W\//, '') === item.etag)) {
        return { statusCode: 304, headers, body: '' };
      }
      return { statusCode: 200, headers, body: item.body };
    };

  const html = serve(assets.html);
  return {
    // The router treats `/admin` and `/admin/` as one path: redirect the bare one, so that the
    // page's relative URLs (app.js, ../clusters/...) resolve under /admin/.
    adminPage: async (event) => {
      const path = event.requestContext?.http?.path ?? event.rawPath ?? '';
      if (!path.endsWith('/')) {
        return {
          statusCode: 301,
          headers: { ...security, location: 'admin/', 'cache-control': 'max-age=3600' },
          body: '',
        };
      }
      return html(event);
    },
    adminPageScript: serve(assets.js),
    adminPageStyles: serve(assets.css),
    adminPageSettings: serve(assets.config),
    // `/` leads to the page. 302, not cached: the root may serve something else one day.
    root: async () => ({
      statusCode: 302,
      headers: { ...security, location: ADMIN_PAGE_PATH, 'cache-control': 'no-store' },
      body: '',
    }),
  };
}
