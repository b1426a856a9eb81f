// The storm, deterministic from a seed: every appliance of every cluster reports one condition at
// once (a region outage), then a second wave from the same clusters: repeats of some first-wave
// events, and the failover of each cluster's primary as its first backup reports it
// (`primary-check-failed`, then `promotion-pending`, then `backup-promoted`).
import { CATALOG, CONDITION_IDS, type ConditionId, EVENT_SOURCE } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';

export interface StormEvent {
  /** Unique within the plan: wave, cluster, appliance, condition, sequence. */
  key: string;
  wave: 1 | 2;
  /** For wave 2: whether this is a repeat of a wave-1 event (same condition, same appliance). */
  repeat: boolean;
  clusterId: string;
  appliance: string;
  condition: ConditionId;
  detailType: string;
  /** The detail as the appliance sends it (a sample's, with this cluster and appliance). */
  detail: Record<string, unknown>;
}

export interface StormPlan {
  clusters: string[];
  appliancesPerCluster: number;
  wave1: StormEvent[];
  wave2: StormEvent[];
}

/** mulberry32: small, fast, and the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Shifts every timestamp of a sample's detail so that its `observedAt` is `now`, keeping the gaps. */
function shiftTimes(value: unknown, deltaMs: number): unknown {
  if (typeof value === 'string' && ISO.test(value)) {
    return new Date(Date.parse(value) + deltaMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if (Array.isArray(value)) return value.map((v) => shiftTimes(v, deltaMs));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftTimes(v, deltaMs)]));
  }
  return value;
}

export const hostnameOf = (clusterId: string, index: number) =>
  `${clusterId}-node-${String(index).padStart(2, '0')}.storm.example`;

function eventFor(
  condition: ConditionId,
  clusterId: string,
  appliance: string,
  primary: string,
  now: Date,
): Pick<StormEvent, 'condition' | 'detailType' | 'detail' | 'clusterId' | 'appliance'> {
  const sample = loadSample(condition);
  const detail = structuredClone(sample.detail) as Record<string, unknown>;
  const observedAt = typeof detail.observedAt === 'string' ? Date.parse(detail.observedAt) : now.getTime();
  const shifted = shiftTimes(detail, now.getTime() - observedAt) as Record<string, unknown>;
  shifted.clusterId = clusterId;
  shifted.appliance = { ...(shifted.appliance as Record<string, unknown>), hostname: appliance };
  // The facts name the cluster's own primary, not the sample's.
  for (const field of ['primaryHostname', 'previousPrimaryHostname']) {
    if (field in shifted) shifted[field] = primary;
  }
  return { condition, detailType: CATALOG[condition].detailType, detail: shifted, clusterId, appliance };
}

export function makeStormPlan(options: {
  clusters: number;
  appliancesPerCluster: number;
  seed: number;
  /** Share of first-wave events repeated in wave 2. */
  repeatShare?: number;
  now?: Date;
}): StormPlan {
  const random = seededRandom(options.seed);
  const now = options.now ?? new Date();
  const clusters = Array.from(
    { length: options.clusters },
    (_, i) => `storm-${String(i + 1).padStart(2, '0')}`,
  );
  const wave1: StormEvent[] = [];
  const wave2: StormEvent[] = [];
  for (const clusterId of clusters) {
    const primary = hostnameOf(clusterId, 0);
    for (let i = 0; i < options.appliancesPerCluster; i++) {
      const appliance = hostnameOf(clusterId, i);
      const condition = CONDITION_IDS[Math.floor(random() * CONDITION_IDS.length)] as ConditionId;
      const event = eventFor(condition, clusterId, appliance, primary, now);
      wave1.push({ key: `w1:${clusterId}:${i}:${condition}`, wave: 1, repeat: false, ...event });
    }
  }
  const repeatShare = options.repeatShare ?? 0.1;
  for (const clusterId of clusters) {
    const primary = hostnameOf(clusterId, 0);
    const backup = hostnameOf(clusterId, 1);
    for (const first of wave1.filter((e) => e.clusterId === clusterId)) {
      if (random() >= repeatShare) continue;
      const event = eventFor(first.condition, clusterId, first.appliance, primary, now);
      wave2.push({ ...event, key: first.key.replace(/^w1/, 'w2r'), wave: 2, repeat: true });
    }
    for (const condition of ['primary-check-failed', 'promotion-pending', 'backup-promoted'] as const) {
      const event = eventFor(condition, clusterId, backup, primary, now);
      wave2.push({ ...event, key: `w2f:${clusterId}:${condition}`, wave: 2, repeat: false });
    }
  }
  return { clusters, appliancesPerCluster: options.appliancesPerCluster, wave1, wave2 };
}

/** One PutEvents entry for an event. */
export function putEventsEntry(event: StormEvent) {
  return { Source: EVENT_SOURCE, DetailType: event.detailType, Detail: JSON.stringify(event.detail) };
}

/** Runs `task` over `items` with at most `limit` in flight, in order of the items. */
export async function inFlight<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
