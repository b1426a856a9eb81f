// `npm run redrive`: replay failed events once their cause is fixed.
//   AWS:      npm run redrive -- --queue <DLQ URL> --to <notify queue URL> [--max N] [--dry-run]
//   locally:  npm run redrive -- --local [--cluster <id>] [--url http://127.0.0.1:3000]
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localTarget } from '../ops/local-target.js';
import { redriveDeadLetters } from '../ops/redrive.js';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    to: { type: 'string' },
    max: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    local: { type: 'boolean', default: false },
    cluster: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
  },
});

if (values.local) {
  const { url, token } = localTarget(values, 'npm run redrive');
  const query = values.cluster ? `?clusterId=${encodeURIComponent(values.cluster)}` : '';
  const response = await fetch(`${url}/deliveries/replay-failed${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { replayed?: { eventId: string; ok: boolean; error?: string }[] };
  if (!response.ok) throw new Error(`replay failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  for (const item of body.replayed ?? [])
    console.log(
      `${item.ok ? 'replayed' : 'still failing'} ${item.eventId}${item.error ? `: ${item.error}` : ''}`,
    );
  console.log(
    `${body.replayed?.filter((i) => i.ok).length ?? 0} replayed, ${body.replayed?.filter((i) => !i.ok).length ?? 0} still failing`,
  );
} else {
  if (!values.queue || !values.to) {
    console.error(
      'usage: npm run redrive -- --queue <DLQ URL> --to <notify queue URL> [--max N] [--dry-run]\n       npm run redrive -- --local [--cluster <id>]',
    );
    process.exit(2);
  }
  const summary = await redriveDeadLetters({
    sqs: new SQSClient({}),
    queueUrl: values.queue,
    targetQueueUrl: values.to,
    ...(values.max ? { max: Number(values.max) } : {}),
    dryRun: values['dry-run'],
    print: (line) => console.log(line),
  });
  console.log(
    `${summary.requeued} sent back to the notify queue, ${summary.failed} could not be sent, ${summary.skipped} skipped`,
  );
  if (summary.failed > 0) process.exitCode = 1;
}
