import type { ConditionId } from '../events/catalog.js';
import { publisherSource } from '../events/publisher-source.js';
import { loadSample } from '../events/samples.js';
import { DEFAULT_CLUSTER_ID } from '../functions/kernel/cluster-id.js';
import { CliError } from './cli.js';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
}

// An ISO 8601 date and time as the detail schemas take it (`Z` or an offset).
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function collectTimes(value: unknown, into: number[]): void {
  if (typeof value === 'string') {
    if (ISO_DATE_TIME.test(value)) into.push(Date.parse(value));
  } else if (Array.isArray(value)) {
    for (const item of value) collectTimes(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) collectTimes(item, into);
  }
}

function shiftTimes(value: unknown, byMs: number): unknown {
  if (typeof value === 'string') {
    if (!ISO_DATE_TIME.test(value)) return value;
    const shifted = new Date(Date.parse(value) + byMs).toISOString();
    // Whole seconds stay whole seconds: the shift is, too.
    return value.includes('.') ? shifted : shifted.replace(/\.\d{3}Z$/, 'Z');
  }
  if (Array.isArray(value)) return value.map((item) => shiftTimes(item, byMs));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shiftTimes(item, byMs)]));
  }
  return value;
}

/**
 * Every date and time in a sample's detail moved by one amount, so that the newest is `now`
 * (to the second) and their spacing stays: "promoted 3 s before it was observed" stays true, and
 * an email does not report a failover of days ago as new.
 */
export function stampedDetail<T>(detail: T, now: Date): T {
  const times: number[] = [];
  collectTimes(detail, times);
  if (times.length === 0) return detail;
  const newest = Math.max(...times);
  const target = Math.floor(now.getTime() / 1000) * 1000;
  return shiftTimes(detail, target - newest) as T;
}

/**
 * A condition's sample as one PutEvents entry, stamped with `now`, for the cluster (default
 * `default`), with the cluster's own source `appliance.failover.<clusterId>`: the one its
 * publisher policy allows in AWS, and the embedded runtime takes it alike.
 */
export function sampleEntry(
  id: ConditionId,
  clusterId = DEFAULT_CLUSTER_ID,
  now = new Date(),
): PutEventsEntry {
  const sample = loadSample(id);
  const detail = { ...stampedDetail(sample.detail, now), clusterId };
  return {
    Source: publisherSource(clusterId),
    DetailType: sample['detail-type'],
    Detail: JSON.stringify(detail),
  };
}

/** One entry of the delivery log route (`GET /clusters/{clusterId}/deliveries`), as far as the CLIs read it. */
export interface DeliveryLogItem {
  eventId: string;
  outcome: string;
  reason?: string;
  transient?: boolean;
  recipients?: string[];
  groupId?: string;
}

/** Whether an outcome is final for the command line: a temporary failure is retried, a group email is due later. */
export function isSettled(item: DeliveryLogItem): boolean {
  return !(item.outcome === 'failed' && item.transient);
}

/** When a grouped event's group email is due (its reason says `due at <ISO time>`). */
export function groupDueAt(item: DeliveryLogItem): Date | undefined {
  const due = /due at (\S+?)[\s,)]/.exec(`${item.reason ?? ''} `)?.[1];
  const at = due ? new Date(due) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}

const hhmmss = (at: Date) => at.toISOString().slice(11, 19);

/** One line for an event's outcome in the delivery log, and whether it counts as a failure. */
export function describeOutcome(item: DeliveryLogItem): { line: string; failed: boolean } {
  const reason = item.reason ? `: ${item.reason}` : '';
  switch (item.outcome) {
    case 'sent':
      return {
        line: `sent${item.recipients?.length ? ` to ${item.recipients.join(', ')}` : ''}${reason}`,
        failed: false,
      };
    case 'grouped': {
      const due = groupDueAt(item);
      return {
        line: `grouped: the group email goes out ${due ? `at ${hhmmss(due)} UTC` : 'at the group time'}${reason ? ` (${item.reason})` : ''}`,
        failed: false,
      };
    }
    case 'failed':
      return {
        line: item.transient ? `failed for now, the runtime retries it${reason}` : `failed${reason}`,
        failed: true,
      };
    case 'rejected':
      return { line: `rejected${reason}`, failed: true };
    default:
      // folded, inhibited, duplicate: handled, no email of its own.
      return { line: `${item.outcome}${reason}`, failed: false };
  }
}

export interface WaitForOutcomeOptions {
  /** GET `path` with the admin token: answers the delivery log route's response. */
  get: (path: string) => Promise<Response>;
  clusterId: string;
  eventId: string;
  /** How long to look (0: once). */
  waitMs: number;
  intervalMs?: number;
}

/**
 * Reads the cluster's delivery log until the event is in it with a settled outcome (anything but
 * a temporary failure), or the time is up: answers the last record seen, if any.
 */
export async function waitForOutcome(options: WaitForOutcomeOptions): Promise<DeliveryLogItem | undefined> {
  const deadline = Date.now() + options.waitMs;
  const interval = options.intervalMs ?? 500;
  const path = `/clusters/${encodeURIComponent(options.clusterId)}/deliveries?limit=100`;
  let last: DeliveryLogItem | undefined;
  for (;;) {
    const response = await options.get(path);
    if (response.ok) {
      const body = (await response.json()) as { items?: DeliveryLogItem[] };
      last = body.items?.find((item) => item.eventId === options.eventId) ?? last;
    } else {
      const text = await response.text();
      const error = /"error"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? text.slice(0, 200);
      throw new CliError(
        `the delivery log of cluster ${options.clusterId} answered HTTP ${response.status}${error ? ` "${error}"` : ''}${response.status === 401 ? ': check --token / ADMIN_TOKEN' : ''}`,
      );
    }
    if ((last && isSettled(last)) || Date.now() + interval > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
