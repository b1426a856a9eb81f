// A separate process on a SqliteLedger, for the tests of several processes sharing one database:
// run with `node --import tsx test/support/sqlite-ledger-worker.ts <mode> <dataDir> <clockStartMs>`.
// It reports JSON lines on stdout (see worker-process.ts). The clock stands still at
// <clockStartMs>, so every decision falls in one fold window and one claim lease.
//
//   compete  waits for "go <k> <of>" on stdin, then for each of LEDGER_EVENTS event ids (from its part on) claims it and
//            decides the fold slot of one key for it, and reports what it won.
import { createInterface } from 'node:readline';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import { reportLine, runAsMain } from './worker-main.js';

export const LEDGER_EVENTS = 200;
export const LEDGER_FOLD_KEY = 'c1#primary-check-failed#backup-01.example.com';
const TIME_LIMIT_MS = 20_000;

export type LedgerWorkerLine = { ready: true } | { claimed: string[]; sent: string[] } | { done: true };

const report = (line: LedgerWorkerLine): Promise<void> => reportLine(line);

async function main(): Promise<void> {
  const [mode, dataDir, clockStart] = process.argv.slice(2);
  if (mode !== 'compete' || !dataDir || !clockStart)
    throw new Error('usage: compete <dataDir> <clockStartMs>');
  setTimeout(() => process.exit(3), TIME_LIMIT_MS).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => process.exit(0));
  const now = new Date(Number(clockStart));
  const database = await SqliteDatabase.open({ directory: dataDir });
  const ledger = new SqliteLedger({ database, clock: () => now });
  await report({ ready: true });
  // "go <k> <of>": this worker starts at the k-th of <of> equal parts of the event ids and wraps
  // around, so every worker leads somewhere (in one shared order the first to start would stay
  // ahead of the others and win every claim).
  const go = await new Promise<string>((resolve) => lines.once('line', resolve));
  const [, k = '0', of = '1'] = go.trim().split(/\s+/);
  const offset = Math.floor((Number(k) * LEDGER_EVENTS) / Math.max(1, Number(of)));
  const claimed: string[] = [];
  const sent: string[] = [];
  for (let i = 0; i < LEDGER_EVENTS; i++) {
    const n = (offset + i) % LEDGER_EVENTS;
    const eventId = `evt-${n}`;
    const claim = await ledger.claimEvent(eventId, now, 5 * 60_000);
    if (claim.status === 'claimed') claimed.push(eventId);
    const decision = await ledger.decideFold(
      LEDGER_FOLD_KEY,
      `${eventId}@${process.pid}`,
      now,
      3_600_000,
      300_000,
    );
    if (decision.send) sent.push(`${eventId}@${process.pid}`);
    // A worker is busy with its send between events; without the pause the first process to
    // get "go" could run through every event before the others start.
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await report({ claimed, sent });
  database.close();
  await report({ done: true });
  process.exit(0);
}

runAsMain(import.meta.url, main);
