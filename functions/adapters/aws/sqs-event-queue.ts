import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventQueue } from '../../core/notify/event-queue.js';

/** SQS accepts visibility timeouts from 0 to 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 3600;

export interface SqsEventQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** The queue's dead-letter queue: notify moves an event there after its last failed attempt. */
  deadLetterQueueUrl: string;
}

/**
 * The event queue in AWS. A failed message is not deleted; changing its visibility timeout
 * decides when SQS hands it to notify again (and counts the receive towards maxReceiveCount).
 */
export class SqsEventQueue implements EventQueue {
  constructor(private readonly options: SqsEventQueueOptions) {}

  async retryLater(receiptHandle: string, delaySeconds: number): Promise<void> {
    if (!Number.isFinite(delaySeconds))
      throw new TypeError(`retryLater: delay must be a number of seconds, got ${delaySeconds}`);
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.round(delaySeconds)));
    await this.options.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  /** Sends the body to the dead-letter queue; the handler then acknowledges the original. */
  async deadLetter(
    message: { receiptHandle: string; messageId: string; body: string },
    reason: string,
  ): Promise<void> {
    await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.deadLetterQueueUrl,
        MessageBody: message.body,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 1024) },
          originalMessageId: { DataType: 'String', StringValue: message.messageId },
        },
      }),
    );
  }
}
