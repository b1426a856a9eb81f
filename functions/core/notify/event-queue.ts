// The durable queue in front of notify: SQS in AWS, the embedded database on one machine. A
// message stays on the queue until its outcome is committed; the notify handler acknowledges it
// by success, and asks for a later attempt (with the retry policy's delay) on a temporary failure.

export interface EventQueue {
  /**
   * Makes a received message visible again after `delaySeconds` instead of its visibility
   * timeout: the next attempt of a temporarily failed event (SQS ChangeMessageVisibility).
   */
  retryLater(receiptHandle: string, delaySeconds: number): Promise<void>;
}
