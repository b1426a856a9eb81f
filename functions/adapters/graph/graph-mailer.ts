// Microsoft Graph sendMail (`POST /v1.0/users/{mailbox}/sendMail`) with an app-only token, for
// tenants where SMTP AUTH is off. The message goes as MIME (`Content-Type: text/plain`, the
// RFC 5322 message in base64), built by the composer every transport uses, so text and HTML,
// the Message-ID and the X-Appliance-Notifier-* headers are those of the SMTP relay and SES.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { GraphSettings } from '../../core/config/email-config.js';
import { graphLimitsOf } from '../../core/config/graph-endpoints.js';
import { formatSeconds, GRAPH_REQUEST_TIMEOUT_MS, SEND_DEADLINE_MS } from '../../core/mail/deadlines.js';
import { DEADLINE_EXCEEDED } from '../../core/mail/diagnostics.js';
import { GRAPH_REASONS } from '../../core/mail/graph-diagnostics.js';
import {
  DeliveryError,
  type DeliveryFailure,
  type Mailer,
  type OutgoingMessage,
  type SendOptions,
  type SendReceipt,
} from '../../core/mail/mailer.js';
import type { RelayGate, RelayGrant, RelayIdentity, RelaySlot } from '../../core/mail/relay-gate.js';
import type { Log } from '../../core/ports.js';
import { redact } from '../../kernel/text.js';
import { composeRawMessage, type RawMessage } from '../smtp/mime.js';

export interface GraphPacing {
  gate: RelayGate;
  /** This process in the gate's slot leases. */
  holder: string;
  /** Epoch ms for the gate's decisions. */
  clock?: () => number;
  log?: Log;
}

export interface GraphMailerOptions {
  settings: GraphSettings;
  /** The app-only access token (cached by the caller); `renew`: Graph refused the last one. */
  accessToken: (renew: boolean) => Promise<string>;
  /** The deadline of one whole send, token included (SEND_DEADLINE_MS by default). */
  deadlineMs?: number;
  /** One HTTP request at most (GRAPH_REQUEST_TIMEOUT_MS by default). */
  requestTimeoutMs?: number;
  /** With it, every send takes a turn and a request slot per mailbox at the relay gate. */
  pacing?: GraphPacing;
  fetch?: typeof fetch;
  /** Extra values to redact from messages (the client secret, the private key). */
  secrets?: string[];
}

/** `graph:https://graph.microsoft.com:alerts@contoso.com`: the gate's identity of a mailbox. */
export function graphIdentity(settings: { endpoint: string; mailbox: string }): RelayIdentity {
  return `graph:${settings.endpoint.toLowerCase()}:${settings.mailbox.trim().toLowerCase()}`;
}

/** This process in the gate's slot leases (each request holds a slot only while it runs). */
export const graphHolder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** When Graph throttles without saying for how long. */
const DEFAULT_THROTTLE_MS = 30_000;
/** A longer Retry-After is a pause, not pacing: the queue's retry takes over. */
const MAX_WAIT_MS = 15 * 60_000;
/** A send waits this long, at most, in this process for a request slot or a turn due soon. */
const LOCAL_WAIT_MS = 10_000;
/** A turn (messagesPerMinute) due later than this is not waited for here: the event waits instead. */
const LOCAL_TURN_MS = 2_000;
/** How often a send asks again for a request slot while all are taken. */
const SLOT_POLL_MS = 200;
const MAX_TEXT = 500;

export class GraphMailer implements Mailer {
  readonly deadlineMs: number;
  private readonly fetch: typeof fetch;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: GraphMailerOptions) {
    this.deadlineMs = options.deadlineMs ?? SEND_DEADLINE_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? GRAPH_REQUEST_TIMEOUT_MS;
  }

  get destination(): string {
    const { endpoint, mailbox } = this.options.settings;
    return `graph:${new URL(endpoint).host}/${mailbox}`;
  }

  private get sendUrl(): string {
    const { endpoint, mailbox } = this.options.settings;
    return `${endpoint}/v1.0/users/${encodeURIComponent(mailbox)}/sendMail`;
  }

  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<SendReceipt> {
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const started = Date.now();
    const raw = await compose(message);
    const slot = await this.takeTurn(Math.min(LOCAL_WAIT_MS, deadlineMs));
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), Math.max(1, deadlineMs - (Date.now() - started)));
    const secrets = [...(this.options.secrets ?? [])];
    try {
      let token = await this.options.accessToken(false);
      secrets.push(token);
      let response = await this.post(raw, token, deadline.signal, deadlineMs, secrets);
      if (response.status === 401) {
        // Revoked early, or issued before a permission changed: one new token, one more try.
        await response.body?.cancel().catch(() => {});
        token = await this.options.accessToken(true);
        secrets.push(token);
        response = await this.post(raw, token, deadline.signal, deadlineMs, secrets);
      }
      return await this.outcome(response, raw, secrets);
    } catch (error) {
      if (error instanceof DeliveryError && error.failure.waitMs !== undefined) {
        await this.reportThrottling(error.failure);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      if (slot) await this.release(slot);
    }
  }

  private async post(
    raw: RawMessage,
    token: string,
    deadline: AbortSignal,
    deadlineMs: number,
    secrets: string[],
  ): Promise<Response> {
    try {
      return await this.fetch(this.sendUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'text/plain',
          accept: 'application/json',
        },
        body: raw.raw.toString('base64'),
        // A redirect would carry the bearer token elsewhere: it is reported, never followed.
        redirect: 'manual',
        signal: AbortSignal.any([deadline, AbortSignal.timeout(this.requestTimeoutMs)]),
      });
    } catch (error) {
      throw new DeliveryError(this.networkFailure(error, deadline.aborted, deadlineMs, secrets));
    }
  }

  private async outcome(response: Response, raw: RawMessage, secrets: string[]): Promise<SendReceipt> {
    const requestId = response.headers.get('request-id') ?? undefined;
    const text = await response.text().catch(() => '');
    if (response.status === 202) {
      return {
        messageId: raw.messageId,
        accepted: [...raw.envelope.to],
        rejected: [],
        response: `202 Accepted${requestId ? ` (request-id ${requestId})` : ''}`,
        destination: this.destination,
      };
    }
    throw new DeliveryError(this.httpFailure(response, text, requestId, secrets));
  }

  private httpFailure(
    response: Response,
    text: string,
    requestId: string | undefined,
    secrets: string[],
  ): DeliveryFailure {
    const status = response.status;
    const error = graphError(text);
    const what = error
      ? `${error.code}${error.message ? `: ${error.message}` : ''}`
      : `${response.statusText || 'no Graph error in the answer'}`.trim();
    const message = redact(
      `Microsoft Graph answered HTTP ${status} to sendMail for ${this.options.settings.mailbox}: ${what.slice(0, MAX_TEXT)}${requestId ? ` (request-id ${requestId})` : ''}`,
      secrets,
    );
    const base = { stage: 'send' as const, code: status, message };
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    if (status === 429) {
      return {
        ...base,
        transient: true,
        reason: GRAPH_REASONS.throttled,
        waitMs: Math.min(retryAfter ?? DEFAULT_THROTTLE_MS, MAX_WAIT_MS),
      };
    }
    if (status >= 500) {
      return {
        ...base,
        transient: true,
        reason: GRAPH_REASONS.unavailable,
        ...(retryAfter !== undefined ? { waitMs: Math.min(retryAfter, MAX_WAIT_MS) } : {}),
      };
    }
    if (status === 401) return { ...base, transient: false, reason: GRAPH_REASONS.unauthorized };
    if (status === 403) return { ...base, transient: false, reason: GRAPH_REASONS.accessDenied };
    if (status === 404) return { ...base, transient: false, reason: GRAPH_REASONS.mailboxNotFound };
    if (status >= 400) {
      const mailboxProblem = /^(ErrorInvalidUser|MailboxNotEnabledForRESTAPI|ResourceNotFound)$/.test(
        error?.code ?? '',
      );
      return {
        ...base,
        transient: false,
        reason: mailboxProblem ? GRAPH_REASONS.mailboxNotFound : GRAPH_REASONS.badRequest,
      };
    }
    // A 2xx other than 202, or a redirect: Graph may or may not have taken the message.
    return { ...base, transient: false, reason: GRAPH_REASONS.unexpected };
  }

  private networkFailure(
    error: unknown,
    deadlinePassed: boolean,
    deadlineMs: number,
    secrets: string[],
  ): DeliveryFailure {
    const shape = (typeof error === 'object' && error !== null ? error : {}) as {
      name?: unknown;
      message?: unknown;
      cause?: { code?: unknown; message?: unknown };
    };
    const host = new URL(this.options.settings.endpoint).host;
    if (deadlinePassed || shape.name === 'TimeoutError' || shape.name === 'AbortError') {
      const ms = deadlinePassed ? deadlineMs : this.requestTimeoutMs;
      return {
        stage: 'send',
        transient: true,
        reason: DEADLINE_EXCEEDED,
        message: `No answer from ${host} within ${formatSeconds(ms)}: the sendMail request was cancelled`,
      };
    }
    const cause = typeof shape.cause === 'object' && shape.cause !== null ? shape.cause : {};
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const detail =
      typeof cause.message === 'string' && cause.message
        ? cause.message
        : typeof shape.message === 'string'
          ? shape.message
          : String(error);
    return {
      stage: 'send',
      transient: true,
      reason: GRAPH_REASONS.unreachable,
      message: redact(`Cannot reach ${host}${code ? ` (${code})` : ''}: ${detail}`, secrets),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Pacing: one turn (messagesPerMinute) and one request slot (maxConnections) per send
  // ------------------------------------------------------------------------------------------

  private get identity(): RelayIdentity {
    return graphIdentity(this.options.settings);
  }

  private async takeTurn(waitBudgetMs: number): Promise<RelaySlot | undefined> {
    const pacing = this.options.pacing;
    if (!pacing) return undefined;
    const limits = { ...graphLimitsOf(this.options.settings), source: 'configured' as const };
    const waitUntil = Date.now() + waitBudgetMs;
    for (;;) {
      let grant: RelayGrant;
      try {
        grant = await pacing.gate.acquire(this.identity, {
          limits,
          holder: pacing.holder,
          nowMs: (pacing.clock ?? Date.now)(),
          message: true,
          slot: 'new',
        });
      } catch (error) {
        throw new DeliveryError({
          stage: 'send',
          transient: true,
          reason: 'RELAY_GATE_UNAVAILABLE',
          message: `The mailbox's pacing state could not be read or written: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
      if (grant.ok) return grant.slot;
      // A request slot frees itself within a second or two (a sendMail request is short): ask
      // again soon. A turn due soon is waited for; a back-off never is here.
      const pause =
        grant.reason === 'connections' ? Math.min(grant.retryAfterMs, SLOT_POLL_MS) : grant.retryAfterMs;
      const waitable =
        grant.reason === 'connections' || (grant.reason === 'rate' && grant.retryAfterMs <= LOCAL_TURN_MS);
      if (waitable && Date.now() + pause <= waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      throw this.pacingError(grant, limits);
    }
  }

  private async release(slot: RelaySlot): Promise<void> {
    const pacing = this.options.pacing;
    if (!pacing) return;
    await pacing.gate.release(this.identity, slot, (pacing.clock ?? Date.now)()).catch(() => {
      // A slot not given back frees itself at the end of its lease.
    });
  }

  private async reportThrottling(failure: DeliveryFailure): Promise<void> {
    const pacing = this.options.pacing;
    if (!pacing || failure.reason === 'RELAY_LIMIT' || failure.reason === 'RELAY_BACK_OFF') return;
    const nowMs = (pacing.clock ?? Date.now)();
    try {
      await pacing.gate.backOff(
        this.identity,
        nowMs + (failure.waitMs ?? 0),
        failure.message.slice(0, 300),
        nowMs,
      );
    } catch (error) {
      pacing.log?.warn('Could not record the Graph back-off', {
        mailbox: this.identity,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    pacing.log?.warn('Microsoft Graph throttles: every sender of this mailbox waits', {
      mailbox: this.identity,
      status: failure.code,
      waitMs: failure.waitMs,
    });
  }

  private pacingError(
    grant: RelayGrant & { ok: false },
    limits: { maxConnections: number; messagesPerMinute: number; source: string },
  ): DeliveryError {
    const waitMs = Math.max(1000, Math.ceil(grant.retryAfterMs / 1000) * 1000);
    const next = `next try in ${Math.round(waitMs / 1000)} s`;
    const mailbox = this.options.settings.mailbox;
    const message =
      grant.reason === 'back-off'
        ? `waiting: Microsoft Graph asked to slow down for ${mailbox}${grant.detail ? ` (${grant.detail})` : ''}; ${next}`
        : `waiting for the mailbox's limit (${limits.maxConnections} concurrent requests, ${limits.messagesPerMinute} messages per minute for ${mailbox}); ${next}`;
    return new DeliveryError({
      stage: 'send',
      transient: true,
      reason: grant.reason === 'back-off' ? 'RELAY_BACK_OFF' : 'RELAY_LIMIT',
      message,
      waitMs,
    });
  }
}

async function compose(message: OutgoingMessage): Promise<RawMessage> {
  try {
    return await composeRawMessage(message);
  } catch (error) {
    throw new DeliveryError({
      stage: 'send',
      transient: false,
      reason: 'COMPOSE_FAILED',
      message: `The message could not be composed: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** Graph's error body: `{ "error": { "code": "ErrorAccessDenied", "message": "Access is denied..." } }`. */
function graphError(text: string): { code: string; message: string } | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = body?.error?.code;
    if (typeof code !== 'string' || code === '') return undefined;
    const message = typeof body.error?.message === 'string' ? body.error.message : '';
    return { code: code.slice(0, 100), message };
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (Graph's form) or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
