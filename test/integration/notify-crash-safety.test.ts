// The notify path under the faults of a real incident: a crash during a send, an unreadable
// configuration, an event that cannot be stored, and a relay that stays down past the last
// attempt. The ledger is the embedded runtime's (a real journal in a temp directory); the mailer
// records what it was asked to send, or never answers (a process that died mid-send).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadSample } from '../../events/samples.js';
import type { SqliteLedger } from '../../functions/adapters/local/sqlite-ledger.js';
import type { ConfigStore } from '../../functions/core/config/config-store.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import { DeliveryError, type Mailer, type OutgoingMessage } from '../../functions/core/mail/mailer.js';
import {
  DEFAULT_LEASE_MS,
  NotifyService,
  RetryableNotifyError,
} from '../../functions/core/notify/notify-service.js';
import { RETRY_POLICY } from '../../functions/core/notify/retry-policy.js';
import { createLogger } from '../../functions/shared/logger.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';
import { openSqliteLedger } from '../support/sqlite-ledger.js';

const CLUSTER = 'crash';
const T0 = new Date('2026-11-28T02:00:00.000Z');
const log = createLogger({ logLevel: 'CRITICAL' as 'ERROR' });

let directory: string;
let ledger: SqliteLedger;
let closeLedger: () => Promise<void>;
let now: Date;
let sent: OutgoingMessage[];
let stored: StoredEmailConfig | Error;

const store: ConfigStore = {
  get: async () => {
    if (stored instanceof Error) throw stored;
    return stored;
  },
  put: async () => undefined,
  listClusterIds: async () => [CLUSTER],
  delete: async () => false,
};

const recording: Mailer = {
  send: async (message) => {
    sent.push(message);
    return { messageId: `<${randomUUID()}@test>`, accepted: message.to, rejected: [], destination: 'test' };
  },
};
const neverAnswers: Mailer = { send: () => new Promise(() => undefined) };
const relayDown: Mailer = {
  send: async () => {
    throw new DeliveryError({ stage: 'connect', message: 'connect ECONNREFUSED', transient: true });
  },
};

function service(mailer: Mailer): NotifyService {
  return new NotifyService({
    store,
    mailers: { forConfig: async () => mailer },
    ledger,
    clock: () => now,
    log,
    random: () => 0.5,
  });
}

function event(id = randomUUID()) {
  const sample = loadSample('primary-check-failed');
  return { ...sample, id, detail: { ...sample.detail, clusterId: CLUSTER } };
}

async function recordOf(eventId: string) {
  return (await ledger.list(CLUSTER, { limit: 100 })).find((record) => record.eventId === eventId);
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'notify-crash-'));
  now = T0;
  ({ ledger, close: closeLedger } = await openSqliteLedger(directory, () => now));
  sent = [];
  stored = storedConfig(
    CLUSTER,
    passwordConfig({ password: 'relay-secret-1', repeatIntervalMinutes: 240, grouping: { waitSeconds: 0 } }),
  );
});

afterEach(async () => {
  await closeLedger();
  await rm(directory, { recursive: true, force: true });
});

describe('a crash during a send', () => {
  it('does not suppress the alert: the redelivery is emailed, and so is a new event after the lease', async () => {
    // Prepare: the first process takes the event and dies while the relay has it.
    const crashed = event();
    void service(neverAnswers).handle(crashed);
    await new Promise((resolve) => setImmediate(resolve));

    // Act: past the lease, the queue redelivers it; later a new event of the same condition arrives.
    now = new Date(T0.getTime() + DEFAULT_LEASE_MS + 1000);
    const redelivered = await service(recording).handle(crashed, { attempt: 2 });
    const fresh = event();
    now = new Date(T0.getTime() + 2 * DEFAULT_LEASE_MS);
    const repeat = await service(recording).handle(fresh);

    // Assess: one email for the incident, the repeat folded into the window of a confirmed email.
    expect(redelivered.outcome).toBe('sent');
    expect(sent).toHaveLength(1);
    expect(repeat.outcome).toBe('folded');
  });

  it('lets a new event through once the crashed owner has held the slot for its whole lease', async () => {
    // Prepare
    void service(neverAnswers).handle(event());
    await new Promise((resolve) => setImmediate(resolve));

    // Act: the crashed event is not redelivered yet; a new one arrives after the lease.
    now = new Date(T0.getTime() + DEFAULT_LEASE_MS + 1);
    const next = await service(recording).handle(event());

    // Assess: it is emailed, and its email counts the unsent one.
    expect(next.outcome).toBe('sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.text).toContain('1 repeat of this condition from this appliance was not emailed');
  });

  it('answers a redelivery inside the lease with a retry, not a second transmission', async () => {
    const crashed = event();
    void service(neverAnswers).handle(crashed);
    await new Promise((resolve) => setImmediate(resolve));

    const early = service(recording).handle(crashed, { attempt: 2 });

    await expect(early).rejects.toBeInstanceOf(RetryableNotifyError);
    expect(sent).toHaveLength(0);
  });
});

describe('failures that are not delivery errors', () => {
  it('records an unreadable configuration as failed with its reason, retries, and delivers once fixed', async () => {
    // Prepare
    stored = new Error(
      'SSM parameter /appliance-notifier/clusters/crash/email-config does not hold valid JSON',
    );
    const incident = event();

    // Act
    const first = service(recording).handle(incident);
    await expect(first).rejects.toBeInstanceOf(RetryableNotifyError);
    const whileBroken = await recordOf(incident.id);
    stored = storedConfig(
      CLUSTER,
      passwordConfig({ password: 'relay-secret-1', grouping: { waitSeconds: 0 } }),
    );
    now = new Date(T0.getTime() + 60_000);
    const retried = await service(recording).handle(incident, { attempt: 2 });

    // Assess
    expect(whileBroken).toMatchObject({ outcome: 'failed', transient: true });
    expect(whileBroken?.reason).toMatch(/attempt 1 of \d+, next retry at .*does not hold valid JSON/);
    expect(whileBroken?.envelope).toMatchObject({ id: incident.id });
    expect(retried).toMatchObject({ outcome: 'sent' });
    expect(sent).toHaveLength(1);
    expect((await recordOf(incident.id))?.outcome).toBe('sent');
  });

  it('answers a duplicate as a duplicate though the configuration, read along with the claim, is unreadable now', async () => {
    // Prepare: the event was emailed; then its configuration breaks.
    const incident = event();
    expect((await service(recording).handle(incident)).outcome).toBe('sent');
    stored = new Error('SSM is throttling');

    // Act: a first receive of the same event again (EventBridge delivered it twice).
    const again = await service(recording).handle(incident, { attempt: 1 });

    // Assess: nothing of the failed read shows; the record stays sent.
    expect(again).toMatchObject({ outcome: 'duplicate', reason: 'already sent' });
    expect(sent).toHaveLength(1);
    expect((await recordOf(incident.id))?.outcome).toBe('sent');
  });

  it('answers a redelivery inside the lease with a retry while the configuration is unreadable, and records nothing', async () => {
    // Prepare: one process holds the event; the configuration breaks meanwhile.
    const crashed = event();
    void service(neverAnswers).handle(crashed);
    await new Promise((resolve) => setImmediate(resolve));
    stored = new Error('SSM is throttling');

    // Act
    const early = service(recording).handle(crashed, { attempt: 1 });

    // Assess: "being processed by another invocation", not the read's failure.
    await expect(early).rejects.toThrow(/being processed by another invocation/);
    expect(await recordOf(crashed.id)).toBeUndefined();
  });

  it('records the failure of an envelope too deep to keep, without the envelope, instead of losing it', async () => {
    // Prepare: an extra field nested 200,000 levels deep, and a relay that is down.
    let deep: Record<string, unknown> = {};
    for (let n = 0; n < 200_000; n++) deep = { deep };
    const incident = { ...event(), extra: deep };

    // Act
    const attempt = service(relayDown).handle(incident);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RetryableNotifyError);
    const record = await recordOf(incident.id);
    expect(record).toMatchObject({ outcome: 'failed', transient: true });
    expect(record?.reason).toMatch(/the envelope was not kept for a replay: it cannot be serialized/);
    expect(record?.envelope).toBeUndefined();
  });
});

describe('a relay down past the last attempt', () => {
  it('says which attempt it is and when the next one comes, then gives up with how to replay', async () => {
    // Prepare
    const incident = event();

    // Act
    const firstTry = service(relayDown).handle(incident, { attempt: 1 });
    await expect(firstTry).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    const pending = await recordOf(incident.id);
    now = new Date(T0.getTime() + 24 * 3600_000);
    // The budget counts failed attempts in the delivery log, not receives: fail it 37 more times.
    for (let attempt = 2; attempt < RETRY_POLICY.maxAttempts; attempt++) {
      await expect(service(relayDown).handle(incident, { attempt })).rejects.toMatchObject({
        deadLetter: false,
      });
    }
    const last = service(relayDown).handle(incident, { attempt: RETRY_POLICY.maxAttempts });
    // The last attempt leaves the event for the dead-letter queue: visible again at once.
    await expect(last).rejects.toMatchObject({ retryAfterSeconds: 0, deadLetter: true });
    const final = await recordOf(incident.id);

    // Assess
    expect(pending?.reason).toMatch(
      new RegExp(
        `^temporary failure, attempt 1 of ${RETRY_POLICY.maxAttempts}, next retry at 2026-11-28T02:00:2\\d`,
      ),
    );
    expect(final).toMatchObject({ outcome: 'failed', transient: false });
    expect(final?.reason).toMatch(
      new RegExp(
        `^gave up after ${RETRY_POLICY.maxAttempts} attempts at 2026-11-29T02:00:00.000Z: replay with .npm run redrive`,
      ),
    );
  });
});

describe('implausible event times', () => {
  it.each([
    ['from the future', '9999-12-31T23:59:59Z', /more than 5 minutes ahead of its arrival/],
    ['older than the log keeps', '2020-01-01T00:00:00Z', /older than the delivery log keeps records/],
  ])('logs an event %s at its arrival, and says why', async (_name, time, note) => {
    const incident = { ...event(), time };

    const result = await service(recording).handle(incident);

    const [record] = await ledger.list(CLUSTER, { limit: 1 });
    expect(result.outcome).toBe('sent');
    expect(record).toMatchObject({ eventId: incident.id, eventTime: T0.toISOString() });
    expect(record?.reason).toMatch(note);
  });
});

describe('a crash around a group email', () => {
  const groupedConfig = () =>
    storedConfig(
      CLUSTER,
      passwordConfig({ password: 'relay-secret-1', grouping: { waitSeconds: 30, intervalMinutes: 5 } }),
    );
  const member = (n: number) => {
    const base = event();
    return {
      ...base,
      detail: { ...base.detail, appliance: { ...base.detail.appliance, hostname: `g-${n}.example.com` } },
    };
  };
  /** The ledger of a process that dies right after the relay took the group email: nothing after it is written. */
  function dyingAfterTheSend(): SqliteLedger {
    let dead = false;
    return new Proxy(ledger, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'finishGroup') dead = true;
          if (dead) return Promise.reject(new Error('the process died'));
          return value.apply(target, args);
        };
      },
    });
  }
  const serviceOn = (on: SqliteLedger) =>
    new NotifyService({
      store,
      mailers: { forConfig: async () => recording },
      ledger: on,
      clock: () => now,
      log,
    });

  it('sends the group again after the sender’s lease, and every member ends sent (the one allowed duplicate)', async () => {
    // Prepare: three events wait in one group.
    stored = groupedConfig();
    const members = [0, 1, 2].map(member);
    for (const m of members) {
      await expect(service(recording).handle(m)).rejects.toMatchObject({ wait: true });
    }
    now = new Date(T0.getTime() + 31_000);

    // Act: the first member's attempt sends, then its process dies; a restart gives back its
    // claims, and the members come back after the sender's lease.
    await expect(serviceOn(dyingAfterTheSend()).handle(members[0])).rejects.toThrow();
    const afterTheCrash = sent.length;
    ledger.releaseAbandonedClaims();
    now = new Date(now.getTime() + DEFAULT_LEASE_MS + 1000);
    const results = [];
    for (const m of members) results.push(await service(recording).handle(m));

    // Assess
    expect(afterTheCrash).toBe(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.headers?.['X-Appliance-Notifier-Group']).toBe(
      sent[0]?.headers?.['X-Appliance-Notifier-Group'],
    );
    // The member that took the send over recorded all three; the others' messages are duplicates.
    expect(results.map((r) => [r.outcome, r.reason ?? ''])).toEqual([
      ['sent', ''],
      ['duplicate', 'already sent'],
      ['duplicate', 'already sent'],
    ]);
    const records = await Promise.all(members.map((m) => recordOf(m.id)));
    expect(records.map((r) => r?.outcome)).toEqual(['sent', 'sent', 'sent']);
    expect(records.map((r) => r?.reason)).toEqual(
      Array.from({ length: 3 }, () => expect.stringContaining('in the group email of 3 events')),
    );
    expect(new Set(records.map((r) => r?.groupId)).size).toBe(1);
  });

  it('a relay down for the group email counts failed attempts only: the wait for the group cost none', async () => {
    stored = groupedConfig();
    const [only] = [member(9)];
    await expect(service(relayDown).handle(only, { attempt: 1 })).rejects.toMatchObject({ wait: true });
    now = new Date(T0.getTime() + 31_000);

    // The second receive of its message, and its first failed attempt.
    await expect(service(relayDown).handle(only, { attempt: 2 })).rejects.toMatchObject({ wait: false });

    expect((await recordOf(only.id))?.reason).toMatch(/attempt 1 of 39/);
  });
});
