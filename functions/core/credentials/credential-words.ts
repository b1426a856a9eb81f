// The credential health in an email's language: one sentence for the daily notice and the
// warning email. Built from the health's fields, never from a secret.

import { formatDate, type Language } from '../../kernel/text.js';
import type { CredentialHealth, CredentialKind } from './credential-health.js';

const NAMES: Record<Language, Record<CredentialKind, string>> = {
  en: {
    'client-secret': 'The OAuth2 client secret',
    'client-certificate': 'The OAuth2 client certificate',
    password: 'The relay password',
    'refresh-token': 'The OAuth2 refresh token',
    'service-account-key': 'The Google service account key',
  },
  de: {
    'client-secret': 'Der geheime Clientschlüssel (OAuth2)',
    'client-certificate': 'Das Clientzertifikat (OAuth2)',
    password: 'Das Passwort für den Relay-Server',
    'refresh-token': 'Das OAuth2-Aktualisierungstoken',
    'service-account-key': 'Der Schlüssel des Google-Dienstkontos',
  },
};

const RENEW: Record<Language, Record<CredentialKind, string>> = {
  en: {
    'client-secret':
      'create a new client secret at the provider and save it on the admin page with its expiry date',
    'client-certificate':
      'create a new certificate, upload it to the app registration and save it with its private key on the admin page',
    password: 'change the password at the relay and save it on the admin page with its expiry date',
    'refresh-token': 'click Authorize on the admin page again',
    'service-account-key':
      'create a new JSON key for the service account in the Google Cloud console and save it on the admin page',
  },
  de: {
    'client-secret':
      'bitte beim Anbieter einen neuen geheimen Clientschlüssel erstellen und ihn mit seinem Ablaufdatum auf der Admin-Seite speichern',
    'client-certificate':
      'bitte ein neues Zertifikat erstellen, es in der App-Registrierung hochladen und es mit seinem privaten Schlüssel auf der Admin-Seite speichern',
    password:
      'bitte das Passwort am Relay-Server ändern und es mit seinem Ablaufdatum auf der Admin-Seite speichern',
    'refresh-token': 'bitte auf der Admin-Seite erneut auf „Autorisieren“ klicken',
    'service-account-key':
      'bitte in der Google Cloud Console einen neuen JSON-Schlüssel für das Dienstkonto erstellen und ihn auf der Admin-Seite speichern',
  },
};

function days(count: number, language: Language): string {
  if (language === 'de') return `${count} ${count === 1 ? 'Tag' : 'Tagen'}`;
  return `${count} ${count === 1 ? 'day' : 'days'}`;
}

/**
 * The sentence for a health an admin must act on (`expiring`, `expired`, `failing`);
 * undefined for `ok`, which the daily notice does not mention.
 */
export function credentialSentence(health: CredentialHealth, language: Language): string | undefined {
  if (health.status === 'ok') return undefined;
  if (health.status === 'failing') {
    // A refused grant: Authorize again; a refused app, certificate or key: renew that.
    const renew = RENEW[language][health.credential ?? 'refresh-token'];
    return language === 'de'
      ? `Der Anbieter hat die OAuth2-Anmeldedaten abgelehnt: ${renew}; bis dahin kommen keine Warnmeldungen an. Die Admin-Seite nennt den Grund.`
      : `The provider refused the OAuth2 credentials: ${renew}; until then no alert gets through. The admin page has the reason.`;
  }
  const kind = health.credential ?? 'client-secret';
  const name = NAMES[language][kind];
  const renew = RENEW[language][kind];
  const date = health.expiresAt ? formatDate(new Date(health.expiresAt), language) : '?';
  if (health.status === 'expired') {
    return language === 'de'
      ? `${name} ist am ${date} abgelaufen: ${renew}, damit Warnmeldungen wieder ankommen.`
      : `${name} expired on ${date}: ${renew}, so that alerts get through again.`;
  }
  const left = days(Math.max(1, health.daysLeft ?? 1), language);
  return language === 'de'
    ? `${name} läuft in ${left} ab (am ${date}): ${renew}, sonst kommen danach keine Warnmeldungen mehr an.`
    : `${name} expires in ${left} (on ${date}): ${renew}, or alerts stop getting through then.`;
}
