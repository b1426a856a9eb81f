// The OAuth2 grant (refresh token and its status) of each cluster, stored apart from the
// configuration: the admin API writes the configuration, the token refresh of every function
// writes the grant, and neither can overwrite the other's write. Writes are conditional on the
// version read, so of two writers that read one version only the first lands.

import type { OAuthGrant, StoredEmailConfig } from '../config/stored-config.js';

export interface VersionedGrant {
  grant: OAuthGrant;
  /** Increases with every write; what `put` and `delete` compare against. */
  version: number;
}

export interface GrantStore {
  /** The cluster's grant and its version, or undefined when there is none. */
  get(clusterId: string): Promise<VersionedGrant | undefined>;
  /**
   * Writes the grant if the stored version is still `expectedVersion` (undefined: only if the
   * cluster has no grant). Returns the new version; throws GrantConflictError otherwise.
   */
  put(clusterId: string, grant: OAuthGrant, expectedVersion: number | undefined): Promise<number>;
  /** Removes the grant if its version is still `expectedVersion`; GrantConflictError otherwise. */
  delete(clusterId: string, expectedVersion: number): Promise<void>;
}

/** Another writer changed the grant since it was read: read again and decide again. */
export class GrantConflictError extends Error {
  override readonly name = 'GrantConflictError';
  constructor(
    readonly clusterId: string,
    readonly expectedVersion: number | undefined,
  ) {
    super(
      `The OAuth2 grant of cluster "${clusterId}" changed since it was read (expected ${
        expectedVersion === undefined ? 'no grant' : `version ${expectedVersion}`
      })`,
    );
  }
}

/**
 * The cluster's grant. A document from before the grant had its own store carries it in
 * `oauth`: the first read after the upgrade copies it into the grant store (only if that has
 * none, so a newer grant is never replaced by the old copy), and no admin has to authorize
 * again. The copy in the document is ignored from then on and dropped by the next save.
 */
export async function currentGrant(
  grants: GrantStore,
  clusterId: string,
  document: StoredEmailConfig | undefined,
): Promise<VersionedGrant | undefined> {
  const stored = await grants.get(clusterId);
  const legacy = document?.oauth;
  if (stored || !legacy) return stored;
  try {
    return { grant: legacy, version: await grants.put(clusterId, legacy, undefined) };
  } catch (error) {
    // Another process moved it (or authorized) first: theirs is the grant.
    if (error instanceof GrantConflictError) return await grants.get(clusterId);
    throw error;
  }
}

/** The document without the legacy `oauth` copy, with the current grant in its place (for views). */
export function withGrant(document: StoredEmailConfig, grant: VersionedGrant | undefined): StoredEmailConfig {
  const { oauth: _legacy, ...rest } = document;
  return grant ? { ...rest, oauth: grant.grant } : rest;
}

/**
 * Applies `change` to the stored grant with a conditional write, reading again after a
 * conflict; `change` returns undefined to leave the grant as it is (e.g. another writer
 * already replaced the refresh token this change was about). At most `attempts` conflicts.
 */
export async function updateGrant(
  grants: GrantStore,
  clusterId: string,
  read: VersionedGrant | undefined,
  change: (grant: OAuthGrant | undefined) => OAuthGrant | 'delete' | undefined,
  attempts = 3,
): Promise<void> {
  let seen = read;
  for (let attempt = 1; ; attempt++) {
    const next = change(seen?.grant);
    if (next === undefined || (next === 'delete' && !seen)) return;
    try {
      if (next === 'delete' && seen) await grants.delete(clusterId, seen.version);
      else if (next !== 'delete') await grants.put(clusterId, next, seen?.version);
      return;
    } catch (error) {
      if (!(error instanceof GrantConflictError) || attempt >= attempts) throw error;
      seen = await grants.get(clusterId);
    }
  }
}
