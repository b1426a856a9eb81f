import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildStack, logicalIdOf } from './support.js';

type PolicyResource = {
  Properties: {
    Description: string;
    PolicyDocument: { Statement: { Action: unknown; Resource: unknown; Condition?: unknown }[] };
  };
};

const publisherPolicies = (template: Template): PolicyResource[] =>
  (Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as PolicyResource[]).filter((policy) =>
    JSON.stringify(policy.Properties.PolicyDocument).includes('events:PutEvents'),
  );

describe('-c publisherClusters=eu-prod-1,us-east-2: one publishing identity per cluster', () => {
  let template: Template;
  let busId: string;
  beforeAll(() => {
    // Prepare
    ({ template } = buildStack({ publisherClusters: 'eu-prod-1,us-east-2' }));
    busId = logicalIdOf(template, 'AWS::Events::EventBus', { Name: 'appliance-notifier' });
  });

  test.each(['eu-prod-1', 'us-east-2'])(
    '%s: PutEvents on this bus only, with events:source appliance.failover.<clusterId> only',
    (clusterId) => {
      // Assess
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'events:PutEvents',
              Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
              Condition: { StringEquals: { 'events:source': `appliance.failover.${clusterId}` } },
            },
          ],
        },
      });
    },
  );

  test('exactly the two cluster policies, and no policy for the plain source', () => {
    const sources = publisherPolicies(template).map((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument.Statement.map((statement) => statement.Condition)),
    );
    expect(sources.sort()).toEqual([
      JSON.stringify([{ StringEquals: { 'events:source': 'appliance.failover.eu-prod-1' } }]),
      JSON.stringify([{ StringEquals: { 'events:source': 'appliance.failover.us-east-2' } }]),
    ]);
  });

  test("an output per cluster names the cluster and its policy's ARN", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>;
    const publisherOutputs = Object.entries(outputs).filter(([id]) => id.startsWith('PublisherPolicyArn'));
    expect(publisherOutputs.map(([id]) => id).sort()).toEqual(['PublisherPolicyArn1', 'PublisherPolicyArn2']);
    expect(outputs.PublisherPolicyArn1?.Description).toContain('eu-prod-1');
    const euPolicy = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([, policy]) =>
      JSON.stringify(policy).includes('"appliance.failover.eu-prod-1"'),
    )?.[0];
    expect(euPolicy).toBeDefined();
    expect(outputs.PublisherPolicyArn1?.Value).toEqual({ Ref: euPolicy });
    expect(outputs.PublisherPolicyArn2?.Description).toContain('us-east-2');
  });

  test('adding a cluster keeps the logical ids (and so the ARNs) of the others', () => {
    const { template: more } = buildStack({ publisherClusters: 'eu-prod-1,us-east-2,ap-south-1' });
    const ids = (t: Template) => Object.keys(t.findResources('AWS::IAM::ManagedPolicy')).sort();
    expect(ids(more)).toEqual(expect.arrayContaining(ids(template)));
    expect(publisherPolicies(more)).toHaveLength(3);
  });
});

test('-c legacyPublisher=true: the plain appliance.failover policy, for any cluster, besides the per-cluster ones', () => {
  const { template } = buildStack({ publisherClusters: 'eu-prod-1', legacyPublisher: 'true' });

  const conditions = publisherPolicies(template).map(
    (policy) => policy.Properties.PolicyDocument.Statement[0]?.Condition,
  );

  expect(conditions).toEqual(
    expect.arrayContaining([
      { StringEquals: { 'events:source': 'appliance.failover' } },
      { StringEquals: { 'events:source': 'appliance.failover.eu-prod-1' } },
    ]),
  );
  expect(conditions).toHaveLength(2);
  expect(template.toJSON().Outputs.PublisherPolicyArn?.Description).toContain('Legacy');
});

test('a cluster id that is not one fails the synth with a message naming the context key', () => {
  expect(() => buildStack({ publisherClusters: 'eu-prod-1,bad id' })).toThrow(/-c publisherClusters/);
});

test('cdk.json may give the clusters as a JSON array', () => {
  const { template } = buildStack({ publisherClusters: ['eu-prod-1'] });

  expect(publisherPolicies(template)).toHaveLength(1);
});
