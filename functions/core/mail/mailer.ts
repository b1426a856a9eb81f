import type { EmailConfig } from '../config/email-config.js';
import type { DeliveryStage } from './delivery-stages.js';

// The mail port: core builds messages, adapters send them and classify failures by stage.

/** A message as core builds it; adapters turn it into MIME (one composer for every transport). */
export interface OutgoingMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. `X-Appliance-Notifier-Event`. Values were validated as single lines. */
  headers?: Record<string, string>;
}

export interface SendReceipt {
  messageId: string;
  accepted: string[];
  /** Refused for good (5xx): recorded as refused. */
  rejected: string[];
  /** Refused for now (4xx, e.g. 451 for one recipient): tried again, for these recipients only. */
  deferred?: string[];
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as ...`. */
  response?: string;
  /** The SMTP dialogue (client and server lines), credentials redacted. */
  transcript?: string[];
  /** Where the message went: `smtp://host:port`, `ses:eu-west-1`, or the outbox file path. */
  destination: string;
  /** Set when the message was only written to a file (`destination`), not sent: why. */
  notSent?: { reason: string };
}

export { DELIVERY_STAGES, type DeliveryStage } from './delivery-stages.js';

export interface DeliveryFailure {
  stage: DeliveryStage;
  /** SMTP reply code (535), when the server answered. */
  code?: number;
  /** Enhanced status code (5.7.139), when the server sent one. */
  enhancedCode?: string;
  /** The server's reply text, or what went wrong locally. */
  message: string;
  /** A retry may succeed (4xx replies, timeouts, connection errors, throttling). */
  transient: boolean;
  /** A lower-level reason, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`, `ETIMEDOUT`, `Throttling`. */
  reason?: string;
  /** The command that got the failing reply (`RCPT TO`, `AUTH PLAIN`, `STARTTLS`). */
  command?: string;
  transcript?: string[];
  /**
   * Not a failure of this event: the relay's limit. Set when the relay answered with a
   * throttling reply (`421`, `432 4.3.2`, `450`/`451 4.7.x`) or when sending now would exceed
   * its limits (`smtp.limits`, or the host's preset). Send again after `waitMs` milliseconds;
   * it must not count against the event's retry budget. Always `transient`.
   */
  waitMs?: number;
}

/** A failed delivery, classified by the adapter that saw it. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(readonly failure: DeliveryFailure) {
    super(failure.message);
  }
}

export interface SendOptions {
  /**
   * The whole send may take at most this long (DNS to the relay's last answer); the adapter's
   * own deadline (SEND_DEADLINE_MS) otherwise. When it passes, the adapter drops the connection,
   * so nothing more is transmitted, and fails with a transient DeliveryError naming the stage.
   */
  deadlineMs?: number;
}

export interface Mailer {
  /** Sends one message; throws DeliveryError with the stage that failed. */
  send(message: OutgoingMessage, options?: SendOptions): Promise<SendReceipt>;
}

export interface MailerContext {
  clusterId: string;
  /**
   * `notification` (the default: event emails, the daily notice) is paced to the relay's limits
   * and goes over pooled connections; `test-email` gets a connection of its own, so that its
   * transcript shows the whole SMTP dialogue from the greeting on.
   */
  purpose?: 'notification' | 'test-email';
}

export interface MailerFactory {
  /** A mailer for this configuration's transport (SMTP relay, SES, or the local outbox). */
  forConfig(config: EmailConfig, context: MailerContext): Promise<Mailer>;
  /**
   * Optional: starts loading the code this configuration's transport needs (no connection, no
   * token, no send), so that a first send does not wait for it. Its failure shows at forConfig.
   */
  prepare?(config: EmailConfig): void;
}
