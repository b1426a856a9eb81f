// What a publisher token may post: events for its own cluster, nothing else. A refused event is
// answered per entry (as PutEvents answers an entry it refuses) and recorded as `rejected` in the
// delivery log of the cluster it claimed, so that cluster's admins see that someone tried to speak
// for them; it never reaches the queue, so it cannot fold, group or inhibit anything there.
import { createHash } from 'node:crypto';
import { conditionByDetailType, EVENT_SOURCE } from '../events/catalog.js';
import { publisherOfSource, publisherSource } from '../events/publisher-source.js';
import type { DeliveryLedger } from '../functions/core/notify/delivery-ledger.js';
import type { Clock, Log } from '../functions/core/ports.js';
import { DEFAULT_CLUSTER_ID, isClusterId } from '../functions/kernel/cluster-id.js';
import { hasControlCharacters } from '../functions/kernel/header-safety.js';
import type { Principal } from '../functions/shared/auth.js';

export interface PublisherBindingDeps {
  deliveries: Pick<DeliveryLedger, 'record'>;
  clock: Clock;
  log: Log;
}

/** Allowed (possibly with the plain source made the cluster's own), or refused with the reason. */
export type BindingDecision<T> = { ok: true; value: T } | { ok: false; reason: string };

const quote = (value: string) => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const parseDetail = (detail: unknown): Record<string, unknown> | undefined => {
  if (typeof detail !== 'string') return asObject(detail);
  try {
    return asObject(JSON.parse(detail));
  } catch {
    return undefined;
  }
};

interface Claim {
  source: unknown;
  detailType: unknown;
  /** The parsed detail; undefined when it is none (the bus or notify rejects such an event). */
  detail: Record<string, unknown> | undefined;
}

export class PublisherBinding {
  constructor(private readonly deps: PublisherBindingDeps) {}

  /** A PutEvents entry (`Source`, `DetailType`, `Detail` as a JSON string). */
  async entry(principal: Principal, raw: unknown): Promise<BindingDecision<unknown>> {
    const entry = asObject(raw);
    if (!entry) return { ok: true, value: raw };
    const decision = await this.decide(principal, {
      source: entry.Source,
      detailType: entry.DetailType,
      detail: parseDetail(entry.Detail),
    });
    if (!decision.ok) return decision;
    return { ok: true, value: decision.value ? { ...entry, Source: decision.value } : entry };
  }

  /** A whole EventBridge envelope (`source`, `detail-type`, `detail`). */
  async envelope(
    principal: Principal,
    envelope: Record<string, unknown>,
  ): Promise<BindingDecision<Record<string, unknown>>> {
    const decision = await this.decide(principal, {
      source: envelope.source,
      detailType: envelope['detail-type'],
      detail: asObject(envelope.detail),
    });
    if (!decision.ok) return decision;
    return { ok: true, value: decision.value ? { ...envelope, source: decision.value } : envelope };
  }

  /** ok with the source to use instead (the cluster's own for the plain one), or undefined to keep it. */
  private async decide(principal: Principal, claim: Claim): Promise<BindingDecision<string | undefined>> {
    const own = principal.publisherFor;
    if (own === undefined) return { ok: true, value: undefined };
    const fromSource = typeof claim.source === 'string' ? publisherOfSource(claim.source) : undefined;
    const rawCluster = claim.detail?.clusterId;
    const fromDetail =
      claim.detail === undefined
        ? undefined
        : rawCluster === undefined
          ? DEFAULT_CLUSTER_ID
          : typeof rawCluster === 'string'
            ? rawCluster
            : JSON.stringify(rawCluster);
    const claimed =
      fromSource?.kind === 'cluster' && fromSource.clusterId !== own
        ? { cluster: fromSource.clusterId, by: `source ${quote(String(claim.source))}` }
        : fromDetail !== undefined && fromDetail !== own
          ? { cluster: fromDetail, by: 'detail.clusterId' }
          : undefined;
    if (!claimed) {
      return { ok: true, value: claim.source === EVENT_SOURCE ? publisherSource(own) : undefined };
    }
    const reason = `cluster mismatch: ${principal.id} may publish for cluster ${quote(own)} only, but the event's ${claimed.by} names cluster ${quote(claimed.cluster)}`;
    await this.recordRefusal(principal, own, claimed.cluster, claim, reason);
    return { ok: false, reason };
  }

  private async recordRefusal(
    principal: Principal,
    own: string,
    claimedCluster: string,
    claim: Claim,
    reason: string,
  ): Promise<void> {
    // In the claimed cluster's log when it is one (its admins should know), else in the token's.
    const clusterId = isClusterId(claimedCluster) ? claimedCluster : own;
    const condition =
      (typeof claim.detailType === 'string' ? conditionByDetailType(claim.detailType)?.id : undefined) ??
      'unknown';
    const hostname = claim.detail?.appliance && asObject(claim.detail.appliance)?.hostname;
    const appliance =
      typeof hostname === 'string' && hostname.length <= 253 && !hasControlCharacters(hostname)
        ? hostname
        : undefined;
    // One record per token, cluster and condition: repeats replace it rather than flood the log.
    const key = createHash('sha256').update(`${principal.id}\n${clusterId}\n${condition}`).digest('hex');
    const now = this.deps.clock().toISOString();
    this.deps.log.warn('Publisher token refused: event for another cluster', {
      principal: principal.id,
      publisherFor: own,
      clusterId,
      condition,
    });
    try {
      await this.deps.deliveries.record({
        clusterId,
        eventId: `refused:${key.slice(0, 32)}`,
        condition,
        outcome: 'rejected',
        reason,
        recipients: [],
        at: now,
        receivedAt: now,
        eventTime: now,
        ...(appliance ? { appliance } : {}),
      });
    } catch (error) {
      // The refusal stands either way; only its record is missing.
      this.deps.log.error('The refused event could not be recorded', error as Error);
    }
  }
}
