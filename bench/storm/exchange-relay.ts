// A simulated Exchange Online SMTP AUTH submission endpoint (smtp.office365.com:587) for the storm
// bench: smtp-server behind a 40 ms round-trip proxy, STARTTLS required (self-signed certificate),
// AUTH PLAIN/LOGIN for one mailbox, and the mailbox's limits as Microsoft documents them
// ("Changes in message store and throttling for concurrent connections", OfficeDocs-Support
// smtp-submission-improvements.md; Exchange Online limits):
//
// - 3 concurrent connections per mailbox. The mailbox is known only once the session has
//   authenticated, so the 4th concurrent session is refused at AUTH with
//   `432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending ...`
//   (the text field reports quote; the document's older wording is
//   `432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded`).
// - 30 messages per minute (sliding 60 s window). Exchange Online documents no reply for it:
//   "any excess in message submission will be throttled and successively carried over to the
//   following minutes". Two modes:
//   - `reply` (default): the relay answers the MAIL command over the limit with
//     `421 4.4.2 Message submission rate for this client has exceeded the configured limit`, the
//     reply Exchange Server gives for its message rate limit, and closes the session (421). This is
//     the stricter peer: a sender that does not pace is told so.
//   - `delay`: Exchange Online's documented behaviour. Every message is accepted; its delivery time
//     is carried over so that at most `messagesPerWindow` are delivered per window. "In an email"
//     then means delivered, at `deliveredAt`.
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';

// smtp-server holds every greeting back 100 ms to catch clients that talk too early (as
// bench/notify.ts notes). Exchange Online greets at once, and a fixed 100 ms per connection would
// overstate what a new connection costs, so the relay greets at once as well.
const init = SMTPConnection.prototype.init;
SMTPConnection.prototype.init = function initWithoutGreetingDelay(this: SMTPConnection) {
  (this as unknown as { _setListeners(done: () => void): void })._setListeners(() => this.connectionReady());
};
void init;

export const RELAY_USER = 'alerts@contoso.example';
export const RELAY_PASSWORD = 'Storm-Relay-Secret-42';

export const CONCURRENCY_REPLY =
  '4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information.';
export const RATE_REPLY = '4.4.2 Message submission rate for this client has exceeded the configured limit';

export type RateMode = 'reply' | 'delay';

export interface ExchangeRelayOptions {
  maxSessions?: number;
  messagesPerWindow?: number;
  windowMs?: number;
  rateMode?: RateMode;
  oneWayDelayMs?: number;
}

export interface AcceptedMessage {
  /** Date.now() when the relay answered 250 to the message. */
  acceptedAt: number;
  /** When it reaches the inbox: acceptedAt, or later in `delay` mode. */
  deliveredAt: number;
  subject: string;
  /** Header fields by lower-case name (first occurrence, unfolded). */
  headers: Record<string, string>;
  /** The body, transfer encodings undone (text and HTML parts together), for content checks. */
  body: string;
  size: number;
}

export interface RelayStats {
  connections: number;
  peakOpenConnections: number;
  peakAuthenticatedSessions: number;
  startTlsHandshakes: number;
  authSuccesses: number;
  authAttempts: number;
  /** Throttling replies by `code enhanced-code`, e.g. `432 4.3.2`. */
  throttles: Record<string, number>;
  messages: AcceptedMessage[];
  firstAcceptedAt?: number;
  /** `delay` mode: messages whose delivery was carried over. */
  delayedMessages: number;
}

export interface ExchangeRelay {
  host: '127.0.0.1';
  /** The proxy's port: where senders connect. */
  port: number;
  options: Required<ExchangeRelayOptions>;
  stats: RelayStats;
  close(): Promise<void>;
}

let certificate: Promise<{ key: string; cert: string }> | undefined;
function relayCertificate() {
  certificate ??= generate([{ name: 'commonName', value: 'smtp.office365.example' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000),
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return certificate;
}

function replyError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startExchangeRelay(options: ExchangeRelayOptions = {}): Promise<ExchangeRelay> {
  const resolved: Required<ExchangeRelayOptions> = {
    maxSessions: options.maxSessions ?? 3,
    messagesPerWindow: options.messagesPerWindow ?? 30,
    windowMs: options.windowMs ?? 60_000,
    rateMode: options.rateMode ?? 'reply',
    oneWayDelayMs: options.oneWayDelayMs ?? 20,
  };
  const { key, cert } = await relayCertificate();
  const stats: RelayStats = {
    connections: 0,
    peakOpenConnections: 0,
    peakAuthenticatedSessions: 0,
    startTlsHandshakes: 0,
    authSuccesses: 0,
    authAttempts: 0,
    throttles: {},
    messages: [],
    delayedMessages: 0,
  };
  const authenticated = new Set<string>();
  /** Accepted (reply mode) or delivered (delay mode) times inside the sliding window. */
  let windowTimes: number[] = [];
  const throttle = (code: number, text: string) => {
    const label = `${code} ${text.split(' ')[0]}`;
    stats.throttles[label] = (stats.throttles[label] ?? 0) + 1;
    return replyError(code, text);
  };

  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    key,
    cert,
    name: 'smtp.office365.example',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: false,
    size: 35 * 1024 * 1024,
    onSecure(_socket, _session, callback) {
      stats.startTlsHandshakes++;
      callback();
    },
    onAuth(auth, session, callback) {
      stats.authAttempts++;
      if (auth.username !== RELAY_USER || auth.password !== RELAY_PASSWORD) {
        return callback(
          replyError(535, '5.7.139 Authentication unsuccessful, the user credentials were incorrect.'),
        );
      }
      if (authenticated.size >= resolved.maxSessions) return callback(throttle(432, CONCURRENCY_REPLY));
      authenticated.add(session.id);
      stats.authSuccesses++;
      stats.peakAuthenticatedSessions = Math.max(stats.peakAuthenticatedSessions, authenticated.size);
      callback(null, { user: auth.username });
    },
    onClose(session) {
      authenticated.delete(session.id);
    },
    onMailFrom(_address, _session, callback) {
      if (resolved.rateMode === 'reply') {
        const now = Date.now();
        windowTimes = windowTimes.filter((t) => t > now - resolved.windowMs);
        if (windowTimes.length >= resolved.messagesPerWindow) return callback(throttle(421, RATE_REPLY));
      }
      callback();
    },
    onData(stream, _session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const now = Date.now();
        let deliveredAt = now;
        if (resolved.rateMode === 'reply') {
          windowTimes.push(now);
        } else {
          // Carried over: the n-th message is delivered no earlier than a window after the
          // (n - limit)-th was, so no window of the inbox holds more than the limit.
          const earlier = windowTimes[windowTimes.length - resolved.messagesPerWindow];
          if (earlier !== undefined && earlier + resolved.windowMs > now) {
            deliveredAt = earlier + resolved.windowMs;
            stats.delayedMessages++;
          }
          windowTimes.push(deliveredAt);
          if (windowTimes.length > resolved.messagesPerWindow * 4) {
            windowTimes = windowTimes.slice(-resolved.messagesPerWindow);
          }
        }
        stats.messages.push(parseMessage(raw, now, deliveredAt));
        stats.firstAcceptedAt ??= now;
        callback(null, '2.6.0 Queued mail for delivery');
      });
    },
  });
  server.on('error', () => {});
  server.server.on('connection', () => {
    stats.connections++;
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('relay has no port');
  const proxy: DelayProxy = await startDelayProxy(
    { host: '127.0.0.1', port: address.port },
    resolved.oneWayDelayMs,
  );
  Object.defineProperty(stats, 'peakOpenConnections', { get: () => proxy.stats.peakOpen, enumerable: true });
  return {
    host: '127.0.0.1',
    port: proxy.port,
    options: resolved,
    stats,
    async close() {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Just enough MIME to read headers and bodies (nodemailer's and Alertmanager's output)
// ---------------------------------------------------------------------------------------------

function parseMessage(raw: string, acceptedAt: number, deliveredAt: number): AcceptedMessage {
  const { headers, body } = split(raw);
  return {
    acceptedAt,
    deliveredAt,
    subject: headers.subject ?? '',
    headers,
    body: decodeParts(headers, body),
    size: Buffer.byteLength(raw),
  };
}

function split(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const field of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    headers[field.slice(0, colon).trim().toLowerCase()] ??= decodeWords(field.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, data: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeParts(headers: Record<string, string>, body: string): string {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .map((part) => {
        const inner = split(part.replace(/^\r?\n/, ''));
        return decodeParts(inner.headers, inner.body);
      })
      .join('\n');
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}
