// `npm run smoke`: after a deploy, check that the API answers the way the application does, with
// one line per check. The checks go through the public routes only (as a browser, an OAuth
// provider and an admin reach them), so they work against API Gateway and the embedded runtime.
import type { ConditionId } from '../events/catalog.js';
import { ADMIN_PAGE_PATH, OAUTH_REDIRECT_PATH } from '../functions/kernel/public-paths.js';
import { type PutEventsEntry, sampleEntry } from './emit.js';

export interface SmokeCheck {
  name: string;
  /** `skipped`: the check needs a flag that was not given. */
  status: 'ok' | 'failed' | 'skipped';
  /** What was seen (ok), why it failed, or what it needs. */
  detail: string;
}

export interface SmokeSummary {
  ok: boolean;
  checks: SmokeCheck[];
}

/** Sends one entry and answers its event id (PutEvents on a bus, or the runtime's `/events`). */
export type PutEvent = (entry: PutEventsEntry) => Promise<string>;

export interface SmokeOptions {
  /** The API's base URL (the stack's `ApiUrl` output, or the embedded runtime's URL). */
  api: string;
  /** An admin token (a JWT of the authorizer; locally the runtime's admin token). */
  token?: string;
  /** The cluster the test email and the event are for (default `default`). */
  cluster?: string;
  /** An EventBridge bus name: send a sample event there and find it in the delivery log. */
  bus?: string;
  /** The embedded runtime: send the sample event to `<api>/events` instead of a bus. */
  local?: boolean;
  /** The condition whose sample is sent (default `data-sync-stale`, a warning). */
  condition?: ConditionId;
  /** How long to wait for the event in the delivery log (default 90 s). */
  deliveryTimeoutMs?: number;
  /** Between two reads of the delivery log (default 2 s). */
  pollIntervalMs?: number;
  /** Per HTTP request (default 35 s: the test email's own deadline is 20 s). */
  requestTimeoutMs?: number;
  /** Replaces PutEvents on `bus` (tests). */
  putEvent?: PutEvent;
  /** Called with each check's line as soon as it is known. */
  print?: (line: string) => void;
}

export const DEFAULT_SMOKE_CONDITION: ConditionId = 'data-sync-stale';

class CheckFailed extends Error {}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** `connect ECONNREFUSED 127.0.0.1:1` rather than node's bare `fetch failed`. */
function networkReason(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (jest's VM modules), so no instanceof.
  const err = error as { name?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (typeof err?.message !== 'string') return String(error);
  if (err.name === 'TimeoutError') return err.message;
  const cause = err.cause as { message?: unknown; code?: unknown } | undefined;
  if (typeof cause?.message === 'string') {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}

/** One line per check: `ok      <name>: <detail>`. */
export function formatCheck(check: SmokeCheck): string {
  const label = check.status === 'ok' ? 'ok' : check.status === 'failed' ? 'FAILED' : 'skipped';
  return `${label.padEnd(7)} ${check.name}: ${check.detail}`;
}

function titleOf(html: string): string | undefined {
  return /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
}

/** API Gateway's own answers carry `{"message": ...}`; the app's errors carry `{"error": ...}`. */
function describeAnswer(answer: Answer): string {
  let what = `HTTP ${answer.status}`;
  if (answer.contentType) what += ` ${answer.contentType.split(';')[0]}`;
  try {
    const body = JSON.parse(answer.text) as { message?: unknown; error?: unknown };
    if (typeof body.error === 'string') return `${what} "${body.error}"`;
    if (typeof body.message === 'string') {
      return `${what} "${body.message}" (API Gateway's own answer: the request did not reach the application)`;
    }
  } catch {
    // not JSON
  }
  const title = titleOf(answer.text);
  return title ? `${what} "${title}"` : what;
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeSummary> {
  const api = options.api.replace(/\/+$/, '');
  const cluster = options.cluster ?? 'default';
  const clusterPath = `/clusters/${encodeURIComponent(cluster)}`;
  const requestTimeoutMs = options.requestTimeoutMs ?? 35_000;
  const checks: SmokeCheck[] = [];

  const request = async (
    method: string,
    path: string,
    init: { token?: string; body?: unknown } = {},
  ): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${api}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          accept: 'text/html, application/json',
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new CheckFailed(`${method} ${api}${path}: no answer: ${networkReason(error)}`);
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  };

  const check = async (name: string, run: () => Promise<string>) => {
    let result: SmokeCheck;
    try {
      result = { name, status: 'ok', detail: await run() };
    } catch (error) {
      result = {
        name,
        status: 'failed',
        detail: error instanceof CheckFailed ? error.message : `unexpected error: ${networkReason(error)}`,
      };
    }
    checks.push(result);
    options.print?.(formatCheck(result));
  };
  const skip = (name: string, detail: string) => {
    const result: SmokeCheck = { name, status: 'skipped', detail };
    checks.push(result);
    options.print?.(formatCheck(result));
  };
  const json = <T>(answer: Answer, what: string): T => {
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      throw new CheckFailed(`${what}: ${describeAnswer(answer)}, not JSON`);
    }
  };

  await check(`admin page GET ${ADMIN_PAGE_PATH}`, async () => {
    const answer = await request('GET', ADMIN_PAGE_PATH);
    if (answer.status !== 200) throw new CheckFailed(`expected 200 HTML, got ${describeAnswer(answer)}`);
    if (!answer.contentType.startsWith('text/html')) {
      throw new CheckFailed(`expected HTML, got ${answer.contentType || 'no content type'}`);
    }
    return `200 ${answer.contentType.split(';')[0]}${titleOf(answer.text) ? ` "${titleOf(answer.text)}"` : ''}`;
  });

  // An unknown state gets the application's own 400 page ("This sign-in link is not valid"); a
  // 404 here means the trailing-slash redirect URI does not reach the function.
  const redirectPath = `${OAUTH_REDIRECT_PATH}?state=x`;
  await check(`OAuth redirect GET ${redirectPath}`, async () => {
    const answer = await request('GET', redirectPath);
    const title = titleOf(answer.text);
    const appPage =
      answer.contentType.startsWith('text/html') && title?.includes('appliance-notifier') === true;
    if (answer.status !== 400 || !appPage) {
      throw new CheckFailed(
        `expected the application's 400 page for an unknown state, got ${describeAnswer(answer)}` +
          (answer.status === 404 ? ': the trailing-slash route does not reach the admin API' : ''),
      );
    }
    return `the application's page: 400 "${title}"`;
  });

  await check('admin route GET /conditions without a token', async () => {
    const answer = await request('GET', '/conditions');
    if (answer.status === 401) return '401 as expected';
    if (answer.status >= 200 && answer.status < 300) {
      throw new CheckFailed(`answered ${answer.status} without a token: the admin API is not protected`);
    }
    throw new CheckFailed(`expected 401, got ${describeAnswer(answer)}`);
  });

  const testEmailName = `test email POST ${clusterPath}/email-config/test`;
  if (!options.token) skip(testEmailName, 'needs --token');
  else {
    await check(testEmailName, async () => {
      const answer = await request('POST', `${clusterPath}/email-config/test`, { token: options.token });
      if (answer.status === 401 || answer.status === 403) {
        throw new CheckFailed(`${describeAnswer(answer)}: the token was refused`);
      }
      if (answer.status === 404) {
        throw new CheckFailed(`${describeAnswer(answer)}: is cluster "${cluster}" configured?`);
      }
      if (answer.status !== 200) throw new CheckFailed(`expected 200, got ${describeAnswer(answer)}`);
      const result = json<{
        ok?: boolean;
        stage?: string;
        code?: number;
        enhancedCode?: string;
        message?: string;
        hint?: string;
        recipients?: string[];
        destination?: string;
        durationMs?: number;
      }>(answer, 'the test-email result');
      if (result.ok !== true) {
        const code = [result.code, result.enhancedCode].filter((c) => c !== undefined).join(' ');
        throw new CheckFailed(
          `not sent: stage ${result.stage ?? '?'}${code ? `, ${code}` : ''}: ${result.message ?? 'no message'}` +
            (result.hint ? ` (hint: ${result.hint})` : ''),
        );
      }
      return (
        `sent to ${(result.recipients ?? []).join(', ') || 'the admin contacts'}` +
        `${result.destination ? ` via ${result.destination}` : ''}` +
        `${result.durationMs !== undefined ? ` in ${result.durationMs} ms` : ''}`
      );
    });
  }

  const condition = options.condition ?? DEFAULT_SMOKE_CONDITION;
  const eventName = options.local
    ? `event ${condition} via ${api}/events to the delivery log`
    : `event ${condition} via bus ${options.bus ?? '?'} to the delivery log`;
  if (!options.bus && !options.local) skip('event to the delivery log', 'needs --bus (or --local)');
  else if (!options.token) skip(eventName, 'needs --token to read the delivery log');
  else {
    await check(eventName, async () => {
      const token = options.token as string;
      const entry = sampleEntry(condition, cluster);
      let eventId: string;
      if (options.local) {
        const answer = await request('POST', '/events', { token, body: { Entries: [entry] } });
        if (answer.status !== 200) throw new CheckFailed(`POST /events: ${describeAnswer(answer)}`);
        const result = json<{ Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] }>(
          answer,
          'POST /events',
        );
        const [first] = result.Entries ?? [];
        if (!first?.EventId) {
          throw new CheckFailed(`POST /events refused the entry: ${first?.ErrorCode} ${first?.ErrorMessage}`);
        }
        eventId = first.EventId;
      } else {
        const put = options.putEvent ?? putEventOnBus(options.bus as string);
        try {
          eventId = await put(entry);
        } catch (error) {
          throw new CheckFailed(`PutEvents on bus ${options.bus}: ${networkReason(error)}`);
        }
      }

      const deadline = Date.now() + (options.deliveryTimeoutMs ?? 90_000);
      const interval = options.pollIntervalMs ?? 2_000;
      let last: DeliveryItem | undefined;
      let lastError = '';
      for (;;) {
        try {
          const answer = await request('GET', `${clusterPath}/deliveries?limit=100`, { token });
          if (answer.status === 200) {
            const items = json<{ items?: DeliveryItem[] }>(answer, 'the delivery log').items ?? [];
            last = items.find((item) => item.eventId === eventId) ?? last;
            lastError = '';
          } else lastError = `the delivery log answered ${describeAnswer(answer)}`;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
        }
        // A transient failure is still being retried: wait for its next outcome.
        const settled = last !== undefined && !(last.outcome === 'failed' && last.transient);
        if (settled || Date.now() + interval > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
      const seconds = Math.round((options.deliveryTimeoutMs ?? 90_000) / 1000);
      if (!last) {
        throw new CheckFailed(
          `event ${eventId} was accepted but is not in the delivery log of cluster "${cluster}" after ${seconds} s` +
            (lastError
              ? ` (${lastError})`
              : ': check the notify queue, its dead-letter queue and the alarms'),
        );
      }
      const outcome = `${last.outcome}${last.reason ? `: ${last.reason}` : ''}`;
      if (last.outcome === 'failed' || last.outcome === 'rejected') {
        throw new CheckFailed(`event ${eventId} ${outcome}`);
      }
      const to = last.recipients?.length ? ` to ${last.recipients.join(', ')}` : '';
      const note =
        last.outcome === 'grouped'
          ? " (waits for the cluster's group email; its outcome follows in the log)"
          : '';
      return `event ${eventId} ${outcome}${last.outcome === 'sent' ? to : ''}${note}`;
    });
  }

  return { ok: checks.every((c) => c.status !== 'failed'), checks };
}

interface DeliveryItem {
  eventId: string;
  outcome: string;
  reason?: string;
  transient?: boolean;
  recipients?: string[];
}

/** PutEvents on a deployed bus, as `npm run emit -- <condition> --bus <name>` does. */
function putEventOnBus(bus: string): PutEvent {
  return async (entry) => {
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const result = await new EventBridgeClient({}).send(
      new PutEventsCommand({ Entries: [{ ...entry, EventBusName: bus }] }),
    );
    const [first] = result.Entries ?? [];
    if (result.FailedEntryCount || !first?.EventId) {
      throw new Error(`${first?.ErrorCode ?? 'no event id'} ${first?.ErrorMessage ?? ''}`.trim());
    }
    return first.EventId;
  };
}
