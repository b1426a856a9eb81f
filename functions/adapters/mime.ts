import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingMessage } from '../core/ports.js';

export interface RawMessage {
  /** The complete RFC 5322 message, as every transport sends it. */
  raw: Buffer;
  /** `<...@...>` as in the Message-ID header. */
  messageId: string;
  envelope: { from: string; to: string[] };
}

/**
 * Builds the MIME message once, with nodemailer's composer, so that the SMTP relay, SES and
 * the outbox all carry byte-for-byte the same message.
 */
export async function composeRawMessage(message: OutgoingMessage): Promise<RawMessage> {
  const node = new MailComposer({
    from: message.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    ...(message.headers ? { headers: message.headers } : {}),
  }).compile();
  const envelope = node.getEnvelope();
  const raw = await node.build();
  return {
    raw,
    messageId: node.messageId(),
    envelope: { from: envelope.from || '', to: envelope.to },
  };
}
