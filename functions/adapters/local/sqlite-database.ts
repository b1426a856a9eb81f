// The embedded runtime's database: one SQLite file in the data directory holds the email
// configurations, the pending OAuth2 authorizations, the event queue and the delivery ledger. The schema is a list
// of numbered steps; `PRAGMA user_version` says how many of them a database has had.
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDirectory, PRIVATE_FILE_MODE } from './atomic-file.js';
import {
  loadSecretsKey,
  SECRETS_KEY_FILE_NAME,
  type SecretBox,
  type SecretKeySettings,
  secretBoxOf,
} from './secret-box.js';
import { resealSecrets, someSealedKeyId } from './sqlite-secrets.js';

export type Connection = Database.Database;

export const DATABASE_FILE_NAME = 'notifier.db';

/** One step of the schema: after it, the database is at `version`. */
export interface Migration {
  version: number;
  description: string;
  /** Runs inside the transaction that applies every pending step and sets `user_version`. */
  up(connection: Connection): void;
}

// Steps are append-only: a released step is never edited, a change is a new step. STRICT tables
// make SQLite refuse a value of the wrong type instead of storing it anyway. Times are epoch
// milliseconds (INTEGER) so comparisons with the injected clock are plain integer comparisons.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'email configurations, pending OAuth2 authorizations, one-off tasks done',
    up(connection) {
      connection.exec(`
        CREATE TABLE email_config (
          cluster_id TEXT PRIMARY KEY NOT NULL,
          -- The StoredEmailConfig as JSON, secrets included; validated when it is read.
          document   TEXT NOT NULL
        ) STRICT;

        CREATE TABLE oauth_state (
          -- SHA-256 (hex) of the state: the database never holds a state that could complete a sign-in.
          state_hash TEXT PRIMARY KEY NOT NULL,
          -- The OAuthStateRecord as JSON, without the state itself.
          record     TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX oauth_state_expires_at ON oauth_state (expires_at);

        -- Things done once per database, e.g. importing the configuration files of older versions.
        CREATE TABLE task_done (
          name    TEXT PRIMARY KEY NOT NULL,
          done_at INTEGER NOT NULL,
          detail  TEXT
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: 'the event queue and its dead letters',
    up(connection) {
      connection.exec(`
        CREATE TABLE queue_message (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          message_id     TEXT NOT NULL UNIQUE,
          body           TEXT NOT NULL,
          sent_at        INTEGER NOT NULL,
          -- Receivable once the clock reaches it: the send time, then the end of each visibility.
          visible_at     INTEGER NOT NULL,
          receive_count  INTEGER NOT NULL DEFAULT 0 CHECK (receive_count >= 0),
          -- The handle of the latest receive (NULL before the first): older handles match nothing.
          receipt_handle TEXT UNIQUE,
          first_received_at INTEGER
        ) STRICT;
        CREATE INDEX queue_message_visible ON queue_message (visible_at, seq);

        CREATE TABLE queue_dead_letter (
          seq              INTEGER PRIMARY KEY AUTOINCREMENT,
          message_id       TEXT NOT NULL UNIQUE,
          body             TEXT NOT NULL,
          sent_at          INTEGER NOT NULL,
          receive_count    INTEGER NOT NULL,
          dead_lettered_at INTEGER NOT NULL,
          reason           TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 3,
    description: 'the delivery ledger: event claims, fold slots and delivery records',
    up(connection) {
      connection.exec(`
        CREATE TABLE ledger_claim (
          event_id    TEXT PRIMARY KEY NOT NULL,
          status      TEXT NOT NULL CHECK (status IN ('processing', 'done')),
          -- While processing: until when the claim keeps other invocations out.
          lease_until INTEGER,
          -- When done: the final outcome.
          -- An Outcome of delivery-ledger.ts; the adapter checks it when it reads (the list grows).
          outcome     TEXT,
          -- Past this the claim counts as absent (a finished event is no longer a duplicate).
          expires_at  INTEGER NOT NULL,
          CHECK ((status = 'processing') = (lease_until IS NOT NULL)),
          CHECK ((status = 'done') = (outcome IS NOT NULL))
        ) STRICT;
        CREATE INDEX ledger_claim_expires_at ON ledger_claim (expires_at);

        -- One row per folding key (cluster#condition#appliance): the FoldSlot of fold-slot.ts.
        CREATE TABLE ledger_fold (
          fold_key           TEXT PRIMARY KEY NOT NULL,
          last_sent_at       INTEGER NOT NULL,
          last_sent_event_id TEXT NOT NULL,
          folded_count       INTEGER NOT NULL CHECK (folded_count >= 0),
          first_folded_at    INTEGER,
          pending_until      INTEGER,
          -- The FoldState the owner's email reports (JSON), kept for its redelivery and for undo.
          reported           TEXT,
          version            INTEGER NOT NULL,
          expires_at         INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX ledger_fold_expires_at ON ledger_fold (expires_at);

        -- One record per (cluster, event id), in the log at its first arrival.
        CREATE TABLE ledger_record (
          cluster_id  TEXT NOT NULL,
          event_id    TEXT NOT NULL,
          -- The first arrival stored for the event: its place in the log, never changed.
          received_at INTEGER NOT NULL,
          -- An Outcome of delivery-ledger.ts, checked by the adapter when it reads.
          outcome     TEXT NOT NULL,
          -- When the latest outcome was recorded (the record's at): retention counts from it.
          recorded_at INTEGER NOT NULL,
          -- The rest of the DeliveryRecord as JSON (envelope included).
          record      TEXT NOT NULL,
          PRIMARY KEY (cluster_id, event_id)
        ) STRICT;
        CREATE INDEX ledger_record_arrival ON ledger_record (cluster_id, received_at, event_id);
        CREATE INDEX ledger_record_recorded_at ON ledger_record (recorded_at);
        CREATE INDEX ledger_record_failed ON ledger_record (received_at, event_id) WHERE outcome = 'failed';
      `);
    },
  },
  {
    version: 4,
    description: 'queue messages say whether their invisibility is a scheduled retry',
    up(connection) {
      // 1 once a receiver scheduled the message's next attempt (a retry later), 0 while it is
      // being processed: after a crash, the runtime that holds the data directory makes the
      // messages its dead predecessor was processing visible at once, and leaves retries be.
      connection.exec(`
        ALTER TABLE queue_message ADD COLUMN retry_scheduled INTEGER NOT NULL DEFAULT 0
          CHECK (retry_scheduled IN (0, 1));
      `);
    },
  },
  {
    version: 5,
    description: 'group emails: groups, their members, the cluster pointer and inhibitor marks',
    up(connection) {
      connection.exec(`
        -- One group email of a cluster (GroupHead of group-slot.ts).
        CREATE TABLE ledger_group (
          group_id        TEXT PRIMARY KEY NOT NULL,
          cluster_id      TEXT NOT NULL,
          state           TEXT NOT NULL CHECK (state IN ('open', 'sending', 'sent', 'failed')),
          opener_event_id TEXT NOT NULL,
          opened_at       INTEGER NOT NULL,
          send_at         INTEGER NOT NULL,
          closed_at       INTEGER,
          -- While sending: until when the sender owns it; NULL once released.
          lease_until     INTEGER,
          finished_at     INTEGER,
          message_id      TEXT,
          size            INTEGER NOT NULL CHECK (size >= 1),
          version         INTEGER NOT NULL,
          expires_at      INTEGER NOT NULL,
          CHECK ((state = 'open') = (closed_at IS NULL)),
          CHECK (state = 'sending' OR lease_until IS NULL)
        ) STRICT;
        -- At most one open group per cluster, whatever the code does.
        CREATE UNIQUE INDEX ledger_group_open ON ledger_group (cluster_id) WHERE state = 'open';
        CREATE INDEX ledger_group_expires_at ON ledger_group (expires_at);

        CREATE TABLE ledger_group_member (
          group_id    TEXT NOT NULL REFERENCES ledger_group (group_id) ON DELETE CASCADE,
          event_id    TEXT NOT NULL,
          cluster_id  TEXT NOT NULL,
          received_at INTEGER NOT NULL,
          -- The GroupMemberEntry without its key columns, as JSON (the envelope is up to 64 KiB).
          member      TEXT NOT NULL,
          joined_at   INTEGER NOT NULL,
          PRIMARY KEY (group_id, event_id)
        ) STRICT;
        CREATE INDEX ledger_group_member_event ON ledger_group_member (cluster_id, event_id, joined_at);

        -- Per cluster: its open group, and when its last group closed (the interval counts from it).
        CREATE TABLE ledger_group_cluster (
          cluster_id     TEXT PRIMARY KEY NOT NULL,
          open_group_id  TEXT REFERENCES ledger_group (group_id) ON DELETE SET NULL,
          last_closed_at INTEGER,
          expires_at     INTEGER NOT NULL
        ) STRICT;

        -- One inhibitor mark per (cluster, key): a later mark replaces an earlier one.
        CREATE TABLE ledger_inhibitor (
          cluster_id    TEXT NOT NULL,
          inhibit_key   TEXT NOT NULL,
          event_id      TEXT NOT NULL,
          condition     TEXT NOT NULL,
          until         INTEGER NOT NULL,
          expires_at    INTEGER NOT NULL,
          PRIMARY KEY (cluster_id, inhibit_key)
        ) STRICT;
        CREATE INDEX ledger_inhibitor_expires_at ON ledger_inhibitor (expires_at);
      `);
    },
  },
  {
    version: 6,
    description: 'relay pacing: sends counted, connection slots and back-off per relay identity',
    up(connection) {
      connection.exec(`
        -- One row per relay identity (host:port:user): the RelayState of core/mail/relay-gate.ts.
        CREATE TABLE relay_gate (
          identity        TEXT PRIMARY KEY NOT NULL,
          version         INTEGER NOT NULL,
          -- [[sub-window start, count], ...] as JSON, oldest first.
          sends           TEXT NOT NULL,
          -- [{ "index", "holder", "until" }, ...] as JSON: leased connection slots.
          slots           TEXT NOT NULL,
          back_off_until  INTEGER,
          back_off_reason TEXT,
          expires_at      INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX relay_gate_expires_at ON relay_gate (expires_at);
      `);
    },
  },
  {
    version: 7,
    description: 'OAuth2 grants apart from the configuration documents, with a version per write',
    up(connection) {
      connection.exec(`
        -- One row per cluster: the OAuthGrant of core/config/stored-config.ts as JSON. Documents
        -- in email_config from before this step may still hold the grant in "oauth"; the first
        -- read copies it here (core/oauth/grant-store.ts currentGrant).
        CREATE TABLE oauth_grant (
          cluster_id TEXT PRIMARY KEY NOT NULL,
          grant_json TEXT NOT NULL,
          version    INTEGER NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 8,
    description: 'Configuration history (every save a version) and the last test email per cluster',
    up(connection) {
      connection.exec(`
        -- One row per saved version (core/config/config-history.ts); kept when the configuration
        -- is deleted, at most CONFIG_HISTORY_LIMIT per cluster. document holds secrets, as
        -- email_config does.
        CREATE TABLE config_version (
          cluster_id    TEXT NOT NULL,
          version       INTEGER NOT NULL,
          saved_at      TEXT NOT NULL,
          saved_by      TEXT NOT NULL,
          restored_from INTEGER,
          document      TEXT NOT NULL,
          test_email    TEXT,
          PRIMARY KEY (cluster_id, version)
        ) STRICT;
        CREATE TABLE config_last_test (
          cluster_id TEXT PRIMARY KEY NOT NULL,
          test_email TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 9,
    description: 'Per-cluster admin tokens (stored hashed) and the audit trail',
    up(connection) {
      connection.exec(`
        -- core/access/admin-tokens.ts: only the SHA-256 of a token is kept; the token is shown once.
        CREATE TABLE admin_token (
          token_id   TEXT PRIMARY KEY NOT NULL,
          cluster_id TEXT NOT NULL,
          hash       BLOB NOT NULL,
          label      TEXT,
          created_at TEXT NOT NULL,
          created_by TEXT NOT NULL
        ) STRICT;
        CREATE INDEX admin_token_cluster ON admin_token (cluster_id, created_at);
        -- core/audit/audit-log.ts: newest first per cluster, by (at, id).
        CREATE TABLE audit_entry (
          id         TEXT PRIMARY KEY NOT NULL,
          cluster_id TEXT NOT NULL,
          at         TEXT NOT NULL,
          actor      TEXT NOT NULL,
          action     TEXT NOT NULL,
          detail     TEXT
        ) STRICT;
        CREATE INDEX audit_entry_cluster ON audit_entry (cluster_id, at DESC, id DESC);
        CREATE INDEX audit_entry_at ON audit_entry (at);
      `);
    },
  },
  {
    version: 10,
    description: "Publisher tokens: an appliance's credential for one cluster, stored as a SHA-256 hash",
    up(connection) {
      connection.exec(`
        -- core/publishers/publisher-tokens.ts: the token itself is shown once and never stored;
        -- token_hash is the hex SHA-256 of the whole token, compared in constant time.
        CREATE TABLE publisher_token (
          token_id   TEXT PRIMARY KEY NOT NULL,
          cluster_id TEXT NOT NULL,
          token_hash TEXT NOT NULL,
          created_at TEXT NOT NULL,
          created_by TEXT NOT NULL
        ) STRICT;
        CREATE INDEX publisher_token_cluster ON publisher_token (cluster_id, created_at);
      `);
    },
  },
];

export interface SqliteDatabaseOptions {
  /** The data directory (`DATA_DIR`): the database is `notifier.db` in it; created 0700. */
  directory: string;
  /** How long a statement waits for another connection's lock before it fails. */
  busyTimeoutMs?: number;
  /** The schema steps to apply; the default is this version's (tests pass older or newer lists). */
  migrations?: readonly Migration[];
  /**
   * The key that encrypts the secrets in the rows (SECRETS_KEY, SECRETS_KEY_PREVIOUS,
   * SECRETS_KEY_FILE); by default the key file `secrets.key` in the directory, created if absent.
   */
  secrets?: SecretKeySettings;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SecretsAtOpen {
  /** No key existed: a new key file was written (it must be backed up apart from the database). */
  keyCreated: boolean;
  /** Rows whose secrets were in plaintext or under a previous key, now sealed with the current key. */
  resealed: number;
}

/** The database file was written by a newer version of the code; nothing was changed. */
export class NewerSchemaError extends Error {
  override readonly name = 'NewerSchemaError';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `The database ${path} has schema version ${found}, but this version of appliance-notifier knows versions up to ${known}: a newer appliance-notifier wrote it. Run that version (or a later one), or restore a copy of the data directory from before the upgrade. The database was left as it is.`,
    );
  }
}

export class SqliteDatabase {
  private constructor(
    readonly connection: Connection,
    readonly path: string,
    /** Seals and opens the secret fields of the rows (secret-box.ts). */
    readonly secrets: SecretBox,
    /** What the open did about the key: made it (a key file to back up), rows it sealed. */
    readonly secretsAtOpen: SecretsAtOpen = { keyCreated: false, resealed: 0 },
  ) {}

  /**
   * Opens (creating if needed) `notifier.db` in the directory: file 0600 in a 0700 directory,
   * WAL journal, `synchronous=FULL` (a commit is on disk when it returns, power loss included),
   * a busy timeout for other connections' locks, foreign keys enforced, and the schema brought
   * to the latest version. Refuses a database from a newer version of the code.
   */
  static async open(options: SqliteDatabaseOptions): Promise<SqliteDatabase> {
    const directory = resolve(options.directory);
    const path = join(directory, DATABASE_FILE_NAME);
    const migrations = options.migrations ?? MIGRATIONS;
    checkMigrations(migrations);
    await ensurePrivateDirectory(directory);
    // Create the file ourselves: SQLite would create it with the umask's mode. Its -wal and
    // -shm files take the database file's mode.
    const handle = await open(path, 'a', PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
    } finally {
      await handle.close();
    }
    const connection = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    let secrets: SecretBox;
    let atOpen: SecretsAtOpen;
    try {
      configure(connection, path);
      migrate(connection, path, migrations);
      // The key apart from the database; rows in plaintext (older versions) or under a previous
      // key are rewritten under the current one now.
      const settings = options.secrets ?? {};
      const loaded = await loadSecretsKey(settings, join(directory, SECRETS_KEY_FILE_NAME), () =>
        someSealedKeyId(connection),
      );
      secrets = secretBoxOf(loaded, settings);
      atOpen = { keyCreated: loaded.created, resealed: resealSecrets(connection, secrets, path) };
    } catch (error) {
      connection.close();
      throw error;
    }
    return new SqliteDatabase(connection, path, secrets, atOpen);
  }

  /** Seals secrets still in plaintext or under a previous key (e.g. after an import); rows rewritten. */
  resealSecrets(): number {
    return resealSecrets(this.connection, this.secrets, this.path);
  }

  /** The number of schema steps this database has had. */
  get schemaVersion(): number {
    return userVersion(this.connection);
  }

  /** Closes the connection (idempotent); the last connection to close folds the WAL into the file. */
  close(): void {
    if (this.connection.open) this.connection.close();
  }
}

function configure(connection: Connection, path: string): void {
  let mode: unknown;
  try {
    mode = connection.pragma('journal_mode = WAL', { simple: true });
  } catch (error) {
    // SQLITE_NOTADB: some other file under our name, or one damaged beyond reading.
    throw new Error(`${path} is not an SQLite database, or it is damaged: ${(error as Error).message}`);
  }
  if (mode !== 'wal') {
    throw new Error(`${path}: SQLite could not switch to WAL mode (it is in "${String(mode)}" mode)`);
  }
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
}

function migrate(connection: Connection, path: string, migrations: readonly Migration[]): void {
  const known = migrations.length;
  // IMMEDIATE: the write lock first, so two processes opening a new database at once cannot
  // both see version 0 and both create the tables; the second waits, then finds nothing to do.
  connection
    .transaction(() => {
      const found = userVersion(connection);
      if (found > known) throw new NewerSchemaError(path, found, known);
      for (const step of migrations.slice(found)) step.up(connection);
      if (found < known) connection.pragma(`user_version = ${known}`);
    })
    .immediate();
}

function userVersion(connection: Connection): number {
  return connection.pragma('user_version', { simple: true }) as number;
}

function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((step, index) => {
    if (step.version !== index + 1) {
      throw new Error(
        `Schema steps must be numbered 1, 2, 3, ... in order: step ${index + 1} says ${step.version}`,
      );
    }
  });
}
