// The embedded runtime's delivery ledger on its own database in `directory`, for tests that
// run a service on a real ledger.
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import type { Clock } from '../../functions/core/ports.js';

export interface OpenLedger {
  ledger: SqliteLedger;
  database: SqliteDatabase;
  /** Closes the ledger and its database. */
  close(): Promise<void>;
}

export async function openSqliteLedger(directory: string, clock: Clock): Promise<OpenLedger> {
  const database = await SqliteDatabase.open({ directory });
  const ledger = new SqliteLedger({ database, clock });
  return {
    ledger,
    database,
    async close() {
      await ledger.close();
      database.close();
    },
  };
}
