import { randomBytes } from 'node:crypto';

// The embedded runtime's admin token opens every cluster's configuration, so a guessable one is
// a guessable mailbox. The rule, one line in the README too:
//   at least 32 printable ASCII characters without spaces, at least 10 distinct ones, no one
//   character more than a quarter of the token, not a repetition of a shorter string, and an
//   estimated strength of at least 128 bits (length × log2 of the character classes it uses:
//   lowercase 26, uppercase 26, digits 10, symbols 32).
// Generated tokens (32 random bytes, base64url) and `openssl rand -base64 32` pass by a margin.

export const MIN_ADMIN_TOKEN_LENGTH = 32;
export const MIN_ADMIN_TOKEN_DISTINCT = 10;
export const MIN_ADMIN_TOKEN_BITS = 128;

export const ADMIN_TOKEN_ADVICE = 'generate one with: openssl rand -base64 32';

/** The estimated strength in bits: length × log2(the size of the character classes used). */
export function estimatedTokenBits(token: string): number {
  const classes: [RegExp, number][] = [
    [/[a-z]/, 26],
    [/[A-Z]/, 26],
    [/[0-9]/, 10],
    [/[^A-Za-z0-9]/, 32],
  ];
  const alphabet = classes.reduce((size, [pattern, count]) => size + (pattern.test(token) ? count : 0), 0);
  return alphabet > 1 ? token.length * Math.log2(alphabet) : 0;
}

/** Why `token` is too weak to be the admin token, or undefined when it will do. */
export function adminTokenProblem(token: string): string | undefined {
  if (!/^[\x21-\x7e]*$/.test(token)) return 'must be printable ASCII characters without spaces';
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    return `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (it has ${token.length})`;
  }
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < MIN_ADMIN_TOKEN_DISTINCT) {
    return `must have at least ${MIN_ADMIN_TOKEN_DISTINCT} distinct characters (it has ${counts.size})`;
  }
  if (Math.max(...counts.values()) > token.length / 4) {
    return 'must not be mostly one character (none may be more than a quarter of it)';
  }
  // A string is a repetition of a shorter one exactly when it occurs in itself doubled, off its start.
  if ((token + token).indexOf(token, 1) < token.length) return 'must not be a repeated pattern';
  const bits = estimatedTokenBits(token);
  if (bits < MIN_ADMIN_TOKEN_BITS) {
    return `is too weak (about ${Math.floor(bits)} bits, at least ${MIN_ADMIN_TOKEN_BITS} needed): make it longer or mix letters, digits and symbols`;
  }
  return undefined;
}

export class WeakAdminTokenError extends Error {
  override readonly name = 'WeakAdminTokenError';
  constructor(source: string, problem: string) {
    super(`${source} ${problem}; ${ADMIN_TOKEN_ADVICE}`);
  }
}

/** Throws WeakAdminTokenError (one line naming `source`, e.g. ADMIN_TOKEN) when the token is too weak. */
export function checkAdminToken(token: string, source = 'ADMIN_TOKEN'): string {
  const problem = adminTokenProblem(token);
  if (problem) throw new WeakAdminTokenError(source, problem);
  return token;
}

/** A new admin token: 32 random bytes (256 bits), base64url. */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token as a banner or log shows one it did not just generate: its first 4 characters. */
export function maskAdminToken(token: string): string {
  return `${token.slice(0, 4)}…`;
}
