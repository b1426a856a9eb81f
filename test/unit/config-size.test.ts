// What a large configuration really weighs as stored, against the 8,192-byte limit of an SSM
// Advanced-tier parameter (and of the embedded store, which applies the same limit). The grant
// (with the refresh token) is no longer part of the stored document; the figures with it show
// what the old layout needed. Microsoft documents no refresh token length; tokens seen in
// practice are opaque strings of about 1,500-2,000 characters, so both ends are measured.
import { describe, expect, it } from '@jest/globals';
import {
  CONFIG_MAX_BYTES,
  ConfigTooLargeError,
  checkedStoredForm,
} from '../../functions/core/config/config-store.js';
import {
  type OAuthGrant,
  oauthBindingOf,
  type StoredEmailConfig,
} from '../../functions/core/config/stored-config.js';
import { oauthAuthOf } from '../../functions/core/oauth/oauth-authorization.js';
import { microsoftOAuthConfig } from '../support/config-fixtures.js';

/** A long, realistic address: 70-odd characters. */
const longContact = (n: number) =>
  `firstname.middlename.lastname-${String(n).padStart(2, '0')}@operations.emea.example-banking-group.com`;
/** The longest address the schema accepts (253 characters here; 254 is the limit). */
const longestContact = (n: number) =>
  `${'a'.repeat(62)}${String(n).padStart(2, '0')}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(52)}.example`;

function microsoftDocument(contacts: string[]): StoredEmailConfig {
  const config = microsoftOAuthConfig({
    sender: 'Appliance Alerts EMEA <appliance-alerts@operations.emea.example-banking-group.com>',
    auth: {
      tenant: '0b2c1e4f-3a5d-4e6f-8a9b-0c1d2e3f4a5b',
      clientId: '7d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
      // An Entra client secret value: 40 characters.
      clientSecret: 'Abc8Q~dEfGhIjKlMnOpQrStUvWxYz0123456789a',
      user: 'appliance-alerts@operations.emea.example-banking-group.com',
    },
    smtp: { limits: { maxConnections: 3, messagesPerMinute: 30 } },
    adminContacts: contacts,
    language: 'de',
  });
  return {
    schemaVersion: 1,
    clusterId: 'emea-prod-cluster-01',
    updatedAt: '2026-12-01T12:00:00.000Z',
    config,
  };
}

function grant(document: StoredEmailConfig, refreshTokenLength: number): OAuthGrant {
  const auth = oauthAuthOf(document.config);
  if (!auth) throw new Error('not oauth2');
  return {
    status: 'authorized',
    refreshToken: `1.AQ${'x'.repeat(refreshTokenLength - 4)}`,
    authorizedAt: '2026-12-01T11:00:00.000Z',
    authorizedAs: 'appliance-alerts@operations.emea.example-banking-group.com',
    lastRefreshAt: '2026-12-01T11:55:00.000Z',
    binding: oauthBindingOf(auth),
  };
}

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('stored configuration size', () => {
  const contacts = Array.from({ length: 50 }, (_, n) => longContact(n));
  const document = microsoftDocument(contacts);

  it('50 long contacts and a Microsoft refresh token: what is stored fits, and what the old layout stored', () => {
    // Act
    const stored = checkedStoredForm(document).bytes;
    const oldLayout = [1500, 2000].map((length) => bytesOf({ ...document, oauth: grant(document, length) }));
    const grantAlone = [1500, 2000].map((length) => bytesOf(grant(document, length)));
    console.info(
      `stored configuration: ${stored} bytes (limit ${CONFIG_MAX_BYTES}); ` +
        `old layout with the grant inside: ${oldLayout.join(' / ')} bytes; ` +
        `grant alone: ${grantAlone.join(' / ')} bytes (refresh token of 1,500 / 2,000 characters)`,
    );

    // Assess
    expect(contacts.every((c) => c.length >= 70)).toBe(true);
    expect(stored).toBeLessThanOrEqual(CONFIG_MAX_BYTES);
    expect(oldLayout.every((bytes, i) => bytes - stored === (grantAlone[i] ?? 0) + ',"oauth":'.length)).toBe(
      true,
    );
  });

  it('50 contacts of the longest form are over the limit: ConfigTooLargeError with the figures', () => {
    // Prepare
    const huge = microsoftDocument(Array.from({ length: 50 }, (_, n) => longestContact(n)));

    // Act
    const attempt = () => checkedStoredForm(huge);

    // Assess
    expect(attempt).toThrow(ConfigTooLargeError);
    try {
      attempt();
    } catch (error) {
      const tooLarge = error as ConfigTooLargeError;
      console.info(`50 contacts of 253 characters: ${tooLarge.bytes} bytes stored`);
      expect(tooLarge.bytes).toBe(bytesOf(huge));
      expect(tooLarge.limit).toBe(8192);
    }
  });
});
