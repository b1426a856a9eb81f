// What the delivery ledger tests share: the clock's origin, the timings, and the record of the
// sample event as the notify function would write it.
import { loadSample } from '../../events/samples.js';
import type { DeliveryRecord } from '../../functions/core/notify/delivery-ledger.js';

export const T0 = new Date('2026-11-28T02:14:08.000Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const LEASE_MS = 5 * MINUTE;
export const WINDOW_MS = 30 * MINUTE;
export const KEY = 'eu-prod-1#version-mismatch#pra-primary-01.example.com';

/** `offsetMs` after T0. */
export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

export const sample = loadSample('version-mismatch');
// Events that name no cluster belong to `default`.
export const CLUSTER = sample.detail.clusterId ?? 'default';

/** The record of the sample event, as the notify function would write it. */
export function recordOf(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    clusterId: CLUSTER,
    eventId: sample.id,
    condition: 'version-mismatch',
    outcome: 'sent',
    recipients: ['ops@example.com', 'oncall@example.com'],
    messageId: '<0102019a-example@eu-central-1.amazonses.com>',
    at: T0.toISOString(),
    receivedAt: T0.toISOString(),
    eventTime: sample.time,
    appliance: sample.detail.appliance.hostname,
    ...overrides,
  };
}
