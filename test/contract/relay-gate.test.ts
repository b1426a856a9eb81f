// The RelayGate contract, run against every adapter with an injected clock: message turns within
// messagesPerMinute over any sliding window, connection slots within maxConnections (leases that
// free themselves), and the relay-wide back-off. `second` is another process on the same storage
// (a concurrent Lambda; a second runtime on the data directory).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDbRelayGate } from '../../functions/adapters/aws/dynamodb-relay-gate.js';
import { SqliteRelayGate } from '../../functions/adapters/local/sqlite-relay-gate.js';
import type { EffectiveRelayLimits } from '../../functions/core/config/presets.js';
import {
  RATE_WINDOW_MS,
  type RelayGate,
  type RelaySlot,
  relayIdentity,
  SLOT_LEASE_MS,
} from '../../functions/core/mail/relay-gate.js';
import { sqliteDirectory, useDynalite } from '../support/contract-harness.js';

const NOW = Date.parse('2026-11-28T03:00:00.000Z');
const EXCHANGE: EffectiveRelayLimits = {
  maxConnections: 3,
  messagesPerMinute: 30,
  source: 'preset:exchange-online',
};

interface Harness {
  gate: RelayGate;
  second: RelayGate;
  close(): Promise<void>;
}

const dynalite = useDynalite();

const harnesses: Array<[string, () => Promise<Harness>]> = [
  [
    'SqliteRelayGate',
    async () => {
      const directory = await sqliteDirectory('relay-gate-');
      return {
        gate: new SqliteRelayGate(await directory.open()),
        second: new SqliteRelayGate(await directory.open()),
        close: directory.close,
      };
    },
  ],
  [
    'DynamoDbRelayGate',
    async () => {
      const { clientConfig, createTable } = dynalite();
      const tableName = await createTable();
      const clients = [new DynamoDBClient(clientConfig), new DynamoDBClient(clientConfig)];
      const [one, two] = clients as [DynamoDBClient, DynamoDBClient];
      return {
        gate: new DynamoDbRelayGate({ client: one, tableName }),
        second: new DynamoDbRelayGate({ client: two, tableName }),
        async close() {
          for (const client of clients) client.destroy();
        },
      };
    },
  ],
];

let counter = 0;
const identity = () =>
  relayIdentity({ host: 'SMTP.office365.com', port: 587 }, `alerts${++counter}@contoso.com`);

describe.each(harnesses)('%s', (_name, open) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await open();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('names a relay by lower-cased host, port and user, and `-` without authentication', () => {
    expect(relayIdentity({ host: 'SMTP.Office365.com.', port: 587 }, 'Alerts@Contoso.com')).toBe(
      'smtp.office365.com:587:alerts@contoso.com',
    );
    expect(relayIdentity({ host: 'relay.example.net', port: 25 }, undefined)).toBe('relay.example.net:25:-');
  });

  it('gives at most messagesPerMinute turns in any sliding window, and says when the next one is due', async () => {
    // Prepare
    const relay = identity();
    const limits: EffectiveRelayLimits = { messagesPerMinute: 5, source: 'configured' };
    const granted: number[] = [];
    // Act: two senders ask every 1.7 s for three minutes.
    let refusedWith: number | undefined;
    for (let t = NOW; t < NOW + 180_000; t += 1_700) {
      const gate = granted.length % 2 === 0 ? harness.gate : harness.second;
      const grant = await gate.acquire(relay, { limits, holder: 'p1', nowMs: t, message: true });
      if (grant.ok) granted.push(t);
      else {
        expect(grant.reason).toBe('rate');
        refusedWith ??= grant.retryAfterMs;
      }
    }
    // Assess: no window of the relay's 60 s (nor of the gate's longer one) holds more than 5.
    for (const start of granted) {
      expect(granted.filter((t) => t >= start && t < start + RATE_WINDOW_MS).length).toBeLessThanOrEqual(5);
    }
    expect(granted.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => NOW + i * 1_700));
    expect(granted.length).toBeGreaterThanOrEqual(12);
    expect(refusedWith).toBeGreaterThan(50_000);
    expect(refusedWith).toBeLessThanOrEqual(RATE_WINDOW_MS + 5_000);
  });

  it('refuses a turn until the moment it names, then gives it', async () => {
    const relay = identity();
    const limits: EffectiveRelayLimits = { messagesPerMinute: 1, source: 'configured' };
    expect(await harness.gate.acquire(relay, { limits, holder: 'p1', nowMs: NOW, message: true })).toEqual({
      ok: true,
    });
    const refused = await harness.second.acquire(relay, {
      limits,
      holder: 'p2',
      nowMs: NOW + 1,
      message: true,
    });
    if (refused.ok) throw new Error('expected a refusal');
    const due = NOW + 1 + refused.retryAfterMs;
    expect(
      (await harness.second.acquire(relay, { limits, holder: 'p2', nowMs: due - 1, message: true })).ok,
    ).toBe(false);
    expect(
      (await harness.second.acquire(relay, { limits, holder: 'p2', nowMs: due, message: true })).ok,
    ).toBe(true);
  });

  it('leases at most maxConnections slots across processes; a released or expired slot is free again', async () => {
    // Prepare
    const relay = identity();
    const ask = (gate: RelayGate, holder: string, nowMs: number) =>
      gate.acquire(relay, { limits: EXCHANGE, holder, nowMs, slot: 'new' });
    // Act: twelve concurrent requests from two processes.
    const grants = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        ask(i % 2 ? harness.second : harness.gate, i % 2 ? 'p2' : 'p1', NOW),
      ),
    );
    // Assess
    const slots = grants.flatMap((g) => (g.ok && g.slot ? [g.slot] : []));
    expect(slots.map((s) => s.index).sort()).toEqual([0, 1, 2]);
    const refusal = grants.find((g) => !g.ok);
    expect(refusal).toMatchObject({ ok: false, reason: 'connections' });
    expect((refusal as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(SLOT_LEASE_MS);

    const [first] = slots as [RelaySlot];
    await harness.second.release(relay, first, NOW + 10);
    const again = await ask(harness.gate, 'p3', NOW + 20);
    expect(again).toMatchObject({ ok: true, slot: { index: first.index, holder: 'p3' } });
    expect((await ask(harness.gate, 'p3', NOW + 30)).ok).toBe(false);
    // A holder that died renews nothing: its slots free themselves when the leases end.
    const later = await ask(harness.second, 'p4', NOW + SLOT_LEASE_MS + 1);
    expect(later).toMatchObject({ ok: true, slot: { holder: 'p4' } });
  });

  it('renews a held slot, and reports it lost once another holder took it over', async () => {
    const relay = identity();
    const limits: EffectiveRelayLimits = { maxConnections: 1, source: 'configured' };
    const grant = await harness.gate.acquire(relay, { limits, holder: 'p1', nowMs: NOW, slot: 'new' });
    if (!grant.ok || !grant.slot) throw new Error('expected a slot');
    const renewed = await harness.gate.acquire(relay, {
      limits,
      holder: 'p1',
      nowMs: NOW + 60_000,
      slot: grant.slot,
    });
    expect(renewed).toMatchObject({ ok: true, slot: { index: 0, until: NOW + 60_000 + SLOT_LEASE_MS } });
    // Frozen past its lease; someone else takes the slot.
    const thawed = NOW + 60_000 + SLOT_LEASE_MS + 1;
    expect(
      (await harness.second.acquire(relay, { limits, holder: 'p2', nowMs: thawed, slot: 'new' })).ok,
    ).toBe(true);
    expect(
      await harness.gate.acquire(relay, { limits, holder: 'p1', nowMs: thawed + 1, slot: grant.slot }),
    ).toMatchObject({ ok: false, reason: 'slot-lost' });
  });

  it('backs the whole relay off until the time given; a shorter back-off does not shorten it', async () => {
    const relay = identity();
    await harness.gate.backOff(relay, NOW + 60_000, '432 4.3.2 Concurrent connections limit exceeded', NOW);
    await harness.second.backOff(relay, NOW + 10_000, '421 4.4.2 rate', NOW + 1);
    const refused = await harness.second.acquire(relay, {
      limits: EXCHANGE,
      holder: 'p2',
      nowMs: NOW + 20_000,
      message: true,
      slot: 'new',
    });
    expect(refused).toEqual({
      ok: false,
      reason: 'back-off',
      retryAfterMs: 40_000,
      detail: '432 4.3.2 Concurrent connections limit exceeded',
    });
    // Even a relay without configured limits is backed off.
    const none: EffectiveRelayLimits = { source: 'none' };
    expect(
      (await harness.gate.acquire(relay, { limits: none, holder: 'p1', nowMs: NOW + 30_000, message: true }))
        .ok,
    ).toBe(false);
    expect(
      await harness.gate.acquire(relay, {
        limits: EXCHANGE,
        holder: 'p1',
        nowMs: NOW + 60_000,
        message: true,
      }),
    ).toEqual({ ok: true });
  });

  it('stores nothing for a relay without limits', async () => {
    const relay = identity();
    const grant = await harness.gate.acquire(relay, {
      limits: { source: 'none' },
      holder: 'p1',
      nowMs: NOW,
      message: true,
      slot: 'new',
    });
    expect(grant).toEqual({ ok: true });
    expect(await harness.gate.inspect(relay, NOW)).toBeUndefined();
  });
});
