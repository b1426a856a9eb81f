// The admin page declares the API's JSON by hand (web/admin-page/api-types.ts: the domain's types
// reach zod and Node built-ins, which the page cannot load). These assignments make `npm run
// typecheck` fail when a domain type changes in a way the page's copy does not follow; the
// tests check the values the domain really produces.
import { describe, expect, it } from '@jest/globals';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  type PublicEmailConfig as DomainPublicConfig,
  toPublicConfig,
} from '../../functions/core/config/public-config.js';
import type { TestEmailResult as DomainTestEmailResult } from '../../functions/core/mail/test-email.js';
import type { DeliveryRecord as DomainDeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';
import type { DeliveryRecord, PublicEmailConfig, TestEmailResult } from '../../web/admin-page/api-types.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';

// Compile-time: every value the domain can produce is a value the page can read.
const asPageConfig = (config: DomainPublicConfig): PublicEmailConfig => config;
const asPageTestResult = (result: DomainTestEmailResult): TestEmailResult => result;
const asPageRecord = (record: DomainDeliveryRecord): DeliveryRecord => record;

describe('the admin page reads what the API sends', () => {
  it.each([
    ['password', passwordConfig({ password: 'relay-secret-123' })],
    [
      'ses',
      EmailConfigSchema.parse({ sender: 'a@example.com', transport: 'ses', adminContacts: 'b@example.com' }),
    ],
    [
      'oauth2',
      EmailConfigSchema.parse({
        sender: 'a@example.com',
        smtp: {
          host: 'smtp.office365.com',
          port: 587,
          encryption: 'starttls',
          auth: {
            type: 'oauth2',
            provider: 'microsoft',
            clientId: 'client',
            clientSecret: 'client-secret-1',
          },
        },
        adminContacts: 'b@example.com',
      }),
    ],
  ])('a %s configuration as GET returns it', (_kind, config) => {
    const view = asPageConfig(toPublicConfig(storedConfig('page', config)));

    expect(view.clusterId).toBe('page');
    expect(view.transport).toBe(config.transport);
    expect(JSON.stringify(view)).not.toMatch(/relay-secret-123|client-secret-1/);
    if (view.smtp?.auth.type === 'password') expect(view.smtp.auth.passwordSet).toBe(true);
    if (view.smtp?.auth.type === 'oauth2') {
      expect(view.smtp.auth.clientSecretSet).toBe(true);
      expect(view.oauth?.status).toBe('needs-authorization');
    }
  });

  it('a test email result and a delivery record', () => {
    const result = asPageTestResult({
      ok: true,
      recipients: ['b@example.com'],
      durationMs: 12,
      at: '2026-11-28T00:00:00Z',
    });
    const record = asPageRecord({
      clusterId: 'page',
      eventId: 'evt-1',
      condition: 'backup-promoted',
      outcome: 'sent',
      recipients: ['b@example.com'],
      at: '2026-11-28T00:00:00Z',
      eventTime: '2026-11-28T00:00:00Z',
    });

    expect(result.recipients).toEqual(['b@example.com']);
    expect(record.outcome).toBe('sent');
  });
});
