// Side A: this service, as `npm start` runs it, in a child process. Each cluster is configured for
// the relay through the admin API; the storm goes in through `POST /events`; an event is accounted
// for once the delivery log holds a final record for it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntimeProcess } from '../../test/support/runtime-process.js';
import { RELAY_PASSWORD, RELAY_USER, startExchangeRelay } from './exchange-relay.js';
import { sampleProcess } from './proc-stats.js';
import {
  maxPerCluster,
  relayFigures,
  type SideResult,
  type StormSettings,
  seconds,
  sleep,
} from './side-result.js';
import { inFlight, putEventsEntry, type StormEvent } from './storm-plan.js';

const ADMIN_TOKEN = 'storm-bench-admin-token-0123456789';

interface DeliveryItem {
  eventId: string;
  outcome: string;
  transient?: boolean;
  messageId?: string;
  at: string;
  reason?: string;
}

/** Final: nothing more will happen to the event without an admin. */
// `grouped` waits for its group email; a transient failure waits for its retry.
const isFinal = (item: DeliveryItem) =>
  item.outcome !== 'grouped' && (item.outcome !== 'failed' || item.transient === false);
const outcomeLabel = (item: DeliveryItem | undefined) =>
  !item
    ? 'no record'
    : item.outcome === 'failed'
      ? `failed (${item.transient === false ? 'permanent' : 'transient'})`
      : item.outcome;
const bareId = (id: string | undefined) => id?.replace(/^<|>$/g, '');

export async function runServiceSide(settings: StormSettings): Promise<SideResult> {
  const { plan } = settings;
  const notes: string[] = [];
  const relay = await startExchangeRelay(settings.relay);
  const dataDir = await mkdtemp(join(tmpdir(), 'storm-service-'));
  const runtime = await startRuntimeProcess({
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    DAILY_NOTICE_TIME: 'off',
    LOG_LEVEL: 'ERROR',
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  try {
    // Grouping and pacing are sent only when the service knows them: a strict schema answers 400
    // naming an unknown field, and the side goes on without it (and says so).
    let useGrouping = true;
    let useLimits = true;
    const configFor = () => ({
      sender: 'Appliance Cluster <alerts@contoso.example>',
      smtp: {
        host: relay.host,
        port: relay.port,
        encryption: 'starttls',
        verifyCertificate: false,
        auth: { type: 'password', username: RELAY_USER, password: RELAY_PASSWORD },
        ...(useLimits
          ? {
              limits: {
                maxConnections: relay.options.maxSessions,
                messagesPerMinute: relay.options.messagesPerWindow,
              },
            }
          : {}),
      },
      adminContacts: 'ops@contoso.example',
      dailyNotice: false,
      language: 'en',
      ...(useGrouping ? { grouping: settings.grouping } : {}),
    });
    for (const clusterId of plan.clusters) {
      for (let attempt = 0; ; attempt++) {
        const put = await api('PUT', `/clusters/${clusterId}/email-config`, configFor());
        if (put.status === 200 || put.status === 201) break;
        if (put.status === 400 && attempt < 2) {
          if (useGrouping && /"grouping\b/.test(put.text)) {
            useGrouping = false;
            notes.push(`grouping: absent (the service answered 400: ${fieldIssue(put.text, 'grouping')})`);
            continue;
          }
          if (useLimits && /"smtp\.limits\b/.test(put.text)) {
            useLimits = false;
            notes.push(
              `smtp.limits: absent (the service answered 400: ${fieldIssue(put.text, 'smtp.limits')})`,
            );
            continue;
          }
        }
        throw new Error(`PUT /clusters/${clusterId}/email-config answered ${put.status}: ${put.text}`);
      }
    }
    if (useGrouping) notes.push(`grouping accepted: ${JSON.stringify(settings.grouping)}`);
    if (useLimits) notes.push('smtp.limits accepted');

    // The storm.
    const eventIds = new Map<string, StormEvent>();
    let postFailures = 0;
    let firstRefusal: string | undefined;
    const post = async (events: StormEvent[]) => {
      const response = await fetch(`${runtime.url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ Entries: events.map(putEventsEntry) }),
      });
      const body = (await response.json()) as { Entries?: Array<{ EventId?: string }> };
      events.forEach((event, i) => {
        const id = body.Entries?.[i]?.EventId;
        if (response.ok && id) eventIds.set(id, event);
        else {
          postFailures++;
          firstRefusal ??= `${response.status} ${JSON.stringify(body).slice(0, 200)}`;
        }
      });
    };
    const chunks = (events: StormEvent[]) => {
      const out: StormEvent[][] = [];
      for (let i = 0; i < events.length; i += settings.entriesPerRequest) {
        out.push(events.slice(i, i + settings.entriesPerRequest));
      }
      return out;
    };
    const concurrentRequests = Math.max(1, Math.floor(settings.inFlight / settings.entriesPerRequest));
    const before = sampleProcess(runtime.pid);
    const startedAt = Date.now();
    await inFlight(chunks(plan.wave1), concurrentRequests, post);
    await sleep(settings.waveGapSeconds * 1000);
    await inFlight(chunks(plan.wave2), concurrentRequests, post);
    const postedSeconds = seconds(Date.now() - startedAt);
    if (postFailures > 0)
      notes.push(`${postFailures} events were refused by POST /events, the first: ${firstRefusal}`);

    // Wait until every acknowledged event has a final record, or the bound.
    const deadline = startedAt + settings.maxSeconds * 1000;
    let records = new Map<string, DeliveryItem>();
    for (;;) {
      records = new Map();
      for (const clusterId of plan.clusters) {
        const log = await api('GET', `/clusters/${clusterId}/deliveries?limit=500`);
        for (const item of (log.body as { items?: DeliveryItem[] }).items ?? [])
          records.set(item.eventId, item);
      }
      const open = [...eventIds.keys()].filter(
        (id) => !records.get(id) || !isFinal(records.get(id) as DeliveryItem),
      );
      if (open.length === 0 || Date.now() >= deadline) break;
      await sleep(2000);
    }
    const waitedSeconds = seconds(Date.now() - startedAt);
    const after = sampleProcess(runtime.pid);

    // Figures.
    const breakdown: Record<string, number> = {};
    let accounted = 0;
    let wave1Accounted = 0;
    let lastFinal = 0;
    const deliveredAt = new Map(
      relay.stats.messages.map((m) => [bareId(m.headers['message-id']), m.deliveredAt]),
    );
    for (const [id, event] of eventIds) {
      const record = records.get(id);
      const label = outcomeLabel(record);
      breakdown[label] = (breakdown[label] ?? 0) + 1;
      if (!record || !isFinal(record)) continue;
      accounted++;
      if (event.wave === 1) wave1Accounted++;
      // "In an email" is when the relay delivered it (later than the record in delay mode).
      const at =
        (record.outcome === 'sent' && deliveredAt.get(bareId(record.messageId))) || Date.parse(record.at);
      lastFinal = Math.max(lastFinal, at);
    }
    const events = plan.wave1.length + plan.wave2.length;
    const firstDelivered = Math.min(...relay.stats.messages.map((m) => m.deliveredAt));
    notes.push(`storm posted in ${postedSeconds} s (wave gap ${settings.waveGapSeconds} s)`);
    notes.push(
      `${relay.stats.connections} TCP connections, ${relay.stats.startTlsHandshakes} STARTTLS handshakes, ${relay.stats.authSuccesses} AUTHs for ${relay.stats.messages.length} emails`,
    );
    const sampleReason = [...records.values()].find((r) => r.outcome === 'failed')?.reason;
    if (sampleReason) notes.push(`a failed record's reason: ${sampleReason.slice(0, 300)}`);
    return {
      side: 'A: this service',
      events,
      accounted,
      wave1Events: plan.wave1.length,
      wave1Accounted,
      breakdown,
      ...relayFigures(relay.stats),
      ...(Number.isFinite(firstDelivered) ? { firstEmailSeconds: seconds(firstDelivered - startedAt) } : {}),
      ...(accounted === events ? { allAccountedSeconds: seconds(lastFinal - startedAt) } : {}),
      waitedSeconds,
      cpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 100) / 100,
      peakRssMiB: Math.round(after.peakRssMiB),
      maxEmailsPerClusterFirst5Min: maxPerCluster(relay.stats.messages, startedAt, (m) => [
        m.headers['x-appliance-notifier-cluster'] ?? '?',
      ]),
      waitSeconds: useGrouping ? settings.grouping.waitSeconds : 0,
      notes,
    };
  } finally {
    await runtime.stop();
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function fieldIssue(text: string, path: string): string {
  try {
    const body = JSON.parse(text) as { issues?: Array<{ path: string; message: string }> };
    const issue = body.issues?.find((i) => i.path === path || i.path.startsWith(`${path}.`));
    if (issue) return `${issue.path}: ${issue.message}`;
  } catch {}
  return text.slice(0, 200);
}
