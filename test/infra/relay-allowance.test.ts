// The deployment's private relays: `-c allowedRelayCidrs` and `-c allowedRelayHosts`, validated
// at synth, reach the three functions as RELAY_ALLOWED_CIDRS and RELAY_ALLOWED_HOSTS, which
// their environment schemas parse back into the policy the SMTP adapter applies.
import type { Template } from 'aws-cdk-lib/assertions';
import { AdminApiEnvSchema } from '../../functions/admin-api/env.js';
import { DailyNoticeEnvSchema } from '../../functions/daily-notice/env.js';
import { NotifyEnvSchema } from '../../functions/notify/env.js';
import { stackPropsFromContext } from '../../lib/stack-config.js';
import { buildStack, FUNCTION_DESCRIPTIONS, functionId } from './support.js';

const fromContext = (context: Record<string, unknown>) =>
  stackPropsFromContext((key) => ({ offline: 'true', ...context })[key]);

function variablesOf(template: Template, description: string): Record<string, unknown> {
  const resources = template.findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Environment?: { Variables: Record<string, unknown> } } }
  >;
  return resources[functionId(template, description)]?.Properties.Environment?.Variables ?? {};
}

describe('-c allowedRelayCidrs and -c allowedRelayHosts', () => {
  test('reach notify, the daily notice and the admin API, normalized', () => {
    // Act
    const { template } = buildStack({
      allowedRelayCidrs: '10.0.0.0/8, 192.168.1.7/24',
      allowedRelayHosts: 'Relay.Corp.Example',
    });

    // Assess
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const variables = variablesOf(template, description);
      expect(variables.RELAY_ALLOWED_CIDRS).toBe('10.0.0.0/8,192.168.1.0/24');
      expect(variables.RELAY_ALLOWED_HOSTS).toBe('relay.corp.example');
    }
  });

  test('without them, no function is told of any private relay', () => {
    const { template } = buildStack();
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const variables = variablesOf(template, description);
      expect(variables).not.toHaveProperty('RELAY_ALLOWED_CIDRS');
      expect(variables).not.toHaveProperty('RELAY_ALLOWED_HOSTS');
    }
  });

  test.each([
    [
      { allowedRelayCidrs: '10.0.0.0/33' },
      /-c allowedRelayCidrs: "10\.0\.0\.0\/33" is not a CIDR range like 10\.0\.0\.0\/8/,
    ],
    [
      { allowedRelayCidrs: '169.254.0.0/16' },
      /-c allowedRelayCidrs: .*link-local.*never allowed for a relay/,
    ],
    [{ allowedRelayCidrs: '0.0.0.0/0' }, /-c allowedRelayCidrs: .*never allowed/],
    [
      { allowedRelayHosts: '10.0.0.1' },
      /-c allowedRelayHosts: "10\.0\.0\.1" is an address: list addresses in allowedRelayCidrs/,
    ],
    [{ allowedRelayHosts: 'relay corp' }, /-c allowedRelayHosts: "relay corp" is not a host name/],
  ])('%j fails the synth with what is wrong', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });

  test("each function's environment schema reads the allowance back", () => {
    // Prepare: the variables the stack sets, plus what each function needs anyway
    const { template } = buildStack({
      allowedRelayCidrs: '10.0.0.0/8',
      allowedRelayHosts: 'relay.corp.example',
    });
    const base = {
      CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
      CONFIG_KMS_KEY_ID: 'arn:aws:kms:eu-central-1:111111111111:key/x',
      LEDGER_TABLE_NAME: 'ledger',
      EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/q',
      EVENT_DLQ_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/dlq',
      PUBLIC_BASE_URL: 'https://api.example.com',
    };
    const variables = variablesOf(template, FUNCTION_DESCRIPTIONS.notify);
    const env = {
      ...base,
      RELAY_ALLOWED_CIDRS: String(variables.RELAY_ALLOWED_CIDRS),
      RELAY_ALLOWED_HOSTS: String(variables.RELAY_ALLOWED_HOSTS),
    };

    // Act
    const parsed = [NotifyEnvSchema, DailyNoticeEnvSchema, AdminApiEnvSchema].map((schema) =>
      schema.parse(env),
    );

    // Assess
    for (const result of parsed) {
      expect(result.RELAY_ALLOWED_CIDRS.map((c) => c.text)).toEqual(['10.0.0.0/8']);
      expect(result.RELAY_ALLOWED_HOSTS).toEqual(['relay.corp.example']);
    }
    expect(NotifyEnvSchema.safeParse({ ...env, RELAY_ALLOWED_CIDRS: '169.254.169.254/32' }).success).toBe(
      false,
    );
  });
});
