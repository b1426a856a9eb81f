import type { PublisherTokens } from '../core/publishers/publisher-tokens.js';
import type { Authenticator } from './auth.js';

const bearerOf = (headers: Record<string, string | undefined>): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? headers.Authorization ?? '')?.[1];

/**
 * The embedded runtime's publisher tokens: a principal bound to one cluster (`publisherFor`),
 * which the router lets through to the event routes only.
 */
export function publisherTokenAuthenticator(tokens: PublisherTokens): Authenticator {
  return (event) => {
    const token = bearerOf(event.headers);
    if (!token) return undefined;
    const record = tokens.verify(token);
    return record
      ? {
          id: `publisher-token:${record.tokenId}`,
          clusters: [],
          via: 'token',
          publisherFor: record.clusterId,
        }
      : undefined;
  };
}

/** The first authenticator that knows the request's credential. */
export function anyAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return (event) => {
    for (const authenticate of authenticators) {
      const principal = authenticate(event);
      if (principal) return principal;
    }
    return undefined;
  };
}
