// `npm run config -- export|import`: a backup of every cluster's configuration and OAuth2 grant,
// and its restore. CloudFormation never owned the configuration parameters (the admin API
// creates them), so a stack deleted and deployed again, or moved to another account, gets its
// configurations back from this file. The file holds every secret (relay passwords, client
// secrets, refresh tokens): it is written 0600, and the command says so.
import { z } from 'zod';
import { type ConfigStore, checkedStoredForm } from '../functions/core/config/config-store.js';
import {
  type OAuthGrant,
  OAuthGrantSchema,
  type StoredEmailConfig,
  StoredEmailConfigSchema,
} from '../functions/core/config/stored-config.js';
import type { GrantStore } from '../functions/core/oauth/grant-store.js';
import { ClusterIdSchema } from '../functions/kernel/cluster-id-schema.js';
import { formatIssues, issuesFromZod } from '../functions/kernel/field-issues.js';

export const BACKUP_FORMAT = 'appliance-notifier/config-backup';
export const BACKUP_VERSION = 1;

export const SECRETS_WARNING =
  'This backup holds every secret of the exported configurations (relay passwords, OAuth2 client secrets and refresh tokens). Keep it like a password and delete it once it is no longer needed.';

/** One cluster in a backup: the configuration as stored, and its grant when it has one. */
export interface BackupEntry {
  clusterId: string;
  document: StoredEmailConfig;
  grant?: OAuthGrant;
}

export interface Backup {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  exportedAt: string;
  /** Where it came from, e.g. `ssm:/appliance-notifier/clusters` or `local:/srv/notifier/.data`. */
  source: string;
  clusters: BackupEntry[];
}

/** The stores a backup reads and restores; without `grants`, no grant is exported or imported. */
export interface BackupTarget {
  store: ConfigStore;
  grants?: GrantStore;
  /** For the backup's `source` and the messages. */
  description: string;
}

export async function exportConfigs(
  target: BackupTarget,
  options: { clusterId?: string; clock?: () => Date } = {},
): Promise<Backup> {
  const ids = options.clusterId ? [options.clusterId] : await target.store.listClusterIds();
  const clusters: BackupEntry[] = [];
  for (const clusterId of ids) {
    const stored = await target.store.get(clusterId);
    if (!stored) {
      if (options.clusterId)
        throw new Error(`Cluster "${clusterId}" has no configuration in ${target.description}`);
      continue;
    }
    // A document of the old layout may still carry the grant; the backup keeps it apart.
    const { oauth: legacy, ...document } = stored;
    const grant = (await target.grants?.get(clusterId))?.grant ?? legacy;
    clusters.push({ clusterId, document, ...(grant ? { grant } : {}) });
  }
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    exportedAt: (options.clock ?? (() => new Date()))().toISOString(),
    source: target.description,
    clusters,
  };
}

const BackupFileSchema = z.object({
  format: z.literal(BACKUP_FORMAT, {
    error: `is not "${BACKUP_FORMAT}": not a backup of npm run config -- export`,
  }),
  version: z.literal(BACKUP_VERSION, { error: `must be ${BACKUP_VERSION}` }),
  exportedAt: z.string().optional(),
  source: z.string().optional(),
  // Each entry is checked on its own below, so one bad cluster does not hide the others.
  clusters: z.array(z.unknown()),
});

export type ImportAction = 'created' | 'replaced' | 'would create' | 'would replace' | 'invalid' | 'failed';

export interface ImportResult {
  clusterId: string;
  action: ImportAction;
  /** With the grant (`grant: restored`), or what went wrong. */
  detail?: string;
}

export interface ImportSummary {
  ok: boolean;
  results: ImportResult[];
}

/** Reads a backup's text: throws for a file that is not a backup at all. */
export function parseBackup(text: string): z.output<typeof BackupFileSchema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, and the text holds secrets.
    throw new Error('The backup file is not valid JSON');
  }
  const parsed = BackupFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`The backup file is invalid: ${formatIssues(issuesFromZod(parsed.error))}`);
  return parsed.data;
}

const EntrySchema = z.object({
  clusterId: ClusterIdSchema,
  document: StoredEmailConfigSchema,
  grant: OAuthGrantSchema.optional(),
});

/**
 * Validates every entry with the stored-configuration schema (and the grant's), then writes
 * each valid one: the configuration through the store (which applies the size limit), the
 * grant over whatever grant the cluster has now. `dryRun` validates and reports only.
 */
export async function importConfigs(
  target: BackupTarget,
  text: string,
  options: { dryRun?: boolean } = {},
): Promise<ImportSummary> {
  const backup = parseBackup(text);
  const results: ImportResult[] = [];
  for (const [index, raw] of backup.clusters.entries()) {
    const named =
      typeof raw === 'object' && raw !== null && 'clusterId' in raw ? String(raw.clusterId) : `#${index + 1}`;
    const parsed = EntrySchema.safeParse(raw);
    if (!parsed.success) {
      results.push({
        clusterId: named,
        action: 'invalid',
        detail: formatIssues(issuesFromZod(parsed.error)),
      });
      continue;
    }
    const { clusterId, document: stored } = parsed.data;
    const { oauth: legacy, ...document } = stored;
    const grant = parsed.data.grant ?? legacy;
    if (document.clusterId !== clusterId) {
      results.push({
        clusterId,
        action: 'invalid',
        detail: `the document belongs to cluster "${document.clusterId}"`,
      });
      continue;
    }
    if (grant && !target.grants) {
      results.push({
        clusterId,
        action: 'invalid',
        detail: 'the backup has an OAuth2 grant but no grant store was given (--table): it would be lost',
      });
      continue;
    }
    try {
      const exists = (await target.store.get(clusterId)) !== undefined;
      const grantNote = grant ? ', with its OAuth2 grant' : '';
      if (options.dryRun) {
        // What the store would refuse: the size limit.
        checkedStoredForm(document);
        results.push({
          clusterId,
          action: exists ? 'would replace' : 'would create',
          detail: `valid${grantNote}`,
        });
        continue;
      }
      await target.store.put(document);
      if (grant && target.grants) {
        const current = await target.grants.get(clusterId);
        await target.grants.put(clusterId, grant, current?.version);
      }
      results.push({
        clusterId,
        action: exists ? 'replaced' : 'created',
        ...(grant ? { detail: 'with its OAuth2 grant' } : {}),
      });
    } catch (error) {
      results.push({
        clusterId,
        action: 'failed',
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { ok: results.every((r) => r.action !== 'invalid' && r.action !== 'failed'), results };
}
