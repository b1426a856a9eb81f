// One pattern per condition drives both the CDK rule on AWS and the embedded runtime's routing of
// PutEvents entries, so "which events reach the notifier" cannot differ between the two.
import { CATALOG, type ConditionId, EVENT_SOURCE } from './catalog.js';
import { CLUSTER_SOURCE_PREFIX } from './publisher-source.js';

/** An exact value, or EventBridge's `prefix` content filter. */
export type PatternValue = string | { readonly prefix: string };

/**
 * An EventBridge event pattern restricted to top-level fields, exact values and prefixes:
 * `{ "source": [{ "prefix": "appliance.failover." }], "detail-type": ["Failover Version Mismatch"] }`.
 */
export type EventPattern = Readonly<Record<string, readonly PatternValue[]>>;

export interface ConditionEventPattern extends EventPattern {
  readonly source: readonly PatternValue[];
  readonly 'detail-type': readonly [string];
}

export interface SourceOptions {
  /** Also the plain `appliance.failover` of publishers not bound to a cluster (AWS: `-c legacyPublisher=true`). */
  readonly legacySource?: boolean;
}

/** The sources the rules take: every per-cluster `appliance.failover.<clusterId>`, and the legacy one if asked. */
export function sourcePattern(options: SourceOptions = {}): PatternValue[] {
  return [{ prefix: CLUSTER_SOURCE_PREFIX }, ...(options.legacySource ? [EVENT_SOURCE] : [])];
}

/** The pattern of the one EventBridge rule for this condition (JSON keys as EventBridge spells them). */
export function rulePattern(id: ConditionId, options: SourceOptions = {}): ConditionEventPattern {
  return { source: sourcePattern(options), 'detail-type': [CATALOG[id].detailType] };
}

/**
 * The same pattern in the shape `aws-cdk-lib/aws-events` `EventPattern` takes: CDK spells the key
 * `detailType` and renders it as `detail-type`. Passing `{ 'detail-type': [...] }` to CDK from a
 * variable compiles but is silently dropped, and the rule then matches every event of the source.
 */
export function cdkEventPattern(
  id: ConditionId,
  options: SourceOptions & { prefix: (value: string) => string[] },
): { source: string[]; detailType: string[] } {
  const pattern = rulePattern(id, options);
  return { source: cdkValues(pattern.source, options.prefix), detailType: [...pattern['detail-type']] };
}

/** Pattern values as CDK takes them; `prefix` is `events.Match.prefix` (events/ imports no CDK). */
export function cdkValues(values: readonly PatternValue[], prefix: (value: string) => string[]): string[] {
  return values.flatMap((value) => (typeof value === 'string' ? [value] : prefix(value.prefix)));
}

/**
 * EventBridge's exact-match semantics, enough for `rulePattern`:
 * - every field named in the pattern must be present in the event (fields it does not name are
 *   ignored);
 * - a string field matches when it equals one of the pattern's values (case-sensitive), or starts
 *   with one of its `{ prefix }` values;
 * - an array field (e.g. `resources`) matches when any of its elements equals one of them;
 * - an empty value list matches nothing.
 *
 * Not supported: patterns on nested fields (`detail.*`), content filters other than `prefix` (`suffix`,
 * `anything-but`, `numeric`, `exists`, `wildcard`, `equals-ignore-case`, `cidr`), `$or`, and
 * matching numbers, booleans or null. A pattern using them throws a TypeError rather than
 * quietly matching differently from AWS; an event never makes it throw.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const fields = Object.entries(pattern);
  for (const [key, values] of fields) {
    if (!Array.isArray(values) || !values.every(isSupportedValue)) {
      throw new TypeError(
        `matchesPattern supports only arrays of strings and { prefix } filters; "${key}" is not one`,
      );
    }
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  return fields.every(([key, values]) => {
    if (!Object.hasOwn(event, key)) return false;
    const actual: unknown = (event as Record<string, unknown>)[key];
    const candidates: unknown[] = Array.isArray(actual) ? actual : [actual];
    return candidates.some(
      (candidate) =>
        typeof candidate === 'string' &&
        values.some((value) =>
          typeof value === 'string' ? value === candidate : candidate.startsWith(value.prefix),
        ),
    );
  });
}

function isSupportedValue(value: unknown): value is PatternValue {
  if (typeof value === 'string') return true;
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === 'prefix' && typeof (value as { prefix: unknown }).prefix === 'string'
  );
}
