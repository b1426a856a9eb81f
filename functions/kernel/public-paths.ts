// The service's public URLs that leave the code: registered with OAuth providers and with the
// Cognito app client, linked from emails. No imports: lib/ and the admin page read them too.

/** The path the provider redirects back to; registered with the provider as part of the redirect URI. */
export const OAUTH_REDIRECT_PATH = '/login/smtp-verification/';

/** The admin web page; the Cognito app client redirects here after sign-in. */
export const ADMIN_PAGE_PATH = '/admin/';

/** The OpenAPI document of the API (public, like the page: it describes routes, holds no data). */
export const OPENAPI_DOCUMENT_PATH = '/openapi.json';
