import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveOptions {
  sqs: SQSClient;
  /** The dead-letter queue to drain: NotifyQueueDlqUrl or EventTargetDlqUrl. */
  queueUrl: string;
  /** Where the events go again: the notify queue (NotifyQueueUrl). */
  targetQueueUrl: string;
  /** Stop after this many messages. */
  max?: number;
  /** Only show what would be sent back. */
  dryRun?: boolean;
  print?: (line: string) => void;
}

export interface RedriveSummary {
  received: number;
  /** Sent back to the notify queue (and deleted from the dead-letter queue). */
  requeued: number;
  /** Could not be sent back; they stay in the dead-letter queue. */
  failed: number;
  /** Not an EventBridge event; left in the dead-letter queue. */
  skipped: number;
}

/**
 * The event inside a dead-letter message. The notify queue's DLQ and the EventBridge target DLQ
 * hold the event itself; a Lambda on-failure destination (before notify consumed a queue)
 * wrapped it as `requestPayload`.
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
 * Sends dead-lettered events back to the notify queue with their original id (so an event that
 * did get through in the meantime is a duplicate, not a second email), and deletes each message
 * from the dead-letter queue only once it is back on the notify queue. A sent-back event starts
 * its retries afresh (a new message, receive count 1).
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveSummary> {
  const print = options.print ?? (() => undefined);
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const summary: RedriveSummary = { received: 0, requeued: 0, failed: 0, skipped: 0 };
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
        print(`would send back ${String(event.id)} (${String(event['detail-type'])})`);
        continue;
      }
      try {
        await options.sqs.send(
          new SendMessageCommand({ QueueUrl: options.targetQueueUrl, MessageBody: JSON.stringify(event) }),
        );
      } catch (error) {
        summary.failed++;
        print(`could not send back ${String(event.id)}: ${(error as Error).message}`);
        continue;
      }
      await options.sqs.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      summary.requeued++;
      print(`sent back ${String(event.id)} (${String(event['detail-type'])})`);
    }
    if (options.dryRun) break;
  }
  return summary;
}

/** One event of the embedded runtime's `POST /deliveries/replay-failed` answer. */
export interface ReplayItem {
  eventId: string;
  ok: boolean;
  /** What the replay got: a notify outcome (sent, failed, duplicate, ...), or `queued`. */
  outcome?: string;
  error?: string;
  result?: { outcome?: string; reason?: string; clusterId?: string };
}

export interface ReplaySummary {
  /** One line per event: `<id>: <outcome>[: <reason>]`. */
  lines: string[];
  delivered: number;
  failed: number;
  queued: number;
  /** `2 replayed: 0 delivered, 2 failed again, 0 still queued`. */
  total: string;
}

/**
 * Counts the replays from each one's own outcome: delivered (sent, or handled without an email
 * of its own: a duplicate of one that got through, folded, inhibited), failed again (failed,
 * rejected), or still queued (its group email, a relay's limit, no answer yet).
 */
export function summarizeReplays(items: readonly ReplayItem[]): ReplaySummary {
  const summary: ReplaySummary = { lines: [], delivered: 0, failed: 0, queued: 0, total: '' };
  for (const item of items) {
    const outcome = item.outcome ?? item.result?.outcome ?? (item.ok ? 'sent' : 'failed');
    const kind =
      outcome === 'failed' || outcome === 'rejected'
        ? 'failed'
        : outcome === 'queued' || outcome === 'grouped'
          ? 'queued'
          : 'delivered';
    summary[kind]++;
    const reason = item.error ?? item.result?.reason;
    const label = kind === 'failed' ? `${outcome} again` : outcome;
    summary.lines.push(`${item.eventId}: ${label}${reason ? `: ${reason}` : ''}`);
  }
  summary.total = `${items.length} replayed: ${summary.delivered} delivered, ${summary.failed} failed again, ${summary.queued} still queued`;
  return summary;
}
