import { Annotations, ArnFormat, type Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CATALOG, CONDITION_IDS, type ConditionId, EVENT_SOURCE } from '../events/catalog.js';
import { cdkEventPattern, cdkValues, sourcePattern } from '../events/event-pattern.js';

export interface EventRulesProps {
  readonly bus: events.IEventBus;
  /** The queue in front of notify: every rule sends the whole event there. */
  readonly queue: sqs.IQueue;
  /** Events EventBridge could not deliver to the queue (after its retries). */
  readonly deadLetterQueue: sqs.IQueue;
  /** How long and how often EventBridge retries a failed delivery to the queue. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  /** Also the plain `appliance.failover` source (`-c legacyPublisher=true`); else only `appliance.failover.<clusterId>`. */
  readonly legacySource?: boolean;
}

/**
 * One rule per catalog condition (pattern: the per-cluster sources `appliance.failover.<clusterId>`
 * by prefix, so a new cluster needs no new rule, and that condition's one detail-type), plus one rule for every other detail-type of the source, so an appliance that
 * sends a type this version does not know gets a recorded rejection instead of silence. Every
 * rule sends the whole event to the queue in front of notify.
 *
 * `targets.SqsQueue` would add one statement per rule to the resource policy of the queue and of
 * the dead-letter queue; SQS allows 20 statements and 10 conditions per policy, which a growing
 * catalog would exceed. So the targets are bound to references of the two queues that do not own
 * their policies (nothing is added there), and each queue gets one statement instead: SendMessage
 * for events.amazonaws.com when the source is a rule of this stack's bus in this account.
 */
export class EventRules extends Construct {
  readonly rules: Readonly<Record<ConditionId, events.Rule>>;
  readonly unknownTypeRule: events.Rule;

  constructor(scope: Construct, id: string, props: EventRulesProps) {
    super(scope, id);
    const queue = policyLessReference(this, 'QueueTarget', props.queue);
    const deadLetterQueue = policyLessReference(this, 'DeadLetterTarget', props.deadLetterQueue);
    const target = () =>
      new targets.SqsQueue(queue, {
        deadLetterQueue,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
      });

    const legacySource = props.legacySource ?? false;
    const prefix = (value: string) => events.Match.prefix(value);
    const rules = {} as Record<ConditionId, events.Rule>;
    for (const conditionId of CONDITION_IDS) {
      rules[conditionId] = new events.Rule(this, `Condition-${conditionId}`, {
        eventBus: props.bus,
        description: `${CATALOG[conditionId].detailType} (${conditionId}) -> notify queue`,
        eventPattern: cdkEventPattern(conditionId, { legacySource, prefix }),
        targets: [target()],
      });
    }
    this.rules = rules;

    this.unknownTypeRule = new events.Rule(this, 'UnknownDetailType', {
      eventBus: props.bus,
      description: `${EVENT_SOURCE} events whose detail-type is not in the catalog -> notify queue (recorded as rejected)`,
      eventPattern: {
        source: cdkValues(sourcePattern({ legacySource }), prefix),
        detailType: events.Match.anythingBut(
          ...CONDITION_IDS.map((conditionId) => CATALOG[conditionId].detailType),
        ),
      },
      targets: [target()],
    });

    for (const rule of this.allRules) {
      Annotations.of(rule).acknowledgeWarning(
        '@aws-cdk/aws-events:ruleUnresolvedEnvironment',
        "The target is this stack's own queue; CDK reads the environment of the reference from the queue ARN, which is a token until deploy time. Same account and region by construction.",
      );
    }

    // Every rule of this stack's bus in this account: one ArnLike whose size does not grow with
    // the catalog (a list of the rule ARNs would reach SQS's 8,192 bytes at about 20 rules with a
    // long bus name). The bus is this stack's own, so its rules are this stack's rules.
    const busRules = Stack.of(this).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: `${props.bus.eventBusName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    for (const destination of [props.queue, props.deadLetterQueue]) {
      destination.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowThisStacksEventRules',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [destination.queueArn],
          // The ARN pins the account already; EventBridge's SQS examples condition on
          // aws:SourceArn alone, so no second key that a delivery might not carry.
          conditions: { ArnLike: { 'aws:SourceArn': busRules } },
        }),
      );
    }
  }

  /** Every rule: the catalog conditions' and the catch-all. */
  get allRules(): events.Rule[] {
    return [...Object.values(this.rules), this.unknownTypeRule];
  }
}

/** The same queue, seen through a reference whose resource policy is not this stack's to change. */
function policyLessReference(scope: Construct, id: string, queue: sqs.IQueue): sqs.IQueue {
  return sqs.Queue.fromQueueAttributes(scope, id, { queueArn: queue.queueArn, queueUrl: queue.queueUrl });
}
