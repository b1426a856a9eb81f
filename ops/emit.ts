import { type ConditionId, EVENT_SOURCE } from '../events/catalog.js';
import { loadSample } from '../events/samples.js';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
}

/** A condition's sample as one PutEvents entry, observed now, for the given cluster. */
export function sampleEntry(id: ConditionId, clusterId?: string, now = new Date()): PutEventsEntry {
  const sample = loadSample(id);
  const detail = { ...sample.detail, observedAt: now.toISOString(), ...(clusterId ? { clusterId } : {}) };
  return { Source: EVENT_SOURCE, DetailType: sample['detail-type'], Detail: JSON.stringify(detail) };
}
