import type { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How the functions reach relays, OAuth token endpoints and AWS APIs (`-c egress=...`). */
export type EgressMode = 'lambda' | 'vpc';

/**
 * The SMTP ports the functions may connect to in VPC mode: 25 (relay to relay, or an internal
 * relay), 465 (implicit TLS submission) and 587 (STARTTLS submission).
 */
export const DEFAULT_SMTP_PORTS = [25, 465, 587] as const;

/** The stack's choice (from context): Lambda's own network, or a VPC of this stack's. */
export type EgressProps =
  | { readonly mode: 'lambda' }
  | ({ readonly mode: 'vpc' } & Pick<NetworkProps, 'azCount' | 'availabilityZones' | 'cidr' | 'smtpPorts'>);

export interface NetworkProps {
  /** Availability zones to spread the subnets and NAT gateways over (one NAT gateway each). */
  readonly azCount: number;
  /**
   * The zones by name. Without them, CDK looks the account's zones up at synth time (and caches
   * them in cdk.context.json); an offline synth names them, so it needs no AWS credentials.
   */
  readonly availabilityZones?: readonly string[];
  /** The VPC's IPv4 range: choose one that does not overlap a network it may be connected to. */
  readonly cidr: string;
  /** Outbound TCP ports the functions may use for SMTP. */
  readonly smtpPorts: readonly number[];
  /** Also an interface endpoint for the SES API, when the functions send through SES. */
  readonly sesEndpoint: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * VPC mode: the functions run in private subnets and reach the internet through one NAT gateway
 * per availability zone, each with an Elastic IP this stack owns, so a relay or connector can
 * allowlist a fixed set of addresses (the `NatEgressIp*` outputs), and outbound port 25 can be
 * opened by AWS for those addresses on request. AWS APIs are reached through VPC endpoints, not
 * the NAT gateway.
 *
 * Two subnet tiers per zone: a public /24 that holds only the NAT gateway, and a private /22
 * (room for the functions' network interfaces) whose default route is that zone's NAT gateway.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** The functions' security group: egress only, on the ports they use. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints' security group: HTTPS in from the functions only. */
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** One Elastic IP per NAT gateway, in zone order. */
  readonly natEips: readonly ec2.CfnEIP[];
  readonly flowLogGroup: logs.LogGroup;
  readonly interfaceEndpoints: Readonly<Record<string, ec2.InterfaceVpcEndpoint>>;
  readonly dynamoDbEndpoint: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.availabilityZones && props.availabilityZones.length !== props.azCount) {
      throw new Error(
        `Network: ${props.azCount} availability zones wanted, ${props.availabilityZones.length} named`,
      );
    }

    // Allocated here rather than by the VPC construct, so the stack can output them. Kept on
    // teardown with removalPolicy=retain: a released address goes back to AWS's pool and may be
    // given to another account while it is still on a relay's allowlist. (A new stack allocates
    // new ones; release the old ones once no allowlist names them.)
    this.natEips = Array.from({ length: props.azCount }, (_, i) => {
      const eip = new ec2.CfnEIP(this, `NatEip${i + 1}`, { domain: 'vpc' });
      eip.applyRemovalPolicy(props.removalPolicy);
      return eip;
    });

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      ...(props.availabilityZones
        ? { availabilityZones: [...props.availabilityZones] }
        : { maxAzs: props.azCount }),
      natGateways: props.azCount,
      natGatewayProvider: ec2.NatProvider.gateway({
        eipAllocationIds: this.natEips.map((eip) => eip.attrAllocationId),
      }),
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // Nothing uses the default security group; closing it is what Security Hub (EC2.2) expects.
      restrictDefaultSecurityGroup: true,
      // Every accepted and rejected flow, for the audit of what left the VPC and where to.
      flowLogs: {
        All: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'appliance-notifier functions: HTTPS and SMTP out, nothing in',
      allowAllOutbound: false,
    });
    // HTTPS to anywhere: the interface endpoints (in the VPC), DynamoDB through its gateway
    // endpoint (public addresses, routed privately), and through the NAT gateway the OAuth2 token
    // endpoints of Microsoft and Google, whose addresses are not fixed.
    this.functionSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS: VPC endpoints, DynamoDB, OAuth2 token endpoints',
    );
    // SMTP relays anywhere (internet, or internal through a peering or transit gateway a team
    // adds): the configuration names the relay at run time, so only the port can be fixed here.
    for (const port of props.smtpPorts) {
      this.functionSecurityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(port),
        `SMTP relays on ${port}`,
      );
    }
    // DNS needs no rule: security groups do not filter traffic to the Amazon-provided resolver.

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'appliance-notifier VPC interface endpoints: HTTPS from the functions',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(
      this.functionSecurityGroup,
      ec2.Port.tcp(443),
      'HTTPS from the appliance-notifier functions',
    );

    // DynamoDB (the delivery log, relay limits, OAuth state): a gateway endpoint, no hourly cost.
    this.dynamoDbEndpoint = this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
    });

    // Interface endpoints with private DNS, so the SDK's default endpoints resolve to them.
    // SSM (configuration) and SQS (notify's retries and dead-lettering) are called by the
    // functions; SES when it sends. KMS, CloudWatch Logs and EventBridge are not called by the
    // functions' code today (SSM decrypts SecureStrings with KMS itself, Lambda ships the logs
    // and the embedded metrics outside the VPC, appliances put events from their own network):
    // they are here so that any direct call to them stays off the internet, as the review of the
    // production stack requires (issue 13). Each costs per hour and zone: see the README.
    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Events: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
      ...(props.sesEndpoint ? { Ses: ec2.InterfaceVpcEndpointAwsService.EMAIL } : {}),
    };
    this.interfaceEndpoints = Object.fromEntries(
      Object.entries(services).map(([name, service]) => [
        name,
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          securityGroups: [this.endpointSecurityGroup],
          // Only the functions' security group may connect, not the whole VPC range.
          open: false,
          privateDnsEnabled: true,
        }),
      ]),
    );
  }

  /** Where the functions' network interfaces go. */
  get functionSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

  /** The zones in use, in the order of `natEips`. */
  get availabilityZones(): string[] {
    return this.vpc.availabilityZones;
  }
}
