import { randomBytes, randomUUID } from 'node:crypto';
import type { EventQueue } from '../../core/notify/event-queue.js';
import { RETRY_POLICY } from '../../core/notify/retry-policy.js';
import type { Clock } from '../../core/ports.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** A received message: invisible to other receivers until its visibility ends. */
export interface QueueMessage {
  messageId: string;
  /** Acknowledges or delays this delivery; a later receive of the message makes it stale. */
  receiptHandle: string;
  body: string;
  /** 1 on the first delivery, one more on each (SQS ApproximateReceiveCount). */
  receiveCount: number;
  sentAt: Date;
}

/** A message that was received `maxReceiveCount` times without being deleted. */
export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: Date;
  deadLetteredAt: Date;
  reason: string;
}

export interface QueueDepth {
  /** Receivable now. */
  visible: number;
  /** Received and neither deleted nor visible again yet (being processed, or waiting for a retry). */
  inFlight: number;
  deadLetters: number;
}

export interface SqliteEventQueueOptions {
  database: SqliteDatabase;
  clock?: Clock;
  /** Receives a message may have; the next one moves it to the dead letters (SQS redrive policy). */
  maxReceiveCount?: number;
}

/** SQS's limits, so that what works here works in AWS. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/**
 * The embedded runtime's durable event queue, with SQS's semantics on the embedded database.
 * `send` returns once its messages are committed (`synchronous=FULL`: on disk, power loss
 * included). A received message is invisible until its visibility timeout ends; if it is not
 * deleted by then (the process crashed, the handler hung), it is received again with a higher
 * receive count and a new receipt handle, so a worker that comes back late cannot delete or
 * delay a delivery that is no longer its own. A message that would be received more than
 * `maxReceiveCount` times moves to the dead letters instead, until it is redriven.
 *
 * Each operation is one transaction; receives take the write lock before they read, so
 * receivers in other processes on the same database never get the same message within its
 * visibility.
 */
export class SqliteEventQueue implements EventQueue {
  readonly maxReceiveCount: number;
  private readonly clock: Clock;
  private readonly statements;
  private readonly sendAll;
  private readonly receiveSome;
  private readonly redriveSome;
  private readonly deadLetterOne;

  constructor(options: SqliteEventQueueOptions) {
    const { connection } = options.database;
    this.clock = options.clock ?? (() => new Date());
    this.maxReceiveCount = options.maxReceiveCount ?? RETRY_POLICY.maxReceives;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1) {
      throw new RangeError(`maxReceiveCount must be a whole number >= 1, got ${this.maxReceiveCount}`);
    }
    const s = {
      insert: connection.prepare<[string, string, number, number]>(
        'INSERT INTO queue_message (message_id, body, sent_at, visible_at) VALUES (?, ?, ?, ?)',
      ),
      visible: connection.prepare<[number, number], MessageRow>(
        `SELECT seq, message_id, body, sent_at, receive_count FROM queue_message
         WHERE visible_at <= ? ORDER BY visible_at, seq LIMIT ?`,
      ),
      markReceived: connection.prepare<[string, number, number, number]>(
        `UPDATE queue_message
         SET receipt_handle = ?, visible_at = ?, receive_count = receive_count + 1, retry_scheduled = 0,
             first_received_at = coalesce(first_received_at, ?)
         WHERE seq = ?`,
      ),
      deleteByHandle: connection.prepare<[string]>('DELETE FROM queue_message WHERE receipt_handle = ?'),
      deleteBySeq: connection.prepare<[number]>('DELETE FROM queue_message WHERE seq = ?'),
      setVisibleAt: connection.prepare<[number, number, string]>(
        'UPDATE queue_message SET visible_at = ?, retry_scheduled = ? WHERE receipt_handle = ?',
      ),
      recoverAbandoned: connection.prepare<[number, number]>(
        `UPDATE queue_message SET visible_at = ?
         WHERE receipt_handle IS NOT NULL AND retry_scheduled = 0 AND visible_at > ?`,
      ),
      insertDead: connection.prepare<[string, string, number, number, number, string]>(
        `INSERT INTO queue_dead_letter (message_id, body, sent_at, receive_count, dead_lettered_at, reason)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      listDead: connection.prepare<[number], DeadRow>(
        `SELECT seq, message_id, body, sent_at, receive_count, dead_lettered_at, reason
         FROM queue_dead_letter ORDER BY seq LIMIT ?`,
      ),
      deadById: connection.prepare<[string], DeadRow>(
        `SELECT seq, message_id, body, sent_at, receive_count, dead_lettered_at, reason
         FROM queue_dead_letter WHERE message_id = ?`,
      ),
      deleteDead: connection.prepare<[number]>('DELETE FROM queue_dead_letter WHERE seq = ?'),
      byHandle: connection.prepare<[string], MessageRow>(
        'SELECT seq, message_id, body, sent_at, receive_count FROM queue_message WHERE receipt_handle = ?',
      ),
      depth: connection.prepare<[number, number], { visible: number; inFlight: number; deadLetters: number }>(
        `SELECT (SELECT count(*) FROM queue_message WHERE visible_at <= ?) AS visible,
                (SELECT count(*) FROM queue_message WHERE visible_at > ?) AS inFlight,
                (SELECT count(*) FROM queue_dead_letter) AS deadLetters`,
      ),
    };
    this.statements = s;

    this.sendAll = connection.transaction((bodies: readonly string[], now: number) =>
      bodies.map((body) => {
        const messageId = randomUUID();
        s.insert.run(messageId, body, now, now);
        return messageId;
      }),
    );

    this.receiveSome = connection.transaction((max: number, visibleAt: number, now: number) => {
      const received: QueueMessage[] = [];
      // Dead-lettered candidates leave room in the batch: look again until it is full or none is left.
      for (;;) {
        const rows = s.visible.all(now, max - received.length);
        for (const row of rows) {
          if (row.receive_count >= this.maxReceiveCount) {
            s.insertDead.run(
              row.message_id,
              row.body,
              row.sent_at,
              row.receive_count,
              now,
              `received ${row.receive_count} times without being deleted (maxReceiveCount ${this.maxReceiveCount})`,
            );
            s.deleteBySeq.run(row.seq);
            continue;
          }
          const receiptHandle = randomBytes(18).toString('base64url');
          s.markReceived.run(receiptHandle, visibleAt, now, row.seq);
          received.push({
            messageId: row.message_id,
            receiptHandle,
            body: row.body,
            receiveCount: row.receive_count + 1,
            sentAt: new Date(row.sent_at),
          });
        }
        if (rows.length === 0 || received.length >= max) return received;
      }
    });

    this.deadLetterOne = connection.transaction((receiptHandle: string, reason: string, now: number) => {
      const row = s.byHandle.get(receiptHandle);
      if (!row) return false;
      s.insertDead.run(row.message_id, row.body, row.sent_at, row.receive_count, now, reason);
      s.deleteBySeq.run(row.seq);
      return true;
    });

    this.redriveSome = connection.transaction((messageIds: readonly string[] | undefined, now: number) => {
      const rows = messageIds
        ? messageIds.flatMap((id) => s.deadById.all(id))
        : s.listDead.all(Number.MAX_SAFE_INTEGER);
      for (const row of rows) {
        // A fresh start: SQS gives a redriven message a receive count of 0 too.
        s.insert.run(row.message_id, row.body, row.sent_at, now);
        s.deleteDead.run(row.seq);
      }
      return rows.map((row) => row.message_id);
    });
  }

  /** Adds the messages in one transaction; when it returns they are on disk. Returns their ids, in order. */
  async send(bodies: readonly string[]): Promise<string[]> {
    bodies.forEach((body, index) => {
      if (typeof body !== 'string' || body.length === 0) {
        throw new TypeError(`Message ${index}: the body must be a non-empty string`);
      }
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_MESSAGE_BYTES) {
        throw new RangeError(`Message ${index}: the body is ${bytes} bytes, over ${MAX_MESSAGE_BYTES}`);
      }
    });
    if (bodies.length === 0) return [];
    return this.sendAll.immediate(bodies, this.now());
  }

  /**
   * Up to `max` visible messages, oldest first, each now invisible for `visibilityTimeoutSeconds`
   * with a new receipt handle. Messages received `maxReceiveCount` times already go to the dead
   * letters instead.
   */
  async receive(max: number, visibilityTimeoutSeconds: number): Promise<QueueMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`max must be a whole number >= 1, got ${max}`);
    }
    const now = this.now();
    return this.receiveSome.immediate(max, now + checkedSeconds(visibilityTimeoutSeconds), now);
  }

  /** Acknowledges a delivery: the message is gone. A stale handle (received again since) does nothing: false. */
  async delete(receiptHandle: string): Promise<boolean> {
    return this.statements.deleteByHandle.run(receiptHandle).changes > 0;
  }

  /**
   * The next attempt of a temporarily failed event, `delaySeconds` from now: `changeVisibility`,
   * marked as a scheduled retry so that a restart after a crash leaves it be.
   */
  async retryLater(receiptHandle: string, delaySeconds: number): Promise<void> {
    this.setVisibility(receiptHandle, delaySeconds, true);
  }

  /**
   * The message becomes visible `seconds` from now instead of when its visibility ends (SQS
   * ChangeMessageVisibility). A stale handle does nothing: false.
   */
  async changeVisibility(receiptHandle: string, seconds: number): Promise<boolean> {
    return this.setVisibility(receiptHandle, seconds, false);
  }

  private setVisibility(receiptHandle: string, seconds: number, retry: boolean): boolean {
    const visibleAt = this.now() + checkedSeconds(seconds);
    return this.statements.setVisibleAt.run(visibleAt, retry ? 1 : 0, receiptHandle).changes > 0;
  }

  /**
   * After a crash: the messages that were being processed (received, neither deleted nor
   * scheduled for a retry) become visible now instead of when their visibility ends. Only for
   * the one process that holds the data directory (`DataDirectoryLock`): a live receiver's
   * messages would be delivered twice at once. Returns how many.
   */
  async recoverAbandoned(): Promise<number> {
    const now = this.now();
    return this.statements.recoverAbandoned.run(now, now).changes;
  }

  /**
   * Moves a received message to the dead letters now (notify gave up on it), with the reason. A
   * stale handle does nothing (the message was received again since).
   */
  async deadLetter(message: { receiptHandle: string }, reason: string): Promise<void> {
    this.deadLetterOne.immediate(message.receiptHandle, reason, this.now());
  }

  /** The dead letters, in the order they died. */
  async listDeadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.statements.listDead.all(options.limit ?? Number.MAX_SAFE_INTEGER).map((row) => ({
      messageId: row.message_id,
      body: row.body,
      receiveCount: row.receive_count,
      sentAt: new Date(row.sent_at),
      deadLetteredAt: new Date(row.dead_lettered_at),
      reason: row.reason,
    }));
  }

  /**
   * Moves dead letters back onto the queue, visible at once with a receive count of 0: all of
   * them, or those with the given message ids (unknown ids are skipped). Returns the ids moved.
   */
  async redrive(messageIds?: readonly string[]): Promise<string[]> {
    return this.redriveSome.immediate(messageIds, this.now());
  }

  async depth(): Promise<QueueDepth> {
    const now = this.now();
    return this.statements.depth.get(now, now) ?? { visible: 0, inFlight: 0, deadLetters: 0 };
  }

  private now(): number {
    return this.clock().getTime();
  }
}

interface MessageRow {
  seq: number;
  message_id: string;
  body: string;
  sent_at: number;
  receive_count: number;
}

interface DeadRow extends MessageRow {
  dead_lettered_at: number;
  reason: string;
}

/** Milliseconds, for delays and visibility timeouts in seconds (SQS: 0 to 12 hours). */
function checkedSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
    throw new RangeError(`Seconds must be between 0 and ${MAX_VISIBILITY_SECONDS}, got ${seconds}`);
  }
  return Math.round(seconds * 1000);
}
