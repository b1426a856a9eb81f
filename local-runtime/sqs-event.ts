import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

export interface SqsMessage {
  messageId: string;
  receiptHandle: string;
  /** What the queue holds: the EventBridge event as JSON (or any text, for tests of bad input). */
  body: string;
  /** 1 for the first delivery (SQS's ApproximateReceiveCount). */
  receiveCount: number;
  sentAt?: Date;
}

/** One message as an SQS event source mapping hands it to Lambda. */
export function sqsRecord(message: SqsMessage): SQSRecord {
  const sent = String((message.sentAt ?? new Date()).getTime());
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: sent,
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:appliance-notifier-events',
    awsRegion: 'local',
  };
}

/** The event an SQS event source mapping passes to the function: a batch of records. */
export function sqsEvent(...messages: SqsMessage[]): SQSEvent {
  return { Records: messages.map(sqsRecord) };
}

/** A fresh message with `body` (an EventBridge event is serialized as the rule target does). */
export function sqsMessage(body: unknown, patch: Partial<SqsMessage> = {}): SqsMessage {
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    receiveCount: 1,
    ...patch,
  };
}
