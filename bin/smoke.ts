// `npm run smoke`: a post-deploy check of the API, one line per check, non-zero exit on a failure.
//   AWS:      npm run smoke -- --api <ApiUrl> [--token <JWT>] [--cluster <id>] [--bus <EventBusName>]
//   locally:  npm run smoke -- --local [--api http://127.0.0.1:3000] [--token <t>] [--cluster <id>]
import { CONDITION_IDS, isConditionId } from '../events/catalog.js';
import { type CommandSpec, EXIT, parseCommandLine, runCli, secondsOption, UsageError } from '../ops/cli.js';
import { localTarget } from '../ops/local-target.js';
import { DEFAULT_SMOKE_CONDITION, runSmoke } from '../ops/smoke.js';

const SPEC: CommandSpec = {
  command: 'npm run smoke',
  summary:
    'check a deployed API (or the embedded runtime) the way a browser, an OAuth provider and an admin reach it',
  usage: [
    '--api <url> [--token <t>] [--cluster <id>] [--bus <name>] [--condition <id>] [--timeout <s>]',
    '--local [--api <url>] [--token <t>] [--cluster <id>] [--condition <id>] [--timeout <s>]',
  ],
  options: {
    api: { type: 'string', value: 'url', description: "The API's base URL (the stack's ApiUrl output)." },
    token: {
      type: 'string',
      value: 't',
      description:
        'An admin token (a JWT of the authorizer; locally the admin token): enables the test email and event checks.',
    },
    cluster: {
      type: 'string',
      value: 'id',
      default: 'default',
      description: 'The cluster of the test email and the event.',
    },
    bus: {
      type: 'string',
      value: 'name',
      description: 'Put a sample event on this EventBridge bus and find it in the delivery log.',
    },
    local: {
      type: 'boolean',
      description:
        'The embedded runtime: the URL and token default as for npm run emit; the event goes to its /events.',
    },
    condition: {
      type: 'string',
      value: 'id',
      default: DEFAULT_SMOKE_CONDITION,
      description: `The sample event's condition: ${CONDITION_IDS.join(', ')}.`,
    },
    timeout: {
      type: 'string',
      value: 's',
      default: '90',
      description: 'How long to wait for the event in the delivery log.',
    },
  },
  environment: [
    ['APPLIANCE_NOTIFIER_URL', 'with --local: where the runtime listens (default http://127.0.0.1:3000)'],
    ['ADMIN_TOKEN', "with --local: the runtime's admin token (else DATA_DIR/admin-token)"],
    ['AWS_REGION', 'with --bus: the region of the bus'],
  ],
  examples: [
    'npm run smoke -- --local',
    'npm run smoke -- --api https://abc123.execute-api.eu-central-1.amazonaws.com --token "$JWT" --bus appliance-notifier',
  ],
  exitCodes: [
    [EXIT.ok, 'every check passed (or was skipped for a missing flag)'],
    [EXIT.failed, 'a check failed: its line says why'],
    [EXIT.usage, 'a wrong command line or environment'],
  ],
};

await runCli(SPEC, async () => {
  const { values } = parseCommandLine<{
    api?: string;
    token?: string;
    cluster: string;
    bus?: string;
    local?: boolean;
    condition: string;
    timeout: string;
  }>(SPEC);
  if (!values.api && !values.local) throw new UsageError('give --api <url>, or --local');
  if (values.bus && values.local) throw new UsageError('--bus and --local exclude each other');
  if (!isConditionId(values.condition)) {
    throw new UsageError(`unknown condition "${values.condition}": one of ${CONDITION_IDS.join(', ')}`);
  }
  const timeoutSeconds = secondsOption('timeout', values.timeout, 90);
  if (timeoutSeconds <= 0) throw new UsageError('--timeout is a positive number of seconds');

  // Locally the URL and the token default as for `npm run emit` (the runtime's admin-token file).
  const target = values.local
    ? localTarget({ url: values.api, token: values.token })
    : { url: values.api as string, token: values.token };

  const summary = await runSmoke({
    api: target.url,
    ...(target.token ? { token: target.token } : {}),
    cluster: values.cluster,
    ...(values.bus ? { bus: values.bus } : {}),
    local: values.local === true,
    condition: values.condition,
    deliveryTimeoutMs: timeoutSeconds * 1000,
    print: (line) => console.log(line),
  });
  const failed = summary.checks.filter((c) => c.status === 'failed').length;
  const passed = summary.checks.filter((c) => c.status === 'ok').length;
  const skipped = summary.checks.length - failed - passed;
  console.log(`${passed} ok, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return summary.ok ? EXIT.ok : EXIT.failed;
});
