// `npm run bench:cold`: a whole cold start of each function, as a fresh process: from spawning
// `node` to the first invocation's response. That is node's own startup (with the NODE_OPTIONS the
// stack sets), importing the bundle (its init code: environment, SDK clients, composition), and the
// first invocation, with the chunks it loads on demand (the SMTP transport and nodemailer) and its
// calls to local peers:
// - DynamoDB: dynalite, in a child process of its own (bench/dynalite-process.ts), with the ledger
//   table as the stack creates it;
// - SSM: bench/ssm-peer.ts, a minimal HTTP peer that answers GetParameter (the configuration, the
//   JSON of a StoredEmailConfig) and GetParametersByPath (the cluster list);
// - SMTP: smtp-server on loopback (test/support/smtp-test-server.ts), greeting at once;
// - SQS, and any other AWS service: a loopback port nothing listens on, so a call that should not
//   happen fails at once instead of reaching AWS (notify calls SQS only for a failed record).
// The SDK clients reach the peers through the service-specific endpoint variables
// (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SQS; AWS_ENDPOINT_URL for
// the rest) with dummy credentials; the bundles are unchanged.
//
// What each function's first invocation does:
// - notify: an SQS batch of one appliance event (a fresh cluster and event id each run) → config
//   read → condition email sent over the pooled SMTP transport → delivery log written;
// - admin-api: `GET /clusters/{id}/email-config` with the JWT authorizer's claims → config read;
// - daily-notice: the schedule's `{}` → cluster list (one cluster) → config read → 24-hour summary
//   read → notice sent → delivery log written.
// Each run's outcome is checked (the email arrived, the delivery log says sent, 200 with the
// cluster's configuration), so a run that failed fast cannot pass for a fast cold start.
//
// The reference (bench/fixtures/reference-handler.ts) is the honest floor for notify's work: the
// same SDK clients and the same I/O against the same peers (one SSM GetParameter, one email with
// bare nodemailer, one DynamoDB PutItem) with nothing else: no validation, logging, metrics,
// middleware or idempotency. It is bundled like the functions and invoked with the same SQS event.
// Every function's ratio is to this one reference; the admin API does less I/O than it (no send),
// the daily notice more (a list and a query).
//
// Each round runs every bundle once, in rotating order, so drift in the shared machine's load
// lands on all of them alike; a first round warms the file cache and the peers and is not counted.
// Figures are min / median / max over BENCH_RUNS rounds (15 by default). Not a Lambda: the Lambda
// runtime's own bootstrap, the network to AWS and the sandbox's CPU share are not in these figures.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { loadSample } from '../events/samples.js';
import { DynamoDbLedger } from '../functions/adapters/aws/dynamodb-ledger.js';
import { EmailConfigInputSchema } from '../functions/core/config/email-config.js';
import { StoredEmailConfigSchema } from '../functions/core/config/stored-config.js';
import { buildFunctionBundle, FUNCTION_ENTRIES, LAMBDA_BUNDLE } from '../lib/bundling.js';
import { DEFAULT_FUNCTION_TIMEOUTS } from '../lib/notifier-function.js';
import { startSmtpTestServer } from '../test/support/smtp-test-server.js';
import { startDynaliteProcess } from './dynalite-process.js';
import { startSsmPeer } from './ssm-peer.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
// BENCH_NODE_OPTIONS='' measures without source maps (what --enable-source-maps costs).
const NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? LAMBDA_BUNDLE.nodeOptions;
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/cold-prof': node flags NODE_OPTIONS may not hold.
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const REFERENCE = 'reference';
const PREFIX = '/bench/clusters';
const MARKER = '@@cold-start ';

type BundleName = typeof REFERENCE | 'notify' | 'admin-api' | 'daily-notice';
const entries: Record<BundleName, string> = {
  [REFERENCE]: 'bench/fixtures/reference-handler.ts',
  notify: FUNCTION_ENTRIES.notify,
  'admin-api': FUNCTION_ENTRIES.adminApi,
  'daily-notice': FUNCTION_ENTRIES.dailyNotice,
};
// BENCH_BUNDLES=notify,reference runs only those (the reference always runs: the ratios need it).
const only = process.env.BENCH_BUNDLES?.split(',').map((n) => n.trim());
const names = (Object.keys(entries) as BundleName[]).filter(
  (name) => name === REFERENCE || !only || only.includes(name),
);

// smtp-server holds every greeting back 100 ms to catch clients that talk too early; a relay
// greets at once, and a fixed 100 ms on every side would hide the differences measured here.
SMTPConnection.prototype.init = function initWithoutGreetingDelay(this: SMTPConnection) {
  (this as unknown as { _setListeners(done: () => void): void })._setListeners(() => this.connectionReady());
};

// --- the peers ----------------------------------------------------------------------------------
const smtp = await startSmtpTestServer({ mode: 'plain' });
const dynalite = await startDynaliteProcess('bench-cold-ledger');
const config = EmailConfigInputSchema.parse({
  sender: 'appliance@example.com',
  smtp: { host: smtp.host, port: smtp.port, encryption: 'none' },
  adminContacts: 'ops@example.com oncall@example.com',
  // One email per event, at once (group emails wait, which a cold start is not about).
  grouping: { waitSeconds: 0 },
});
const ssm = await startSsmPeer({
  prefix: PREFIX,
  valueFor: (clusterId) =>
    JSON.stringify(
      StoredEmailConfigSchema.parse({
        schemaVersion: 1,
        clusterId,
        updatedAt: '2026-12-01T00:00:00.000Z',
        config,
      }),
    ),
});
// Where calls that must not happen go: bound once, released, so nothing listens there.
const nowhere = 'http://127.0.0.1:9';

// The function environment as the stack sets it (dummy ids), plus what the Lambda runtime sets.
// Nothing of this process's environment is passed on but PATH.
const childEnv = (name: BundleName): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  TZ: 'UTC',
  NODE_OPTIONS,
  AWS_REGION: 'eu-central-1',
  AWS_DEFAULT_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'AKIDLOCALBENCH',
  AWS_SECRET_ACCESS_KEY: 'local-bench-secret',
  AWS_SESSION_TOKEN: 'local-bench-session',
  AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_ENDPOINT_URL: nowhere,
  AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
  AWS_ENDPOINT_URL_SSM: ssm.endpoint,
  AWS_ENDPOINT_URL_SQS: nowhere,
  // No shared config or credential files are read (a Lambda has none).
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  CONFIG_PARAMETER_PREFIX: PREFIX,
  CONFIG_KMS_KEY_ID: 'arn:aws:kms:eu-central-1:111111111111:key/00000000-0000-0000-0000-000000000000',
  LEDGER_TABLE_NAME: dynalite.tableName,
  EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/bench-events',
  EVENT_DLQ_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/bench-events-dlq',
  PUBLIC_BASE_URL: 'https://api.example.com',
  // As deployed with the Cognito user pool: the admin API also serves the admin page.
  ADMIN_PAGE_CLIENT_ID: 'bench-client',
  ADMIN_PAGE_AUTHORIZATION_ENDPOINT: 'https://bench.auth.eu-central-1.amazoncognito.com/oauth2/authorize',
  ADMIN_PAGE_TOKEN_ENDPOINT: 'https://bench.auth.eu-central-1.amazoncognito.com/oauth2/token',
  POWERTOOLS_SERVICE_NAME: `bench-${name}`,
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

/** The function's timeout as the stack deploys it (the reference's is notify's): the context's deadline. */
const timeoutMs = (name: BundleName): number =>
  (name === 'admin-api'
    ? DEFAULT_FUNCTION_TIMEOUTS.adminApi
    : name === 'daily-notice'
      ? DEFAULT_FUNCTION_TIMEOUTS.dailyNotice
      : DEFAULT_FUNCTION_TIMEOUTS.notify
  ).toMilliseconds();

// --- the first invocation of each function --------------------------------------------------------
function sqsEventFor(clusterId: string, eventId: string): unknown {
  const event = loadSample('primary-check-failed');
  const now = new Date().toISOString();
  event.id = eventId;
  event.time = now;
  Object.assign(event.detail, { clusterId, observedAt: now });
  const body = JSON.stringify(event);
  const sent = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: sent,
          SenderId: 'AIDABENCH',
          ApproximateFirstReceiveTimestamp: sent,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-central-1:111111111111:bench-events',
        awsRegion: 'eu-central-1',
      },
    ],
  };
}

function getConfigRequest(clusterId: string): unknown {
  const path = `/clusters/${clusterId}/email-config`;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'GET /clusters/{clusterId}/email-config',
    rawPath: path,
    rawQueryString: '',
    headers: { accept: 'application/json', host: 'api.example.com', 'user-agent': 'bench' },
    pathParameters: { clusterId },
    requestContext: {
      accountId: '111111111111',
      apiId: 'bench',
      authorizer: { jwt: { claims: { sub: 'bench-admin', email: 'admin@example.com' }, scopes: null } },
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: 'GET /clusters/{clusterId}/email-config',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

interface Invocation {
  event: unknown;
  /** Emails the run must have sent. */
  emails: number;
  /** Throws unless the run did what it is there to do. */
  check(result: unknown): Promise<void>;
}

const ledgerClient = new DynamoDBClient({
  endpoint: dynalite.endpoint,
  region: 'eu-central-1',
  credentials: { accessKeyId: 'AKIDLOCALBENCH', secretAccessKey: 'local-bench-secret' },
});
const ledger = new DynamoDbLedger({ client: ledgerClient, tableName: dynalite.tableName });

function invocationFor(name: BundleName, clusterId: string): Invocation {
  const eventId = randomUUID();
  const noFailures = (result: unknown) => {
    const failures = (result as { batchItemFailures?: unknown[] }).batchItemFailures;
    if (!Array.isArray(failures) || failures.length > 0) {
      throw new Error(`${name}: batch failed: ${JSON.stringify(result)}`);
    }
  };
  switch (name) {
    case REFERENCE:
      return { event: sqsEventFor(clusterId, eventId), emails: 1, check: async (r) => noFailures(r) };
    case 'notify':
      return {
        event: sqsEventFor(clusterId, eventId),
        emails: 1,
        check: async (result) => {
          noFailures(result);
          const record = await ledger.getRecord(clusterId, eventId);
          if (record?.outcome !== 'sent') {
            throw new Error(`notify: the delivery log has ${JSON.stringify(record)} for the event`);
          }
        },
      };
    case 'admin-api':
      return {
        event: getConfigRequest(clusterId),
        emails: 0,
        check: async (result) => {
          const { statusCode, body } = result as { statusCode?: number; body?: string };
          if (statusCode !== 200 || !body?.includes(`"${clusterId}"`)) {
            throw new Error(`admin-api: ${statusCode}: ${body?.slice(0, 300)}`);
          }
        },
      };
    case 'daily-notice':
      return {
        event: {},
        emails: 1,
        check: async (result) => {
          const outcomes = (result as { results?: Array<{ clusterId: string; outcome: string }> }).results;
          if (
            outcomes?.length !== 1 ||
            outcomes[0]?.clusterId !== clusterId ||
            outcomes[0].outcome !== 'sent'
          ) {
            throw new Error(`daily-notice: ${JSON.stringify(result)}`);
          }
        },
      };
  }
}

// --- one cold start ----------------------------------------------------------------------------------
// The child: import the bundle, invoke its handler once with a Lambda context, print the marker
// with its own timeline (performance.now() counts from the process's start) and the result, exit.
const RUNNER = `
const started = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE);
const imported = performance.now();
const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_MS);
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-central-1:111111111111:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: '1024',
  awsRequestId: crypto.randomUUID(),
  logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done() {}, fail() {}, succeed() {},
};
const result = await handler(JSON.parse(process.env.BENCH_EVENT), context);
const done = performance.now();
const { user, system } = process.cpuUsage();
const cpu = (user + system) / 1000;
process.stdout.write('\\n${MARKER}' + JSON.stringify({ started, imported, done, cpu, result }) + '\\n');
process.exit(0);
`;

interface Sample {
  /** Spawn to the response's marker, as the parent sees it. */
  totalMs: number;
  /** The child's own clock: until the runner's first line (node's startup). */
  startupMs: number;
  importMs: number;
  invokeMs: number;
  /** CPU the child used until its response (user + system), startup included. */
  cpuMs: number;
  dynamodbRequests: number;
  /** This run's DynamoDB requests by operation. */
  dynamodbOperations: Record<string, number>;
}

async function coldStart(name: BundleName, file: string, round: number): Promise<Sample> {
  const clusterId = `cold-${round}-${name}`;
  const invocation = invocationFor(name, clusterId);
  ssm.listed = [clusterId];
  const emailsBefore = smtp.messages.length;
  const before = await dynalite.stats();

  const env = {
    ...childEnv(name),
    BENCH_BUNDLE: pathToFileURL(file).href,
    BENCH_EVENT: JSON.stringify(invocation.event),
    BENCH_TIMEOUT_MS: String(timeoutMs(name)),
  };
  const began = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, '--input-type=module', '-e', RUNNER], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let answeredAt: number | undefined;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (
      answeredAt === undefined &&
      stdout.includes(MARKER) &&
      stdout.slice(stdout.indexOf(MARKER)).includes('\n')
    ) {
      answeredAt = performance.now();
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const line = stdout
    .split('\n')
    .find((l) => l.startsWith(MARKER))
    ?.slice(MARKER.length);
  if (code !== 0 || answeredAt === undefined || !line) {
    throw new Error(`${name}: the child exited with ${code} and no response\n${stdout}\n${stderr}`);
  }
  const report = JSON.parse(line) as {
    started: number;
    imported: number;
    done: number;
    cpu: number;
    result: unknown;
  };
  // Counted before the check, whose own reads of the delivery log are not the function's.
  const after = await dynalite.stats();
  await invocation.check(report.result);
  if (invocation.emails) await smtp.waitForMessages(emailsBefore + invocation.emails, 2000);
  if (smtp.messages.length !== emailsBefore + invocation.emails) {
    throw new Error(
      `${name}: ${smtp.messages.length - emailsBefore} emails arrived, not ${invocation.emails}`,
    );
  }
  const dynamodbOperations = Object.fromEntries(
    Object.entries(after.byOperation)
      .map(([operation, count]) => [operation, count - (before.byOperation[operation] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
  return {
    totalMs: answeredAt - began,
    startupMs: report.started,
    importMs: report.imported - report.started,
    invokeMs: report.done - report.imported,
    cpuMs: report.cpu,
    dynamodbRequests: after.requests - before.requests,
    dynamodbOperations,
  };
}

// --- figures -------------------------------------------------------------------------------------------
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]): number => {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (value: number, digits = 0) => value.toFixed(digits);
const spread = (values: number[], digits = 0) =>
  `${fmt(Math.min(...values), digits)} / ${fmt(median(values), digits)} / ${fmt(Math.max(...values), digits)}`;

/** KB of all JavaScript files of a bundle (the entry and every chunk), maps excluded. */
function totalKb(entryFile: string): number {
  const dir = join(entryFile, '..');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'));
  return Math.round(files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / 1024);
}

async function main(): Promise<void> {
  // BENCH_OUTDIR keeps the bundles there (e.g. to read a --cpu-prof profile against their maps).
  const keep = process.env.BENCH_OUTDIR;
  const outdir = keep ?? mkdtempSync(join(tmpdir(), 'cold-start-'));
  try {
    const files = {} as Record<BundleName, string>;
    for (const name of names) {
      buildFunctionBundle(entries[name], join(outdir, name), process.cwd());
      files[name] = join(outdir, name, 'index.mjs');
    }
    const load = loadavg()[0] ?? 0;
    const samples = Object.fromEntries(names.map((n) => [n, [] as Sample[]])) as Record<BundleName, Sample[]>;
    for (let round = 0; round <= RUNS; round++) {
      // Rotating order: each bundle runs first, second, ... about equally often.
      const order = names.map((_, i) => names[(i + round) % names.length] as BundleName);
      for (const name of order) {
        const sample = await coldStart(name, files[name], round);
        if (round > 0) samples[name].push(sample);
      }
    }

    const reference = samples[REFERENCE];
    // Ratios pair each round's run with the reference's run of the same round.
    const ratios = (name: BundleName) =>
      samples[name].map((s, i) => s.totalMs / (reference[i] as Sample).totalMs);
    const cpuRatios = (name: BundleName) =>
      samples[name].map((s, i) => s.cpuMs / (reference[i] as Sample).cpuMs);
    const rows = names.map((name) => {
      const s = samples[name];
      const file = files[name];
      return {
        bundle: name,
        'entry KB': Math.round(statSync(file).size / 1024),
        'all KB': totalKb(file),
        'total ms': spread(s.map((x) => x.totalMs)),
        'x reference': name === REFERENCE ? '1' : spread(ratios(name), 2),
        'startup ms': fmt(median(s.map((x) => x.startupMs))),
        'import ms': fmt(median(s.map((x) => x.importMs))),
        'invoke ms': fmt(median(s.map((x) => x.invokeMs))),
        'CPU ms': fmt(median(s.map((x) => x.cpuMs))),
        'CPU x ref': name === REFERENCE ? '1' : fmt(median(cpuRatios(name)), 2),
        DynamoDB: fmt(median(s.map((x) => x.dynamodbRequests))),
      };
    });
    console.log(
      `Cold start, spawn to first response, of a fresh node ${process.version} process, ${RUNS} rounds, ` +
        `NODE_OPTIONS=${NODE_OPTIONS || '(none)'}; load average ${fmt(load, 1)} → ${fmt(loadavg()[0] ?? 0, 1)}`,
    );
    console.log(
      'total and x reference: min / median / max (x reference pairs each round with its reference run); ' +
        'startup, import, invoke (the child clock), CPU (the child, user + system, until its response) ' +
        'and DynamoDB requests: medians',
    );
    console.table(rows);
    for (const name of names) {
      const operations = samples[name].at(-1)?.dynamodbOperations ?? {};
      console.log(`${name}: DynamoDB requests of the last run: ${JSON.stringify(operations)}`);
    }
    console.log(`SSM requests answered, warm-up round included: ${JSON.stringify(ssm.requests)}`);
  } finally {
    if (!keep) rmSync(outdir, { recursive: true, force: true });
    ledgerClient.destroy();
    await Promise.all([smtp.close(), ssm.close(), dynalite.close()]);
  }
}

await main();
