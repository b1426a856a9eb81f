// Conditional writes of a cluster's configuration: a save, delete or restore may name the version
// it was based on (HTTP `If-Match`), and is refused when another save came first, so an admin's
// edit of an older version never silently replaces a newer one. The HTTP form (ETag `"v7"`) is
// the admin API's; the domain speaks in version numbers.

import type { ConfigVersion } from './config-history.js';
import type { StoredEmailConfig } from './stored-config.js';

/**
 * What a conditional write requires of the current configuration: `any` (`If-Match: *`) that
 * one exists; `versions` that it is one of them (an empty list never matches). Version 0 is a
 * configuration stored before the history kept versions.
 */
export type VersionPrecondition = { any: true } | { versions: readonly number[] };

/** The configuration as it is now: its version (0 before the history), and that version's save. */
export interface CurrentConfig {
  document: StoredEmailConfig;
  version: number;
  /** The save that made `version` (absent for version 0). */
  saved?: Pick<ConfigVersion, 'savedAt' | 'savedBy' | 'restoredFrom'>;
}

export function preconditionHolds(precondition: VersionPrecondition, current: CurrentConfig | undefined) {
  if (!current) return false;
  return 'any' in precondition || precondition.versions.includes(current.version);
}

/** A conditional write whose precondition failed: nothing was changed (HTTP 412). */
export class ConfigPreconditionFailedError extends Error {
  override readonly name = 'ConfigPreconditionFailedError';
  constructor(
    readonly clusterId: string,
    readonly precondition: VersionPrecondition,
    /** The configuration that is current instead; undefined when the cluster has none. */
    readonly current: CurrentConfig | undefined,
  ) {
    super(preconditionMessage(clusterId, current));
  }
}

function preconditionMessage(clusterId: string, current: CurrentConfig | undefined): string {
  if (!current) {
    return `Cluster "${clusterId}" has no email configuration any more (it was deleted): nothing was changed`;
  }
  const by = current.saved ? ` (saved by ${current.saved.savedBy} at ${current.saved.savedAt})` : '';
  return `The email configuration of cluster "${clusterId}" changed meanwhile: version ${current.version}${by} is current, not the one this change was based on. Nothing was changed: reload it, apply the change again and save`;
}
