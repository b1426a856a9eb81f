// What a route table entry says, for the admin API's table and the embedded runtime's own routes.
// No runtime imports: lib/ reads route tables at synth time (zod is imported for its types only).
import type * as z from 'zod';

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
  /**
   * An admin route without `{clusterId}` is for fleet admins only (it acts on every cluster),
   * unless it is open to every admin: it filters what it shows, or shows no cluster's data.
   */
  readonly everyAdmin?: true;
}

/** One documented answer of a route. */
export interface RouteResponseDoc {
  readonly description: string;
  /** The body's schema (its output side); without one the body is not described. */
  readonly schema?: z.ZodType;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** Response headers worth naming, e.g. `{ location: 'The provider's authorization URL' }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What the OpenAPI document says about a route: every route a table serves has one (bindRoutes
 * takes a doc for each entry), so a new route cannot be left out of `GET /openapi.json`.
 * 401 (admin routes) and 500 are added by the generator.
 */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  /** Query parameters: an object schema, one parameter per key (its input side). */
  readonly query?: z.ZodObject;
  /** Request headers worth naming (e.g. `If-Match`): an object schema, one parameter per key. */
  readonly requestHeaders?: z.ZodObject;
  /** The JSON request body (its input side). */
  readonly body?: { readonly schema: z.ZodType; readonly required: boolean; readonly description?: string };
  readonly responses: Readonly<Record<number, RouteResponseDoc>>;
}
