// Crash safety of the embedded queue: a child process sends 1,000 messages in batches of 10
// and receives and deletes some, and is killed with SIGKILL at a random point. Reopened, the
// database must hold every batch whose send had returned, whole, undamaged, and every message
// that was not acknowledged must come back once its visibility ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import { SqliteEventQueue } from '../../functions/adapters/local/sqlite-event-queue.js';
import { CRASH_BATCH_SIZE, CRASH_BATCHES, sha256 } from '../support/sqlite-queue-worker.js';
import { startWorker } from '../support/worker-process.js';

const START = Date.parse('2026-11-28T18:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const ROUNDS = 3;

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sqlite-crash-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface Body {
  batch: number;
  index: number;
  payload: string;
  sha256: string;
}

it.each(Array.from({ length: ROUNDS }, (_, round) => round + 1))(
  'keeps every committed batch through a SIGKILL at a random point (round %i)',
  async () => {
    // Prepare: kill after a random number of committed batches, a random moment later.
    const killAfterBatch = 5 + Math.floor(Math.random() * (CRASH_BATCHES - 15));
    const killDelayMs = Math.floor(Math.random() * 4);
    const worker = startWorker('crash', dataDir, START);
    worker.onLine((line) => {
      if ('sent' in line && line.sent === killAfterBatch) {
        setTimeout(() => worker.child.kill('SIGKILL'), killDelayMs);
      }
    });

    // Act
    const exit = await worker.exited;
    const database = await SqliteDatabase.open({ directory: dataDir });
    try {
      const integrity = database.connection.pragma('integrity_check', { simple: true });
      const rows = database.connection
        .prepare('SELECT message_id, body, receive_count FROM queue_message ORDER BY seq')
        .all() as Array<{ message_id: string; body: string; receive_count: number }>;
      const queue = new SqliteEventQueue({ database, clock: () => new Date(START + DAY) });
      const redelivered: string[] = [];
      for (let batch = await queue.receive(10, 30); batch.length > 0; batch = await queue.receive(10, 30)) {
        redelivered.push(...batch.map((message) => message.messageId));
      }

      // Assess
      const context = `killed after batch ${killAfterBatch} + ${killDelayMs} ms; stderr: ${worker.stderr()}`;
      expect({ context, signal: exit.signal }).toEqual({ context, signal: 'SIGKILL' });
      expect(integrity).toBe('ok');

      const sent = new Map<string, { batch: number; index: number }>();
      const deleting = new Set<string>();
      const deleted = new Set<string>();
      let lastBatch = -1;
      for (const line of worker.lines) {
        if ('sent' in line) {
          line.ids.forEach((id, index) => {
            sent.set(id, { batch: line.sent, index });
          });
          lastBatch = line.sent;
        }
        if ('deleting' in line) deleting.add(line.deleting);
        if ('deleted' in line && line.ok) deleted.add(line.deleted);
      }
      expect(lastBatch).toBeGreaterThanOrEqual(killAfterBatch);

      const present = new Map(rows.map((row) => [row.message_id, row]));
      // Every message of a batch whose send returned is there, unless its deletion had begun.
      const missing = [...sent.keys()].filter((id) => !present.has(id) && !deleting.has(id));
      expect({ context, missing }).toEqual({ context, missing: [] });
      // An acknowledged message stays gone.
      expect([...deleted].filter((id) => present.has(id))).toEqual([]);
      // Nothing damaged: every body is whole and in its place.
      for (const row of rows) {
        const body = JSON.parse(row.body) as Body;
        expect(sha256(body.payload)).toBe(body.sha256);
        const known = sent.get(row.message_id);
        if (known) expect({ batch: body.batch, index: body.index }).toEqual(known);
      }
      // A batch committed just before the kill, whose ids were never printed, is there whole or not at all.
      const unreported = rows.filter((row) => !sent.has(row.message_id));
      expect([0, CRASH_BATCH_SIZE]).toContain(unreported.length);
      for (const row of unreported) expect((JSON.parse(row.body) as Body).batch).toBe(lastBatch + 1);
      // Every message still on the queue (received by the child or not) comes back after its visibility.
      expect(redelivered.sort()).toEqual([...present.keys()].sort());
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: rows.length, deadLetters: 0 });
    } finally {
      database.close();
    }
  },
  30_000,
);
