// A failover storm through the embedded runtime with an injected clock: events of one cluster
// go into one group email after `grouping.waitSeconds`, later ones into the next at most one per
// `intervalMinutes`, and a follow-on condition supersedes what it makes redundant.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CATALOG, type ConditionId, EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import type { LocalRuntime } from '../../local-runtime/server.js';
import { type RuntimeWithRelay, runtimeApi, startRuntimeWithRelay } from '../support/runtime-api.js';
import type { ReceivedMessage, SmtpTestServer } from '../support/smtp-test-server.js';

const T0 = Date.parse('2026-11-28T03:00:00Z');
let now = new Date(T0);
let started: RuntimeWithRelay | undefined;
let runtime: LocalRuntime;
let relay: SmtpTestServer;

const api = runtimeApi(() => runtime);

async function configure(clusterId: string) {
  const saved = await api('PUT', `/clusters/${clusterId}/email-config`, {
    sender: 'appliance@example.com',
    smtp: { host: relay.host, port: relay.port, encryption: 'none' },
    adminContacts: 'ops@example.com',
    language: 'en',
    grouping: { waitSeconds: 30, intervalMinutes: 5 },
  });
  expect([200, 201]).toContain(saved.status);
}

/** One PutEvents entry: a condition's sample for an appliance of a cluster, with patches. */
function entry(id: ConditionId, clusterId: string, hostname: string, patch: Record<string, unknown> = {}) {
  const sample = loadSample(id);
  return {
    Source: EVENT_SOURCE,
    DetailType: CATALOG[id].detailType,
    Detail: JSON.stringify({
      ...sample.detail,
      clusterId,
      appliance: { ...sample.detail.appliance, hostname },
      ...patch,
    }),
  };
}

async function put(entries: ReturnType<typeof entry>[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += 10) {
    const answer = await api('POST', '/events', { Entries: entries.slice(i, i + 10) });
    expect(answer.body.FailedEntryCount).toBe(0);
    ids.push(...(answer.body.Entries as { EventId: string }[]).map((e) => e.EventId));
  }
  await runtime.consumer.idle();
  return ids;
}

/** Moves the injected clock on and lets the consumer take what became visible. */
async function advance(ms: number) {
  now = new Date(now.getTime() + ms);
  runtime.consumer.wake();
  await runtime.consumer.idle();
}

type Item = {
  eventId: string;
  outcome: string;
  messageId?: string;
  groupId?: string;
  reason?: string;
  supersededBy?: { eventId: string };
};
async function records(clusterId: string): Promise<Map<string, Item>> {
  const page = await api('GET', `/clusters/${clusterId}/deliveries?limit=500`);
  return new Map((page.body.items as Item[]).map((item) => [item.eventId, item]));
}

const ofCluster = (clusterId: string) =>
  relay.messages.filter((m: ReceivedMessage) => m.headers['x-appliance-notifier-cluster'] === clusterId);

beforeAll(async () => {
  started = await startRuntimeWithRelay('storm-', { clock: () => now });
  ({ runtime, relay } = started);
  for (const clusterId of ['storm-a', 'storm-b', 'storm-c']) await configure(clusterId);
});

afterAll(() => started?.close());

describe('a storm in two clusters', () => {
  let first: string[];

  it('sends one email per cluster after the group wait, with every event in it', async () => {
    const conditions: ConditionId[] = [
      'primary-check-failed',
      'test-ips-unreachable',
      'data-sync-stale',
      'version-mismatch',
    ];
    const storm = [
      ...Array.from({ length: 12 }, (_, n) =>
        entry(conditions[n % 4] as ConditionId, 'storm-a', `a-${n}.example.com`),
      ),
      ...Array.from({ length: 6 }, (_, n) =>
        entry(conditions[n % 4] as ConditionId, 'storm-b', `b-${n}.example.com`),
      ),
    ];

    first = await put(storm);
    const waiting = await records('storm-a');
    await advance(29_000);
    const beforeTheWait = relay.messages.length;
    await advance(2_000); // the group is due: the opener sends it
    await advance(6_000); // the members come back and find it sent

    expect(beforeTheWait).toBe(0);
    expect([...waiting.values()].every((r) => r.outcome === 'grouped')).toBe(true);
    expect(ofCluster('storm-a')).toHaveLength(1);
    expect(ofCluster('storm-b')).toHaveLength(1);
    const [emailA] = ofCluster('storm-a');
    expect(emailA?.subject).toMatch(/^\[CRITICAL\] 12 conditions in cluster storm-a: /);
    const a = await records('storm-a');
    const b = await records('storm-b');
    for (const [log, ids] of [
      [a, first.slice(0, 12)],
      [b, first.slice(12)],
    ] as const) {
      const outcomes = ids.map((id) => log.get(id));
      expect(outcomes.every((r) => r?.outcome === 'sent')).toBe(true);
      // One email: the same message id and group on every event of the cluster.
      expect(new Set(outcomes.map((r) => r?.messageId)).size).toBe(1);
      expect(new Set(outcomes.map((r) => r?.groupId)).size).toBe(1);
    }
    for (const id of first.slice(0, 12)) expect(emailA?.text).toContain(id);
    expect(await runtime.queue.depth()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });

  it('puts later events into the next email, no sooner than the interval after the first', async () => {
    const later = await put([
      entry('self-check-failed', 'storm-a', 'a-late-1.example.com'),
      entry('backup-operations-disabled', 'storm-a', 'a-late-2.example.com'),
    ]);

    await advance(60_000);
    const withinTheInterval = ofCluster('storm-a').length;
    await advance(4 * 60_000);
    await advance(10_000);

    expect(withinTheInterval).toBe(1);
    expect(ofCluster('storm-a')).toHaveLength(2);
    const log = await records('storm-a');
    expect(later.map((id) => log.get(id)?.outcome)).toEqual(['sent', 'sent']);
    expect(ofCluster('storm-a')[1]?.subject).toMatch(/2 conditions in cluster storm-a/);
  });
});

describe('a failover: follow-on conditions supersede what they make redundant', () => {
  const primary = 'c-primary-01.example.com';

  it('lists the countdown under "also reported" in the email of the promotion, and records it inhibited', async () => {
    const [pending, promoted] = await put([
      entry('promotion-pending', 'storm-c', 'c-backup-01.example.com', { primaryHostname: primary }),
      entry('backup-promoted', 'storm-c', 'c-backup-01.example.com', { previousPrimaryHostname: primary }),
    ]);

    await advance(31_000);
    await advance(6_000);

    const [email] = ofCluster('storm-c');
    expect(ofCluster('storm-c')).toHaveLength(1);
    expect(email?.text).toContain('Also reported');
    expect(email?.subject).toContain(CATALOG['backup-promoted'].title.en);
    const log = await records('storm-c');
    expect(log.get(promoted as string)?.outcome).toBe('sent');
    expect(log.get(pending as string)).toMatchObject({
      outcome: 'inhibited',
      supersededBy: { eventId: promoted },
      reason: expect.stringContaining('The promotion the countdown announced has happened'),
    });
  });

  it('inhibits a later countdown about the same primary at once, and still alerts on another primary', async () => {
    const [same, other] = await put([
      entry('promotion-pending', 'storm-c', 'c-backup-02.example.com', { primaryHostname: primary }),
      entry('promotion-pending', 'storm-c', 'c-backup-03.example.com', {
        primaryHostname: 'c-primary-02.example.com',
      }),
    ]);
    await advance(5 * 60_000 + 10_000);

    const log = await records('storm-c');
    expect(log.get(same as string)?.outcome).toBe('inhibited');
    expect(log.get(other as string)?.outcome).toBe('sent');
    expect(ofCluster('storm-c')).toHaveLength(2);
  });
});

describe('an envelope delivered directly while grouping is on', () => {
  it('answers 202 with where it waits, not a failure', async () => {
    await configure('storm-d');
    const sample = loadSample('data-sync-stale');
    const envelope = { ...sample, id: 'storm-d-direct', detail: { ...sample.detail, clusterId: 'storm-d' } };

    const answer = await api('POST', '/events/envelope', envelope);

    expect(answer.status).toBe(202);
    expect(answer.body.status).toMatch(/^waiting in the group email grp-storm-d-/);
  });
});
