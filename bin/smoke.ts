// `npm run smoke`: a post-deploy check of the API, one line per check, non-zero exit on a failure.
//   AWS:      npm run smoke -- --api <ApiUrl> [--token <JWT>] [--cluster <id>] [--bus <EventBusName>]
//   locally:  npm run smoke -- --local [--api http://127.0.0.1:3000] [--token <t>] [--cluster <id>]
import { parseArgs } from 'node:util';
import { CONDITION_IDS, isConditionId } from '../events/catalog.js';
import { localTarget } from '../ops/local-target.js';
import { runSmoke } from '../ops/smoke.js';

const USAGE =
  'usage: npm run smoke -- --api <url> [--token <t>] [--cluster <id>] [--bus <name>] [--condition <id>] [--timeout <s>]\n' +
  '       npm run smoke -- --local [--api <url>] [--token <t>] [--cluster <id>]';

const { values } = parseArgs({
  options: {
    api: { type: 'string' },
    token: { type: 'string' },
    cluster: { type: 'string' },
    bus: { type: 'string' },
    local: { type: 'boolean', default: false },
    condition: { type: 'string' },
    timeout: { type: 'string' },
  },
});

if ((!values.api && !values.local) || (values.bus && values.local)) {
  console.error(USAGE);
  process.exit(2);
}
if (values.condition && !isConditionId(values.condition)) {
  console.error(`${USAGE}\ncondition ids: ${CONDITION_IDS.join(', ')}`);
  process.exit(2);
}
const timeoutSeconds = values.timeout === undefined ? 90 : Number(values.timeout);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
  console.error(`${USAGE}\n--timeout is in seconds`);
  process.exit(2);
}

// Locally the URL and the token default as for `npm run emit` (the runtime's admin-token file).
const target = values.local
  ? localTarget(
      { ...(values.api ? { url: values.api } : {}), ...(values.token ? { token: values.token } : {}) },
      'npm run smoke',
    )
  : { url: values.api as string, token: values.token };

const summary = await runSmoke({
  api: target.url,
  ...(target.token ? { token: target.token } : {}),
  ...(values.cluster ? { cluster: values.cluster } : {}),
  ...(values.bus ? { bus: values.bus } : {}),
  local: values.local,
  ...(values.condition && isConditionId(values.condition) ? { condition: values.condition } : {}),
  deliveryTimeoutMs: timeoutSeconds * 1000,
  print: (line) => console.log(line),
});
const failed = summary.checks.filter((c) => c.status === 'failed').length;
const passed = summary.checks.filter((c) => c.status === 'ok').length;
const skipped = summary.checks.length - failed - passed;
console.log(`${passed} ok, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (!summary.ok) process.exitCode = 1;
