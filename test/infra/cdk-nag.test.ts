import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createStack } from './support.js';

interface Violation {
  ruleName: string;
  severity?: string;
  violatingResources?: Array<{ constructPath?: string; resourceLogicalId?: string }>;
}

/** Synthesizes `app` with the AwsSolutions pack; returns every unacknowledged finding. */
function nagFindings(app: App, outdir: string): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch {
    // An error-level finding makes synth throw after writing the report; the report tells which.
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ violations: Violation[] }>;
  };
  return report.pluginReports.flatMap((r) =>
    r.violations.flatMap((v) =>
      (v.violatingResources ?? [{}]).map(
        (res) => `${v.ruleName} (${v.severity}) at ${res.constructPath ?? res.resourceLogicalId}`,
      ),
    ),
  );
}

const dirs: string[] = [];
const outdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nag-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test.each([
  ['defaults (Cognito user pool, SMTP only)', {}],
  [
    'external issuer, SES identity and configuration set, alarm email',
    {
      jwtIssuer: 'https://login.microsoftonline.com/tenant/v2.0',
      jwtAudience: 'api://appliance-notifier',
      sesIdentity: 'example.com',
      sesConfigurationSet: 'notifier',
      alarmEmail: 'ops@example.com',
    },
  ],
  ['VPC mode (NAT gateways, Elastic IPs, VPC endpoints, flow logs)', { egress: 'vpc' }],
  [
    'VPC mode in three zones with SES, and a custom domain for the admin API',
    {
      egress: 'vpc',
      vpcAzs: '3',
      sesIdentity: 'example.com',
      domainName: 'notifier.example.com',
      certificateArn:
        'arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      hostedZoneName: 'example.com',
    },
  ],
])('cdk-nag AwsSolutions: zero unacknowledged errors or warnings, %s', (_name, context) => {
  // Prepare
  const dir = outdir();
  const { app } = createStack(new App({ context, outdir: dir }));
  // Act
  const findings = nagFindings(app, dir);
  // Assess
  expect(findings).toEqual([]);
});

test('control: the same check reports a finding on a non-compliant resource', () => {
  const dir = outdir();
  const app = new App({ outdir: dir });
  new sqs.Queue(new Stack(app, 'Control'), 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
  expect(nagFindings(app, dir)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SQS\d/)]),
  );
});
