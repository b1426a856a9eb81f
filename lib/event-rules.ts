import type { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CATALOG, CONDITION_IDS, type ConditionId, EVENT_SOURCE } from '../events/catalog.js';
import { cdkEventPattern } from '../events/event-pattern.js';

export interface EventRulesProps {
  readonly bus: events.IEventBus;
  readonly target: lambda.IFunction;
  /** Events EventBridge could not deliver to the function (after its retries). */
  readonly deadLetterQueue: sqs.IQueue;
  /** How long and how often EventBridge retries a failed invoke. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

/**
 * One rule per catalog condition (pattern: the appliance source and that condition's one
 * detail-type), plus one rule for every other detail-type of the source, so an appliance that
 * sends a type this version does not know gets a recorded rejection instead of silence.
 */
export class EventRules extends Construct {
  readonly rules: Readonly<Record<ConditionId, events.Rule>>;
  readonly unknownTypeRule: events.Rule;

  constructor(scope: Construct, id: string, props: EventRulesProps) {
    super(scope, id);
    const target = () =>
      new targets.LambdaFunction(props.target, {
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
      });

    const rules = {} as Record<ConditionId, events.Rule>;
    for (const conditionId of CONDITION_IDS) {
      rules[conditionId] = new events.Rule(this, `Condition-${conditionId}`, {
        eventBus: props.bus,
        description: `${CATALOG[conditionId].detailType} (${conditionId}) -> notify`,
        eventPattern: cdkEventPattern(conditionId),
        targets: [target()],
      });
    }
    this.rules = rules;

    this.unknownTypeRule = new events.Rule(this, 'UnknownDetailType', {
      eventBus: props.bus,
      description: `${EVENT_SOURCE} events whose detail-type is not in the catalog -> notify (recorded as rejected)`,
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: events.Match.anythingBut(
          ...CONDITION_IDS.map((conditionId) => CATALOG[conditionId].detailType),
        ),
      },
      targets: [target()],
    });
  }
}
