import { NotFoundError, ValidationError } from '../../kernel/field-issues.js';
import type { EgressMode } from '../mail/diagnostics.js';
import type { MailerFactory } from '../mail/mailer.js';
import { sendTestEmail, type TestEmailResult } from '../mail/test-email.js';
import { currentGrant, type GrantStore, updateGrant, withGrant } from '../oauth/grant-store.js';
import type { Clock, Log } from '../ports.js';
import type { ConfigStore } from './config-store.js';
import type { EmailConfig } from './email-config.js';
import { keepStoredSecrets, missingSecrets } from './secrets.js';
import { grantMatches, STORED_SCHEMA_VERSION, type StoredEmailConfig } from './stored-config.js';

export interface EmailConfigServiceDeps {
  store: ConfigStore;
  grants: GrantStore;
  mailers: MailerFactory;
  clock: Clock;
  log: Log;
  /** The test email's deadline (TEST_EMAIL_DEADLINE_MS by default); injectable for tests. */
  testEmailDeadlineMs?: number;
  /** Where connections leave from, for the diagnostics' port 25 advice; unknown when absent. */
  egress?: EgressMode;
  /** Where browsers reach the service (`PUBLIC_BASE_URL`): emails link the cluster's admin page; none without it. */
  publicBaseUrl?: string;
}

export interface SaveResult {
  /** As saved, with the grant that still belongs to it in `oauth`. */
  document: StoredEmailConfig;
  created: boolean;
}

/** The use cases behind the admin API's configuration routes. */
export class EmailConfigService {
  constructor(private readonly deps: EmailConfigServiceDeps) {}

  /** The stored document with the cluster's grant in `oauth` (when it has one). */
  async get(clusterId: string): Promise<StoredEmailConfig> {
    const document = await this.deps.store.get(clusterId);
    if (!document) throw new NotFoundError(`Cluster "${clusterId}" has no email configuration`);
    return withGrant(document, await currentGrant(this.deps.grants, clusterId, document));
  }

  /** Creates or replaces the configuration; secrets left out are kept from the stored one. */
  async save(clusterId: string, input: EmailConfig): Promise<SaveResult> {
    const previous = await this.deps.store.get(clusterId);
    const config = keepStoredSecrets(input, previous?.config);
    const missing = missingSecrets(config);
    if (missing.length > 0) throw new ValidationError('Invalid email configuration', missing);
    // Read (and moved out of a document of the old layout) before the save drops that copy.
    const grant = await currentGrant(this.deps.grants, clusterId, previous);
    const document: StoredEmailConfig = {
      schemaVersion: STORED_SCHEMA_VERSION,
      clusterId,
      updatedAt: this.deps.clock().toISOString(),
      config,
    };
    // The grant is not part of what is written: a refresh that rotates the token meanwhile
    // writes the grant store only, and neither write can undo the other.
    await this.deps.store.put(document);
    // A save that moved to another client, tenant or provider drops the grant, which can no
    // longer work; one that a concurrent write left matching the new configuration stays.
    if (grant && !grantMatches(grant.grant, config)) {
      await updateGrant(this.deps.grants, clusterId, grant, (stored) =>
        stored && !grantMatches(stored, config) ? 'delete' : undefined,
      );
    }
    this.deps.log.info('Email configuration saved', {
      clusterId,
      created: !previous,
      transport: config.transport,
      authType: config.smtp?.auth.type,
    });
    const kept = grant && grantMatches(grant.grant, config) ? grant : undefined;
    return { document: withGrant(document, kept), created: !previous };
  }

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
}
