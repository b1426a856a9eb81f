// dynalite in a child process of its own, for benches: the emulator's work (request parsing,
// its in-memory LevelDB, JSON) stays off the measured process's event loop and CPU time, as
// DynamoDB's does for a Lambda. test/support/dynalite.ts runs it in-process, which suits tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLedgerTable } from '../test/support/ledger-table.js';

// CommonJS, run by plain node: dynalite is CommonJS without types, and no TypeScript loader is
// needed in the child. It reports its port, then answers 'stats' with its request counts and CPU.
const CHILD = `
const dynalite = require('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
let requests = 0;
const byOperation = {};
server.on('request', (request) => {
  requests++;
  const operation = String(request.headers['x-amz-target'] || '').split('.')[1] || '(none)';
  byOperation[operation] = (byOperation[operation] || 0) + 1;
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'stats') {
    const cpu = process.cpuUsage();
    process.send({ requests, byOperation, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
});
process.on('disconnect', () => process.exit(0));
`;

export interface DynaliteStats {
  requests: number;
  cpuMs: number;
}

export interface DynaliteCounts extends DynaliteStats {
  /** Requests by DynamoDB operation (`PutItem`, `Query`, ...). */
  byOperation: Record<string, number>;
}

export interface DynaliteProcess {
  endpoint: string;
  tableName: string;
  /** Requests served and CPU milliseconds used by the child since it started. */
  stats(): Promise<DynaliteCounts>;
  close(): Promise<void>;
}

export async function startDynaliteProcess(tableName = 'bench-ledger'): Promise<DynaliteProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD], {
    cwd: process.cwd(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.once('message', (message) => resolve((message as { port: number }).port));
  });
  child.removeAllListeners('exit');
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCALBENCH', secretAccessKey: 'local-bench-secret' },
  });
  await createLedgerTable(client, tableName);
  client.destroy();
  return {
    endpoint,
    tableName,
    stats: () =>
      new Promise<DynaliteCounts>((resolve) => {
        child.once('message', (message) => resolve(message as DynaliteCounts));
        child.send('stats');
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
