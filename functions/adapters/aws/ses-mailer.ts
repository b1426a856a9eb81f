import { type SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { formatSeconds, SEND_DEADLINE_MS } from '../../core/mail/deadlines.js';
import { DEADLINE_EXCEEDED } from '../../core/mail/diagnostics.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type Mailer,
  type OutgoingMessage,
  type SendOptions,
  type SendReceipt,
} from '../../core/mail/mailer.js';
import { composeRawMessage } from '../smtp/mime.js';

export interface SesMailerOptions {
  client: SESClient;
  /** For event publishing (bounces, complaints, deliveries) when the account uses one. */
  configurationSetName?: string;
  /** For the receipt's destination; read from the client when absent. */
  region?: string;
  /** The deadline of one whole send, the SDK's own retries included (SEND_DEADLINE_MS by default). */
  deadlineMs?: number;
}

/** Sends through Amazon SES (v1 API) as raw MIME, so SES and the SMTP relay carry the same message. */
export class SesMailer implements Mailer {
  private readonly client: SESClient;
  private readonly configurationSetName: string | undefined;
  private readonly region: string | undefined;
  private readonly deadlineMs: number;

  constructor(options: SesMailerOptions) {
    this.client = options.client;
    this.configurationSetName = options.configurationSetName;
    this.region = options.region;
    this.deadlineMs = options.deadlineMs ?? SEND_DEADLINE_MS;
  }

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendReceipt> {
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const { raw, envelope } = await composeRawMessage(message);
    let messageId: string | undefined;
    // The SDK retries throttling and network errors on its own, and an unreachable endpoint
    // waits for the operating system's connect timeout: the deadline bounds all of it. Aborting
    // destroys the HTTP request.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), deadlineMs);
    try {
      const output = await this.client.send(
        new SendRawEmailCommand({
          RawMessage: { Data: raw },
          Source: envelope.from,
          Destinations: envelope.to,
          ...(this.configurationSetName ? { ConfigurationSetName: this.configurationSetName } : {}),
        }),
        { abortSignal: deadline.signal },
      );
      messageId = output.MessageId;
    } catch (error) {
      if (deadline.signal.aborted) throw new DeliveryError(deadlineFailure(deadlineMs));
      throw new DeliveryError(classifySesError(error));
    } finally {
      clearTimeout(timer);
    }
    if (!messageId) {
      // SES took the request, so it may have sent the message: a retry could send it twice.
      throw new DeliveryError({
        stage: 'data',
        message: 'SES answered without a MessageId',
        transient: false,
      });
    }
    return {
      messageId,
      accepted: [...envelope.to],
      rejected: [],
      destination: `ses:${this.region ?? (await this.client.config.region())}`,
    };
  }
}

/**
 * SES answers within a second when it is reachable; silence until the deadline almost always
 * means the endpoint cannot be reached (a VPC without a route to it), hence the connect stage.
 */
function deadlineFailure(deadlineMs: number): DeliveryFailure {
  return {
    stage: 'connect',
    message: `No answer from Amazon SES within ${formatSeconds(deadlineMs)}, at the connect stage: the request was cancelled at the send's deadline`,
    transient: true,
    reason: DEADLINE_EXCEEDED,
  };
}

// SES decided about this message or this sender: sending it again will not help.
const REJECTED = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'MailFromDomainNotVerified',
  'ConfigurationSetDoesNotExistException',
  'ConfigurationSetDoesNotExist',
  'AccountSendingPausedException',
  'ConfigurationSetSendingPausedException',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
]);
const AUTH = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  errors?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Maps an SES SDK error (or a network error under it) to the stage and retry advice admins see. */
export function classifySesError(error: unknown): DeliveryFailure {
  const e: SdkErrorShape = typeof error === 'object' && error !== null ? error : {};
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const detail = (typeof e.message === 'string' && e.message ? e.message : String(error)).replace(
    /^AWS SDK error wrapper for (?:\w*Error: )?/,
    '',
  );
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const code = networkCode(e);

  if (REJECTED.has(name)) {
    return {
      stage: 'envelope',
      message: `SES rejected the message: ${detail}`,
      transient: false,
      reason: name,
    };
  }
  if (AUTH.has(name)) {
    return {
      stage: 'auth',
      message: `SES refused the AWS credentials: ${detail}`,
      transient: false,
      reason: name,
    };
  }
  if (code && DNS_CODES.has(code)) {
    return {
      stage: 'dns',
      message: `Cannot resolve the SES endpoint: ${detail}`,
      transient: true,
      reason: code,
    };
  }
  if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError') {
    return {
      stage: 'connect',
      message: `Cannot reach SES: ${detail}`,
      transient: true,
      reason: code ?? name,
    };
  }
  if (THROTTLED.has(name) || (status !== undefined && status >= 500) || e.$fault === 'server') {
    // `code` is for SMTP reply codes; the HTTP status goes into the message instead.
    const http = status !== undefined ? ` (HTTP ${status})` : '';
    return {
      stage: 'data',
      message: `SES could not take the message now${http}: ${detail}`,
      transient: true,
      reason: name,
    };
  }
  return {
    stage: 'data',
    message: `SES did not send the message: ${detail}`,
    transient: false,
    reason: name,
  };
}

const CODE_IN_MESSAGE = new RegExp(`\\b(${[...DNS_CODES, ...NETWORK_CODES].join('|')})\\b`);

// Node puts the code on the error, or (connection attempts to several addresses) on each of an
// AggregateError's errors. The SDK's retry middleware rebuilds an error that is not an
// `instanceof Error` of its own realm (seen under jest's VM modules) as a plain Error whose
// message is the only place the code survives.
function networkCode(e: SdkErrorShape): string | undefined {
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors as unknown[]) {
      if (typeof inner === 'object' && inner !== null && 'code' in inner && typeof inner.code === 'string') {
        return inner.code;
      }
    }
  }
  const fromMessage = typeof e.message === 'string' ? CODE_IN_MESSAGE.exec(e.message)?.[1] : undefined;
  return fromMessage;
}
