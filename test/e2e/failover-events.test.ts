import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CATALOG, CONDITION_IDS, type ConditionId, EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import type { LocalRuntime } from '../../local-runtime/server.js';
import {
  ONE_ATTEMPT,
  type RuntimeWithRelay,
  runtimeApi,
  startRuntimeWithRelay,
} from '../support/runtime-api.js';
import type { ReceivedMessage, SmtpTestServer } from '../support/smtp-test-server.js';

let started: RuntimeWithRelay | undefined;
let runtime: LocalRuntime;
let relay: SmtpTestServer;
let now = new Date('2026-11-28T02:00:00Z');

const api = runtimeApi(() => runtime);

async function configure(clusterId: string, language: 'en' | 'de' = 'en') {
  const response = await api('PUT', `/clusters/${clusterId}/email-config`, {
    sender: 'appliance@example.com',
    smtp: { host: relay.host, port: relay.port, encryption: 'none' },
    adminContacts: 'ops@example.com oncall@example.com',
    // One email per event: what this test is about (group emails have tests of their own).
    grouping: { waitSeconds: 0 },
    language,
  });
  expect([200, 201]).toContain(response.status);
}

/** A condition's sample from events/, as a fresh event (new id) for one test's cluster. */
function eventFor(id: ConditionId, clusterId: string, patch: Record<string, unknown> = {}) {
  const sample = loadSample(id);
  return {
    ...sample,
    id: randomUUID(),
    time: now.toISOString(),
    detail: { ...sample.detail, clusterId, ...patch },
  } as Record<string, unknown> & { id: string; detail: Record<string, unknown> };
}

const byCondition = (messages: ReceivedMessage[], id: string) =>
  messages.filter((m) => m.headers['x-appliance-notifier-condition'] === id);

beforeAll(async () => {
  started = await startRuntimeWithRelay('events-', { clock: () => now, ...ONE_ATTEMPT });
  ({ runtime, relay } = started);
});

afterAll(() => started?.close());

beforeEach(() => relay.reset());

// The detail field whose value each condition's email must show: typed over the catalog, so a
// new condition without a row here does not compile.
const keyFact: Record<ConditionId, string> = {
  'version-mismatch': 'backupVersion',
  'shared-ip-interface-disabled': 'sharedIp',
  'shared-ip-not-assigned': 'sharedIp',
  'primary-and-test-ips-unreachable': 'primaryHostname',
  'test-ips-unreachable': 'testIps',
  'backup-operations-disabled': 'disabledBy',
  'self-check-failed': 'error',
  'primary-hostname-unreachable': 'primaryHostname',
  'primary-check-failed': 'primaryHostname',
  'promotion-pending': 'primaryHostname',
  'backup-promoted': 'previousPrimaryHostname',
  'data-sync-stale': 'backupHostname',
};

describe('every condition through PutEvents to a real relay', () => {
  beforeAll(() => configure('all-conditions'));

  it.each(CONDITION_IDS)('%s yields one email with its subject and facts', async (id) => {
    // Its own appliance: primary-and-test-ips-unreachable supersedes test-ips-unreachable from the same one.
    const event = eventFor(id, 'all-conditions', {
      appliance: { ...loadSample(id).detail.appliance, hostname: `${id}.example.com` },
    });

    const put = await api('POST', '/events', {
      Entries: [
        { Source: EVENT_SOURCE, DetailType: CATALOG[id].detailType, Detail: JSON.stringify(event.detail) },
      ],
    });

    expect(put.body).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    // PutEvents answers once the entries are queued; notify delivers them right after.
    await runtime.consumer.idle();
    const messages = byCondition(relay.messages, id);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    const appliance = (event.detail.appliance as { hostname: string }).hostname;
    expect(message?.subject).toContain(CATALOG[id].title.en);
    expect(message?.subject).toContain(appliance);
    expect(message?.rcptTo).toEqual(['ops@example.com', 'oncall@example.com']);
    const fact = event.detail[keyFact[id]];
    const expected = Array.isArray(fact) ? String(fact[0]) : String(fact);
    expect(message?.text).toContain(expected);
  });
});

describe('exactly once and folding', () => {
  beforeAll(async () => {
    await configure('dup');
    await configure('fold');
  });

  it('emails an event delivered three times once', async () => {
    const event = eventFor('backup-promoted', 'dup');

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await api('POST', '/events/envelope', event)).body.outcome);

    expect(outcomes).toEqual(['sent', 'duplicate', 'duplicate']);
    expect(relay.messages).toHaveLength(1);
  });

  it('folds fifty repeats into one email, and the first email after the window says 49 were folded', async () => {
    const start = now;
    for (let i = 0; i < 50; i++) {
      now = new Date(start.getTime() + i * 60_000);
      await api('POST', '/events/envelope', eventFor('test-ips-unreachable', 'fold'));
    }
    expect(relay.messages).toHaveLength(1);

    now = new Date(start.getTime() + 4 * 60 * 60_000 + 1);
    await api('POST', '/events/envelope', eventFor('test-ips-unreachable', 'fold'));

    expect(relay.messages).toHaveLength(2);
    const after = relay.messages[1];
    expect(after?.subject).toContain('(+49 repeats)');
    expect(after?.text).toContain('49 repeats of this condition from this appliance were not emailed');
    const log = await api('GET', '/clusters/fold/deliveries?limit=500');
    const outcomes = (log.body.items as { outcome: string }[]).map((item) => item.outcome);
    expect(outcomes.filter((o) => o === 'folded')).toHaveLength(49);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(2);
  });
});

describe('bad events are rejected with a reason, never emailed, never thrown', () => {
  beforeAll(() => configure('bad'));

  it.each([
    [
      'an unknown detail-type',
      () => ({ ...eventFor('backup-promoted', 'bad'), 'detail-type': 'Failover Disk Full' }),
      /unknown detail-type/,
    ],
    [
      'a malformed detail',
      () => eventFor('version-mismatch', 'bad', { primaryVersion: 42 }),
      /detail\.primaryVersion/,
    ],
    [
      'a 100 KB detail',
      () => eventFor('self-check-failed', 'bad', { padding: 'x'.repeat(100 * 1024) }),
      /KiB serialized; the limit is 64 KiB/,
    ],
    [
      'CR/LF in a hostname',
      () =>
        eventFor('backup-promoted', 'bad', {
          appliance: { hostname: 'evil.example.com\r\nBcc: x@example.org', role: 'backup', version: '1' },
        }),
      /control characters .* detail\.appliance\.hostname/,
    ],
  ])('%s', async (_name, makeEvent, reason) => {
    const event = makeEvent();

    const response = await api('POST', '/events/envelope', event);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(reason) });
    expect(relay.messages).toHaveLength(0);
    const log = await api('GET', '/clusters/bad/deliveries?outcome=rejected&limit=500');
    expect(log.body.items).toContainEqual(
      expect.objectContaining({ eventId: event.id, outcome: 'rejected' }),
    );
  });

  it('routes an unknown detail-type of the appliance source to the catch-all, which rejects it', async () => {
    const put = await api('POST', '/events', {
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: 'Failover Something New',
          Detail: JSON.stringify({ clusterId: 'bad' }),
        },
      ],
    });
    const eventId = (put.body.Entries as { EventId: string }[])[0]?.EventId;
    await runtime.consumer.idle();

    const log = await api('GET', '/clusters/bad/deliveries?outcome=rejected&limit=500');

    expect(log.body.items).toContainEqual(expect.objectContaining({ eventId, outcome: 'rejected' }));
    expect(relay.messages).toHaveLength(0);
  });
});

describe('temporary and permanent relay failures', () => {
  beforeAll(() => configure('flaky'));

  it.each([
    ['421', '421 4.3.2 Service shutting down'],
    ['451', '451 4.3.0 Try again later'],
  ])(
    'a %s reply on the last attempt (one allowed here) is given up with how to replay, and dead-lettered',
    async (_code, reply) => {
      relay.setHandlers({ onMailFrom: () => reply });
      const event = eventFor('primary-check-failed', 'flaky');
      const deadBefore = (await runtime.queue.depth()).deadLetters;

      const response = await api('POST', '/events/envelope', event);
      await runtime.consumer.idle();

      // Given up and moved to the dead letters by notify: the answer is that final outcome.
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        outcome: 'failed',
        reason: expect.stringMatching(/^gave up after 1 attempt/),
      });
      const log = await api('GET', '/clusters/flaky/deliveries?outcome=failed');
      expect(log.body.items).toContainEqual(
        expect.objectContaining({
          eventId: event.id,
          transient: false,
          reason: expect.stringMatching(
            new RegExp(
              `^gave up after 1 attempt at \\S+: replay with .*temporary failures only; the last: .*${_code}`,
            ),
          ),
        }),
      );
      expect((await runtime.queue.depth()).deadLetters).toBe(deadBefore + 1);
    },
  );

  it('replays the dead-lettered events once the relay is back, from the dead letters, and says so per event', async () => {
    relay.reset();
    const before = await api('GET', '/clusters/flaky/deliveries?outcome=failed');
    const given = (before.body.items as { eventId: string }[]).map((item) => item.eventId);

    const replay = await api('POST', '/deliveries/replay-failed?clusterId=flaky');
    await runtime.consumer.idle();

    expect(given).toHaveLength(2);
    expect(replay.body.replayed).toEqual(
      given.map((eventId) => expect.objectContaining({ eventId, ok: true })),
    );
    expect(byCondition(relay.messages, 'primary-check-failed')).toHaveLength(1);
    expect((await runtime.queue.depth()).deadLetters).toBe(0);
  });

  it.each([
    ['550', '550 5.7.1 Relaying denied'],
    ['554', '554 5.7.1 Message rejected'],
  ])(
    'a %s reply is recorded as failed without a retry, and a replay after the fix delivers',
    async (_code, reply) => {
      relay.setHandlers(_code === '550' ? { onMailFrom: () => reply } : { onData: () => reply });
      // An appliance of its own, so that the other case's email does not fold this one.
      const event = eventFor('data-sync-stale', 'flaky', {
        appliance: { hostname: `primary-${_code}.example.com`, role: 'primary', version: '24.3.2' },
      });

      const response = await api('POST', '/events/envelope', event);

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ outcome: 'failed', reason: expect.stringContaining(_code) });
      expect(relay.messages).toHaveLength(0);

      // A replay before the fix fails again, and says so.
      const tooEarly = await api('POST', '/deliveries/replay-failed?clusterId=flaky');
      expect(tooEarly.body.replayed).toContainEqual(
        expect.objectContaining({ eventId: event.id, ok: false, error: expect.stringContaining(_code) }),
      );

      relay.reset();
      const replay = await api('POST', '/deliveries/replay-failed?clusterId=flaky');

      expect(replay.body.replayed).toContainEqual(expect.objectContaining({ eventId: event.id, ok: true }));
      expect(byCondition(relay.messages, 'data-sync-stale')).toHaveLength(1);
      const again = await api('POST', '/deliveries/replay-failed?clusterId=flaky');
      expect(again.body.replayed).not.toContainEqual(expect.objectContaining({ eventId: event.id }));
    },
  );
});

describe('daily notice', () => {
  it('emails every cluster with the notice on, with the day summary per condition', async () => {
    const response = await api('POST', '/daily-notice/run');

    const results = response.body.results as { clusterId: string; outcome: string }[];
    expect(results).toContainEqual({ clusterId: 'fold', outcome: 'sent', messageId: expect.any(String) });
    const notice = relay.messages.find((m) => m.headers['x-appliance-notifier-cluster'] === 'fold');
    expect(notice?.headers['x-appliance-notifier-kind']).toBe('daily-notice');
    // 51 test-ips-unreachable events reached cluster "fold": 2 emailed, 49 folded.
    const row = notice?.text
      ?.split('\n')
      .find((line) => line.includes(CATALOG['test-ips-unreachable'].title.en));
    expect(row?.trim().split(/\s+/).slice(0, 5)).toEqual(['51', '2', '49', '0', '0']);
  });
});
