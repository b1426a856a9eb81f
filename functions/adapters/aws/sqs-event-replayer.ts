import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventReplayer, ReplayOutcome, ReplayRequest } from '../../core/notify/event-replayer.js';

export interface SqsEventReplayerOptions {
  client: SQSClient;
  /** The queue every rule sends events to, which notify consumes. */
  queueUrl: string;
}

/**
 * Replay in AWS: the kept envelope goes onto the event queue as EventBridge sends it (the whole
 * event as the message body), so notify takes it as any event, with its own id. The admin API
 * does not wait for notify: the answer is `queued`, and the delivery log shows the outcome.
 */
export class SqsEventReplayer implements EventReplayer {
  constructor(private readonly options: SqsEventReplayerOptions) {}

  async replay(event: ReplayRequest): Promise<ReplayOutcome> {
    const { MessageId } = await this.options.client.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: JSON.stringify(event.envelope),
      }),
    );
    return {
      eventId: event.eventId,
      ok: false,
      outcome: 'queued',
      error: `queued for notify${MessageId ? ` (message ${MessageId})` : ''}: its outcome will be in the delivery log`,
    };
  }
}
