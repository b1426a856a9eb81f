import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { QueueMessage, SqliteEventQueue } from '../functions/adapters/local/sqlite-event-queue.js';
import type { Log } from '../functions/core/ports.js';
import type { NotifyRecordOutcome } from '../functions/notify/app.js';
import { sqsEvent } from './sqs-event.js';

/**
 * The notify function as the event source mapping invokes it: a batch of SQS records in, the
 * records that are not done out (`batchItemFailures`). A rejection fails the whole batch, as a
 * Lambda error does.
 */
export type EventTarget = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface LocalQueueConsumerOptions {
  queue: SqliteEventQueue;
  target: EventTarget;
  log: Log;
  /** Records per invocation (the event source mapping's batch size). */
  batchSize?: number;
  /** Invocations at once (the event source mapping's maximum concurrency). */
  concurrency?: number;
  /**
   * How long a received batch stays invisible (the queue's visibility timeout): longer than the
   * notify lease, so a slow invocation's events are never handed to a second one meanwhile.
   */
  visibilityTimeoutSeconds: number;
  /** How often an idle consumer looks for messages that became visible (retries); sends wake it at once. */
  pollIntervalMs?: number;
  /** How long `stop()` waits for the invocations in progress before it gives up on them. */
  stopTimeoutMs?: number;
}

export const LOCAL_CONSUMER_DEFAULTS = {
  batchSize: 10,
  concurrency: 4,
  pollIntervalMs: 250,
  stopTimeoutMs: 15_000,
} as const;

interface Waiter {
  resolve(outcome: NotifyRecordOutcome | undefined): void;
  timer: NodeJS.Timeout;
}

/**
 * The embedded runtime's event source mapping: receives batches from the durable queue, invokes
 * notify with them as SQS events, and deletes each record notify reports done. A record notify
 * fails stays on the queue: notify has already set when it comes back (`retryLater`). A batch
 * that throws stays invisible until its visibility timeout ends, as in AWS. Nothing is
 * acknowledged before its outcome is committed, so a crash at any point leaves the message on the
 * queue, and the next start makes it visible again (`SqliteEventQueue.recoverAbandoned`).
 */
export class LocalQueueConsumer {
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private running = false;
  private readonly workers: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private readonly waiters = new Map<string, Waiter[]>();
  private busy = 0;

  constructor(private readonly options: LocalQueueConsumerOptions) {
    this.batchSize = options.batchSize ?? LOCAL_CONSUMER_DEFAULTS.batchSize;
    this.concurrency = options.concurrency ?? LOCAL_CONSUMER_DEFAULTS.concurrency;
    this.pollIntervalMs = options.pollIntervalMs ?? LOCAL_CONSUMER_DEFAULTS.pollIntervalMs;
    for (const [name, value] of Object.entries({
      batchSize: this.batchSize,
      concurrency: this.concurrency,
    })) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1`);
    }
  }

  /** Pass to the notify handler (`onRecord`): resolves whoever waits for that message's outcome. */
  readonly onRecord = (messageId: string, outcome: NotifyRecordOutcome): void => {
    const waiting = this.waiters.get(messageId);
    if (!waiting) return;
    this.waiters.delete(messageId);
    for (const waiter of waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve(outcome);
    }
  };

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.work());
  }

  /** Something was sent: idle workers look at once instead of at their next poll. */
  wake(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /**
   * The outcome of the next attempt of the message, or undefined if there was none within
   * `timeoutMs` (it is still on the queue). Register before sending, or right after: the
   * consumer cannot have finished an attempt before the caller's next turn.
   */
  outcomeOf(messageId: string, timeoutMs: number): Promise<NotifyRecordOutcome | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const waiting = this.waiters.get(messageId)?.filter((w) => w !== waiter) ?? [];
          if (waiting.length > 0) this.waiters.set(messageId, waiting);
          else this.waiters.delete(messageId);
          resolve(undefined);
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.set(messageId, [...(this.waiters.get(messageId) ?? []), waiter]);
    });
  }

  /** Resolves once no invocation runs and no message is visible (tests; a graceful drain). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.busy === 0 && (await this.options.queue.depth()).visible === 0) return;
      if (Date.now() > deadline) throw new Error(`The event queue did not drain within ${timeoutMs} ms`);
      await new Promise((done) => setTimeout(done, 10));
    }
  }

  /** Stops receiving, and waits (up to `stopTimeoutMs`) for the invocations in progress. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    const timeoutMs = this.options.stopTimeoutMs ?? LOCAL_CONSUMER_DEFAULTS.stopTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), timeoutMs);
    });
    const result = await Promise.race([Promise.all(this.workers.splice(0)), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.options.log.warn(
        'Stopped with events still in progress; they are delivered again on the next start',
        {
          waitedMs: timeoutMs,
        },
      );
    }
    for (const [messageId, waiting] of this.waiters) {
      for (const waiter of waiting) {
        clearTimeout(waiter.timer);
        waiter.resolve(undefined);
      }
      this.waiters.delete(messageId);
    }
  }

  private async work(): Promise<void> {
    while (this.running) {
      let messages: QueueMessage[];
      try {
        messages = await this.options.queue.receive(this.batchSize, this.options.visibilityTimeoutSeconds);
      } catch (error) {
        // The database is busy or gone: nothing was received; look again later.
        this.options.log.error('Could not receive from the event queue', error as Error);
        await this.sleep();
        continue;
      }
      if (messages.length === 0) {
        await this.sleep();
        continue;
      }
      this.busy++;
      try {
        await this.invoke(messages);
      } finally {
        this.busy--;
      }
    }
  }

  private async invoke(messages: QueueMessage[]): Promise<void> {
    let response: SQSBatchResponse;
    try {
      response = await this.options.target(sqsEvent(...messages));
    } catch (error) {
      this.options.log.error(
        'The notify invocation failed; its batch comes back after the visibility timeout',
        {
          error: error as Error,
          records: messages.length,
        },
      );
      return;
    }
    const notDone = new Set(response.batchItemFailures.map((item) => item.itemIdentifier));
    for (const message of messages) {
      if (notDone.has(message.messageId)) continue;
      try {
        await this.options.queue.delete(message.receiptHandle);
      } catch (error) {
        // Delivered again later: the ledger answers the redelivery as a duplicate.
        this.options.log.error('Could not delete a finished event from the queue', {
          messageId: message.messageId,
          error: error as Error,
        });
      }
    }
  }

  private sleep(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((done) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        done();
      };
      const timer = setTimeout(wake, this.pollIntervalMs);
      this.sleepers.add(wake);
    });
  }
}
