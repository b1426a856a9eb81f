import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, type RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { FUNCTION_TIMEOUTS_MS } from '../functions/kernel/function-timeouts.js';
import { buildFunctionBundle, FUNCTION_ENTRIES, type FunctionName, LAMBDA_BUNDLE } from './bundling.js';

/** The repository root: entries and the lock file are resolved from here, whatever the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

type RequiredKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K }[keyof T];

/**
 * A Lambda `environment` typed from the function's own zod schema: every variable the schema
 * requires is a required string here, so forgetting one is a compile error in lib/, and a
 * variable the schema does not know is one too.
 */
export type LambdaEnvironment<S extends z.ZodObject> = {
  readonly [K in RequiredKeys<z.input<S>> & string]: string;
} & {
  readonly [K in Exclude<keyof z.input<S>, RequiredKeys<z.input<S>>> & string]?: string;
};

export interface NotifierFunctionProps<S extends z.ZodObject> {
  /** Which folder under functions/ to deploy. */
  readonly entry: FunctionName;
  readonly description: string;
  /** The schema the handler validates `process.env` with at cold start. */
  readonly envSchema: S;
  readonly environment: LambdaEnvironment<S>;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** VPC mode (lib/network.ts): the private subnets and the security group the function runs in. */
  readonly network?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroups: ec2.ISecurityGroup[];
  };
  /**
   * Pre-built code instead of bundling `entry` with esbuild. Only the infrastructure tests use
   * it, to synthesize many stacks quickly; a deployment always bundles.
   */
  readonly code?: lambda.Code;
}

/**
 * The defaults every function of the service shares: Node.js 22 on ARM64, an esbuild bundle
 * (minified, ESM, source maps, SDK bundled), JSON logs into a log group this stack owns (with
 * retention), and a role that can write only to that log group.
 *
 * Without `network` the function runs in Lambda's own network: internet egress on any port,
 * except that AWS blocks outbound port 25 there and cannot lift that for a function outside a
 * VPC, so relays are reached on 587 (STARTTLS) or 465 (implicit TLS), SES over HTTPS. With
 * `network` (VPC mode) it runs in private subnets and leaves through a NAT gateway's Elastic IP,
 * where AWS restricts port 25 by default but lifts it on request for those addresses.
 */
export class NotifierFunction<S extends z.ZodObject> extends Construct {
  readonly function: lambda.Function;
  /**
   * `live`, pointing at the version published from this deployment's code and configuration:
   * what every invoker (event source mapping, API integration, schedule) calls, so an invocation
   * runs one published version from start to end, never a half-updated `$LATEST`.
   */
  readonly alias: lambda.Alias;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NotifierFunctionProps<S>) {
    super(scope, id);
    const environment = checkedEnvironment(props.envSchema, props.environment, `${props.entry} function`);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole, whose logs:* on every log group is
    // more than a function that logs into one group needs.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.entry} function`,
    });
    this.logGroup.grantWrite(this.role);
    /** Why this role has statements on `*` (one cdk-nag acknowledgement, below). */
    const wildcardReasons: string[] = [];
    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants for the function's network interfaces (CDK
      // adds that managed policy only to a role it creates itself; without these Lambda refuses
      // to create the function), minus its logs:* on every log group.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
      wildcardReasons.push(
        'the network interface actions Lambda performs with the execution role when it attaches the function to its VPC subnets: the Describe actions support no resource-level permissions, and the interfaces do not exist before Lambda creates them (the same grant as AWSLambdaVPCAccessExecutionRole, without its logs:*)',
      );
    }

    const logLevel = environment.POWERTOOLS_LOG_LEVEL ?? 'INFO';
    const common: lambda.FunctionOptions = {
      description: props.description,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Powertools filters by POWERTOOLS_LOG_LEVEL; Lambda must not drop what it lets through.
      applicationLogLevelV2: lambda.ApplicationLogLevel[logLevel as keyof typeof lambda.ApplicationLogLevel],
      // INFO: the platform's REPORT line (duration, billed duration, memory used, init duration)
      // is an INFO record; at WARN Lambda drops it.
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      // X-Ray: the handler's segment, the SDK calls (Powertools Tracer, functions/shared/tracer.ts).
      tracing: lambda.Tracing.ACTIVE,
      environment: { ...environment, NODE_OPTIONS: LAMBDA_BUNDLE.nodeOptions },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: props.network.securityGroups,
          }
        : {}),
    };

    this.function = new lambda.Function(this, 'Function', {
      ...common,
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: props.code ?? functionCode(props.entry),
    });
    // The role exists before the function; make sure the log group does too, so the first
    // invocation cannot race its creation.
    this.function.node.addDependency(this.logGroup);
    // Active tracing gives the role xray:PutTraceSegments and xray:PutTelemetryRecords on `*`.
    wildcardReasons.unshift(
      'active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Resource \`*\` only where the action allows nothing narrower: ${wildcardReasons.join('; and ')}. Nothing else in this role is on \`*\` (test/infra/observability.test.ts checks the default mode).`,
    });
    // currentVersion publishes a new version whenever the code or configuration changes; the
    // previous one is deleted once the alias has moved on (RemovalPolicy.DESTROY, CDK's default).
    this.alias = new lambda.Alias(this, 'Alias', {
      aliasName: LIVE_ALIAS,
      version: this.function.currentVersion,
    });
  }
}

/** The alias every invoker calls (see NotifierFunction.alias). */
export const LIVE_ALIAS = 'live';

/**
 * The function's code: bundled locally with esbuild (the local esbuild of package-lock.json;
 * no Docker). NodejsFunction cannot split code into chunks, hence a plain asset. Its hash is
 * the bundle's own (OUTPUT), so the repository is not fingerprinted file by file.
 */
export function functionCode(entry: FunctionName): lambda.Code {
  return lambda.Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were impossible; tryBundle always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      // CDK caches bundles by source path and bundling options; the closure below is invisible
      // to that key, so the entry must be in it, or every function would get the first bundle.
      environment: { FUNCTION_ENTRY: FUNCTION_ENTRIES[entry] },
      local: {
        tryBundle(outputDir: string): boolean {
          buildFunctionBundle(FUNCTION_ENTRIES[entry], outputDir, REPO_ROOT);
          return true;
        },
      },
    },
  });
}

/**
 * Runs the function's own schema over the environment at synth time, so a bad context value
 * (say, a parameter prefix with a trailing slash) fails `cdk synth` instead of the first cold
 * start. Values that are still tokens (ARNs, names) are only known at deploy time and skipped.
 */
function checkedEnvironment<S extends z.ZodObject>(
  schema: S,
  environment: LambdaEnvironment<S>,
  what: string,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment as Record<string, string | undefined>)) {
    if (value !== undefined) values[key] = value;
  }
  const result = schema.safeParse(values);
  if (!result.success) {
    const problems = result.error.issues.filter((issue) => {
      const key = issue.path[0];
      return typeof key !== 'string' || !Token.isUnresolved(values[key]);
    });
    if (problems.length > 0) {
      const text = problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ');
      throw new Error(`${what}: invalid environment: ${text}`);
    }
  }
  return values;
}

/** FUNCTION_TIMEOUTS_MS (functions/kernel/function-timeouts.ts) as CDK durations. */
export const DEFAULT_FUNCTION_TIMEOUTS = {
  adminApi: Duration.millis(FUNCTION_TIMEOUTS_MS.adminApi),
  notify: Duration.millis(FUNCTION_TIMEOUTS_MS.notify),
  dailyNotice: Duration.millis(FUNCTION_TIMEOUTS_MS.dailyNotice),
} as const;
