// The embedded runtime's durable queue, on real SQLite in a temp dir, with SQS's semantics:
// visibility, receive counts, receipt handles, retries, dead letters and redrive.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteDatabase } from '../../functions/adapters/local/sqlite-database.js';
import {
  MAX_MESSAGE_BYTES,
  type QueueMessage,
  SqliteEventQueue,
} from '../../functions/adapters/local/sqlite-event-queue.js';
import { RETRY_POLICY } from '../../functions/core/notify/retry-policy.js';
import { startWorker } from '../support/worker-process.js';

const START = Date.parse('2026-11-28T18:00:00.000Z');
const SECOND = 1000;

let dataDir: string;
let now: number;
const opened: SqliteDatabase[] = [];

async function openQueue(options: { maxReceiveCount?: number } = {}): Promise<SqliteEventQueue> {
  const database = await SqliteDatabase.open({ directory: dataDir });
  opened.push(database);
  return new SqliteEventQueue({ database, clock: () => new Date(now), ...options });
}

const idsOf = (messages: QueueMessage[]) => messages.map((message) => message.messageId);

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sqlite-queue-'));
  now = START;
});

afterEach(async () => {
  for (const database of opened.splice(0)) database.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('send, receive, delete', () => {
  it('gives each message once, oldest first, and forgets it when deleted', async () => {
    // Prepare
    const queue = await openQueue();
    const ids = await queue.send(['one', 'two', 'three']);

    // Act
    const first = await queue.receive(2, 30);
    const second = await queue.receive(10, 30);
    const nothing = await queue.receive(10, 30);
    const deleted = await Promise.all([...first, ...second].map((m) => queue.delete(m.receiptHandle)));

    // Assess
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(first.map(({ messageId, body, receiveCount }) => ({ messageId, body, receiveCount }))).toEqual([
      { messageId: ids[0], body: 'one', receiveCount: 1 },
      { messageId: ids[1], body: 'two', receiveCount: 1 },
    ]);
    expect(idsOf(second)).toEqual([ids[2]]);
    expect(second[0]?.sentAt).toEqual(new Date(START));
    expect(nothing).toEqual([]);
    expect(deleted).toEqual([true, true, true]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('counts visible, in-flight and dead messages', async () => {
    // Prepare
    const queue = await openQueue({ maxReceiveCount: 1 });
    await queue.send(['dying']);
    await queue.receive(1, 5);
    now += 5 * SECOND;
    await queue.send(['a', 'b', 'c']);

    // Act
    const first = await queue.receive(1, 30); // 'dying' goes to the dead letters, 'a' is given
    const second = await queue.receive(1, 30);
    const depth = await queue.depth();

    // Assess
    expect([...first, ...second].map((message) => message.body)).toEqual(['a', 'b']);
    expect(depth).toEqual({ visible: 1, inFlight: 2, deadLetters: 1 });
  });

  it('keeps what was sent across a reopen of the database', async () => {
    // Prepare
    const queue = await openQueue();
    const ids = await queue.send(['durable']);
    for (const database of opened.splice(0)) database.close();

    // Act
    const reopened = await openQueue();
    const messages = await reopened.receive(10, 30);

    // Assess
    expect(idsOf(messages)).toEqual(ids);
    expect(messages[0]?.body).toBe('durable');
  });

  it('refuses empty and oversized bodies, storing none of the batch', async () => {
    // Prepare
    const queue = await openQueue();

    // Act
    const empty = queue.send(['fine', '']);
    const huge = queue.send(['fine', 'x'.repeat(MAX_MESSAGE_BYTES + 1)]);
    const none = await queue.send([]);

    // Assess
    await expect(empty).rejects.toThrow('Message 1: the body must be a non-empty string');
    await expect(huge).rejects.toThrow(`Message 1: the body is ${MAX_MESSAGE_BYTES + 1} bytes`);
    expect(none).toEqual([]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('refuses a batch size or a timeout SQS would refuse', async () => {
    // Prepare
    const queue = await openQueue();
    const [message] = await (async () => {
      await queue.send(['x']);
      return queue.receive(1, 30);
    })();

    // Act
    const results = await Promise.allSettled([
      queue.receive(0, 30),
      queue.receive(1.5, 30),
      queue.receive(1, -1),
      queue.receive(1, 12 * 3600 + 1),
      queue.retryLater(message?.receiptHandle ?? '', Number.NaN),
    ]);

    // Assess
    expect(results.map((result) => result.status)).toEqual(Array(5).fill('rejected'));
  });
});

describe('visibility', () => {
  it('gives a message that was not deleted in time again, with a higher count and a new handle', async () => {
    // Prepare
    const queue = await openQueue();
    const [id] = await queue.send(['event']);
    const [first] = await queue.receive(1, 30);

    // Act
    now += 30 * SECOND - 1;
    const stillHidden = await queue.receive(1, 30);
    now += 1;
    const [again] = await queue.receive(1, 30);

    // Assess
    expect(stillHidden).toEqual([]);
    expect(again).toMatchObject({ messageId: id, body: 'event', receiveCount: 2 });
    expect(again?.receiptHandle).not.toBe(first?.receiptHandle);
  });

  it('ignores a stale handle after a redelivery: the newer receiver owns the message', async () => {
    // Prepare
    const queue = await openQueue();
    await queue.send(['event']);
    const [first] = await queue.receive(1, 30);
    now += 30 * SECOND;
    const [second] = await queue.receive(1, 30);

    // Act
    const staleDelete = await queue.delete(first?.receiptHandle ?? '');
    const staleDelay = await queue.changeVisibility(first?.receiptHandle ?? '', 0);
    const stillHidden = await queue.receive(1, 30);
    const currentDelete = await queue.delete(second?.receiptHandle ?? '');

    // Assess
    expect(staleDelete).toBe(false);
    expect(staleDelay).toBe(false);
    expect(stillHidden).toEqual([]);
    expect(currentDelete).toBe(true);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('retryLater makes the message visible after the delay instead of the visibility timeout', async () => {
    // Prepare
    const queue = await openQueue();
    await queue.send(['flaky']);
    const [first] = await queue.receive(1, 300);

    // Act
    await queue.retryLater(first?.receiptHandle ?? '', 45);
    now += 45 * SECOND - 1;
    const early = await queue.receive(1, 300);
    now += 1;
    const [retry] = await queue.receive(1, 300);

    // Assess
    expect(early).toEqual([]);
    expect(retry).toMatchObject({ body: 'flaky', receiveCount: 2 });
  });

  it('retryLater can also push a message past its visibility timeout', async () => {
    // Prepare
    const queue = await openQueue();
    await queue.send(['later']);
    const [first] = await queue.receive(1, 30);

    // Act
    await queue.retryLater(first?.receiptHandle ?? '', 3600);
    now += 3599 * SECOND;
    const early = await queue.receive(1, 30);
    now += SECOND;
    const late = await queue.receive(1, 30);

    // Assess
    expect(early).toEqual([]);
    expect(idsOf(late)).toHaveLength(1);
  });
});

describe('dead letters', () => {
  it('moves a message to the dead letters instead of giving it more than maxReceiveCount times', async () => {
    // Prepare
    const queue = await openQueue({ maxReceiveCount: 3 });
    const [id] = await queue.send(['poison']);
    const counts: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const [message] = await queue.receive(1, 10);
      counts.push(message?.receiveCount ?? 0);
      now += 10 * SECOND;
    }

    // Act
    const fourth = await queue.receive(1, 10);
    const dead = await queue.listDeadLetters();

    // Assess
    expect(counts).toEqual([1, 2, 3]);
    expect(fourth).toEqual([]);
    expect(dead).toEqual([
      {
        messageId: id,
        body: 'poison',
        receiveCount: 3,
        sentAt: new Date(START),
        deadLetteredAt: new Date(now),
        reason: 'received 3 times without being deleted (maxReceiveCount 3)',
      },
    ]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 1 });
  });

  it('fills the batch with live messages when dead ones leave it', async () => {
    // Prepare
    const queue = await openQueue({ maxReceiveCount: 1 });
    await queue.send(['old']);
    await queue.receive(1, 10);
    now += 10 * SECOND;
    const [fresh] = await queue.send(['fresh']);

    // Act
    const received = await queue.receive(1, 10);

    // Assess
    expect(idsOf(received)).toEqual([fresh]);
    expect((await queue.listDeadLetters()).map((dead) => dead.body)).toEqual(['old']);
  });

  it('dead-letters after the retry policy’s receives by default (a backstop above notify’s attempts)', async () => {
    // Prepare
    const queue = await openQueue();

    // Act
    const max = queue.maxReceiveCount;

    // Assess
    // A backstop above notify's own 39 attempts: waits are receives too.
    expect(max).toBe(RETRY_POLICY.maxReceives);
  });

  it('redrives every dead letter, or the ones named, with a fresh receive count', async () => {
    // Prepare
    const queue = await openQueue({ maxReceiveCount: 1 });
    const ids = await queue.send(['a', 'b', 'c']);
    await queue.receive(3, 10);
    now += 10 * SECOND;
    await queue.receive(3, 10);
    expect((await queue.depth()).deadLetters).toBe(3);

    // Act
    const named = await queue.redrive([ids[1] ?? '', 'no-such-message']);
    const afterNamed = await queue.receive(10, 10);
    const rest = await queue.redrive();
    const afterAll = await queue.receive(10, 10);

    // Assess
    expect(named).toEqual([ids[1]]);
    expect(
      afterNamed.map(({ messageId, body, receiveCount }) => ({ messageId, body, receiveCount })),
    ).toEqual([{ messageId: ids[1], body: 'b', receiveCount: 1 }]);
    expect(rest).toEqual([ids[0], ids[2]]);
    expect(idsOf(afterAll)).toEqual([ids[0], ids[2]]);
    expect(await queue.listDeadLetters()).toEqual([]);
  });
});

describe('concurrent receivers', () => {
  it('never give one message to two connections within its visibility', async () => {
    // Prepare: two connections to one database, as two runtimes would have.
    const first = await openQueue();
    const second = await openQueue();
    const ids = await first.send(Array.from({ length: 200 }, (_, n) => `m${n}`));

    // Act
    const batches = await Promise.all(
      Array.from({ length: 60 }, (_, n) => (n % 2 ? first : second).receive(4, 300)),
    );

    // Assess
    const received = batches.flatMap(idsOf);
    expect(received).toHaveLength(200);
    expect(new Set(received)).toEqual(new Set(ids));
  });

  it('never give one message to two processes within its visibility', async () => {
    // Prepare
    const queue = await openQueue();
    const ids: string[] = [];
    for (let batch = 0; batch < 60; batch++) {
      ids.push(...(await queue.send(Array.from({ length: 10 }, (_, n) => `m${batch}.${n}`))));
    }
    const workers = Array.from({ length: 3 }, () => startWorker('receive', dataDir, START));
    try {
      await Promise.all(workers.map((worker) => worker.waitFor((line) => 'ready' in line)));

      // Act
      for (const worker of workers) worker.child.stdin?.write('go\n');
      await Promise.all(workers.map((worker) => worker.waitFor((line) => 'done' in line)));

      // Assess
      const received = workers.flatMap((worker) =>
        worker.lines.flatMap((line) => ('received' in line ? line.received : [])),
      );
      expect(received.map((message) => message.receiveCount)).toEqual(Array(ids.length).fill(1));
      expect(received.map((message) => message.messageId).sort()).toEqual([...ids].sort());
      // They really did compete (SQLite's busy wait is not fair, so not every one need win some).
      const busy = workers.filter((worker) => worker.lines.some((line) => 'received' in line));
      expect(busy.length).toBeGreaterThanOrEqual(2);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
    }
  });
});
