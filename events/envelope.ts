import * as z from 'zod';
import { type FieldIssue, formatIssues, issuesFromZod } from '../functions/kernel/field-issues.js';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../functions/kernel/header-safety.js';
import {
  hasInvisibleCharacters,
  INVISIBLE_CHARACTER_MESSAGE,
} from '../functions/kernel/invisible-characters.js';
import {
  type ConditionDefinition,
  type ConditionDetail,
  type ConditionId,
  clusterIdOf,
  conditionByDetailType,
  EVENT_SOURCE,
} from './catalog.js';
import { CLUSTER_SOURCE_PREFIX, publisherOfSource } from './publisher-source.js';

/** Larger details are rejected before parsing. EventBridge itself allows 256 KB per entry. */
export const MAX_DETAIL_BYTES = 64 * 1024;

const boundedText = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !hasControlCharacters(s), CONTROL_CHARACTER_MESSAGE)
    // The id is shown in the delivery log and keys "emailed once": it must look like what it is.
    .refine((s) => !hasInvisibleCharacters(s), INVISIBLE_CHARACTER_MESSAGE);

/**
 * An EventBridge event as a rule target receives it. Not strict: EventBridge adds fields over
 * time (a replayed event carries `replay-name`), and rejecting those would drop real alerts.
 * Unknown envelope fields are stripped; the detail is what the catalog validates strictly.
 */
export const EventBridgeEnvelopeSchema = z.object({
  version: boundedText(16),
  /** Unique per event and kept across redeliveries: the key of "emailed once". */
  id: boundedText(256),
  // Bounded but not otherwise checked: an unknown or hostile value gets the clearer
  // "unknown detail-type" reason from the catalog lookup.
  'detail-type': z.string().max(256, 'must be at most 256 characters'),
  source: z.string().max(256, 'must be at most 256 characters'),
  account: boundedText(64),
  time: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }),
  region: boundedText(64),
  resources: z.array(z.string().max(2048)).max(100),
  'replay-name': boundedText(256).optional(),
  detail: z.unknown().refine((value) => value !== undefined, 'is required'),
});
export type EventBridgeEnvelope = z.output<typeof EventBridgeEnvelopeSchema>;

export const REJECTION_CODES = [
  'invalid-envelope',
  'unexpected-source',
  'unknown-detail-type',
  'detail-too-large',
  'control-characters',
  'invalid-detail',
  'cluster-mismatch',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type ValidConditionEvent = {
  [K in ConditionId]: {
    ok: true;
    id: K;
    /** Erased view: `condition.facts(detail, language)` type-checks for whichever id this is. */
    condition: ConditionDefinition;
    detail: ConditionDetail<K>;
    envelope: EventBridgeEnvelope;
  };
}[ConditionId];

export interface RejectedEvent {
  ok: false;
  code: RejectionCode;
  /** One line an admin can read in the delivery log; values from the event are quoted and cut. */
  reason: string;
  /** Field paths (`detail.appliance.hostname`) when a schema rejected the event. */
  issues?: FieldIssue[];
}

export type ConditionEventResult = ValidConditionEvent | RejectedEvent;

// A reason ends up in logs and the deliveries API; a value quoted in it must not break a line.
const quote = (value: string) =>
  JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const reject = (code: RejectionCode, reason: string, issues?: FieldIssue[]): RejectedEvent =>
  issues ? { ok: false, code, reason, issues } : { ok: false, code, reason };

function rejectIssues(code: 'invalid-envelope' | 'invalid-detail', prefix: string, issues: FieldIssue[]) {
  const injected = issues.filter((issue) => issue.message === CONTROL_CHARACTER_MESSAGE);
  if (injected.length > 0) {
    // Reported as such (not as a mere format error): it is a header-injection attempt or a
    // broken appliance, and either deserves a look.
    const paths = injected.map((issue) => issue.path).join(', ');
    return reject('control-characters', `control characters (CR, LF or similar) in ${paths}`, issues);
  }
  return reject(code, `${prefix}: ${formatIssues(issues)}`, issues);
}

function serializedBytes(value: unknown): number | undefined {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Checks one event against the envelope and the catalog. Never throws: every bad event becomes
 * a reason, so one malformed event cannot crash or block the others.
 */
export function validateConditionEvent(input: unknown): ConditionEventResult {
  const envelope = EventBridgeEnvelopeSchema.safeParse(input);
  if (!envelope.success) {
    return rejectIssues('invalid-envelope', 'not an EventBridge event', issuesFromZod(envelope.error));
  }
  const event = envelope.data;
  const publisher = publisherOfSource(event.source);
  if (!publisher) {
    return reject(
      'unexpected-source',
      `source ${quote(event.source)} is neither ${quote(`${CLUSTER_SOURCE_PREFIX}<clusterId>`)} nor ${quote(EVENT_SOURCE)}`,
    );
  }
  if (publisher.kind === 'invalid') {
    return reject('unexpected-source', `source ${quote(event.source)}: ${publisher.reason}`);
  }
  const condition = conditionByDetailType(event['detail-type']);
  if (!condition) {
    return reject(
      'unknown-detail-type',
      `unknown detail-type ${quote(event['detail-type'])} (GET /conditions lists the known ones)`,
    );
  }
  const bytes = serializedBytes(event.detail);
  if (bytes === undefined) {
    return reject('invalid-detail', 'detail is not serializable as JSON');
  }
  if (bytes > MAX_DETAIL_BYTES) {
    return reject(
      'detail-too-large',
      `detail is ${(bytes / 1024).toFixed(1)} KiB serialized; the limit is ${MAX_DETAIL_BYTES / 1024} KiB`,
    );
  }
  const detail = condition.detailSchema.safeParse(event.detail);
  if (!detail.success) {
    return rejectIssues(
      'invalid-detail',
      `invalid detail for ${quote(condition.detailType)}`,
      issuesFromZod(detail.error, ['detail']),
    );
  }
  // The source is what the publisher was allowed to put; the detail's cluster is only its claim.
  // A mismatch is a forgery or a misconfigured appliance: it must not fold or inhibit anything.
  const claimed = clusterIdOf(detail.data as { clusterId?: string });
  if (publisher.kind === 'cluster' && claimed !== publisher.clusterId) {
    return reject(
      'cluster-mismatch',
      `cluster mismatch: source ${quote(event.source)} may publish for cluster ${quote(publisher.clusterId)} only, but the detail names cluster ${quote(claimed)}`,
    );
  }
  // The schema came from the entry this id names, so the pairing of id and detail holds.
  return {
    ok: true,
    id: condition.id,
    condition,
    detail: detail.data,
    envelope: event,
  } as ValidConditionEvent;
}
