// Which cluster an event's publisher may speak for, from the event's `source`: EventBridge sets
// `source` from the PutEvents entry, and each cluster's publisher policy allows only its own
// (`events:source` = `appliance.failover.<clusterId>`), so in AWS the suffix is what the
// publisher was authorized for, not a claim it can make up. The detail's `clusterId` is a claim.
import { CLUSTER_ID_MESSAGE, isClusterId } from '../functions/kernel/cluster-id.js';
import { EVENT_SOURCE } from './catalog.js';

/** Every per-cluster source starts with this: `appliance.failover.`. */
export const CLUSTER_SOURCE_PREFIX = `${EVENT_SOURCE}.`;

/** The one source a publisher of this cluster may put events with: `appliance.failover.<clusterId>`. */
export function publisherSource(clusterId: string): string {
  return `${CLUSTER_SOURCE_PREFIX}${clusterId}`;
}

/**
 * What a source says about its publisher:
 * - `cluster`: a per-cluster source; the event must be about that cluster;
 * - `legacy`: the plain `appliance.failover` of earlier versions, bound to no cluster (AWS routes
 *   it only with `-c legacyPublisher=true`; the embedded runtime binds by token instead);
 * - `invalid`: a per-cluster source whose suffix is no cluster id;
 * - undefined: not an appliance source at all.
 */
export type SourcePublisher =
  | { kind: 'cluster'; clusterId: string }
  | { kind: 'legacy' }
  | { kind: 'invalid'; reason: string };

export function publisherOfSource(source: string): SourcePublisher | undefined {
  if (source === EVENT_SOURCE) return { kind: 'legacy' };
  if (!source.startsWith(CLUSTER_SOURCE_PREFIX)) return undefined;
  const clusterId = source.slice(CLUSTER_SOURCE_PREFIX.length);
  if (!isClusterId(clusterId)) {
    return {
      kind: 'invalid',
      reason: `the cluster id after "${CLUSTER_SOURCE_PREFIX}" ${CLUSTER_ID_MESSAGE}`,
    };
  }
  return { kind: 'cluster', clusterId };
}
