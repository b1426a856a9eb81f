import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingMessage } from '../../core/mail/mailer.js';

export interface RawMessage {
  /** The complete RFC 5322 message, as every transport sends it. */
  raw: Buffer;
  /** `<...@...>` as in the Message-ID header. */
  messageId: string;
  envelope: { from: string; to: string[] };
}

/** What nodemailer's MailComposer takes: the message with its Message-ID fixed up front. */
export type MailOptions = OutgoingMessage & { messageId: string };

const senderDomain = (from: string) => /@([^@\s<>"]+)>?\s*$/.exec(from)?.[1] ?? 'appliance-notifier.invalid';

/**
 * The message as nodemailer's MailComposer takes it: the one composer every transport uses
 * (the relay's sendMail composes with it too), so the relay, SES and the outbox carry the same
 * message. The Message-ID is chosen here, so a receipt names it whatever the transport.
 */
export function mailOptions(message: OutgoingMessage): MailOptions {
  return {
    from: message.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    ...(message.headers ? { headers: message.headers } : {}),
    messageId: `<${randomUUID()}@${senderDomain(message.from)}>`,
  };
}

/** The whole message in memory, for the transports that take it in one piece (SES, outbox). */
export async function composeRawMessage(message: OutgoingMessage): Promise<RawMessage> {
  const options = mailOptions(message);
  const node = new MailComposer(options).compile();
  const envelope = node.getEnvelope();
  return {
    raw: await node.build(),
    messageId: options.messageId,
    envelope: { from: envelope.from || '', to: envelope.to },
  };
}
