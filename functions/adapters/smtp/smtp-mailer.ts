import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { format } from 'node:util';
import nodemailer, { type NodemailerError, type SMTPTransportOptions } from 'nodemailer';
import type { SmtpSettings } from '../../core/config/email-config.js';
import { formatSeconds, SEND_DEADLINE_MS, SMTP_PHASE_TIMEOUTS_MS } from '../../core/mail/deadlines.js';
import {
  AUTH_NOT_OFFERED,
  DEADLINE_EXCEEDED,
  parseSmtpReply,
  STARTTLS_NOT_OFFERED,
  STARTTLS_REFUSED,
} from '../../core/mail/diagnostics.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type DeliveryStage,
  type Mailer,
  type OutgoingMessage,
  type SendOptions,
  type SendReceipt,
} from '../../core/mail/mailer.js';
import { EMBEDDED_RELAY_POLICY, type RelayAddressPolicy } from '../../core/mail/relay-address-policy.js';
import { redact } from '../../kernel/text.js';
import { type MailOptions, mailOptions } from './mime.js';
import {
  type RelayLookup,
  RelayLookupError,
  type ResolvedRelay,
  resolveRelay,
  systemRelayLookup,
} from './relay-resolver.js';
import { throttlingWaitMs } from './throttling.js';

export type SmtpCredentials =
  | { user: string; pass: string }
  | {
      user: string;
      accessToken: string;
      /**
       * Pooled connections outlive one access token: each new connection asks for one (renew:
       * the relay refused the last one). The provider caches them, so they are reused.
       */
      provision?: (renew: boolean) => Promise<string>;
    };

export interface SmtpTimeouts {
  /** Until the TCP connection (and, for implicit TLS, the handshake) is up; includes DNS. */
  connectionMs?: number;
  /** Until the server's 220 greeting, and again for a STARTTLS handshake. */
  greetingMs?: number;
  /** Inactivity on an established connection. */
  socketMs?: number;
  dnsMs?: number;
}

export interface SmtpMailerOptions {
  settings: SmtpSettings;
  /** Resolved by the caller (password from the store, access token from the OAuth client); none for auth type none. */
  credentials?: SmtpCredentials;
  timeouts?: SmtpTimeouts;
  /**
   * The deadline of one whole send (SEND_DEADLINE_MS by default); a send's own `deadlineMs`
   * replaces it. The per-phase timeouts above still apply inside it.
   */
  deadlineMs?: number;
  /** Extra values to redact from the transcript and from error messages. */
  secrets?: string[];
  /** EHLO name; nodemailer derives one from the machine's host name when absent. */
  clientName?: string;
  /**
   * CA certificates (PEM) to trust in addition to Node's bundled roots: a relay behind a private
   * CA, or a test server's own certificate.
   */
  ca?: string[];
  /**
   * Which addresses the relay may be at (the embedded runtime's by default: loopback and
   * private allowed; link-local, metadata, multicast and the like never). The Lambdas pass the
   * deployment's, which refuses loopback and private ranges it does not allow.
   */
  relayAddresses?: RelayAddressPolicy;
  /** Resolves the relay's name (dns.promises.lookup by default; tests inject their own). */
  lookup?: RelayLookup;
}

// See SMTP_PHASE_TIMEOUTS_MS: checked against the send deadline and the functions' timeouts.
const DEFAULT_TIMEOUTS: Required<SmtpTimeouts> = { ...SMTP_PHASE_TIMEOUTS_MS };

const MAX_TRANSCRIPT_LINES = 200;
const TRANSCRIPT_HEAD_LINES = 40;
const MAX_LINE_LENGTH = 500;

/** Sends through an SMTP relay, one connection per message, and explains every failure. */
export class SmtpMailer implements Mailer {
  private readonly timeouts: Required<SmtpTimeouts>;
  /** The deadline of a send that names none. */
  readonly deadlineMs: number;
  private readonly secrets: string[];

  constructor(private readonly options: SmtpMailerOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...definedOnly(options.timeouts ?? {}) };
    this.deadlineMs = options.deadlineMs ?? SEND_DEADLINE_MS;
    this.secrets = secretVariants(options.credentials, options.secrets ?? []);
  }

  get destination(): string {
    const { host, port } = this.options.settings;
    return `smtp://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  }

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendReceipt> {
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const composed = composeOrFail(message, (text) => this.redact(text));
    const started = Date.now();
    // Before any connection: a refused address never gets a socket, let alone a transcript.
    const relay = await this.resolveRelay(deadlineMs);
    const transcript = this.transcriptFor(relay);
    const transporter = nodemailer.createTransport(this.transportOptions(transcript, relay));
    // One deadline over every phase: nodemailer's timeouts are per phase and restart with each
    // reply, so a relay that answers every command just in time would hold the send for minutes.
    try {
      // nodemailer composes with the same MailComposer and streams the message to the relay
      // while it is generated. On abort it closes the connection at once (socketCloseTimeout 0).
      return await this.sendWithin(
        composed,
        transcript,
        deadlineMs,
        (signal) => transporter.sendMail({ ...composed, signal }),
        started,
      );
    } finally {
      transporter.close();
    }
  }

  /**
   * @internal One send under one deadline (this mailer's and the pool's): past it the send is
   * aborted and fails as such; any other failure is classified from the relay's replies.
   */
  async sendWithin(
    composed: MailOptions,
    transcript: Transcript,
    deadlineMs: number,
    send: (
      signal: AbortSignal,
    ) => Promise<{ accepted: unknown[]; rejected: unknown[]; rejectedErrors?: unknown; response: string }>,
    /** When the deadline started (the relay's DNS lookup came first); now by default. */
    startedAt = Date.now(),
  ): Promise<SendReceipt> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => {
        transcript.note(
          `Deadline of ${formatSeconds(deadlineMs)} passed at the ${transcript.stage()} stage: dropping the connection`,
        );
        deadline.abort();
      },
      Math.max(1, deadlineMs - (Date.now() - startedAt)),
    );
    try {
      return this.receipt(composed, await send(deadline.signal), transcript);
    } catch (error) {
      if (deadline.signal.aborted && (error as NodemailerError).code === 'EABORT') {
        throw new DeliveryError(this.deadlineFailure(deadlineMs, transcript));
      }
      throw new DeliveryError(this.classify(error as NodemailerError, transcript));
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal What the relay accepted, refused for good and refused for now. */
  receipt(
    composed: MailOptions,
    info: { accepted: unknown[]; rejected: unknown[]; rejectedErrors?: unknown; response: string },
    transcript: Transcript,
  ): SendReceipt {
    const deferred = temporarilyRefused(info);
    return {
      messageId: composed.messageId,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String).filter((address) => !deferred.includes(address)),
      ...(deferred.length > 0 ? { deferred } : {}),
      response: this.redact(info.response),
      // Formatted when read (a test email shows it; a notification does not).
      get transcript() {
        return transcript.lines();
      },
      destination: this.destination,
    };
  }

  /** @internal The values a transcript of this relay's sessions must not show. */
  get secretsForTranscript(): readonly string[] {
    return this.secrets;
  }

  /** @internal The pooled mailer reports a passed deadline the same way. */
  deadlineFailure(deadlineMs: number, transcript: Transcript): DeliveryFailure {
    const { host, port } = this.options.settings;
    const stage = transcript.stage();
    const command = transcript.awaitedCommand();
    return {
      stage,
      message: `No answer from the relay ${host}:${port} within ${formatSeconds(deadlineMs)}, at the ${stage} stage: the connection was closed at the send's deadline, so nothing more is sent`,
      // The relay is slow or unreachable now; a later attempt, on a new connection, may pass.
      transient: true,
      reason: DEADLINE_EXCEEDED,
      ...(command ? { command } : {}),
      transcript: transcript.lines(),
    };
  }

  /**
   * @internal The relay's address to connect to, after every address of its host passed the
   * relay address policy: a DeliveryError at stage `connect` (refused, for good) or `dns`.
   */
  async resolveRelay(deadlineMs: number): Promise<ResolvedRelay> {
    const { host, port } = this.options.settings;
    const policy = this.options.relayAddresses ?? EMBEDDED_RELAY_POLICY;
    try {
      return await resolveRelay(
        host,
        port,
        policy,
        this.options.lookup ?? systemRelayLookup,
        Math.min(this.timeouts.dnsMs, deadlineMs),
      );
    } catch (error) {
      if (!(error instanceof RelayLookupError)) throw error;
      const transcript = new Transcript(this.secrets, true);
      transcript.note(`DNS lookup of ${host} failed: ${error.code}`);
      const failure = { code: 'EDNS', originalCode: error.code, message: error.message } as NodemailerError;
      throw new DeliveryError(this.classify(failure, transcript));
    }
  }

  /** @internal A transcript for a session with the relay at this address. */
  transcriptFor(relay: ResolvedRelay): Transcript {
    const transcript = new Transcript(this.secrets, false);
    if (relay.isName) {
      transcript.note(
        `Resolved ${this.options.settings.host} to ${relay.addresses.join(', ')}; connecting to ${relay.address}`,
      );
    }
    return transcript;
  }

  /** @internal The pooled mailer's connections use the same settings. */
  transportOptions(transcript: Transcript, relay: ResolvedRelay): SMTPTransportOptions {
    const { host, port, encryption, verifyCertificate } = this.options.settings;
    const credentials = this.options.credentials;
    // The mode comes from the configuration alone; nodemailer would otherwise guess from the port.
    const mode =
      encryption === 'tls'
        ? { secure: true }
        : encryption === 'starttls'
          ? { secure: false, requireTLS: true }
          : { secure: false, ignoreTLS: true };
    return {
      // The checked address; the name stays the TLS server name (SNI and certificate check).
      host: relay.address,
      port,
      ...mode,
      ...(this.options.clientName ? { name: this.options.clientName } : {}),
      tls: {
        rejectUnauthorized: verifyCertificate,
        minVersion: 'TLSv1.2',
        ...(relay.isName ? { servername: host } : {}),
        // `ca` replaces Node's roots, so the extra certificates are added to them.
        ...(this.options.ca?.length ? { ca: [...rootCertificates, ...this.options.ca] } : {}),
      },
      ...(credentials
        ? {
            auth:
              'accessToken' in credentials
                ? {
                    type: 'OAuth2',
                    user: credentials.user,
                    ...(credentials.provision
                      ? { provisionCallback: provisionCallback(credentials.provision) }
                      : { accessToken: credentials.accessToken }),
                  }
                : { user: credentials.user, pass: credentials.pass },
            // nodemailer skips AUTH when the server does not advertise it, and the message would
            // then go out unauthenticated; with credentials configured, that must fail instead.
            forceAuth: true,
          }
        : {}),
      connectionTimeout: this.timeouts.connectionMs,
      greetingTimeout: this.timeouts.greetingMs,
      socketTimeout: this.timeouts.socketMs,
      dnsTimeout: this.timeouts.dnsMs,
      // Closing destroys the socket instead of ending it: at the deadline, data still buffered
      // for the relay (the rest of a message) must not go out. After a completed send nothing
      // is buffered, and nodemailer sends no QUIT on a connection of its own anyway.
      socketCloseTimeout: 0,
      // transactionLog logs commands and replies but, unlike `debug`, never the message data.
      transactionLog: true,
      debug: false,
      logger: transcript.logger(),
    };
  }

  /** @internal The pooled mailer explains failures the same way. */
  classify(error: NodemailerError, transcript: Transcript): DeliveryFailure {
    const reply = typeof error.response === 'string' ? parseSmtpReply(error.response) : undefined;
    const code = error.responseCode ?? reply?.code;
    const command = error.command && !INTERNAL_COMMANDS.has(error.command) ? error.command : undefined;
    const { stage, reason } = this.stageAndReason(error, command, transcript);
    const failure: DeliveryFailure = {
      stage,
      message: this.redact(this.describe(error, reason, reply)),
      transient: isTransient(code, reason, stage),
      transcript: transcript.lines(),
    };
    if (code !== undefined) failure.code = code;
    if (reply?.enhancedCode) failure.enhancedCode = reply.enhancedCode;
    if (reason) failure.reason = reason;
    if (command) failure.command = command;
    const waitMs = throttlingWaitMs(code, reply?.enhancedCode, reply?.text ?? error.message);
    if (waitMs !== undefined) {
      // The relay's limit, not this message's fault: the caller backs the relay off and sends
      // again after waitMs, without counting an attempt.
      failure.transient = true;
      failure.waitMs = waitMs;
    }
    return failure;
  }

  private stageAndReason(
    error: NodemailerError,
    command: string | undefined,
    transcript: Transcript,
  ): { stage: DeliveryStage; reason?: string } {
    const original = error.originalCode;
    switch (error.code) {
      case 'EDNS':
        return { stage: 'dns', reason: original ?? 'EDNS' };
      case 'ETIMEDOUT': {
        const reason = error.timeoutType ?? 'ETIMEDOUT';
        if (reason === 'CONNECT_TIMEOUT' || reason === 'GREETING_TIMEOUT')
          return { stage: 'connect', reason };
        if (reason === 'UPGRADE_TIMEOUT') return { stage: 'tls', reason };
        return { stage: transcript.stage(), reason };
      }
      case 'ETLS':
        if (command === 'STARTTLS' && error.responseCode !== undefined) {
          return {
            stage: 'tls',
            reason: transcript.offersStartTls() ? STARTTLS_REFUSED : STARTTLS_NOT_OFFERED,
          };
        }
        return { stage: 'tls', reason: original ?? 'ETLS' };
      case 'EAUTH':
        // forceAuth sends AUTH even when EHLO did not offer it; the refusal then means "no AUTH here".
        if (error.responseCode !== undefined && !transcript.offersAuth())
          return { stage: 'auth', reason: AUTH_NOT_OFFERED };
        return { stage: 'auth', reason: original ?? error.code };
      case 'ENOAUTH':
      case 'EOAUTH2':
        return { stage: 'auth', reason: original ?? error.code };
      case 'EENVELOPE':
        return { stage: command === 'DATA' ? 'data' : 'envelope', reason: error.code };
      case 'EMESSAGE':
      case 'ESTREAM':
        return { stage: 'data', reason: error.code };
    }
    // Certificate and handshake errors arrive as socket errors; Node's code tells them apart.
    if (original && isTlsReason(original)) return { stage: 'tls', reason: original };
    const stage = command ? stageOfCommand(command) : transcript.stage();
    return { stage, reason: original ?? error.code ?? 'UNKNOWN' };
  }

  private describe(
    error: NodemailerError,
    reason: string | undefined,
    reply: ReturnType<typeof parseSmtpReply> | undefined,
  ): string {
    const { host, port } = this.options.settings;
    const where = `${host}:${port}`;
    if (reason === STARTTLS_NOT_OFFERED) {
      return `STARTTLS is required, but ${where} does not offer it${reply ? `; it answered STARTTLS with: ${formatReply(reply)}` : ''}`;
    }
    if (reason === AUTH_NOT_OFFERED) {
      return `Credentials are configured, but ${where} does not offer AUTH${reply ? `; it answered ${error.command ?? 'AUTH'} with: ${formatReply(reply)}` : ''}`;
    }
    if (reply) return formatReply(reply);
    switch (reason) {
      case 'CONNECT_TIMEOUT':
        return `Could not connect to ${where} within ${formatSeconds(this.timeouts.connectionMs)}`;
      case 'GREETING_TIMEOUT':
        return `Connected to ${where}, but the server sent no greeting within ${formatSeconds(this.timeouts.greetingMs)}`;
      case 'UPGRADE_TIMEOUT':
        return `The TLS handshake with ${where} did not finish within ${formatSeconds(this.timeouts.greetingMs)}`;
      case 'SOCKET_TIMEOUT':
        return `The server at ${where} stopped answering for ${formatSeconds(this.timeouts.socketMs)}`;
      case 'ECONNREFUSED':
        return `Connection refused by ${where}`;
    }
    const text = cleanErrorText(error.message);
    if (error.code === 'EDNS') return `DNS lookup of ${host} failed: ${text}`;
    if (reason && isTlsReason(reason)) return `TLS handshake with ${where} failed: ${text} (${reason})`;
    return text;
  }

  private redact(text: string): string {
    return redact(text, this.secrets);
  }
}

// ---------------------------------------------------------------------------------------------
// Classification helpers
// ---------------------------------------------------------------------------------------------

/** nodemailer's markers for "no SMTP command": not worth showing as the failing command. */
const INTERNAL_COMMANDS = new Set(['CONN', 'API']);

const TLS_REASON = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_MISMATCH|EPROTO$)/;
const isTlsReason = (reason: string) => TLS_REASON.test(reason);

// Failures a retry can fix; everything else needs the admin (or a different message).
const TRANSIENT_REASONS = new Set([
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'SOCKET_TIMEOUT',
  'ETIMEDOUT',
  'ETIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ECONNECTION',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ESERVFAIL',
]);

function isTransient(code: number | undefined, reason: string | undefined, stage: DeliveryStage): boolean {
  if (code !== undefined && code >= 400) return code < 500;
  if (reason && TRANSIENT_REASONS.has(reason)) return true;
  if (reason && (isTlsReason(reason) || reason === 'ENOTFOUND' || reason === 'ENODATA')) return false;
  return stage === 'connect';
}

function stageOfCommand(command: string): DeliveryStage {
  const verb = command.split(' ')[0]?.toUpperCase() ?? '';
  switch (verb) {
    case 'STARTTLS':
      return 'tls';
    case 'AUTH':
      return 'auth';
    case 'MAIL':
    case 'RCPT':
      return 'envelope';
    case 'DATA':
    case 'BDAT':
      return 'data';
    default:
      return 'connect';
  }
}

function formatReply(reply: ReturnType<typeof parseSmtpReply>): string {
  return [reply.code, reply.enhancedCode, reply.text]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}

/** OpenSSL's messages carry library internals (`80BC...:error:0A00010B:SSL routines:...`). */
function cleanErrorText(text: string): string {
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]+:[^:]*:([^:]+):/.exec(text.trim());
  if (openssl?.[1]) return openssl[1];
  return text.trim();
}

/** nodemailer's XOAUTH2 token hook, over a promise. */
function provisionCallback(provision: (renew: boolean) => Promise<string>) {
  return (_user: string, renew: boolean, callback: (error: Error | null, accessToken?: string) => void) => {
    provision(renew).then(
      (token) => callback(null, token),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/** Every form in which a credential can appear on the wire: plain, and the SASL encodings. */
function secretVariants(credentials: SmtpCredentials | undefined, extra: string[]): string[] {
  const values = [...extra];
  if (credentials && 'pass' in credentials) {
    values.push(credentials.pass, base64(`\0${credentials.user}\0${credentials.pass}`));
  }
  if (credentials && 'accessToken' in credentials) {
    values.push(
      credentials.accessToken,
      base64(`user=${credentials.user}\x01auth=Bearer ${credentials.accessToken}\x01\x01`),
    );
  }
  const all = values.filter((v) => v.length > 0).flatMap((v) => [v, base64(v)]);
  // Longest first, so that a secret inside a longer one does not leave the rest visible.
  return [...new Set(all)].sort((a, b) => b.length - a.length);
}

// ---------------------------------------------------------------------------------------------
// Transcript: nodemailer's log, as C:/S: lines, bounded, redacted, without the message
// ---------------------------------------------------------------------------------------------

interface LogEntry {
  tnx?: string;
}

/** Log sources that are about this library's internals rather than the SMTP session. */
const SKIPPED_TNX = new Set(['create', 'transport', 'send', 'OAUTH2']);
const SMTP_VERB = /^(EHLO|HELO|LHLO|STARTTLS|AUTH|MAIL|RCPT|DATA|BDAT|RSET|QUIT|NOOP)\b/i;

/** One call of nodemailer's logger, kept as it came: formatting waits until someone reads it. */
interface RawEntry {
  tnx: string | undefined;
  message: unknown;
  args: unknown[];
}

/**
 * The SMTP dialogue of one send. nodemailer reports each command and reply as it happens; the
 * entries are kept raw (a push per line) and turned into redacted text lines only when a
 * failure or a test email shows them, so a successful notification does not pay for formatting
 * a transcript nobody reads.
 */
export class Transcript {
  private readonly entries = new HeadAndTail<RawEntry>();
  private replayed: TranscriptState | undefined;

  constructor(
    private readonly secrets: readonly string[],
    /** The relay is named by a host name (not an address), so connecting starts with a DNS lookup. */
    private readonly needsDns: boolean,
  ) {}

  /** A line of our own (`* ...`), e.g. that the deadline passed. */
  note(text: string): void {
    this.replayed = undefined;
    this.entries.push({ tnx: 'note', message: text, args: [] });
  }

  /**
   * The start of another message on a pooled connection: what the session waits for is counted
   * from here, while what EHLO offered (and the lines before) stays.
   */
  mark(text: string): void {
    this.replayed = undefined;
    this.entries.push({ tnx: 'mark', message: text, args: [] });
  }

  logger(): Record<string, (entry: unknown, message?: unknown, ...args: unknown[]) => void> {
    const log = (entry: unknown, message?: unknown, ...args: unknown[]) => {
      const tnx =
        typeof entry === 'object' && entry !== null
          ? (entry as LogEntry).tnx
          : (undefined as string | undefined);
      if (tnx && SKIPPED_TNX.has(tnx)) return;
      this.replayed = undefined;
      const raw: RawEntry =
        typeof entry === 'string'
          ? { tnx, message: entry, args: message === undefined ? args : [message, ...args] }
          : { tnx, message, args };
      this.entries.push(raw);
    };
    return { trace: log, debug: log, info: log, warn: log, error: log, fatal: log };
  }

  private state(): TranscriptState {
    if (this.replayed) return this.replayed;
    const state = new TranscriptState(this.secrets);
    for (const raw of this.entries.head) state.record(raw);
    state.lines.omit(this.entries.omitted);
    for (const raw of this.entries.tail) state.record(raw);
    this.replayed = state;
    return state;
  }

  lines(): string[] {
    return this.state().lines.items((omitted) => `* … ${omitted} lines omitted …`);
  }

  /**
   * Where the session was when it broke or stalled: the oldest command without a reply (with
   * PIPELINING, MAIL, RCPT and DATA go out together, and a relay stalling on MAIL is at the
   * envelope), else the last command sent (a TLS handshake after STARTTLS, a message being
   * streamed after 354), else how far connecting got.
   */
  stage(): DeliveryStage {
    const state = this.state();
    const verb = state.pending[0] ?? state.lastCommand;
    if (verb) return stageOfCommand(verb);
    return state.resolved || state.established || !this.needsDns ? 'connect' : 'dns';
  }

  /** The command whose reply the session waits for (`MAIL`, `DATA`), when there is one. */
  awaitedCommand(): string | undefined {
    const state = this.state();
    return state.pending[0] ?? state.lastCommand;
  }

  /** Whether the first EHLO reply offered STARTTLS. */
  offersStartTls(): boolean {
    return /^\d{3}[ -]STARTTLS\b/im.test(this.state().ehloReplies[0] ?? '');
  }

  /** Whether the latest EHLO reply (after STARTTLS, if any) offered AUTH. */
  offersAuth(): boolean {
    return /^\d{3}[ -]AUTH\b/im.test(this.state().ehloReplies.at(-1) ?? '');
  }
}

/** The transcript's text lines and what they say about the session, built from the raw entries. */
class TranscriptState {
  readonly lines = new HeadAndTail<string>();
  lastVerb: string | undefined;
  readonly ehloReplies: string[] = [];
  /** Commands sent and not answered yet, oldest first (the message counts as a DATA command). */
  readonly pending: string[] = [];
  /** The verb of the last command sent; a line without one continues it (AUTH LOGIN's steps). */
  lastCommand: string | undefined;
  /** The relay's name was resolved, and the connection (with implicit TLS, its handshake) is up. */
  resolved = false;
  established = false;

  constructor(private readonly secrets: readonly string[]) {}

  record({ tnx, message, args }: RawEntry): void {
    const text = format(message ?? '', ...args);
    if (tnx === 'mark') {
      this.pending.length = 0;
      this.lastCommand = undefined;
      this.push(`* ${text}`);
      return;
    }
    if (tnx === 'message') {
      // Only the size line; the message itself never enters the transcript.
      const size = /^<(\d+) bytes/.exec(text);
      if (size) {
        this.push(`C: <message, ${size[1]} bytes, not shown>`);
        // The message is sent: the session now waits for the reply to it.
        this.pending.push('DATA');
      }
      return;
    }
    if (tnx === 'client') {
      const verb = SMTP_VERB.exec(text)?.[1]?.toUpperCase();
      if (verb) this.lastVerb = verb;
      for (const line of text.split(/\r?\n/)) {
        const lineVerb = SMTP_VERB.exec(line)?.[1]?.toUpperCase() ?? this.lastCommand;
        if (lineVerb) {
          this.lastCommand = lineVerb;
          this.pending.push(lineVerb);
        }
        this.push(`C: ${line}`);
      }
      return;
    }
    if (tnx === 'dns') this.resolved = true;
    if (tnx === 'network' && /established/i.test(text)) this.established = true;
    if (tnx === 'server') {
      // One log entry per reply, a multi-line reply included; the greeting answers no command.
      this.pending.shift();
      if (this.lastVerb === 'EHLO' || this.lastVerb === 'HELO') {
        this.ehloReplies.push(text);
        this.lastVerb = undefined;
      }
      for (const line of text.split(/\r?\n/)) this.push(`S: ${line}`);
      return;
    }
    for (const line of cleanErrorText(text).split(/\r?\n/)) this.push(`* ${line}`);
  }

  private push(line: string): void {
    const clean = redact(line, this.secrets);
    this.lines.push(clean.length > MAX_LINE_LENGTH ? `${clean.slice(0, MAX_LINE_LENGTH - 1)}…` : clean);
  }
}

/**
 * At most MAX_TRANSCRIPT_LINES items: the first ones and the latest ones. The end of a dialogue
 * explains a failure and its start shows the greeting and EHLO, so the middle is what goes.
 */
class HeadAndTail<T> {
  readonly head: T[] = [];
  readonly tail: T[] = [];
  omitted = 0;

  push(item: T): void {
    if (this.head.length < TRANSCRIPT_HEAD_LINES && this.omitted === 0 && this.tail.length === 0) {
      this.head.push(item);
      return;
    }
    this.tail.push(item);
    if (this.tail.length > MAX_TRANSCRIPT_LINES - TRANSCRIPT_HEAD_LINES - 1) {
      this.tail.shift();
      this.omitted++;
    }
  }

  /** Items dropped elsewhere (before these were built) count as omitted here too. */
  omit(count: number): void {
    this.omitted += count;
  }

  items(note: (omitted: number) => T): T[] {
    return this.omitted > 0 ? [...this.head, note(this.omitted), ...this.tail] : [...this.head, ...this.tail];
  }
}

/** Recipients the relay refused with a 4xx reply (nodemailer keeps each RCPT TO error). */
function temporarilyRefused(info: { rejectedErrors?: unknown }): string[] {
  const errors = Array.isArray(info.rejectedErrors) ? info.rejectedErrors : [];
  return errors.flatMap((error: { recipient?: unknown; responseCode?: unknown }) =>
    typeof error.recipient === 'string' && typeof error.responseCode === 'number' && error.responseCode < 500
      ? [error.recipient]
      : [],
  );
}

/** The message as nodemailer takes it, or a permanent DeliveryError (stage `data`) saying why not. */
export function composeOrFail(
  message: OutgoingMessage,
  redact: (text: string) => string = (t) => t,
): MailOptions {
  try {
    return mailOptions(message);
  } catch (error) {
    throw new DeliveryError({
      stage: 'data',
      transient: false,
      reason: 'COMPOSE_FAILED',
      message: redact(`The message could not be composed: ${errorMessage(error)}`),
    });
  }
}
