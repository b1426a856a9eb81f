// The admin page declares the API's JSON by hand (web/admin-page/api-types.ts: the domain's types
// reach zod and Node built-ins, which the page cannot load). These assignments make `npm run
// typecheck` fail when a domain type changes in a way the page's copy does not follow; the
// tests check the values the domain really produces.
import { describe, expect, it } from '@jest/globals';
import type { TestEmailSummary as DomainTestEmailSummary } from '../../functions/core/config/config-history.js';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  type PublicEmailConfig as DomainPublicConfig,
  toPublicConfig,
} from '../../functions/core/config/public-config.js';
import type { ClusterHealth as DomainClusterHealth } from '../../functions/core/fleet/cluster-health.js';
import { DeliveryError, type Mailer } from '../../functions/core/mail/mailer.js';
import {
  type TestEmailResult as DomainTestEmailResult,
  sendTestEmail,
} from '../../functions/core/mail/test-email.js';
import type { DeliveryRecord as DomainDeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';
import type {
  ClusterHealthItem,
  DeliveryRecord,
  PublicEmailConfig,
  TestEmailResult,
  TestEmailSummary,
} from '../../web/admin-page/api-types.js';
import { microsoftOAuthConfig, passwordConfig, storedConfig } from '../support/config-fixtures.js';

// Compile-time: every value the domain can produce is a value the page can read.
const asPageConfig = (config: DomainPublicConfig): PublicEmailConfig => config;
const asPageTestResult = (result: DomainTestEmailResult): TestEmailResult => result;
// A delivery record has no producer without I/O here: this line is its check (`npm run typecheck`
// fails when a DeliveryRecord stops fitting the page's type).
void (true satisfies DomainDeliveryRecord extends DeliveryRecord ? true : never);
// The same for the fleet overview's items and the kept test email summaries.
void (true satisfies DomainClusterHealth extends ClusterHealthItem ? true : never);
void (true satisfies DomainTestEmailSummary extends TestEmailSummary ? true : never);

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('the admin page reads what the API sends', () => {
  it.each([
    ['password', passwordConfig({ password: 'relay-secret-123' })],
    [
      'ses',
      EmailConfigSchema.parse({ sender: 'a@example.com', transport: 'ses', adminContacts: 'b@example.com' }),
    ],
    [
      'graph',
      EmailConfigSchema.parse({
        sender: 'a@example.com',
        transport: 'graph',
        graph: {
          mailbox: 'a@example.com',
          tenant: 'contoso.com',
          clientId: 'app',
          clientSecret: 'client-secret-1',
        },
        adminContacts: 'b@example.com',
      }),
    ],
    [
      'oauth2',
      microsoftOAuthConfig({
        sender: 'a@example.com',
        auth: { tenant: undefined, clientId: 'client', clientSecret: 'client-secret-1' },
        adminContacts: 'b@example.com',
      }),
    ],
  ])('a %s configuration as GET returns it', (_kind, config) => {
    const view = asPageConfig(toPublicConfig(storedConfig('page', config)));

    expect(view.clusterId).toBe('page');
    expect(view.transport).toBe(config.transport);
    expect(JSON.stringify(view)).not.toMatch(/relay-secret-123|client-secret-1/);
    expect(view.grouping).toEqual({ waitSeconds: 30, intervalMinutes: 5 });
    if (view.smtp) expect(view.smtp.effectiveLimits.source).toMatch(/^(configured|none|preset:.+)$/);
    if (view.smtp?.host === 'smtp.office365.com') {
      expect(view.smtp.effectiveLimits).toEqual({
        maxConnections: 3,
        messagesPerMinute: 30,
        source: 'preset:exchange-online',
      });
    }
    if (view.smtp?.auth.type === 'password') expect(view.smtp.auth.passwordSet).toBe(true);
    if (view.smtp?.auth.type === 'oauth2') {
      expect(view.smtp.auth.clientSecretSet).toBe(true);
      expect(view.oauth?.status).toBe('needs-authorization');
    }
  });

  it('a failed test email as the API returns it', async () => {
    // Prepare: a relay that refuses the connection.
    const refused: Mailer = {
      send: async () => {
        throw new DeliveryError({ stage: 'connect', message: 'connect ECONNREFUSED', transient: true });
      },
    };
    const stored = storedConfig('page', passwordConfig({ password: 'relay-secret-123' }));

    // Act
    const result = asPageTestResult(
      await sendTestEmail(
        { mailers: { forConfig: async () => refused }, clock: () => new Date(0), log: quiet },
        stored,
      ),
    );

    // Assess: what the page shows (stage, recipients, timing), and no secret.
    expect(result).toMatchObject({
      ok: false,
      stage: 'connect',
      transient: true,
      at: new Date(0).toISOString(),
    });
    expect(result.recipients).toEqual(stored.config.adminContacts);
    expect(typeof result.durationMs).toBe('number');
    expect(JSON.stringify(result)).not.toContain('relay-secret-123');
  });
});
