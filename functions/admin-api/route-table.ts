// The one route table of the admin API: the admin API function binds a handler to every entry,
// the embedded runtime serves the same function, and lib/ creates the API Gateway routes from
// it. Free of handlers and SDK imports, so lib/ can read it at synth time.
import { ADMIN_PAGE_PATH, OAUTH_REDIRECT_PATH, OPENAPI_DOCUMENT_PATH } from '../kernel/public-paths.js';
import type { Method, RouteAccess, RouteDefinition } from '../shared/route-definition.js';

const CONFIG_PATH = '/clusters/{clusterId}/email-config';
const DELIVERIES_PATH = '/clusters/{clusterId}/deliveries';

export const ADMIN_API_ROUTES = {
  getEmailConfig: { method: 'GET', path: CONFIG_PATH, access: 'admin' },
  putEmailConfig: { method: 'PUT', path: CONFIG_PATH, access: 'admin' },
  deleteEmailConfig: { method: 'DELETE', path: CONFIG_PATH, access: 'admin' },
  sendTestEmail: { method: 'POST', path: `${CONFIG_PATH}/test`, access: 'admin' },
  listConfigVersions: { method: 'GET', path: `${CONFIG_PATH}/versions`, access: 'admin' },
  restoreConfigVersion: {
    method: 'POST',
    path: `${CONFIG_PATH}/versions/{version}/restore`,
    access: 'admin',
  },
  listClusters: { method: 'GET', path: '/clusters', access: 'admin', everyAdmin: true },
  listDeliveries: { method: 'GET', path: DELIVERIES_PATH, access: 'admin' },
  getDelivery: { method: 'GET', path: `${DELIVERIES_PATH}/{eventId}`, access: 'admin' },
  replayDelivery: { method: 'POST', path: `${DELIVERIES_PATH}/{eventId}/replay`, access: 'admin' },
  startOAuthAuthorization: { method: 'GET', path: '/clusters/{clusterId}/oauth/authorize', access: 'admin' },
  listConditions: { method: 'GET', path: '/conditions', access: 'admin', everyAdmin: true },
  listAuditEntries: { method: 'GET', path: '/clusters/{clusterId}/audit', access: 'admin' },
  completeOAuthAuthorization: { method: 'GET', path: OAUTH_REDIRECT_PATH, access: 'public' },
  adminPage: { method: 'GET', path: ADMIN_PAGE_PATH, access: 'public' },
  adminPageScript: { method: 'GET', path: `${ADMIN_PAGE_PATH}app.js`, access: 'public' },
  adminPageStyles: { method: 'GET', path: `${ADMIN_PAGE_PATH}app.css`, access: 'public' },
  adminPageSettings: { method: 'GET', path: `${ADMIN_PAGE_PATH}config.json`, access: 'public' },
  openApiDocument: { method: 'GET', path: OPENAPI_DOCUMENT_PATH, access: 'public' },
  /** The service's root: a redirect to the admin page, so that the bare address leads somewhere. */
  root: { method: 'GET', path: '/', access: 'public' },
} as const satisfies Record<string, RouteDefinition>;

export type AdminApiRouteId = keyof typeof ADMIN_API_ROUTES;

export interface ApiGatewayRoute {
  /** A route key's method: the table's, and HEAD beside every GET (a route key names one method). */
  readonly method: Method | 'HEAD';
  /** The route key's path: no trailing slash, `{proxy+}` for a greedy match. */
  readonly path: string;
  readonly access: RouteAccess;
}

/**
 * The API Gateway routes that reach the table's entries. Route keys cannot end in `/`, and an
 * HTTP API matches a request path with or without a trailing slash to the same route, so
 * `/login/smtp-verification` also serves the registered redirect URI `/login/smtp-verification/`.
 * A path that ends in `/` also gets a greedy `{proxy+}` route in case the trailing slash does not
 * reach the plain one (unverified against a live API).
 */
export function apiGatewayRoutes(
  table: Record<string, RouteDefinition> = ADMIN_API_ROUTES,
): ApiGatewayRoute[] {
  const routes = new Map<string, ApiGatewayRoute>();
  const add = (route: ApiGatewayRoute) => {
    const key = `${route.method} ${route.path}`;
    const existing = routes.get(key);
    if (existing && existing.access !== route.access) {
      throw new Error(`apiGatewayRoutes: ${key} is both ${existing.access} and ${route.access}`);
    }
    routes.set(key, route);
  };
  for (const { method, path, access } of Object.values(table)) {
    // The root is one route key (`GET /`); a greedy `/{proxy+}` beside it would catch every path.
    if (!path.endsWith('/') || path === '/') {
      add({ method, path, access });
      continue;
    }
    const bare = path.replace(/\/+$/, '');
    add({ method, path: bare, access });
    add({ method, path: `${bare}/{proxy+}`, access });
  }
  // HEAD answers as GET does (the function drops the body): an HTTP API routes a request by its
  // method and path, so HEAD needs route keys of its own.
  for (const route of [...routes.values()]) {
    if (route.method === 'GET') add({ ...route, method: 'HEAD' });
  }
  return [...routes.values()];
}
