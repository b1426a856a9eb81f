import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  readonly description: string;
  /**
   * What a stack deletion (or a replacement) does with the queue and the events in it: RETAIN
   * (the default context) keeps them for `npm run redrive` into a new stack.
   */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where an event ends when every retry failed: kept 14 days (SQS's maximum) for `npm run
 * redrive`, encrypted, TLS only. SQS-managed encryption rather than the data key: EventBridge and
 * Scheduler write into these queues, and a customer managed key would have to trust both services
 * in its key policy; the messages are events an appliance sent, not configuration secrets.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue (${props.description}); a DLQ of a DLQ would only move the problem. Its alarm fires on the first message.`,
    });
  }
}
