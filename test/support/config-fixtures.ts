import { type EmailConfig, EmailConfigSchema } from '../../functions/core/config/email-config.js';
import {
  type StoredEmailConfig,
  StoredEmailConfigSchema,
} from '../../functions/core/config/stored-config.js';

/** A relay configuration with password authentication, as the API would store it. */
export function passwordConfig(options: { password: string } & Record<string, unknown>): EmailConfig {
  const { password, ...overrides } = options;
  return EmailConfigSchema.parse({
    sender: 'appliance@example.com',
    transport: 'smtp',
    smtp: {
      host: 'smtp.example.com',
      port: 587,
      encryption: 'starttls',
      auth: { type: 'password', username: 'relay@example.com', password },
    },
    adminContacts: 'ops@example.com oncall@example.com',
    ...overrides,
  });
}

/** The stored document around a configuration. */
export function storedConfig(clusterId: string, config: EmailConfig): StoredEmailConfig {
  return StoredEmailConfigSchema.parse({
    schemaVersion: 1,
    clusterId,
    updatedAt: '2025-01-02T03:04:05.000Z',
    config,
  });
}
