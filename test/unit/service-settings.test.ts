import { describe, expect, it } from '@jest/globals';
import { DEFAULT_LEASE_MS } from '../../functions/core/notify/notify-service.js';
import { NotifyEnvSchema } from '../../functions/notify/env.js';
import { serviceSettingsOf } from '../../functions/shared/service-env.js';
import { LocalEnvSchema } from '../../local-runtime/env.js';

const lambdaEnv = {
  CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
  CONFIG_KMS_KEY_ID: 'alias/appliance-notifier',
  LEDGER_TABLE_NAME: 'ledger',
  EVENT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/appliance-notifier-events',
  EVENT_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/appliance-notifier-events-dlq',
};

describe('the settings buildServices takes, in AWS and on one machine', () => {
  it('gives the notify function and the embedded runtime the same event lease by default', () => {
    const aws = serviceSettingsOf(NotifyEnvSchema.parse(lambdaEnv));
    const local = serviceSettingsOf(LocalEnvSchema.parse({}));

    expect(aws.eventLeaseMs).toBe(DEFAULT_LEASE_MS);
    expect(local.eventLeaseMs).toBe(aws.eventLeaseMs);
  });

  it('reads EVENT_LEASE_SECONDS by the same name in both', () => {
    const aws = serviceSettingsOf(NotifyEnvSchema.parse({ ...lambdaEnv, EVENT_LEASE_SECONDS: '900' }));
    const local = serviceSettingsOf(LocalEnvSchema.parse({ EVENT_LEASE_SECONDS: '900' }));

    expect(aws.eventLeaseMs).toBe(900_000);
    expect(local.eventLeaseMs).toBe(900_000);
  });

  it('passes EGRESS_MODE on as the egress the diagnostics advise for, and leaves it unknown when unset', () => {
    const vpc = serviceSettingsOf(NotifyEnvSchema.parse({ ...lambdaEnv, EGRESS_MODE: 'vpc' }));
    const unset = serviceSettingsOf(NotifyEnvSchema.parse(lambdaEnv));

    expect(vpc.egress).toBe('vpc');
    expect(unset.egress).toBeUndefined();
    expect(NotifyEnvSchema.safeParse({ ...lambdaEnv, EGRESS_MODE: 'nat' }).success).toBe(false);
  });

  it('reads CREDENTIAL_WARNING_DAYS by the same name in both, and refuses a value out of range by name', () => {
    const aws = serviceSettingsOf(NotifyEnvSchema.parse({ ...lambdaEnv, CREDENTIAL_WARNING_DAYS: '30' }));
    const local = serviceSettingsOf(LocalEnvSchema.parse({ CREDENTIAL_WARNING_DAYS: '30' }));
    expect(aws.credentialWarningDays).toBe(30);
    expect(local.credentialWarningDays).toBe(30);
    expect(serviceSettingsOf(LocalEnvSchema.parse({})).credentialWarningDays).toBeUndefined();
    const refused = LocalEnvSchema.safeParse({ CREDENTIAL_WARNING_DAYS: '0' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({
      path: ['CREDENTIAL_WARNING_DAYS'],
      message: 'must be a whole number of days between 1 and 90',
    });
  });
});
