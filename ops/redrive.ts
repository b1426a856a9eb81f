import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: SQSClient;
  lambda: LambdaClient;
  queueUrl: string;
  functionName: string;
  /** Stop after this many messages. */
  max?: number;
  /** Only show what would be replayed. */
  dryRun?: boolean;
  print?: (line: string) => void;
}

export interface RedriveSummary {
  received: number;
  replayed: number;
  failed: number;
  skipped: number;
}

/**
 * The event inside a dead-letter message. An EventBridge target DLQ holds the event itself;
 * a Lambda on-failure destination wraps it as `requestPayload`.
 */
export function eventOfDeadLetter(body: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const event =
    typeof record.requestPayload === 'object' && record.requestPayload !== null
      ? record.requestPayload
      : record;
  const envelope = event as Record<string, unknown>;
  return typeof envelope.id === 'string' && typeof envelope['detail-type'] === 'string'
    ? envelope
    : undefined;
}

/**
 * Replays dead-lettered events into the notify function with their original id (so an event
 * that did get through in the meantime is not emailed twice), and deletes each message only
 * after the function handled it. A message the function still fails on stays in the queue.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveSummary> {
  const print = options.print ?? (() => undefined);
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const summary: RedriveSummary = { received: 0, replayed: 0, failed: 0, skipped: 0 };
  while (summary.received < max) {
    const batch = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max - summary.received),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
      }),
    );
    const messages = batch.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      summary.received++;
      const event = eventOfDeadLetter(message.Body ?? '');
      if (!event) {
        summary.skipped++;
        print(`skip ${message.MessageId}: not an EventBridge event`);
        continue;
      }
      if (options.dryRun) {
        print(`would replay ${String(event.id)} (${String(event['detail-type'])})`);
        continue;
      }
      const result = await options.lambda.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
      );
      const answer = result.Payload ? Buffer.from(result.Payload).toString('utf8') : '';
      if (result.FunctionError) {
        summary.failed++;
        print(`still failing ${String(event.id)}: ${answer.slice(0, 300)}`);
        continue;
      }
      await options.sqs.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      summary.replayed++;
      print(`replayed ${String(event.id)}: ${answer.slice(0, 300)}`);
    }
    if (options.dryRun) break;
  }
  return summary;
}
