// The egress mode travels from the function's environment (EGRESS_MODE) through the composition
// root into the diagnostics' hints; the test email shows it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { EmailConfigSchema } from '../../functions/core/config/email-config.js';
import { DeliveryError, type MailerFactory } from '../../functions/core/mail/mailer.js';
import { NotifyEnvSchema } from '../../functions/notify/env.js';
import { serviceSettingsOf } from '../../functions/shared/service-env.js';
import { type TestServices, testServices } from '../support/services.js';

const lambdaEnv = {
  CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
  CONFIG_KMS_KEY_ID: 'alias/appliance-notifier',
  LEDGER_TABLE_NAME: 'ledger',
  EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/events',
  EVENT_DLQ_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/events-dlq',
};

/** A relay on port 25 that nothing answers on, as a blocked port looks from the sender. */
const blockedPort25: MailerFactory = {
  forConfig: async () => ({
    send: async () => {
      throw new DeliveryError({
        stage: 'connect',
        reason: 'ETIMEDOUT',
        transient: true,
        message: 'connect ETIMEDOUT 203.0.113.25:25',
      });
    },
  }),
};

const config = EmailConfigSchema.parse({
  sender: 'alerts@example.com',
  adminContacts: 'ops@example.com',
  smtp: {
    host: 'mx.example.com',
    port: 25,
    encryption: 'starttls',
    auth: { type: 'none' },
  },
});

const dirs: string[] = [];
const opened: TestServices[] = [];
async function servicesFor(egress: string | undefined): Promise<TestServices> {
  const dataDir = await mkdtemp(join(tmpdir(), 'egress-hints-'));
  dirs.push(dataDir);
  const env = NotifyEnvSchema.parse({ ...lambdaEnv, ...(egress ? { EGRESS_MODE: egress } : {}) });
  const services = await testServices({
    dataDir,
    adapters: { mailers: () => blockedPort25 },
    settings: serviceSettingsOf(env),
  });
  opened.push(services);
  return services;
}

afterAll(async () => {
  for (const services of opened) await services.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the test email on port 25, by EGRESS_MODE', () => {
  it.each([
    ['lambda', /outside a VPC, and cannot lift that/, /NatEgressIps/],
    ['vpc', /NatEgressIps.*request to remove the email sending limitations/, /cannot lift/],
    [undefined, /Many networks block outbound port 25/, /AWS blocks|NatEgressIps/],
  ])('EGRESS_MODE=%s', async (egress, expected, absent) => {
    // Prepare
    const services = await servicesFor(egress);
    const { document } = await services.emailConfig.save('c1', config);

    // Act
    const result = await services.emailConfig.sendTestEmail(document);

    // Assess
    expect(result.ok).toBe(false);
    expect(result.hint).toMatch(expected);
    expect(result.hint).not.toMatch(absent);
  });
});
