// `npm run emit -- <condition-id>`: send a condition's sample event, stamped with the current
// time, to the embedded runtime (default) or with `--bus NAME` to a deployed bus through
// PutEvents, and print where it went and its outcome from the delivery log.
import { CONDITION_IDS, isConditionId } from '../events/catalog.js';
import { DEFAULT_CLUSTER_ID } from '../functions/kernel/cluster-id.js';
import {
  CliError,
  type CommandSpec,
  EXIT,
  fetchRuntime,
  parseCommandLine,
  runCli,
  secondsOption,
  UsageError,
} from '../ops/cli.js';
import { describeOutcome, sampleEntry, waitForOutcome } from '../ops/emit.js';
import { localTarget, localTargetHelp } from '../ops/local-target.js';

const DEFAULT_WAIT_SECONDS = 30;

const LOCAL = localTargetHelp();

const SPEC: CommandSpec = {
  command: 'npm run emit',
  summary:
    "send a condition's sample event (stamped with the current time) and print its outcome from the delivery log",
  usage: [
    '<condition-id> [--cluster <id>] [--url <url>] [--token <t>] [--wait <s>]',
    '<condition-id> --bus <name> [--cluster <id>]',
  ],
  positionals: [['<condition-id>', `one of ${CONDITION_IDS.join(', ')}`]],
  options: {
    cluster: {
      type: 'string',
      value: 'id',
      default: DEFAULT_CLUSTER_ID,
      description: 'The cluster the event is for (its detail.clusterId).',
    },
    ...LOCAL.options,
    wait: {
      type: 'string',
      value: 's',
      default: String(DEFAULT_WAIT_SECONDS),
      description: 'How long to wait for the outcome in the delivery log; 0 reads it once.',
    },
    bus: {
      type: 'string',
      value: 'name',
      description: 'Put the event on this EventBridge bus (AWS; the usual credential chain and AWS_REGION).',
    },
  },
  environment: [...LOCAL.environment, ['AWS_REGION', 'the region of the bus (with --bus)']],
  examples: [
    'npm run emit -- promotion-pending                      # to the local runtime, cluster "default"',
    'npm run emit -- backup-promoted --cluster eu-prod-1 --wait 60',
    'AWS_REGION=eu-central-1 npm run emit -- promotion-pending --bus appliance-notifier',
  ],
  exitCodes: [
    [EXIT.ok, 'accepted; sent, grouped (its group email follows), folded, inhibited or not yet in the log'],
    [EXIT.failed, 'refused (PutEvents or /events), failed or rejected, or the runtime did not answer'],
    [EXIT.usage, 'a wrong command line or environment'],
  ],
};

await runCli(SPEC, async () => {
  const { values, positionals } = parseCommandLine<{
    cluster: string;
    url?: string;
    token?: string;
    wait: string;
    bus?: string;
  }>(SPEC);
  const [id, ...extra] = positionals;
  if (!id) throw new UsageError(`which condition? one of ${CONDITION_IDS.join(', ')}`);
  if (!isConditionId(id)) {
    throw new UsageError(`unknown condition "${id}": one of ${CONDITION_IDS.join(', ')}`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (values.bus && (values.url || values.token)) {
    throw new UsageError('--bus puts the event on a bus: --url and --token are for the embedded runtime');
  }
  const waitMs = secondsOption('wait', values.wait, DEFAULT_WAIT_SECONDS) * 1000;
  const cluster = values.cluster;
  const entry = sampleEntry(id, cluster);

  if (values.bus) {
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const client = new EventBridgeClient({});
    try {
      const result = await client.send(
        new PutEventsCommand({ Entries: [{ ...entry, EventBusName: values.bus }] }),
      );
      const [first] = result.Entries ?? [];
      if (result.FailedEntryCount || !first?.EventId) {
        throw new CliError(
          `bus ${values.bus} refused the ${id} event for cluster ${cluster}: ${first?.ErrorCode ?? 'no event id'}${first?.ErrorMessage ? ` ${first.ErrorMessage}` : ''} (FailedEntryCount ${result.FailedEntryCount ?? '?'})`,
        );
      }
      console.log(`event ${first.EventId} (${id}, cluster ${cluster}) put on bus ${values.bus}`);
      console.log(
        `its outcome: the delivery log of cluster ${cluster} (GET <ApiUrl>/clusters/${cluster}/deliveries, or the admin page)`,
      );
      return EXIT.ok;
    } finally {
      client.destroy();
    }
  }

  const { url, token } = localTarget(values);
  const authorization = { authorization: `Bearer ${token}` };
  const response = await fetchRuntime(url, '/events', {
    method: 'POST',
    headers: { ...authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ Entries: [entry] }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: string;
    Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
  };
  if (response.status === 401) {
    throw new CliError(`${url} refused the admin token (HTTP 401): pass --token or set ADMIN_TOKEN`);
  }
  const [first] = body.Entries ?? [];
  if (!response.ok || !first?.EventId) {
    const why = first?.ErrorCode ? `${first.ErrorCode} ${first.ErrorMessage ?? ''}`.trim() : body.error;
    throw new CliError(
      `${url}/events refused the ${id} event: HTTP ${response.status}${why ? ` ${why}` : ''}`,
    );
  }
  console.log(`event ${first.EventId} (${id}, cluster ${cluster}) sent to the embedded runtime at ${url}`);
  const item = await waitForOutcome({
    get: (path) => fetchRuntime(url, path, { headers: authorization }),
    clusterId: cluster,
    eventId: first.EventId,
    waitMs,
  });
  if (!item) {
    console.log(
      `not in the delivery log of cluster ${cluster} after ${waitMs / 1000} s: still queued (see ${url}/admin/)`,
    );
    return EXIT.ok;
  }
  const outcome = describeOutcome(item);
  console.log(outcome.line);
  return outcome.failed ? EXIT.failed : EXIT.ok;
});
