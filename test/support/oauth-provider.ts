// An OAuth2 provider on loopback (oauth2-mock-server), for tests of the redirect flow and of
// XOAUTH2 sending: it counts every request it gets, records the token requests it answered,
// and verifies the access tokens it issued (as a relay would) against its own JWKS.
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type MutableResponse,
  OAuth2Issuer,
  OAuth2Service,
  type TokenRequestIncomingMessage,
} from 'oauth2-mock-server';

export interface RecordedTokenRequest {
  /** The form the client posted (grant_type, code, code_verifier, refresh_token, client_secret...). */
  body: Record<string, string>;
  /** What the provider answered (after any test override). */
  status: number;
  response: Record<string, unknown>;
}

export interface OAuthTestProvider {
  /** `http://127.0.0.1:<port>` */
  url: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Every request, as `METHOD /path`, in arrival order. */
  requests: string[];
  /** How many requests reached `POST /token` (answered or not). */
  tokenRequestCount(): number;
  /** The token requests that got an answer from the token handler, with bodies. */
  tokenRequests: RecordedTokenRequest[];
  /** Every token (access, refresh, id) the provider handed out: none may ever leak. */
  issuedSecrets(): string[];
  /** The mock's own event emitter (`beforeResponse`, `beforeTokenSigning`, ...). */
  service: OAuth2Service;
  /** The payload of a JWT this provider signed and that has not expired; undefined otherwise. */
  verifyAccessToken(token: string): Record<string, unknown> | undefined;
  close(): Promise<void>;
}

export interface OAuthTestProviderOptions {
  /** The `email` claim of the id tokens. */
  email?: string;
  /**
   * false: every answer says `Connection: close`, so no client keeps a pooled connection. For
   * a provider a test stops and then expects to find down: a request right after close()
   * otherwise races the client noticing its idle connection ended ("other side closed" instead
   * of "connection refused").
   */
  keepAlive?: boolean;
}

export async function startOAuthProvider(options: OAuthTestProviderOptions = {}): Promise<OAuthTestProvider> {
  const issuer = new OAuth2Issuer();
  await issuer.keys.generate('RS256');
  const service = new OAuth2Service(issuer);
  const requests: string[] = [];
  const tokenRequests: RecordedTokenRequest[] = [];
  const handler = service.requestHandler;
  // Our own HTTP server in front of the mock's handler, so that every request is counted,
  // including token requests the mock refuses before its events fire.
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
    if (options.keepAlive === false) res.setHeader('connection', 'close');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  issuer.url = url;

  if (options.email) {
    const email = options.email;
    // Like Entra ID's and Google's id tokens: the mailbox that signed in.
    service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
      token.payload.email = email;
    });
  }
  service.on('beforeResponse', (response: MutableResponse, req: TokenRequestIncomingMessage) => {
    const body = Object.fromEntries(
      Object.entries(req.body as unknown as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
    const record: RecordedTokenRequest = { body, status: response.statusCode, response: {} };
    tokenRequests.push(record);
    // A test's own override is a later listener of the same synchronous emit: read the final answer after it.
    queueMicrotask(() => {
      record.status = response.statusCode;
      record.response = typeof response.body === 'object' ? { ...response.body } : {};
    });
  });

  return {
    url,
    authorizationEndpoint: `${url}/authorize`,
    tokenEndpoint: `${url}/token`,
    requests,
    tokenRequestCount: () => requests.filter((r) => r === 'POST /token').length,
    tokenRequests,
    issuedSecrets: () =>
      tokenRequests.flatMap((r) =>
        ['access_token', 'refresh_token', 'id_token']
          .map((key) => r.response[key])
          .filter((v): v is string => typeof v === 'string'),
      ),
    service,
    verifyAccessToken(token) {
      const [header, payload, signature] = token.split('.');
      if (!header || !payload || !signature) return undefined;
      const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: string };
      const jwk = issuer.keys.toJSON().find((key) => key.kid === kid);
      if (!jwk) return undefined;
      const key = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      const valid = verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${payload}`),
        key,
        Buffer.from(signature, 'base64url'),
      );
      if (!valid) return undefined;
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
      return claims;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
