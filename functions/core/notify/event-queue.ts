// The durable queue in front of notify: SQS in AWS, the embedded database on one machine. A
// message stays on the queue until its outcome is committed; the notify handler acknowledges it
// by success, and asks for a later attempt (with the retry policy's delay) on a temporary failure.

export interface EventQueue {
  /**
   * Makes a received message visible again after `delaySeconds` instead of its visibility
   * timeout: the next attempt of a temporarily failed event (SQS ChangeMessageVisibility).
   */
  retryLater(receiptHandle: string, delaySeconds: number): Promise<void>;
  /**
   * Moves a received message to the dead-letter queue now (its last attempt failed), from where a
   * redrive sends it back; the handler then acknowledges it. The queue's own maxReceiveCount is
   * only a backstop: waits (a group email, a relay's limit) are receives too, and must not use up
   * an event's retries.
   */
  deadLetter(
    message: { receiptHandle: string; messageId: string; body: string },
    reason: string,
  ): Promise<void>;
}
