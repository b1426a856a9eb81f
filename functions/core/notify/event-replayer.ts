// The replay port: hands a failed event's kept envelope back to notify, with its own id, once
// its cause is fixed. Adapters: SQS SendMessage to the event queue (AWS: answers once queued) and
// the embedded runtime's bus (waits for notify's first attempt).
import type { NotifyOutcome, NotifyResult } from './notify-service.js';

/** A failed event to replay: its record's ids and the envelope the record kept. */
export interface ReplayRequest {
  clusterId: string;
  eventId: string;
  envelope: unknown;
}

/**
 * What a replay came to: `queued` (on the queue, and notify has not finished an attempt, or it
 * waits for its group email or a relay's limit), `failed` (the attempt failed again: for good,
 * or for now and retried), or notify's outcome (sent, duplicate, folded, inhibited, rejected).
 * `ok` only when the event went through: not `failed`, `rejected` or `queued`.
 */
export interface ReplayOutcome {
  eventId: string;
  ok: boolean;
  outcome: 'queued' | 'failed' | NotifyOutcome;
  /** Why it is not ok (for `queued`: what it waits for), in words an admin can act on. */
  error?: string;
  /** Notify's answer, when it finished an attempt. */
  result?: NotifyResult;
}

export interface EventReplayer {
  replay(event: ReplayRequest): Promise<ReplayOutcome>;
}
