// One pattern per condition drives both the CDK rule on AWS and the embedded runtime's routing of
// PutEvents entries, so "which events reach the notifier" cannot differ between the two.
import { CATALOG, type ConditionId, EVENT_SOURCE } from './catalog.js';

/**
 * An EventBridge event pattern restricted to exact matching of top-level fields:
 * `{ "source": ["appliance.failover"], "detail-type": ["Failover Version Mismatch"] }`.
 */
export type EventPattern = Readonly<Record<string, readonly string[]>>;

export interface ConditionEventPattern extends EventPattern {
  readonly source: readonly [typeof EVENT_SOURCE];
  readonly 'detail-type': readonly [string];
}

/** The pattern of the one EventBridge rule for this condition (JSON keys as EventBridge spells them). */
export function rulePattern(id: ConditionId): ConditionEventPattern {
  return { source: [EVENT_SOURCE], 'detail-type': [CATALOG[id].detailType] };
}

/**
 * The same pattern in the shape `aws-cdk-lib/aws-events` `EventPattern` takes: CDK spells the key
 * `detailType` and renders it as `detail-type`. Passing `{ 'detail-type': [...] }` to CDK from a
 * variable compiles but is silently dropped, and the rule then matches every event of the source.
 */
export function cdkEventPattern(id: ConditionId): { source: string[]; detailType: string[] } {
  const pattern = rulePattern(id);
  return { source: [...pattern.source], detailType: [...pattern['detail-type']] };
}

/**
 * EventBridge's exact-match semantics, enough for `rulePattern`:
 * - every field named in the pattern must be present in the event (fields it does not name are
 *   ignored);
 * - a string field matches when it equals one of the pattern's values (case-sensitive);
 * - an array field (e.g. `resources`) matches when any of its elements equals one of them;
 * - an empty value list matches nothing.
 *
 * Not supported: patterns on nested fields (`detail.*`), content filters (`prefix`, `suffix`,
 * `anything-but`, `numeric`, `exists`, `wildcard`, `equals-ignore-case`, `cidr`), `$or`, and
 * matching numbers, booleans or null. A pattern using them throws a TypeError rather than
 * quietly matching differently from AWS; an event never makes it throw.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const fields = Object.entries(pattern);
  for (const [key, values] of fields) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw new TypeError(`matchesPattern supports only arrays of strings; "${key}" is not one`);
    }
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  return fields.every(([key, values]) => {
    if (!Object.hasOwn(event, key)) return false;
    const actual: unknown = (event as Record<string, unknown>)[key];
    const candidates: unknown[] = Array.isArray(actual) ? actual : [actual];
    return candidates.some((candidate) => typeof candidate === 'string' && values.includes(candidate));
  });
}
