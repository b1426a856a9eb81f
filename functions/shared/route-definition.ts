// What a route table entry says, for the admin API's table and the embedded runtime's own routes.
// No imports: lib/ reads route tables at synth time.

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

/**
 * `admin`: needs a token (a JWT from the authorizer's issuer in AWS, `ADMIN_TOKEN` locally).
 * `public`: reachable without one and protects itself (the OAuth redirect checks its one-time
 * `state`; the page and its assets are public like any sign-in page).
 */
export type RouteAccess = 'admin' | 'public';

export interface RouteDefinition {
  readonly method: Method;
  /** API Gateway style: `/clusters/{clusterId}/email-config`. */
  readonly path: string;
  readonly access: RouteAccess;
}
