import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Mailer, OutgoingMessage, SendReceipt } from '../../core/mail/mailer.js';
import type { Clock } from '../../core/ports.js';
import { composeRawMessage } from '../smtp/mime.js';
import { ensurePrivateDirectory, writeFileAtomic } from './atomic-file.js';

export interface OutboxMailerOptions {
  /** e.g. `${DATA_DIR}/outbox`; created (0700) on the first send. */
  directory: string;
  clock?: Clock;
  /** Why mail goes here rather than to a relay, for the receipt (a test email says it was not sent). */
  reason?: string;
}

/**
 * The embedded runtime's mailer when no relay is configured: each message becomes an `.eml`
 * file that any mail client opens, so a new user sees exactly what would have been sent.
 */
export class OutboxMailer implements Mailer {
  private readonly directory: string;
  private readonly clock: Clock;
  private readonly reason: string;

  constructor(options: OutboxMailerOptions) {
    this.directory = resolve(options.directory);
    this.clock = options.clock ?? (() => new Date());
    this.reason = options.reason ?? 'this mailer writes every message to the outbox';
  }

  async send(message: OutgoingMessage): Promise<SendReceipt> {
    const { raw, messageId, envelope } = await composeRawMessage(message);
    await ensurePrivateDirectory(this.directory);
    // ISO time first so a directory listing is in sending order; `:` is not allowed in file
    // names on every system. The random part keeps messages of the same millisecond apart.
    const stamp = this.clock().toISOString().replaceAll(':', '-');
    const file = join(this.directory, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
    await writeFileAtomic(file, raw);
    return {
      messageId,
      accepted: [...envelope.to],
      rejected: [],
      destination: file,
      notSent: { reason: this.reason },
    };
  }
}
