// `npm run emit -- <condition-id> [--cluster X]`: send a condition's sample event to the
// embedded runtime, or with `--bus NAME` to a deployed bus through PutEvents.
import { parseArgs } from 'node:util';
import { CONDITION_IDS, isConditionId } from '../events/catalog.js';
import { sampleEntry } from '../ops/emit.js';
import { localTarget } from '../ops/local-target.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cluster: { type: 'string' },
    bus: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
  },
});

const [id] = positionals;
if (!id || !isConditionId(id)) {
  console.error(
    `usage: npm run emit -- <condition-id> [--cluster X] [--bus NAME]\ncondition ids: ${CONDITION_IDS.join(', ')}`,
  );
  process.exit(2);
}
const entry = sampleEntry(id, values.cluster);

if (values.bus) {
  const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
  const result = await new EventBridgeClient({}).send(
    new PutEventsCommand({ Entries: [{ ...entry, EventBusName: values.bus }] }),
  );
  console.log(
    JSON.stringify({ FailedEntryCount: result.FailedEntryCount, Entries: result.Entries }, null, 2),
  );
  if (result.FailedEntryCount) process.exitCode = 1;
} else {
  const { url, token } = localTarget(values, 'npm run emit');
  const response = await fetch(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ Entries: [entry] }),
  });
  console.log(JSON.stringify(await response.json(), null, 2));
  if (!response.ok) process.exitCode = 1;
}
