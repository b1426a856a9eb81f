// Per-cluster admin tokens of the embedded runtime (AWS uses Cognito groups instead): a token
// administers one cluster. Only its SHA-256 is stored; the token itself is shown once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `cat_<tokenId>_<secret>`: the id finds the row, the whole token's hash is compared. */
const TOKEN_SHAPE = /^cat_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface AdminTokenInfo {
  tokenId: string;
  clusterId: string;
  label?: string;
  createdAt: string;
  createdBy: string;
}

export interface CreatedAdminToken extends AdminTokenInfo {
  /** The token: shown in the create answer only, never stored. */
  token: string;
}

/** The store of the tokens: synchronous, because authentication is (SQLite is local). */
export interface AdminTokenStore {
  create(input: {
    clusterId: string;
    label?: string;
    createdBy: string;
    createdAt: string;
  }): CreatedAdminToken;
  list(clusterId: string): AdminTokenInfo[];
  /** False when the cluster has no such token. */
  revoke(clusterId: string, tokenId: string): boolean;
  verify(token: string): { tokenId: string; clusterId: string } | undefined;
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newToken(): { tokenId: string; token: string } {
  // 62^12 ids; the 256-bit secret is what protects the token.
  const tokenId = Array.from(randomBytes(12), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  return { tokenId, token: `cat_${tokenId}_${randomBytes(32).toString('base64url')}` };
}

/** The id a token names, or undefined when it is not one `newToken` makes. */
export function tokenIdOf(token: string): string | undefined {
  return TOKEN_SHAPE.exec(token)?.[1];
}

/** Constant time, whatever the stored hash's length. */
export function hashMatches(token: string, stored: Uint8Array): boolean {
  const actual = hashToken(token);
  return stored.length === actual.length && timingSafeEqual(actual, stored);
}
