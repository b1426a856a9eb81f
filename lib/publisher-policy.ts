import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/catalog.js';

export interface PublisherPolicyProps {
  readonly bus: events.IEventBus;
}

/**
 * What an appliance (or its forwarder) attaches to its role: PutEvents on this bus only, and
 * only with the appliance source, so a leaked credential cannot forge other services' events.
 */
export class PublisherPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: PublisherPolicyProps) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Lets appliances put ${EVENT_SOURCE} events on the appliance-notifier bus, nothing else`,
      statements: [
        new iam.PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': EVENT_SOURCE } },
        }),
      ],
    });
  }
}
