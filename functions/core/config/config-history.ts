// Every save of a cluster's configuration is a version: who saved it, when, what it was, and
// whether its test email went out. The history outlives the configuration (a delete keeps it),
// so a deleted configuration can be restored. Adapters: SQLite (embedded runtime) and the
// delivery log's DynamoDB table (AWS); both assign version numbers with a conditional write, so
// two concurrent saves get two numbers, never one.

import * as z from 'zod';
import { formatIssues, issuesFromZod, parseStoredJson } from '../../kernel/field-issues.js';
import { DELIVERY_STAGES } from '../mail/delivery-stages.js';
import type { TestEmailResult } from '../mail/test-email.js';
import { type StoredEmailConfig, StoredEmailConfigSchema } from './stored-config.js';

/** How many versions a cluster keeps; a save beyond that drops the oldest. */
export const CONFIG_HISTORY_LIMIT = 50;

/** What is kept of a test email: enough to say "delivered" or where it failed, and when. */
export const TestEmailSummarySchema = z.object({
  ok: z.boolean(),
  stage: z.enum(DELIVERY_STAGES).optional(),
  /** The diagnostic's message (already redacted of secrets). */
  message: z.string().optional(),
  at: z.iso.datetime(),
  /** Which configuration was tested: a saved version, or a form that was not saved. */
  of: z.union([
    z.object({ version: z.number().int().min(1) }),
    z.object({ unsaved: z.literal(true) }),
    /** The stored configuration, saved before the history kept versions. */
    z.object({ stored: z.literal(true) }),
  ]),
});
export type TestEmailSummary = z.output<typeof TestEmailSummarySchema>;

export function summarizeTest(result: TestEmailResult, of: TestEmailSummary['of']): TestEmailSummary {
  return {
    ok: result.ok,
    ...(result.stage ? { stage: result.stage } : {}),
    ...(result.message !== undefined ? { message: result.message } : {}),
    at: result.at,
    of,
  };
}

export interface ConfigVersion {
  clusterId: string;
  /** 1, 2, 3, ... per cluster; never reused, also after the oldest were dropped. */
  version: number;
  savedAt: string;
  /** The principal that saved it (the JWT's email/username/sub in AWS, `admin-token` locally). */
  savedBy: string;
  /** Set when this version is a restore of an earlier one. */
  restoredFrom?: number;
  /** The document as saved (secrets included, no OAuth2 grant). */
  document: StoredEmailConfig;
  /** Its test email, when one was sent with the save or later against this version. */
  testEmail?: TestEmailSummary;
}

export type NewConfigVersion = Omit<ConfigVersion, 'version'>;

export interface AppendOptions {
  /**
   * The version this one supersedes (0: the cluster has none yet). The append is conditional on
   * it: when another save took the next number first, ConfigVersionConflictError and nothing is
   * stored, so a caller that merged kept secrets from `after` merges again from the newest.
   * Without it, the append takes the next free number (retrying up to APPEND_ATTEMPTS times).
   */
  after?: number;
}

export interface ConfigHistory {
  /**
   * Stores the next version of the cluster (one more than its newest, 1 for the first) and drops
   * versions beyond `CONFIG_HISTORY_LIMIT`. Concurrent appends get distinct numbers.
   */
  append(entry: NewConfigVersion, options?: AppendOptions): Promise<ConfigVersion>;
  /** The cluster's versions, newest first, at most `limit` (all that are kept by default). */
  list(clusterId: string, limit?: number): Promise<ConfigVersion[]>;
  get(clusterId: string, version: number): Promise<ConfigVersion | undefined>;
  /** Sets the test result of a kept version; false when the version is not kept. */
  setTest(clusterId: string, version: number, test: TestEmailSummary): Promise<boolean>;
  /** Remembers the cluster's last test email (of any configuration, saved or not). */
  putLastTest(clusterId: string, test: TestEmailSummary): Promise<void>;
  lastTest(clusterId: string): Promise<TestEmailSummary | undefined>;
}

/** Another append took the version number first: read the newest again and retry. */
export class ConfigVersionConflictError extends Error {
  override readonly name = 'ConfigVersionConflictError';
  constructor(
    readonly clusterId: string,
    readonly version: number,
  ) {
    super(`Version ${version} of the configuration of cluster "${clusterId}" was taken by another save`);
  }
}

/** How many times an append retries after losing a version number to a concurrent save. */
export const APPEND_ATTEMPTS = 5;

/** A version as an adapter stores it: the document and its test result as JSON text. */
export interface StoredConfigVersion {
  clusterId: string;
  version: number;
  savedAt: string;
  savedBy: string;
  restoredFrom: number | undefined;
  document: string;
  testEmail: string | undefined;
}

/**
 * A stored version, its document and test result checked. The errors name `where` and never
 * quote the document (it holds secrets).
 */
export function parseConfigVersion(stored: StoredConfigVersion, where: string): ConfigVersion {
  return {
    clusterId: stored.clusterId,
    version: stored.version,
    savedAt: stored.savedAt,
    savedBy: stored.savedBy,
    ...(stored.restoredFrom !== undefined ? { restoredFrom: stored.restoredFrom } : {}),
    document: parseStoredJson(stored.document, StoredEmailConfigSchema, where),
    ...(stored.testEmail !== undefined ? { testEmail: parseTestSummary(stored.testEmail, where) } : {}),
  };
}

/** A stored test result, checked; the error names `where`. */
export function parseTestSummary(text: string, where: string): TestEmailSummary {
  const parsed = TestEmailSummarySchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${where}: its test result is invalid: ${formatIssues(issuesFromZod(parsed.error))}`);
  }
  return parsed.data;
}
