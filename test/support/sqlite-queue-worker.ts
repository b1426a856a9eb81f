// A separate process on a SqliteEventQueue, for the tests that need one: run with
// `node --import tsx test/support/sqlite-queue-worker.ts <mode> <dataDir> <clockStartMs>`.
// It reports what it did as JSON lines on stdout, each written only after the operation it
// reports has returned. The clock starts at <clockStartMs> and runs with the real one, so the
// tests never depend on today's date. It stops by itself: when its work is done, when stdin
// closes (the test went away) or after a time limit.
//
//   crash    sends 100 batches of 10 messages; after every other batch receives up to 4 (60 s
//            visibility) and deletes 2 of them. The test kills it at a random point.
//   receive  waits for "go" on stdin, then receives (5 at a time, 300 s visibility, 2 ms apart) until the
//            queue is empty, reporting every message it got.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteEventQueue } from '../../functions/adapters/local/sqlite-event-queue.js';
import { reportLine, runAsMain } from './worker-main.js';

export const CRASH_BATCHES = 100;
export const CRASH_BATCH_SIZE = 10;
const TIME_LIMIT_MS = 20_000;

export type WorkerLine =
  | { ready: true }
  | { sent: number; ids: string[] }
  | { received: Array<{ messageId: string; receiveCount: number }> }
  | { deleting: string }
  | { deleted: string; ok: boolean }
  | { done: true };

/** The body of message `index` of batch `batch`: carries its own checksum, so damage shows. */
export function crashBody(batch: number, index: number): string {
  const payload = `${batch}:${index}:${'x'.repeat(200 + ((batch * 7 + index) % 50))}`;
  return JSON.stringify({ batch, index, payload, sha256: sha256(payload) });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const report = (line: WorkerLine): Promise<void> => reportLine(line);

async function main(): Promise<void> {
  const [mode, dataDir, clockStart] = process.argv.slice(2);
  if (!mode || !dataDir || !clockStart) throw new Error('usage: <crash|receive> <dataDir> <clockStartMs>');
  setTimeout(() => process.exit(3), TIME_LIMIT_MS).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => process.exit(0));
  const startedAt = performance.now();
  const start = Number(clockStart);
  const database = await SqliteDatabase.open({ directory: dataDir });
  const queue = new SqliteEventQueue({
    database,
    clock: () => new Date(start + Math.round(performance.now() - startedAt)),
  });

  if (mode === 'crash') {
    for (let batch = 0; batch < CRASH_BATCHES; batch++) {
      const ids = await queue.send(Array.from({ length: CRASH_BATCH_SIZE }, (_, i) => crashBody(batch, i)));
      await report({ sent: batch, ids });
      if (batch % 2 === 1) {
        const messages = await queue.receive(4, 60);
        await report({
          received: messages.map(({ messageId, receiveCount }) => ({ messageId, receiveCount })),
        });
        for (const message of messages.slice(0, 2)) {
          await report({ deleting: message.messageId });
          const ok = await queue.delete(message.receiptHandle);
          await report({ deleted: message.messageId, ok });
        }
      }
    }
  } else if (mode === 'receive') {
    await report({ ready: true });
    await new Promise<void>((resolve) => lines.once('line', () => resolve()));
    for (;;) {
      const messages = await queue.receive(5, 300);
      if (messages.length === 0) break;
      await report({
        received: messages.map(({ messageId, receiveCount }) => ({ messageId, receiveCount })),
      });
      // A consumer works on what it received (a send takes milliseconds or more) before it asks
      // again; without the pause the first process to start could drain the queue alone.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  database.close();
  await report({ done: true });
  process.exit(0);
}

runAsMain(import.meta.url, main);
