import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingMessage } from '../core/ports.js';

export interface RawMessage {
  /** The complete RFC 5322 message, as every transport sends it. */
  raw: Buffer;
  /** `<...@...>` as in the Message-ID header. */
  messageId: string;
  envelope: { from: string; to: string[] };
}

export interface ComposedMessage {
  messageId: string;
  envelope: { from: string; to: string[] };
  /** The message as a stream: the SMTP relay sends it while it is being generated. */
  stream(): Readable;
}

/**
 * One MIME composer (nodemailer's) for every transport, so that the SMTP relay, SES and the
 * outbox carry the same message.
 */
export function composeMessage(message: OutgoingMessage): ComposedMessage {
  const node = new MailComposer({
    from: message.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    ...(message.headers ? { headers: message.headers } : {}),
  }).compile();
  const envelope = node.getEnvelope();
  return {
    messageId: node.messageId(),
    envelope: { from: envelope.from || '', to: envelope.to },
    stream: () => node.createReadStream(),
  };
}

/** The whole message in memory, for the transports that take it in one piece (SES, outbox). */
export async function composeRawMessage(message: OutgoingMessage): Promise<RawMessage> {
  const composed = composeMessage(message);
  const chunks: Buffer[] = [];
  for await (const chunk of composed.stream()) chunks.push(Buffer.from(chunk as Buffer));
  return { raw: Buffer.concat(chunks), messageId: composed.messageId, envelope: composed.envelope };
}
