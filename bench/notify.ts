// `npm run bench`: the notify path with the stores production uses, next to a bare nodemailer
// send, and bursts counted as events/s and emails/s apart. Run by hand (not part of npm test).
//
// Two deployments, each composed as it is in production (`buildServices` over its adapters):
// - aws: `awsAdapters(env)`: the DynamoDB ledger against dynalite (a child process, on loopback)
//   and the SSM config store with the environment's default cache TTL (CONFIG_CACHE_TTL_SECONDS,
//   30 s), SSM mocked at the client (there is no SSM emulator); the handler with Powertools
//   metrics, as functions/notify/handler.ts builds it;
// - embedded: `localAdapters({ dataDir })`: the SQLite config store and SQLite ledger in a temp
//   data directory (synchronous=FULL, as the embedded runtime runs).
// Everything that is compared runs in each of BENCH_RUNS runs, interleaved in rotating order, so
// drift and other processes on the shared machine land on all sides alike; every figure is
// printed as min / median / max over the runs.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { CONDITION_IDS } from '../events/catalog.js';
import { type ValidConditionEvent, validateConditionEvent } from '../events/envelope.js';
import { loadSample } from '../events/samples.js';
import { awsAdapters } from '../functions/adapters/aws/aws-adapters.js';
import { localAdapters } from '../functions/adapters/local/local-adapters.js';
import { SmtpMailer } from '../functions/adapters/smtp/smtp-mailer.js';
import { buildServices } from '../functions/composition.js';
import { EmailConfigInputSchema } from '../functions/core/config/email-config.js';
import type { StoredEmailConfig } from '../functions/core/config/stored-config.js';
import { composeConditionEmail } from '../functions/core/notify/condition-email.js';
import type { NotifyService } from '../functions/core/notify/notify-service.js';
import { createNotifyHandler, type NotifyRecordOutcome } from '../functions/notify/app.js';
import { NotifyEnvSchema } from '../functions/notify/env.js';
import { parseEnv } from '../functions/shared/env.js';
import { createLogger } from '../functions/shared/logger.js';
import { createMetrics } from '../functions/shared/metrics.js';
import { serviceSettingsOf } from '../functions/shared/service-env.js';
import { localContext } from '../local-runtime/api-gateway-event.js';
import { sqsEvent, sqsMessage } from '../local-runtime/sqs-event.js';
import { type DynaliteStats, startDynaliteProcess } from './dynalite-process.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARM_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const BURST_EVENTS = Number(process.env.BENCH_BURST_EVENTS ?? 200);
// The folding burst: each appliance reports its condition this many times.
const FOLD_REPEATS = 10;
const FOLD_APPLIANCES = Math.max(1, Math.round(BURST_EVENTS / FOLD_REPEATS));
const BURST_CONCURRENCY = 50;
const STAGE_ROUNDS = Number(process.env.BENCH_STAGE_ROUNDS ?? 200);
const loadBefore = loadavg();

// smtp-server holds every greeting back 100 ms to catch clients that talk too early. That
// fixed delay would dwarf what is measured here, so the bench greets at once; everything after
// the greeting is smtp-server's own protocol handling.
SMTPConnection.prototype.init = function initWithoutGreetingDelay(this: SMTPConnection) {
  (this as unknown as { _setListeners(done: () => void): void })._setListeners(() => this.connectionReady());
};

// A real SMTP server on loopback that accepts everything, keeps nothing and counts what it
// accepted (the count is bumped before its 250 reply, so before the sender's send resolves).
let accepted = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  // No reverse DNS of the client: it would add the resolver's latency to every side alike.
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      accepted++;
      callback();
    });
  },
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const port = (server.server.address() as { port: number }).port;

const stored: StoredEmailConfig = {
  schemaVersion: 1,
  clusterId: 'bench',
  updatedAt: new Date().toISOString(),
  config: EmailConfigInputSchema.parse({
    sender: 'appliance@example.com',
    smtp: { host: '127.0.0.1', port, encryption: 'none' },
    adminContacts: 'ops@example.com oncall@example.com',
    // One email per event: what this test is about (group emails have tests of their own).
    grouping: { waitSeconds: 0 },
  }),
};

// Logs (and the aws side's EMF metrics) are formatted and written as in production, to
// /dev/null instead of the terminal.
const devNull = openSync('/dev/null', 'w');
const realWrite = process.stdout.write.bind(process.stdout);
const silenceStdout = () => {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    writeSync(devNull, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return true;
  }) as typeof process.stdout.write;
};
const restoreStdout = () => {
  process.stdout.write = realWrite;
};

// --- aws: the Lambda's composition, with DynamoDB on dynalite and SSM mocked -----------------
const dynalite = await startDynaliteProcess();
// In a child process, so its work is not charged to the handler's event loop (DynamoDB's is not
// charged to a Lambda); it still shares the machine's 2 cores. The SDK's service-specific
// endpoint variable sends awsAdapters' `new DynamoDBClient({})` to it unchanged. Dummy
// credentials: dynalite checks none, and SSM never leaves the mock.
Object.assign(process.env, {
  AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDLOCALBENCH',
  AWS_SECRET_ACCESS_KEY: 'local-bench-secret',
});
const ssm = mockClient(SSMClient);
ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(stored) } });
const awsEnv = parseEnv(
  NotifyEnvSchema,
  {
    CONFIG_PARAMETER_PREFIX: '/bench/clusters',
    CONFIG_KMS_KEY_ID: 'alias/bench',
    LEDGER_TABLE_NAME: dynalite.tableName,
    EVENT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/000000000000/bench-events',
  },
  'notify',
);
const awsServices = buildServices(awsAdapters(awsEnv), serviceSettingsOf(awsEnv));

// --- embedded: the embedded runtime's adapters on a temp data directory ----------------------
const dataDir = mkdtempSync(join(tmpdir(), 'bench-notify-'));
const embeddedAdapters = await localAdapters({ dataDir, log: createLogger({ logLevel: 'INFO' }) });
await embeddedAdapters.store.put(stored);
const embeddedServices = buildServices(embeddedAdapters, {});

// The handler as the event source mapping (or the embedded queue consumer) calls it: one record
// per invocation (the bursts run 50 of them at once), each outcome read back by message id.
const handlerOf = (service: NotifyService, log: Logger, metrics?: Metrics) => {
  const outcomeOf = new Map<string, NotifyRecordOutcome>();
  const batch = createNotifyHandler({
    service,
    log,
    ...(metrics ? { metrics } : {}),
    queue: {
      retryLater: () => Promise.reject(new Error('the bench expects no temporary failure')),
      deadLetter: () => Promise.reject(new Error('the bench expects no temporary failure')),
    },
    onRecord: (messageId, outcome) => outcomeOf.set(messageId, outcome),
  });
  return async (event: SQSEvent, context: Context) => {
    await batch(event, context);
    const messageId = event.Records[0]?.messageId ?? '';
    const outcome = outcomeOf.get(messageId);
    outcomeOf.delete(messageId);
    if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
    return outcome.result;
  };
};
const DEPLOYMENTS = {
  aws: handlerOf(
    awsServices.notify,
    awsServices.log,
    createMetrics({
      namespace: awsEnv.POWERTOOLS_METRICS_NAMESPACE,
      serviceName: awsEnv.POWERTOOLS_SERVICE_NAME,
    }),
  ),
  embedded: handlerOf(embeddedServices.notify, embeddedServices.log),
};
type Deployment = keyof typeof DEPLOYMENTS;
const DEPLOYMENT_NAMES = Object.keys(DEPLOYMENTS) as Deployment[];

const asRecord = (envelope: unknown) => sqsEvent(sqsMessage(envelope, { sentAt: new Date() }));
const sample = loadSample('promotion-pending');
const eventFor = (hostname: string, id: (typeof CONDITION_IDS)[number] = 'promotion-pending') => {
  const base = id === 'promotion-pending' ? sample : loadSample(id);
  return {
    ...base,
    id: randomUUID(),
    time: new Date().toISOString(),
    detail: { ...base.detail, clusterId: 'bench', appliance: { ...base.detail.appliance, hostname } },
  };
};

// The information baselines: nodemailer alone, and our SMTP adapter alone, sending the same
// pre-rendered message to the same server; and a minimal notifier (validate + render + adapter).
const bare = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
const validated = validateConditionEvent(eventFor('baseline.example.com'));
if (!validated.ok) throw new Error(validated.reason);
const render = (valid: ValidConditionEvent) =>
  composeConditionEmail({
    condition: valid.condition,
    detail: valid.detail,
    eventId: valid.envelope.id,
    eventTime: valid.envelope.time,
    clusterId: 'bench',
    config: stored.config,
  });
const message = render(validated);
const renderFor = (event: unknown) => {
  const valid = validateConditionEvent(event);
  if (!valid.ok) throw new Error(valid.reason);
  return render(valid);
};
const adapter = new SmtpMailer({
  settings: stored.config.smtp ?? {
    host: '127.0.0.1',
    port,
    encryption: 'none',
    verifyCertificate: true,
    auth: { type: 'none' },
  },
});

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const spread = (values: number[]) => ({
  min: Math.min(...values),
  median: median(values),
  max: Math.max(...values),
});
const timed = async (into: number[], run: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await run();
  into.push(Number(process.hrtime.bigint() - started) / 1e6);
};
const expectSent = async (deployment: Deployment, hostname: string) => {
  const result = await DEPLOYMENTS[deployment](asRecord(eventFor(hostname)), localContext('notify'));
  if (result.outcome !== 'sent') throw new Error(`${deployment}: unexpected outcome ${result.outcome}`);
};

// The warm path, one event at a time: each event sends one email, so here events/s = emails/s.
const WARM_SIDES = ['aws', 'embedded', 'minimal', 'adapter', 'bare'] as const;
type WarmSide = (typeof WARM_SIDES)[number];
/** Each run's median ms per event, by side. */
const warmMedians = Object.fromEntries(WARM_SIDES.map((side) => [side, [] as number[]])) as Record<
  WarmSide,
  number[]
>;

/** Each run's DynamoDB requests and dynalite CPU over its warm rounds (only the aws side uses it). */
const warmDynamo: DynaliteStats[] = [];

// The bursts: 'sending' has every event from its own appliance, so nothing folds and every event
// sends; 'folding' has BURST_EVENTS events from a tenth as many appliances, so each appliance's first event
// sends and its repeats within repeatIntervalMinutes fold. Hostnames are new in every run.
const BURSTS = ['sending', 'folding'] as const;
type Burst = (typeof BURSTS)[number];
interface BurstRun {
  seconds: number;
  events: number;
  emails: number;
  outcomes: Map<string, number>;
  /** The aws side's DynamoDB requests and dynalite's CPU during the burst. */
  dynamo?: DynaliteStats;
}
const statsSince = async (before: DynaliteStats): Promise<DynaliteStats> => {
  const now = await dynalite.stats();
  return { requests: now.requests - before.requests, cpuMs: now.cpuMs - before.cpuMs };
};
const burstRuns = new Map<string, BurstRun[]>();
const burstKey = (deployment: Deployment, burst: Burst) => `${deployment}/${burst}`;

const runBurst = async (deployment: Deployment, burst: Burst, run: number): Promise<BurstRun> => {
  const handler = DEPLOYMENTS[deployment];
  // Built before the timer starts: the runtime hands the handler a parsed SQS event.
  const events = Array.from({ length: BURST_EVENTS }, (_, i) => {
    const appliance = burst === 'sending' ? i : i % FOLD_APPLIANCES;
    const condition = CONDITION_IDS[appliance % CONDITION_IDS.length] ?? 'promotion-pending';
    return asRecord(eventFor(`r${run}-${burst}-${appliance}.example.com`, condition));
  });
  const outcomes = new Map<string, number>();
  const dynamoBefore = await dynalite.stats();
  const acceptedBefore = accepted;
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: BURST_CONCURRENCY }, async () => {
      while (next < events.length) {
        const event = events[next++];
        if (!event) break;
        const result = await handler(event, localContext('notify'));
        outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const emails = accepted - acceptedBefore;
  const accounted = [...outcomes.values()].reduce((sum, n) => sum + n, 0);
  const dynamo = deployment === 'aws' ? await statsSince(dynamoBefore) : undefined;
  return { seconds, events: accounted, emails, outcomes, ...(dynamo ? { dynamo } : {}) };
};

silenceStdout();
const benchStarted = Date.now();
// Warm up every side (JIT, connection setup code, the config caches, dynalite).
for (let i = 0; i < 30; i++) {
  for (const deployment of DEPLOYMENT_NAMES)
    await expectSent(deployment, `warmup-${deployment}-${i}.example.com`);
  await adapter.send(renderFor(eventFor(`warmup-minimal-${i}.example.com`)));
  await bare.sendMail(message);
}

for (let run = 0; run < RUNS; run++) {
  const samples = Object.fromEntries(WARM_SIDES.map((side) => [side, [] as number[]])) as Record<
    WarmSide,
    number[]
  >;
  const dynamoBefore = await dynalite.stats();
  for (let i = 0; i < WARM_ROUNDS; i++) {
    // Each event is built before its timer starts (see runBurst); parsing the record body is
    // the handler's work and is measured.
    const records = {
      aws: asRecord(eventFor(`r${run}-warm-aws-${i}.example.com`)),
      embedded: asRecord(eventFor(`r${run}-warm-embedded-${i}.example.com`)),
    };
    const minimalEvent = eventFor(`r${run}-warm-minimal-${i}.example.com`);
    const context = localContext('notify');
    const sides: Array<() => Promise<void>> = [
      ...DEPLOYMENT_NAMES.map(
        (deployment) => () =>
          timed(samples[deployment], async () => {
            const result = await DEPLOYMENTS[deployment](records[deployment], context);
            if (result.outcome !== 'sent')
              throw new Error(`${deployment}: unexpected outcome ${result.outcome}`);
          }),
      ),
      () => timed(samples.minimal, () => adapter.send(renderFor(minimalEvent))),
      () => timed(samples.adapter, () => adapter.send(message)),
      () => timed(samples.bare, () => bare.sendMail(message)),
    ];
    for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]?.();
  }
  for (const side of WARM_SIDES) warmMedians[side].push(median(samples[side]));
  warmDynamo.push(await statsSince(dynamoBefore));

  const combos = DEPLOYMENT_NAMES.flatMap((deployment) =>
    BURSTS.map((burst) => [deployment, burst] as const),
  );
  for (let k = 0; k < combos.length; k++) {
    const [deployment, burst] = combos[(run + k) % combos.length] ?? combos[0] ?? ['aws', 'sending'];
    const result = await runBurst(deployment, burst, run);
    const key = burstKey(deployment, burst);
    burstRuns.set(key, [...(burstRuns.get(key) ?? []), result]);
  }
}

// What single stages cost where the handler meets them (right after an SMTP exchange has run
// through the CPU caches) against the same stage run back to back in a hot loop. Once, not per run.
const HOT_LOOP = 2000;
const stageLog = embeddedServices.log;
const stages: Array<[name: string, run: (event: unknown) => unknown]> = [
  ['validate (zod: envelope + detail)', (event) => validateConditionEvent(event)],
  ['render (subject, text, HTML)', () => render(validated)],
  [
    'one Powertools log line',
    () =>
      stageLog.info('Notification sent', {
        eventId: 'bench',
        condition: 'bench',
        messageId: '<bench@bench>',
      }),
  ],
];
const stageCosts = stages.map(([name, run]) => ({ name, run, inSitu: [] as number[], hot: [] as number[] }));
for (let i = 0; i < STAGE_ROUNDS; i++) {
  for (const stage of stageCosts) {
    const event = eventFor(`stage-${i}.example.com`);
    await bare.sendMail(message);
    const started = process.hrtime.bigint();
    stage.run(event);
    stage.inSitu.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
}
for (const stage of stageCosts) {
  const events = Array.from({ length: HOT_LOOP }, (_, i) => eventFor(`hot-${i}.example.com`));
  for (const event of events) {
    const started = process.hrtime.bigint();
    stage.run(event);
    stage.hot.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
}
const benchSeconds = (Date.now() - benchStarted) / 1000;
restoreStdout();

// --- report ---------------------------------------------------------------------------------
const mmm = (values: number[], digits: number) => {
  const { min, median: mid, max } = spread(values);
  return `${min.toFixed(digits)} / ${mid.toFixed(digits)} / ${max.toFixed(digits)}`;
};
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const mmmRate = (values: number[]) => {
  const { min, median: mid, max } = spread(values);
  return `${thousands(min)} / ${thousands(mid)} / ${thousands(max)}`;
};
const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');

console.log(
  `notify bench: ${RUNS} runs; node ${process.version}, ${cpus().length} cores, load average (1/5/15 min) ${load(loadBefore)} before, ${load(loadavg())} after; ${benchSeconds.toFixed(0)} s`,
);
console.log(
  "  every figure: min / median / max over the runs (of each run's median where a run has many samples)",
);
console.log(
  '  aws      = awsAdapters: DynamoDB ledger on dynalite (loopback), SSM config store with its 30 s cache, SSM mocked at the client',
);
console.log(
  '  embedded = localAdapters: SQLite config store and SQLite ledger in a temp data dir (synchronous=FULL)',
);
console.log();
console.log(
  `warm path, one event at a time (${WARM_ROUNDS} rounds per run, 5 sides interleaved, loopback smtp-server); each event sends one email, so events/s = emails/s`,
);
const bareRatios = (side: WarmSide) =>
  warmMedians[side].map((ms, run) => ms / (warmMedians.bare[run] ?? Number.NaN));
const warmRow = (label: string, side: WarmSide, what: string) => {
  const ms = warmMedians[side];
  const rate = ms.map((v) => 1000 / v);
  const ratio = side === 'bare' ? '' : `  ${mmm(bareRatios(side), 2)} x bare`;
  console.log(`  ${label.padEnd(18)} ${mmm(ms, 3)} ms/event  ${mmmRate(rate)} events/s${ratio}`);
  console.log(`  ${''.padEnd(18)} (${what})`);
};
const perEvent = (stats: DynaliteStats[], events: (i: number) => number) =>
  `${mmm(
    stats.map((d, i) => d.requests / events(i)),
    1,
  )} DynamoDB requests and ${mmm(
    stats.map((d, i) => d.cpuMs / events(i)),
    1,
  )} ms of dynalite CPU per event`;
warmRow(
  'aws handler',
  'aws',
  'middy + Powertools logger, metrics and batch, validate, config from SSM cache, DynamoDB ledger, render, send',
);
console.log(`  ${''.padEnd(18)} (${perEvent(warmDynamo, () => WARM_ROUNDS)}, in its own process)`);
warmRow(
  'embedded handler',
  'embedded',
  'the same handler without metrics, config from SQLite, SQLite ledger',
);
warmRow(
  'minimal notifier',
  'minimal',
  'validate + render + our SMTP adapter; no store, ledger, log or middleware',
);
warmRow('SmtpMailer alone', 'adapter', 'the pre-rendered message');
warmRow(
  'bare nodemailer',
  'bare',
  'the pre-rendered message; information only, no target (issue 12 withdrew 1.15)',
);
console.log();
console.log(
  `bursts: ${BURST_EVENTS} events at concurrency ${BURST_CONCURRENCY} per burst, the four bursts of a run in rotating order`,
);
console.log(
  '  events/s counts every event accounted for (sent and folded); emails/s counts the emails the relay accepted',
);
for (const deployment of DEPLOYMENT_NAMES) {
  for (const burst of BURSTS) {
    const runs = burstRuns.get(burstKey(deployment, burst)) ?? [];
    const label =
      burst === 'sending'
        ? `every event sends (${BURST_EVENTS} appliances, nothing folds)`
        : `folding (${FOLD_APPLIANCES} appliances, ${FOLD_REPEATS} events each; repeats fold)`;
    const outcomeText = (r: BurstRun) =>
      [...r.outcomes]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const distinct = [...new Set(runs.map(outcomeText))];
    const emailsText = [...new Set(runs.map((r) => r.emails))].join(' or ');
    console.log(`  ${deployment.padEnd(9)} ${label}`);
    console.log(
      `  ${''.padEnd(9)} ${mmmRate(runs.map((r) => r.events / r.seconds))} events/s   ${mmmRate(runs.map((r) => r.emails / r.seconds))} emails/s   ${mmm(
        runs.map((r) => r.seconds),
        2,
      )} s`,
    );
    console.log(
      `  ${''.padEnd(9)} outcomes per run: ${distinct.join(' | ')}; relay accepted ${emailsText} emails per run`,
    );
    const dynamo = runs.flatMap((r) => (r.dynamo ? [r.dynamo] : []));
    if (dynamo.length === runs.length && runs.length > 0) {
      console.log(`  ${''.padEnd(9)} ${perEvent(dynamo, (i) => runs[i]?.events ?? Number.NaN)}`);
    }
  }
}
console.log(
  `  SSM GetParameter calls over the whole bench: ${ssm.commandCalls(GetParameterCommand).length} (one per 30 s cache expiry, ${benchSeconds.toFixed(0)} s)`,
);
console.log();
console.log(
  `stage costs in microseconds, median of ${STAGE_ROUNDS} in place (right after an SMTP exchange) vs ${HOT_LOOP} in a hot loop; one pass`,
);
for (const stage of stageCosts) {
  const inSitu = median(stage.inSitu);
  const hot = median(stage.hot);
  console.log(
    `  ${stage.name.padEnd(34)} ${inSitu.toFixed(1).padStart(6)} us in place  ${hot.toFixed(1).padStart(6)} us hot  (${(inSitu / hot).toFixed(1)} x)`,
  );
}

await embeddedAdapters.close();
closeSync(devNull);
bare.close();
ssm.restore();
await dynalite.close();
await new Promise<void>((done) => server.close(() => done()));
rmSync(dataDir, { recursive: true, force: true });
