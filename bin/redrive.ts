// `npm run redrive`: replay failed events once their cause is fixed.
//   AWS:      npm run redrive -- --queue <DLQ URL> --to <notify queue URL> [--max N] [--dry-run]
//   locally:  npm run redrive -- --local [--cluster <id>] [--url http://127.0.0.1:3000]
import {
  CliError,
  type CommandSpec,
  EXIT,
  fetchRuntime,
  parseCommandLine,
  runCli,
  UsageError,
} from '../ops/cli.js';
import { localTarget, localTargetHelp } from '../ops/local-target.js';
import { type ReplayItem, redriveDeadLetters, summarizeReplays } from '../ops/redrive.js';

const LOCAL = localTargetHelp('--local');

const SPEC: CommandSpec = {
  command: 'npm run redrive',
  summary: 'replay failed events once their cause is fixed, and print what became of each',
  usage: [
    '--queue <DLQ URL> --to <notify queue URL> [--max <n>] [--dry-run]',
    '--local [--cluster <id>] [--url <url>] [--token <t>]',
  ],
  options: {
    queue: {
      type: 'string',
      value: 'url',
      description: 'AWS: the dead-letter queue to drain (NotifyQueueDlqUrl or EventTargetDlqUrl).',
    },
    to: { type: 'string', value: 'url', description: 'AWS: the notify queue (NotifyQueueUrl).' },
    max: { type: 'string', value: 'n', description: 'AWS: stop after this many messages.' },
    'dry-run': { type: 'boolean', description: 'AWS: only show what would be sent back.' },
    local: {
      type: 'boolean',
      description:
        "The embedded runtime: replay every failed event in its delivery log, and wait for each one's outcome.",
    },
    cluster: { type: 'string', value: 'id', description: "With --local: only this cluster's events." },
    ...LOCAL.options,
  },
  environment: [
    ...LOCAL.environment,
    ['AWS_REGION', 'the region of the queues (AWS; the usual credential chain)'],
  ],
  examples: [
    'npm run redrive -- --local',
    'npm run redrive -- --local --cluster eu-prod-1',
    'npm run redrive -- --queue https://sqs.eu-central-1.amazonaws.com/123456789012/notify-dlq \\',
    '                   --to https://sqs.eu-central-1.amazonaws.com/123456789012/notify --dry-run',
  ],
  exitCodes: [
    [EXIT.ok, 'every event delivered, handled, or (locally) still queued for its group email'],
    [EXIT.failed, 'an event failed again, or could not be sent back; or the runtime did not answer'],
    [EXIT.usage, 'a wrong command line or environment'],
  ],
};

await runCli(SPEC, async () => {
  const { values } = parseCommandLine<{
    queue?: string;
    to?: string;
    max?: string;
    'dry-run'?: boolean;
    local?: boolean;
    cluster?: string;
    url?: string;
    token?: string;
  }>(SPEC);

  if (values.local) {
    if (values.queue || values.to || values.max || values['dry-run']) {
      throw new UsageError('--queue, --to, --max and --dry-run are for AWS; --local replays in the runtime');
    }
    const { url, token } = localTarget(values);
    const query = values.cluster ? `?clusterId=${encodeURIComponent(values.cluster)}` : '';
    const response = await fetchRuntime(url, `/deliveries/replay-failed${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      // Each replay waits for notify's first answer (one send's deadline and some).
      signal: AbortSignal.timeout(120_000),
    });
    const body = (await response.json().catch(() => ({}))) as { replayed?: ReplayItem[]; error?: string };
    if (!response.ok) {
      throw new CliError(
        `${url} refused the replay: HTTP ${response.status}${body.error ? ` ${body.error}` : ''}${response.status === 401 ? ': pass --token or set ADMIN_TOKEN' : ''}`,
      );
    }
    const summary = summarizeReplays(body.replayed ?? []);
    for (const line of summary.lines) console.log(line);
    console.log(summary.total);
    return summary.failed > 0 ? EXIT.failed : EXIT.ok;
  }

  if (!values.queue || !values.to) {
    throw new UsageError('give --queue <DLQ URL> and --to <notify queue URL>, or --local');
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new UsageError(`--max is a whole number of messages, not "${values.max}"`);
  }
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({});
  try {
    const summary = await redriveDeadLetters({
      sqs,
      queueUrl: values.queue,
      targetQueueUrl: values.to,
      ...(max !== undefined ? { max } : {}),
      dryRun: values['dry-run'] === true,
      print: (line) => console.log(line),
    });
    console.log(
      `${summary.requeued} sent back to the notify queue, ${summary.failed} could not be sent, ${summary.skipped} skipped`,
    );
    return summary.failed > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    sqs.destroy();
  }
});
