import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createLedgerTable } from './ledger-table.js';

export interface Dynalite {
  /** For `new DynamoDBClient({ ...dynalite.clientConfig })`: endpoint, region, dummy credentials. */
  clientConfig: DynamoDBClientConfig;
  /** A client on the emulator, shared by the tests of one file; closed by `close()`. */
  client: DynamoDBClient;
  /** The table created at start (the ledger's key schema). */
  tableName: string;
  /** Creates another empty table with the ledger's key schema (e.g. one per test); returns its name. */
  createTable(name?: string): Promise<string>;
  close(): Promise<void>;
}

type DynaliteFactory = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

// dynalite is CommonJS without types; require gives the function itself under any loader.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/**
 * Starts dynalite (in memory) in this process on a free loopback port and creates a table with
 * the key schema of the CDK stack (`LEDGER_TABLE_KEYS`). dynalite checks no credentials and
 * supports no TTL sweeps or transactions; the ledger uses neither.
 */
export async function startDynalite(options: { tableName?: string } = {}): Promise<Dynalite> {
  // Tables become ACTIVE at once instead of after dynalite's default half second.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Node's server closes an idle keep-alive socket after 5 s; a client that picks that socket at
  // the same moment gets ECONNRESET, and the test clients do not retry (maxAttempts 1). Idle
  // sockets stay open for the test file's life instead; close() ends them.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const clientConfig: DynamoDBClientConfig = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
    maxAttempts: 1,
  };
  const client = new DynamoDBClient(clientConfig);

  const createTable = (name = `ledger-${randomBytes(6).toString('hex')}`): Promise<string> =>
    createLedgerTable(client, name);

  const tableName = await createTable(options.tableName);

  return {
    clientConfig,
    client,
    tableName,
    createTable,
    close() {
      client.destroy();
      // The SDK keeps connections alive; without this, close() waits for them to time out.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
