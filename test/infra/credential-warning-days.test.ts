// `-c credentialWarningDays`: how many days ahead of a credential's expiry the health says
// `expiring` and the first warning email goes out. Validated at synth, it reaches every function
// as CREDENTIAL_WARNING_DAYS, which their environment schemas parse into the service setting.
import type { Template } from 'aws-cdk-lib/assertions';
import { AdminApiEnvSchema } from '../../functions/admin-api/env.js';
import { DailyNoticeEnvSchema } from '../../functions/daily-notice/env.js';
import { NotifyEnvSchema } from '../../functions/notify/env.js';
import { serviceSettingsOf } from '../../functions/shared/service-env.js';
import { stackPropsFromContext } from '../../lib/stack-config.js';
import { buildStack, FUNCTION_DESCRIPTIONS, functionId } from './support.js';

function variablesOf(template: Template, description: string): Record<string, string> {
  const resources = template.findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Environment?: { Variables: Record<string, string> } } }
  >;
  return resources[functionId(template, description)]?.Properties.Environment?.Variables ?? {};
}

/** What a function's own schema reads from its variables (the tokens of other resources stubbed). */
const stubbed = (variables: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(variables).map(([key, v]) => [key, typeof v === 'string' ? v : 'https://stub.example']),
  );

describe('-c credentialWarningDays', () => {
  test('reaches notify, the daily notice and the admin API, and each reads it as its warning days', () => {
    const { template } = buildStack({ credentialWarningDays: '30' });
    const schemas = {
      [FUNCTION_DESCRIPTIONS.notify]: NotifyEnvSchema,
      [FUNCTION_DESCRIPTIONS.dailyNotice]: DailyNoticeEnvSchema,
      [FUNCTION_DESCRIPTIONS.adminApi]: AdminApiEnvSchema,
    };
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      const variables = variablesOf(template, description);
      expect(variables.CREDENTIAL_WARNING_DAYS).toBe('30');
      const schema = schemas[description];
      if (!schema) continue;
      const parsed = schema.safeParse({ ...stubbed(variables), CONFIG_PARAMETER_PREFIX: '/a/b' });
      expect(parsed.success && serviceSettingsOf(parsed.data).credentialWarningDays).toBe(30);
    }
  });

  test('without it, no function is told, and the service keeps its 14 days', () => {
    const { template } = buildStack();
    for (const description of Object.values(FUNCTION_DESCRIPTIONS)) {
      expect(variablesOf(template, description)).not.toHaveProperty('CREDENTIAL_WARNING_DAYS');
    }
  });

  test.each(['0', '91', '7.5', 'two weeks'])('refuses %p, naming the key and the range', (value) => {
    expect(() =>
      stackPropsFromContext((key) => ({ offline: 'true', credentialWarningDays: value })[key]),
    ).toThrow(/-c credentialWarningDays: must be a whole number of days between 1 and 90/);
  });
});
