// Builds the stack the way bin/app.ts does (context -> props -> stack) for the infra tests.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NotifierStack } from '../../lib/notifier-stack.js';
import { stackPropsFromContext } from '../../lib/stack-config.js';

export const TEST_ENV = { account: '123456789012', region: 'eu-central-1' } as const;

/**
 * The tests synthesize offline (`-c offline=true`: placeholder tags) unless a test passes real
 * values; the environment is TEST_ENV either way.
 */
const OFFLINE = { offline: 'true' } as const;

export interface BuiltStack {
  app: App;
  stack: NotifierStack;
  template: Template;
}

/**
 * `bundle: false` swaps the esbuild bundles for a one-line inline handler: the template is the
 * same except for the code, and a stack builds in well under a second. The main suite bundles
 * for real.
 */
export function buildStack(
  context: Record<string, unknown> = {},
  options: { bundle?: boolean } = {},
): BuiltStack {
  const { app, stack } = createStack(new App({ context }), options);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The stack on `app`, not synthesized yet (for tests that add validation plugins first). */
export function createStack(
  app: App,
  options: { bundle?: boolean } = {},
): { app: App; stack: NotifierStack } {
  const {
    stackName,
    offline: _offline,
    ...props
  } = stackPropsFromContext(
    (key) =>
      app.node.tryGetContext(key) ?? (key in OFFLINE ? OFFLINE[key as keyof typeof OFFLINE] : undefined),
  );
  const inline = lambda.Code.fromInline('export const handler = async () => {};');
  const stack = new NotifierStack(app, stackName, {
    ...props,
    env: TEST_ENV,
    ...(options.bundle ? {} : { functionCode: { adminApi: inline, notify: inline, dailyNotice: inline } }),
  });
  return { app, stack };
}

type Resources = Record<string, { Properties: Record<string, unknown> }>;

/** The logical id of the one resource matching `props` (found, never hard-coded). */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: props }) as Resources);
  if (found.length !== 1) throw new Error(`expected one ${type} matching, found ${found.length}`);
  return found[0] as string;
}

/** The Lambda function whose description starts with `prefix`. */
export function functionId(template: Template, descriptionPrefix: string): string {
  const all = template.findResources('AWS::Lambda::Function') as Resources;
  const ids = Object.entries(all)
    .filter(([, r]) => String(r.Properties.Description ?? '').startsWith(descriptionPrefix))
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`expected one function "${descriptionPrefix}...", found ${ids.length}`);
  return ids[0] as string;
}

/** The `live` alias of the function whose description starts with `prefix` (see NotifierFunction.alias). */
export function aliasId(template: Template, descriptionPrefix: string): string {
  return logicalIdOf(template, 'AWS::Lambda::Alias', {
    FunctionName: { Ref: functionId(template, descriptionPrefix) },
    Name: 'live',
  });
}

/** How CDK names an alias to an event source mapping: `<function name>:<alias>`, from the alias ARN. */
export function aliasFunctionName(aliasLogicalId: string): unknown {
  return {
    'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: aliasLogicalId }] }] }, ':live']],
  };
}

export const FUNCTION_DESCRIPTIONS = {
  adminApi: 'appliance-notifier admin API',
  notify: 'appliance-notifier: emails one appliance event',
  dailyNotice: 'appliance-notifier: the daily',
} as const;

/** The statements of the inline policy attached to the role of function `fnId`. */
export function statementsOfFunction(template: Template, fnId: string): Array<Record<string, unknown>> {
  const fn = (template.toJSON().Resources as Resources)[fnId];
  if (!fn) throw new Error(`no resource ${fnId}`);
  const roleRef = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  const statements: Array<Record<string, unknown>> = [];
  for (const policy of Object.values(policies)) {
    const roles = policy.Properties.Roles as Array<{ Ref: string }>;
    if (roles.some((r) => r.Ref === roleRef)) {
      const doc = policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
      statements.push(...doc.Statement);
    }
  }
  return statements;
}

/** `Action` of a statement as a sorted array. */
export function actionsOf(statement: Record<string, unknown>): string[] {
  const action = statement.Action as string | string[];
  return (Array.isArray(action) ? [...action] : [action]).sort();
}

/**
 * The environment the stack gives function `fnId`, as a deployed function sees it: its template
 * `Environment.Variables`, each value CloudFormation would resolve at deploy time (a queue URL, a
 * table name, a key ARN) replaced by a dummy of the same kind. A variable the stack forgets is
 * missing here too, so a bundle that needs it fails at import.
 */
export function deployedEnvironment(template: Template, fnId: string): Record<string, string> {
  const fn = (template.toJSON().Resources as Resources)[fnId];
  if (!fn) throw new Error(`no resource ${fnId}`);
  const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(
    Object.entries(variables).map(([key, value]) => {
      if (typeof value === 'string') return [key, value];
      if (/_URL$|_ENDPOINT$|_ISSUER$/.test(key)) return [key, `https://dummy.invalid/${key.toLowerCase()}`];
      if (/KMS_KEY/.test(key)) return [key, `arn:aws:kms:${TEST_ENV.region}:${TEST_ENV.account}:key/dummy`];
      return [key, `dummy-${key.toLowerCase().replaceAll('_', '-')}`];
    }),
  );
}

/**
 * What the Lambda runtime adds to a function's own variables (region, credentials), with dummy
 * credentials: nothing here may reach AWS.
 */
export const LAMBDA_RUNTIME_ENV = {
  AWS_REGION: TEST_ENV.region,
  AWS_DEFAULT_REGION: TEST_ENV.region,
  AWS_ACCESS_KEY_ID: 'AKIADUMMYDUMMYDUMMY0',
  AWS_SECRET_ACCESS_KEY: 'dummy-secret',
  AWS_SESSION_TOKEN: 'dummy-session',
  AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

/** What a script run by runInNode writes before its result (the handlers log to stdout too). */
export const RESULT_MARKER = '@@bundle-test-result@@';

/**
 * Runs `script` (an ES module's body) in a plain Node process (no tsx, no jest) with exactly
 * `env` (plus PATH), and returns what it wrote to stdout after RESULT_MARKER, parsed as JSON.
 */
export async function runInNode<T>(
  script: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<T> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  const at = stdout.lastIndexOf(RESULT_MARKER);
  if (at < 0) throw new Error(`no result in the output: ${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(at + RESULT_MARKER.length)) as T;
}

/** The VPC egress mode's resource types (test/infra/egress.test.ts, tags.test.ts). */
export const NETWORK_RESOURCE_TYPES = [
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::NatGateway',
  'AWS::EC2::EIP',
  'AWS::EC2::VPCEndpoint',
  'AWS::EC2::SecurityGroup',
] as const;
