import { CfnResource, type Stack, TagManager } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildStack, NETWORK_RESOURCE_TYPES, TEST_ENV } from './support.js';

// Tag-policy SCPs deny creating untagged resources: every resource CloudFormation can tag carries
// project, owner, cost-center and data-classification, from context.
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const CONTEXT = {
  offline: 'false',
  account: TEST_ENV.account,
  region: TEST_ENV.region,
  owner: 'platform-team',
  costCenter: 'CC-4711',
  dataClassification: 'confidential',
  sesIdentity: 'example.com',
  alarmEmail: 'ops@example.com',
  // The optional parts too: the VPC egress mode's network and the custom domain's resources.
  egress: 'vpc',
  domainName: 'notifier.example.com',
  certificateArn: `arn:aws:acm:${TEST_ENV.region}:${TEST_ENV.account}:certificate/0b6f6a4e-1c9e-4d2b-9a47-2c9f1f0e8a11`,
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: 'example.com',
};
const EXPECTED = {
  project: 'appliance-notifier',
  owner: 'platform-team',
  'cost-center': 'CC-4711',
  'data-classification': 'confidential',
};

let template: Template;
let stack: Stack;

beforeAll(() => {
  ({ template, stack } = buildStack(CONTEXT));
});

/** Tags as the template holds them: a list of `{ Key, Value }` or a map (API Gateway, Cognito). */
function tagsOf(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) {
    return Object.fromEntries((value as Array<{ Key: string; Value: unknown }>).map((t) => [t.Key, t.Value]));
  }
  return (value ?? {}) as Record<string, unknown>;
}

const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * Every L1 resource CDK knows to be taggable (either tag interface: `tags`, or `cdkTagManager`
 * on the newer ones such as the event bus, rules and alarms), with the property its tags go in.
 */
function taggableResources(): Array<{ id: string; type: string; property: string }> {
  return stack.node
    .findAll()
    .filter((c: IConstruct): c is CfnResource => CfnResource.isCfnResource(c))
    .flatMap((c) => {
      const manager = TagManager.isTaggable(c)
        ? c.tags
        : TagManager.isTaggableV2(c)
          ? c.cdkTagManager
          : undefined;
      if (!manager) return [];
      // The L1 property (`tags`, `userPoolTags`) as CloudFormation spells it.
      return [
        {
          id: stack.resolve(c.logicalId) as string,
          type: c.cfnResourceType,
          property: capitalize(manager.tagPropertyName),
        },
      ];
    });
}

test('every taggable resource carries the four tags with the values from context', () => {
  const resources = template.toJSON().Resources as Resources;
  const missing = taggableResources().flatMap(({ id, type, property }) => {
    const tags = tagsOf(resources[id]?.Properties?.[property]);
    const wrong = Object.entries(EXPECTED).filter(([key, value]) => tags[key] !== value);
    return wrong.length ? [`${id} (${type}): ${wrong.map(([key]) => key).join(', ')}`] : [];
  });
  expect(missing).toEqual([]);
});

test('the check covers the resources that matter (it is not vacuous)', () => {
  const types = new Set(taggableResources().map((r) => r.type));
  for (const type of [
    'AWS::Lambda::Function',
    'AWS::IAM::Role',
    'AWS::Logs::LogGroup',
    'AWS::SQS::Queue',
    'AWS::SNS::Topic',
    'AWS::KMS::Key',
    'AWS::DynamoDB::Table',
    'AWS::Events::EventBus',
    'AWS::ApiGatewayV2::Api',
    'AWS::ApiGatewayV2::Stage',
    'AWS::Cognito::UserPool',
    'AWS::CloudWatch::Alarm',
    'AWS::Events::Rule',
  ].filter((t) => Object.values(template.toJSON().Resources as Resources).some((r) => r.Type === t))) {
    expect(types).toContain(type);
  }
  // The context turns on the VPC mode and the custom domain: their resources are checked, not skipped.
  for (const type of [...NETWORK_RESOURCE_TYPES, 'AWS::ApiGatewayV2::DomainName']) {
    expect(types).toContain(type);
  }
  expect(types.size).toBeGreaterThanOrEqual(10);
});

test('the CloudFormation stack itself carries them too (propagated to what CloudFormation creates)', () => {
  expect(stack.tags.tagValues()).toEqual(EXPECTED);
});
