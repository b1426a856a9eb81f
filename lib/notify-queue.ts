import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RETRY_POLICY } from '../functions/core/notify/retry-policy.js';
import { DeadLetterQueue } from './dead-letter-queue.js';

/** How notify consumes the queue (the event source mapping). */
export const NOTIFY_CONSUMER = {
  /** Records per invocation; they are handled in parallel, so a batch takes about one event's time. */
  batchSize: 10,
  /** How long the mapping gathers records before it invokes (events of one incident arrive together). */
  maxBatchingWindow: Duration.seconds(2),
  /**
   * Invocations at once, at most: with batches of 10 that bounds concurrent sends to 50, which
   * keeps a burst from one fleet off the account's Lambda concurrency and the relays.
   */
  maxConcurrency: 5,
  /** AWS recommends a visibility timeout of six times the function timeout for an event source mapping. */
  visibilityTimeoutFactor: 6,
} as const;

export interface NotifyQueueProps {
  /** The notify function's timeout: the queue's visibility timeout is a multiple of it. */
  readonly consumerTimeout: Duration;
  /**
   * How long notify's claim on an event keeps redeliveries out (EVENT_LEASE_SECONDS). The
   * visibility timeout must be longer, so that the redelivery of an invocation that timed out
   * finds the claim expired instead of `in-progress`.
   */
  readonly eventLease: Duration;
  /** Of the dead-letter queue (see DeadLetterQueueProps). */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The durable queue in front of notify: every EventBridge rule sends the whole event here, and
 * notify consumes it through an event source mapping with partial batch responses. A message is
 * deleted only once notify reports its record done (outcome committed); a record that is not done
 * is made visible again after the retry policy's delay (notify changes its visibility), and after
 * RETRY_POLICY.maxAttempts receives (at least 24 hours of retries) SQS moves it to the DLQ.
 *
 * Both queues use SQS-managed encryption, like the other dead-letter queues (see
 * DeadLetterQueue): the messages are the events appliances sent, not configuration secrets, and
 * the customer managed key would have to trust EventBridge (per rule) in its key policy, the
 * mapping's role for every receive, and SQS for the move to the DLQ; a gap in any of those grants
 * loses events silently, and each message would cost KMS requests.
 */
export class NotifyQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: NotifyQueueProps) {
    super(scope, id);
    const visibilityTimeout = Duration.seconds(
      props.consumerTimeout.toSeconds() * NOTIFY_CONSUMER.visibilityTimeoutFactor,
    );
    if (visibilityTimeout.toSeconds() <= props.eventLease.toSeconds()) {
      throw new Error(
        `NotifyQueue: the visibility timeout (${visibilityTimeout.toSeconds()} s) must be longer than the event lease (${props.eventLease.toSeconds()} s)`,
      );
    }

    this.deadLetterQueue = new DeadLetterQueue(this, 'Dlq', {
      description: `events notify gave up on after ${RETRY_POLICY.maxAttempts} failed attempts (or that were received ${RETRY_POLICY.maxReceives} times)`,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout,
      // A backstop: notify itself moves an event to the DLQ after its last failed attempt; waits
      // (a group email, a relay's limit) are receives as well and must not use up its retries.
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: RETRY_POLICY.maxReceives },
    });
  }

  /**
   * Makes `consumer` the queue's consumer: the event source mapping (which grants receive, delete
   * and change visibility), and ChangeMessageVisibility for the function's own retry scheduling.
   * `consumer` is the function's `live` alias: the mapping invokes the published version.
   */
  addConsumer(consumer: lambda.IFunction): SqsEventSource {
    const source = new SqsEventSource(this.queue, {
      batchSize: NOTIFY_CONSUMER.batchSize,
      maxBatchingWindow: NOTIFY_CONSUMER.maxBatchingWindow,
      maxConcurrency: NOTIFY_CONSUMER.maxConcurrency,
      reportBatchItemFailures: true,
    });
    consumer.addEventSource(source);
    // Granted by name rather than left to the mapping's grant, which happens to include it: the
    // function itself calls it (SqsEventQueue) to schedule a record's next attempt.
    this.queue.grant(consumer, 'sqs:ChangeMessageVisibility');
    // And it moves an event that used up its retries to the dead-letter queue itself.
    this.deadLetterQueue.queue.grantSendMessages(consumer);
    return source;
  }
}
