import type { Template } from 'aws-cdk-lib/assertions';
import { buildStack } from './support.js';

// What a stack deletion leaves: with removalPolicy=retain (the default) the data a 3 a.m. engineer
// still needs: the dead-letter queues (events not delivered, for npm run redrive), the bus archive
// (for a replay) and the delivery log table.
type Resources = Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

/** Logical ids of the data that must outlive the stack, found from the outputs and by type. */
function dataResources(template: Template): Record<string, string> {
  const outputs = template.toJSON().Outputs;
  const resources = template.toJSON().Resources as Resources;
  const only = (type: string) => {
    const ids = Object.keys(resources).filter((id) => resources[id]?.Type === type);
    expect(ids).toHaveLength(1);
    return ids[0] as string;
  };
  return {
    'notify queue DLQ': outputs.NotifyQueueDlqUrl.Value.Ref,
    'event target DLQ': outputs.EventTargetDlqUrl.Value.Ref,
    'daily notice DLQ': outputs.DailyNoticeDlqUrl.Value.Ref,
    'bus archive': only('AWS::Events::Archive'),
    'delivery log table': only('AWS::DynamoDB::Table'),
  };
}

test.each([
  ['default (retain)', {}, 'Retain'],
  ['removalPolicy=retain', { removalPolicy: 'retain' }, 'Retain'],
  ['removalPolicy=destroy', { removalPolicy: 'destroy' }, 'Delete'],
])(
  '%s: the dead-letter queues, the bus archive and the table on deletion and replacement',
  (_name, context, policy) => {
    const { template } = buildStack(context);
    const resources = template.toJSON().Resources as Resources;
    const found = Object.fromEntries(
      Object.entries(dataResources(template)).map(([name, id]) => [
        name,
        {
          DeletionPolicy: resources[id]?.DeletionPolicy,
          UpdateReplacePolicy: resources[id]?.UpdateReplacePolicy,
        },
      ]),
    );
    const expected = { DeletionPolicy: policy, UpdateReplacePolicy: policy };
    expect(found).toEqual({
      'notify queue DLQ': expected,
      'event target DLQ': expected,
      'daily notice DLQ': expected,
      'bus archive': expected,
      'delivery log table': expected,
    });
  },
);
