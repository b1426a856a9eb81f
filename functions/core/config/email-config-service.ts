import { NotFoundError, ValidationError } from '../../kernel/field-issues.js';
import {
  type CredentialHealth,
  credentialHealthOf,
  healthReadsDeliveries,
  sendEvidenceOf,
} from '../credentials/credential-health.js';
import type { EgressMode } from '../mail/diagnostics.js';
import type { MailerFactory } from '../mail/mailer.js';
import { sendTestEmail, type TestEmailResult } from '../mail/test-email.js';
import type { DeliveryLedger } from '../notify/delivery-ledger.js';
import { currentGrant, type GrantStore, updateGrant, withGrant } from '../oauth/grant-store.js';
import type { Clock, Log } from '../ports.js';
import {
  APPEND_ATTEMPTS,
  type ConfigHistory,
  type ConfigVersion,
  ConfigVersionConflictError,
  summarizeTest,
  type TestEmailSummary,
} from './config-history.js';
import {
  ConfigPreconditionFailedError,
  type CurrentConfig,
  preconditionHolds,
  type VersionPrecondition,
} from './config-precondition.js';
import { type ConfigStore, checkedStoredForm } from './config-store.js';
import { type EmailConfig, hasNoGrant, type OAuth2Auth } from './email-config.js';
import { type PublicEmailConfig, toPublicConfig } from './public-config.js';
import { keepStoredSecrets, missingSecrets } from './secrets.js';
import {
  grantMatches,
  oauthBindingOf,
  STORED_SCHEMA_VERSION,
  type StoredEmailConfig,
} from './stored-config.js';

export interface EmailConfigServiceDeps {
  store: ConfigStore;
  grants: GrantStore;
  /** Every save as a version, and the last test email per cluster. */
  history: ConfigHistory;
  mailers: MailerFactory;
  clock: Clock;
  log: Log;
  /** The test email's deadline (TEST_EMAIL_DEADLINE_MS by default); injectable for tests. */
  testEmailDeadlineMs?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): emails link the cluster's admin page; none without it. */
  publicBaseUrl?: string;
  /** Days ahead of a credential's expiry that its health says `expiring` (DEFAULT_CREDENTIAL_WARNING_DAYS). */
  credentialWarningDays?: number;
  /** The delivery log: the credential health of a configuration without a grant reads its latest deliveries. */
  deliveries?: Pick<DeliveryLedger, 'list'>;
}

/** How many of the latest deliveries the credential health looks at (the newest decides). */
const EVIDENCE_RECORDS = 10;

export interface SaveOptions {
  /** Who saves (the authenticated principal), kept with the version; `unknown` when not given. */
  savedBy?: string;
  /** Send a test email of the configuration with the save. */
  sendTestEmail?: boolean;
  /** The version this save restores. */
  restoredFrom?: number;
  /** Save only if the current configuration is this version (HTTP `If-Match`); 412 otherwise. */
  ifMatch?: VersionPrecondition;
}

export interface SaveResult {
  saved: true;
  /** As saved, with the grant that still belongs to it in `oauth`. */
  document: StoredEmailConfig;
  created: boolean;
  /** The version this save became. */
  version: number;
  testEmail?: TestEmailResult;
}

/** `saveIfDelivered` whose test email was not delivered: nothing was saved. */
export interface NotSaved {
  saved: false;
  testEmail: TestEmailResult;
}

/** A version as the API lists it: secrets shown as set or not set, never their values. */
export interface PublicConfigVersion {
  version: number;
  savedAt: string;
  savedBy: string;
  restoredFrom?: number;
  /** The stored configuration is this version. */
  current: boolean;
  /** Absent: no test email was sent with or after this version. */
  testEmail?: TestEmailSummary;
  config: Omit<PublicEmailConfig, 'oauth'>;
}

export interface ConfigVersions {
  clusterId: string;
  /** The version the stored configuration is; absent when none (deleted, or saved before the history). */
  currentVersion?: number;
  lastTestEmail?: TestEmailSummary;
  items: PublicConfigVersion[];
}

/** How many recent versions tell a store that lags behind the history from one edited by hand. */
const LAGGING_VERSIONS = 10;

/** The use cases behind the admin API's configuration routes. */
export class EmailConfigService {
  constructor(private readonly deps: EmailConfigServiceDeps) {}

  /** The stored document with the cluster's grant in `oauth` (when it has one). */
  async get(clusterId: string): Promise<StoredEmailConfig> {
    const document = await this.deps.store.get(clusterId);
    if (!document) throw new NotFoundError(`Cluster "${clusterId}" has no email configuration`);
    return withGrant(document, await currentGrant(this.deps.grants, clusterId, document));
  }

  /**
   * Creates or replaces the configuration; secrets left out are kept from the stored one. Every
   * save becomes a version. With a test email, the configuration is tested before it is stored
   * (a document over the size limit fails before any email), and `require` stores it only when
   * the test email was delivered.
   */
  async save(clusterId: string, input: EmailConfig, options: SaveOptions = {}): Promise<SaveResult> {
    return (await this.saveWith(clusterId, input, options, false)) as SaveResult;
  }

  /** Tests the configuration and saves it only when its test email was delivered. */
  async saveIfDelivered(
    clusterId: string,
    input: EmailConfig,
    options: Omit<SaveOptions, 'sendTestEmail'> = {},
  ): Promise<SaveResult | NotSaved> {
    return this.saveWith(clusterId, input, { ...options, sendTestEmail: true }, true);
  }

  private async saveWith(
    clusterId: string,
    input: EmailConfig,
    options: SaveOptions,
    onlyIfDelivered: boolean,
  ): Promise<SaveResult | NotSaved> {
    const savedBy = options.savedBy ?? 'unknown';
    let tested: { config: string; result: TestEmailResult } | undefined;
    for (let attempt = 1; ; attempt++) {
      // The merge of kept secrets reads the version the append is conditional on: when another
      // save takes the next number first, the append fails and this merges again from that save.
      const { stored, newest, current } = await this.resolveCurrent(clusterId);
      if (options.ifMatch && !preconditionHolds(options.ifMatch, current)) {
        throw new ConfigPreconditionFailedError(clusterId, options.ifMatch, current);
      }
      const base = current?.document;
      const document = this.candidate(clusterId, input, base);
      // A retry tests again only when the merge changed what would be stored.
      const key = JSON.stringify(document.config);
      if (options.sendTestEmail && tested?.config !== key) {
        tested = { config: key, result: await this.testCandidate(document, base) };
      }
      const testEmail = options.sendTestEmail ? tested?.result : undefined;
      if (onlyIfDelivered && testEmail && !testEmail.ok) {
        await this.deps.history.putLastTest(clusterId, summarizeTest(testEmail, { unsaved: true }));
        this.deps.log.info('Email configuration not saved: its test email was not delivered', {
          clusterId,
          stage: testEmail.stage,
        });
        return { saved: false, testEmail };
      }
      let version: number;
      try {
        ({ version } = await this.deps.history.append(
          {
            clusterId,
            savedAt: document.updatedAt,
            savedBy,
            ...(options.restoredFrom !== undefined ? { restoredFrom: options.restoredFrom } : {}),
            document,
          },
          { after: newest?.version ?? 0 },
        ));
      } catch (error) {
        if (error instanceof ConfigVersionConflictError && attempt < APPEND_ATTEMPTS) continue;
        throw error;
      }
      // Read (and moved out of a document of the old layout) before the save drops that copy.
      const grant = await currentGrant(this.deps.grants, clusterId, stored);
      // The grant is not part of what is written: a refresh that rotates the token meanwhile
      // writes the grant store only, and neither write can undo the other.
      await this.deps.store.put(document);
      await this.converge(clusterId, version);
      // A save that moved to another client, tenant or provider drops the grant, which can no
      // longer work; one that a concurrent write left matching the new configuration stays.
      if (grant && !grantMatches(grant.grant, document.config)) {
        await updateGrant(this.deps.grants, clusterId, grant, (stored) =>
          stored && !grantMatches(stored, document.config) ? 'delete' : undefined,
        );
      }
      if (testEmail) await this.remember(clusterId, summarizeTest(testEmail, { version }), version);
      this.deps.log.info('Email configuration saved', {
        clusterId,
        created: !current,
        version,
        savedBy,
        attempts: attempt,
        ...(options.restoredFrom !== undefined ? { restoredFrom: options.restoredFrom } : {}),
        transport: document.config.transport,
        authType: document.config.smtp?.auth.type,
      });
      const kept = grant && grantMatches(grant.grant, document.config) ? grant : undefined;
      return {
        saved: true,
        document: withGrant(document, kept),
        created: !current,
        version,
        ...(testEmail ? { testEmail } : {}),
      };
    }
  }

  /**
   * The configuration as it is now, and its version: the newest version of the history, whose
   * document the store holds. A store that lags behind the history (a save between its append
   * and its put; another function's cached read) answers the newest version's document; one
   * that holds no kept version (edited by hand) is taken as it is, as the newest version.
   */
  private async resolveCurrent(clusterId: string): Promise<{
    stored: StoredEmailConfig | undefined;
    newest: ConfigVersion | undefined;
    current: CurrentConfig | undefined;
  }> {
    const [stored, [newest]] = await Promise.all([
      this.deps.store.get(clusterId),
      this.deps.history.list(clusterId, 1),
    ]);
    if (!stored) return { stored, newest, current: undefined };
    if (!newest) return { stored, newest, current: { document: stored, version: 0 } };
    let document = stored;
    if (!isVersionOf(newest, stored)) {
      const recent = await this.deps.history.list(clusterId, LAGGING_VERSIONS);
      if (recent.some((item) => isVersionOf(item, stored))) document = newest.document;
    }
    const saved = {
      savedAt: newest.savedAt,
      savedBy: newest.savedBy,
      ...(newest.restoredFrom !== undefined ? { restoredFrom: newest.restoredFrom } : {}),
    };
    return { stored, newest, current: { document, version: newest.version, saved } };
  }

  /**
   * SSM has no conditional put: of two racing saves, the one with the older version may put
   * last. Each save therefore reads the newest version after its put and puts that one when
   * another save won, so the store ends as the newest version's document.
   */
  private async converge(clusterId: string, version: number): Promise<void> {
    let put = version;
    for (let round = 0; round < APPEND_ATTEMPTS; round++) {
      const [newest] = await this.deps.history.list(clusterId, 1);
      if (!newest || newest.version <= put) return;
      await this.deps.store.put(newest.document);
      put = newest.version;
    }
  }

  /**
   * The credential health of a document `current` returned (its grant included), as of now; for
   * a configuration without a grant, with what its latest deliveries and test email say.
   */
  async credentialHealth(document: StoredEmailConfig): Promise<CredentialHealth | undefined> {
    // Only a configuration without a grant needs its deliveries: no reads for the others.
    const evidence = healthReadsDeliveries(document.config)
      ? await Promise.all([
          this.deps.deliveries?.list(document.clusterId, { limit: EVIDENCE_RECORDS }) ?? [],
          this.deps.history.lastTest(document.clusterId),
        ]).then(([records, lastTest]) => sendEvidenceOf(records, lastTest))
      : [];
    return credentialHealthOf(document, this.deps.clock(), this.deps.credentialWarningDays, evidence);
  }

  /** The configuration and its version (see resolveCurrent), with the cluster's grant in `oauth`. */
  async current(clusterId: string): Promise<CurrentConfig> {
    const { stored, current } = await this.resolveCurrent(clusterId);
    if (!current) throw new NotFoundError(`Cluster "${clusterId}" has no email configuration`);
    const grant = await currentGrant(this.deps.grants, clusterId, stored);
    return { ...current, document: withGrant(current.document, grant) };
  }

  /**
   * Sends a test email. With a configuration (the admin's unsaved form; secrets left out are
   * taken from the stored one), that configuration is tested and nothing is saved; without
   * one, the stored configuration. The result is kept as the cluster's last test email.
   */
  async test(clusterId: string, input?: EmailConfig): Promise<TestEmailResult> {
    if (input) {
      const previous = await this.deps.store.get(clusterId);
      const result = await this.testCandidate(this.candidate(clusterId, input, previous), previous);
      await this.deps.history.putLastTest(clusterId, summarizeTest(result, { unsaved: true }));
      return result;
    }
    const document = await this.get(clusterId);
    const result = await this.sendTestEmail(document);
    const current = await this.currentVersion(document);
    await this.remember(
      clusterId,
      summarizeTest(result, current ? { version: current.version } : { stored: true }),
      current?.version,
    );
    return result;
  }

  /** Sends a test email of a document (or of the cluster's stored one); records nothing. */
  async sendTestEmail(clusterIdOrDocument: string | StoredEmailConfig): Promise<TestEmailResult> {
    const document =
      typeof clusterIdOrDocument === 'string' ? await this.get(clusterIdOrDocument) : clusterIdOrDocument;
    const { mailers, clock, log, testEmailDeadlineMs, egress, publicBaseUrl } = this.deps;
    return sendTestEmail(
      {
        mailers,
        clock,
        log,
        ...(testEmailDeadlineMs !== undefined ? { deadlineMs: testEmailDeadlineMs } : {}),
        ...(egress ? { egress } : {}),
        ...(publicBaseUrl ? { publicBaseUrl } : {}),
      },
      document,
    );
  }

  /** The cluster's versions, newest first (at most CONFIG_HISTORY_LIMIT are kept). */
  async versions(clusterId: string): Promise<ConfigVersions> {
    const [stored, items, lastTestEmail] = await Promise.all([
      this.deps.store.get(clusterId),
      this.deps.history.list(clusterId),
      this.deps.history.lastTest(clusterId),
    ]);
    const current = stored && items.find((item) => isVersionOf(item, stored));
    return {
      clusterId,
      ...(current ? { currentVersion: current.version } : {}),
      ...(lastTestEmail ? { lastTestEmail } : {}),
      items: items.map((item) => publicVersion(item, item === current)),
    };
  }

  /** Saves version `version` again, as a new version "restored from" it; 404 for an unknown one. */
  async restore(
    clusterId: string,
    version: number,
    savedBy: string,
    options: Pick<SaveOptions, 'ifMatch'> = {},
  ): Promise<SaveResult> {
    const kept = await this.deps.history.get(clusterId, version);
    if (!kept) {
      throw new NotFoundError(`Cluster "${clusterId}" has no configuration version ${version}`);
    }
    return this.save(clusterId, kept.document.config, { ...options, savedBy, restoredFrom: version });
  }

  /** Removes the configuration and its OAuth2 grant; the versions are kept (a restore brings it back). */
  async delete(
    clusterId: string,
    deletedBy: string,
    options: Pick<SaveOptions, 'ifMatch'> = {},
  ): Promise<void> {
    if (options.ifMatch) {
      // SSM has no conditional delete: this narrows the window to the time between the two calls.
      const { current } = await this.resolveCurrent(clusterId);
      if (!preconditionHolds(options.ifMatch, current)) {
        throw new ConfigPreconditionFailedError(clusterId, options.ifMatch, current);
      }
    }
    if (!(await this.deps.store.delete(clusterId))) {
      throw new NotFoundError(`Cluster "${clusterId}" has no email configuration`);
    }
    const grant = await this.deps.grants.get(clusterId);
    if (grant) await updateGrant(this.deps.grants, clusterId, grant, () => 'delete');
    this.deps.log.info('Email configuration deleted', { clusterId, deletedBy, grantDeleted: Boolean(grant) });
  }

  /** The last test email per cluster, for the fleet overview. */
  async lastTest(clusterId: string): Promise<TestEmailSummary | undefined> {
    return this.deps.history.lastTest(clusterId);
  }

  /** The document a save of `input` would store: secrets merged, complete, within the size limit. */
  private candidate(
    clusterId: string,
    input: EmailConfig,
    previous: StoredEmailConfig | undefined,
  ): StoredEmailConfig {
    const config = keepStoredSecrets(input, previous?.config);
    const missing = missingSecrets(config);
    if (missing.length > 0) throw new ValidationError('Invalid email configuration', missing);
    const document: StoredEmailConfig = {
      schemaVersion: STORED_SCHEMA_VERSION,
      clusterId,
      updatedAt: this.deps.clock().toISOString(),
      config,
    };
    checkedStoredForm(document);
    return document;
  }

  /**
   * Tests a configuration that is not stored (yet). Delegated XOAUTH2 takes its access token
   * from the stored configuration's client and grant, so such a configuration whose
   * authentication differs from the stored one cannot be tested before it is saved and
   * authorized: the result says so (stage `auth`) instead of testing with the stored client.
   * The flows without a grant (app-only, a service account) are tested with the candidate's own
   * credentials.
   */
  private async testCandidate(
    document: StoredEmailConfig,
    previous: StoredEmailConfig | undefined,
  ): Promise<TestEmailResult> {
    const auth = document.config.smtp?.auth;
    if (document.config.transport === 'smtp' && auth?.type === 'oauth2' && !hasNoGrant(auth)) {
      const before = previous?.config.transport === 'smtp' ? previous.config.smtp?.auth : undefined;
      if (before?.type !== 'oauth2' || !sameOAuthClient(before, auth)) {
        const at = this.deps.clock().toISOString();
        return {
          ok: false,
          stage: 'auth',
          message:
            'This OAuth2 client (provider, tenant, client id, secret or mailbox) is not the saved one: save it and authorize it, then send the test email',
          hint: 'An OAuth2 relay signs in with the authorization of the saved configuration; a changed client needs its own authorization first.',
          transient: false,
          recipients: document.config.adminContacts,
          durationMs: 0,
          at,
        };
      }
    }
    return this.sendTestEmail(document);
  }

  private async remember(clusterId: string, summary: TestEmailSummary, version: number | undefined) {
    if (version !== undefined) await this.deps.history.setTest(clusterId, version, summary);
    await this.deps.history.putLastTest(clusterId, summary);
  }

  /** The newest kept version that the stored document is (same save time and content). */
  private async currentVersion(stored: StoredEmailConfig): Promise<ConfigVersion | undefined> {
    const newest = await this.deps.history.list(stored.clusterId, 1);
    return newest[0] && isVersionOf(newest[0], stored) ? newest[0] : undefined;
  }
}

/** What the access token of an OAuth2 relay depends on: client, endpoint, secret, scopes, mailbox. */
function sameOAuthClient(a: OAuth2Auth, b: OAuth2Auth): boolean {
  const key = (auth: OAuth2Auth) =>
    JSON.stringify([
      oauthBindingOf(auth),
      auth.flow,
      auth.clientSecret,
      auth.clientCertificate,
      auth.serviceAccountKey,
      auth.user,
      [...auth.scopes].sort(),
    ]);
  return key(a) === key(b);
}

function isVersionOf(version: ConfigVersion, stored: StoredEmailConfig): boolean {
  return (
    version.document.updatedAt === stored.updatedAt &&
    JSON.stringify(version.document.config) === JSON.stringify(stored.config)
  );
}

function publicVersion(item: ConfigVersion, current: boolean): PublicConfigVersion {
  // A version's view has no OAuth2 status: the grant belongs to the stored configuration.
  const { oauth: _status, ...config } = toPublicConfig(item.document);
  return {
    version: item.version,
    savedAt: item.savedAt,
    savedBy: item.savedBy,
    ...(item.restoredFrom !== undefined ? { restoredFrom: item.restoredFrom } : {}),
    current,
    ...(item.testEmail ? { testEmail: item.testEmail } : {}),
    config,
  };
}
