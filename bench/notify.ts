// `npm run bench`: the notify path's cost over a bare nodemailer send, and the burst rate.
// Run by hand (not part of npm test); both sides are measured in one run, interleaved, so the
// ratio holds on a noisy shared machine even when absolute times do not.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { CONDITION_IDS } from '../events/catalog.js';
import { type ValidConditionEvent, validateConditionEvent } from '../events/envelope.js';
import { loadSample } from '../events/samples.js';
import { SsmConfigStore } from '../functions/adapters/aws/ssm-config-store.js';
import { SqliteDatabase } from '../functions/adapters/local/sqlite-database.js';
import { SqliteLedger } from '../functions/adapters/local/sqlite-ledger.js';
import { TransportMailerFactory } from '../functions/adapters/mailer-factory.js';
import { SmtpMailer } from '../functions/adapters/smtp/smtp-mailer.js';
import { EmailConfigInputSchema } from '../functions/core/config/email-config.js';
import type { StoredEmailConfig } from '../functions/core/config/stored-config.js';
import { composeConditionEmail } from '../functions/core/notify/condition-email.js';
import { NotifyService } from '../functions/core/notify/notify-service.js';
import { createNotifyHandler, type NotifyRecordOutcome } from '../functions/notify/app.js';
import { createLogger } from '../functions/shared/logger.js';
import { localContext } from '../local-runtime/api-gateway-event.js';
import { sqsEvent, sqsMessage } from '../local-runtime/sqs-event.js';

const WARM_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const BURST_EVENTS = Number(process.env.BENCH_BURST_EVENTS ?? 10_000);
const BURST_APPLIANCES = 100;
const BURST_CONCURRENCY = 50;

// smtp-server holds every greeting back 100 ms to catch clients that talk too early. That
// fixed delay would dwarf what is measured here (and flatter the ratio), so the bench greets at
// once; everything after the greeting is smtp-server's own protocol handling.
const init = SMTPConnection.prototype.init;
SMTPConnection.prototype.init = function initWithoutGreetingDelay(this: SMTPConnection) {
  (this as unknown as { _setListeners(done: () => void): void })._setListeners(() => this.connectionReady());
};
void init;

// A real SMTP server on loopback that accepts everything and keeps nothing.
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  // No reverse DNS of the client: it would add the resolver's latency to both sides alike.
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => callback());
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
  }),
};

// Configuration from SSM, as in AWS: the first read goes to (mocked) SSM, every later one is
// served by the store's warm cache, which is what a warm invocation sees.
const ssm = mockClient(SSMClient);
ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(stored) } });
const store = new SsmConfigStore({
  client: new SSMClient({ region: 'eu-west-1' }),
  parameterPrefix: '/bench',
  cacheTtlMs: 3_600_000,
});

// Logs are formatted and written as in production, to /dev/null instead of the terminal.
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

const log = createLogger({ logLevel: 'INFO' });
const dir = mkdtempSync(join(tmpdir(), 'bench-'));
let clock = new Date('2026-11-28T00:00:00Z');
const database = await SqliteDatabase.open({ directory: dir });
const ledger = new SqliteLedger({ database, clock: () => clock });
const mailers = new TransportMailerFactory({ ses: () => Promise.reject(new Error('unused')) });
// The handler as the event source mapping calls it: one SQS record per event (the burst below
// runs 50 of them at once, as parallel invocations would), each outcome read back by message id.
const outcomeOf = new Map<string, NotifyRecordOutcome>();
const notifyBatch = createNotifyHandler({
  service: new NotifyService({ store, mailers, ledger, clock: () => clock, log }),
  log,
  queue: {
    retryLater: () => Promise.reject(new Error('the bench expects no temporary failure')),
    deadLetter: () => Promise.reject(new Error('the bench expects no temporary failure')),
  },
  onRecord: (messageId, outcome) => outcomeOf.set(messageId, outcome),
});
const notify = async (event: SQSEvent, context: Context) => {
  await notifyBatch(event, context);
  const messageId = event.Records[0]?.messageId ?? '';
  const outcome = outcomeOf.get(messageId);
  outcomeOf.delete(messageId);
  if (!outcome?.ok) throw outcome?.error ?? new Error('no outcome');
  return outcome.result;
};
const asRecord = (envelope: unknown) => sqsEvent(sqsMessage(envelope, { sentAt: clock }));

const sample = loadSample('promotion-pending');
const eventFor = (hostname: string, id: (typeof CONDITION_IDS)[number] = 'promotion-pending') => {
  const base = id === 'promotion-pending' ? sample : loadSample(id);
  return {
    ...base,
    id: randomUUID(),
    detail: { ...base.detail, clusterId: 'bench', appliance: { ...base.detail.appliance, hostname } },
  };
};

// The baseline: nodemailer alone sending the same message to the same server.
const bare = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
const validated = validateConditionEvent(eventFor('baseline.example.com'));
if (!validated.ok) throw new Error(validated.reason);
const message = composeConditionEmail({
  condition: validated.condition,
  detail: validated.detail,
  eventId: validated.envelope.id,
  eventTime: validated.envelope.time,
  clusterId: 'bench',
  config: stored.config,
});

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

silenceStdout();
// Warm up both paths (JIT, connection setup code, the config cache).
for (let i = 0; i < 30; i++) {
  await notify(asRecord(eventFor(`warmup-${i}.example.com`)), localContext('notify'));
  await bare.sendMail(message);
}
// Three sides per round, in rotating order so drift and GC land on all alike: the whole notify
// handler, our SMTP adapter alone (to attribute the difference), and bare nodemailer.
const adapter = new SmtpMailer({
  settings: stored.config.smtp ?? {
    host: '127.0.0.1',
    port,
    encryption: 'none',
    verifyCertificate: true,
    auth: { type: 'none' },
  },
});
// Four sides per round, in rotating order so drift and GC land on all alike:
// - handler: the whole notify handler (middy with Powertools, the batch processor, the record
//   body parsed, validate, configuration from the cache, claim + fold + record in the file
//   ledger, render, one log line, send);
// - minimal: validate + render + our SMTP adapter, the work any notifier must do for an event
//   (no ledger, no log line, no middleware): the floor the handler is built on;
// - adapter: our SMTP adapter sending the pre-rendered message;
// - bare: nodemailer alone sending the same message.
// Each event is built before its timer starts: the Lambda runtime hands the handler a parsed SQS
// event, and building one is not the handler's work (parsing the record body, the EventBridge
// event as JSON, is, and is measured).
const SIDES = ['handler', 'minimal', 'adapter', 'bare'] as const;
const samples = Object.fromEntries(SIDES.map((side) => [side, [] as number[]])) as Record<
  (typeof SIDES)[number],
  number[]
>;
const timed = async (into: number[], run: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await run();
  into.push(Number(process.hrtime.bigint() - started) / 1e6);
};
const render = (valid: ValidConditionEvent) =>
  composeConditionEmail({
    condition: valid.condition,
    detail: valid.detail,
    eventId: valid.envelope.id,
    eventTime: valid.envelope.time,
    clusterId: 'bench',
    config: stored.config,
  });
const renderFor = (event: unknown) => {
  const valid = validateConditionEvent(event);
  if (!valid.ok) throw new Error(valid.reason);
  return render(valid);
};
for (let i = 0; i < WARM_ROUNDS; i++) {
  const handlerEvent = asRecord(eventFor(`warm-${i}.example.com`));
  const context = localContext('notify');
  const minimalEvent = eventFor(`minimal-${i}.example.com`);
  const sides = [
    () =>
      timed(samples.handler, async () => {
        const result = await notify(handlerEvent, context);
        if (result.outcome !== 'sent') throw new Error(`unexpected outcome ${result.outcome}`);
      }),
    () => timed(samples.minimal, () => adapter.send(renderFor(minimalEvent))),
    () => timed(samples.adapter, () => adapter.send(message)),
    () => timed(samples.bare, () => bare.sendMail(message)),
  ];
  for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]?.();
}

// What single stages cost where the handler meets them (right after an SMTP exchange has run
// through the CPU caches) against the same stage run back to back in a hot loop.
const STAGE_ROUNDS = Math.min(WARM_ROUNDS, 300);
const HOT_LOOP = 2000;
const stages: Array<[name: string, run: (event: unknown) => unknown]> = [
  ['validate (zod: envelope + detail)', (event) => validateConditionEvent(event)],
  ['render (subject, text, HTML)', () => render(validated)],
  [
    'one Powertools log line',
    () => log.info('Notification sent', { eventId: 'bench', condition: 'bench', messageId: '<bench@bench>' }),
  ],
];
const stageCosts = stages.map(([name, run]) => {
  const inSitu: number[] = [];
  return { name, run, inSitu, hot: [] as number[] };
});
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

// The burst: 10,000 events from 100 appliances (each reporting its own condition), handled
// with bounded concurrency as parallel Lambda invocations would be. Repeats inside the window
// fold, so about one email per appliance goes out.
clock = new Date(clock.getTime() + 24 * 3_600_000);
const appliances = Array.from({ length: BURST_APPLIANCES }, (_, i) => ({
  hostname: `node-${i}.example.com`,
  condition: CONDITION_IDS[i % CONDITION_IDS.length] ?? 'promotion-pending',
}));
const events = Array.from({ length: BURST_EVENTS }, (_, i) => {
  const appliance = appliances[i % BURST_APPLIANCES] ?? appliances[0];
  return asRecord(eventFor(appliance?.hostname ?? 'x', appliance?.condition));
});
const outcomes = new Map<string, number>();
const burstStarted = process.hrtime.bigint();
let next = 0;
await Promise.all(
  Array.from({ length: BURST_CONCURRENCY }, async () => {
    while (next < events.length) {
      const event = events[next++];
      if (!event) break;
      const result = await notify(event, localContext('notify'));
      outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
    }
  }),
);
const burstSeconds = Number(process.hrtime.bigint() - burstStarted) / 1e9;
restoreStdout();

const bareMedian = median(samples.bare);
const row = (label: string, side: (typeof SIDES)[number], what: string) => {
  const value = median(samples[side]);
  console.log(
    `  ${label.padEnd(18)} median ${value.toFixed(3)} ms/event  ${(value / bareMedian).toFixed(3)} x bare  (${what})`,
  );
};
console.log(
  `notify warm path vs bare nodemailer send (${WARM_ROUNDS} rounds each, interleaved, loopback smtp-server)`,
);
row(
  'notify handler',
  'handler',
  'middy + Powertools + batch, validate, config from cache, SQLite ledger, render, log, send',
);
row('minimal notifier', 'minimal', 'validate + render + our SMTP adapter; no ledger, log or middleware');
row('SmtpMailer alone', 'adapter', 'the pre-rendered message');
console.log(`  bare nodemailer    median ${bareMedian.toFixed(3)} ms/event`);
console.log(`  ratio              ${(median(samples.handler) / bareMedian).toFixed(3)} (target <= 1.15)`);
console.log(
  'stage costs in microseconds: where the handler meets them (after an SMTP exchange) vs a hot loop',
);
for (const stage of stageCosts) {
  const inSitu = median(stage.inSitu);
  const hot = median(stage.hot);
  console.log(
    `  ${stage.name.padEnd(34)} ${inSitu.toFixed(1).padStart(6)} us in place  ${hot.toFixed(1).padStart(6)} us hot  (${(inSitu / hot).toFixed(1)} x)`,
  );
}
console.log(
  `burst: ${BURST_EVENTS} events from ${BURST_APPLIANCES} appliances, concurrency ${BURST_CONCURRENCY}: ${burstSeconds.toFixed(2)} s, ${Math.round(BURST_EVENTS / burstSeconds)} events/s (target >= 1000)`,
);
console.log(`  outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);

await ledger.close();
database.close();
closeSync(devNull);
bare.close();
ssm.restore();
await new Promise<void>((done) => server.close(() => done()));
rmSync(dir, { recursive: true, force: true });
