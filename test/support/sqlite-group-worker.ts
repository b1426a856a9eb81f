// A separate process on a SqliteLedger, for the group-email test of several processes sharing
// one database: run with `node --import tsx test/support/sqlite-group-worker.ts group <dataDir>
// <clockStartMs>`. It reports JSON lines on stdout (see worker-process.ts). The clock stands still
// and the group timing is zero, so every group is due at once: the processes' joins and closes of
// one cluster's groups interleave as tightly as the database lets them.
//
//   group  waits for "go" on stdin, then joins GROUP_EVENTS events of its own to cluster c1,
//          closing (and finishing) the group it joined after every GROUP_CLOSE_EVERY joins, and
//          reports which group each join returned and what each close it won handed out.
import { createInterface } from 'node:readline';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import { reportLine, runAsMain } from './worker-main.js';

export const GROUP_EVENTS = 60;
export const GROUP_CLOSE_EVERY = 7;
export const GROUP_CLUSTER = 'c1';
const TIME_LIMIT_MS = 20_000;

export type GroupWorkerLine =
  | { ready: true }
  | { joined: [eventId: string, groupId: string][]; closed: { groupId: string; members: string[] }[] }
  | { done: true };

const report = (line: GroupWorkerLine): Promise<void> => reportLine(line);

async function main(): Promise<void> {
  const [mode, dataDir, clockStart] = process.argv.slice(2);
  if (mode !== 'group' || !dataDir || !clockStart) throw new Error('usage: group <dataDir> <clockStartMs>');
  setTimeout(() => process.exit(3), TIME_LIMIT_MS).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => process.exit(0));
  const now = new Date(Number(clockStart));
  const database = await SqliteDatabase.open({ directory: dataDir });
  const ledger = new SqliteLedger({ database, clock: () => now });
  await report({ ready: true });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const joined: [string, string][] = [];
  const closed: { groupId: string; members: string[] }[] = [];
  for (let n = 0; n < GROUP_EVENTS; n++) {
    const eventId = `evt-${process.pid}-${n}`;
    const entry = { eventId, receivedAt: now.toISOString(), envelope: { id: eventId } };
    const join = await ledger.joinGroup(GROUP_CLUSTER, entry, now, { waitMs: 0, intervalMs: 0 });
    joined.push([eventId, join.groupId]);
    if (n % GROUP_CLOSE_EVERY === GROUP_CLOSE_EVERY - 1) {
      const close = await ledger.closeGroup(GROUP_CLUSTER, join.groupId, now, 300_000);
      if (close.status === 'closed') {
        closed.push({ groupId: join.groupId, members: close.members.map((m) => m.eventId) });
        await ledger.finishGroup(GROUP_CLUSTER, join.groupId, 'sent', now, `<${join.groupId}@example.com>`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await report({ joined, closed });
  database.close();
  await report({ done: true });
  process.exit(0);
}

runAsMain(import.meta.url, main);
