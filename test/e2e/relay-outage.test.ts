// Issue 11, item 9: the relay is down for 10 minutes of (injected) time, then up again. Every
// event posted during the outage is retried on the retry policy's schedule, reads "temporary
// failure, attempt n of 39, next retry at T" meanwhile, and is emailed exactly once after the
// relay is back; none reaches the dead letters. Two ways a relay is down: nothing listens on its
// port (the host is up, the MTA is not), and the MTA answers every connection with 421.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CATALOG, CONDITION_IDS, EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import type { DeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';
import { retryDelaySeconds } from '../../functions/core/notify/retry-policy.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';
import { type SmtpTestServer, startSmtpTestServer, unusedPort } from '../support/smtp-test-server.js';

const EVENTS = 20;
const OUTAGE_MS = 10 * 60_000;
/** Injected time per step; shorter than the first retry delay, so no attempt is skipped over. */
const STEP_MS = 10_000;
/** Injected time after which the test gives up (the retries would be hours apart by then). */
const GIVE_UP_MS = 2 * 60 * 60_000;
const CLUSTER = 'outage';
const T0 = new Date('2026-11-28T02:00:00Z').getTime();
const RETRYING =
  /^temporary failure, attempt (\d+) of 39, next retry at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z): (.+)$/s;

/**
 * A port nothing listens on, below the ephemeral range: connecting to an ephemeral port on
 * loopback can, rarely, pick that same port as its source and connect to itself (TCP
 * simultaneous open), which a closed port must never do. Elsewhere than Linux: any free port.
 */
async function closedPort(): Promise<number> {
  let low: number;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return unusedPort();
  }
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * Math.max(1, low - 20_000));
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  return unusedPort();
}

/** A relay that is down until `comeBack()`, and then accepts everything. */
interface Outage {
  port: number;
  /** The relay once it is up. */
  relay(): SmtpTestServer | undefined;
  comeBack(): Promise<void>;
  /** Connections the relay refused while down, when it can count them. */
  refused?: () => number;
  close(): Promise<void>;
}

const outages: Array<[name: string, start: () => Promise<Outage>, reason: RegExp]> = [
  [
    'nothing listens on the relay port (connection refused)',
    async () => {
      const port = await closedPort();
      let relay: SmtpTestServer | undefined;
      return {
        port,
        relay: () => relay,
        comeBack: async () => {
          relay = await startSmtpTestServer({ mode: 'plain', port });
        },
        close: async () => relay?.close(),
      };
    },
    /^connect failed: Connection refused by 127\.0\.0\.1:\d+/,
  ],
  [
    'the relay answers every connection with 421',
    async () => {
      let down = true;
      let refused = 0;
      const relay = await startSmtpTestServer({
        mode: 'plain',
        serverOptions: {
          onConnect(_session, callback) {
            if (!down) return callback();
            refused++;
            callback(
              Object.assign(new Error('4.3.2 Service not available, closing transmission channel'), {
                responseCode: 421,
              }),
            );
          },
        },
      });
      return {
        port: relay.port,
        relay: () => relay,
        comeBack: async () => {
          down = false;
        },
        refused: () => refused,
        close: () => relay.close(),
      };
    },
    /421 4\.3\.2 Service not available/,
  ],
];

/**
 * Twenty events, each of its own appliance and about its own primary (so none folds or
 * supersedes another), over every condition.
 */
function entries() {
  return Array.from({ length: EVENTS }, (_, i) => {
    const id = CONDITION_IDS[i % CONDITION_IDS.length] ?? 'promotion-pending';
    const sample = loadSample(id);
    const detail = {
      ...sample.detail,
      clusterId: CLUSTER,
      appliance: { ...sample.detail.appliance, hostname: `node-${String(i).padStart(2, '0')}.example.com` },
      ...ownPrimary(sample.detail, `primary-${String(i).padStart(2, '0')}.example.com`),
    };
    return { Source: EVENT_SOURCE, DetailType: CATALOG[id].detailType, Detail: JSON.stringify(detail) };
  });
}

/** The detail's primary fields, if it has any, set to `host`. */
function ownPrimary(detail: object, host: string): Record<string, string> {
  return Object.fromEntries(
    ['primaryHostname', 'previousPrimaryHostname']
      .filter((field) => field in detail)
      .map((field) => [field, host]),
  );
}

/** Where one event stands, as the test has followed it through the delivery log. */
interface Followed {
  failures: number;
  nextRetryAt: number;
  sentAt?: number;
}

describe('relay down for 10 minutes, then up', () => {
  it.each(outages)(
    '%s: every event is emailed once after the relay is back, none dead-lettered',
    async (_name, startOutage, failureReason) => {
      // Prepare: a runtime on an injected clock, a cluster whose relay is down.
      let now = T0;
      const upAt = T0 + OUTAGE_MS;
      const dataDir = await mkdtemp(join(tmpdir(), 'relay-outage-'));
      const outage = await startOutage();
      let runtime: LocalRuntime | undefined;
      try {
        runtime = await startLocalRuntime({
          port: 0,
          dataDir,
          clock: () => new Date(now),
          dailyNoticeTime: 'off',
          log: createLogger({ logLevel: 'SILENT' }),
          smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 5000 },
        });
        const started = runtime;
        const api = async (method: string, path: string, body?: unknown) => {
          const response = await fetch(`${started.url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${started.adminToken}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          return { status: response.status, body: (await response.json()) as Record<string, unknown> };
        };
        const configured = await api('PUT', `/clusters/${CLUSTER}/email-config`, {
          sender: 'appliance@example.com',
          smtp: { host: '127.0.0.1', port: outage.port, encryption: 'none' },
          adminContacts: 'ops@example.com oncall@example.com',
          // One email per event: what this test is about (group emails have tests of their own).
          grouping: { waitSeconds: 0 },
          language: 'en',
        });
        expect([200, 201]).toContain(configured.status);
        const records = async () => {
          const log = await api('GET', `/clusters/${CLUSTER}/deliveries?limit=500`);
          return new Map((log.body.items as DeliveryRecord[]).map((record) => [record.eventId, record]));
        };
        // Lets the consumer take what the clock made due (it would at its next 250 ms poll), and
        // waits until nothing is due and nothing runs.
        const settle = async () => {
          started.consumer.wake();
          await started.consumer.idle();
        };

        // Act: the events arrive while the relay is down.
        // (PutEvents takes at most 10 entries a call.)
        const all = entries();
        const eventIds: string[] = [];
        for (let first = 0; first < all.length; first += 10) {
          const put = await api('POST', '/events', { Entries: all.slice(first, first + 10) });
          expect(put.body.FailedEntryCount).toBe(0);
          eventIds.push(...(put.body.Entries as { EventId: string }[]).map((entry) => entry.EventId));
        }
        expect(new Set(eventIds).size).toBe(EVENTS);
        await settle();

        // Assess, step by step: each record says when its next attempt is, and that attempt
        // happens at the first step at or after that time, never before, never later.
        const followed = new Map<string, Followed>(
          eventIds.map((id) => [id, { failures: 0, nextRetryAt: now }]),
        );
        const check = (log: Map<string, DeliveryRecord>) => {
          for (const eventId of eventIds) {
            const record = log.get(eventId);
            const state = followed.get(eventId) as Followed;
            expect(record).toBeDefined();
            if (!record || state.sentAt !== undefined) {
              expect(record?.outcome).toBe('sent');
              continue;
            }
            if (record.outcome === 'sent') {
              // Delivered on the first attempt after the relay came back, when it was due.
              expect(now).toBeGreaterThanOrEqual(upAt);
              expect(now).toBeGreaterThanOrEqual(state.nextRetryAt);
              state.sentAt = now;
              continue;
            }
            expect(record).toMatchObject({ outcome: 'failed', transient: true });
            const [, attempt, nextRetry, why] = RETRYING.exec(record.reason ?? '') ?? [];
            expect({ attempt, nextRetry, why }).toEqual({
              attempt: expect.stringMatching(/^\d+$/),
              nextRetry: expect.any(String),
              why: expect.stringMatching(failureReason),
            });
            if (Number(attempt) === state.failures) {
              // Not due yet: still waiting, as the record says.
              expect(now).toBeLessThan(state.nextRetryAt);
              continue;
            }
            // A new failed attempt: the next one, made while the relay was down, once it was due.
            expect(Number(attempt)).toBe(state.failures + 1);
            expect(now).toBeLessThan(upAt);
            expect(now).toBeGreaterThanOrEqual(state.nextRetryAt);
            const delaySeconds = (Date.parse(nextRetry as string) - now) / 1000;
            expect(delaySeconds).toBeGreaterThanOrEqual(retryDelaySeconds(Number(attempt), () => 0));
            expect(delaySeconds).toBeLessThanOrEqual(retryDelaySeconds(Number(attempt), () => 1));
            state.failures = Number(attempt);
            state.nextRetryAt = Date.parse(nextRetry as string);
          }
        };
        check(await records());
        for (const state of followed.values()) expect(state.failures).toBe(1);

        while ([...followed.values()].some((state) => state.sentAt === undefined)) {
          expect(now - T0).toBeLessThan(GIVE_UP_MS);
          now += STEP_MS;
          if (now === upAt) await outage.comeBack();
          await settle();
          check(await records());
          if (now < upAt) expect(outage.relay()?.messages ?? []).toHaveLength(0);
        }

        // One email per event, each carrying its event id.
        const messages = outage.relay()?.messages ?? [];
        const emailed = messages.map((message) => message.headers['x-appliance-notifier-event']);
        expect([...emailed].sort()).toEqual([...eventIds].sort());
        for (const message of messages)
          expect(message.rcptTo).toEqual(['ops@example.com', 'oncall@example.com']);
        // With 30 s doubling and jitter of at least 0.75, attempts 1 to 5 all fall within the
        // first 450 s of the outage and the 6th no earlier than 697 s: five failures each, then
        // the email on the first attempt after the relay is back (700 s to 930 s).
        for (const state of followed.values()) {
          expect(state.failures).toBe(5);
          expect(state.sentAt).toBeLessThanOrEqual(T0 + 930_000 + STEP_MS);
        }
        // The relay saw each of those failed attempts, when it can count them.
        if (outage.refused) expect(outage.refused()).toBe(EVENTS * 5);
        expect(await started.queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
        const log = await records();
        expect(log.size).toBe(EVENTS);
        for (const record of log.values()) {
          expect(record).toMatchObject({
            outcome: 'sent',
            recipients: ['ops@example.com', 'oncall@example.com'],
          });
        }
        // Nothing arrives later either: a last look, an hour on.
        now += 60 * 60_000;
        await settle();
        expect(outage.relay()?.messages).toHaveLength(EVENTS);
      } finally {
        await runtime?.close();
        await outage.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
