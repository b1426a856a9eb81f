import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NotifierStack } from '../../lib/notifier-stack.js';
import { OFFLINE_LOOKUPS, stackPropsFromContext } from '../../lib/stack-config.js';
import {
  buildStack,
  FUNCTION_DESCRIPTIONS,
  functionId,
  NETWORK_RESOURCE_TYPES,
  statementsOfFunction,
} from './support.js';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const fromContext = (context: Record<string, unknown>) =>
  stackPropsFromContext((key) => ({ offline: 'true', ...context })[key]);

const resources = (template: Template, type: string) => template.findResources(type) as Resources;
const ids = (template: Template, type: string) => Object.keys(resources(template, type));
const outputsLike = (template: Template, prefix: string) =>
  Object.keys(template.toJSON().Outputs as Record<string, unknown>)
    .filter((key) => key.startsWith(prefix))
    .sort();
/** Subnets by tier, as the VPC construct tags them (`aws-cdk:subnet-type`). */
function subnetsOf(template: Template, tier: 'Public' | 'Private'): Array<[string, Record<string, unknown>]> {
  return Object.entries(resources(template, 'AWS::EC2::Subnet'))
    .filter(([, s]) =>
      (s.Properties.Tags as Array<{ Key: string; Value: string }>).some(
        (t) => t.Key === 'aws-cdk:subnet-type' && t.Value === tier,
      ),
    )
    .map(([id, s]) => [id, s.Properties]);
}

/** The service name of an endpoint, e.g. `ssm` from `com.amazonaws.eu-central-1.ssm`. */
function endpointServices(template: Template): Record<string, { type: string; subnets: unknown[] }> {
  return Object.fromEntries(
    Object.values(resources(template, 'AWS::EC2::VPCEndpoint')).map((endpoint) => {
      const name = JSON.stringify(endpoint.Properties.ServiceName);
      const service = /\.([a-z-]+)"?\]*\]*\}*$/.exec(name.replace(/\\"/g, '"'))?.[1] ?? name;
      return [
        service,
        {
          type: String(endpoint.Properties.VpcEndpointType),
          subnets: (endpoint.Properties.SubnetIds ?? endpoint.Properties.RouteTableIds) as unknown[],
        },
      ];
    }),
  );
}

describe('VPC mode (-c egress=vpc)', () => {
  const { template } = buildStack({ egress: 'vpc' });

  test('a VPC with a public and a private (egress) subnet in each of two zones', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.0.0.0/16',
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    const zones = (tier: 'Public' | 'Private') =>
      subnetsOf(template, tier)
        .map(([, s]) => s.AvailabilityZone)
        .sort();
    expect(zones('Public')).toEqual(['eu-central-1a', 'eu-central-1b']);
    expect(zones('Private')).toEqual(['eu-central-1a', 'eu-central-1b']);
    // The NAT gateways sit in the public subnets, which give nothing a public address of its own.
    for (const [, subnet] of subnetsOf(template, 'Public')) expect(subnet.MapPublicIpOnLaunch).toBe(false);
  });

  test('one NAT gateway per zone, each with an Elastic IP of this stack, kept on teardown', () => {
    const eips = resources(template, 'AWS::EC2::EIP');
    const nats = Object.values(resources(template, 'AWS::EC2::NatGateway'));
    expect(Object.keys(eips)).toHaveLength(2);
    expect(nats).toHaveLength(2);
    const allocated = nats.map(
      (nat) => (nat.Properties.AllocationId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'],
    );
    expect(allocated.map(([id, attr]) => [id in eips, attr])).toEqual([
      [true, 'AllocationId'],
      [true, 'AllocationId'],
    ]);
    expect(new Set(allocated.map(([id]) => id)).size).toBe(2);
    template.allResources('AWS::EC2::EIP', { DeletionPolicy: 'Retain', Properties: { Domain: 'vpc' } });
    // Each private subnet's default route leads to a NAT gateway.
    template.resourcePropertiesCountIs(
      'AWS::EC2::Route',
      { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() },
      2,
    );
  });

  test('each Elastic IP is an output, and all of them together', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputsLike(template, 'NatEgressIp')).toEqual(['NatEgressIp1', 'NatEgressIp2', 'NatEgressIps']);
    const eipIds = ids(template, 'AWS::EC2::EIP');
    for (const [i, output] of ['NatEgressIp1', 'NatEgressIp2'].entries()) {
      template.hasOutput(output, {
        Value: { 'Fn::GetAtt': [Match.anyValue(), 'PublicIp'] },
        Description: Match.stringLikeRegexp(`eu-central-1${'ab'[i]}.*allowlist`),
      });
      const value = outputs[output]?.Value as { 'Fn::GetAtt': [string] } | undefined;
      const id = value?.['Fn::GetAtt'][0];
      expect(eipIds).toContain(id);
    }
    template.hasOutput('NatEgressIps', {
      Value: {
        'Fn::Join': [
          ',',
          [
            { 'Fn::GetAtt': [Match.anyValue(), 'PublicIp'] },
            { 'Fn::GetAtt': [Match.anyValue(), 'PublicIp'] },
          ],
        ],
      },
    });
  });

  test('VPC endpoints: DynamoDB as a gateway, SSM, SQS, KMS, Logs and EventBridge as interfaces in the private subnets', () => {
    const endpoints = endpointServices(template);
    expect(Object.keys(endpoints).sort()).toEqual(['dynamodb', 'events', 'kms', 'logs', 'sqs', 'ssm']);
    expect(endpoints.dynamodb?.type).toBe('Gateway');
    for (const service of ['events', 'kms', 'logs', 'sqs', 'ssm']) {
      expect(endpoints[service]).toEqual({ type: 'Interface', subnets: expect.any(Array) });
      expect(endpoints[service]?.subnets).toHaveLength(2);
    }
    // Private DNS: the SDK's default endpoint names resolve to the interface endpoints.
    template.resourcePropertiesCountIs(
      'AWS::EC2::VPCEndpoint',
      { VpcEndpointType: 'Interface', PrivateDnsEnabled: true },
      5,
    );
  });

  test('an SES deployment gets the SES API endpoint too', () => {
    const { template: ses } = buildStack({ egress: 'vpc', sesIdentity: 'example.com' });
    expect(Object.keys(endpointServices(ses))).toContain('email');
  });

  test('the interface endpoints accept HTTPS from the functions only', () => {
    const groups = resources(template, 'AWS::EC2::SecurityGroup');
    const functionGroup = Object.entries(groups).find(([, g]) =>
      String(g.Properties.GroupDescription).startsWith('appliance-notifier functions'),
    )?.[0];
    expect(functionGroup).toBeDefined();
    template.resourcePropertiesCountIs(
      'AWS::EC2::SecurityGroupIngress',
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { 'Fn::GetAtt': [functionGroup, 'GroupId'] },
      },
      1,
    );
    // No other ingress into anything of this stack's network.
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
  });

  test('the functions: egress on 443 and the SMTP ports 25, 465, 587 only, no ingress', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^appliance-notifier functions'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [443, 25, 465, 587].map((port) =>
        Match.objectLike({ IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: '0.0.0.0/0' }),
      ),
    });
  });

  test('all three functions run in the private subnets with that security group, and know it', () => {
    const privateSubnets = subnetsOf(template, 'Private').map(([id]) => ({ Ref: id }));
    expect(privateSubnets).toHaveLength(2);
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const fn = resources(template, 'AWS::Lambda::Function')[functionId(template, description)];
      expect(fn?.Properties.VpcConfig).toEqual({
        SubnetIds: privateSubnets,
        SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/FunctionSecurityGroup/), 'GroupId'] }],
      });
      expect(
        (fn?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables
          .EGRESS_MODE,
      ).toBe('vpc');
    }
  });

  test("each function's role may manage its network interfaces (Lambda refuses the function otherwise)", () => {
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const statements = statementsOfFunction(template, functionId(template, description));
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']),
          Effect: 'Allow',
        }),
      );
    }
  });

  test('flow logs of all traffic into a log group with retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  test('the zone count, range and SMTP ports come from the context', () => {
    const { template: three } = buildStack({
      egress: 'vpc',
      vpcAzs: '3',
      vpcCidr: '10.42.0.0/16',
      smtpPorts: '587,2525',
    });
    three.resourceCountIs('AWS::EC2::NatGateway', 3);
    three.resourceCountIs('AWS::EC2::EIP', 3);
    expect(outputsLike(three, 'NatEgressIp')).toEqual([
      'NatEgressIp1',
      'NatEgressIp2',
      'NatEgressIp3',
      'NatEgressIps',
    ]);
    three.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.42.0.0/16' });
    three.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^appliance-notifier functions'),
      SecurityGroupEgress: [443, 587, 2525].map((port) => Match.objectLike({ FromPort: port, ToPort: port })),
    });
  });
});

describe('the default mode (Lambda network)', () => {
  const { template } = buildStack();

  test('no VPC resources at all', () => {
    for (const type of [...NETWORK_RESOURCE_TYPES, 'AWS::EC2::FlowLog']) {
      template.resourceCountIs(type, 0);
    }
    expect(outputsLike(template, 'NatEgress')).toEqual([]);
  });

  test('functions without VpcConfig, told they run in the Lambda network', () => {
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const fn = resources(template, 'AWS::Lambda::Function')[functionId(template, description)];
      expect(fn?.Properties.VpcConfig).toBeUndefined();
      expect(
        (fn?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables
          .EGRESS_MODE,
      ).toBe('lambda');
    }
  });
});

describe('egress context errors', () => {
  test.each([
    [{ egress: 'nat' }, /-c egress: must be "lambda" \(the default: no VPC\) or "vpc"/],
    [{ egress: 'vpc', vpcAzs: '0' }, /-c vpcAzs: at least 1/],
    [{ egress: 'vpc', vpcAzs: '4' }, /-c vpcAzs: at most 3/],
    [{ egress: 'vpc', vpcCidr: '10.0.0.0/24' }, /-c vpcCidr: a private IPv4 range from \/16 to \/20/],
    [{ egress: 'vpc', smtpPorts: '25;587' }, /-c smtpPorts: comma-separated TCP ports/],
    [{ egress: 'vpc', smtpPorts: '70000' }, /-c smtpPorts: ports are 1 to 65535/],
    [{ vpcAzs: '2' }, /-c vpcAzs: applies to VPC mode only: add -c egress=vpc/],
    [{ egress: 'lambda', smtpPorts: '587' }, /-c smtpPorts: applies to VPC mode only/],
  ])('%j fails with %s', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });

  test('the defaults: Lambda network; VPC mode with two zones, 10.0.0.0/16 and SMTP on 25, 465, 587', () => {
    expect(fromContext({}).egress).toEqual({ mode: 'lambda' });
    expect(fromContext({ egress: 'vpc' }).egress).toEqual({
      mode: 'vpc',
      azCount: 2,
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      cidr: '10.0.0.0/16',
      smtpPorts: [25, 465, 587],
    });
  });

  test('a real environment leaves the zones to the CDK lookup (no named zones)', () => {
    const props = fromContext({
      offline: 'false',
      account: '210987654321',
      region: 'eu-west-1',
      owner: 'platform-team',
      costCenter: 'CC-4711',
      dataClassification: 'confidential',
      egress: 'vpc',
    });
    expect(props.egress).toEqual(expect.objectContaining({ mode: 'vpc', azCount: 2 }));
    expect(props.egress).not.toHaveProperty('availabilityZones');
  });
});

describe('an offline synth of the VPC mode', () => {
  /** As bin/app.ts builds it: the offline placeholders' account and region, not the tests' TEST_ENV. */
  function missingLookups(context: Record<string, unknown>) {
    const app = new App({ context: { offline: 'true', egress: 'vpc', ...context } });
    const {
      stackName,
      offline: _offline,
      ...props
    } = stackPropsFromContext((key) => app.node.tryGetContext(key));
    const inline = lambda.Code.fromInline('export const handler = async () => {};');
    new NotifierStack(app, stackName, {
      ...props,
      functionCode: { adminApi: inline, notify: inline, dailyNotice: inline },
    });
    return app.synth().manifest.missing ?? [];
  }

  test('needs no AWS lookup with the offline answers bin/app.ts sets (the CLI would need credentials)', () => {
    expect(missingLookups(OFFLINE_LOOKUPS)).toEqual([]);
  });

  test('control: without them the zones would be looked up in the account', () => {
    expect(missingLookups({}).map((m) => m.provider)).toEqual(['availability-zones']);
  });
});
