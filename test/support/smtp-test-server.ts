// A real SMTP server on loopback (smtp-server), for tests of anything that sends mail: it records
// what arrives and answers the way a test asks (refused recipients, 4xx/5xx replies, custom auth).
import { createServer, type Socket } from 'node:net';
import { generate } from 'selfsigned';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';

export type SmtpTestServerMode = 'tls' | 'starttls' | 'plain';
export type TestCertificateKind = 'self-signed' | 'expired' | 'wrong-host';

/** A reply as it goes on the wire: `550 5.1.1 <x@example.com>: Recipient address rejected`. */
export type SmtpReplyText = string;

export interface ReceivedMessage {
  mailFrom: string;
  rcptTo: string[];
  /** The message as received (CRLF line ends). */
  raw: string;
  /** Header fields by lower-case name (first occurrence), unfolded, encoded words decoded. */
  headers: Record<string, string>;
  subject?: string;
  from?: string;
  messageId?: string;
  /** The first text/plain part, transfer encoding decoded (best effort). */
  text?: string;
  /** The user the auth check returned, when the client authenticated. */
  user?: string;
  /** Whether the session was encrypted (implicit TLS or STARTTLS). */
  secure: boolean;
}

export interface SmtpAuthAttempt {
  method: string;
  username: string;
  password?: string;
  accessToken?: string;
}

export type AuthDecision =
  | { user: string }
  /** Fail with this reply (`535 5.7.139 Authentication unsuccessful, ...`). */
  | { reply: SmtpReplyText }
  /** XOAUTH2 only: the JSON error challenge (334) a real provider sends before its 535. */
  | { xoauth2Error: Record<string, unknown> };

export type AuthCheck = (
  attempt: SmtpAuthAttempt,
  session: SMTPServerSession,
) => AuthDecision | Promise<AuthDecision>;

type Maybe<T> = T | undefined | Promise<T | undefined>;

export interface SmtpTestServerHandlers {
  /** Return a reply to refuse the sender (`451 4.3.0 Try again later`); undefined accepts. */
  onMailFrom?: (address: string, session: SMTPServerSession) => Maybe<SmtpReplyText>;
  /** Return a reply to refuse the recipient; undefined accepts. */
  onRcptTo?: (address: string, session: SMTPServerSession) => Maybe<SmtpReplyText>;
  /** Return a 4xx/5xx reply to refuse the message (it is not recorded), or a 2xx reply to accept it with that text. */
  onData?: (message: ReceivedMessage) => Maybe<SmtpReplyText>;
}

export interface SmtpTestServerOptions extends SmtpTestServerHandlers {
  /** `tls`: implicit TLS; `starttls`: STARTTLS offered; `plain`: no TLS at all. */
  mode: SmtpTestServerMode;
  certificate?: TestCertificateKind;
  /** Credentials to accept, or a check of its own; without it the server offers no AUTH. */
  auth?: { username: string; password: string } | AuthCheck;
  /** Accept mail without authentication even though AUTH is offered (default false). */
  authOptional?: boolean;
  /** Allow AUTH without TLS (default: true in `plain` mode, where there is no TLS to require). */
  allowInsecureAuth?: boolean;
  /** Recipients refused with `550 5.1.1 <address>: Recipient address rejected` (case-insensitive). */
  rejectRecipients?: string[];
  /** SASL mechanisms to offer (default PLAIN, LOGIN, XOAUTH2). */
  authMethods?: string[];
  /** Any other smtp-server option, applied last. */
  serverOptions?: Partial<SMTPServerOptions>;
  /** The port to listen on (default: any free one); a relay that comes back where it was. */
  port?: number;
}

export interface SmtpTestServer {
  host: '127.0.0.1';
  port: number;
  mode: SmtpTestServerMode;
  /** The server certificate (PEM), so a client can trust it. */
  cert: string;
  /** Messages accepted so far, in arrival order. */
  messages: ReceivedMessage[];
  /** Every AUTH attempt, with the credentials the client sent. */
  authAttempts: SmtpAuthAttempt[];
  /** Resolves once at least `count` messages arrived (since the last reset). */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Replaces reply handlers for the following sessions (one server can serve a whole test file). */
  setHandlers(handlers: SmtpTestServerHandlers): void;
  /** Forgets messages and auth attempts and restores the handlers given at start. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

export interface TestCertificate {
  key: string;
  cert: string;
}

const DAY = 24 * 60 * 60 * 1000;
const certificates = new Map<TestCertificateKind, Promise<TestCertificate>>();

/** Self-signed certificates, made once per test process (EC keys: milliseconds to generate). */
export function testCertificate(kind: TestCertificateKind): Promise<TestCertificate> {
  let pending = certificates.get(kind);
  if (!pending) {
    pending = makeCertificate(kind);
    certificates.set(kind, pending);
  }
  return pending;
}

async function makeCertificate(kind: TestCertificateKind): Promise<TestCertificate> {
  const now = Date.now();
  const loopback = [
    { type: 2 as const, value: 'localhost' },
    { type: 7 as const, ip: '127.0.0.1' },
    { type: 7 as const, ip: '::1' },
  ];
  const commonName = kind === 'wrong-host' ? 'mail.example.test' : 'localhost';
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(kind === 'expired' ? now - 400 * DAY : now - DAY),
    notAfterDate: new Date(kind === 'expired' ? now - DAY : now + 365 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: kind === 'wrong-host' ? [{ type: 2, value: 'mail.example.test' }] : loopback,
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/** An error smtp-server turns into the reply `code message`. */
function replyError(reply: SmtpReplyText): Error & { responseCode: number } {
  const match = /^([2-5]\d\d)[ -]?(.*)$/s.exec(reply.trim());
  if (!match) throw new Error(`not an SMTP reply: ${reply}`);
  return Object.assign(new Error(match[2] ?? ''), { responseCode: Number(match[1]) });
}

export async function startSmtpTestServer(options: SmtpTestServerOptions): Promise<SmtpTestServer> {
  const { key, cert } = await testCertificate(options.certificate ?? 'self-signed');
  const initialHandlers: SmtpTestServerHandlers = {
    ...(options.onMailFrom ? { onMailFrom: options.onMailFrom } : {}),
    ...(options.onRcptTo ? { onRcptTo: options.onRcptTo } : {}),
    ...(options.onData ? { onData: options.onData } : {}),
  };
  let handlers = { ...initialHandlers };
  const messages: ReceivedMessage[] = [];
  const authAttempts: SmtpAuthAttempt[] = [];
  let waiters: Array<() => void> = [];
  const rejected = new Set((options.rejectRecipients ?? []).map((a) => a.toLowerCase()));
  const authCheck = toAuthCheck(options.auth);

  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    key,
    cert,
    secure: options.mode === 'tls',
    ...(options.mode === 'plain' ? { disabledCommands: ['STARTTLS'], hideSTARTTLS: true } : {}),
    ...(authCheck
      ? {
          authOptional: options.authOptional ?? false,
          authMethods: options.authMethods ?? ['PLAIN', 'LOGIN', 'XOAUTH2'],
          allowInsecureAuth: options.allowInsecureAuth ?? options.mode === 'plain',
        }
      : { authOptional: true, disabledCommands: options.mode === 'plain' ? ['STARTTLS', 'AUTH'] : ['AUTH'] }),
    size: 10 * 1024 * 1024,
    // close() waits this long for open sessions, then ends them with 421. Pooled senders keep
    // idle connections open (for 30 s in production), so waiting smtp-server's default 30 s
    // would hold every test's teardown for as long.
    closeTimeout: 250,

    onAuth(auth: SMTPServerAuthentication, session, callback) {
      const attempt: SmtpAuthAttempt = {
        method: auth.method,
        username: auth.username ?? '',
        ...(typeof auth.password === 'string' ? { password: auth.password } : {}),
        ...(typeof auth.accessToken === 'string' ? { accessToken: auth.accessToken } : {}),
      };
      authAttempts.push(attempt);
      settle(
        authCheck ? authCheck(attempt, session) : { reply: '502 Error: authentication not enabled' },
      ).then(
        (decision) => {
          if ('user' in decision) return callback(null, { user: decision.user });
          if ('xoauth2Error' in decision) return callback(null, { data: decision.xoauth2Error });
          return callback(replyError(decision.reply));
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },

    onMailFrom(address, session, callback) {
      settle(handlers.onMailFrom?.(address.address, session)).then(
        (reply) => callback(reply ? replyError(reply) : null),
        callback,
      );
    },

    onRcptTo(address, session, callback) {
      if (rejected.has(address.address.toLowerCase())) {
        return callback(replyError(`550 5.1.1 <${address.address}>: Recipient address rejected`));
      }
      settle(handlers.onRcptTo?.(address.address, session)).then(
        (reply) => callback(reply ? replyError(reply) : null),
        callback,
      );
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const message = toReceivedMessage(Buffer.concat(chunks).toString('utf8'), session);
        settle(handlers.onData?.(message)).then((reply) => {
          if (reply && !reply.startsWith('2')) return callback(replyError(reply));
          messages.push(message);
          for (const wake of waiters) wake();
          callback(null, reply ? replyError(reply).message : 'OK: message queued');
        }, callback);
      });
    },
    ...options.serverOptions,
  });
  // smtp-server emits 'error' for client-side failures too (a client that gives up the TLS
  // handshake); those are what many tests provoke, and must not crash the test process.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp test server has no port');

  return {
    host: '127.0.0.1',
    port: address.port,
    mode: options.mode,
    cert,
    messages,
    authAttempts,
    waitForMessages(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${messages.length}`));
        }, timeoutMs);
        const check = () => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve([...messages]);
        };
        waiters.push(check);
        check();
      });
    },
    setHandlers(next) {
      handlers = { ...next };
    },
    reset() {
      messages.length = 0;
      authAttempts.length = 0;
      handlers = { ...initialHandlers };
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function toAuthCheck(auth: SmtpTestServerOptions['auth']): AuthCheck | undefined {
  if (auth === undefined || typeof auth === 'function') return auth;
  return (attempt) =>
    attempt.username === auth.username && attempt.password === auth.password
      ? { user: attempt.username }
      : { reply: '535 5.7.8 Error: authentication credentials invalid' };
}

const settle = <T>(value: T | Promise<T>): Promise<T> => Promise.resolve(value);

/** A port that nothing listens on: bound, then released. */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// ---------------------------------------------------------------------------------------------
// A slow relay: a few lines of raw SMTP over `net`, for what smtp-server cannot be made to do
// (answer EHLO and then nothing, take its time over every reply)
// ---------------------------------------------------------------------------------------------

/** Where a slow relay stops answering: it reads on, and replies nothing more. */
export type SlowRelayStall =
  /** Accepts the connection and never greets. */
  | 'connect'
  /** Answers EHLO, then nothing. */
  | 'EHLO'
  /** Answers STARTTLS with 220, then never starts the handshake. */
  | 'STARTTLS'
  /** Answers up to DATA (354), reads the whole message, and never confirms it. */
  | 'message';

export interface SlowSmtpServerOptions {
  /** Waits this long before every reply, the greeting included. */
  replyDelayMs?: number;
  /** Stops answering at this point of the session. */
  stallAfter?: SlowRelayStall;
  /** Offers STARTTLS in the EHLO reply (default false). */
  offerStartTls?: boolean;
  /** Awaited before the reply to a received message: a gate the test opens. */
  beforeMessageReply?: () => Promise<void>;
}

export interface SlowSmtpServer {
  host: '127.0.0.1';
  port: number;
  /** Every command line received (message lines excluded), in arrival order, over all sessions. */
  commands: string[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections still open. */
  open: number;
  /** Messages received completely (up to the closing dot), whether confirmed or not. */
  messagesReceived: number;
  /** Messages confirmed with 250, and when (Date.now()) the confirmation was written. */
  confirmedAt: number[];
  /** Resolves once no connection is open. */
  waitUntilIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSlowSmtpServer(options: SlowSmtpServerOptions = {}): Promise<SlowSmtpServer> {
  const delay = options.replyDelayMs ?? 0;
  const sockets = new Set<Socket>();
  let idleWaiters: Array<() => void> = [];
  const state: SlowSmtpServer = {
    host: '127.0.0.1',
    port: 0,
    commands: [],
    connections: 0,
    open: 0,
    messagesReceived: 0,
    confirmedAt: [],
    waitUntilIdle(timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        if (state.open === 0) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`${state.open} connection(s) still open after ${timeoutMs} ms`)),
          timeoutMs,
        );
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    state.connections++;
    state.open++;
    let stalled = false;
    let inData = false;
    let buffered = '';
    // Replies go out in order, each after the delay, like a relay that takes its time.
    let queue = Promise.resolve();
    const reply = (text: string | (() => Promise<string>), then?: () => void) => {
      queue = queue.then(async () => {
        if (delay > 0) await new Promise((done) => setTimeout(done, delay));
        const line = typeof text === 'string' ? text : await text();
        if (socket.destroyed || stalled) return;
        socket.write(`${line}\r\n`);
        then?.();
      });
    };
    const stall = () => {
      stalled = true;
    };
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      state.open--;
      if (state.open === 0) {
        for (const wake of idleWaiters) wake();
        idleWaiters = [];
      }
    });
    if (options.stallAfter === 'connect') stall();
    else reply('220 slow.test ESMTP');

    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end = buffered.indexOf('\r\n');
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\r\n');
        if (inData) {
          if (line !== '.') continue;
          inData = false;
          state.messagesReceived++;
          if (options.stallAfter === 'message') {
            stall();
            continue;
          }
          reply(
            async () => {
              await options.beforeMessageReply?.();
              return '250 2.0.0 OK: queued';
            },
            () => state.confirmedAt.push(Date.now()),
          );
          continue;
        }
        state.commands.push(line);
        if (stalled) continue;
        const verb = line.split(' ')[0]?.toUpperCase() ?? '';
        switch (verb) {
          case 'EHLO':
          case 'HELO':
            reply(
              ['250-slow.test', ...(options.offerStartTls ? ['250-STARTTLS'] : []), '250 8BITMIME'].join(
                '\r\n',
              ),
            );
            if (options.stallAfter === 'EHLO') queue = queue.then(stall);
            break;
          case 'STARTTLS':
            reply('220 2.0.0 Ready to start TLS');
            if (options.stallAfter === 'STARTTLS') queue = queue.then(stall);
            break;
          case 'DATA':
            reply('354 End data with <CR><LF>.<CR><LF>', () => {
              inData = true;
            });
            break;
          case 'QUIT':
            reply('221 2.0.0 Bye', () => socket.end());
            break;
          default:
            reply('250 2.0.0 OK');
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('slow smtp server has no port');
  state.port = address.port;
  return state;
}

// ---------------------------------------------------------------------------------------------
// Parsing what arrived (by hand: enough for assertions, no dependency)
// ---------------------------------------------------------------------------------------------

function toReceivedMessage(raw: string, session: SMTPServerSession): ReceivedMessage {
  const envelope = session.envelope;
  const { headers, body } = splitMessage(raw);
  const text = firstTextPart(headers, body);
  const user = typeof session.user === 'string' ? session.user : undefined;
  return {
    mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    rcptTo: envelope.rcptTo.map((r) => r.address),
    raw,
    headers,
    ...(headers.subject !== undefined ? { subject: headers.subject } : {}),
    ...(headers.from !== undefined ? { from: headers.from } : {}),
    ...(headers['message-id'] !== undefined ? { messageId: headers['message-id'] } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(user !== undefined ? { user } : {}),
    secure: session.secure,
  };
}

function splitMessage(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const field of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    headers[name] ??= decodeEncodedWords(field.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** RFC 2047 `=?UTF-8?Q?...?=` / `=?UTF-8?B?...?=` words, as nodemailer writes non-ASCII subjects. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, charset: string, encoding: string, data: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(
              data
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return new TextDecoder(charset.split('*')[0]).decode(bytes);
    });
}

function firstTextPart(headers: Record<string, string>, body: string): string | undefined {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const inner = splitMessage(part.replace(/^\r?\n/, ''));
      const found = firstTextPart(inner.headers, inner.body);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!/^text\/plain/i.test(type)) return undefined;
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(type)?.[1] ?? 'utf-8';
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body, 'base64')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body
              .replace(/=\r?\n/g, '')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          )
        : Buffer.from(body, 'utf8');
  return new TextDecoder(charset).decode(bytes).replace(/\r\n/g, '\n').replace(/\n$/, '');
}
