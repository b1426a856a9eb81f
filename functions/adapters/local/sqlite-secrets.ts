// The secrets of the embedded database's rows: found, and rewritten under the current key. Runs
// each time the database is opened, so rows from before encryption and rows under a previous key
// (rotation) are sealed with SECRETS_KEY's key at the first start, not only at their next save.
import {
  CONFIG_SECRET_FIELDS,
  GRANT_SECRET_FIELDS,
  openSecretsInJson,
  type SecretBox,
  SecretDecryptError,
  type SecretField,
  sealSecretsInJson,
} from './secret-box.js';
import type { Connection } from './sqlite-database.js';

interface SecretTable {
  table: string;
  column: string;
  kind: 'config' | 'grant';
  fields: readonly SecretField[];
  what: string;
}

// The tables whose JSON columns hold secrets (oauth_state holds none: its PKCE verifier is
// useless without the state, which is stored only as a hash).
const SECRET_TABLES: readonly SecretTable[] = [
  {
    table: 'email_config',
    column: 'document',
    kind: 'config',
    fields: CONFIG_SECRET_FIELDS,
    what: 'Stored configuration',
  },
  {
    table: 'config_version',
    column: 'document',
    kind: 'config',
    fields: CONFIG_SECRET_FIELDS,
    what: 'A saved version of the configuration',
  },
  {
    table: 'oauth_grant',
    column: 'grant_json',
    kind: 'grant',
    fields: GRANT_SECRET_FIELDS,
    what: 'Stored OAuth2 grant',
  },
];

function present(connection: Connection): SecretTable[] {
  const tables = new Set(
    connection.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(),
  );
  return SECRET_TABLES.filter((t) => tables.has(t.table));
}

/** The key id of some sealed secret in the database, or undefined when it holds none. */
export function someSealedKeyId(connection: Connection): string | undefined {
  for (const t of present(connection)) {
    const texts = connection
      .prepare<[], string>(`SELECT ${t.column} FROM ${t.table} WHERE ${t.column} LIKE '%"enc":%'`)
      .pluck()
      .all();
    for (const text of texts) {
      const match = /"enc":"[^"]*","kid":"([^"]+)"/.exec(text);
      if (match) return match[1];
    }
  }
  return undefined;
}

/**
 * Rewrites every row whose secrets are in plaintext or under a previous key, in one IMMEDIATE
 * transaction; a secret under a key not given (SecretsKeyError) fails the whole, nothing changed.
 * A row whose sealed value fails authentication (altered) is left as it is: its reads say so.
 * The number of rows rewritten.
 */
export function resealSecrets(connection: Connection, box: SecretBox, path: string): number {
  return connection
    .transaction(() => {
      let rewritten = 0;
      for (const t of present(connection)) {
        const rows = connection
          .prepare<[], { rowid: number; cluster_id: string; text: string }>(
            `SELECT rowid, cluster_id, ${t.column} AS text FROM ${t.table}`,
          )
          .all();
        const update = connection.prepare<[string, number]>(
          `UPDATE ${t.table} SET ${t.column} = ? WHERE rowid = ?`,
        );
        for (const row of rows) {
          const scope = {
            kind: t.kind,
            clusterId: row.cluster_id,
            where: `${t.what} of cluster "${row.cluster_id}" (in ${path})`,
          };
          let opened: ReturnType<typeof openSecretsInJson>;
          try {
            opened = openSecretsInJson(box, row.text, t.fields, scope);
          } catch (error) {
            // An altered row fails its own reads (with this error), not the whole database.
            if (error instanceof SecretDecryptError) continue;
            throw error;
          }
          if (!opened.stale) continue;
          update.run(sealSecretsInJson(box, opened.json, t.fields, scope), row.rowid);
          rewritten += 1;
        }
      }
      return rewritten;
    })
    .immediate();
}
