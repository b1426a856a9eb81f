import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/catalog.js';
import { CLUSTER_SOURCE_PREFIX, publisherSource } from '../events/publisher-source.js';

export interface PublisherPolicyProps {
  readonly bus: events.IEventBus;
  /** One publishing identity per cluster (`-c publisherClusters=eu-prod-1,us-east-2`). */
  readonly clusters: readonly string[];
  /** The plain `appliance.failover` policy of earlier versions, bound to no cluster (`-c legacyPublisher=true`). */
  readonly legacySource: boolean;
}

/**
 * What an appliance (or its forwarder) attaches to its role: PutEvents on this bus only, and only
 * with its own cluster's source `appliance.failover.<clusterId>`. EventBridge puts the entry's
 * `Source` into the event as given, and the `events:source` condition is checked against that same
 * value, so a credential of one cluster cannot produce an event whose source names another; notify
 * then refuses an event whose detail names a cluster other than its source's.
 */
export class PublisherPolicy extends Construct {
  /** The managed policy of each cluster, by cluster id. */
  readonly clusterPolicies: ReadonlyMap<string, iam.ManagedPolicy>;
  /** Only with `legacySource`: any cluster, as before per-cluster publishers. */
  readonly legacyPolicy?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PublisherPolicyProps) {
    super(scope, id);
    const putEvents = (source: string) =>
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [props.bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': source } },
      });
    const policies = new Map<string, iam.ManagedPolicy>();
    for (const clusterId of new Set(props.clusters)) {
      // The construct id is the cluster id itself (its characters are valid in one): adding or
      // removing a cluster leaves the others' policies, and their ARNs, as they are.
      policies.set(
        clusterId,
        new iam.ManagedPolicy(this, `Cluster-${clusterId}`, {
          description: `Lets cluster ${clusterId}'s appliances put ${publisherSource(clusterId)} events on the appliance-notifier bus, nothing else`,
          statements: [putEvents(publisherSource(clusterId))],
        }),
      );
    }
    this.clusterPolicies = policies;
    if (props.legacySource) {
      this.legacyPolicy = new iam.ManagedPolicy(this, 'Policy', {
        description: `Legacy: lets appliances put ${EVENT_SOURCE} events for any cluster (prefer the ${CLUSTER_SOURCE_PREFIX}<clusterId> policies)`,
        statements: [putEvents(EVENT_SOURCE)],
      });
    }
  }
}
