// Microsoft Graph's clouds: the Graph endpoint an admin names decides the login host its
// app-only token comes from, and the token's scope (`<Graph origin>/.default`). No imports:
// the config schema and the mailer both read it.

export const GRAPH_DEFAULT_ENDPOINT = 'https://graph.microsoft.com';

/** The sign-in host of each national cloud's Graph; anything else signs in at the global one. */
const LOGIN_HOSTS: Record<string, string> = {
  'graph.microsoft.com': 'https://login.microsoftonline.com',
  'graph.microsoft.us': 'https://login.microsoftonline.us',
  'dod-graph.microsoft.us': 'https://login.microsoftonline.us',
  'microsoftgraph.chinacloudapi.cn': 'https://login.chinacloudapi.cn',
};

/** Tenants that name no directory: app-only tokens are issued by one tenant, so they cannot be used. */
export const MULTI_TENANT_ALIASES = ['common', 'organizations', 'consumers'] as const;

/** Exchange Online allows an app 4 concurrent Graph requests per mailbox (the Outlook service limit). */
export const GRAPH_DEFAULT_MAX_CONNECTIONS = 4;
/** Exchange Online's sending limit: 30 messages per minute per mailbox. */
export const GRAPH_DEFAULT_MESSAGES_PER_MINUTE = 30;

/** `https://graph.microsoft.us` (no path, no trailing slash) from what the admin entered. */
export function graphEndpointOf(endpoint: string | undefined): string {
  if (endpoint === undefined) return GRAPH_DEFAULT_ENDPOINT;
  return endpoint.replace(/\/+$/, '');
}

export function graphScopeOf(endpoint: string): string {
  return `${new URL(endpoint).origin}/.default`;
}

export function graphTokenEndpointOf(endpoint: string, tenant: string): string {
  const host = new URL(endpoint).hostname.toLowerCase();
  const login = LOGIN_HOSTS[host] ?? LOGIN_HOSTS['graph.microsoft.com'];
  return `${login}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

/** The limits Graph sending keeps to per mailbox: `graph.limits`, else Exchange Online's. */
export function graphLimitsOf(graph: { limits?: { maxConnections?: number; messagesPerMinute?: number } }): {
  maxConnections: number;
  messagesPerMinute: number;
  source: 'configured' | 'default';
} {
  const configured = graph.limits ?? {};
  return {
    maxConnections: configured.maxConnections ?? GRAPH_DEFAULT_MAX_CONNECTIONS,
    messagesPerMinute: configured.messagesPerMinute ?? GRAPH_DEFAULT_MESSAGES_PER_MINUTE,
    source:
      configured.maxConnections !== undefined || configured.messagesPerMinute !== undefined
        ? 'configured'
        : 'default',
  };
}
