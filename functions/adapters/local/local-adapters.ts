// The embedded runtime's adapters: an embedded SQLite database under the data directory
// (configurations, OAuth2 states, the delivery ledger) instead of SSM and DynamoDB, and
// an outbox folder (or a local SES endpoint) instead of Amazon SES. The only place outside the
// Lambdas that constructs stores, SDK clients and mailers.
import { resolve } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Adapters } from '../../composition.js';
import type { Clock } from '../../core/ports.js';
import { createLogger } from '../../shared/logger.js';
import { TransportMailerFactory, type TransportMailerFactoryOptions } from '../mailer-factory.js';
import { FetchTokenClient } from '../oauth-token-client.js';
import { importLedgerJournal } from './ledger-journal-import.js';
import { OutboxMailer } from './outbox-mailer.js';
import type { SecretKeySettings } from './secret-box.js';
import { SqliteAdminTokenStore } from './sqlite-admin-tokens.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';
import { SqliteConfigHistory } from './sqlite-config-history.js';
import { importConfigFiles, SqliteConfigStore } from './sqlite-config-store.js';
import { SqliteDatabase } from './sqlite-database.js';
import { SqliteGrantStore } from './sqlite-grant-store.js';
import { SqliteLedger } from './sqlite-ledger.js';
import { SqliteOAuthStateStore } from './sqlite-oauth-state-store.js';
import { SqliteRelayGate } from './sqlite-relay-gate.js';

export interface LocalAdapterOptions {
  /** Holds notifier.db (configurations, OAuth2 states, the delivery log) and outbox/. */
  dataDir: string;
  /** Send every message to the outbox, whatever the configuration says (dry run). */
  mailOutbox?: boolean;
  /** The key of the secrets in the database (default the key file DATA_DIR/secrets.key). */
  secrets?: SecretKeySettings;
  /** A local SES endpoint (e.g. aws-ses-v2-local) for `transport: "ses"`; otherwise the outbox. */
  sesEndpoint?: string;
  awsRegion?: string;
  smtpTimeouts?: TransportMailerFactoryOptions['smtpTimeouts'];
  clock?: Clock;
  log?: Logger;
}

export interface LocalAdapters extends Adapters {
  /** The embedded database (`DATA_DIR/notifier.db`), open until `close()`. */
  database: SqliteDatabase;
  /** The delivery log, in the database; `listFailed` serves the local replay. */
  ledger: SqliteLedger;
  /** The per-cluster admin tokens (hashed), beside the fleet admin's ADMIN_TOKEN. */
  adminTokens: SqliteAdminTokenStore;
  outboxDir: string;
  /** One line: where `transport: "ses"` mail goes. */
  sesDestination: string;
  close(): Promise<void>;
}

export async function localAdapters(options: LocalAdapterOptions): Promise<LocalAdapters> {
  const dataDir = resolve(options.dataDir);
  const outboxDir = resolve(dataDir, 'outbox');
  const clock = options.clock ?? (() => new Date());
  const outbox = () =>
    new OutboxMailer({
      directory: outboxDir,
      reason: 'MAIL_OUTBOX is set: every message goes to the outbox',
    });
  const { sesEndpoint } = options;
  const ses = sesEndpoint
    ? async () => {
        const [{ SESClient }, { SesMailer }] = await Promise.all([
          import('@aws-sdk/client-ses'),
          import('../aws/ses-mailer.js'),
        ]);
        return new SesMailer({
          client: new SESClient({
            endpoint: sesEndpoint,
            region: options.awsRegion ?? 'eu-west-1',
            // A local SES emulator checks no signature; real credentials are never needed here.
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }),
        });
      }
    : () =>
        new OutboxMailer({
          directory: outboxDir,
          reason:
            'transport "ses" has no SES endpoint here (set SES_ENDPOINT for a local SES, or use an SMTP relay)',
        });
  const log = options.log ?? createLogger();
  const database = await SqliteDatabase.open({
    directory: dataDir,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  logSecretsAtOpen(database, log);
  let ledger: SqliteLedger;
  try {
    await importLegacyConfigFiles(database, resolve(dataDir, 'config'), clock, log);
    await importLegacyLedgerJournal(database, resolve(dataDir, 'ledger'), clock, log);
    ledger = new SqliteLedger({ database, clock });
  } catch (error) {
    database.close();
    throw error;
  }
  // The relays' limits in the embedded database, so a second runtime on the data directory
  // shares them; its connection pools close with the adapters.
  const relayGate = new SqliteRelayGate(database);
  return {
    log,
    clock,
    database,
    store: new SqliteConfigStore(database),
    history: new SqliteConfigHistory(database),
    audit: new SqliteAuditLog(database, clock),
    adminTokens: new SqliteAdminTokenStore(database),
    grants: new SqliteGrantStore(database),
    ledger,
    oauthStates: new SqliteOAuthStateStore({ database, clock: () => clock().getTime() }),
    tokenClient: new FetchTokenClient(),
    relayGate,
    mailers: (oauthTokens, gate) =>
      new TransportMailerFactory({
        ses,
        oauthTokens,
        ...(gate ? { relayGate: gate } : {}),
        ...(options.mailOutbox ? { outbox } : {}),
        ...(options.smtpTimeouts ? { smtpTimeouts: options.smtpTimeouts } : {}),
      }),
    outboxDir,
    sesDestination: options.mailOutbox
      ? `every message goes to the outbox ${outboxDir} (MAIL_OUTBOX)`
      : sesEndpoint
        ? `transport "ses" sends to the SES endpoint ${sesEndpoint}`
        : `transport "ses" writes .eml files to ${outboxDir} (set SES_ENDPOINT for a local SES)`,
    close: async () => {
      try {
        await closeSmtpPools(relayGate);
        await ledger.close();
      } finally {
        database.close();
      }
    },
  };
}

/** A new key file to back up, and rows sealed now (older versions' plaintext, or a rotation). */
function logSecretsAtOpen(database: SqliteDatabase, log: Logger): void {
  const { keyCreated, resealed } = database.secretsAtOpen;
  const key = { keySource: database.secrets.source, keyId: database.secrets.keyId };
  if (keyCreated) {
    log.info(
      'Created the key that encrypts the secrets in the database: back it up apart from notifier.db',
      key,
    );
  }
  if (resealed > 0) {
    log.info(
      'Encrypted stored secrets with the current key (they were in plaintext or under the previous key)',
      {
        ...key,
        rows: resealed,
        database: database.path,
      },
    );
  }
}

/** Closes the pooled relay connections of this gate (none when no notification went to a relay). */
async function closeSmtpPools(gate: SqliteRelayGate): Promise<void> {
  const { closeSharedSmtpPools } = await import('../smtp/smtp-pool.js');
  await closeSharedSmtpPools(gate);
}

/** The delivery log journal of versions before the database: imported once, then its directory renamed. */
async function importLegacyLedgerJournal(
  database: SqliteDatabase,
  directory: string,
  clock: Clock,
  log: Logger,
): Promise<void> {
  const result = await importLedgerJournal(database, directory, clock);
  if (result.status === 'imported') {
    log.info('Imported the delivery log journal of an older version into the database', {
      from: result.file,
      database: database.path,
      records: result.records,
      claims: result.claims,
      folds: result.folds,
      skippedLines: result.skippedLines,
      ...(result.renamedTo ? { renamedTo: result.renamedTo } : {}),
    });
    if (result.notRenamed) {
      log.warn('The imported delivery log journal could not be renamed; it is no longer read', {
        directory: result.notRenamed,
      });
    }
  } else if (result.status === 'ignored') {
    log.warn('The delivery log journal is ignored: the delivery log lives in the database', {
      file: result.file,
      database: database.path,
    });
  }
}

/** The configuration files of versions before the database: imported once, then renamed. */
async function importLegacyConfigFiles(
  database: SqliteDatabase,
  directory: string,
  clock: Clock,
  log: Logger,
): Promise<void> {
  const result = await importConfigFiles(database, directory, clock);
  if (result.imported.length > 0) {
    log.info('Imported the configuration files of an older version into the database', {
      clusterIds: result.imported,
      from: directory,
      database: database.path,
      files: 'renamed to <clusterId>.json.imported',
    });
  }
  if (result.notRenamed.length > 0) {
    log.warn('Imported configuration files could not be renamed; they are no longer read', {
      files: result.notRenamed,
    });
  }
  if (result.ignored.length > 0) {
    log.warn('Configuration files are ignored: the configuration lives in the database', {
      clusterIds: result.ignored,
      directory,
      database: database.path,
    });
  }
}
