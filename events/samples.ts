// Sample events for tests and the embedded runtime. Reads files next to this module, so it is not
// for Lambda bundles (esbuild does not copy the JSON); the notify function never needs it.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { formatIssues, issuesFromZod } from '../functions/kernel/field-issues.js';
import { CATALOG, type ConditionDetailInput, type ConditionId } from './catalog.js';
import { type EventBridgeEnvelope, EventBridgeEnvelopeSchema } from './envelope.js';

export const SAMPLES_DIRECTORY = new URL('./samples/', import.meta.url);

/** An event as a rule target receives it, with the detail as the appliance sent it. */
export type SampleEvent<K extends ConditionId = ConditionId> = Omit<EventBridgeEnvelope, 'detail'> & {
  detail: ConditionDetailInput<K>;
};

function invalidSample(url: URL, error: z.ZodError, prefix: string[] = []): Error {
  return new Error(`${url.pathname} is not a valid sample: ${formatIssues(issuesFromZod(error, prefix))}`);
}

export function sampleUrl(id: ConditionId): URL {
  return new URL(`${id}.json`, SAMPLES_DIRECTORY);
}

/**
 * A fresh copy of the condition's sample (callers may change it). Throws when the file is not a
 * valid event for its condition: a broken fixture is a defect to see at once, not a test input.
 */
export function loadSample<K extends ConditionId>(id: K): SampleEvent<K> {
  const url = sampleUrl(id);
  const raw: unknown = JSON.parse(readFileSync(url, 'utf8'));
  const condition = CATALOG[id];
  const envelope = EventBridgeEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw invalidSample(url, envelope.error);
  const detail = condition.detailSchema.safeParse(envelope.data.detail);
  if (!detail.success) throw invalidSample(url, detail.error, ['detail']);
  if (envelope.data['detail-type'] !== condition.detailType) {
    throw new Error(
      `${url.pathname} has detail-type "${envelope.data['detail-type']}", not "${condition.detailType}"`,
    );
  }
  // `raw` is returned rather than the parsed output: a fixture is what the appliance sends.
  return raw as SampleEvent<K>;
}
