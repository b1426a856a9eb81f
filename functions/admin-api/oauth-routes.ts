// The OAuth2 redirect flow's HTTP routes: "Authorize" (admin) and the provider's redirect
// target (public, protected by the one-time state). Served by the admin API function in AWS
// and by the embedded runtime alike.
import { createHash } from 'node:crypto';
import type { AuditLog } from '../core/audit/audit-log.js';
import {
  type CallbackOutcome,
  type OAuthAuthorizationService,
  OAuthNotApplicableError,
} from '../core/oauth/oauth-authorization.js';
import { escapeHtml } from '../kernel/text.js';
import { HttpError, type HttpResponse, jsonResponse } from '../shared/http.js';
import { clusterIdParam } from '../shared/http-api.js';
import type { AdminApiRouteHandlers } from './app.js';

export interface OAuthRoutesDeps {
  authorization: OAuthAuthorizationService;
  /** Records each completed callback of a known state (the actor: who clicked Authorize). */
  audit?: AuditLog;
  /** Where the result page links back to (default `/admin`). */
  adminPath?: string;
}

export function oauthHandlers(
  deps: OAuthRoutesDeps,
): Pick<AdminApiRouteHandlers, 'startOAuthAuthorization' | 'completeOAuthAuthorization'> {
  const { authorization } = deps;
  const adminPath = deps.adminPath ?? '/admin';
  return {
    startOAuthAuthorization: async (event, principal) => {
      const clusterId = clusterIdParam(event);
      const format = event.queryStringParameters?.format;
      if (format !== undefined && format !== 'json') {
        throw new HttpError(400, 'Invalid query parameter', [
          { path: 'format', message: 'must be "json" or absent' },
        ]);
      }
      let start: Awaited<ReturnType<OAuthAuthorizationService['start']>>;
      try {
        start = await authorization.start(clusterId, principal?.id);
      } catch (error) {
        if (error instanceof OAuthNotApplicableError) throw new HttpError(409, error.message);
        throw error;
      }
      if (format === 'json') return jsonResponse(200, start);
      return {
        statusCode: 302,
        headers: { location: start.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
        body: '',
      };
    },
    completeOAuthAuthorization: async (event) => {
      const query = event.queryStringParameters ?? {};
      const outcome = await authorization.complete({
        state: query.state,
        code: query.code,
        error: query.error,
        error_description: query.error_description,
      });
      // A state that was ours names the cluster: its completion, whatever the outcome, is recorded.
      if (deps.audit && outcome.clusterId) {
        await deps.audit.record({
          actor: outcome.startedBy ?? 'unknown',
          action: 'oauth.authorize.complete',
          clusterId: outcome.clusterId,
          detail: { outcome: outcome.kind },
        });
      }
      return renderCallbackPage(outcome, { adminPath, redirectUri: authorization.redirectUri });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The page the admin's browser lands on
// ---------------------------------------------------------------------------------------------

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}' +
  'h1{font-size:1.4rem}.ok{color:#0a6b2d}.fail{color:#a4161a}code{background:#f2f2f2;padding:0 .2em;word-break:break-all}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Nothing but this one inline style may run or load; the page cannot be framed, and sends no referrer. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

interface Page {
  status: number;
  ok: boolean;
  title: string;
  /** Paragraphs of HTML; every reflected value is escaped where it is inserted. */
  paragraphs: string[];
}

const NOTHING_CHANGED = 'Nothing was stored and the configuration was not changed.';
const START_AGAIN = 'Start again with <strong>Authorize</strong> in the email configuration.';

function pageFor(outcome: CallbackOutcome, redirectUri: string): Page {
  const cluster = outcome.clusterId ? ` of cluster <code>${escapeHtml(outcome.clusterId)}</code>` : '';
  switch (outcome.kind) {
    case 'authorized':
      return {
        status: 200,
        ok: true,
        title: 'OAuth2 authorized',
        paragraphs: [
          `The email configuration${cluster} is authorized: email now goes out with OAuth2 (XOAUTH2)${
            outcome.user ? ` as <code>${escapeHtml(outcome.user)}</code>` : ''
          }.`,
          'Send a test email from the email configuration to check the whole path to the relay.',
        ],
      };
    case 'invalid-state':
      return {
        status: 400,
        ok: false,
        title:
          outcome.reason === 'expired'
            ? 'This sign-in has expired'
            : outcome.reason === 'missing'
              ? 'There is no sign-in to complete'
              : 'This sign-in link is not valid',
        paragraphs: [
          outcome.reason === 'expired'
            ? 'The sign-in with the provider took longer than 10 minutes, so its one-time link expired.'
            : outcome.reason === 'missing'
              ? 'This page is where the provider sends you back after you sign in; it was opened without a sign-in to complete.'
              : 'This link was already used, or was not issued by this service. Each Authorize click works once.',
          `${NOTHING_CHANGED} ${START_AGAIN}`,
        ],
      };
    case 'provider-error':
      return {
        status: 400,
        ok: false,
        title: 'The provider did not authorize access',
        paragraphs: [
          `The provider answered <code>${escapeHtml(outcome.error)}</code>${
            outcome.description ? `: ${escapeHtml(outcome.description)}` : '.'
          }`,
          outcome.error === 'access_denied'
            ? 'The sign-in was cancelled or consent was refused. In Microsoft Entra ID an administrator may have to grant consent for the app first.'
            : 'Check the app registration with the provider: the client ID, the scopes, and the redirect URI.',
          `${NOTHING_CHANGED} ${START_AGAIN}`,
        ],
      };
    case 'configuration-changed':
      return {
        status: 409,
        ok: false,
        title: 'The email configuration changed during the sign-in',
        paragraphs: [
          `The email configuration${cluster} was changed or no longer uses OAuth2 with the same app while you were signing in.`,
          `${NOTHING_CHANGED} ${START_AGAIN}`,
        ],
      };
    case 'no-refresh-token':
      return {
        status: 502,
        ok: false,
        title: 'The provider returned no refresh token',
        paragraphs: [
          'You signed in, but the provider returned no refresh token, so this service could not get access tokens later.',
          outcome.provider === 'microsoft'
            ? 'Include the <code>offline_access</code> scope in the configuration.'
            : outcome.provider === 'google'
              ? 'Google returns a refresh token only with consent: remove the app’s access in the Google account’s security settings, then authorize again.'
              : 'Ask the provider for offline access (often the <code>offline_access</code> scope).',
          `${NOTHING_CHANGED} ${START_AGAIN}`,
        ],
      };
    case 'exchange-failed':
      return {
        status: 502,
        ok: false,
        title: 'The sign-in could not be completed',
        paragraphs: [
          `The provider signed you in, but exchanging the authorization code at the token endpoint failed: ${escapeHtml(outcome.message)}`,
          outcome.transient
            ? 'The token endpoint was not available; try again in a moment.'
            : `Check the client secret, and that the redirect URI registered with the provider is exactly <code>${escapeHtml(redirectUri)}</code>.`,
          `${NOTHING_CHANGED} ${START_AGAIN}`,
        ],
      };
  }
}

export function renderCallbackPage(
  outcome: CallbackOutcome,
  options: { adminPath: string; redirectUri: string },
): HttpResponse {
  const page = pageFor(outcome, options.redirectUri);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(page.title)} · appliance-notifier</title>`,
    `<style>${STYLE}</style></head>`,
    '<body>',
    `<h1 class="${page.ok ? 'ok' : 'fail'}">${escapeHtml(page.title)}</h1>`,
    ...page.paragraphs.map((paragraph) => `<p>${paragraph}</p>`),
    `<p><a href="${escapeHtml(options.adminPath)}">Back to the email configuration</a></p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { statusCode: page.status, headers: { ...PAGE_HEADERS }, body: html };
}
